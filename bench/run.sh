#!/usr/bin/env bash
# Runs the benchmarks and writes markdown reports under bench/results/, each headed by the command
# that made it and the machine it ran on. See bench/README.md for what each suite measures.
#   bench/run.sh                      every suite, one report each: gemm, training, inference, latency, gru, gru-latency
#   bench/run.sh SUITE [BDN args...]  one suite (gemm | training | inference | latency | gru | gru-latency), e.g. --job short
#   bench/run.sh NAME --filter ...    any BenchmarkDotNet selection, reported as bench/results/NAME.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
project=$root/bench/FastNet.Benchmarks
artifacts=$project/BenchmarkDotNet.Artifacts

if [ $# -eq 0 ]; then
  for suite in gemm training inference latency gru gru-latency; do "$0" "$suite"; done
  exit 0
fi

name=$1; shift
machine() {
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;"\
       "OpenBLAS: $(ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 && dpkg-query -W -f='${Package} ${Version}' 'libopenblas0-pthread' 2>/dev/null || echo absent)"
}

if [ "$name" = latency ] || [ "$name" = gru-latency ]; then
  # Not BenchmarkDotNet: per-call percentiles need every call timed. The harness writes its own report.
  (cd "$project" && dotnet run -c Release -- "$name" "$@")
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
      *) echo "Unknown suite '$name' (gemm, training, inference, latency, gru, gru-latency); give --filter to name your own." >&2; exit 2 ;;
    esac ;;
esac

rm -rf "$artifacts/results"
(cd "$project" && dotnet run -c Release -- "${filter[@]}" "$@")
report=$(ls -t "$artifacts"/results/*-report-github.md | head -n 1)
out=$root/bench/results/$name.md
{
  echo "# $name"
  echo
  echo "Command: \`bench/run.sh $name${*:+ $*}\` ($(date -u +%Y-%m-%d))"
  echo
  machine
  echo
  cat "$report"
} > "$out"
echo "wrote $out"
