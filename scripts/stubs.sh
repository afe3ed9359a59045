#!/usr/bin/env bash
# Regenerates the committed type stubs of incision._core (python/incision/_core/*.pyi) from the
# installed extension. python/tests/test_stubs.py fails when they drift from the bindings.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
.venv/bin/pybind11-stubgen incision._core -o "$out" >/dev/null
.venv/bin/python scripts/fix_stubs.py "$out"
rm -rf python/incision/_core
cp -r "$out/incision/_core" python/incision/_core
echo "stubs written to python/incision/_core/"
