"""incision.federated: FedLinUCB-DW (CANS), devices of one type learning the cut together.

``FedLinUCBDW`` is the device-side learner (muLinUCB on its group's pooled statistics, a bounded
warm start from offline experience, an O(d^2) log-det upload trigger); ``FedAggregator`` is the
edge-side aggregator that pools statistics per device type, within configured caps. They exchange
only ``bytes`` (versioned, checksummed messages), so the same code runs in one process or across a
network. ``exchange`` (one upload -> ack -> download round trip) and ``run_lockstep`` (a batched
simulation loop) are the C++ library's own ``incision::federated`` functions.

Example::

    import incision as inc
    edge = inc.FedAggregator(max_devices=1000)
    dev = inc.FedLinUCBDW(1, "vgg16", contexts, front_delay, upload_threshold=1.0)
    dev.receive(edge.handle(dev.hello()))
    arm = dev.select(key_frame=False)
    dev.update(arm, offload_delay)
    if dev.wants_upload():
        inc.federated.exchange(dev, edge)  # {'bytes': ..., 'reply': 'acked', 'downloaded': True}

Threads: every object takes its own lock in each method, so objects may be shared by Python
threads (calls on one object are serialised); ``exchange`` locks the device and the edge,
``run_lockstep`` every device and the edge, and ``handle_batch`` and ``run_lockstep`` release the
GIL while they run.
"""

from __future__ import annotations

from ._core.federated import (
    PROTOCOL_VERSION,
    REJECT_CODES,
    FedAggregator,
    FedLinUCBDW,
    decode_message,
    exchange,
    run_lockstep,
)

__all__ = [
    "PROTOCOL_VERSION",
    "REJECT_CODES",
    "FedAggregator",
    "FedLinUCBDW",
    "decode_message",
    "exchange",
    "run_lockstep",
]
