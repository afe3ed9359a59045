"""incision.federated: FedLinUCB-DW (CANS), devices of one type learning the cut together.

``FedLinUCBDW`` is the device-side learner (muLinUCB on its group's pooled statistics, a bounded
warm start from offline experience, an O(d^2) log-det upload trigger); ``FedAggregator`` is the
edge-side aggregator that pools statistics per device type. They exchange only ``bytes``
(versioned, checksummed messages), so the same code runs in one process or across a network.

Example::

    import incision as inc
    edge = inc.FedAggregator()
    dev = inc.FedLinUCBDW(1, "vgg16", contexts, front_delay, upload_threshold=1.0)
    dev.receive(edge.handle(dev.hello()))
    arm = dev.select(key_frame=False)
    dev.update(arm, offload_delay)
    if dev.wants_upload():
        exchange(dev, edge)
"""

from __future__ import annotations

from ._core.federated import (
    PROTOCOL_VERSION,
    FedAggregator,
    FedLinUCBDW,
    decode_message,
    run_lockstep,
)

__all__ = [
    "PROTOCOL_VERSION",
    "FedAggregator",
    "FedLinUCBDW",
    "decode_message",
    "exchange",
    "run_lockstep",
]


def exchange(device: FedLinUCBDW, edge: FedAggregator) -> int:
    """Upload the device's buffered data and install its fresh download; returns the bytes moved.

    The in-process stand-in for one round trip over a network: upload -> ack -> download.
    """
    up = device.make_upload()
    ack = edge.handle(up)
    device.receive(ack)
    down = edge.download_for(device.device_id)
    device.receive(down)
    return len(up) + len(ack) + len(down)
