#!/usr/bin/env bash
# Which GEMM blocks suit this host: the quick GEMM harness (FastNet next to OpenBLAS, same process) once with the
# blocks GemmConfiguration derives from the caches ("rule") and once per FASTNET_GEMM_KC / FASTNET_GEMM_NB setting,
# each a fresh process, the whole list repeated ROUNDS times so that every setting sees the machine's load at
# several moments. Compare a setting with the rule row of the same round, and ratios to OpenBLAS across rounds.
#   bench/gemm-sweep.sh [ROUNDS]          e.g. bench/gemm-sweep.sh 2
# Settings: KCS (depth blocks, each with the NB the rule gives for it; default "192 256 320 384 512") and NBS (column
# blocks with the rule's KC; default half, and twice, the rule's NB), THREADS ("1 2" or "1"), SHAPES (quick's filters).
# Writes bench/results/HOST-CLASS/gemm-sweep.md (FASTNET_RESULTS names another subfolder; an emulated host must).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-2}
shapes=${SHAPES:-64x784x128,256x784x1024,256x1024x1024,1024x1024x1024,dW=,dX=}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/bin" >/dev/null)
dotnet build-server shutdown >/dev/null   # no compiler server sharing the cores with the timed runs
bench() { dotnet "$work/bin/FastNet.Benchmarks.dll" "$@"; }

config=$(bench gemm-config)
nr=$(sed -n 's/.* [0-9]*x\([0-9]*\) kernel.*/\1/p' <<< "$config")
rule_nb=$(sed -n 's/.*NB \([0-9]*\),.*/\1/p' <<< "$config")
half=$(( rule_nb / 2 / nr * nr )); (( half >= nr )) || half=$nr
kcs=${KCS:-192 256 320 384 512}
nbs=${NBS:-$half $(( 2 * rule_nb ))}

settings=("rule")
for kc in $kcs; do settings+=("KC=$kc"); done
for nb in $nbs; do settings+=("NB=$nb"); done

run() {   # run SETTING: the quick harness's result rows as markdown rows, prefixed with the blocks it ran with
  local setting=$1 env=()
  case $setting in
    KC=*) env=(FASTNET_GEMM_KC="${setting#KC=}") ;;
    NB=*) env=(FASTNET_GEMM_NB="${setting#NB=}") ;;
  esac
  (cd "$root" && env "${env[@]}" dotnet "$work/bin/FastNet.Benchmarks.dll" quick "$shapes") | awk -v setting="$setting" -v threads="${THREADS:-1 2}" '
    /^GEMM / { match($0, /KC [0-9]+, NB [0-9]+/); blocks = substr($0, RSTART, RLENGTH); next }
    /^FMA peak/ || /^shape/ { next }
    {
      # shape names may hold a space ("dW=XT*dY 784x64x128"): the last five fields are the numbers
      n = NF; name = $1; for (i = 2; i <= n - 5; i++) name = name " " $i
      if (index(" " threads " ", " " $(n-4) " ") == 0) next
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", setting, blocks, name, $(n-4), $(n-3), $(n-2), $(n-1), $n
    }'
}

results=$root/bench/results/${FASTNET_RESULTS:-$(bench host-class)}
mkdir -p "$results"
out=$results/gemm-sweep.md
{
  echo "# gemm-sweep"
  echo
  echo "Command: \`${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }${KCS:+KCS=\"$KCS\" }${NBS:+NBS=\"$NBS\" }${THREADS:+THREADS=\"$THREADS\" }${SHAPES:+SHAPES=$SHAPES }bench/gemm-sweep.sh $rounds\` ($(date -u +%Y-%m-%d), $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' plus uncommitted changes')):"
  echo "the quick GEMM harness (medians of Stopwatch timings; OpenBLAS in the same process) with the blocks the caches give"
  echo "(\"rule\") and with each FASTNET_GEMM_KC / FASTNET_GEMM_NB setting, each a fresh process, $rounds rounds. %peak is"
  echo "against the same process's FMA peak for that thread count; ratio is FastNet / OpenBLAS."
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1) (family $(lscpu | sed -n 's/^CPU family: *//p' | head -n 1) model $(lscpu | sed -n 's/^Model: *//p' | head -n 1)), $(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || { grep -qw avx2 /proc/cpuinfo && echo 'AVX2 + FMA, no AVX-512' || echo 'no AVX2'; }), host class $(basename "$results"), $(nproc) cores${DOTNET_EnableAVX512:+; DOTNET_EnableAVX512=$DOTNET_EnableAVX512}"
  echo
  echo "$config"
  echo
  echo "OpenBLAS: $(bench quick 1x128x10 | sed -n 's/.*OpenBLAS: //p')"
  for round in $(seq 1 "$rounds"); do
    echo
    echo "## Round $round"
    echo
    echo "| setting | blocks | shape | threads | FastNet GFLOP/s | %peak | OpenBLAS GFLOP/s | ratio |"
    echo "|---|---|---|---:|---:|---:|---:|---:|"
    for setting in "${settings[@]}"; do run "$setting"; done
  done
} > "$out"
echo "wrote $out"
