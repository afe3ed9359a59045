"""incision: where to cut a deep neural network between a mobile device and an edge server.

Online learning of the cut (LinUCB, muLinUCB, FedLinUCB-DW) and optimal cuts from profiles
(Neurosurgeon chain scan, DADS DSL/DSH, bandwidth maps), backed by a header-only C++20 core.
"""

from __future__ import annotations

from ._core import __version__

__all__ = ["__version__"]
