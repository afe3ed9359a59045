#!/usr/bin/env bash
# Builds the Google Benchmark suites in Release, runs each (medians of repetitions), runs the Python
# side-by-side comparisons with their peers, and writes the benchmark report from that one run:
# docs/results/benchmarks.{md,csv} (bench/report.py). Raw outputs go to build/bench/results/.
#   scripts/bench.sh [benchmark-filter-regex]
# INCISION_BENCH_REPETITIONS (default 3) sets the repetitions of each C++ benchmark;
# INCISION_BENCH_PYTHON=0 skips the Python comparisons (their targets then show as not measured);
# INCISION_BENCH_SETUP=0 skips scripts/setup.sh (peers and the package already installed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ "${INCISION_BENCH_SETUP:-1}" == 1 ]]; then INCISION_SETUP_BENCH=1 bash scripts/setup.sh; fi
export PATH="$root/.venv/bin:$PATH"
filter="${1:-.}"
reps="${INCISION_BENCH_REPETITIONS:-3}"
out=build/bench/results
rm -rf "$out"
mkdir -p "$out"
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DINCISION_BUILD_BENCHMARKS=ON \
  -DINCISION_BUILD_TESTS=OFF -DINCISION_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench -j 2
for exe in build/bench/bench/bench_*; do
  [[ -x "$exe" ]] || continue
  name="$(basename "$exe")"
  echo "== $name"
  "$exe" --benchmark_filter="$filter" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/$name.json" --benchmark_out_format=json
done
py=.venv/bin/python
if [[ "${INCISION_BENCH_PYTHON:-1}" == 1 ]]; then
  echo "== bench/bandit_peers.py";     "$py" bench/bandit_peers.py --out "$out" --cpp-bench build/bench/bench/bench_bandit
  echo "== bench/partition_networkx.py"; "$py" bench/partition_networkx.py --out "$out"
  echo "== bench/federated_peers.py";  "$py" bench/federated_peers.py --out "$out"
  if [[ -x build/bench/bench/bench_net ]]; then
    echo "== bench/net_peers.py";      "$py" bench/net_peers.py --bench build/bench/bench/bench_net --json "$out/net_peers.json"
  fi
  if "$py" -c "import torch, torchvision" 2>/dev/null; then
    echo "== bench/exec_torch.py";     "$py" bench/exec_torch.py --repeats 50 | tee "$out/exec_torch.txt"
    echo "== bench/torch_overhead.py"; "$py" bench/torch_overhead.py --json "$out/torch_overhead.json"
  fi
fi
echo "== bench/report.py"
"$py" bench/report.py --results "$out" --out docs/results --filter "$filter"
echo "raw results in $out; report in docs/results/benchmarks.md"
