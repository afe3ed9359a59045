"""incision.partition: the Python face of incision._core.partition.

Optimal cuts of DNN layer graphs from profiles: the Neurosurgeon chain scan, DADS DSL (with the
two corrections the paper lacks), DSH, the DADS controller and the bandwidth map. Units:
seconds, bytes, bytes/second.
"""

from __future__ import annotations

from ._core.partition import (
    BandwidthMap,
    DadsDecision,
    LayerGraph,
    Plan,
    chain_scan,
    dads,
    dsh,
    dsl,
    evaluate,
)

__all__: list[str] = [
    "BandwidthMap",
    "DadsDecision",
    "LayerGraph",
    "Plan",
    "chain_scan",
    "dads",
    "dsh",
    "dsl",
    "evaluate",
]
