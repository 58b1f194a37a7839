#!/usr/bin/env bash
# Before/after for the first second of training: `quick-train 2 1 10` (T1 on Fashion-MNIST, 2 threads, 10 epochs,
# each from a fresh process, so JIT and tiered compilation are included) built from a base revision and from the
# working tree, the two runs alternating so that both see the same machine load. One summary line per run:
# samples/s of epochs 1, 2, 4, 5, 6 and 9, time compiling and methods compiled over the 10 epochs, total time.
#   bench/first-epochs.sh BASE_REVISION [RUNS]     e.g. bench/first-epochs.sh fac3d88 4
# Writes bench/results/HOST-CLASS/first-epochs.md (FASTNET_RESULTS names another subfolder). Needs the dataset of quick-train
# (Debian's dataset-fashion-mnist).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
base=${1:?usage: bench/first-epochs.sh BASE_REVISION [RUNS]}
runs=${2:-4}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$root" worktree add --detach "$work/src" "$base" >/dev/null 2>&1
(cd "$work/src" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/base" >/dev/null)
(cd "$root" && dotnet build bench/FastNet.Benchmarks -c Release -v q -nologo -o "$work/new" >/dev/null)
dotnet build-server shutdown >/dev/null   # no compiler server sharing the cores with the timed runs

summary() {
  (cd "$root" && dotnet "$1/FastNet.Benchmarks.dll" quick-train 2 1 10) | awk '
    /^epoch/ { rate[$2] = $11; jit += $(NF-6); methods += $(NF-4) }
    /^total/ { total = $2 }
    END { printf "| %s | %s | %s | %s | %s | %s | %.0f | %d | %s |\n", rate[1], rate[2], rate[4], rate[5], rate[6], rate[9], jit, methods, total }'
}

results=$root/bench/results/${FASTNET_RESULTS:-$(dotnet "$work/new/FastNet.Benchmarks.dll" host-class)}
mkdir -p "$results"
out=$results/first-epochs.md
{
  echo "# first-epochs"
  echo
  echo "Command: \`${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }bench/first-epochs.sh $base $runs\` ($(date -u +%Y-%m-%d)):"
  echo "\`quick-train 2 1 10\` built from $base (\"base\") and from $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' plus uncommitted changes') (\"new\"),"
  echo "alternating, each run a fresh process. T1 on Fashion-MNIST, 2 threads, 10 epochs, each ending with an evaluation of"
  echo "the 10,000 test images. Columns: samples/s of epochs 1, 2, 4, 5, 6, 9; milliseconds spent compiling (all threads)"
  echo "and methods compiled over the 10 epochs; wall time of \`Trainer.Fit\` in seconds."
  echo
  echo "Machine: $(cpu_model), $(cpu_isa), host class $(basename "$results"), $(cpu_cores)"
  echo
  echo "| build | epoch 1 | epoch 2 | epoch 4 | epoch 5 | epoch 6 | epoch 9 | JIT ms | methods | total s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for run in $(seq 1 "$runs"); do
    echo "| base $run $(summary "$work/base")"
    echo "| new $run $(summary "$work/new")"
  done
} > "$out"
echo "wrote $out"
