"""incision bandits from Python: pinned surface, independent numpy oracles, errors, snapshots."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from reference import OfficialLoop

import incision as inc


@pytest.fixture
def vgg16(data_dir):
    return inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")


def numpy_ucb_choice(a_mat, b_vec, X, alpha):
    """Direct (non-incremental) LinUCB choice: solve with numpy every time."""
    theta = np.linalg.solve(a_mat, b_vec)
    q = np.einsum("kd,kd->k", X, np.linalg.solve(a_mat, X.T).T)
    scores = X @ theta + alpha * np.sqrt(np.maximum(q, 0.0))
    return int(np.argmax(scores))  # first maximum = lowest index on ties


@pytest.mark.parametrize(("d", "k", "seed"), [(2, 5, 0), (7, 23, 1), (16, 10, 2), (32, 4, 3)])
def test_linucb_matches_numpy_direct_solve(d, k, seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=d) / math.sqrt(d)
    pol = inc.LinUCB(dim=d, alpha=1.0, reg=1.0)
    a_mat, b_vec = np.eye(d), np.zeros(d)
    for _ in range(600):
        X = rng.normal(size=(k, d))
        a = pol.select(X)
        assert a == numpy_ucb_choice(a_mat, b_vec, X, 1.0)
        r = float(X[a] @ theta + 0.1 * rng.normal())
        pol.update(X[a], r)
        a_mat += np.outer(X[a], X[a])
        b_vec += r * X[a]
    np.testing.assert_allclose(pol.theta, np.linalg.solve(a_mat, b_vec), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pol.inverse, np.linalg.inv(a_mat), rtol=1e-9, atol=1e-12)
    assert pol.n_updates == 600


def test_disjoint_matches_numpy_direct_solve():
    rng = np.random.default_rng(7)
    k, d = 4, 5
    thetas = rng.normal(size=(k, d))
    dis = inc.DisjointLinUCB(n_arms=k, dim=d, alpha=0.7, reg=2.0)
    a_mats = [2.0 * np.eye(d) for _ in range(k)]
    b_vecs = [np.zeros(d) for _ in range(k)]
    for _ in range(800):
        x = rng.normal(size=d)
        scores = [
            x @ np.linalg.solve(a_mats[j], b_vecs[j]) + 0.7 * math.sqrt(x @ np.linalg.solve(a_mats[j], x))
            for j in range(k)
        ]
        a = dis.select(x)
        assert a == int(np.argmax(scores))
        r = float(x @ thetas[a] + 0.1 * rng.normal())
        dis.update(a, x, r)
        a_mats[a] += np.outer(x, x)
        b_vecs[a] += r * x


def test_mulinucb_reproduces_numpy_official_loop(vgg16):
    contexts, front = vgg16
    rng = np.random.default_rng(11)
    prior = rng.integers(1, 9, size=7)  # the official code's random diagonal, shared by both
    ref = OfficialLoop(contexts, front, prior)
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front)
    ans.set_prior(prior.astype(np.float64))
    theta = np.array([2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1 / 5.85e6])
    for _ in range(1500):
        key = bool(rng.random() < 0.3)
        p = ans.select(key_frame=key)
        assert p == ref.select(key)
        y = float(contexts[p] @ theta + 0.02 * rng.normal())
        ans.update(p, y)
        ref.update(p, y)
    assert ans.horizon == 1600  # T doubles at frames 201, 602, 1403


def test_pinned_surface_and_batch_paths_agree(vgg16):
    contexts, front = vgg16
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front)
    twin = inc.MuLinUCB.restore(ans.snapshot())
    assert ans.n_arms == 23 and ans.dim == 7 and ans.is_local_arm(22) and not ans.is_local_arm(0)
    rng = np.random.default_rng(3)
    table = np.ascontiguousarray(0.05 + rng.random((3000, 23)))
    arms, summary = twin.run(table)
    for t in range(3000):
        p = ans.select(key_frame=False)
        assert p == arms[t]
        ans.update(p, float(table[t, p]))
    assert ans.snapshot() == twin.snapshot()
    assert summary["frames"] == 3000
    assert summary["total_delay"] >= summary["oracle_delay"]
    # simulate(): piecewise-linear delay model, bandwidth drop half way.
    thetas = np.array(
        [
            [2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1 / 18.88e6],
            [2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1 / 1.1e6],
        ]
    )
    sim = inc.MuLinUCB(contexts=contexts, front_delay=front, alpha=0.1, gamma=0.995)
    arms, delays, summary = sim.simulate(thetas, np.array([5000, 5000]), noise=0.01, seed=1)
    assert arms.shape == (10000,) and delays.shape == (10000,)
    assert (arms[-1000:] == 22).mean() > 0.85
    assert summary["oracle_hits"] > 8000


def test_linucb_and_disjoint_run_match_loops():
    rng = np.random.default_rng(5)
    T, K, d = 500, 6, 4
    ctx = rng.normal(size=(T, K, d))
    rew = rng.normal(size=(T, K))
    a = inc.LinUCB(dim=d, alpha=0.5)
    b = inc.LinUCB(dim=d, alpha=0.5)
    arms = a.run(ctx, rew)
    for t in range(T):
        k = b.select(ctx[t])
        assert k == arms[t]
        b.update(ctx[t, k], rew[t, k])
    assert a.snapshot() == b.snapshot()
    dis_a = inc.DisjointLinUCB(n_arms=K, dim=d, window=50)
    dis_b = inc.DisjointLinUCB(n_arms=K, dim=d, window=50)
    xs = rng.normal(size=(T, d))
    arms = dis_a.run(xs, rew)
    for t in range(T):
        k = dis_b.select(xs[t])
        assert k == arms[t]
        dis_b.update(k, xs[t], rew[t, k])
    assert dis_a.snapshot() == dis_b.snapshot()


def test_bad_input_raises_and_leaves_learner_unchanged(vgg16):
    contexts, front = vgg16
    pol = inc.LinUCB(dim=3, alpha=1.0, reg=1.0)
    pol.update(np.array([1.0, 2.0, 3.0]), 0.5)
    before = pol.snapshot()
    with pytest.raises(ValueError, match="shape"):
        pol.select(np.ones((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        pol.select(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="NaN"):
        pol.update(np.array([1.0, 2.0, 3.0]), float("nan"))
    with pytest.raises(ValueError, match="length"):
        pol.update(np.array([1.0, 2.0]), 1.0)
    with pytest.raises(TypeError):  # not numbers at all (float32, Fortran order: test_arraylike.py)
        pol.select([["a", "b", "c"]])
    assert pol.snapshot() == before
    with pytest.raises(ValueError, match="alpha"):
        inc.LinUCB(dim=3, alpha=-1.0)
    with pytest.raises(ValueError, match="reg"):
        inc.LinUCB(dim=3, reg=0.0)
    with pytest.raises(ValueError, match="gamma"):
        inc.LinUCB(dim=3, gamma=1.5)
    with pytest.raises(ValueError, match="gamma"):
        inc.LinUCB(dim=3, gamma=0.0)
    with pytest.raises(ValueError, match="window"):
        inc.LinUCB(dim=3, window=0)
    dis = inc.DisjointLinUCB(n_arms=3, dim=2)
    with pytest.raises(IndexError, match="arm 3"):
        dis.update(3, np.zeros(2), 1.0)
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front)
    snap = ans.snapshot()
    with pytest.raises(IndexError):
        ans.update(23, 0.1)
    with pytest.raises(ValueError):
        ans.update(0, float("inf"))
    with pytest.raises(ValueError):
        ans.select_weighted(1.0)
    assert ans.snapshot() == snap
    bad = contexts.copy()
    bad[2, 2] = np.inf
    with pytest.raises(ValueError):
        inc.MuLinUCB(contexts=bad, front_delay=front)
    with pytest.raises(ValueError):
        inc.MuLinUCB(contexts=contexts, front_delay=front[:5])
    with pytest.raises(ValueError, match="scaling"):
        inc.MuLinUCB(contexts=contexts, front_delay=front, scaling="zscore")


def test_snapshots_files_pickle_and_corruption(tmp_path, vgg16):
    contexts, front = vgg16
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front, window=100)
    rng = np.random.default_rng(2)
    for _ in range(300):
        p = ans.select(key_frame=bool(rng.random() < 0.2))
        ans.update(p, 0.1 + rng.random())
    blob = ans.snapshot()
    back = inc.MuLinUCB.restore(blob)
    assert back.policy == "window" and back.snapshot() == blob
    path = tmp_path / "ans.snap"
    ans.save(path)
    assert inc.MuLinUCB.load(path).snapshot() == blob
    assert pickle.loads(pickle.dumps(ans)).snapshot() == blob
    for n in range(0, len(blob), 7):
        with pytest.raises(ValueError):
            inc.MuLinUCB.restore(blob[:n])
    for i in range(0, len(blob), 5):
        corrupt = bytearray(blob)
        corrupt[i] ^= 0x04
        with pytest.raises(ValueError):
            inc.MuLinUCB.restore(bytes(corrupt))
    with pytest.raises(ValueError):
        inc.LinUCB.restore(blob)  # another learner's snapshot
    with pytest.raises(OSError):
        inc.MuLinUCB.load(tmp_path / "missing.snap")
    # Same future after restore.
    for _ in range(200):
        p = ans.select(key_frame=False)
        assert back.select(key_frame=False) == p
        ans.update(p, 0.3)
        back.update(p, 0.3)


def test_merge_equals_union():
    rng = np.random.default_rng(9)
    a, b, both = (inc.LinUCB(dim=4) for _ in range(3))
    for t in range(300):
        x = rng.normal(size=4)
        r = float(rng.normal())
        (a if t % 2 else b).update(x, r)
        both.update(x, r)
    a.merge(b)
    np.testing.assert_allclose(a.theta, both.theta, rtol=1e-10)
    assert a.n_updates == 300
    with pytest.raises(ValueError, match="policies"):
        a.merge(inc.LinUCB(dim=4, gamma=0.9))


@pytest.mark.parametrize("policy", [{}, {"gamma": 0.99}, {"window": 40}])
@pytest.mark.parametrize("where", ["contexts", "rewards"])
def test_run_is_all_or_nothing(policy, where):
    rng = np.random.default_rng(13)
    T, K, d = 120, 5, 3
    ctx, rew, xs = rng.normal(size=(T, K, d)), rng.normal(size=(T, K)), rng.normal(size=(T, d))
    lin, dis = inc.LinUCB(dim=d, **policy), inc.DisjointLinUCB(n_arms=K, dim=d, **policy)
    lin.run(ctx[:20], rew[:20])
    dis.run(xs[:20], rew[:20])
    for t in (0, 1, 57, T - 1):  # a bad value at frame t: frames before t must not be applied
        bad_ctx, bad_xs, bad_rew = ctx.copy(), xs.copy(), rew.copy()
        if where == "contexts":
            bad_ctx[t, 2, 1] = np.nan
            bad_xs[t, 1] = np.inf
        else:
            bad_rew[t, :] = np.nan
        before_lin, before_dis = lin.snapshot(), dis.snapshot()
        with pytest.raises(ValueError, match=rf"{where}\[{t}\]"):
            lin.run(bad_ctx, bad_rew)
        with pytest.raises(ValueError, match=rf"{where}\[{t}\]"):
            dis.run(bad_xs, bad_rew)
        assert lin.snapshot() == before_lin and dis.snapshot() == before_dis
    with pytest.raises(ValueError, match="shape"):
        lin.run(rng.normal(size=(3, K, d + 1)), rew[:3])
    with pytest.raises(ValueError, match="contexts"):
        dis.run(rng.normal(size=(3, d + 1)), rew[:3])
    assert lin.snapshot() == before_lin and dis.snapshot() == before_dis


def test_setstate_on_a_live_learner_restores_or_raises(vgg16):
    contexts, front = vgg16
    rng = np.random.default_rng(21)
    makers = [
        lambda: inc.LinUCB(dim=3, window=7),
        lambda: inc.DisjointLinUCB(n_arms=2, dim=3, gamma=0.9),
        lambda: inc.MuLinUCB(contexts=contexts, front_delay=front),
    ]
    for make in makers:
        trained, fresh = make(), make()
        for _ in range(30):
            if isinstance(trained, inc.LinUCB):
                X = rng.normal(size=(4, 3))
                trained.update(X[trained.select(X)], float(rng.normal()))
            elif isinstance(trained, inc.DisjointLinUCB):
                x = rng.normal(size=3)
                trained.update(trained.select(x), x, float(rng.normal()))
            else:
                trained.update(trained.select(), 0.1 + float(rng.random()))
        blob = trained.snapshot()
        assert fresh.snapshot() != blob
        before = fresh.snapshot()
        for garbage in (b"", b"garbage", blob[:-1], blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]):
            with pytest.raises(ValueError):
                fresh.__setstate__(garbage)
            assert fresh.snapshot() == before
        with pytest.raises(TypeError):
            fresh.__setstate__(42)
        assert fresh.__setstate__(blob) is None
        assert fresh.snapshot() == blob  # restored in place
        assert fresh.__getstate__() == blob
        twin = pickle.loads(pickle.dumps(trained, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(twin) is type(trained) and twin.snapshot() == blob
    with pytest.raises(ValueError):  # another family's snapshot
        inc.LinUCB(dim=3).__setstate__(inc.DisjointLinUCB(n_arms=2, dim=3).snapshot())


def test_simulate_rejects_frame_counts_that_overflow_or_are_huge(vgg16):
    contexts, front = vgg16
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front)
    thetas = np.full((4, 7), 1e-9)
    before = ans.snapshot()
    with pytest.raises(ValueError, match="frames"):
        ans.simulate(thetas, np.array([2**62] * 4))  # the int64 sum wraps
    with pytest.raises(ValueError, match="frames"):
        ans.simulate(thetas, np.array([2**27, 1, 0, 0]))  # the documented cap is 2**27 frames
    with pytest.raises(ValueError, match="negative"):
        ans.simulate(thetas, np.array([5, -1, 3, 2]))
    with pytest.raises(ValueError):
        ans.simulate(thetas[:0], np.array([], dtype=np.int64))
    assert ans.snapshot() == before
    arms, delays, summary = ans.simulate(thetas, np.array([3, 0, 2, 1]))
    assert arms.shape == delays.shape == (6,) and summary["frames"] == 6


def test_mulinucb_keyword_defaults_are_the_library_defaults(vgg16):
    """The defaults come from mu_linucb_options: they must be the official ANS constants."""
    import re  # noqa: PLC0415

    doc = inc.MuLinUCB.__init__.__doc__
    expected = {"reg": "1.0", "scaling": "'column_max'", "mu": "0.25", "initial_horizon": "200", "delta": "0.1",
                "c_noise": "0.05", "c_theta": "1.0", "l_key": "0.8", "l_nonkey": "0.2", "alpha": "None",
                "forced_sampling": "True", "arm_cache": "True", "gamma": "None", "window": "None"}
    got = {k: v for k, v in re.findall(r"\b(\w+): [^=,]*(?:\[[^\]]*\][^=,]*)?= ([^,)]+)", doc)}
    assert got == expected
    contexts, front = vgg16
    assert inc.MuLinUCB(contexts, front).snapshot() == inc.MuLinUCB(contexts, front, reg=1.0, mu=0.25).snapshot()
    assert inc.LinUCB(2, gamma=0.5).policy == "discounted" and inc.LinUCB(2).policy == "ridge"
