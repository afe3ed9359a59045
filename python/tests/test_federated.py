"""FedLinUCB-DW from Python: bytes in/out, group isolation, equivalence with an independent numpy
muLinUCB when nothing is shared, exact pooled statistics, errors mapped to ValueError/IndexError."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest

import incision as inc

COLS = ["n_conv", "n_fc", "n_act", "mac_conv", "mac_fc", "mac_act", "tx_bits"]


def load_arms(data_dir, name):
    rows = np.genfromtxt(data_dir / "ans" / name, delimiter=",", names=True)
    x = np.stack([rows[c] for c in COLS], axis=1).astype(np.float64)
    return np.ascontiguousarray(x), np.ascontiguousarray(rows["front_delay_s"].astype(np.float64))


# Messages written by hand from the documented wire format (docs/federated.md), as a hostile
# sender would: envelope "INCS" | version u16 | kind u16 | length u64 | payload | CRC-32.
def seal(kind, payload):
    head = b"INCS" + struct.pack("<HHQ", 1, kind, len(payload)) + payload
    return head + struct.pack("<I", zlib.crc32(head))


def hello_bytes(device, group, dim, tag=0):
    g = group.encode()
    return seal(200, struct.pack("<HQI", 1, device, len(g)) + g + struct.pack("<IQ", dim, tag))


def dense_upload_bytes(device, seq, gram, moment, count):
    d = len(moment)
    upper = [gram[i, j] for i in range(d) for j in range(i, d)]
    body = struct.pack("<HQQIQB", 1, device, seq, d, count, 0)
    return seal(201, body + struct.pack(f"<{len(upper)}d", *upper) + struct.pack(f"<{d}d", *moment))


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


def test_exchange_and_run_lockstep_are_the_librarys():
    # Bound from incision::federated, not re-written in Python.
    assert type(inc.federated.exchange).__name__ == "builtin_function_or_method"
    assert inc.exchange is inc.federated.exchange
    assert {"invalid_statistics", "limit_exceeded"} <= set(inc.federated.REJECT_CODES)
    assert inc.federated.REJECT_CODES[0] == "protocol_version"  # code 1 first, in code order


def test_exchange_reports_the_reply_and_downloads_only_after_an_ack(vgg):
    x, f = vgg
    edge = inc.FedAggregator(max_group_count=2)
    dev = inc.FedLinUCBDW(1, "vgg16", x, f, upload_threshold=0.0)
    dev.receive(edge.handle(dev.hello()))
    with pytest.raises(ValueError):
        inc.federated.exchange(dev, edge)  # nothing buffered
    dev.update(3, 0.25)
    r = inc.federated.exchange(dev, edge)
    assert r["reply"] == "acked" and r["downloaded"] and r["bytes"] > 0
    assert dev.sync_count == 1 and not dev.upload_in_flight
    dev.update(4, 0.25)
    dev.update(5, 0.25)
    before = edge.traffic["messages_out"]
    r = inc.federated.exchange(dev, edge)  # 1 + 2 observations > max_group_count = 2
    assert r["reply"] == "rejected" and not r["downloaded"]
    assert dev.last_reject["code"] == "invalid_statistics"
    assert edge.traffic["messages_out"] == before + 1  # the reject only, no download
    assert dev.buffered == 2 and not dev.upload_in_flight  # taken back, kept for later
    assert edge.group_count("vgg16") == 1


def test_run_lockstep_validates_before_any_change(vgg):
    x, f = vgg
    edge = inc.FedAggregator()
    dev = inc.FedLinUCBDW(1, "vgg16", x, f, upload_threshold=0.0)
    dev.receive(edge.handle(dev.hello()))
    table = np.full((5, len(f)), 0.1)
    key = np.zeros((2, 5), dtype=bool)
    with pytest.raises(ValueError, match="appears twice"):
        inc.run_lockstep([dev, dev], edge, [table, table], key)
    bad = table.copy()
    bad[4, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        inc.run_lockstep([dev], edge, [bad], key[:1])
    with pytest.raises(ValueError, match="2-D"):
        inc.run_lockstep([dev], edge, [table[0]], key[:1])
    with pytest.raises(ValueError, match=r"\(frames, n_arms\)"):
        inc.run_lockstep([dev], edge, [table[:, :3]], key[:1])
    assert dev.n_online == 0 and dev.traffic["messages_out"] == 1 and edge.group_version("vgg16") == 0


def test_aggregator_caps_are_keywords_with_the_cpp_defaults():
    defaults = inc.FedAggregator().options
    assert set(defaults) == {"max_groups", "max_devices", "max_dim", "max_message_bytes", "memory_budget",
                             "max_group_count", "psd_slack", "max_statistic"}
    assert inc.FedAggregator(**defaults).options == defaults
    assert inc.FedAggregator(max_groups=3, psd_slack=0.5).options == {**defaults, "max_groups": 3, "psd_slack": 0.5}
    assert inc.FedAggregator().memory_bytes == 0
    for bad in ({"max_groups": 0}, {"max_dim": 2000}, {"psd_slack": 0.0}, {"max_statistic": math.inf},
                {"max_message_bytes": 10}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            inc.FedAggregator(**bad)
    with pytest.raises(TypeError):
        inc.FedAggregator(4)  # keywords only


def test_hostile_non_psd_upload_is_refused_and_the_group_keeps_working(vgg):
    x, f = vgg
    edge = inc.FedAggregator()
    honest = inc.FedLinUCBDW(1, "vgg16", x, f, upload_threshold=0.0)
    assert hello_bytes(1, "vgg16", 7, honest.feature_tag) == honest.hello()  # the hand encoder is right
    honest.receive(edge.handle(honest.hello()))
    assert inc.decode_message(edge.handle(hello_bytes(2, "vgg16", 7, honest.feature_tag)))["kind"] == "download"
    # Symmetric, finite, non-negative diagonal, but eigenvalues 3 and -1: not a Gram matrix.
    gram = np.eye(7)
    gram[0, 1] = gram[1, 0] = 2.0
    assert np.linalg.eigvalsh(gram).min() < 0
    reply = inc.decode_message(edge.handle(dense_upload_bytes(2, 1, gram, np.ones(7), 1)))
    assert reply["kind"] == "reject" and reply["code"] == "invalid_statistics"
    assert (reply["device_id"], reply["seq"]) == (2, 1) and "positive semi-definite" in reply["text"]
    # Entries beyond max_statistic, and counts beyond max_group_count, are refused too.
    huge = np.eye(7) * 1e13
    assert inc.decode_message(edge.handle(dense_upload_bytes(2, 1, huge, np.zeros(7), 1)))["code"] == \
        "invalid_statistics"
    with pytest.raises(ValueError):  # count 2^64 - 1: not even a message
        edge.handle(dense_upload_bytes(2, 1, np.eye(7), np.zeros(7), 2**64 - 1))
    assert edge.group_version("vgg16") == 0 and edge.group_count("vgg16") == 0
    np.testing.assert_array_equal(edge.group_gram("vgg16"), np.zeros((7, 7)))
    assert edge.last_seq(2) == 0
    # The group still works: the honest device syncs, a newcomer joins, a broadcast installs.
    honest.update(3, 0.25)
    assert inc.federated.exchange(honest, edge)["reply"] == "acked"
    newcomer = inc.FedLinUCBDW(3, "vgg16", x, f)
    assert newcomer.receive(edge.handle(newcomer.hello())) == "download_applied"
    assert honest.receive(edge.broadcast("vgg16")) in ("download_applied", "stale_download")
    # The attacker's sequence number is still open: an honest upload with it is acked.
    xa = honest.scaled_context(3)
    ok = inc.decode_message(edge.handle(dense_upload_bytes(2, 1, np.outer(xa, xa), 0.3 * xa, 1)))
    assert ok["kind"] == "ack" and edge.group_count("vgg16") == 2


def test_a_flood_of_hellos_is_refused_beyond_the_caps_with_memory_bounded():
    budget = 200_000
    edge = inc.FedAggregator(max_groups=8, max_devices=50, max_dim=64, memory_budget=budget,
                             max_message_bytes=4096)
    # Issue 12 #7: 200 hellos of dimension 1024 in distinct groups used to take 1.6 GB.
    replies = [inc.decode_message(edge.handle(hello_bytes(i + 1, f"g{i}", 1024))) for i in range(200)]
    assert all(r["kind"] == "reject" and r["code"] == "limit_exceeded" for r in replies)
    assert edge.n_groups == 0 and edge.n_devices == 0 and edge.memory_bytes == 0
    # Dimension 64 groups: the budget (about 33 kB a group) or max_groups stops them.
    kinds = []
    for i in range(200):
        reply = edge.handle(hello_bytes(1000 + i, f"h{i}", 64))
        assert len(reply) < 40_000  # a reply never exceeds one group's download
        kinds.append(inc.decode_message(reply)["kind"])
        assert edge.memory_bytes <= budget
    accepted = kinds.count("download")
    assert 1 <= accepted <= 8 and kinds[:accepted] == ["download"] * accepted
    assert edge.n_groups == accepted
    # Many devices in one small group: max_devices stops them.
    for i in range(200):
        edge.handle(hello_bytes(5000 + i, "small", 2))
        assert edge.memory_bytes <= budget
    assert edge.n_devices <= 50
    last = inc.decode_message(edge.handle(hello_bytes(9999, "small", 2)))
    assert last["code"] == "limit_exceeded"
    # A message above max_message_bytes is refused unread.
    big = dense_upload_bytes(1000, 1, np.eye(64), np.zeros(64), 1)
    assert len(big) > 4096
    assert inc.decode_message(edge.handle(big))["code"] == "limit_exceeded"
    # Registered devices still work after the flood.
    assert inc.decode_message(edge.handle(hello_bytes(1000, "h0", 64)))["kind"] == "download"
