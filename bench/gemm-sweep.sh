#!/usr/bin/env bash
# Which GEMM blocks and loop order suit this host: the quick GEMM harness (FastNet next to OpenBLAS, same process) once
# with what GemmConfiguration derives from the caches ("rule") and once per setting, each a fresh process, the whole
# list repeated ROUNDS times so that every setting sees the machine's load at several moments.
#   bench/gemm-sweep.sh [ROUNDS]          e.g. bench/gemm-sweep.sh 2
# SETTINGS: space-separated settings, each a comma-separated list of KC=n (FASTNET_GEMM_KC), NB=n (FASTNET_GEMM_NB),
# L1=A|B (FASTNET_GEMM_L1_PANEL: which micro-panel stays in L1), PACKA=0|1 (FASTNET_GEMM_PACK_A: pack a row-major A)
# and PACKB=0|1 (FASTNET_GEMM_PACK_B: pack every row-major B the rule reads in place); default: KC 192 to 512, KC 784 (the K of
# the 784-deep shapes in one depth block: whether GemmConfiguration.WholeDepth's half of L1d is right here), half and twice the
# rule's NB, row-major A packed, narrow B packed, and the B panel in L1 at the rule's KC and at KC 256 with A packed
# (BLIS's Zen 3 setting), with and without B packed too. THREADS (thread counts, default "1 2"; e.g. "1 4 8 16" on a larger
# machine); SHAPES (quick's filters).
# Writes bench/results/HOST-CLASS/gemm-sweep.md (FASTNET_RESULTS names another subfolder; an emulated host must).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
rounds=${1:-2}
shapes=${SHAPES:-64x784x128,256x784x1024,256x1024x1024,1024x1024x1024,dW=,dX=}
threads=${THREADS:-1 2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/bin" >/dev/null)
dotnet build-server shutdown >/dev/null   # no compiler server sharing the cores with the timed runs
bench() { (cd "$root" && dotnet "$work/bin/FastNet.Benchmarks.dll" "$@"); }

config=$(bench gemm-config)
nr=$(sed -n 's/.* [0-9]*x\([0-9]*\) kernel.*/\1/p' <<< "$config")
rule_nb=$(sed -n 's/.*NB \([0-9]*\),.*/\1/p' <<< "$config")
half=$(( rule_nb / 2 / nr * nr )); (( half >= nr )) || half=$nr
settings=(rule ${SETTINGS:-KC=192 KC=256 KC=320 KC=384 KC=512 KC=784 NB=$half NB=$(( 2 * rule_nb )) PACKA=1 PACKB=1 L1=B L1=B,KC=256,PACKA=1 L1=B,KC=256,PACKA=1,PACKB=1})

source "$root/bench/gemm-settings.sh"
run() {   # run ROUND SETTING: the quick harness's rows, tab-separated: round, setting, blocks, shape, threads, GF/s, %peak, OpenBLAS, ratio
  local round=$1 setting=$2 env
  env=$(setting_env "$setting") || exit 2
  env $env bash -c 'cd "$0" && dotnet "$1" quick "$2" "$3"' "$root" "$work/bin/FastNet.Benchmarks.dll" "$shapes" "${threads// /,}" |
    awk -v round="$round" -v setting="$setting" -v OFS='\t' '
      /^GEMM / {
        match($0, /KC [0-9]+, NB [0-9]+/); blocks = substr($0, RSTART, RLENGTH)
        if ($0 ~ /B panel in L1/) blocks = blocks ", B panel in L1"
        if ($0 ~ /row-major A packed/) blocks = blocks ", A packed"
        if ($0 ~ /row-major B packed/) blocks = blocks ", B packed"
        next
      }
      /^FMA peak/ || /^shape/ { next }
      {
        # shape names may hold a space ("dW=XT*dY 784x64x128"): the last five fields are the numbers
        n = NF; name = $1; for (i = 2; i <= n - 5; i++) name = name " " $i
        print round, setting, blocks, name, $(n-4), $(n-3), $(n-2), $(n-1), $n
      }'
}

results=$root/bench/results/${FASTNET_RESULTS:-$(bench host-class)}
mkdir -p "$results"
out=$results/gemm-sweep.md
rows=$work/rows.tsv
for round in $(seq 1 "$rounds"); do
  for setting in "${settings[@]}"; do run "$round" "$setting" >> "$rows"; done
done

{
  echo "# gemm-sweep"
  echo
  echo "Command: \`${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }${SETTINGS:+SETTINGS=\"$SETTINGS\" }${THREADS:+THREADS=\"$THREADS\" }${SHAPES:+SHAPES=$SHAPES }bench/gemm-sweep.sh $rounds\`"
  echo "($(date -u +%Y-%m-%d), $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' plus uncommitted changes')):"
  echo "the quick GEMM harness (medians of Stopwatch timings; OpenBLAS in the same process) with what the caches give"
  echo "(\"rule\") and with each setting (KC: FASTNET_GEMM_KC, NB: FASTNET_GEMM_NB, L1: FASTNET_GEMM_L1_PANEL, PACKA:"
  echo "FASTNET_GEMM_PACK_A, PACKB: FASTNET_GEMM_PACK_B), each a fresh process, $rounds rounds. %peak is against the same process's FMA peak for that"
  echo "thread count; ratio is FastNet / OpenBLAS."
  echo
  echo "Environment that changes what ran: $(run_environment)"  # OpenBLAS's kernel choice and the ISA switches change the comparison
  echo
  echo "Machine: $(cpu_model), $(cpu_isa), host class $(bench host-class), $(cpu_cores)${DOTNET_EnableAVX512:+; run with DOTNET_EnableAVX512=$DOTNET_EnableAVX512}"
  echo
  echo "$config"
  echo
  echo "OpenBLAS: $(bench quick 1x128x10 | sed -n 's/.*OpenBLAS: //p')"
  echo
  echo "## Each setting against the rule"
  echo
  echo "FastNet GFLOP/s of the setting divided by the rule's in the same round (one figure per round): above 1 the"
  echo "setting was faster."
  echo
  awk -F'\t' -v rounds="$rounds" '
    { key = $4 "\t" $5; if ($2 == "rule") rule[$1, key] = $6; else { if (!(($2, key) in seen)) { seen[$2, key] = 1; order[++n] = $2 "\t" key; blocks[$2] = $3 } value[$1, $2, key] = $6 } }
    END {
      printf "| setting | blocks | shape | threads |"; for (r = 1; r <= rounds; r++) printf " round %d |", r; print ""
      printf "|---|---|---|---:|"; for (r = 1; r <= rounds; r++) printf "---:|"; print ""
      for (i = 1; i <= n; i++) {
        split(order[i], part, "\t"); key = part[2] "\t" part[3]
        printf "| %s | %s | %s | %s |", part[1], blocks[part[1]], part[2], part[3]
        for (r = 1; r <= rounds; r++) printf " %.2f |", value[r, part[1], key] / rule[r, key]
        print ""
      }
    }' "$rows"
  for round in $(seq 1 "$rounds"); do
    echo
    echo "## Round $round"
    echo
    echo "| setting | blocks | shape | threads | FastNet GFLOP/s | %peak | OpenBLAS GFLOP/s | ratio |"
    echo "|---|---|---|---:|---:|---:|---:|---:|"
    awk -F'\t' -v round="$round" '$1 == round { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9 }' "$rows"
  done
} > "$out"
echo "wrote $out"
