"""numpy habits: any array-like into the learners, paths as str or pathlib.Path, pickle and ==
for LayerGraph / Plan / BandwidthMap, BandwidthMap.latency over arrays.

Property tests draw their inputs from seeded numpy generators (no hypothesis): the oracle is
always a second, independent route to the same answer (the float64 C-ordered input, a scalar
loop, the original object).

Converted input is equal up to rounding, not always bit for bit: Eigen's SIMD loops group sums by
the alignment of the data, and a converted copy may be aligned differently from the caller's array.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import incision as inc

SEEDS = range(8)


def layouts(a: np.ndarray):
    """The same values as a list, float32-exact, Fortran order, a strided view and ints where exact."""
    a = np.asarray(a, dtype=np.float64)
    yield "list", a.tolist()
    yield "float32", a.astype(np.float32)  # inputs below are float32-exact, so the values match
    yield "fortran", np.asfortranarray(a)
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],)) if a.ndim else np.zeros(2)
    wide[..., ::2] = a
    yield "strided", wide[..., ::2]
    yield "negative strides", np.ascontiguousarray(a[::-1])[::-1]


def f32_exact(rng, *shape):
    return rng.normal(size=shape).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("seed", SEEDS)
def test_linucb_takes_any_array_like_and_learns_the_same(seed):
    rng = np.random.default_rng(seed)
    d, k, frames = int(rng.integers(1, 6)), int(rng.integers(1, 6)), 30
    contexts = f32_exact(rng, frames, k, d)
    rewards = f32_exact(rng, frames, k)
    ref = inc.LinUCB(dim=d)
    ref_arms = []
    for t in range(frames):
        a = ref.select(contexts[t])
        ref_arms.append(a)
        ref.update(contexts[t][a], float(rewards[t, a]))
    for name, _ in layouts(contexts[0]):
        pol = inc.LinUCB(dim=d)
        for t in range(frames):
            X = dict(layouts(contexts[t]))[name]
            assert pol.select(X) == ref_arms[t], name
            # equal up to rounding: Eigen's SIMD sums may group differently for a converted copy's alignment
            np.testing.assert_allclose(pol.scores(X), inc.LinUCB.restore(pol.snapshot()).scores(contexts[t]),
                                       rtol=1e-12, atol=1e-15)
            pol.update(dict(layouts(contexts[t][ref_arms[t]]))[name], float(rewards[t, ref_arms[t]]))
        assert pol.snapshot() == ref.snapshot(), name
    # run(): the whole stream in any layout gives the same arms and state
    batch = inc.LinUCB(dim=d)
    np.testing.assert_array_equal(batch.run(contexts, rewards), ref_arms)
    for name, X in layouts(contexts):
        R = dict(layouts(rewards))[name]
        other = inc.LinUCB(dim=d)
        np.testing.assert_array_equal(other.run(X, R), ref_arms, err_msg=name)
        assert other.snapshot() == batch.snapshot(), name


@pytest.mark.parametrize("seed", SEEDS)
def test_disjoint_linucb_takes_any_array_like(seed):
    rng = np.random.default_rng(100 + seed)
    d, n, frames = int(rng.integers(1, 6)), int(rng.integers(1, 5)), 25
    contexts = f32_exact(rng, frames, d)
    rewards = f32_exact(rng, frames, n)
    ref = inc.DisjointLinUCB(n, d)
    ref_arms = ref.run(contexts, rewards)
    for name, X in layouts(contexts):
        pol = inc.DisjointLinUCB(n, d)
        np.testing.assert_array_equal(pol.run(X, dict(layouts(rewards))[name]), ref_arms, err_msg=name)
        assert pol.snapshot() == ref.snapshot(), name
        step = inc.DisjointLinUCB(n, d)
        for t in range(frames):
            x = dict(layouts(contexts[t]))[name]
            a = step.select(x)
            assert a == ref_arms[t], name
            assert len(step.scores(x)) == n
            step.update(a, x, float(rewards[t, a]))
        assert step.snapshot() == ref.snapshot(), name


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_mulinucb_run_takes_any_array_like(seed, data_dir):
    contexts, front = inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")
    rng = np.random.default_rng(200 + seed)
    delays = np.abs(f32_exact(rng, 40, len(front)))
    keys = rng.choice([0.2, 0.8], size=40)
    ref = inc.MuLinUCB(contexts, front)
    ref_arms, ref_summary = ref.run(delays, keys)
    for name, D in layouts(delays):
        pol = inc.MuLinUCB(dict(layouts(contexts))["list"], front.tolist())
        arms, summary = pol.run(D, dict(layouts(keys))[name])
        np.testing.assert_array_equal(arms, ref_arms, err_msg=name)
        assert summary == ref_summary and pol.snapshot() == ref.snapshot(), name


def test_not_numbers_raise_type_error_and_change_nothing():
    pol = inc.LinUCB(dim=2)
    pol.update([1.0, 2.0], 0.5)
    before = pol.snapshot()
    for bad in ([["a", "b"]], None, object()):
        with pytest.raises(TypeError):
            pol.select(bad)
        with pytest.raises(TypeError):
            pol.update(bad, 1.0)
    with pytest.raises(ValueError, match="shape"):  # converted, then the shape check names the problem
        pol.select(np.ones((3, 5), dtype=np.float32))
    assert pol.snapshot() == before


# ---- paths ---------------------------------------------------------------------------------


def test_loaders_accept_str_and_pathlib(data_dir, tmp_path):
    msr = data_dir / "msr-fiddle" / "layer_resnet50_inference.json"
    g = inc.LayerGraph.from_msr_json(msr)
    assert g == inc.LayerGraph.from_msr_json(str(msr))
    out = tmp_path / "g.json"
    g.save_json(out)
    assert inc.LayerGraph.load_json(out) == g
    assert inc.LayerGraph.load_json(str(out)) == g
    table = data_dir / "ans" / "vgg16_arms.csv"
    for p in (table, str(table)):
        c, f = inc.load_arm_table(p)
        assert c.shape == (len(f), 7)
    pol = inc.LinUCB(dim=2)
    pol.save(tmp_path / "p.bin")
    assert inc.LinUCB.load(tmp_path / "p.bin").snapshot() == pol.snapshot()
    with pytest.raises(OSError, match="missing.json"):
        inc.LayerGraph.load_json(tmp_path / "missing.json")


# ---- pickle and == ---------------------------------------------------------------------------


def random_dag(rng, n: int) -> inc.LayerGraph:
    g = inc.LayerGraph()
    for v in range(n):
        g.add_layer(f"l{v}", *rng.random(3) * [1e-2, 1e-3, 1e6], type=str(rng.choice(["conv", "relu", ""])),
                    macs=float(rng.integers(0, 3)) * 1e6)
    for v in range(1, n):
        for u in rng.choice(v, size=min(v, int(rng.integers(1, 3))), replace=False):
            g.add_edge(int(u), v)
    return g


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_graph_pickles_exactly_and_compares(seed):
    rng = np.random.default_rng(300 + seed)
    g = random_dag(rng, int(rng.integers(1, 15)))
    for twin in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g), copy.copy(g)):
        assert twin == g and twin == g
        assert twin.edges == g.edges  # insertion order too, so the partitioners see the same graph
        np.testing.assert_array_equal(twin.device_times, g.device_times)
        assert twin.types == g.types and twin.names == g.names
        np.testing.assert_array_equal(twin.macs, g.macs)
        twin.set_costs(0, 1.0, 1.0, 1.0)
        assert twin != g  # a different object, not a view
    again = np.random.default_rng(300 + seed)
    other = random_dag(again, int(again.integers(1, 15)))
    assert other == g  # same construction, separately built
    other.set_metadata(0, "changed", 0.0)
    assert other != g
    assert g != "not a graph" and g != 3


def test_layer_graph_equality_ignores_edge_insertion_order():
    a, b = inc.LayerGraph(), inc.LayerGraph()
    for g in (a, b):
        for v in range(3):
            g.add_layer(f"l{v}", 1.0, 1.0, 1.0)
    a.add_edge(0, 1), a.add_edge(0, 2)
    b.add_edge(0, 2), b.add_edge(0, 1)
    assert a == b


@pytest.mark.parametrize("seed", SEEDS)
def test_plans_and_bandwidth_maps_pickle_exactly_and_compare(seed):
    rng = np.random.default_rng(400 + seed)
    g = random_dag(rng, int(rng.integers(2, 12)))
    plans = [inc.dsl(g, bandwidth=float(b), rtt=0.01) for b in 10.0 ** rng.uniform(4, 9, 3)]
    plans.append(inc.dsl(g, bandwidth=1e3, corrected=False))
    for p in plans:
        twin = pickle.loads(pickle.dumps(p))
        assert twin == p and isinstance(twin, inc.Plan)
        for field in ("status", "device_layers", "server_layers", "shipped_layers", "shipped_bytes", "device_time",
                      "upload_time", "server_time", "download_time", "rtt", "latency", "max_stage"):
            assert getattr(twin, field) == getattr(p, field), field
        np.testing.assert_array_equal(twin.on_device, p.on_device)
    slower = pickle.loads(pickle.dumps(g))
    slower.set_costs(0, g.device_times[0] + 1.0, g.server_times[0], g.out_bytes[0])  # layer 0: an input, on device
    assert inc.dsl(slower, bandwidth=1e6) != inc.dsl(g, bandwidth=1e6)  # device_time differs by 1 s
    m = inc.BandwidthMap(g, 1e3, float(10.0 ** rng.uniform(6, 10)), rtt=0.002,
                         download_bandwidth=None if seed % 2 else 1e8)
    twin = pickle.loads(pickle.dumps(m))
    assert twin == m and twin.breakpoints == m.breakpoints and len(twin) == len(m)
    assert twin.rtt == m.rtt and twin.download_bandwidth == m.download_bandwidth
    assert all(a == b for a, b in zip(twin.plans, m.plans))
    assert twin != inc.BandwidthMap(g, 2e3, m.max_bandwidth, rtt=0.002)
    assert m != "not a map"


def test_pickle_states_are_checked():
    p = inc.dsl(random_dag(np.random.default_rng(0), 4), bandwidth=1e6)
    state = p.__getstate__()
    for bad, exc in (
        (state[:5], ValueError),
        ((9,) + state[1:], ValueError),
        (state[:1] + ([0, 2, 1, 1],) + state[2:], ValueError),
        (state[:2] + ([99],) + state[3:], ValueError),
        (state[:5] + ("x",) + state[6:], TypeError),
    ):
        with pytest.raises(exc):
            inc.Plan.__new__(inc.Plan).__setstate__(bad)
    with pytest.raises(ValueError):
        inc.LayerGraph.__new__(inc.LayerGraph).__setstate__("{not json")


# ---- BandwidthMap.latency over arrays ----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_bandwidth_map_latency_is_vectorised(seed):
    rng = np.random.default_rng(500 + seed)
    g = random_dag(rng, int(rng.integers(2, 12)))
    m = inc.BandwidthMap(g, 1e3, 1e10)
    b = 10.0 ** rng.uniform(3, 10, size=(3, 5))
    want = np.array([[m.latency(float(x)) for x in row] for row in b])  # the scalar route
    got = m.latency(b)
    assert isinstance(got, np.ndarray) and got.shape == b.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(m.latency(b.T), want.T)  # Fortran-ordered view
    np.testing.assert_array_equal(m.latency(b[:, ::2]), want[:, ::2])  # strided view
    np.testing.assert_array_equal(m.latency(b.ravel().tolist()), want.ravel())  # a list
    np.testing.assert_array_equal(m.latency(b.astype(np.float32)),
                                  [[m.latency(float(x)) for x in row] for row in b.astype(np.float32)])
    assert m.latency(np.empty(0)).shape == (0,)
    assert isinstance(m.latency(1e6), float) and isinstance(m.latency(10**6), float)
    with pytest.raises(IndexError):
        m.latency(np.array([1e6, 1.0]))  # one bandwidth below the range
