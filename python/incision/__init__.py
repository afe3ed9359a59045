"""incision: where to cut a deep neural network between a mobile device and an edge server.

Online learning of the cut (LinUCB, muLinUCB, FedLinUCB-DW) and optimal cuts from profiles
(Neurosurgeon chain scan, DADS DSL/DSH, bandwidth maps), backed by a header-only C++20 core.
"""

from __future__ import annotations

from . import bandit, federated, partition
from ._core import __version__
from .bandit import *  # noqa: F403
from .federated import *  # noqa: F403
from .partition import *  # noqa: F403

__all__ = ["__version__", "bandit", "federated", "partition", *bandit.__all__, *partition.__all__, *federated.__all__]
