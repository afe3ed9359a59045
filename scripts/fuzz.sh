#!/usr/bin/env bash
# Builds every libFuzzer target with clang and runs each for a bounded time.
#   scripts/fuzz.sh [seconds-per-target]   (default 20)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"
export PATH="$root/.venv/bin:$PATH"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is missing; on Debian/Ubuntu: apt-get install clang libclang-rt-dev" >&2
  exit 1
fi
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DINCISION_BUILD_FUZZERS=ON -DINCISION_BUILD_TESTS=OFF \
  -DINCISION_BUILD_EXAMPLES=OFF -DINCISION_INSTALL=OFF -DINCISION_VERIFY_HEADERS=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)"
for exe in build/fuzz/fuzz/fuzz_*; do
  [[ -x "$exe" ]] || continue
  name="$(basename "$exe")"
  corpus="build/fuzz/corpus/${name#fuzz_}"
  mkdir -p "$corpus"
  seeds="fuzz/corpus/${name#fuzz_}"
  echo "== $name (${seconds}s)"
  if [[ -d "$seeds" ]]; then
    "$exe" -max_total_time="$seconds" -max_len=65536 -artifact_prefix=build/fuzz/ "$corpus" "$seeds" 2>&1 | tail -n 2
  else
    "$exe" -max_total_time="$seconds" -max_len=65536 -artifact_prefix=build/fuzz/ "$corpus" 2>&1 | tail -n 2
  fi
done
