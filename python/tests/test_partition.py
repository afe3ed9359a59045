"""incision.partition from Python: API, errors, and DSL against an independent max-flow (networkx)."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from reference import networkx_min_cut_value

import incision as inc

MSR_FILES = [
    "layer_bert24_inference.json",
    "layer_gnmt_inference.json",
    "layer_inceptionv3_inference.json",
    "layer_resnet50_inference.json",
    "op_bert_l-12_inference.json",
    "op_resnet50_inference.json",
]


@pytest.mark.parametrize("name", MSR_FILES)
@pytest.mark.parametrize("bandwidth", [1.25e6, 12.5e6, 1.25e9])
def test_dsl_cut_value_equals_networkx_max_flow(data_dir, name, bandwidth):
    g = inc.LayerGraph.from_msr_json(str(data_dir / "msr-fiddle" / name))
    plan = inc.dsl(g, bandwidth=bandwidth)
    want = networkx_min_cut_value(g, bandwidth)
    assert plan.latency == pytest.approx(want, rel=1e-9, abs=1e-12)
    # the plan's own numbers add up and it is feasible
    on = plan.on_device
    for v in range(len(g)):
        if on[v]:
            assert all(on[u] for u in g.predecessors(v))
    assert all(on[v] for v in g.inputs)
    assert plan.latency == pytest.approx(plan.device_time + plan.upload_time + plan.server_time)


def brute_force(g: inc.LayerGraph, bandwidth: float) -> float:
    n = len(g)
    best = math.inf
    for mask in itertools.product([True, False], repeat=n):
        if not all(mask[v] for v in g.inputs):
            continue
        if any(mask[v] and not all(mask[u] for u in g.predecessors(v)) for v in range(n)):
            continue
        dev = sum(g.device_times[v] for v in range(n) if mask[v])
        srv = sum(g.server_times[v] for v in range(n) if not mask[v])
        up = sum(
            g.out_bytes[v] / bandwidth
            for v in range(n)
            if mask[v] and any(not mask[w] for w in g.successors(v))
        )
        best = min(best, dev + srv + up)
    return best


def test_dsl_equals_python_brute_force_on_small_dags():
    rng = random.Random(4)
    for _ in range(150):
        n = rng.randint(1, 8)
        g = inc.LayerGraph()
        for k in range(n):
            g.add_layer(f"l{k}", device_time=rng.random(), server_time=rng.random(), out_bytes=rng.random() * 3)
        for i in range(n):
            for j in range(i + 1, n):
                if rng.random() < 0.35:
                    g.add_edge(i, j)
        plan = inc.dsl(g, bandwidth=1.5)
        assert plan.latency == pytest.approx(brute_force(g, 1.5), rel=1e-12)
        priced = inc.evaluate(g, plan.device_layers, bandwidth=1.5)
        assert priced.latency == pytest.approx(plan.latency, rel=1e-12)


def small_graph() -> inc.LayerGraph:
    g = inc.LayerGraph()
    a = g.add_layer("input", device_time=0.0, server_time=0.0, out_bytes=600_000)
    b = g.add_layer("conv1", device_time=0.02, server_time=0.002, out_bytes=3_200_000)
    c = g.add_layer("pool", device_time=0.005, server_time=0.0005, out_bytes=100_000)
    d = g.add_layer("fc", device_time=0.01, server_time=0.001, out_bytes=4_000)
    assert (a, b, c, d) == (0, 1, 2, 3)
    g.add_edge(a, b)
    g.add_edge(b, c)
    g.add_edge(c, d)
    return g


def test_pinned_api_and_plan_fields():
    g = small_graph()
    plan = inc.dsl(g, bandwidth=1e6)
    assert isinstance(plan, inc.Plan)
    assert plan.status == "ok"
    assert 0 in plan.device_layers
    assert sorted(plan.device_layers + plan.server_layers) == [0, 1, 2, 3]
    assert set(plan.shipped_layers) <= set(plan.device_layers)
    assert plan.on_device.dtype == np.bool_
    chain = inc.chain_scan(g, bandwidth=1e6)
    assert chain.latency == pytest.approx(plan.latency)
    h = inc.dsh(g, bandwidth=1e6)
    assert h.max_stage <= plan.max_stage + 1e-15
    d = inc.dads(g, bandwidth=1e6, rate=1.0)
    assert not d.heavy_load and d.plan.latency == pytest.approx(plan.latency)
    heavy = inc.dads(g, bandwidth=1e6, rate=1e6)
    assert heavy.heavy_load and heavy.decrease_rate
    with_rtt = inc.dsl(g, bandwidth=1e6, rtt=0.05)
    assert with_rtt.latency >= plan.latency
    assert "Plan(" in repr(plan)


def test_bandwidth_map_matches_dsl(data_dir):
    g = inc.LayerGraph.from_msr_json(str(data_dir / "msr-fiddle" / "layer_inceptionv3_inference.json"))
    m = inc.BandwidthMap(g, min_bandwidth=1e5, max_bandwidth=1e11)
    assert len(m) == len(m.plans) == len(m.breakpoints) + 1
    assert list(m.breakpoints) == sorted(m.breakpoints, reverse=True)
    rng = np.random.default_rng(0)
    for bw in np.exp(rng.uniform(np.log(1e5), np.log(1e11), 40)):
        direct = inc.dsl(g, bandwidth=bw).latency
        assert m.latency(bw) == pytest.approx(direct, rel=1e-9)
        assert inc.evaluate(g, m.plan(bw).device_layers, bandwidth=bw).latency == pytest.approx(direct, rel=1e-9)
    with pytest.raises(IndexError):
        m.index(1e3)


def test_uncorrected_construction_can_be_infeasible():
    g = inc.LayerGraph()
    g.add_layer("in", device_time=0.0, server_time=0.0, out_bytes=100.0)
    g.add_layer("x", device_time=10.0, server_time=1.0, out_bytes=100.0)
    g.add_layer("out", device_time=0.0, server_time=5.0, out_bytes=1.0)
    g.add_edge(0, 1)
    g.add_edge(1, 2)
    paper = inc.dsl(g, bandwidth=1.0, corrected=False)
    assert paper.status == "infeasible"
    assert inc.dsl(g, bandwidth=1.0).latency == pytest.approx(10.0)


def test_errors_are_value_and_index_errors(tmp_path):
    g = small_graph()
    with pytest.raises(ValueError, match="conv1"):
        g.add_edge(1, 1)
    with pytest.raises(ValueError, match="cycle"):
        g.add_edge(3, 0)
    with pytest.raises(ValueError, match="duplicate"):
        g.add_edge(0, 1)
    with pytest.raises(IndexError):
        g.add_edge(0, 99)
    with pytest.raises(ValueError, match="'bad'"):
        g.add_layer("bad", device_time=-1.0, server_time=0.0, out_bytes=0.0)
    with pytest.raises(ValueError, match="'nan'"):
        g.add_layer("nan", device_time=float("nan"), server_time=0.0, out_bytes=0.0)
    assert len(g) == 4 and g.num_edges == 3  # unchanged
    with pytest.raises(ValueError):
        inc.dsl(g, bandwidth=0.0)
    with pytest.raises(ValueError):
        inc.dsl(inc.LayerGraph(), bandwidth=1.0)
    with pytest.raises(ValueError, match="infeasible"):
        inc.evaluate(g, [1, 2, 3], bandwidth=1.0)
    with pytest.raises(ValueError, match="not a chain"):
        h = small_graph()
        h.add_edge(0, 2)
        inc.chain_scan(h, bandwidth=1.0)
    with pytest.raises(ValueError):
        inc.LayerGraph.from_json('{"format": "incision.layer_graph", "version": 1, "layers": [')
    with pytest.raises(OSError):
        inc.LayerGraph.load_json(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}], "edges": [{"sourceId": 0, "destId": 3, "cost": 1}]}'
    )
    with pytest.raises(ValueError, match="dangling"):
        inc.LayerGraph.from_msr_json(str(bad))


def test_json_round_trip(tmp_path, data_dir):
    g = inc.LayerGraph.from_msr_json(str(data_dir / "msr-fiddle" / "layer_gnmt_inference.json"))
    path = tmp_path / "g.json"
    g.save_json(str(path))
    back = inc.LayerGraph.load_json(str(path))
    assert back.to_json() == g.to_json()
    assert back.edges == g.edges
    np.testing.assert_array_equal(back.out_bytes, g.out_bytes)
    assert inc.dsl(back, bandwidth=1e7).latency == inc.dsl(g, bandwidth=1e7).latency


def test_layer_metadata(tmp_path):
    g = inc.LayerGraph()
    a = g.add_layer("input", 0.0, 0.0, 602112.0)
    b = g.add_layer("conv1", 0.3, 0.003, 3211264.0, type="conv", macs=118013952.0)
    g.add_edge(a, b)
    assert g.types == ["", "conv"]
    np.testing.assert_array_equal(g.macs, [0.0, 118013952.0])
    with pytest.raises(ValueError, match="macs"):
        g.add_layer("bad", 0.0, 0.0, 1.0, type="relu", macs=-1.0)
    with pytest.raises(ValueError, match="macs"):
        g.set_metadata(b, "conv", float("nan"))
    assert len(g) == 2 and g.types == ["", "conv"]
    g.set_metadata(a, "input", 0.0)
    path = tmp_path / "meta.json"
    g.save_json(str(path))
    back = inc.LayerGraph.load_json(str(path))
    assert back.types == ["input", "conv"]
    np.testing.assert_array_equal(back.macs, g.macs)
    assert back.to_json() == g.to_json()


def test_msr_unit_mapping(data_dir):
    g = inc.LayerGraph.from_msr_json(str(data_dir / "msr-fiddle" / "layer_resnet50_inference.json"))
    g2 = inc.LayerGraph.from_msr_json(
        str(data_dir / "msr-fiddle" / "layer_resnet50_inference.json"), time_scale=1.0, link_rate=1.0
    )
    np.testing.assert_allclose(g.device_times, g2.device_times * 1e-3)
    np.testing.assert_allclose(g.out_bytes, g2.out_bytes * 1e-3 * 2**31)
