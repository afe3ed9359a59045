#!/usr/bin/env bash
# Sets up what is missing, then runs the main demo (examples/python/demo.py): learning where to
# cut VGG16 while the uplink switches between CAT1, 3G, 4G and Wi-Fi. Extra arguments go to the
# demo (see --help). The plot goes to build/demo/demo.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
INCISION_SETUP_PROFILE=demo bash scripts/setup.sh
.venv/bin/python examples/python/demo.py --plot build/demo/demo.png --json build/demo/demo.json "$@"
