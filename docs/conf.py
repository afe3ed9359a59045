"""Sphinx configuration of the incision documentation site (built by scripts/docs.sh).

The Markdown pages are read by MyST; the C++ reference comes from the headers' /// comments
through Doxygen's XML and Breathe; the Python reference from the installed package's docstrings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

docs = Path(__file__).resolve().parent
root = docs.parent

# The version has one source of truth: include/incision/version.hpp.
_version = {
    m.group(1): m.group(2)
    for m in re.finditer(
        r"#define\s+INCISION_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)",
        (root / "include/incision/version.hpp").read_text(encoding="utf-8"),
    )
}

project = "incision"
author = "the incision authors"
copyright = "the incision authors, MIT licence"  # noqa: A001 (Sphinx's name)
release = f"{_version['MAJOR']}.{_version['MINOR']}.{_version['PATCH']}"
version = release

extensions = [
    "myst_parser",
    "breathe",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: fenced `{directive}` blocks, $math$, and anchors for headings so pages can link to sections.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# Breathe reads what scripts/docs.sh had Doxygen write (docs/Doxyfile).
breathe_projects = {
    "incision": os.environ.get(
        "INCISION_DOXYGEN_XML", str(root / "build" / "docs" / "doxygen" / "xml")
    )
}
breathe_default_project = "incision"
breathe_default_members = ("members",)
breathe_show_include = True
breathe_domain_by_extension = {"hpp": "cpp"}

# autodoc documents the installed package (scripts/docs.sh checks it imports); the compiled
# module's signatures come from pybind11's docstrings.
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = f"incision {release}"
html_static_path = ["_static"]
html_css_files = ["incision.css"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False


# The docstrings are plain text with reStructuredText literals; a `|x - y|` in one (an absolute
# value) would read as a substitution reference. Escape pipes that do not start a table row.
_pipe = re.compile(r"(?<!\\)\|")


def _escape_pipes(app, what, name, obj, options, lines):  # noqa: ARG001 (Sphinx's signature)
    for i, line in enumerate(lines):
        if "|" in line and not line.lstrip().startswith(("|", "+")):
            lines[i] = _pipe.sub(r"\\|", line)


# Doxygen 1.9 does not list concepts under their namespace, so Breathe's doxygennamespace
# leaves them out. A page asks for them with `<!-- incision-concepts: incision::area -->`, which
# becomes one doxygenconcept directive per concept Doxygen found there: a new concept appears
# without editing the page.
_concepts_marker = re.compile(r"<!-- incision-concepts: ([\w:]+) -->")


def _concept_directives(namespace: str) -> str:
    xml = Path(breathe_projects["incision"])
    names = sorted(
        m.group(1)
        for f in xml.glob("concept*.xml")
        if (m := re.search(r"<compoundname>([^<]+)</compoundname>", f.read_text(encoding="utf-8")))
        and m.group(1).rsplit("::", 1)[0] == namespace
    )
    if not names:
        return f"(Doxygen found no concept in `{namespace}`.)"
    body = "".join(f".. doxygenconcept:: {n}\n" for n in names)
    return "```{eval-rst}\n" + body + "```"


def _expand_concepts(app, docname, source):  # noqa: ARG001 (Sphinx's signature)
    source[0] = _concepts_marker.sub(lambda m: _concept_directives(m.group(1)), source[0])


def setup(app):
    app.connect("autodoc-process-docstring", _escape_pipes)
    app.connect("source-read", _expand_concepts)
