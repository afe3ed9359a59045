"""FedLinUCB-DW side by side with the way the public federated linear bandit codes work.

The public codes (uclaml/FedLinUCB, cyrilli/Async-LinUCB, cyrilli/FedGLB-UCB's DisLinUCB; see the
peer survey) are single-process numpy simulations: each client keeps A, b as arrays, inverts A and
recomputes determinants every step to evaluate its upload rule, and the server sums arrays in a
Python loop; "communication" is a counter. This script re-implements those two inner loops in numpy
(our own code, written from their published descriptions) and times them in one run against
incision's C++ core called from Python:

  1. device step: add one observation and evaluate the log-det upload rule (d = 7 and 16);
  2. an aggregation round: 10,000 devices of 3 types each contribute one observation at d = 16
     (numpy: sum arrays per group; incision: decode + validate + add + ack real byte messages,
     then one broadcast download per group).

Times are CPU time of this process (time.process_time), best of several runs.

    python bench/federated_peers.py [--out docs/results/federated_peers.json | --out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import incision as inc


def clock() -> float:
    # CPU time of this process: the machine is shared, wall time would count waiting for a core.
    return time.process_time()


def best_of(fn, repeats: int = 5) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def device_step_numpy(d: int, steps: int, rng: np.random.Generator) -> float:
    """DisLinUCB/Async-LinUCB style: A += x x^T, b += y x, inv(A), det(A) / det(A_sync) each step."""
    xs = rng.normal(0, 0.1, size=(steps, d))
    ys = rng.normal(0, 1, size=steps)

    def run():
        a = np.eye(d)
        b = np.zeros(d)
        a_sync_det = np.linalg.det(a)
        n = 0
        for x, y in zip(xs, ys):
            a += np.outer(x, x)
            b += y * x
            inv = np.linalg.inv(a)  # the codes keep theta = inv(A) b current
            _theta = inv @ b
            n += 1
            _score = math.log(np.linalg.det(a) / a_sync_det) * n

    return best_of(run, 3) / steps


def device_step_incision(d: int, steps: int, rng: np.random.Generator) -> float:
    """FedLinUCBDW.update + upload_score from Python (one offloading arm per step)."""
    k = 24
    x = rng.uniform(0, 1, size=(k, d))
    x[-1] = 0.0  # all-on-device arm
    f = np.linspace(0, 0.5, k)
    arms = rng.integers(0, k - 1, size=steps)
    ys = rng.normal(0.3, 0.05, size=steps)

    def run():
        dev = inc.FedLinUCBDW(1, "g", x, f, upload_threshold=math.inf)
        for a, y in zip(arms.tolist(), ys.tolist()):
            dev.update(a, y)
            _ = dev.upload_score

    return best_of(run, 3) / steps


GROUPS = ["vgg16/jetson-tx2", "vgg16/jetson-nano", "tiny-yolov2/rpi4"]


def aggregation_numpy_loop(n: int, d: int, rng: np.random.Generator) -> float:
    """The peers' server: a Python loop adding each client's (dA, db) into its group's arrays."""
    xs = rng.normal(0, 1, size=(n, d))
    ys = rng.normal(0, 1, size=n)
    da = [np.outer(x, x) for x in xs]
    db = [y * x for x, y in zip(xs, ys)]

    def run():
        ga = {g: np.zeros((d, d)) for g in GROUPS}
        gb = {g: np.zeros(d) for g in GROUPS}
        comm = 0
        for i in range(n):
            g = GROUPS[i % 3]
            ga[g] += da[i]
            gb[g] += db[i]
            comm += 1

    return best_of(run)


def aggregation_numpy_vectorised(n: int, d: int, rng: np.random.Generator) -> float:
    """Best case for numpy: stacked uploads summed per group in three reductions."""
    xs = rng.normal(0, 1, size=(n, d))
    ys = rng.normal(0, 1, size=n)
    da = np.einsum("ni,nj->nij", xs, xs)
    db = xs * ys[:, None]
    groups = np.arange(n) % 3

    def run():
        for g in range(3):
            m = groups == g
            da[m].sum(axis=0)
            db[m].sum(axis=0)

    return best_of(run)


def aggregation_incision(n: int, d: int, rng: np.random.Generator) -> tuple[float, int]:
    """Real messages through FedAggregator.handle (decode, validate, add, ack), from Python."""
    rounds = 6
    edge = inc.FedAggregator()  # timed
    staging = inc.FedAggregator()  # produces the messages (and clears each device's in-flight upload)
    x = rng.uniform(0, 1, size=(4, d))
    x[-1] = 0.0
    f = np.zeros(4)
    devs = [inc.FedLinUCBDW(i + 1, GROUPS[i % 3], x, f, upload_threshold=0.0) for i in range(n)]
    for dev in devs:
        edge.handle(dev.hello())
        dev.receive(staging.handle(dev.hello()))
    msgs = []
    for _ in range(rounds):
        batch = []
        for dev in devs:
            dev.update(int(rng.integers(0, 3)), float(rng.normal(0.3, 0.05)))
            up = dev.make_upload()
            batch.append(up)
            dev.receive(staging.handle(up))
            dev.receive(staging.download_for(dev.device_id))
        msgs.append(batch)
    # Replay the same uploads, in order, to the timed edge.
    times_loop, times_batch = [], []
    handle = edge.handle
    for r, batch in enumerate(msgs):
        t0 = clock()
        if r % 2 == 0:  # alternate: one call per message, or one call per round
            for m in batch:
                handle(m)
        else:
            edge.handle_batch(batch)
        for g in GROUPS:
            edge.broadcast(g)
        (times_loop if r % 2 == 0 else times_batch).append(clock() - t0)
    assert edge.group_count(GROUPS[0]) == staging.group_count(GROUPS[0])
    return min(times_loop), min(times_batch), len(msgs[0][0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, default=10000)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    out: dict = {"devices": a.devices}
    print("device step (add one observation + evaluate the log-det upload rule), per step:")
    for d in (7, 16):
        tn = device_step_numpy(d, 3000, rng)
        ti = device_step_incision(d, 20000, rng)
        out[f"device_step_d{d}"] = {"numpy_peer_s": tn, "incision_from_python_s": ti, "ratio": tn / ti}
        print(f"  d={d:2d}: numpy (inv + det per step) {tn * 1e6:8.2f} us   incision from Python {ti * 1e6:6.2f} us"
              f"   ratio {tn / ti:6.1f}x")
    d = 16
    tl = aggregation_numpy_loop(a.devices, d, rng)
    tv = aggregation_numpy_vectorised(a.devices, d, rng)
    ti_loop, ti, nbytes = aggregation_incision(a.devices, d, rng)
    out["aggregation_round"] = {"numpy_loop_s": tl, "numpy_vectorised_s": tv,
                                "incision_handle_per_message_s": ti_loop, "incision_handle_batch_s": ti,
                                "upload_bytes": nbytes, "ratio_vs_loop": tl / ti, "ratio_vs_vectorised": tv / ti}
    print(f"aggregation round, {a.devices} devices, d={d} (one observation each):")
    print(f"  numpy loop over clients (peers' server)      {tl * 1e3:8.2f} ms")
    print(f"  numpy vectorised sums (best case, no bytes)  {tv * 1e3:8.2f} ms")
    print(f"  incision, {nbytes}-byte messages, handle() per message {ti_loop * 1e3:8.2f} ms")
    print(f"  incision, {nbytes}-byte messages, handle_batch()       {ti * 1e3:8.2f} ms"
          f"   ({tl / ti:.1f}x the loop, {tv / ti:.1f}x the vectorised sums)")
    if a.out is not None:
        if a.out.is_dir():  # scripts/bench.sh passes its results directory
            a.out = a.out / "federated_peers.json"
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(out, indent=1))
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
