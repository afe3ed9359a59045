#!/usr/bin/env bash
# Builds the Google Benchmark suites in Release, runs each, and writes JSON results to
# build/bench/results/<suite>.json; then runs the Python side-by-side comparisons (bench/*.py),
# which install their peers (MABWiser, contextualbandits, networkx) into .venv first.
#   scripts/bench.sh [benchmark-filter-regex]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
INCISION_SETUP_BENCH=1 bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH"
filter="${1:-.}"
out=build/bench/results
mkdir -p "$out"
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DINCISION_BUILD_BENCHMARKS=ON \
  -DINCISION_BUILD_TESTS=OFF -DINCISION_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench -j "$(nproc)"
for exe in build/bench/bench/bench_*; do
  [[ -x "$exe" ]] || continue
  name="$(basename "$exe")"
  echo "== $name"
  "$exe" --benchmark_filter="$filter" --benchmark_out="$out/$name.json" --benchmark_out_format=json
done
for script in bench/*.py; do
  [[ -f "$script" ]] || continue
  echo "== $script"
  .venv/bin/python "$script" --out "$out"
done
echo "results in $out"
