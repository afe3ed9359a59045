"""FedLinUCB-DW from Python: two devices of one type pool what they learn through an edge
aggregator, in one process (docs/federated.md includes the marked region).

Checked against an independent computation: after the last round trip the edge's pooled
statistics must equal the sums, computed here in numpy, of every offloading delay the devices
observed online (x x^T and x * delay over the scaled contexts of the cuts they played), and
nothing of device 1's offline warm start.
"""

import numpy as np

import incision as inc
import incision.federated  # noqa: F401  (inc.federated.exchange)

# The ANS VGG16 table: 23 cuts; a simulated offloading delay linear in the context (the bits to
# ship over a 10 Mbit/s uplink plus 1 ps per server-side conv MAC), with noise.
X, front = inc.load_arm_table(inc.data.path("ans/vgg16_arms.csv"))
theta = np.array([0, 0, 0, 1e-12, 0, 0, 1 / 10e6])
rng = np.random.default_rng(11)
observed = []  # (device, arm, delay) of every offloading frame, for the check at the end


def measure(dev, arm):
    delay = X[arm] @ theta + abs(rng.normal(0, 0.005))
    if not dev.is_local_arm(arm):  # the all-on-device arm has nothing to learn
        observed.append((dev, arm, delay))
    return delay


# [doc:use]
edge = inc.FedAggregator(max_devices=1000)  # the caps of fed_aggregator_options, as keywords
devices = [inc.FedLinUCBDW(i, "vgg16/jetson-tx2", X, front, upload_threshold=1.0, warm_weight=0.5) for i in (1, 2)]
offline = [0, 6, 14, 21]  # optional: cuts device 1 measured offline, a local prior never uploaded
devices[0].warm_start(offline, [1.2 * X[a] @ theta for a in offline])
for dev in devices:
    dev.receive(edge.handle(dev.hello()))  # register with the group; bytes both ways
for frame in range(400):
    for dev in devices:
        arm = dev.select(key_frame=frame % 10 == 0)
        dev.update(arm, measure(dev, arm))  # ignored for the all-on-device arm
        if dev.wants_upload():  # the log-det trigger
            r = inc.federated.exchange(dev, edge)  # upload -> ack -> download, in one process
            assert r["reply"] == "acked" and r["downloaded"]  # and r["bytes"] moved
# [doc:use]

for dev in devices:  # flush what is still buffered
    if dev.buffered:
        assert inc.federated.exchange(dev, edge)["reply"] == "acked"

rows = [(dev.scaled_context(arm), delay) for dev, arm, delay in observed]
gram = sum(np.outer(x, x) for x, _ in rows)
moment = sum(x * y for x, y in rows)
group = "vgg16/jetson-tx2"
assert edge.group_count(group) == len(rows)
assert np.allclose(edge.group_gram(group), gram, rtol=1e-12, atol=0)
assert np.allclose(edge.group_moment(group), moment, rtol=1e-12, atol=1e-300)
uploads = sum(dev.n_uploads for dev in devices)
print(f"{len(rows)} offloading observations pooled in {uploads} uploads; last choices {[d.select() for d in devices]}")
