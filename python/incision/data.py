"""incision.data: the measurements shipped with incision (the repository's ``data/`` folder).

    import incision as inc
    contexts, front_delay = inc.load_arm_table(inc.data.path("ans/vgg16_arms.csv"))
    g = inc.LayerGraph.from_msr_json(inc.data.path("msr-fiddle/layer_resnet50_inference.json"))

The wheel carries them as ``incision/_data``; in a source checkout without an installed copy the
repository's ``data/`` folder is used. Where they come from and their licences: ``path("README.md")``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["files", "path", "root"]

_INSTALLED = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2] / "data"  # python/incision/data.py -> <repo>/data


def root() -> Path:
    """The folder holding the shipped data (``ans/``, ``msr-fiddle/``)."""
    for candidate in (_INSTALLED, _CHECKOUT):
        if (candidate / "ans").is_dir():
            return candidate
    raise FileNotFoundError(
        f"[incision.data] no shipped data: neither {_INSTALLED} nor {_CHECKOUT} exists (a broken install?)"
    )


def files() -> list[str]:
    """Every shipped file as a relative name (``"ans/vgg16_arms.csv"``, ...), sorted."""
    base = root()
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())


def path(name: str) -> Path:
    """The absolute path of a shipped file, e.g. ``path("ans/vgg16_arms.csv")``.

    FileNotFoundError naming the available files when there is no such file.
    """
    base = root()
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"[incision.data] expected a name relative to the data folder, got {name!r}")
    full = base / relative
    if not full.is_file():
        available = ", ".join(n for n in files() if not n.endswith((".md", ".txt")))
        raise FileNotFoundError(f"[incision.data] no shipped file {name!r}; available: {available}")
    return full
