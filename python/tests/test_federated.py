"""FedLinUCB-DW from Python: bytes in/out, group isolation, equivalence with an independent numpy
muLinUCB when nothing is shared, exact pooled statistics, errors mapped to ValueError/IndexError."""

from __future__ import annotations

import math

import numpy as np
import pytest

import incision as inc

COLS = ["n_conv", "n_fc", "n_act", "mac_conv", "mac_fc", "mac_act", "tx_bits"]


def load_arms(data_dir, name):
    rows = np.genfromtxt(data_dir / "ans" / name, delimiter=",", names=True)
    x = np.stack([rows[c] for c in COLS], axis=1).astype(np.float64)
    return np.ascontiguousarray(x), np.ascontiguousarray(rows["front_delay_s"].astype(np.float64))


def true_theta(bandwidth_bit_s):
    return np.array([1e-3, 5e-4, 2e-4, 2e-12, 4e-12, 1e-11, 1.0 / bandwidth_bit_s])


@pytest.fixture(scope="module")
def vgg(data_dir):
    return load_arms(data_dir, "vgg16_arms.csv")


@pytest.fixture(scope="module")
def yolo(data_dir):
    return load_arms(data_dir, "tiny_yolov2_arms.csv")


def numpy_mulinucb_decisions(x, front, delays, key, *, reg=1.0, mu=0.25, t0=200, delta=0.1, c_noise=0.05,
                             c_theta=1.0, l_key=0.8, l_nonkey=0.2):
    """An independent re-implementation of the official muLinUCB loop (direct solves), with the
    library's two documented deviations (reg*I prior, column-max feature scaling)."""
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    local = np.all(x == 0, axis=1)
    d = x.shape[1]
    c_x = float((xs**2).sum(axis=1).max())
    a_mat = reg * np.eye(d)
    b = np.zeros(d)
    horizon, frame = t0, 0

    def consts(t):
        alpha = (c_theta + math.sqrt(math.log((1 + t * c_x * c_x) / delta) * d) * c_noise) / (1 - l_key)
        return alpha, max(1, math.ceil(t**mu))

    alpha, period = consts(horizon)
    out = []
    for t in range(len(key)):
        frame += 1
        if frame > horizon:
            horizon *= 2
            alpha, period = consts(horizon)
            frame = 0
        lw = l_key if key[t] else l_nonkey
        inv = np.linalg.inv(a_mat)
        theta = inv @ b
        q = np.einsum("kd,de,ke->k", xs, inv, xs)
        est = xs @ theta - alpha * np.sqrt(np.maximum((1 - lw) * q, 0)) + front
        est[local] = front[local]
        if frame % period == 0:
            est = np.where(local, np.inf, est)
        arm = int(np.argmin(est))
        out.append(arm)
        if not local[arm]:
            a_mat += np.outer(xs[arm], xs[arm])
            b += delays[t, arm] * xs[arm]
    return out


def test_messages_are_bytes_and_round_trip(vgg):
    x, f = vgg
    edge = inc.FedAggregator()
    dev = inc.FedLinUCBDW(7, "vgg16", x, f, upload_threshold=0.0)
    hello = dev.hello()
    assert isinstance(hello, bytes)
    assert inc.decode_message(hello) == {
        "kind": "hello", "device_id": 7, "group": "vgg16", "dim": 7, "feature_tag": dev.feature_tag,
    }
    assert dev.receive(edge.handle(hello)) == "download_applied"
    dev.update(3, 0.25)
    up = dev.make_upload()
    msg = inc.decode_message(up)
    assert msg["kind"] == "upload" and msg["encoding"] == "rows" and msg["count"] == 1
    np.testing.assert_allclose(msg["gram"], np.outer(dev.scaled_context(3), dev.scaled_context(3)))
    assert dev.receive(edge.handle(up)) == "acked"
    assert dev.receive(edge.download_for(7)) == "download_applied"
    assert not dev.upload_in_flight
    assert edge.group_count("vgg16") == 1
    assert dev.traffic["bytes_out"] == edge.traffic["bytes_in"]
    assert dev.traffic["bytes_in"] == edge.traffic["bytes_out"]


def test_no_sharing_equals_an_independent_numpy_mulinucb(vgg):
    x, f = vgg
    rng = np.random.default_rng(4)
    frames = 700
    delays = (x @ true_theta(18.88e6))[None, :] + rng.normal(0, 0.01, size=(frames, len(f)))
    key = rng.random(frames) < 0.2
    expect = numpy_mulinucb_decisions(x, f, delays, key)
    dev = inc.FedLinUCBDW(1, "vgg16", x, f, upload_threshold=math.inf)
    got = inc.run_lockstep([dev], None, [np.ascontiguousarray(delays)], key[None, :])
    assert list(got[0]) == expect


def test_pooled_statistics_are_exact_and_groups_stay_apart(vgg, yolo):
    edge = inc.FedAggregator()
    rng = np.random.default_rng(5)
    devs, tables = [], []
    for i, (arms, bw, group) in enumerate([(vgg, 18.88e6, "vgg16"), (vgg, 18.88e6, "vgg16"), (yolo, 5.85e6, "yolo")]):
        x, f = arms
        d = inc.FedLinUCBDW(i + 1, group, x, f, upload_threshold=0.0)
        d.receive(edge.handle(d.hello()))
        devs.append(d)
        tables.append(np.ascontiguousarray((x @ true_theta(bw))[None, :] + rng.normal(0, 0.01, size=(300, len(f)))))
    key = np.zeros((3, 300), dtype=bool)
    arms = inc.run_lockstep(devs, edge, tables, key)
    for group, members in [("vgg16", [0, 1]), ("yolo", [2])]:
        g = np.zeros((7, 7))
        b = np.zeros(7)
        n = 0
        for i in members:
            for t, a in enumerate(arms[i]):
                if not devs[i].is_local_arm(int(a)):
                    xa = devs[i].scaled_context(int(a))
                    g += np.outer(xa, xa)
                    b += tables[i][t, a] * xa
                    n += 1
        np.testing.assert_allclose(edge.group_gram(group), g, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(edge.group_moment(group), b, rtol=1e-10, atol=1e-10)
        assert edge.group_count(group) == n
    # The yolo device's statistics hold only yolo data: identity prior plus its own group's.
    np.testing.assert_allclose(devs[2].gram, np.eye(7) + edge.group_gram("yolo"), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="group 'vgg16'"):
        devs[2].receive(edge.broadcast("vgg16"))


def test_errors_map_to_python_exceptions(vgg):
    x, f = vgg
    edge = inc.FedAggregator()
    with pytest.raises(ValueError):
        edge.handle(b"not a message at all, not even close")
    with pytest.raises(IndexError):
        edge.download_for(99)
    with pytest.raises(ValueError, match="warm_weight"):
        inc.FedLinUCBDW(1, "g", x, f, warm_weight=2.0)
    dev = inc.FedLinUCBDW(1, "g", x, f)
    with pytest.raises(ValueError, match="runs on the device"):
        dev.warm_start([22], [0.1])
    with pytest.raises(IndexError):
        dev.warm_start([99], [0.1])
    with pytest.raises(ValueError):
        dev.make_upload()
    reply = edge.handle(inc.FedLinUCBDW(2, "g", x[:, :6].copy(), f).hello())
    dev.receive(edge.handle(dev.hello()))
    assert inc.decode_message(reply)["kind"] == "download"  # a new group "g" of dimension 6
    bad = inc.decode_message(edge.handle(dev.hello()))
    assert bad["kind"] == "reject" and bad["code"] == "dimension_mismatch"


def test_warm_start_is_local_and_fades(vgg):
    x, f = vgg
    dev = inc.FedLinUCBDW(1, "g", x, f, warm_weight=0.5, warm_max_rows=10, warm_half_life=100)
    dev.warm_start(list(range(22)), list(x[:22] @ true_theta(18.88e6)))
    assert dev.warm_mass == pytest.approx(0.5 * 10)
    edge = inc.FedAggregator()
    dev.receive(edge.handle(dev.hello()))
    for _ in range(300):
        a = dev.select()
        dev.update(a, 0.1)
        if dev.wants_upload():
            inc.federated.exchange(dev, edge)
    assert dev.warm_mass < 0.5 * 10 * 100 / (100 + 150)
    assert edge.group_count("g") <= dev.n_online


def test_cans_experiment_runs_small(repo_root, tmp_path):
    """The experiment script runs end to end on a small configuration and writes its outputs."""
    import importlib.util
    import json
    import sys

    spec = importlib.util.spec_from_file_location("cans_experiment", repo_root / "examples/python/cans_experiment.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cans_experiment"] = mod  # dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules["cans_experiment"]
    r = mod.experiment(5, 200, 1, 1.0, 3, 0.35)
    assert set(r["methods"]) == set(mod.METHODS)
    assert r["methods"]["mulinucb"]["bytes"] == 0
    assert r["methods"]["fed_cold"]["bytes"] > 0
    for m in mod.METHODS:
        assert r["methods"][m]["mean_latency"] >= r["oracle_mean_latency"] - 1e-12
    mod.plot([r], tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 0
    json.dumps(r)


def test_handle_batch_matches_handle_and_drops_garbage(vgg):
    x, f = vgg
    a, b = inc.FedAggregator(), inc.FedAggregator()
    devs = [inc.FedLinUCBDW(i + 1, "g", x, f, upload_threshold=0.0) for i in range(3)]
    msgs = [d.hello() for d in devs]
    for i, d in enumerate(devs):
        d.receive(a.handle(msgs[i]))
        d.update(i, 0.1 * (i + 1))
        up = d.make_upload()
        msgs.append(up)
        d.receive(a.handle(up))
    msgs.insert(2, b"garbage")
    replies = b.handle_batch(msgs)
    assert replies[2] is None
    assert len(replies) == len(msgs)
    np.testing.assert_array_equal(a.group_gram("g"), b.group_gram("g"))
    assert a.group_count("g") == b.group_count("g") == 3
    assert [inc.decode_message(r)["kind"] for r in replies if r is not None] == ["download"] * 3 + ["ack"] * 3
