"""The committed .pyi stubs must match what pybind11-stubgen generates from the built module."""

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_committed_stubs_match_the_bindings(repo_root, tmp_path):
    stubgen = Path(sys.executable).with_name("pybind11-stubgen")
    if not stubgen.exists():
        stubgen = shutil.which("pybind11-stubgen")
    if stubgen is None:
        pytest.fail("pybind11-stubgen is missing: it is in requirements/dev.txt (bash scripts/setup.sh)")
    subprocess.run([str(stubgen), "incision._core", "-o", str(tmp_path)], check=True, capture_output=True)
    generated = tmp_path / "incision" / "_core"
    runpy.run_path(str(repo_root / "scripts" / "fix_stubs.py"))["fix_tree"](generated)
    committed = repo_root / "python" / "incision" / "_core"
    names = sorted(p.name for p in generated.glob("*.pyi"))
    assert names == sorted(p.name for p in committed.glob("*.pyi")), "run: bash scripts/stubs.sh"
    for name in names:
        assert (generated / name).read_text() == (committed / name).read_text(), (
            f"{name} drifted from the bindings; run: bash scripts/stubs.sh"
        )
