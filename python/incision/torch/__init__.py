"""incision.torch: partition any torch.fx-traceable PyTorch model.

    import incision as inc
    import incision.torch as it
    tm = it.trace(model.eval(), x)                  # one profiled LayerGraph layer per fx node
    plan = inc.dsl(tm.graph, bandwidth=5e6)         # any partitioner works on tm.graph
    front, back = tm.split(plan)                    # two GraphModules
    y = back(*front(x))                             # front returns a tuple of the tensors crossing the cut
    contexts, front_delay = tm.arms(inc.BandwidthMap(tm.graph, 1e4, 1e9).plans)
    learner = inc.MuLinUCB(contexts, front_delay)
    backend = tm.backend()                          # for incision.exec.OnlineLoop and incision.net.EdgeServer

Needs PyTorch (``pip install incision[torch]``); nothing else in incision imports torch.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
    import torch.fx as _fx  # noqa: F401
except ImportError as _e:  # pragma: no cover - exercised only without torch
    raise ImportError("incision.torch needs PyTorch: pip install 'incision[torch]' (or pip install torch)") from _e

from ._backend import TorchBackend, model_fingerprint
from ._model import TracedModel, trace
from ._ops import KINDS

__all__ = ["KINDS", "TorchBackend", "TracedModel", "model_fingerprint", "trace"]
