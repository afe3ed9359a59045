"""incision: where to cut a deep neural network between a mobile device and an edge server.

Online learning of the cut (LinUCB, muLinUCB, FedLinUCB-DW) and optimal cuts from profiles
(Neurosurgeon chain scan, DADS DSL/DSH, bandwidth maps), backed by a header-only C++20 core.
"""

from __future__ import annotations

from types import ModuleType

from . import bandit, data, federated, partition
from ._core import __version__
from .bandit import *  # noqa: F403
from .federated import *  # noqa: F403
from .partition import *  # noqa: F403

__all__ = [
    "__version__",
    "bandit",
    "data",
    "federated",
    "partition",
    *bandit.__all__,
    *partition.__all__,
    *federated.__all__,
]


def __getattr__(name: str) -> ModuleType:
    # incision.plot imports on first use (it is light, but keeps `import incision` minimal);
    # incision.torch stays an explicit import (it imports torch).
    # incision.exec too (it is missing from builds without xtensor, and says so when imported);
    # incision.sweep (it imports concurrent.futures machinery only a sweep needs).
    if name in ("plot", "exec", "sweep"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
