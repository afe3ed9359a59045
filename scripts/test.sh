#!/usr/bin/env bash
# Sets up what is missing, then runs every test: the house checks (scripts/lint.sh), the C++ suite
# (doctest, examples, compile-fail checks, consumer projects, one minimal run of each Google Benchmark
# suite), the same C++ suite under ASan + UBSan, the threaded tests (exec, net) under TSan, a bounded
# libFuzzer run of every parser, the documentation site (warnings are errors), and pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
jobs="$(nproc 2>/dev/null || echo 2)"
export PATH="$root/.venv/bin:$PATH"  # ninja and cmake from the venv if the system lacks them
# Each step prints the time since the start, so a slow step shows in the log (CI has a budget).
phase() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

configure() {  # build-dir, extra cmake arguments...
  local dir="$1"; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINCISION_WERROR=ON "$@" >/dev/null
}

phase "House checks: clang-format, clang-tidy, ruff, mypy (scripts/lint.sh)"
bash scripts/lint.sh

phase "C++ tests (build/test), each benchmark run once with a minimal time"
configure build/test -DINCISION_BUILD_BENCHMARKS=ON
cmake --build build/test -j "$jobs"
cmake --build build/test -j "$jobs" --target all_verify_interface_header_sets  # each header compiles alone
ctest --test-dir build/test -j "$jobs" --output-on-failure

phase "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan)"
# -O1 -g1: what the sanitizers recommend (symbolised line numbers in reports), and half the
# build time of -O2 -g on the Eigen-heavy tests
configure build/asan "-DINCISION_SANITIZE=address;undefined" -DINCISION_BUILD_EXAMPLES=OFF \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
cmake --build build/asan -j "$jobs"
ctest --test-dir build/asan -j "$jobs" --output-on-failure -LE consumer

phase "ThreadSanitizer: the threaded tests only (exec, net) (build/tsan)"
# Only test_exec and test_net (the edge server's worker threads, the device threads of the load
# test); the Asio headers are system headers and are instrumented as compiled here.
configure build/tsan -DINCISION_SANITIZE=thread -DINCISION_BUILD_EXAMPLES=OFF -DINCISION_VERIFY_HEADERS=OFF \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
tsan_targets=()
for t in test_exec test_net; do
  if cmake --build build/tsan --target help | grep -q "^$t:"; then tsan_targets+=("$t"); fi
done
if ((${#tsan_targets[@]})); then
  cmake --build build/tsan -j "$jobs" --target "${tsan_targets[@]}" incision-edge 2>/dev/null ||
    cmake --build build/tsan -j "$jobs" --target "${tsan_targets[@]}"
  for t in "${tsan_targets[@]}"; do TSAN_OPTIONS=halt_on_error=1 "build/tsan/tests/$t"; done
fi

phase "libFuzzer targets (parsers of snapshots, graph files and messages)"
bash scripts/fuzz.sh "${INCISION_FUZZ_SECONDS:-10}"

phase "Documentation site (build/docs; warnings are errors)"
bash scripts/docs.sh

phase "Python tests"
# incision-edge from the C++ build on PATH: the Python tests also drive the installed-executable path.
PATH="$root/build/test/apps:$PATH" .venv/bin/python -m pytest -q --durations=10
phase "done"
