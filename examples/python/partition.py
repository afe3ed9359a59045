"""Computing cuts from profiles in Python: DSL, DSH, the DADS controller, the bandwidth map, the
chain scan (docs/partition.md includes the marked regions).

Checked against an independent computation: a brute force over every feasible device set of the
small graph, priced here with the latency model of docs/partition.md.
"""

import itertools
import math

import incision as inc

# [doc:build]
# A small branching network; seconds, bytes, bytes/second. A layer without predecessors is an
# input: it is produced on the device and stays there.
g = inc.LayerGraph()
x = g.add_layer("input", device_time=0.0, server_time=0.0, out_bytes=602112)  # -> 0
conv = g.add_layer("conv1", device_time=0.300, server_time=0.003, out_bytes=3211264, type="conv", macs=118013952)
left = g.add_layer("branch_a", device_time=0.400, server_time=0.004, out_bytes=20000)
right = g.add_layer("branch_b", device_time=0.100, server_time=0.001, out_bytes=10000)
fc = g.add_layer("concat_fc", device_time=0.300, server_time=0.001, out_bytes=4000, type="fc")
for u, v in [(x, conv), (conv, left), (conv, right), (left, fc), (right, fc)]:
    g.add_edge(u, v)
plan = inc.dsl(g, bandwidth=0.7e6, rtt=0.02)  # latency-optimal: one minimum cut
print(f"device {plan.device_layers}, shipped {plan.shipped_layers}, {1e3 * plan.latency:.1f} ms")
# [doc:build]


def brute_force_latency(g, bandwidth, rtt):
    """The best latency over every predecessor-closed device set holding the inputs."""
    n = g.num_layers
    preds = [g.predecessors(v) for v in range(n)]
    succs = [g.successors(v) for v in range(n)]
    dev, srv, size = g.device_times, g.server_times, g.out_bytes
    best = math.inf
    for on_device in itertools.product([False, True], repeat=n):
        if any(not on_device[v] for v in range(n) if not preds[v]):
            continue  # an input left the device
        if any(on_device[v] and not all(on_device[u] for u in preds[v]) for v in range(n)):
            continue  # data would travel back from the server
        shipped = [v for v in range(n) if on_device[v] and any(not on_device[s] for s in succs[v])]
        latency = (
            sum(dev[v] for v in range(n) if on_device[v])
            + sum(size[v] for v in shipped) / bandwidth
            + sum(srv[v] for v in range(n) if not on_device[v])
            + (rtt if not all(on_device) else 0.0)
        )
        best = min(best, latency)
    return best


for bandwidth in [0.13e6 / 8, 1.1e6 / 8, 0.7e6, 5.85e6 / 8, 18.88e6 / 8, 1e9]:
    for rtt in [0.0, 0.02]:
        got = inc.dsl(g, bandwidth=bandwidth, rtt=rtt).latency
        want = brute_force_latency(g, bandwidth, rtt)
        assert abs(got - want) <= 1e-12 * want, (bandwidth, rtt, got, want)

# [doc:profile]
# A profiled graph: ResNet-50's 604 operators from msr-fiddle (milliseconds read as seconds
# x 1e-3; edge sizes from a 2^31 B/s link rate: see msr_options).
g = inc.LayerGraph.from_msr_json(inc.data.path("msr-fiddle/op_resnet50_inference.json"))
plan = inc.dsl(g, bandwidth=12.5e6)  # plan.latency, .device_layers, .shipped_layers, .on_device
fast = inc.dsh(g, bandwidth=12.5e6)  # throughput: the smallest largest pipeline stage, fast.max_stage
d = inc.dads(g, bandwidth=12.5e6, rate=10.0)  # d.plan: DSL, or DSH under heavy load; d.decrease_rate
m = inc.BandwidthMap(g, min_bandwidth=1e5, max_bandwidth=1e10)  # every optimal plan over the range
print(f"{len(m.plans)} plans, breakpoints {[round(b) for b in m.breakpoints]} B/s; at 2 MB/s {m.latency(2e6):.3f} s")
priced = inc.evaluate(g, plan.device_layers, bandwidth=12.5e6)  # any feasible device set
# [doc:profile]

assert priced.latency == plan.latency and priced.device_layers == plan.device_layers
assert d.plan.latency == (fast.latency if d.heavy_load else plan.latency)
for bandwidth in [1e5, 3e5, 2e6, 1.25e7, 1e8, 1e10]:
    direct = inc.dsl(g, bandwidth=bandwidth).latency
    assert abs(m.latency(bandwidth) - direct) <= 1e-9 * direct, bandwidth

# [doc:chain]
# A chain (each layer feeds the next) is cut by the Neurosurgeon scan over its prefixes.
chain = inc.LayerGraph()
sizes = [150528, 802816, 401408, 200704, 4096, 4000]
for i, size in enumerate(sizes):
    chain.add_layer(f"layer{i}", device_time=0.02 * (i > 0), server_time=0.002 * (i > 0), out_bytes=size)
    if i:
        chain.add_edge(i - 1, i)
scan = inc.chain_scan(chain, bandwidth=1e6)  # scan.device_layers is a prefix
# [doc:chain]

assert chain.is_chain() and scan.device_layers == list(range(len(scan.device_layers)))
assert abs(scan.latency - brute_force_latency(chain, 1e6, 0.0)) <= 1e-12 * scan.latency
assert abs(scan.latency - inc.dsl(chain, bandwidth=1e6).latency) <= 1e-12 * scan.latency
