#!/usr/bin/env bash
# The GEMM micro-kernels' depth loops as this machine's JIT compiles them, run through llvm-mca's pipeline models of
# cores we cannot run on (Zen 3, Haswell, Skylake), next to OpenBLAS's own kernel loops through the same models: whether
# a loop can keep the two FMA pipes busy or is held back by something else (the front end, loads, a spilled register).
# A static model of the loop alone: no caches, no memory, no packing or driver; it says what the loop can reach on
# such a core when its data is in L1, not how fast a GEMM runs there.
#   bench/kernel-mca.sh [REVISION ...]      e.g. bench/kernel-mca.sh a76bf13 .   ("." is the working tree, the default)
# Each revision is built in a git worktree (with this bench/gemm-shapes.cs copied in, which makes the JIT compile the
# kernels: 1024x1024x1024 needs the 6-row and 4-row tiles, 64x784x24 the narrow one) and run twice, with AVX-512 off
# (the AVX2 + FMA kernel) and, on a host that has it, on (the AVX-512 kernel), with DOTNET_JitDisasm writing the
# kernels' code. The depth loop of each is, of its innermost loops (backward jumps), the one with the most FMAs.
# Models (llvm-mca 14): Zen 3 (znver3), Haswell and Skylake client at the 4 instructions a cycle they rename
# (-dispatch=4; llvm-mca's Skylake model lets 6 through) and Skylake-SP (the AVX-512 kernel, 4 a cycle too). LLVM 14's
# Zen 3 model gives 256-bit FMAs one pipe where the hardware has two (#11's Zen 3 measured 31-33 FLOP a cycle with 12 ymm
# accumulators), so for Zen 3 the FMAs are modelled as vmulps, which it gives both pipes, and the cycles are at least
# what each accumulator's chain of FMAs takes at Zen 3's FMA latency of 4 (vmulps leaves that chain out). llvm-mca 14
# fuses no compare with its branch: each loop is charged one instruction a turn more than the core issues. Zen 4 and 5
# have no model in LLVM 14.
# Needs llvm-mca (apt-get install llvm) and objdump (binutils); OpenBLAS's loops where libopenblas0-pthread is installed.
# Writes bench/results/simulated/kernel-mca.md (FASTNET_RESULTS names another subfolder).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/host.sh"
revisions=("${@:-.}")
command -v llvm-mca >/dev/null || { echo "kernel-mca: llvm-mca is not installed (apt-get install llvm)." >&2; exit 1; }
command -v objdump >/dev/null || { echo "kernel-mca: objdump is not installed (apt-get install binutils)." >&2; exit 1; }
work=$(mktemp -d)
trap 'for t in "$work"/tree-*; do [[ -d $t ]] && git -C "$root" worktree remove --force "$t" >/dev/null 2>&1; done; rm -rf "$work"' EXIT

# loop_of_listing: reads JIT listings (DOTNET_JitDisasm) on stdin; for the method whose name contains $1, prints the
# depth loop (of the loops with no loop inside, the one with the most FMAs) as llvm-mca input, every jump aimed at "loop".
loop_of_listing() {
  awk -v method="$1" '
    /^; Assembly listing for method / { inside = index($0, method) > 0; n = 0; loops = 0; delete at; next }
    !inside { next }
    /^G_M[0-9]+_IG[0-9]+:/ { label = $1; sub(":", "", label); at[label] = n + 1; next }
    /^ +[a-z]/ && !/^ +align / {
      line = $0; sub(/^ +/, "", line); sub(/SHORT /, "", line); code[++n] = line
      if (line ~ /^j[a-z]+ +G_M[0-9]+_IG[0-9]+$/) {
        target = line; sub(/^j[a-z]+ +/, "", target)
        if (target in at) { loops++; first[loops] = at[target]; last[loops] = n }
      }
    }
    /^; Total bytes of code/ && inside { innermost(); inside = 0 }
    # The loop with the most FMAs among those with no loop inside them.
    function innermost(   k, j, i, fmas, nested, best, out) {
      for (k = 1; k <= loops; k++) {
        nested = 0; for (j = 1; j <= loops; j++) if (j != k && first[j] >= first[k] && last[j] < last[k]) nested = 1
        if (nested) continue
        fmas = 0; for (i = first[k]; i <= last[k]; i++) if (code[i] ~ /^vfmadd/) fmas++
        if (fmas > best) { best = fmas; out = ""; for (i = first[k]; i <= last[k]; i++) out = out "\n" code[i] }
      }
      if (best) { gsub(/G_M[0-9]+_IG[0-9]+/, "loop", out); print ".intel_syntax noprefix\nloop:" out }
      loops = 0
    }'
}

# loop_of_function: the same for a function of a shared library, from objdump's Intel-syntax disassembly.
loop_of_function() {   # loop_of_function LIBRARY SYMBOL
  local start size
  read -r start size < <(nm -D -S "$1" | awk -v s="$2" '$4 == s { print $1, $2 }')
  [[ -n ${start:-} ]] || return 0
  objdump -d --no-show-raw-insn -M intel --start-address=$((16#$start)) --stop-address=$((16#$start + 16#$size)) "$1" |
    awk -F'\t' '
      function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
      /^ +[0-9a-f]+:\t/ {
        address = $1; gsub(/[ :]/, "", address); line = $2; sub(/ +<.*>$/, "", line); sub(/ +#.*$/, "", line)
        addr[++n] = hex(address); code[n] = line
        if (line ~ /^j[a-z]+ +[0-9a-f]+$/) {
          split(line, f, / +/); target = hex(f[2])
          if (target <= addr[n]) {
            loops++; for (i = n; i > 1 && addr[i] > target; i--) {}
            first[loops] = i; last[loops] = n
          }
        }
      }
      END {   # the loop with the most FMAs among those with no loop inside them
        for (k = 1; k <= loops; k++) {
          nested = 0; for (j = 1; j <= loops; j++) if (j != k && first[j] >= first[k] && last[j] < last[k]) nested = 1
          if (nested) continue
          fmas = 0; for (i = first[k]; i <= last[k]; i++) if (code[i] ~ /^vfmadd/) fmas++
          if (fmas > best) { best = fmas; out = ""; for (i = first[k]; i <= last[k]; i++) out = out "\n" code[i] }
        }
        if (best) print ".intel_syntax noprefix\nloop:" out
      }' |
    sed -E 's/^(j[a-z]+) +[0-9a-f]+$/\1 loop/'
}

# cycles MODEL FILE [OPTIONS]: llvm-mca's cycles per turn of the loop in FILE.
cycles() {
  local model=$1 file=$2; shift 2
  llvm-mca -mtriple=x86_64 -mcpu="$model" -iterations=400 "$@" "$file" 2>/dev/null | awk '/^Total Cycles:/ { printf "%.2f", $3 / 400 }'
}

# One table row per loop: FMAs and instructions a turn, then each model's cycles a turn and the share of the two FMA
# pipes' peak that makes (FMAs / 2 per cycle over the cycles).
rows=$work/rows.md
row() {   # row NAME FILE WIDE   (WIDE: 512 for a zmm loop, which only the Skylake-SP model runs)
  local name=$1 file=$2 wide=$3 fmas instructions chains zen3_cycles cells="" zen3=$work/zen3.s
  fmas=$(grep -c '^vfmadd' "$file")
  instructions=$(($(wc -l < "$file") - 2))
  sed 's/^vfmadd231ps/vmulps/' "$file" > "$zen3"
  # vmulps does not read its destination, so Zen 3's cycles are at least each accumulator's FMAs a turn times the FMA
  # latency (4 cycles on Zen 3): the chain a loop with too few accumulators waits on.
  chains=$(awk '/^vfmadd/ { sub(/,.*/, "", $2); seen[$2] = 1 } END { print length(seen) }' "$file")
  zen3_cycles=$(awk -v c="$(cycles znver3 "$zen3")" -v f="$fmas" -v n="$chains" 'BEGIN { b = f / n * 4; printf "%.2f", (c > b ? c : b) }')
  peak() { awk -v f="$fmas" -v c="$1" 'BEGIN { printf "%.2f (%.0f%%)", c, 100 * f / 2 / c }'; }
  if [[ $wide == 512 ]]; then cells="| | | | $(peak "$(cycles skylake-avx512 "$file" -dispatch=4)")"
  else cells="| $(peak "$zen3_cycles") | $(peak "$(cycles haswell "$file" -dispatch=4)") | $(peak "$(cycles skylake "$file" -dispatch=4)") | "
  fi
  echo "| $name | $fmas | $instructions $cells |" >> "$rows"
}

has_avx512=0; grep -qw avx512f /proc/cpuinfo && has_avx512=1
loops=$work/loops.md
for revision in "${revisions[@]}"; do
  tree=$root; name="working tree"
  if [[ $revision != . ]]; then
    tree=$work/tree-$(git -C "$root" rev-parse --short "$revision")
    name=$(basename "$tree" | sed 's/^tree-//')
    git -C "$root" worktree add --detach "$tree" "$revision" >/dev/null 2>&1
    cp "$root/bench/gemm-shapes.cs" "$tree/bench/"
  else
    name="working tree ($(git -C "$root" rev-parse --short HEAD)$([[ -n $(git -C "$root" status --porcelain -- src) ]] && echo ' + changes'))"
  fi
  bin=$work/bin-$(tr -c 'A-Za-z0-9\n' _ <<< "$name")
  (cd "$tree" && dotnet build bench/gemm-shapes.cs -c Release -v q -nologo -o "$bin" >/dev/null)
  for isa in avx2 avx512; do
    [[ $isa == avx512 && $has_avx512 == 0 ]] && continue
    listing=$work/listing-$isa
    rm -f "$listing"   # the JIT appends to it
    env $([[ $isa == avx2 ]] && echo DOTNET_EnableAVX512=0) DOTNET_JitDisasm='*Kernel*:Run*' DOTNET_JitStdOutFile="$listing" \
      dotnet "$bin/gemm-shapes.dll" 1 1024x1024x1024 64x784x24 > /dev/null
    if [[ $isa == avx2 ]]; then
      kernels=("Avx2Kernel6x16:Run[FastNet.Kernels.Rows6]" "Avx2Kernel6x16:Run[FastNet.Kernels.Rows4]" "Avx2Kernel6x16:RunNarrow[FastNet.Kernels.Rows6]")
    else
      kernels=("Avx512Kernel6x64:Run[FastNet.Kernels.Rows6]")
    fi
    for kernel in "${kernels[@]}"; do
      file=$work/$(echo "$name-$kernel" | tr -c 'A-Za-z0-9\n' _).s
      loop_of_listing "$kernel" < "$listing" > "$file"
      [[ -s $file ]] || { echo "kernel-mca: no depth loop found for $kernel in $name" >&2; continue; }
      row "FastNet $name: ${kernel//FastNet.Kernels./}" "$file" "$([[ $isa == avx512 ]] && echo 512 || echo 256)"
      { echo; echo "FastNet $name, ${kernel//FastNet.Kernels./}:"; echo; echo '```'; tail -n +3 "$file"; echo '```'; } >> "$loops"
    done
  done
done

openblas=$(ldconfig -p | awk '/libopenblas\.so\.0 / && !found { print $NF; found = 1 }')   # no early exit: ldconfig would die of SIGPIPE
openblas=${openblas:+$(readlink -f "$openblas")}
if [[ -n $openblas ]]; then
  for kernel in sgemm_kernel_HASWELL sgemm_kernel_SKYLAKEX; do
    file=$work/$kernel.s
    loop_of_function "$openblas" "$kernel" > "$file"
    [[ -s $file ]] || continue
    wide=256; grep -q zmm "$file" && wide=512
    row "OpenBLAS $(basename "$openblas"): $kernel" "$file" "$wide"
  done
else
  echo "| OpenBLAS: not installed (apt-get install libopenblas0-pthread), its loops left out | | | | | | |" >> "$rows"
fi

out=$root/bench/results/${FASTNET_RESULTS:-simulated}/kernel-mca.md
mkdir -p "$(dirname "$out")"
{
  echo "# kernel-mca"
  echo
  echo "Command: \`bench/kernel-mca.sh ${*:-.}\` ($(date -u +%Y-%m-%d))"
  echo
  echo "Code compiled on: $(cpu_model), $(cpu_isa); .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }'). Model: $(llvm-mca --version | awk '/LLVM version/ { print "llvm-mca " $NF }')."
  echo
  echo "A model, not a measurement: llvm-mca's pipeline model of each core runs the loop with every load hitting L1; no"
  echo "caches, prefetchers, packing or driver. Each cell: cycles per turn of the loop, and in brackets the share of two FMA"
  echo "pipes' peak (FMAs / 2 per cycle). Zen 3's FMAs are modelled as vmulps (LLVM 14's Zen 3 model gives FMAs one pipe, the"
  echo "hardware two), and its cycles are at least each accumulator's FMAs a turn times the FMA latency, 4; Haswell, Skylake"
  echo "and Skylake-SP at the 4 instructions a cycle they rename (-dispatch=4). llvm-mca 14"
  echo "does not fuse a compare with its branch, so each turn is charged one instruction more than those cores issue."
  echo
  echo "| loop | FMAs a turn | instructions a turn | Zen 3 | Haswell | Skylake | Skylake-SP (AVX-512) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  cat "$rows"
  echo
  echo "## FastNet's loops as the JIT compiled them"
  cat "$loops"
} > "$out"
echo "wrote $out" >&2
