"""The README's code runs. GitHub shows the README without includes, so its blocks are checked
here instead: every Python block runs (fresh interpreter, temporary folder), every C++ block is a
verbatim excerpt of an example in examples/ (which the C++ tests build and run), and the CMake
lines are those of the find_package consumer project the C++ tests build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return [m.group(1) for m in re.finditer(rf"^```{re.escape(language)}\n(.*?)^```$", README, re.M | re.S)]


def excerpt_of(block: str, source: str) -> bool:
    """Whether block's lines are a contiguous run of source's lines, up to a common indentation."""
    want = textwrap.dedent(block).strip("\n").split("\n")
    lines = source.split("\n")
    return any(textwrap.dedent("\n".join(lines[i : i + len(want)])).split("\n") == want for i in range(len(lines)))


def test_readme_has_the_blocks_checked_here():
    assert len(blocks("python")) >= 1 and len(blocks("cpp")) >= 2 and len(blocks("cmake")) >= 1


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_block_runs(index, tmp_path):
    code = blocks("python")[index]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, f"README python block {index} failed:\n{code}\n{run.stderr}"


@pytest.mark.parametrize("index", range(len(blocks("cpp"))))
def test_cpp_block_is_an_excerpt_of_a_built_example(index):
    block = blocks("cpp")[index]
    examples = sorted((REPO / "examples").glob("*.cpp"))
    found = [p.name for p in examples if excerpt_of(block, p.read_text(encoding="utf-8"))]
    assert found, f"README C++ block {index} is in no examples/*.cpp (copy it from one, verbatim):\n{block}"


def test_excerpt_check_rejects_a_changed_line():
    source = "int main() {\n  int a = 1;\n  int b = 2;\n}\n"
    assert excerpt_of("int a = 1;\nint b = 2;\n", source)
    assert not excerpt_of("int a = 1;\nint b = 3;\n", source)
    assert not excerpt_of("int b = 2;\nint a = 1;\n", source)


def test_cmake_lines_are_the_consumer_project_s():
    """Comments aside, each line is one of tests/cmake/find_package's (its target is `consumer`)."""
    consumer = (REPO / "tests/cmake/find_package/CMakeLists.txt").read_text(encoding="utf-8")
    known = {" ".join(line.split()) for line in consumer.replace("consumer", "app").splitlines()}
    for block in blocks("cmake"):
        for line in block.splitlines():
            code = " ".join(line.split("#", 1)[0].split())
            assert not code or code in known, f"README cmake line not in tests/cmake/find_package: {line!r}"
