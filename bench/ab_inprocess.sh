#!/usr/bin/env bash
# Side-by-side timing of DSL in one process: the working tree against an older commit. The old
# commit's headers are renamed (namespace incision_old, macros INCISION_OLD_*) into a temporary
# folder, both builds are compiled into bench/ab_inprocess.cpp, and batches of calls alternate
# between them. More robust than separate processes on a noisy machine (bench/ab_time.sh).
#   bench/ab_inprocess.sh <old commit> [graph name = op_resnet50_inference] [bandwidth = 2^31]
#                         [oneshot|resolve|dsh|map] [rounds = 300]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev="$1" graph="${2:-op_resnet50_inference}" bandwidth="${3:-2147483648}" mode="${4:-oneshot}" rounds="${5:-300}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/include"
git -C "$root" archive "$rev" include | tar -x -C "$tmp"
mv "$tmp/include/incision" "$tmp/include/incision_old"
find "$tmp/include" -type f -exec sed -i -e 's/namespace incision\b/namespace incision_old/g' \
  -e 's/incision::/incision_old::/g' -e 's/<incision\//<incision_old\//g' -e 's/INCISION_/INCISION_OLD_/g' \
  -e 's/inline namespace v0/inline namespace v0_old/' {} +
"${CXX:-g++}" -std=c++20 -O3 -DNDEBUG -I"$root/include" -I"$tmp/include" \
  "$root/bench/ab_inprocess.cpp" -o "$tmp/ab_inprocess"
"$tmp/ab_inprocess" "$root/data/msr-fiddle/$graph.json" "$bandwidth" "$mode" "$rounds"
