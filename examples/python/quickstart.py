"""The Python quick start: learn a cut online, compute one from a profile (run by scripts/docs.sh)."""

import numpy as np

import incision as inc

# [doc:learn]
# Learn the cut online: the 23 cuts of VGG16 measured by the ANS authors (context of the part
# left to the server, front-end delay on the device), and muLinUCB choosing one per frame.
contexts, front_delay = inc.load_arm_table(inc.data.path("ans/vgg16_arms.csv"))
ans = inc.MuLinUCB(contexts, front_delay)  # gamma=0.99 adds forgetting
# Here the offloading delay is simulated: the bits to ship over a 10 Mbit/s uplink plus 1 ps per
# server-side conv MAC, with noise; in real use it is measured per frame.
theta = np.array([0, 0, 0, 1e-12, 0, 0, 1 / 10e6])  # seconds per unit of each context column
rng = np.random.default_rng(0)
for frame in range(500):
    cut = ans.select(key_frame=frame % 10 == 0)
    ans.update(cut, offload_delay=contexts[cut] @ theta + abs(rng.normal(0, 0.005)))
# [doc:learn]

# [doc:partition]
# Compute the cut from a profile: ResNet-50's layer graph (msr-fiddle), DADS DSL at 2 MB/s,
# and every optimal plan between 10 kB/s and 10 GB/s with its breakpoints.
g = inc.LayerGraph.from_msr_json(inc.data.path("msr-fiddle/layer_resnet50_inference.json"))
plan = inc.dsl(g, bandwidth=2e6)
print(f"{len(plan.device_layers)} of {len(g)} layers on the device, {1e3 * plan.latency:.1f} ms")
bmap = inc.BandwidthMap(g, min_bandwidth=1e4, max_bandwidth=1e10)
print(f"{len(bmap.plans)} optimal plans over the range; at 2 MB/s: {1e3 * bmap.latency(2e6):.1f} ms")
# [doc:partition]

assert 0 <= cut < len(front_delay)
assert abs(bmap.latency(2e6) - plan.latency) <= 1e-9 * plan.latency
