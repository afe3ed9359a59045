"""incision.exec from Python: example networks, split runs, layers against numpy, the codec, the
simulated link and the online loop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

ie = pytest.importorskip("incision.exec", reason="incision built without xtensor (no incision.exec)")
import incision as inc  # noqa: E402

NETS = ["resnet", "inception"]


def _input(net, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, net.input_shape).astype(np.float32)


def _modeled_profile(net, speedup=50.0):
    """Times proportional to MACs: deterministic, unlike a profile measured on this machine."""
    g = net.graph
    for v, macs in enumerate(g.macs):
        t = 1e-8 * float(macs)
        g.set_costs(v, t, t / speedup, g.out_bytes[v])
    return g


# ---- surface -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NETS)
def test_pinned_surface(name):
    net = ie.example_network(name, seed=0)
    assert net.input_shape == (1, 3, 32, 32)
    g = net.graph
    assert isinstance(g, inc.LayerGraph)
    assert len(g) == len(net) == (25 if name == "resnet" else 37)
    assert g.inputs == [0]
    y = net.run(_input(net))
    assert y.dtype == np.float32 and y.shape == (1, 10)
    assert np.isclose(y.sum(), 1.0, atol=1e-5)  # softmax output
    # same seed, same weights; another seed, others
    assert np.array_equal(ie.example_network(name, seed=0).run(_input(net)), y)
    assert not np.array_equal(ie.example_network(name, seed=1).run(_input(net)), y)


def test_unknown_network_is_a_value_error():
    with pytest.raises(ValueError, match="unknown example network 'vgg'"):
        ie.example_network("vgg")


# ---- split runs equal the unsplit run ----------------------------------------------------------


@pytest.mark.parametrize("name", NETS)
def test_run_split_equals_run_for_every_plan_of_a_bandwidth_map_sweep(name):
    net = ie.example_network(name, seed=3)
    x = _input(net, 7)
    whole = net.run(x)
    # random costs (several seeds) so the maps hold many cuts, multi-tensor DAG cuts among them
    rng = np.random.default_rng(0)
    g = net.graph
    plans = []
    for _ in range(6):
        for v in range(len(g)):
            t = float(rng.uniform(1e-4, 1e-2))
            g.set_costs(v, t, t / float(rng.uniform(1, 20)), float(rng.uniform(1e2, 1e5)))
        bmap = inc.BandwidthMap(g, 1e2, 1e10)
        plans += list(bmap.plans) + [inc.dsl(g, bandwidth=b) for b in np.geomspace(1e2, 1e10, 9)]
    seen = set()
    for p in plans:
        seen.add(tuple(p.device_layers))
        assert np.array_equal(net.run_split(p, x), whole)  # same kernels both sides: bit for bit
        assert np.array_equal(net.run_split(list(p.device_layers), x), whole)
    assert len(seen) >= 6, len(seen)  # the sweep visits real cuts, not only the two trivial ones
    # every chain cut too, and the device part and server part called apart
    for d in ie.chain_candidates(g):
        assert np.array_equal(net.run_split(d, x), whole)
        assert np.array_equal(net.run_server(d, net.run_device(d, x)), whole)


@pytest.mark.parametrize("name", NETS)
def test_every_branch_tensor_crosses_a_dag_cut(name):
    # the device set {input, stem conv} plus one branch: several tensors cross on a DAG
    net = ie.example_network(name)
    g = net.graph
    x = _input(net)
    cand = [d for d in ie.chain_candidates(g)]
    multi = 0
    for d in cand:
        shipped = ie.decode_tensors(net.run_device(d, x))
        on = set(d)
        expect = {v for v in d if any(w not in on for w in g.successors(v)) or not g.successors(v)}
        assert set(shipped) == expect
        multi += len(shipped) > 1
    assert multi > 0


# ---- layers against naive numpy on the same weights ----------------------------------------------


def _conv_ref(x, w, b, stride, pad, groups):
    n, c, h, wd = x.shape
    k_out, cg, k, _ = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - k) // stride + 1
    wo = (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, k_out, ho, wo))
    kg = k_out // groups
    for grp in range(groups):
        wg = w[grp * kg : (grp + 1) * kg].astype(np.float64)
        for oy in range(ho):
            for ox in range(wo):
                patch = xp[:, grp * cg : (grp + 1) * cg, oy * stride : oy * stride + k, ox * stride : ox * stride + k]
                y[:, grp * kg : (grp + 1) * kg, oy, ox] = np.tensordot(patch, wg, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        # as the kernel reads it (see test_batch_norm_folding_keeps_a_bias_per_channel)
        y += np.broadcast_to(b.astype(np.float64), (k_out,))[None, :, None, None]
    return y


def _pool_ref(x, k, stride, pad, kind):
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    y = np.empty((n, c, ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            win = xp[:, :, oy * stride : oy * stride + k, ox * stride : ox * stride + k]
            y[:, :, oy, ox] = win.max(axis=(2, 3)) if kind == "max" else win.sum(axis=(2, 3)) / (k * k)
    return y


@pytest.mark.parametrize("name", NETS)
def test_every_layer_matches_a_numpy_reference(name):
    net = ie.example_network(name, seed=5)
    x = _input(net, 11)
    outs = net.layer_outputs(x)
    assert len(outs) == len(net)
    assert np.array_equal(outs[0], x)
    kinds = set()
    for v in range(1, len(net)):
        L = net.layer(v)
        ins = [outs[u] for u in L["inputs"]]
        a = ins[0].astype(np.float64)
        kind = L["kind"]
        kinds.add(kind)
        if kind == "conv2d":
            ref = _conv_ref(ins[0], L["weight"], L["bias"], L["stride"], L["padding"], L["groups"])
        elif kind == "linear":
            ref = a @ L["weight"].astype(np.float64).T + (0 if L["bias"] is None else L["bias"])
        elif kind == "relu":
            ref = np.maximum(a, 0.0)
        elif kind in ("max_pool", "avg_pool"):
            ref = _pool_ref(ins[0], L["kernel"], L["stride"], L["padding"], kind[:3])
        elif kind == "global_avg_pool":
            ref = a.mean(axis=(2, 3), keepdims=True)
        elif kind == "flatten":
            ref = a.reshape(a.shape[0], -1)
        elif kind == "add":
            ref = a + ins[1]
        elif kind == "concat":
            ref = np.concatenate(ins, axis=1)
        elif kind == "softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            ref = e / e.sum(axis=1, keepdims=True)
        else:
            pytest.fail(f"unexpected layer kind {kind}")
        got = outs[v]
        assert got.shape == tuple(L["out_shape"]) == ref.shape, L["name"]
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5 * scale, err_msg=L["name"])
    expected = {"conv2d", "relu", "max_pool", "global_avg_pool", "flatten", "linear", "softmax"}
    expected |= {"add"} if name == "resnet" else {"concat", "avg_pool"}
    assert expected <= kinds


@pytest.mark.parametrize("name", NETS)
def test_batch_norm_folding_keeps_a_bias_per_channel(name):
    # independent of the folded weights: conv with the raw weights, then batch norm
    net = ie.example_network(name, seed=2)
    outs = net.layer_outputs(_input(net, 4))
    for v in range(len(net)):
        L = net.layer(v)
        if "batch_norm" not in L:
            continue
        bn = L["batch_norm"]
        raw_b = bn["raw_bias"] if bn["raw_bias"].size else None  # empty: the conv has no bias
        ref = _conv_ref(outs[L["inputs"][0]], bn["raw_weight"], raw_b, L["stride"], L["padding"], L["groups"])
        s = (bn["gamma"] / np.sqrt(bn["var"].astype(np.float64) + bn["eps"]))[None, :, None, None]
        ref = (ref - bn["mean"][None, :, None, None]) * s + bn["beta"][None, :, None, None]
        assert L["bias"].shape == (L["out_shape"][1],), L["name"]
        np.testing.assert_allclose(outs[v], ref, rtol=0, atol=1e-4 * max(1.0, float(np.abs(ref).max())))


def test_grouped_and_strided_convolutions_are_covered():
    geo = set()
    for name in NETS:
        net = ie.example_network(name)
        for v in range(len(net)):
            L = net.layer(v)
            if L["kind"] == "conv2d":
                geo.add((L["kernel"], L["stride"], L["groups"] > 1))
    assert (3, 2, False) in geo and (1, 2, False) in geo  # strided 3x3 and projection
    assert any(g[2] for g in geo)  # depthwise
    assert (5, 1, False) in geo


def test_weights_are_read_only_views_that_keep_the_network_alive():
    net = ie.example_network("resnet")
    w = net.layer(1)["weight"]
    assert w.dtype == np.float32 and not w.flags.writeable
    with pytest.raises(ValueError):
        w[0, 0, 0, 0] = 1.0
    before = w.copy()
    del net
    assert np.array_equal(w, before)
    assert ie.example_network("resnet").layer(0)["kind"] == "input"


# ---- bad inputs ---------------------------------------------------------------------------------


def test_bad_inputs_raise_value_errors_naming_the_problem():
    net = ie.example_network("resnet")
    x = _input(net)
    with pytest.raises(ValueError, match="float32"):
        net.run(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"\(1, 3, 32, 31\).*\(1, 3, 32, 32\)"):
        net.run(np.zeros((1, 3, 32, 31), np.float32))
    with pytest.raises(ValueError, match="input layer must be on the device"):
        net.run_split([1, 2], x)
    with pytest.raises(ValueError, match="but its input"):
        net.run_split([0, 2], x)
    with pytest.raises(ValueError, match="ascending"):
        net.run_split([1, 0], x)
    with pytest.raises(ValueError, match="names layer 99"):
        net.run_split([0, 99], x)
    with pytest.raises(ValueError, match="sequence of"):
        net.run_split("0,1", x)
    with pytest.raises(ValueError, match="sequence of"):
        net.run_split([0, -1], x)
    with pytest.raises(IndexError):
        net.layer(99)
    # non-contiguous float32 is fine (copied), and the network still works after every error
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert np.array_equal(net.run(xt), net.run(np.ascontiguousarray(xt)))


def test_run_server_rejects_corrupt_or_foreign_bytes():
    net = ie.example_network("inception")
    x = _input(net)
    d = ie.chain_candidates(net.graph)[4]
    data = net.run_device(d, x)
    with pytest.raises(ValueError, match="checksum"):
        net.run_server(d, data[:40] + bytes([data[40] ^ 1]) + data[41:])
    with pytest.raises(ValueError, match="truncated"):
        net.run_server(d, data[:-9])
    with pytest.raises(ValueError, match="lacks the tensor"):
        net.run_server(ie.chain_candidates(net.graph)[6], data)
    with pytest.raises(ValueError, match="kind 300, expected 301"):
        net.run_server(d, ie.encode_tensor(x))
    assert np.array_equal(net.run_server(d, data), net.run(x))


# ---- tensor codec --------------------------------------------------------------------------------


def test_codec_round_trips_and_rejects_every_truncation_and_bit_flip():
    rng = np.random.default_rng(1)
    for shape in [(), (0,), (5,), (2, 3, 4), (1, 1, 1, 1, 1)]:
        t = rng.standard_normal(shape).astype(np.float32)
        back = ie.decode_tensor(ie.encode_tensor(t))
        assert back.dtype == np.float32 and back.shape == t.shape and np.array_equal(back, t)
    t = rng.standard_normal((2, 3)).astype(np.float32)
    data = ie.encode_tensor(t)
    assert data[:4] == b"INCS" and len(data) == 4 + 2 + 2 + 8 + (8 + 8 * 2 + 4 * 6) + 4
    for n in range(len(data)):
        with pytest.raises(ValueError):
            ie.decode_tensor(data[:n])
    for i in range(len(data)):
        for bit in (0, 7):
            bad = bytearray(data)
            bad[i] ^= 1 << bit
            with pytest.raises(ValueError):
                ie.decode_tensor(bytes(bad))
    named = {3: t, 7: rng.standard_normal((4,)).astype(np.float32)}
    back = ie.decode_tensors(ie.encode_tensors(named))
    assert sorted(back) == [3, 7] and all(np.array_equal(back[k], named[k]) for k in named)


# ---- profile --------------------------------------------------------------------------------------


def test_profile_fills_times_and_bytes_and_feeds_the_partitioners():
    net = ie.example_network("resnet")
    g = net.profile(repeats=1, warmup=0, server_speedup=4.0)
    dev, srv = g.device_times, g.server_times
    assert np.all(dev >= 0) and dev.sum() > 0
    np.testing.assert_allclose(srv, dev / 4.0)
    assert np.array_equal(g.out_bytes, net.graph.out_bytes)
    assert g.out_bytes[0] == 4 * 3 * 32 * 32
    plan = inc.dsl(g, bandwidth=1e6)
    x = _input(net)
    assert np.array_equal(net.run_split(plan, x), net.run(x))
    with pytest.raises(ValueError, match="server_speedup"):
        net.profile(server_speedup=0.0)
    with pytest.raises(ValueError, match="repeats"):
        net.profile(repeats=0)


# ---- link and trace ------------------------------------------------------------------------------------


def test_trace_from_arrays_and_csv_and_link_delivery_times(tmp_path):
    tr = ie.BandwidthTrace([0.0, 1.0], [1000.0, 500.0], latency=[0.01, 0.02])
    assert len(tr) == 2 and np.array_equal(tr.bandwidth, [1000.0, 500.0])
    link = ie.SimLink(tr)
    assert link.send(0.0, 500) == pytest.approx(0.51)  # 0.5 s on the wire + 10 ms
    # queued behind the first message; crosses the rate change at t=1: 500 B at 1000 B/s, rest at 500 B/s
    assert link.send(0.0, 600) == pytest.approx(1.0 + 100 / 500 + 0.01)
    assert link.busy_until == pytest.approx(1.2)
    link.reset()
    assert link.busy_until == 0.0
    path = tmp_path / "trace.csv"
    path.write_text("# uplink\ntime,bandwidth,latency\n0,1000,0.01\n1,500,0.02\n")
    for other in (ie.BandwidthTrace.from_csv(path), ie.BandwidthTrace.parse_csv(path.read_text())):
        assert np.array_equal(other.time, tr.time) and np.array_equal(other.latency, tr.latency)
    assert ie.SimLink(str(path)).send(0.0, 500) == pytest.approx(0.51)
    with pytest.raises(ValueError, match="trace.csv:3"):
        path.write_text("time,bandwidth\n0,1000\n1,abc\n")
        ie.BandwidthTrace.from_csv(path)
    with pytest.raises(OSError):
        ie.BandwidthTrace.from_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="bandwidth has 1 values, time has 2"):
        ie.BandwidthTrace([0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="increase"):
        ie.BandwidthTrace([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        ie.BandwidthTrace([0.0], [-1.0])


# ---- the online loop ---------------------------------------------------------------------------------


class FixedLearner:
    """Always the same arm; records what the loop feeds back."""

    def __init__(self, arm):
        self.arm = arm
        self.updates = []
        self.keys = []

    def select(self, key_frame):
        self.keys.append(key_frame)
        return self.arm

    def update(self, arm, delay):
        self.updates.append((arm, delay))


def _loop_setup(name="inception"):
    net = ie.example_network(name, seed=1)
    g = _modeled_profile(net)
    bmap = inc.BandwidthMap(g, 1e3, 1e9)
    return net, g, bmap


def test_loop_records_and_deadline_fallback_without_a_server():
    net, g, bmap = _loop_setup()
    cands = ie.map_candidates(bmap)
    arm = 0  # highest-bandwidth plan: offloads
    assert len(cands[arm]) < len(net)
    learner = FixedLearner(arm)
    link = ie.SimLink(ie.BandwidthTrace.constant(1e8, latency=1e-3))
    loop = ie.OnlineLoop(net, learner, link, bmap, g, timing="modeled", deadline=0.5, key_frame_every=3)
    r = loop.run(6)
    assert set(r) >= {"arm", "device_time", "transfer_time", "server_time", "fallback", "latency", "output_error"}
    assert r["arm"].shape == (6,) and r["fallback"].dtype == np.bool_
    assert np.all(r["offloaded"]) and not np.any(r["fallback"])
    assert np.all(r["output_error"] == 0.0)
    assert learner.keys == [True, False, False, True, False, False]
    np.testing.assert_allclose([d for _, d in learner.updates], r["latency"] - r["device_time"])
    # modeled: latency = device + transfer + server
    np.testing.assert_allclose(r["latency"], r["device_time"] + r["transfer_time"] + r["server_time"])
    loop.server_available = False
    r = loop.run(4)
    assert np.all(r["fallback"]) and np.all(r["output_error"] == 0.0)
    np.testing.assert_allclose(r["latency"], 0.5 + r["fallback_time"])
    loop.server_available = True
    r = loop.run(2)
    assert not np.any(r["fallback"]) and loop.frames == 12
    # a dead link: every frame still completes with the unsplit output
    dead = ie.OnlineLoop(net, FixedLearner(arm), ie.SimLink(ie.BandwidthTrace.constant(0.0)), bmap, g,
                         timing="modeled", deadline=0.2)
    r = dead.run(3)
    assert np.all(r["fallback"]) and np.all(np.isinf(r["transfer_time"])) and np.all(r["output_error"] == 0.0)


def test_mulinucb_follows_the_oracle_across_a_bandwidth_switch():
    net, g, bmap = _loop_setup()
    cands = ie.map_candidates(bmap)
    contexts, front = ie.make_arms(g, cands)
    assert contexts.shape == (len(cands), 3) and front.shape == (len(cands),)
    learner = inc.MuLinUCB(contexts, front, alpha=1e-3, window=60)
    levels = [5e7, 2e4, 5e7]
    link = ie.SimLink(ie.BandwidthTrace([0.0, 20.0, 40.0], levels))
    loop = ie.OnlineLoop(net, learner, link, cands, g, timing="modeled", frame_interval=0.05, deadline=5.0)
    r = loop.run(1200)
    assert np.all(r["output_error"] == 0.0)
    oracle = [min(range(len(cands)), key=lambda a: inc.evaluate(g, cands[a], b).latency) for b in levels]
    assert oracle[0] != oracle[1]  # the switch moves the optimal cut
    seg = np.searchsorted([20.0, 40.0], r["start"], side="right")
    for s, b in enumerate(levels):
        tail = r["arm"][seg == s][-60:]
        best = inc.evaluate(g, cands[oracle[s]], b).latency
        chosen = np.median([inc.evaluate(g, cands[a], b).latency for a in tail])
        assert chosen <= 1.25 * best, (s, np.bincount(tail), oracle[s])


def test_linucb_cut_learner_runs_in_the_loop():
    net, g, bmap = _loop_setup("resnet")
    cands = ie.chain_candidates(g)
    contexts, front = ie.make_arms(g, cands)
    learner = ie.LinUCBCutLearner(contexts, front, alpha=0.1)
    loop = ie.OnlineLoop(net, learner, ie.SimLink(ie.BandwidthTrace.constant(1e7)), "chain", g, timing="modeled")
    r = loop.run(100)
    assert np.all(r["output_error"] == 0.0)
    assert learner.policy.n_updates == 100
    b = 1e7
    best = min(inc.evaluate(g, c, b).latency for c in cands)
    assert np.median(r["latency"][-20:]) <= 1.5 * best + 1e-3


def test_loop_rejects_bad_learners_and_options():
    net, g, bmap = _loop_setup()
    link = ie.SimLink(ie.BandwidthTrace.constant(1e6))
    with pytest.raises(ValueError, match="select"):
        ie.OnlineLoop(net, object(), link, bmap, g)
    with pytest.raises(ValueError, match="arms"):
        ie.OnlineLoop(net, inc.MuLinUCB(np.ones((len(bmap) + 1, 3)), np.ones(len(bmap) + 1)), link, bmap, g)
    with pytest.raises(ValueError, match="needs a profile"):
        ie.OnlineLoop(net, FixedLearner(0), link, bmap, timing="modeled")
    with pytest.raises(ValueError, match="timing"):
        ie.OnlineLoop(net, FixedLearner(0), link, bmap, g, timing="fast")
    with pytest.raises(ValueError, match="deadline"):
        ie.OnlineLoop(net, FixedLearner(0), link, bmap, g, deadline=0.0)
    with pytest.raises(ValueError, match="names layer"):
        ie.OnlineLoop(net, FixedLearner(0), link, [[0, 500]], g)
    with pytest.raises(ValueError, match="'chain'"):
        ie.OnlineLoop(net, FixedLearner(0), link, "dag", g)
    loop = ie.OnlineLoop(net, FixedLearner(len(bmap)), link, bmap, g, timing="modeled")
    with pytest.raises(IndexError, match="arm"):
        loop.run(1)
    loop = ie.OnlineLoop(net, FixedLearner(-1), link, bmap, g, timing="modeled")
    with pytest.raises(IndexError, match="arm"):
        loop.run(1)
    with pytest.raises(ValueError, match="float32"):
        ie.OnlineLoop(net, FixedLearner(0), link, bmap, g).run(1, np.zeros(net.input_shape))


def test_loop_refuses_reentry_from_its_learner():
    net, g, bmap = _loop_setup()
    link = ie.SimLink(ie.BandwidthTrace.constant(1e6))

    class Reentrant(FixedLearner):
        loop = None

        def select(self, key_frame):
            return self.loop.run(1)

    learner = Reentrant(0)
    learner.loop = ie.OnlineLoop(net, learner, link, bmap, g, timing="modeled")
    with pytest.raises(RuntimeError, match="from its own learner"):
        learner.loop.run(1)
    # the learner may use the network itself (it is not locked across learner calls)

    class UsesNet(FixedLearner):
        def select(self, key_frame):
            net.run(_input(net))
            return 0

    assert ie.OnlineLoop(net, UsesNet(0), link, bmap, g, timing="modeled").run(2)["arm"].tolist() == [0, 0]


def test_threads_share_a_network():
    net = ie.example_network("resnet")
    x = _input(net)
    whole = net.run(x)
    cands = ie.chain_candidates(net.graph)
    bad = []

    def work(k):
        for i in range(10):
            d = cands[(k * 7 + i) % len(cands)]
            if not np.array_equal(net.run_split(d, x), whole):
                bad.append((k, i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
