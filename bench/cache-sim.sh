#!/usr/bin/env bash
# What another host's caches would see of a GEMM: cachegrind (valgrind) simulates an L1d and a second cache of given
# geometry (default: Zen 3's L1d, 32 KiB 8-way, and L2, 512 KiB 8-way; 64-byte lines) under FastNet's AVX2 path
# (valgrind runs no AVX-512) with the block rule given those caches, for each setting and for OpenBLAS. Misses per call
# are the counts of a run of CALLS calls less those of a run of none (each run makes one call first, which compiles the
# code and makes the buffers). A simulation: LRU replacement, no prefetchers, no timing; it says which data a cache of
# that shape would have to fetch, not how fast a real one fetches it (bench/gemm-sweep.sh on the host measures that).
#   bench/cache-sim.sh [CALLS]            e.g. bench/cache-sim.sh 2
# SHAPES: comma-separated shape names (quick's, exact, e.g. "dW=XT*dY 784x64x128", or any MxKxN; default
# "64x784x128,256x784x1024,256x1024x1024,dW=XT*dY 784x64x128,dX=dY*WT 64x128x784");
# SETTINGS: as bench/gemm-sweep.sh's (default: rule, PACKA=1, PACKB=1, KC=256, L1=B, L1=B,KC=256,PACKA=1 and
# L1=B,KC=256,PACKA=1,PACKB=1), and "openblas";
# D1, LL: cachegrind geometries size,associativity,line (defaults 32768,8,64 and 524288,8,64); L3: bytes given to the
# block rule for the L3 (default 33554432; valgrind's own CPUID describes another machine's).
# Needs valgrind (apt-get install valgrind). Writes bench/results/${FASTNET_RESULTS:-simulated}/cache-sim.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
calls=${1:-2}
IFS=, read -ra shapes <<< "${SHAPES:-64x784x128,256x784x1024,256x1024x1024,dW=XT*dY 784x64x128,dX=dY*WT 64x128x784}"
settings=(${SETTINGS:-rule PACKA=1 PACKB=1 KC=256 L1=B L1=B,KC=256,PACKA=1 L1=B,KC=256,PACKA=1,PACKB=1 openblas})
d1=${D1:-32768,8,64}; ll=${LL:-524288,8,64}; l3=${L3:-33554432}
command -v valgrind >/dev/null || { echo "cache-sim: valgrind is not installed (apt-get install valgrind)." >&2; exit 1; }
source "$root/bench/gemm-settings.sh"
for setting in "${settings[@]}"; do [[ $setting == openblas ]] || setting_env "$setting" >/dev/null; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/bin" >/dev/null)
dotnet build-server shutdown >/dev/null

# One job per shape, setting and call count; jobs run side by side (counts do not depend on timing).
jobs=$work/jobs
i=0
for shape in "${shapes[@]}"; do
  for setting in "${settings[@]}"; do
    for n in 0 "$calls"; do
      i=$((i + 1))
      printf '%s\t%s\t%s\t%s\n' "$i" "$shape" "$setting" "$n" >> "$jobs"
    done
  done
done
simulate() {   # simulate ID SHAPE SETTING CALLS: cachegrind's totals to $work/ID.out, the harness's line to $work/ID.err
  local id=$1 shape=$2 setting=$3 n=$4 env="" extra=""
  if [[ $setting == openblas ]]; then extra=openblas; else env=$(setting_env "$setting"); fi
  env DOTNET_EnableAVX512=0 DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0 FASTNET_L1D_BYTES="${d1%%,*}" FASTNET_L2_BYTES="${ll%%,*}" FASTNET_L3_BYTES="$l3" $env \
    valgrind --tool=cachegrind --cache-sim=yes --D1="$d1" --LL="$ll" --cachegrind-out-file="$work/$id.out" \
    dotnet "$work/bin/FastNet.Benchmarks.dll" gemm-calls "$shape" "$n" $extra > /dev/null 2> "$work/$id.err" ||
    { echo "cache-sim: $shape, $setting, $n calls failed:" >&2; grep -v "^==" "$work/$id.err" | tail -n 20 >&2; return 1; }
}
export -f simulate setting_env
export work d1 ll l3
tr '\t\n' '\0\0' < "$jobs" | xargs -0 -n 4 -P "$(nproc)" bash -c 'simulate "$@"' _

# events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw (cachegrind's order, read from each file).
totals() { awk '/^events:/ { for (i = 2; i <= NF; i++) name[i - 1] = $i } /^summary:/ { for (i = 2; i <= NF; i++) printf "%s=%s ", name[i - 1], $i }' "$work/$1.out"; }
rows=$work/rows.tsv
config=""
while IFS=$'\t' read -r id shape setting n; do
  [[ $n == 0 ]] && { base=$(totals "$id"); continue; }
  # The harness's last stderr line says what ran: OpenBLAS's kernel family, or GemmConfiguration's line, of which the
  # blocks are kept (the kernel and caches are the header's; the setting column names the variables).
  line=$(grep -E '^(GEMM|OpenBLAS)' "$work/$id.err" | tail -n 1)
  [[ $setting == rule ]] && config=$(sed 's/ (CPUID[^)]*)//' <<< "$line")
  ran=$(sed -e 's/^GEMM .* kernel; L1d [^;]*; //' -e 's/ ([^()]*FASTNET_[^()]*)$//' <<< "$line")
  printf '%s\t%s\t%s\t%s\t%s\n' "$shape" "$setting" "$base" "$(totals "$id")" "$ran" >> "$rows"
done < "$jobs"

out=$root/bench/results/${FASTNET_RESULTS:-simulated}/cache-sim.md
mkdir -p "$(dirname "$out")"
{
  echo "# cache-sim"
  echo
  echo "Command: \`${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }${SHAPES:+SHAPES=\"$SHAPES\" }${SETTINGS:+SETTINGS=\"$SETTINGS\" }${D1:+D1=$D1 }${LL:+LL=$LL }${L3:+L3=$L3 }bench/cache-sim.sh $calls\`"
  echo "($(date -u +%Y-%m-%d), $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' plus uncommitted changes'))."
  echo
  echo "A simulation, not a measurement: cachegrind ($(valgrind --version)) replays each GEMM's loads and stores through an"
  echo "L1d of $d1 and a second-level cache of $ll (size, ways, line bytes), LRU, with no prefetchers, and counts"
  echo "what misses. FastNet runs its AVX2 path (AVX-512 off) with the block rule given those sizes and an L3 of $l3 bytes;"
  echo "OpenBLAS runs the kernels it picks (or OPENBLAS_CORETYPE's). Per call: the counts of $calls calls less those of none,"
  echo "tiered compilation off (DOTNET_TieredCompilation=0) so that no method is recompiled between them."
  echo
  echo "FastNet under the simulator: ${config:-?}"
  echo "Simulated on: $(cpu_model); the counts follow the code that ran (named in the last column), not this machine's caches."
  echo "Environment that changes what ran: $(env | grep -E '^(OPENBLAS_[A-Z0-9_]*)=' | sort | tr '\n' ' ' | sed 's/ $//' || true)"
  echo
  echo "Columns: data reads (loads) per call; L1d read and write misses per call; second-level read and write misses per"
  echo "call (what would come from L3 or memory); \"L1d vs rule\" is the setting's L1d misses (read + write) over the rule's."
  echo
  echo "| shape | setting | reads | L1d read misses | L1d write misses | L2 read misses | L2 write misses | L1d vs rule | blocks (FastNet) or kernels (OpenBLAS) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' -v calls="$calls" '
    function field(s, name,   parts, i, kv) { split(s, parts, " "); for (i in parts) { split(parts[i], kv, "="); if (kv[1] == name) return kv[2] } return 0 }
    function per(name,   x) { x = (field($4, name) - field($3, name)) / calls; return x > -500 && x < 500 ? 0 : x }   # within 500 of none: 0
    {
      d1 = per("D1mr") + per("D1mw")
      if ($2 == "rule") rule[$1] = d1
      line[NR] = sprintf("| %s | %s | %.2fM | %.0fk | %.0fk | %.0fk | %.0fk | %s | %s |", $1, $2, per("Dr") / 1e6, per("D1mr") / 1e3, per("D1mw") / 1e3, per("DLmr") / 1e3, per("DLmw") / 1e3, "RATIO", $5)
      key[NR] = $1; value[NR] = d1
    }
    END { for (i = 1; i <= NR; i++) { r = rule[key[i]] > 0 ? sprintf("%.2f", value[i] / rule[key[i]]) : "-"; sub("RATIO", r, line[i]); print line[i] } }' "$rows"
} > "$out"
echo "wrote $out"
