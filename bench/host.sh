# Sourced by the bench scripts, so that every report names its machine the same way.
#   cpu_model    e.g. "AMD EPYC (family 26 model 2)": lscpu's model name, CPU family and model
#   cpu_isa      "AVX-512", "AVX2 + FMA, no AVX-512" or "no AVX2": the widest vector ISA /proc/cpuinfo lists
cpu_model() {
  local info
  info=$(lscpu)
  echo "$(sed -n 's/^Model name: *//p' <<< "$info" | head -n 1) (family $(sed -n 's/^CPU family: *//p' <<< "$info" | head -n 1) model $(sed -n 's/^Model: *//p' <<< "$info" | head -n 1))"
}

cpu_isa() {
  if grep -qw avx512f /proc/cpuinfo; then echo AVX-512
  elif grep -qw avx2 /proc/cpuinfo; then echo 'AVX2 + FMA, no AVX-512'
  else echo 'no AVX2'
  fi
}

#   cpu_cores    e.g. "2 cores" or "2 logical processors on 1 core (SMT siblings)": what a 2-thread figure ran on, from
#                lscpu's CPU-to-core map of the CPUs this process may use (a VM's two vCPUs may be two hyperthreads of
#                one physical core, which share its FMA units)
cpu_cores() {
  local logical physical allowed
  logical=$(nproc)
  # The CPUs this process may run on (a container's cpuset, say), then their (core, socket) pairs.
  allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
  physical=$(lscpu -p=CPU,CORE,SOCKET 2>/dev/null | grep -v '^#' | awk -F, -v list="$allowed" '
    BEGIN { n = split(list, ranges, ","); for (i = 1; i <= n; i++) { m = split(ranges[i], e, "-"); for (c = e[1]; c <= e[m]; c++) ok[c] = 1 } }
    ok[$1] { print $2 "," $3 }' | sort -u | wc -l)
  if [[ $physical -eq 0 || $physical -eq $logical ]]; then echo "$logical core$([[ $logical -gt 1 ]] && echo s)"
  else echo "$logical logical processors on $physical core$([[ $physical -gt 1 ]] && echo s) (SMT siblings)"
  fi
}

#   run_environment    the variables of this environment that change what a benchmark runs (the .NET instruction-set
#                      switches, FastNet's overrides, OpenBLAS's kernel and cache choices) as NAME=value ..., or "none"
run_environment() {
  local found
  found=$(env | grep -E '^(DOTNET_Enable[A-Za-z0-9]*|DOTNET_PreferredVectorBitWidth|DOTNET_MaxVectorTBitWidth|FASTNET_[A-Z0-9_]*|OPENBLAS_[A-Z0-9_]*)=' | grep -v '^FASTNET_RESULTS=' | sort | tr '\n' ' ' | sed 's/ $//' || true)
  echo "${found:-none}"
}
