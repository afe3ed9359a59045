#!/usr/bin/env bash
# The house checks, part of the test command: C++ layout (clang-format, .clang-format), C++ bug
# patterns (clang-tidy, .clang-tidy, over one example per area and the edge server: together they
# instantiate every area's headers), Python style and bugs (ruff) and types (mypy, strict on the
# pure-Python facade). Fixes: `scripts/lint.sh --fix` applies clang-format and ruff's fixes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
fix=0
[[ "${1:-}" == --fix ]] && fix=1
status=0

mapfile -t cxx < <(git ls-files '*.hpp' '*.cpp')
if command -v clang-format >/dev/null; then
  echo "lint: clang-format (${#cxx[@]} files)"
  if ((fix)); then clang-format -i "${cxx[@]}"
  else clang-format --dry-run -Werror "${cxx[@]}" || status=1; fi
else
  echo "lint: clang-format not installed (apt-get install clang-format)" >&2; status=1
fi

if command -v clang-tidy >/dev/null; then
  build=build/lint
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DINCISION_BUILD_TESTS=OFF -DINCISION_BUILD_EXAMPLES=ON >/dev/null
  # One translation unit per area is enough (the headers are checked where they are instantiated):
  # bandits, partition, the executor's loop, federated, and the edge server with the TCP link.
  tus=(examples/01_linucb_quickstart.cpp examples/02_partition_quickstart.cpp examples/04_online_loop.cpp
       examples/09_federated_quickstart.cpp apps/incision_edge.cpp)
  echo "lint: clang-tidy (${#tus[@]} translation units)"
  printf '%s\n' "${tus[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet 2>/dev/null || status=1
else
  echo "lint: clang-tidy not installed (apt-get install clang-tidy)" >&2; status=1
fi

echo "lint: ruff"
if ((fix)); then ruff check --fix . || status=1
else ruff check . || status=1; fi
if command -v mypy >/dev/null; then
  echo "lint: mypy"
  mypy || status=1
else
  echo "lint: mypy skipped (it runs on Python >= 3.10)"
fi
exit "$status"
