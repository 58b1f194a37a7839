#!/usr/bin/env bash
# Runs BenchmarkDotNet suites and writes their joined markdown report to bench/results/NAME.md,
# headed by the command that made it and the machine it ran on.
#   bench/run.sh NAME [BenchmarkDotNet arguments...]
#   bench/run.sh gemm --filter '*Gemm*' '*FmaPeak*'
set -euo pipefail
name=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
artifacts=$root/bench/FastNet.Benchmarks/BenchmarkDotNet.Artifacts
rm -rf "$artifacts/results"
(cd "$root/bench/FastNet.Benchmarks" && dotnet run -c Release -- "$@")
report=$(ls -t "$artifacts"/results/*-report-github.md | head -n 1)
out=$root/bench/results/$name.md
{
  echo "# $name"
  echo
  echo "Command: \`bench/run.sh $name $*\` ($(date -u +%Y-%m-%d))"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;"\
       "OpenBLAS: $(ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 && dpkg-query -W -f='${Package} ${Version}' 'libopenblas0-pthread' 2>/dev/null || echo absent)"
  echo
  cat "$report"
} > "$out"
echo "wrote $out"
