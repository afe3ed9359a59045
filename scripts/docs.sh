#!/usr/bin/env bash
# Builds the documentation site into build/docs/html, warnings as errors:
#   1. Doxygen reads the public headers' /// comments into XML (docs/Doxyfile);
#   2. Sphinx renders docs/ (MyST Markdown), the C++ reference from that XML (Breathe) and the
#      Python reference from the installed package's docstrings (autodoc).
# Needs doxygen and requirements/docs.txt (scripts/setup.sh installs both in the test profile)
# and incision installed in .venv (pip install .). Open build/docs/html/index.html.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${INCISION_PYTHON:-$root/.venv/bin/python}"
out=build/docs

command -v doxygen >/dev/null || { echo "docs: doxygen is missing (apt-get install doxygen)" >&2; exit 1; }
"$py" -c "import sphinx, furo, myst_parser, breathe" 2>/dev/null ||
  { echo "docs: Sphinx packages are missing: $py -m pip install -r requirements/docs.txt" >&2; exit 1; }
"$py" -c "import incision" 2>/dev/null ||
  { echo "docs: the incision package is not installed in $py (pip install .)" >&2; exit 1; }

rm -rf "$out/doxygen"
mkdir -p "$out/doxygen"
(cd docs && doxygen Doxyfile)

# Doxygen's warnings (broken @ref, @param naming no parameter, malformed commands) fail the build.
if [[ -s "$out/doxygen/warnings.log" ]]; then
  sort -u "$out/doxygen/warnings.log" | sed "s|^$root/||" >&2
  echo "docs: Doxygen warnings above (docs/Doxyfile)" >&2
  exit 1
fi

# The scripts the pages include are run (and checked) by python/tests/test_examples.py.

# -E: a fresh environment, so every page is read again and none of its warnings can hide.
"$py" -m sphinx -b html -E -q -W --keep-going docs "$out/html"
echo "docs: $out/html/index.html"
