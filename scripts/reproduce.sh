#!/usr/bin/env bash
# Regenerates every reproduction page under docs/results/ (CSV, PNG and the Markdown page generated
# from the CSV): ANS, DADS, CANS. Extra arguments go to each script (e.g. --full, --workers 2).
#   scripts/reproduce.sh [--full] [--workers N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py=python3
[[ -x .venv/bin/python ]] && py=.venv/bin/python
for name in ans dads cans; do
  echo "== examples/reproduce/$name.py"
  "$py" "examples/reproduce/$name.py" "$@"
done
"$py" examples/reproduce/index.py
