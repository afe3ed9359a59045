"""Post-processes pybind11-stubgen's output (scripts/stubs.sh, python/tests/test_stubs.py).

pybind11-stubgen 2.5.5 writes `os.PathLike` for std::filesystem::path arguments without importing
`os`, so a type checker reads the stubs as broken: add the import where the name is used.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def fix_stub(text: str) -> str:
    if re.search(r"\bos\.", text) and not re.search(r"^import os$", text, re.MULTILINE):
        future = "from __future__ import annotations\n"
        text = text.replace(future, future + "\nimport os\n", 1)
    return text


def fix_tree(folder: Path) -> None:
    for stub in sorted(folder.rglob("*.pyi")):
        stub.write_text(fix_stub(stub.read_text()))


if __name__ == "__main__":
    fix_tree(Path(sys.argv[1]))
