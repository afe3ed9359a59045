"""incision.torch: tracing, profiling, splitting torchvision models, and MuLinUCB over their plans.

Skipped where torch/torchvision are absent. CPU only, random weights (no downloads), fixed seeds, one
intra-op thread (steadier timings on a shared machine; restored afterwards).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import incision as inc  # noqa: E402

try:
    import incision.torch as it
except ModuleNotFoundError:  # the installed wheel predates incision.torch: test the source tree's copy
    inc.__path__.append(str(Path(__file__).resolve().parents[1] / "incision"))
    import incision.torch as it

from torch_models import (  # noqa: E402
    AssignsItem,
    DataDependent,
    InPlaceBranches,
    InPlaceOnView,
    MutatesBuffer,
    TwoInputs,
    UsesParameters,
)

# (constructor kwargs, input side). resnet18 at full size (the timing test needs real work per layer);
# the two others at 64x64, which they accept, to keep the file fast.
MODELS = {
    "resnet18": ({}, 224),
    "mobilenet_v2": ({}, 64),
    "googlenet": ({"aux_logits": False, "init_weights": True}, 64),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def zoo(one_thread):
    """name -> (model, input, traced model, reference output); traced once per module."""
    out = {}
    for name, (kwargs, side) in MODELS.items():
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
        x = torch.randn(1, 3, side, side)
        # CPU time per node: wall time on a loaded 2-core machine mostly measures the other processes.
        tm = it.trace(model, x, repeats=5, warmup=1, timer=time.process_time)
        with torch.no_grad():
            ref = model(x)
        out[name] = (model, x, tm, ref)
    return out


def ancestors_closure(graph, seeds):
    """Smallest predecessor-closed set holding seeds and every input (independent of incision.torch)."""
    closed = set(graph.inputs)
    stack = list(seeds)
    while stack:
        v = stack.pop()
        if v in closed:
            continue
        closed.add(v)
        stack.extend(graph.predecessors(v))
    # inputs' own closure is empty; seeds' predecessors were added above
    return sorted(closed)


def expected_crossing(graph, device):
    """Device layers with a server successor, plus device sinks (the model output is read by back)."""
    dev = set(device)
    return [v for v in sorted(dev) if any(s not in dev for s in graph.successors(v)) or not graph.successors(v)]


def device_sets(tm, n_random, seed):
    """The bandwidth map's plans over 1 kB/s .. 100 GB/s, DSL and DSH plans, all-device, all-server and
    random closed sets (multi-branch cuts)."""
    g = tm.graph
    bmap = inc.BandwidthMap(g, 1e3, 1e11)
    sets = [("map", p) for p in bmap.plans]
    sets += [("dsl", inc.dsl(g, bandwidth=5e6)), ("dsh", inc.dsh(g, bandwidth=5e6))]
    sets.append(("all-device", list(range(g.num_layers))))
    sets.append(("all-server", g.inputs))
    rng = random.Random(seed)
    for _ in range(n_random):
        seeds = rng.sample(range(g.num_layers), rng.randint(1, 4))
        sets.append(("random", ancestors_closure(g, seeds)))
    return sets


@pytest.mark.parametrize("name", list(MODELS))
def test_split_reproduces_the_model_at_every_plan(zoo, name):
    model, x, tm, ref = zoo[name]
    g = tm.graph
    assert g.num_layers == tm.num_layers and g.inputs == tm.inputs == [0]
    sets = device_sets(tm, n_random=4, seed=7)
    assert sum(1 for kind, _ in sets if kind == "map") >= 2
    for kind, plan in sets:
        front, back = tm.split(plan)
        device = plan.device_layers if isinstance(plan, inc.Plan) else plan
        with torch.no_grad():
            mid = front(x)
            assert isinstance(mid, tuple)
            crossing = tm.cut_layers(plan)
            assert crossing == expected_crossing(g, device), kind
            assert len(mid) == len(crossing)
            y = back(*mid)
        torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-5, msg=f"{name} {kind} {device}")
        for layer, value in zip(crossing, mid):  # shipped bytes are what the profile says they are
            assert value.numel() * value.element_size() == g.out_bytes[layer]
    assert x.shape == (1, 3, MODELS[name][1], MODELS[name][1])


def test_googlenet_cuts_cross_several_branches(zoo):
    _, x, tm, ref = zoo["googlenet"]
    g = tm.graph
    # inside an inception block: the block input plus two of its four branches on the device
    inc3a = [i for i in range(g.num_layers) if tm.node_name(i).startswith("inception3a_branch")]
    first_of_branch = {}
    for i in inc3a:
        first_of_branch.setdefault(tm.node_name(i).split("_")[1], i)
    device = ancestors_closure(g, [first_of_branch["branch2"], first_of_branch["branch3"]])
    crossing = tm.cut_layers(device)
    assert len(crossing) >= 3
    front, back = tm.split(device)
    with torch.no_grad():
        torch.testing.assert_close(back(*front(x)), ref, rtol=1e-5, atol=1e-5)


def test_batch_size_may_differ_and_halves_share_parameters(zoo):
    model, _, tm, _ = zoo["mobilenet_v2"]
    plan = inc.BandwidthMap(tm.graph, 1e3, 1e11).plans[-1]
    front, back = tm.split(tm.graph.inputs + [1, 2, 3])
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(back(*front(x)), model(x), rtol=1e-5, atol=1e-5)
    params = {id(p) for p in model.parameters()}
    assert all(id(p) in params for p in front.parameters()) and all(id(p) in params for p in back.parameters())
    assert plan.status == "ok"


def test_profiled_total_matches_whole_model_timing(zoo):
    # Tolerance: the per-node CPU times (median of 5) sum to within 25% of the whole model's CPU time
    # (median of 7 eager calls, one thread). Eager module-call overhead is the known gap (a few %).
    model, x, tm, _ = zoo["resnet18"]
    profiled = float(np.sum(tm.graph.device_times))
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(7):
            t0 = time.process_time()
            model(x)
            times.append(time.process_time() - t0)
    whole = statistics.median(times)
    assert 0.75 * whole <= profiled <= 1.25 * whole, (profiled, whole)
    # server time follows the speed model
    np.testing.assert_allclose(tm.graph.server_times, tm.graph.device_times / 10.0)


def test_layer_metadata_from_closed_forms(zoo):
    _, x, tm, _ = zoo["resnet18"]
    g = tm.graph
    conv1, fc = tm.layer_id("conv1"), tm.layer_id("fc")
    assert tm.node_name(conv1) == "conv1" and g.types[conv1] == "conv" and g.types[fc] == "linear"
    assert g.types[0] == "input" and g.out_bytes[0] == x.numel() * 4
    assert g.macs[conv1] == 64 * 112 * 112 * 3 * 7 * 7  # out elements * in channels * kernel
    assert g.macs[fc] == 1000 * 512
    assert g.out_bytes[conv1] == 64 * 112 * 112 * 4
    assert g.out_bytes[fc] == 1000 * 4
    assert set(g.types) <= set(it.KINDS)
    with pytest.raises(IndexError, match="out of range"):
        tm.node_name(g.num_layers)
    with pytest.raises(KeyError, match="no layer named"):
        tm.layer_id("nope")


def test_measured_server_times(zoo):
    model, x, tm, _ = zoo["mobilenet_v2"]
    names = tm.graph.names
    given = {n: 1e-4 * (i + 1) for i, n in enumerate(names)}
    tm2 = it.trace(model, x, repeats=1, warmup=0, server_times=given)
    np.testing.assert_allclose(tm2.graph.server_times, [given[n] for n in names])
    tm3 = it.trace(model, x, repeats=1, warmup=0, server_times=list(given.values()))
    np.testing.assert_allclose(tm3.graph.server_times, tm2.graph.server_times)
    missing = dict(given)
    missing.pop(names[5])
    with pytest.raises(ValueError, match="lacks 1 layers"):
        it.trace(model, x, repeats=1, warmup=0, server_times=missing)
    with pytest.raises(ValueError, match="has 3 values"):
        it.trace(model, x, repeats=1, warmup=0, server_times=[1.0, 2.0, 3.0])


# --- errors ------------------------------------------------------------------------------------------------

def test_untraceable_module_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"\[incision.torch\] torch.fx cannot trace DataDependent: .*control flow"):
        it.trace(DataDependent(), torch.randn(2, 4), repeats=1)
    with pytest.raises(TypeError, match="needs a torch.nn.Module"):
        it.trace(lambda t: t, torch.randn(2, 4))
    with pytest.raises(TypeError, match="leaf_modules must be a tuple of nn.Module classes"):
        it.trace(DataDependent(), torch.randn(2, 4), leaf_modules=DataDependent)


def test_an_untraceable_submodule_kept_whole_as_a_leaf():
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), DataDependent(), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = torch.randn(3, 4)
    with pytest.raises(TypeError, match=r"cannot trace Sequential: .*leaf_modules=\(ItsClass,\)"):
        it.trace(model, x, repeats=1, warmup=0)
    tm = it.trace(model, x, repeats=1, warmup=0, leaf_modules=(DataDependent,))
    assert tm.graph.names == ["input_1", "_0", "_1", "_2", "_3"] and tm.graph.types[2] == "other"
    with torch.no_grad():
        ref = model(x)
        for cut in range(1, 6):
            front, back = tm.split(range(cut))
            torch.testing.assert_close(back(*front(x)), ref)


def test_plan_from_another_graph_is_rejected(zoo):
    _, _, tm, _ = zoo["resnet18"]
    _, _, other, _ = zoo["mobilenet_v2"]
    foreign = inc.BandwidthMap(other.graph, 1e3, 1e11).plans[0]
    with pytest.raises(ValueError, match="another graph: it covers 154 layers, this traced model has 70"):
        tm.split(foreign)
    # same size, other times: a copy of the graph with one layer slower
    twin = inc.LayerGraph.from_json(tm.graph.to_json())
    twin.set_costs(5, tm.graph.device_times[5] * 3 + 1e-3, tm.graph.server_times[5], tm.graph.out_bytes[5])
    plan = inc.evaluate(twin, list(range(twin.num_layers)), 1e6)
    with pytest.raises(ValueError, match="another graph: its device time"):
        tm.split(plan)
    with pytest.raises(ValueError, match="another graph: its"):
        tm.arms([plan])
    with pytest.raises(ValueError, match="layer id 70 is out of range"):
        tm.split([0, 1, 70])
    with pytest.raises(ValueError, match="layer id -1 is out of range"):
        tm.split([0, -1])
    with pytest.raises(TypeError, match="int ids or node names"):
        tm.split([0, 1.5])
    with pytest.raises(TypeError, match="int ids or node names"):
        tm.split([0, True])


def test_device_set_must_be_closed_and_hold_the_inputs(zoo):
    _, _, tm, _ = zoo["resnet18"]
    conv1 = tm.layer_id("conv1")
    with pytest.raises(ValueError, match=r"not closed under predecessors: layer 2 'bn1' .* 'conv1'"):
        tm.split([0, 2])
    with pytest.raises(ValueError, match="misses the graph input.*'x'"):
        tm.split([conv1])
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        tm.split(["x", "nope"])
    mask = np.zeros(tm.num_layers, dtype=bool)
    mask[:3] = True
    assert tm.device_set(mask) == [0, 1, 2]  # a bool mask (Plan.on_device) works too
    with pytest.raises(ValueError, match=r"device mask needs shape \(70,\)"):
        tm.split(mask[:5])
    mask[1] = False
    with pytest.raises(ValueError, match="not closed"):
        tm.split(mask)
    front, _ = tm.split(["x", "conv1"])  # names work too
    assert [n.target for n in front.graph.nodes if n.op == "call_module"] == ["conv1"]


def test_wrong_input_shape_is_a_clear_error(zoo):
    model, x, tm, _ = zoo["resnet18"]
    front, back = tm.split(tm.graph.inputs)
    with pytest.raises(ValueError, match=r"front input 'x' has shape \(1, 3, 64, 64\); .* \(1, 3, 224, 224\)"):
        front(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="dtype torch.float64"):
        front(x.double())
    with pytest.raises(TypeError, match="front takes 1 positional inputs"):
        front(x, x)
    with pytest.raises(ValueError, match=r"back input 'x' has shape"):
        back(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match="fails on the example input"):
        it.trace(model, torch.randn(1, 5, 32, 32), repeats=1)
    with pytest.raises(TypeError, match="example_input must be a tensor"):
        it.trace(model, "image")
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        it.trace(model, x, repeats=0)
    with pytest.raises(ValueError, match="server_speedup must be a finite number > 0"):
        it.trace(model, x, server_speedup=0.0)


# --- in-place ops, several inputs ---------------------------------------------------------------------------

def all_closed_sets(graph, limit):
    """Every predecessor-closed device set holding the inputs (brute force over subsets; small graphs)."""
    n = graph.num_layers
    free = [v for v in range(n) if v not in graph.inputs]
    out = []
    for mask in range(1 << len(free)):
        dev = set(graph.inputs) | {free[i] for i in range(len(free)) if mask >> i & 1}
        if all(p in dev for v in dev for p in graph.predecessors(v)):
            out.append(sorted(dev))
            if len(out) >= limit:
                break
    return out


def test_in_place_ops_are_made_out_of_place_and_split_everywhere():
    torch.manual_seed(1)
    model = InPlaceBranches().eval()
    x = torch.randn(2, 3, 8, 8)
    x_before = x.clone()
    tm = it.trace(model, x, repeats=1, warmup=0)
    assert torch.equal(x, x_before)  # tracing and profiling never mutate the caller's input
    with torch.no_grad():
        ref = model(x.clone())
    sets = all_closed_sets(tm.graph, limit=400)
    assert len(sets) > 20
    for device in sets:
        front, back = tm.split(device)
        with torch.no_grad():
            got = back(*front(x.clone()))
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6, msg=str(device))
    # no in-place op is left in the traced graph
    for node in tm.module.graph.nodes:
        if node.op == "call_module":
            assert getattr(tm.module.get_submodule(node.target), "inplace", False) is not True
        if node.op == "call_method":
            assert not node.target.endswith("_")
        assert node.kwargs.get("inplace") is not True


def test_mutations_that_cannot_be_made_out_of_place():
    model = MutatesBuffer().eval()
    with pytest.raises(ValueError, match=r"MutatesBuffer.forward mutates its state in place \(count\)"):
        it.trace(model, torch.randn(2, 4), repeats=1, warmup=0)
    assert torch.equal(model.count, torch.zeros(4))  # restored
    with pytest.raises(ValueError, match="may be a view of another tensor"):
        it.trace(InPlaceOnView(), torch.randn(2, 4), repeats=1, warmup=0)
    # this torch.fx refuses item assignment on a traced value: a clear TypeError, not a TraceError stack
    with pytest.raises(TypeError, match="cannot trace AssignsItem: .*item assignment"):
        it.trace(AssignsItem(), torch.randn(2, 4), repeats=1, warmup=0)


def test_two_inputs_and_a_tuple_output():
    torch.manual_seed(2)
    model = TwoInputs().eval()
    a, b = torch.randn(5, 6), torch.randn(5, 3)
    tm = it.trace(model, (a, b), repeats=1, warmup=0)
    assert tm.inputs == [0, 1] and tm.graph.inputs == [0, 1]
    with torch.no_grad():
        ref = model(a, b)
    for device in all_closed_sets(tm.graph, limit=200):
        front, back = tm.split(device)
        with torch.no_grad():
            got = back(*front(a, b))
        assert isinstance(got, tuple) and len(got) == 2
        torch.testing.assert_close(got, ref)
    with pytest.raises(ValueError, match=r"misses the graph input\(s\) 'b'"):
        tm.split([0])


def test_parameters_are_recomputed_on_each_side_and_never_cross():
    torch.manual_seed(3)
    model = UsesParameters().eval()
    x = torch.randn(4, 6)
    tm = it.trace(model, x, repeats=1, warmup=0)
    # get_attr nodes and w.t() * 2 (no input behind it) are folded into their users
    assert tm.graph.names == ["x", "matmul", "relu", "mul", "add", "matmul_1", "tanh", "mul_2", "fc"]
    with torch.no_grad():
        ref = model(x)
    sets = all_closed_sets(tm.graph, limit=200)
    for device in sets:
        front, back = tm.split(device)
        with torch.no_grad():
            mid = front(x)
            assert not any(isinstance(v, torch.nn.Parameter) for v in mid)
            assert [v.shape[0] for v in mid] == [4] * len(mid)  # activations only, never a weight
            torch.testing.assert_close(back(*mid), ref)


def test_training_mode_warns_when_it_matters():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout())  # training mode, dropout
    with pytest.warns(UserWarning, match="training mode"):
        it.trace(model, torch.randn(2, 4), repeats=1, warmup=0)
    it.trace(TwoInputs(), (torch.randn(2, 6), torch.randn(2, 3)), repeats=1, warmup=0)  # no BN/dropout: silent


# --- arms and MuLinUCB ----------------------------------------------------------------------------------------

def arm_plans(tm):
    plans = list(inc.BandwidthMap(tm.graph, 1e3, 1e11).plans)
    if len(plans[-1].device_layers) != tm.num_layers:
        plans.append(inc.evaluate(tm.graph, list(range(tm.num_layers)), 1e6))
    return plans


def test_arms_columns_from_an_independent_count(zoo):
    _, _, tm, _ = zoo["googlenet"]
    g = tm.graph
    plans = arm_plans(tm) + [ancestors_closure(g, [50])]
    contexts, front = tm.arms(plans)
    features = tm.arm_features
    assert contexts.shape == (len(plans), len(features)) and contexts.dtype == np.float64
    assert features[-1] == "shipped_bytes" and "server_conv_layers" in features and "server_conv_macs" in features
    types, macs = g.types, np.asarray(g.macs)
    for row, p in enumerate(plans):
        dev = set(p.device_layers if isinstance(p, inc.Plan) else p)
        server = [i for i in range(g.num_layers) if i not in dev]
        for j, f in enumerate(features[:-1]):
            kind = f.split("_")[1]
            if f.endswith("_layers"):
                assert contexts[row, j] == sum(1 for i in server if types[i] == kind)
            else:
                assert contexts[row, j] == pytest.approx(sum(macs[i] for i in server if types[i] == kind))
        ev = inc.evaluate(g, sorted(dev), 1e6)
        assert contexts[row, -1] == pytest.approx(ev.shipped_bytes)
        assert front[row] == pytest.approx(ev.device_time)
    local = [row for row, p in enumerate(plans) if len(getattr(p, "device_layers", p)) == g.num_layers]
    assert local and all(not contexts[r].any() for r in local)
    assert all(contexts[r].any() for r in range(len(plans)) if r not in local)
    with pytest.raises(ValueError, match="at least one plan"):
        tm.arms([])


def test_mulinucb_learns_resnet18_cut_under_switching_bandwidth(zoo):
    """Offload delay simulated from the profile: shipped bytes / B + server time of the server part."""
    _, _, tm, _ = zoo["resnet18"]
    g = tm.graph
    plans = arm_plans(tm)
    contexts, front = tm.arms(plans)
    server = np.array([p.server_time for p in plans])
    shipped = np.array([p.shipped_bytes for p in plans])
    local = ~contexts.any(axis=1)
    assert local.sum() == 1 and len(plans) >= 3
    # 4000 frames, the link switching between 100 MB/s and 2 MB/s every 1000 (the best cut flips)
    bandwidth = np.repeat([1e8, 2e6, 1e8, 2e6], 1000)
    offload = shipped[None, :] / bandwidth[:, None] + server[None, :]
    latency = front[None, :] + np.where(local[None, :], 0.0, offload)
    best = latency.argmin(axis=1)
    assert best[0] != best[1500]
    oracle = latency.min(axis=1).sum()
    # Delays are in seconds, so a fixed exploration scale; forgetting (gamma) tracks the switches.
    ans = inc.MuLinUCB(contexts, front, alpha=0.01, gamma=0.95)
    rng = np.random.default_rng(0)
    total = 0.0
    for t in range(len(bandwidth)):
        arm = ans.select(False)
        total += latency[t, arm]
        if not local[arm]:
            ans.update(arm, offload[t, arm] * (1.0 + 0.05 * rng.standard_normal()))
    assert total <= 1.10 * oracle, (total / oracle, [p.device_layers[-1] for p in plans])
    assert g.num_layers == tm.num_layers
