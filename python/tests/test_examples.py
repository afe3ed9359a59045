"""Every script in examples/python/ runs to the end (each checks its own result with asserts), so
the code the documentation includes from them is code that runs.

Each script runs in a fresh interpreter from a temporary folder (data come from incision.data, not
from the checkout's layout), with a headless matplotlib backend, under a time limit. A script that
imports torch, incision.exec or incision.net is skipped when that part is missing.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"
DOCS = REPO / "docs"

# Long scripts run by their own tests on small arguments.
RUN_ELSEWHERE = {
    "demo.py": "test_demo.py runs it on 9,000 frames",
    "cans_experiment.py": "test_federated.py::test_cans_experiment_runs_small",
}
# Pages whose code is included from files that run (examples, consumer projects); the others
# (exec.md, net.md, torch.md, ...) still paste some, to be moved and added here.
INCLUDED_ONLY = [
    "algorithms.md",
    "bandit.md",
    "demo.md",
    "extending.md",
    "federated.md",
    "index.md",
    "install.md",
    "partition.md",
    "quickstart.md",
]
TIMEOUT_S = 120


def _needs(script: Path) -> list[str]:
    """The optional modules a script imports (torch, incision.exec, incision.net)."""
    optional = {"torch", "torchvision", "incision.torch", "incision.exec", "incision.net"}
    found = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found.update(n for n in names if n in optional or n.split(".")[0] in {"torch", "torchvision"})
    return sorted(found)


def _scripts() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in RUN_ELSEWHERE)


@pytest.mark.parametrize("name", _scripts())
def test_example_runs(name, tmp_path):
    script = EXAMPLES / name
    for module in _needs(script):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            pytest.skip(f"{name} needs {module}")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    try:
        run = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} ran longer than {TIMEOUT_S} s", pytrace=False)
    assert run.returncode == 0, f"{name} failed:\n{run.stdout}\n{run.stderr}"


def test_run_elsewhere_scripts_exist_and_are_run():
    """The scripts left out here exist, and the test named for each runs it."""
    tests = Path(__file__).resolve().parent
    for name, where in RUN_ELSEWHERE.items():
        assert (EXAMPLES / name).is_file(), name
        test_file = where.split("::")[0].split(" ")[0]
        assert name in (tests / test_file).read_text(encoding="utf-8"), (name, test_file)


def test_docs_include_only_scripts_that_run_here():
    """Every examples/python script a page includes is one this file runs, and each marker pair
    it names is in the script (Sphinx also fails on a missing marker; this says which page)."""
    include = re.compile(r"```\{literalinclude\} \.\./examples/python/(\S+)\n((?::.*\n)*)")
    seen = 0
    for page in sorted(DOCS.glob("**/*.md")):
        for m in include.finditer(page.read_text(encoding="utf-8")):
            name, options = m.group(1), m.group(2)
            assert name in _scripts(), f"{page.name} includes {name}, which no test runs"
            text = (EXAMPLES / name).read_text(encoding="utf-8")
            for marker in re.findall(r':(?:start-after|end-before): "(.*)"', options):
                assert text.count(marker) == 2, f"{page.name}: {marker!r} is not a marker pair in {name}"
            seen += 1
    assert seen >= 10


@pytest.mark.parametrize("page", INCLUDED_ONLY)
def test_page_pastes_no_code(page):
    """Code on these pages is included from files that run; only shell commands, formulas and
    file formats stay pasted."""
    fence = re.compile(r"^```(python|py|cpp|c\+\+|cmake)\s*$", re.M)
    pasted = fence.findall((DOCS / page).read_text(encoding="utf-8"))
    assert not pasted, f"{page} pastes {pasted} code: include it from an example that runs"
