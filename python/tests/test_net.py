"""incision.net from Python: the edge server in-process and as a subprocess, the device loop over TCP, and
Python objects as backends of the loop and the edge. Real loopback sockets, real processes, bounded time."""

import gc
import socket
import time

import numpy as np
import pytest

import incision as inc

ie = pytest.importorskip("incision.exec", reason="incision.exec needs xtensor in the build")
inet = pytest.importorskip("incision.net", reason="incision.net needs standalone Asio in the build")


def _modeled_profile(net, speedup=50.0):
    """Times proportional to MACs: deterministic, so two loops see the same delays."""
    g = net.graph
    for v, macs in enumerate(g.macs):
        t = 1e-8 * float(macs)
        g.set_costs(v, t, t / speedup, g.out_bytes[v])
    return g


class FixedLearner:
    def __init__(self, arm):
        self.arm = arm

    def select(self, key_frame):
        return self.arm

    def update(self, arm, delay):
        pass


class NetBackend:
    """A Python backend over an example network, independent of the C++ loop's own use of it: the device part
    from every layer's output, the server part from the network's serialised-cut entry point."""

    def __init__(self, net):
        self.net = net
        self.graph = net.graph
        self.input_shape = net.input_shape
        self.fingerprint = net.fingerprint
        self.calls = 0

    def run_device(self, device_layers, x):
        self.calls += 1
        on = set(device_layers)
        values = self.net.layer_outputs(x)
        crossing = [v for v in device_layers
                    if not self.graph.successors(v) or any(w not in on for w in self.graph.successors(v))]
        return {v: values[v] for v in crossing}

    def run_server(self, device_layers, cut):
        self.calls += 1
        return [self.net.run_server(device_layers, ie.encode_tensors(cut))]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the server in-process ------------------------------------------------------------------------


def test_edge_server_starts_on_a_free_port_stops_cleanly_and_frees_it():
    net = ie.example_network("resnet", seed=0)
    srv = inet.EdgeServer(net)
    assert srv.running and 0 < srv.port < 65536 and srv.fingerprint == net.fingerprint
    assert "running" in repr(srv)
    link = inet.TcpLink(srv.port, net)
    assert link.connect() and link.connected
    with pytest.raises(OSError, match="cannot listen"):
        inet.EdgeServer(net, port=srv.port)  # the port is taken
    srv.stop()
    srv.stop()  # idempotent
    assert not srv.running and "stopped" in repr(srv)
    assert srv.stats["open"] == 0
    assert not inet.TcpLink(srv.port, net).connect()
    # `with` stops it, and the port can be bound again at once
    with inet.EdgeServer(net, port=srv.port) as again:
        port = again.port
        assert port == srv.port and inet.TcpLink(port, net).connect()
    assert not again.running
    # garbage collection stops a server nobody stopped
    lost = inet.EdgeServer(net, port=port)
    del lost
    gc.collect()
    with inet.EdgeServer(net, port=port) as third:
        assert third.running


def test_edge_server_and_link_options_are_checked():
    net = ie.example_network("resnet", seed=0)
    with pytest.raises(ValueError, match="threads"):
        inet.EdgeServer(net, threads=0)
    with pytest.raises(ValueError, match="idle_timeout"):
        inet.EdgeServer(net, idle_timeout=0.0)
    with pytest.raises(ValueError, match="bad address"):
        inet.EdgeServer(net, address="not an address")
    with pytest.raises(ValueError, match="fingerprint"):
        inet.EdgeServer(object())  # not a backend at all: no fingerprint to present
    with pytest.raises(ValueError, match="has no 'run_server'"):
        inet.EdgeServer(type("Half", (), {"graph": net.graph, "run_device": None, "fingerprint": 1})())
    with pytest.raises(ValueError, match="port 0"):
        inet.TcpLink(0, net)
    with pytest.raises(ValueError, match="fingerprint"):
        inet.TcpLink(1234, -1)
    with pytest.raises(ValueError, match="backoff_max"):
        inet.TcpLink(1234, net, backoff_min=1.0, backoff_max=0.5)
    with pytest.raises(ValueError, match="model must be"):
        inet.edge_command("vgg")


def test_the_handshake_tells_two_models_apart():
    a, b = ie.example_network("resnet", seed=0), ie.example_network("resnet", seed=1)
    assert a.fingerprint == ie.example_network("resnet", seed=0).fingerprint
    assert a.fingerprint != b.fingerprint  # same graph, other weights
    assert a.fingerprint != ie.example_network("inception", seed=0).fingerprint
    with inet.EdgeServer(a) as srv:
        link = inet.TcpLink(srv.port, b)
        assert not link.connect()
        assert "another model" in link.last_error
        assert inet.TcpLink(srv.port, a.fingerprint).connect()  # the int itself names the model too


# ---- the device loop over TCP -------------------------------------------------------------------------


def _slow_device_profile(net):
    """A device far slower than the edge (milliseconds per frame), so the best cut stands clear of the loopback's
    wire time and its noise (deterministic: modeled from MACs)."""
    g = net.graph
    for v, macs in enumerate(g.macs):
        g.set_costs(v, 2e-4 + float(macs) * 2e-8, 1e-5 + float(macs) * 1e-10, g.out_bytes[v])
    return g


def test_the_loop_over_tcp_learns_the_cut_the_simulated_link_learns_at_the_same_rate():
    net = ie.example_network("resnet", seed=5)
    g = _slow_device_profile(net)
    # chain cuts at the block boundaries: the input, after each residual join, all on the device
    cands = [d for d in ie.chain_candidates(g) if len(d) in (1, len(g)) or len(g.successors(d[-1])) == 2]
    assert len(cands) >= 4
    x = np.random.default_rng(1).uniform(-1, 1, net.input_shape).astype(np.float32)
    # each candidate's modeled latency over a simulated link: device + shipped bytes / rate + latency + server
    rate, latency = 1e9, 1e-4
    per_arm = []
    for a in range(len(cands)):
        r = ie.OnlineLoop(net, FixedLearner(a), ie.SimLink(ie.BandwidthTrace.constant(rate, latency)), cands, g,
                          timing="modeled").run(1, x)
        per_arm.append((r["device_time"][0], r["server_time"][0], r["shipped_bytes"][0], r["offloaded"][0]))

    def modeled(rate, latency):
        return [dev + srv + (b / rate + latency if off else 0.0) for dev, srv, b, off in per_arm]

    oracle = int(np.argmin(modeled(rate, latency)))
    # loopback carries hundreds of MB/s to GB/s in 10 us to 1 ms: the best cut must lead over that whole range
    for r in (2e8, 1e9, 1e10):
        for lat in (1e-5, 1e-4, 1e-3):
            t = modeled(r, lat)
            assert all(t[a] > t[oracle] + 1e-3 for a in range(len(t)) if a != oracle)
    contexts, front = ie.make_arms(g, cands)
    opts = dict(timing="modeled", frame_interval=0.05, deadline=1.0)  # compute times modeled; TCP's wire time real
    l_sim = inc.MuLinUCB(contexts, front, alpha=0.01, window=60, initial_horizon=60)
    l_tcp = inc.MuLinUCB(contexts, front, alpha=0.01, window=60, initial_horizon=60)
    sim = ie.OnlineLoop(net, l_sim, ie.SimLink(ie.BandwidthTrace.constant(rate, latency)), cands, g, **opts)
    with inet.EdgeServer(net) as srv:
        link = inet.TcpLink(srv.port, net)
        tcp = ie.OnlineLoop(net, l_tcp, None, cands, g, edge=link, **opts)
        hits = {"sim": [], "tcp": []}
        recs = []
        for _ in range(160):  # frame by frame, to see which choices were forced samples
            for name, loop, learner in (("sim", sim, l_sim), ("tcp", tcp, l_tcp)):
                r = loop.run(1, x)
                if name == "tcp":
                    recs.append(r)
                if not learner.last_forced:
                    hits[name].append(r["arm"][0] == oracle)
        served = srv.stats["served"]
    r_tcp = {k: np.concatenate([r[k] for r in recs]) for k in recs[0]}
    assert np.all(r_tcp["output_error"] == 0.0) and not np.any(r_tcp["fallback"])
    np.testing.assert_array_equal(r_tcp["edge"], r_tcp["offloaded"])
    off = r_tcp["offloaded"]
    assert served == int(off.sum()) > 0 and link.stats["offloaded"] == served
    # the wire time is real: small on loopback, and the edge reported its compute time
    assert np.all(r_tcp["transfer_time"][off] < 0.5) and np.all(r_tcp["shipped_bytes"][off] > 0)
    assert np.all(r_tcp["edge_server_time"][off] > 0.0) and np.all(np.isnan(r_tcp["edge_server_time"][~off]))
    for name in ("sim", "tcp"):  # the end of the run: at least 90% of the unforced choices are the oracle's cut
        tail = hits[name][-60:]
        assert len(tail) > 30 and sum(tail) >= 0.9 * len(tail), (name, oracle, tail)


def _edge_kinds():
    kinds = [pytest.param(True, id="python -m incision edge")]
    exe = inet.find_edge_executable()
    kinds.append(pytest.param(False, id="incision-edge", marks=pytest.mark.skipif(
        exe is None, reason="incision-edge is not installed (on PATH)")))
    return kinds


@pytest.mark.parametrize("python", _edge_kinds())
def test_killing_the_edge_process_loses_no_frame_and_offloading_resumes_after_a_restart(python):
    net = ie.example_network("inception", seed=3)
    cands = ie.chain_candidates(net.graph)
    arm = len(cands) // 2
    with inet.EdgeProcess("inception", seed=3, python=python) as proc:
        assert proc.fingerprint == net.fingerprint
        link = inet.TcpLink(proc.port, net, deadline=5.0, backoff_min=0.01, backoff_max=0.05)
        loop = ie.OnlineLoop(net, FixedLearner(arm), None, cands, edge=link)
        r = loop.run(5)
        assert np.all(r["edge"]) and np.all(r["output_error"] == 0.0)
        proc.kill()  # mid-stream, as a crash
        r = loop.run(5)
        assert np.all(r["output_error"] == 0.0) and not np.any(r["edge"]) and np.all(r["fallback"])
        assert link.stats["late"] == 0  # nobody waited for the deadline: the closed stream was seen at once
        assert not link.connected
        proc.start()  # the same port
        frames = [r]
        t_end = time.monotonic() + 15.0
        while not frames[-1]["edge"][-1] and time.monotonic() < t_end:
            frames.append(loop.run(1))
            time.sleep(0.005)
        assert frames[-1]["edge"][-1], f"offloading did not resume: {link.last_error}"
        assert all(np.all(f["output_error"] == 0.0) for f in frames)
        assert link.stats["connects"] == 2 and loop.frames == 10 + len(frames) - 1
        assert proc.stop() == 0  # a graceful stop exits cleanly


def test_edge_process_reports_a_server_that_cannot_start():
    port = _free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        with pytest.raises(RuntimeError, match="did not start"):
            inet.EdgeProcess("resnet", port=port, python=True)


# ---- Python objects as backends ---------------------------------------------------------------------


def test_a_python_backend_runs_every_split_the_loop_and_the_edge_like_the_network():
    net = ie.example_network("resnet", seed=2)
    py = NetBackend(net)
    x = np.random.default_rng(0).uniform(-1, 1, net.input_shape).astype(np.float32)
    whole = net.run(x)
    cands = ie.chain_candidates(net.graph)
    for d in cands:
        np.testing.assert_array_equal(ie.run_split(py, d, x), whole)
    np.testing.assert_array_equal(ie.run(py, x), whole)
    g = _modeled_profile(net)
    bmap = inc.BandwidthMap(g, 1e3, 1e9)
    contexts, front = ie.make_arms(g, bmap)
    link = ie.SimLink(ie.BandwidthTrace([0.0, 5.0], [5e7, 2e4]))
    a = ie.OnlineLoop(net, inc.MuLinUCB(contexts, front, alpha=1e-3), link, bmap, g, timing="modeled",
                      frame_interval=0.05).run(200, x)
    link.reset()
    b = ie.OnlineLoop(py, inc.MuLinUCB(contexts, front, alpha=1e-3), link, bmap, g, timing="modeled",
                      frame_interval=0.05).run(200, x)
    np.testing.assert_array_equal(a["arm"], b["arm"])
    assert np.all(b["output_error"] == 0.0) and b["offloaded"].any()
    # the edge hosting a Python backend serves a device running the C++ network (not the same Network object: the
    # device holds its network's lock through a frame, as a device on another machine would hold its own)
    py = NetBackend(ie.example_network("resnet", seed=2))
    with inet.EdgeServer(py) as srv:
        assert srv.threads == 1 and srv.fingerprint == net.fingerprint
        calls = py.calls
        loop = ie.OnlineLoop(net, FixedLearner(len(cands) // 2), None, cands, edge=inet.TcpLink(srv.port, net))
        r = loop.run(5, x)
        assert np.all(r["edge"]) and np.all(r["output_error"] == 0.0)
        assert srv.stats["served"] == 5 and py.calls == calls + 5


class Faulty(NetBackend):
    """A backend that misbehaves in one chosen way."""

    def __init__(self, net, fault):
        super().__init__(net)
        self.fault = fault
        self.layer_shapes = [None] * len(net)
        for v, o in enumerate(net.layer_outputs(np.zeros(net.input_shape, np.float32))):
            self.layer_shapes[v] = o.shape

    def run_device(self, device_layers, x):
        cut = super().run_device(device_layers, x)
        v = max(cut)
        if self.fault == "raise":
            raise KeyError("no such weights")
        if self.fault == "shape":
            cut[v] = cut[v][..., :1]
        if self.fault == "dtype":
            cut[v] = cut[v].astype(np.float64)
        if self.fault == "count":
            return list(cut.values()) + [cut[v]]
        if self.fault == "type":
            return {k: c.tolist() for k, c in cut.items()}
        return cut

    def run_server(self, device_layers, cut):
        if self.fault == "server-raise":
            raise ValueError("the server part refuses")
        return super().run_server(device_layers, cut)


@pytest.mark.parametrize(("fault", "error", "match"), [
    ("raise", RuntimeError, r"Faulty\.run_device raised KeyError: 'no such weights'"),
    ("server-raise", ValueError, r"Faulty\.run_server raised ValueError: the server part refuses"),
    ("shape", ValueError, r"Faulty\.run_device: the tensor of layer \d+ '.*' has shape \(.*, 1\), expected"),
    ("dtype", ValueError, r"layer \d+ '.*' must be float32, got dtype float64"),
    ("count", ValueError, r"returned \d+ tensors, expected \d+"),
    ("type", ValueError, r"must be a float32 numpy array, got list"),
])
def test_a_misbehaving_python_backend_gives_a_clear_error_and_the_loop_stays_usable(fault, error, match):
    net = ie.example_network("resnet", seed=2)
    bad = Faulty(net, fault)
    x = np.zeros(net.input_shape, np.float32)
    d = ie.chain_candidates(net.graph)[5]
    with pytest.raises(error, match=match) as info:
        ie.run_split(bad, d, x)
    if fault.endswith("raise"):
        assert isinstance(info.value.__cause__, KeyError if fault == "raise" else ValueError)
    loop = ie.OnlineLoop(bad, FixedLearner(0), ie.SimLink(ie.BandwidthTrace.constant(1e6)), [d])
    with pytest.raises(error, match=match):
        loop.run(3, x)
    bad.fault = None
    r = loop.run(2, x)
    assert loop.frames == 2 and np.all(r["output_error"] == 0.0)


def test_a_python_backend_that_fails_on_the_edge_costs_a_frame_not_the_server():
    net = ie.example_network("resnet", seed=2)
    bad = Faulty(ie.example_network("resnet", seed=2), "server-raise")
    cands = ie.chain_candidates(net.graph)
    with inet.EdgeServer(bad) as srv:
        link = inet.TcpLink(srv.port, net)
        loop = ie.OnlineLoop(net, FixedLearner(len(cands) // 2), None, cands, edge=link)
        r = loop.run(4)
        assert np.all(r["output_error"] == 0.0) and not np.any(r["edge"])  # each frame completed on the device
        assert np.all(r["fallback"])
        assert srv.stats["failed"] == 4 and link.stats["refused"] == 4 and link.connected
        bad.fault = None
        r = loop.run(3)
        assert np.all(r["edge"]) and srv.stats["served"] == 3


def test_python_backend_contract_errors_name_the_problem():
    net = ie.example_network("resnet", seed=0)
    with pytest.raises(ValueError, match="must be an incision.LayerGraph"):
        ie.run(type("B", (), {"graph": [1, 2], "run_device": None, "run_server": None})(), np.zeros(3, np.float32))
    py = NetBackend(net)
    with pytest.raises(ValueError, match=r"input has shape \(3\), the backend takes \(1, 3, 32, 32\)"):
        ie.run(py, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="misses input layer 0"):
        ie.run_split(py, [1, 2], np.zeros(net.input_shape, np.float32))
    with pytest.raises(ValueError, match="not closed under predecessors"):
        ie.run_split(py, [0, 2], np.zeros(net.input_shape, np.float32))
    del py.input_shape
    with pytest.raises(ValueError, match="x is required"):
        ie.OnlineLoop(py, FixedLearner(0), ie.SimLink(ie.BandwidthTrace.constant(1e6))).run(1)
    with pytest.raises(ValueError, match="link must be a SimLink"):
        ie.OnlineLoop(net, FixedLearner(0), None)
    with pytest.raises(ValueError, match="edge must be an incision.net.TcpLink"):
        ie.OnlineLoop(net, FixedLearner(0), None, edge=object())
    with pytest.raises(ValueError, match="pass link=None"):
        ie.OnlineLoop(net, FixedLearner(0), ie.SimLink(ie.BandwidthTrace.constant(1e6)), edge=inet.TcpLink(1, net))
