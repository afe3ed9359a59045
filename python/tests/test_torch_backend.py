"""incision.torch as an executor backend: a traced torchvision resnet18 (random weights, no download) split by
the C++ loop and served by an in-process edge server over loopback TCP."""

import numpy as np
import pytest

import incision as inc

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
it = pytest.importorskip("incision.torch")
ie = pytest.importorskip("incision.exec", reason="incision.exec needs xtensor in the build")
inet = pytest.importorskip("incision.net", reason="incision.net needs standalone Asio in the build")

SIDE = 64  # resnet18 at 64x64: every layer kind and branch of the 224 px model, a fraction of the time


def _resnet18(seed):
    torch.manual_seed(seed)
    return torchvision.models.resnet18(weights=None).eval()


@pytest.fixture(scope="module")
def resnet():
    torch.set_num_threads(1)
    model = _resnet18(0)
    x = torch.randn(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(1))
    tm = it.trace(model, x, repeats=1, warmup=0)
    with torch.no_grad():
        y = model(x).numpy()
    return model, tm, x.numpy(), y


class Cycle:
    """Every arm in turn."""

    def __init__(self, k):
        self.k, self.i = k, -1

    def select(self, key_frame):
        self.i = (self.i + 1) % self.k
        return self.i

    def update(self, arm, delay):
        pass


def test_split_outputs_equal_the_unsplit_model_at_every_plan_of_the_bandwidth_map(resnet):
    model, tm, x, y = resnet
    backend = tm.backend()
    assert backend.input_shape == (1, 3, SIDE, SIDE) and len(backend.layer_shapes) == tm.num_layers
    bmap = inc.BandwidthMap(tm.graph, 1e3, 1e11)
    sets = [list(p.device_layers) for p in bmap.plans] + [tm.inputs, list(range(tm.num_layers))]
    assert len(bmap) >= 3 and any(0 < len(s) < tm.num_layers for s in sets)
    for d in sets:
        # device part, the cut serialised and deserialised, server part: through the adaptor the loop uses
        np.testing.assert_allclose(ie.run_split(backend, d, x), y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ie.run(backend, x), y, rtol=1e-5, atol=1e-5)


def test_the_torch_loop_runs_over_the_simulated_link_and_over_tcp(resnet):
    _, tm, x, _ = resnet
    backend = tm.backend()
    bmap = inc.BandwidthMap(tm.graph, 1e3, 1e11)
    contexts, front = tm.arms(bmap.plans)
    trace = ie.BandwidthTrace([0.0, 1.0], [1e8, 2e5])
    opts = dict(timing="modeled", frame_interval=0.02)
    sim = ie.OnlineLoop(backend, inc.MuLinUCB(contexts, front, alpha=0.01), ie.SimLink(trace), bmap, tm.graph,
                        **opts)
    r_sim = sim.run(24, x)
    # the edge hosts its own backend of the same model: the fingerprints (graph + weights) agree
    server_backend = it.trace(_resnet18(0), torch.from_numpy(x), repeats=1, warmup=0).backend()
    assert server_backend.fingerprint == backend.fingerprint
    with inet.EdgeServer(server_backend) as srv:
        link = inet.TcpLink(srv.port, backend, deadline=30.0)
        tcp = ie.OnlineLoop(backend, inc.MuLinUCB(contexts, front, alpha=0.01), None, bmap, tm.graph,
                            edge=link, **opts)
        r_tcp = tcp.run(24, x)
        assert srv.stats["served"] == int(r_tcp["offloaded"].sum()) > 0
    # the learner saw the real wire over TCP (modeled compute times): both loops offload, the edge served all
    assert r_sim["offloaded"].any() and not r_tcp["fallback"].any()
    np.testing.assert_array_equal(r_tcp["edge"], r_tcp["offloaded"])
    assert np.all(r_sim["output_error"] <= 1e-5) and np.all(r_tcp["output_error"] <= 1e-5)
    # measured timing over the edge, every plan in turn: the outputs are the model's at each cut
    with inet.EdgeServer(server_backend) as srv:
        loop = ie.OnlineLoop(backend, Cycle(len(bmap)), None, bmap, edge=inet.TcpLink(srv.port, backend, deadline=30.0))
        r = loop.run(len(bmap), x)
        assert np.all(r["output_error"] <= 1e-5)
        assert np.array_equal(r["edge"], r["offloaded"]) and np.all(r["edge_server_time"][r["edge"]] > 0)


def test_the_fingerprint_tells_models_apart_by_graph_and_weights(resnet):
    model, tm, x, _ = resnet
    fp = tm.backend().fingerprint
    assert fp == it.model_fingerprint(tm)
    other = it.trace(_resnet18(1), torch.from_numpy(x), repeats=1, warmup=0)  # the same graph, other weights
    assert other.backend().fingerprint != fp
    tweaked = _resnet18(0)
    with torch.no_grad():
        tweaked.layer3[1].bn2.running_var[7] += 1e-3  # one buffer value
    assert it.trace(tweaked, torch.from_numpy(x), repeats=1, warmup=0).backend().fingerprint != fp
    small = it.trace(_resnet18(0), torch.randn(1, 3, 32, 32), repeats=1, warmup=0)  # other activation sizes
    assert small.backend().fingerprint != fp
    with inet.EdgeServer(other.backend()) as srv:  # an edge with other weights refuses the device
        link = inet.TcpLink(srv.port, tm.backend())
        assert not link.connect() and "another model" in link.last_error


def test_the_torch_backend_refuses_what_it_cannot_serve(resnet):
    _, tm, x, _ = resnet
    backend = tm.backend(cache_size=2)
    with pytest.raises(ValueError, match=r"input has shape \(1, 3, 32, 32\), the backend takes \(1, 3, 64, 64\)"):
        ie.run(backend, np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="not closed under predecessors"):
        ie.run_split(backend, [0, 2], x)
    with pytest.raises(ValueError, match="cache_size"):
        tm.backend(cache_size=0)
    for d in ([0], [0, 1], [0, 1, 2]):  # the cache keeps the two most recent sets
        ie.run_split(backend, d, x)
    assert "cached_sets=2" in repr(backend)

    class TwoInputs(torch.nn.Module):
        def forward(self, a, b):
            return a + b

    two = it.trace(TwoInputs(), (torch.ones(2), torch.ones(2)), repeats=1, warmup=0)
    with pytest.raises(ValueError, match="one input"):
        two.backend()
