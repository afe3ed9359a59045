"""The threading contract: every bound object takes its own lock, so sharing one between Python
threads serialises the calls (no lost update, consistent state), and long calls that release the
GIL hold strong references to their inputs (another thread clearing them cannot crash the call).
Every loop is bounded in count; each test takes well under a second or two."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import incision as inc

N_THREADS = 4


def run_threads(target, n=N_THREADS):
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("policy", [{}, {"window": 64}, {"gamma": 0.999}])
def test_one_linucb_shared_by_threads_loses_no_update(policy):
    d, k, batch = 8, 2, 2000  # 4 threads x 2,000 updates in one long run() each, 10 rounds
    for rnd in range(10):
        rngs = [np.random.default_rng(100 * rnd + i) for i in range(N_THREADS)]
        work = [(r.normal(size=(batch, k, d)), r.normal(size=(batch, k))) for r in rngs]
        pol = inc.LinUCB(dim=d, alpha=0.3, **policy)
        chosen: list[list[tuple[np.ndarray, float]]] = [[] for _ in range(N_THREADS)]

        def worker(i, pol=pol, work=work, chosen=chosen):
            ctx, rew = work[i]
            arms = pol.run(ctx, rew)
            x = ctx[0, 0]
            pol.select(ctx[0])  # short calls beside the long ones
            pol.update(x, 0.0)
            chosen[i].extend((ctx[t, a], rew[t, a]) for t, a in enumerate(arms))
            chosen[i].append((x, 0.0))

        run_threads(worker)
        gram = pol.gram
        assert np.isfinite(gram).all() and np.isfinite(pol.theta).all()
        np.testing.assert_array_equal(gram, gram.T)
        assert inc.LinUCB.restore(pol.snapshot()).snapshot() == pol.snapshot()
        if not policy:  # order-free: A = I + sum x x^T, b = sum r x over every update, any interleaving
            assert pol.n_updates == N_THREADS * (batch + 1)
            xs = np.array([x for c in chosen for x, _ in c])
            rs = np.array([r for c in chosen for _, r in c])
            np.testing.assert_allclose(gram, np.eye(d) + xs.T @ xs, rtol=1e-9)
            np.testing.assert_allclose(pol.moment, xs.T @ rs, rtol=1e-9, atol=1e-9)
        elif "window" in policy:
            assert pol.n_updates == 64  # the window is full, not corrupted


def test_mulinucb_and_disjoint_shared_by_threads(data_dir):
    contexts, front = inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")
    ans = inc.MuLinUCB(contexts=contexts, front_delay=front)
    dis = inc.DisjointLinUCB(n_arms=3, dim=2)
    tables = [np.random.default_rng(i).random((500, len(front))) + 0.05 for i in range(N_THREADS)]

    def worker(i):
        rng = np.random.default_rng(i)
        ans.run(tables[i])
        for _ in range(250):
            arm = ans.select(key_frame=False)
            ans.update(arm, 0.1)
            x = rng.normal(size=2)
            dis.update(dis.select(x), x, 1.0)
        pickle.loads(pickle.dumps(ans))

    run_threads(worker)
    assert ans.n_frames == N_THREADS * (500 + 250)
    assert sum(dis.n_updates(a) for a in range(3)) == N_THREADS * 250
    assert inc.MuLinUCB.restore(ans.snapshot()).snapshot() == ans.snapshot()


def hellos(x, f, first_id, n):
    return [inc.FedLinUCBDW(first_id + i, f"g{i % 3}", x, f).hello() for i in range(n)]


def test_handle_batch_beside_handle_counts_every_device(data_dir):
    x, f = inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")
    msgs = hellos(x, f, 1, 2000)
    for _ in range(3):
        edge = inc.FedAggregator()

        def worker(i, edge=edge):
            if i:
                assert None not in edge.handle_batch(msgs[1000:])
            else:
                for m in msgs[:1000]:
                    edge.handle(m)

        run_threads(worker, n=2)
        assert edge.n_devices == len(msgs)
        assert edge.n_groups == 3
        assert edge.traffic["messages_in"] == len(msgs)


def test_handle_batch_survives_another_thread_clearing_its_list(data_dir):
    x, f = inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")
    template = hellos(x, f, 1, 2000)
    size = len(template[0])
    for _ in range(10):
        edge = inc.FedAggregator()
        msgs = [bytes(bytearray(m)) for m in template]  # only the list refers to these objects
        started = threading.Event()
        junk = []

        def clear(msgs=msgs, started=started, junk=junk):
            started.wait()
            msgs.clear()
            junk.extend(b"\xff" * size for _ in range(3000))  # reuses the freed memory

        t = threading.Thread(target=clear)
        t.start()
        started.set()
        replies = edge.handle_batch(msgs)
        t.join()
        # Either the clear came first (nothing to handle) or every message it was given was handled,
        # none read from freed memory.
        assert len(replies) in (0, len(template))
        assert None not in replies
        assert edge.n_devices == len(replies)


def test_run_lockstep_survives_another_thread_clearing_its_lists(data_dir):
    x, f = inc.load_arm_table(data_dir / "ans" / "vgg16_arms.csv")
    frames, n = 300, 4
    rng = np.random.default_rng(8)
    for _ in range(10):
        edge = inc.FedAggregator()
        devs = [inc.FedLinUCBDW(i + 1, "vgg16", x, f, upload_threshold=0.0) for i in range(n)]
        for dev in devs:
            dev.receive(edge.handle(dev.hello()))
        tables = [rng.random((frames, len(f))) for _ in range(n)]
        started = threading.Event()

        def clear(devs=devs, tables=tables, started=started):
            started.wait()
            devs.clear()
            tables.clear()

        t = threading.Thread(target=clear)
        t.start()
        started.set()
        try:
            arms = inc.run_lockstep(devs, edge, tables, np.zeros((n, frames), dtype=bool))
        except ValueError as e:  # the clear came before the arguments were read
            assert "one delay table" in str(e)
        else:
            assert arms.shape == (n, frames)
            assert arms.min() >= 0 and arms.max() < len(f)
        t.join()


def test_concurrent_merges_in_opposite_order_do_not_deadlock():
    a, b = inc.LinUCB(dim=3), inc.LinUCB(dim=3)
    a.update(np.ones(3), 1.0)
    b.update(np.ones(3), 2.0)

    def worker(i):
        for _ in range(25):  # each merge adds the other's data: 100 merges stay finite
            a.merge(b) if i % 2 else b.merge(a)
            a.run(np.ones((5, 2, 3)), np.ones((5, 2)))

    run_threads(worker)
    assert np.isfinite(a.gram).all() and np.isfinite(b.gram).all()


def test_partitioners_beside_graph_mutation(data_dir):
    """The partitioners run without the GIL on a locked graph while another thread grows it."""
    g = inc.LayerGraph()
    prev = g.add_layer("in", 0.0, 0.0, 1e5)
    for i in range(60):
        v = g.add_layer(f"l{i}", 1e-3 * (i % 7 + 1), 1e-4 * (i % 5 + 1), 1e4 * (i % 9 + 1))
        g.add_edge(prev, v)
        prev = v
    last = [prev]

    def worker(i):
        for j in range(20):
            if i == 0:
                v = g.add_layer(f"x{j}", 1e-3, 1e-4, 1e3)
                g.add_edge(last[0], v)
                last[0] = v
            elif i == 1:
                assert inc.dsh(g, 1e6, grid=5, levels=2).status
            elif i == 2:
                assert len(inc.BandwidthMap(g, 1e5, 1e8)) >= 1
            else:
                assert len(inc.dsl(g, 1e6).on_device) >= 61

    run_threads(worker)
    assert len(g) == 61 + 20 and g.num_edges == 80
    assert len(inc.dsl(g, 1e6).on_device) == len(g)
