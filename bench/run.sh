#!/usr/bin/env bash
# Runs the benchmarks and writes markdown reports under bench/results/HOST-CLASS/ (zen4-avx512, zen3-avx2, ...: the
# benchmark program's `host-class` names this machine's), each headed by the command that made it and the machine it
# ran on. See bench/README.md for what each suite measures.
#   bench/run.sh                      every suite, one report each: gemm, training, t1-fashion, inference, latency, gru, gru-latency, gru-fashion
#   bench/run.sh SUITE [BDN args...]  one suite (gemm | training | t1-fashion | inference | latency | gru | gru-latency | gru-fashion), e.g. --job short
#   bench/run.sh NAME --filter ...    any BenchmarkDotNet selection, reported as bench/results/HOST-CLASS/NAME.md
# With FASTNET_RESULTS=SUBFOLDER the reports go to bench/results/SUBFOLDER/ instead (an emulated host, e.g.
# DOTNET_EnableAVX512=0 on an AVX-512 machine, must be named so: it is not this machine's class).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
project=$root/bench/FastNet.Benchmarks
artifacts=$project/BenchmarkDotNet.Artifacts

if [ $# -eq 0 ]; then
  for suite in gemm training t1-fashion inference latency gru gru-latency gru-fashion; do "$0" "$suite"; done
  exit 0
fi

name=$1; shift
class=${FASTNET_RESULTS:-$(cd "$project" && dotnet run -c Release -v q -- host-class)}
results=$root/bench/results/$class
env_prefix=${FASTNET_RESULTS:+FASTNET_RESULTS=$FASTNET_RESULTS }   # shown in each report's command line
mkdir -p "$results"
machine() {
  echo "Machine: $(cpu_model), $(cpu_isa), host class $class, $(cpu_cores), $(free -g | awk '/Mem:/ {print $2}') GiB;"\
       "OpenBLAS: $(ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 && dpkg-query -W -f='${Package} ${Version}' 'libopenblas0-pthread' 2>/dev/null || echo absent)$(openblas_kernels)"
}
# Which kernels OpenBLAS runs: its own pick for the CPU, unless OPENBLAS_CORETYPE (which some machines set for every
# process) forces one; a peer's AVX2 kernels on an AVX-512 host are not its best there, so reports say which ran.
openblas_kernels() {
  local core
  core=$(cd "$project" && dotnet run -c Release -v q -- openblas-core 2>/dev/null) || return 0
  [ "$core" = absent ] || echo ", ${core} kernels${OPENBLAS_CORETYPE:+ (forced by OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)}"
}

if [ "$name" = gru-fashion ]; then
  # Accuracy, not speed: the GRU workload trained for 3 epochs on Fashion-MNIST (Debian's dataset-fashion-mnist).
  out=$results/gru-fashion.md
  log=$(cd "$project" && dotnet run -c Release -- quick-train 1 1 3 gru)
  {
    echo "# gru-fashion"
    echo
    echo "Command: \`${env_prefix}bench/run.sh gru-fashion\`, which runs \`dotnet run -c Release --project bench/FastNet.Benchmarks -- quick-train 1 1 3 gru\` ($(date -u +%Y-%m-%d))"
    echo
    echo "Fashion-MNIST (60,000 train / 10,000 test), each image read as 28 steps of 28 pixels: GRU(28 -> 128), last state,"
    echo "Dense(10), softmax cross-entropy, Adam lr 0.001, batch 64, seed 1, 1 thread, last partial batch dropped."
    echo "samples/s here is the whole epoch on real data with this machine's other load; the throughput figures are in gru.md."
    echo
    machine
    echo
    echo '```'
    echo "$log"
    echo '```'
  } > "$out"
  echo "wrote $out"
  exit 0
fi

if [ "$name" = t1-fashion ]; then
  # Issue #3's accuracy-and-time bar: T1 trained 10 epochs on Fashion-MNIST on 2 threads, three runs (the machine is shared).
  out=$results/t1-fashion.md
  # Build first and stop the build servers, so that no compiler shares the two cores with the timed runs.
  (cd "$project" && dotnet build -c Release -v q -nologo >/dev/null && dotnet build-server shutdown >/dev/null)
  {
    echo "# t1-fashion"
    echo
    echo "Command: \`${env_prefix}bench/run.sh t1-fashion\`, which builds once, then runs \`dotnet run -c Release --no-build --project bench/FastNet.Benchmarks -- quick-train 2 1 10\` three times ($(date -u +%Y-%m-%d))"
    echo
    echo "Fashion-MNIST (60,000 train / 10,000 test): T1 784-128(ReLU)-10, softmax cross-entropy, plain SGD lr 0.1, batch 64,"
    echo "seed 1, 2 threads, last partial batch dropped; each epoch ends with an evaluation of the 10,000 test images."
    echo "\"total\" is the wall time of \`Trainer.Fit\` for the 10 epochs, evaluations included, from a fresh process (JIT warm-up included)."
    echo "Each epoch also shows what the runtime did meanwhile: time compiling methods (all threads), methods compiled, minor page faults."
    echo
    machine
    for run in 1 2 3; do
      echo
      echo "Run $run:"
      echo
      echo '```'
      (cd "$project" && dotnet run -c Release --no-build -- quick-train 2 1 10)
      echo '```'
    done
  } > "$out"
  echo "wrote $out"
  exit 0
fi

if [ "$name" = latency ] || [ "$name" = gru-latency ]; then
  # Not BenchmarkDotNet: per-call percentiles need every call timed. The harness writes its own report
  # into the results subfolder given as its argument.
  (cd "$project" && dotnet run -c Release -- "$name" "$class" "$@")
  exit 0
fi

filter=()
case " $* " in
  *" --filter "*) ;;   # the caller chose the benchmarks
  *)
    case "$name" in
      gemm)      filter=(--filter '*Gemm*' '*FmaPeak*') ;;
      training)  filter=(--filter '*TrainingBenchmarks*' '*FmaPeak*') ;;
      inference) filter=(--filter '*InferenceBenchmarks*') ;;
      gru)       filter=(--filter '*GruBenchmarks*' '*FmaPeak*') ;;
      *) echo "Unknown suite '$name' (gemm, training, t1-fashion, inference, latency, gru, gru-latency, gru-fashion); give --filter to name your own." >&2; exit 2 ;;
    esac ;;
esac

rm -rf "$artifacts/results"
(cd "$project" && dotnet run -c Release -- "${filter[@]}" "$@")
report=$(ls -t "$artifacts"/results/*-report-github.md | head -n 1)
out=$results/$name.md
{
  echo "# $name"
  echo
  echo "Command: \`${env_prefix}bench/run.sh $name${*:+ $*}\` ($(date -u +%Y-%m-%d))"
  echo
  machine
  echo
  cat "$report"
} > "$out"
echo "wrote $out"
