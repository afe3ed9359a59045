#!/usr/bin/env bash
# Per-call instruction, L1 data miss and branch-miss counts of one DSL call, from cachegrind's
# simulation (valgrind: apt-get install valgrind): dsl_repeat runs N = 200 and N = 0 calls and the
# difference is divided by 200, so loading the graph cancels out.
#   bench/instruction_counts.sh [graph name = op_resnet50_inference] [bandwidth] [oneshot|kept|resolve]
# DSL_REPEAT=<path> counts another build of dsl_repeat (an older commit's, to compare).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
graph="${1:-op_resnet50_inference}"
bandwidth="${2:-2147483648}"
mode="${3:-oneshot}"
exe="${DSL_REPEAT:-$root/build/bench/bench/dsl_repeat}"
[[ -x "$exe" ]] || { echo "build it first: cmake --build build/bench --target dsl_repeat" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
totals() {  # Ir, D1 misses (read + write), branch misses (conditional + indirect)
  valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes --cachegrind-out-file="$tmp/out" \
    "$exe" "$root/data/msr-fiddle/$graph.json" "$1" "$bandwidth" "$mode" >/dev/null 2>&1
  awk '/^events:/ { for (i = 2; i <= NF; ++i) col[$i] = i - 1 }
       /^summary:/ { print $(col["Ir"] + 1), $(col["D1mr"] + 1) + $(col["D1mw"] + 1), $(col["Bcm"] + 1) + $(col["Bim"] + 1) }' "$tmp/out"
}
read -r ir1 d11 b1 <<<"$(totals 200)"
read -r ir0 d10 b0 <<<"$(totals 0)"
echo "$graph $bandwidth B/s $mode, per call: instructions $(( (ir1 - ir0) / 200 )), L1d misses $(( (d11 - d10) / 200 )), branch misses $(( (b1 - b0) / 200 ))"
