"""incision.exec: the Python face of incision._core.exec.

Run a DNN split between a device and a server with incision's reference CPU backend (xtensor
buffers, Eigen GEMMs, float32): build an example network, profile it on this machine, run it
whole or at any plan's cut (device part, serialise, deserialise, server part), and run the
online loop (a learner picks the cut per frame) over a simulated link driven by a bandwidth
trace. Units: seconds, bytes, bytes/second.

    import incision as inc, incision.exec as ie
    net = ie.example_network("resnet", seed=0)
    g = net.profile(server_speedup=10)
    plan = inc.dsl(g, bandwidth=1e6)
    y = net.run_split(plan, x)          # equals net.run(x)

The loop and ``run``/``run_split`` also take a Python object as the backend (``graph``,
``run_device``, ``run_server``; incision.torch's ``TracedModel.backend()`` is one), and the loop
can run each frame's server part on an edge server over TCP (``edge=``, see incision.net).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from ._core.exec import (
        BandwidthTrace,
        Network,
        OnlineLoop,
        SimLink,
        chain_candidates,
        decode_tensor,
        decode_tensors,
        encode_tensor,
        encode_tensors,
        example_network,
        make_arms,
        map_candidates,
        run,
        run_split,
    )
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError(
        "incision.exec is not in this build: incision._core was compiled without xtensor "
        "(install xtensor-dev, e.g. apt-get install xtensor-dev, and reinstall incision)"
    ) from e

from .bandit import LinUCB

__all__: list[str] = [
    "BandwidthTrace",
    "LinUCBCutLearner",
    "Network",
    "OnlineLoop",
    "SimLink",
    "chain_candidates",
    "decode_tensor",
    "decode_tensors",
    "encode_tensor",
    "encode_tensors",
    "example_network",
    "make_arms",
    "map_candidates",
    "run",
    "run_split",
]


class LinUCBCutLearner:
    """LinUCB as an OnlineLoop learner: ``select(key_frame) -> arm``, ``update(arm, delay)``.

    LinUCB maximises a linear reward over arm contexts; here the reward is minus the frame's
    latency (front delay + offloading delay), and each arm's context is its make_arms row with
    its front delay appended, every column scaled by its largest magnitude (so the raw MACs and
    bytes do not swamp the ridge prior). Rewards are in units of the largest front delay.
    ``policy`` is the underlying incision.LinUCB (inspect it, snapshot it).
    """

    def __init__(
        self,
        contexts: Any,
        front_delay: Any,
        *,
        alpha: float = 1.0,
        reg: float = 1.0,
        gamma: float | None = None,
        window: int | None = None,
    ) -> None:
        x = np.asarray(contexts, dtype=np.float64)
        f = np.asarray(front_delay, dtype=np.float64)
        if x.ndim != 2 or f.shape != (x.shape[0],) or x.shape[0] == 0:
            raise ValueError(
                f"[incision.exec] LinUCBCutLearner: contexts must be (K, d) and front_delay (K,) with K >= 1, "
                f"got {x.shape} and {f.shape}"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(f))):
            raise ValueError("[incision.exec] LinUCBCutLearner: contexts and front_delay must be finite")
        features = np.column_stack([x, f])
        scale = np.max(np.abs(features), axis=0)
        scale[scale == 0.0] = 1.0
        self._features = np.ascontiguousarray(features / scale)
        self._front = f
        top = float(np.max(np.abs(f)))
        self._unit = top if top > 0.0 else 1.0
        self.policy = LinUCB(dim=self._features.shape[1], alpha=alpha, reg=reg, gamma=gamma, window=window)

    @property
    def n_arms(self) -> int:
        return int(self._features.shape[0])

    def select(self, key_frame: bool = False) -> int:
        del key_frame  # LinUCB has no key-frame weighting
        return int(self.policy.select(self._features))

    def update(self, arm: int, offload_delay: float) -> None:
        if not 0 <= arm < self.n_arms:
            raise IndexError(f"[incision.exec] LinUCBCutLearner: arm {arm} of {self.n_arms}")
        latency = float(self._front[arm]) + float(offload_delay)
        self.policy.update(self._features[arm], -latency / self._unit)

    def __repr__(self) -> str:
        return f"LinUCBCutLearner(n_arms={self.n_arms}, policy={self.policy!r})"
