#!/usr/bin/env bash
# Before/after of the whole product on this host, for changes that touch everything (a new GEMM driver, host-derived
# blocks): built from a base revision and from the working tree, base and new alternating round by round, each run a
# fresh process, all on 1 and 2 threads:
#   GEMM       `quick` (every WORKLOADS shape; OpenBLAS in the same process, so each run carries its own yardstick)
#   training   `epochs T1 1 25`, `epochs T2 1 3` (the training benchmark's epoch under a Stopwatch)
#   inference  bench/predict-batches.cs T1|T2 1024 (I2: batch-1024 PredictBatch under a Stopwatch, public API only,
#              so the same file builds against the base's src/FastNet)
#   batch1     bench/predict-batches.cs T1|T2 1 1 with float32 and bfloat16 weights (I1: batch-1 calls per second, from
#              the median call; not in the default set)
#   gru        `epochs G1 1|2 10` (the GRU training benchmark's epoch; not in the default set; the base must be abe4149
#              or later, whose harness knows G1: an older one prints no GRU rows and the report leaves the case out)
#   shapes     bench/gemm-shapes.cs on 1 and 2 threads over AB_SHAPES (any products, e.g. "28x1792x384,tA 32x784x768",
#              GFLOP/s; not in the default set), for a GEMM change aimed at shapes `quick` does not list
#   bench/ab.sh BASE_REVISION [ROUNDS]        e.g. bench/ab.sh ae8a50e 5
# AB_SUITES picks some of the six (default "gemm training inference"), for a change that can only touch those:
#   AB_SUITES=inference AB_NAME=prepacked-weights bench/ab.sh HEAD 5
# The environment passes through to every run (DOTNET_EnableAVX512=0 and FASTNET_L2_BYTES for the AVX2 path, an
# OPENBLAS_CORETYPE) and the report names it. Writes bench/results/HOST-CLASS/ab-BASE.md (FASTNET_RESULTS names
# another subfolder, AB_NAME another file name).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
base=${1:?usage: bench/ab.sh BASE_REVISION [ROUNDS]}
rounds=${2:-3}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$root" worktree add --detach "$work/src" "$base" >/dev/null 2>&1
suites=${AB_SUITES:-gemm training inference}
[[ " $suites " == *" shapes "* && -z ${AB_SHAPES:-} ]] && { echo "the shapes suite needs AB_SHAPES" >&2; exit 1; }
cp "$root/bench/predict-batches.cs" "$root/bench/gemm-shapes.cs" "$work/src/bench/"
for build in base new; do
  tree=$root; [[ $build == base ]] && tree=$work/src
  (cd "$tree" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/$build/bench" >/dev/null &&
    dotnet build bench/predict-batches.cs -c Release -v q -nologo -o "$work/$build/predict" >/dev/null &&
    { [[ " $suites " != *" shapes "* ]] || dotnet build bench/gemm-shapes.cs -c Release -v q -nologo -o "$work/$build/shapes" >/dev/null; })
done
dotnet build-server shutdown >/dev/null 2>&1 || true   # no compiler server sharing the cores with the timed runs

# One round of one build as tab-separated rows: suite, case, threads, FastNet figure, FastNet / OpenBLAS (GEMM only).
measure() {
  local bin=$work/$1 workload threads repetitions
  [[ " $suites " == *" gemm "* ]] && (cd "$root" && dotnet "$bin/bench/FastNet.Benchmarks.dll" quick) | awk -v OFS='\t' '
    /^(GEMM |FMA peak|shape)/ { next }
    NF >= 6 {   # shape names may hold a space ("dW=XT*dY 784x64x128"): the last five fields are the numbers
      name = $1; for (i = 2; i <= NF - 5; i++) name = name " " $i
      print "gemm", name, $(NF-4), $(NF-3), $NF
    }'
  [[ " $suites " == *" training "* ]] && for workload in T1 T2; do
    repetitions=25; [[ $workload == T2 ]] && repetitions=3
    for threads in 1 2; do
      (cd "$root" && dotnet "$bin/bench/FastNet.Benchmarks.dll" epochs "$workload" "$threads" "$repetitions") |
        sed -n "s/^\(T[12]\).* on \([0-9]*\) thread(s): .* ms per epoch, \([0-9,]*\) samples\/s.*/training\t\1 epoch\t\2\t\3\t/p" | tr -d ,
    done
  done
  [[ " $suites " == *" inference "* ]] && for workload in T1 T2; do
    for threads in 1 2; do
      dotnet "$bin/predict/predict-batches.dll" "$workload" 1024 "$threads" |
        sed -n "s/^\(T[12]\) batch 1024 on \([0-9]*\) thread(s): .* us per batch, \([0-9,]*\) samples\/s.*/inference\t\1 batch 1024\t\2\t\3\t/p" | tr -d ,
    done
  done
  [[ " $suites " == *" gru "* ]] && for threads in 1 2; do
    (cd "$root" && dotnet "$bin/bench/FastNet.Benchmarks.dll" epochs G1 "$threads" 10) |
      sed -n "s/^GRU .* on \([0-9]*\) thread(s): .* ms per epoch, \([0-9,]*\) samples\/s.*/gru\tG1 epoch\t\1\t\2\t/p" | tr -d ,
  done
  [[ " $suites " == *" shapes "* ]] && for threads in 1 2; do
    # "28x1792x384,tA   1 thread(s):   117.7 GFLOP/s (median of 259)"
    dotnet "$bin/shapes/gemm-shapes.dll" "$threads" $AB_SHAPES |
      awk -v OFS='\t' '$2 ~ /^[0-9]+$/ && $3 == "thread(s):" { print "shapes", $1, $2, $4, "" }'
  done
  [[ " $suites " == *" batch1 "* ]] && for workload in T1 T2; do
    for weights in fp32 bf16; do
      dotnet "$bin/predict/predict-batches.dll" "$workload" 1 1 200 "$weights" |
        sed -n "s/^\(T[12]\) batch 1 on 1 thread(s)[a-z0-9, ]*: .* us per batch, \([0-9,]*\) samples\/s.*/batch1\t\1 batch 1 $weights\t1\t\2\t/p" | tr -d ,
    done
  done
  return 0
}

rows=$work/rows.tsv
for round in $(seq 1 "$rounds"); do
  for build in base new; do measure "$build" | sed "s/^/$build\t$round\t/" >> "$rows"; done
done

results=$root/bench/results/${FASTNET_RESULTS:-$(dotnet "$work/new/bench/FastNet.Benchmarks.dll" host-class)}
mkdir -p "$results"
out=$results/${AB_NAME:-ab-$base}.md
{
  echo "# ${AB_NAME:-ab-$base}"
  echo
  echo "Command: \`${AB_SUITES:+AB_SUITES=\"$AB_SUITES\" }${AB_SHAPES:+AB_SHAPES=\"$AB_SHAPES\" }${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }${AB_NAME:+AB_NAME=$AB_NAME }bench/ab.sh $base $rounds\` ($(date -u +%Y-%m-%d)):"
  echo "base $(git -C "$root" rev-parse --short "$base") against new $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' plus uncommitted changes'),"
  described=()
  [[ " $suites " == *" gemm "* ]] && described+=("the quick GEMM harness (GFLOP/s, OpenBLAS in the same process)")
  [[ " $suites " == *" training "* ]] && described+=("the training epoch (samples/s; T1 25 epochs, T2 3, after 5 unmeasured)")
  [[ " $suites " == *" inference "* ]] && described+=("batch-1024 inference (samples/s, bench/predict-batches.cs)")
  [[ " $suites " == *" gru "* ]] && described+=("the GRU training epoch (samples/s; G1: GRU(28 -> 128) over 28 steps, Dense(10), Adam, batch 64; 10 epochs after 5 unmeasured)")
  [[ " $suites " == *" shapes "* ]] && described+=("bench/gemm-shapes.cs on AB_SHAPES=\"$AB_SHAPES\" (GFLOP/s, the median of many calls)")
  [[ " $suites " == *" batch1 "* ]] && described+=("batch-1 inference (calls/s: 1 / the median call of runs of 100, bench/predict-batches.cs)")
  echo "$rounds rounds, base and new alternating, each run a fresh process: $(IFS=';'; echo "${described[*]}" | sed 's/;/; /g'),"
  echo "each a median of its run's timings."
  echo
  echo "Environment that changes what ran: $(run_environment)"
  echo
  echo "Machine: $(cpu_model), $(cpu_isa), $(cpu_cores)${DOTNET_EnableAVX512:+; run with DOTNET_EnableAVX512=$DOTNET_EnableAVX512}"
  echo
  echo "new: $(cd "$root" && dotnet "$work/new/bench/FastNet.Benchmarks.dll" gemm-config)"
  echo
  echo "Columns: the median over the rounds of each build's figure; new / base of those medians; in how many rounds new"
  echo "beat the base run just before it; for GEMM, FastNet / OpenBLAS (medians over the rounds) in each build's processes."
  echo
  python3 - "$rows" <<'EOF'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
keys, figures, yardstick = [], {}, {}
for build, rnd, suite, case, threads, value, vs_blas in rows:
    key = (suite, case, threads)
    if key not in keys: keys.append(key)
    figures.setdefault((key, build), {})[rnd] = float(value)
    if vs_blas: yardstick.setdefault((key, build), []).append(float(vs_blas))
unit = {"gemm": "GFLOP/s", "shapes": "GFLOP/s", "training": "samples/s", "inference": "samples/s", "batch1": "calls/s", "gru": "samples/s"}
print("| suite | case | threads | base | new | new / base | new faster | base / OpenBLAS | new / OpenBLAS |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for key in keys:
    base, new = figures.get((key, "base"), {}), figures.get((key, "new"), {})
    if not base or not new: continue
    b, n = statistics.median(base.values()), statistics.median(new.values())
    wins = sum(1 for r in new if r in base and new[r] > base[r])
    yb, yn = (f"{statistics.median(yardstick[(key, x)]):.2f}" if (key, x) in yardstick else "" for x in ("base", "new"))
    digits = 1 if key[0] in ("gemm", "shapes") else 0
    print(f"| {key[0]} ({unit[key[0]]}) | {key[1]} | {key[2]} | {b:,.{digits}f} | {n:,.{digits}f} | {n / b:.3f} | {wins} of {len(new)} | {yb} | {yn} |")
EOF
  echo
  echo "Every run's figure (round by round, base then new):"
  echo
  echo '```'
  column -t -s $'\t' "$rows"
  echo '```'
} > "$out"
echo "wrote $out"
