"""Side-by-side timing of incision's bandits against Python peers, in one run.

- muLinUCB on the ANS VGG16 arm table (K=23, d=7), select + update per frame: a numpy
  implementation of the official loop (inverts A and loops over arms every frame) vs ours
  from Python per call, ours batched (whole stream in C++), and ours in C++ (bench_bandit).
- Disjoint LinUCB, K=10 arms, d=16, one decision = predict/select + update: MABWiser and
  contextualbandits (PyPI, requirements/bench.txt) vs ours (per call, batched, C++).
- Python call overhead per select, and batched simulation throughput (frames/s).

Usage: python bench/bandit_peers.py --out DIR [--cpp-bench build/.../bench_bandit]
Writes DIR/bandit_peers.json and prints a table.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# One BLAS thread: CPU time of a multi-threaded BLAS call would overstate the peers' cost.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import incision as inc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from reference import OfficialLoop  # noqa: E402

# Process CPU time, not wall time: the benchmark machine is shared, and CPU time is what both
# sides of every comparison actually spend (the C++ numbers are Google Benchmark's cpu_time).
clock = time.process_time


def per_call(fn, n, repeat=3):
    """Best-of-`repeat` mean CPU seconds per call of fn(i) for i in range(n)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for i in range(n):
            fn(i)
        best = min(best, (clock() - t0) / n)
    return best


def cpp_numbers(exe):
    if not exe:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "b.json"
        flt = "mu_linucb/vgg16/frame/fixed7/cache|linucb/select/fixed16|linucb/update/fixed16|disjoint_linucb/select\\+update/K:10/d:16"
        subprocess.run(
            [exe, f"--benchmark_filter={flt}", "--benchmark_min_time=0.3", f"--benchmark_out={out}", "--benchmark_out_format=json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data = json.loads(out.read_text())
    res = {}
    for b in data["benchmarks"]:
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]]
        res[b["name"]] = b["cpu_time"] * scale
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "results"))
    ap.add_argument("--cpp-bench", default="", help="path to the bench_bandit executable")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_scale = 0.2 if args.quick else 1.0
    rng = np.random.default_rng(0)
    contexts, front = inc.load_arm_table(ROOT / "data" / "ans" / "vgg16_arms.csv")
    theta = np.array([2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1 / 5.85e6])
    n_frames = int(4000 * n_scale)
    delays = np.ascontiguousarray(contexts @ theta + 0.01 * rng.normal(size=(n_frames, 23)))
    keys = rng.random(n_frames) < 0.2
    results = {}

    # --- muLinUCB, VGG16 ---
    ref = OfficialLoop(contexts, front, np.ones(7))

    def official(i):
        a = ref.select(bool(keys[i]))
        ref.update(a, float(delays[i, a]))

    results["mulinucb_numpy_official_s_per_frame"] = per_call(official, n_frames, repeat=1)
    ours = inc.MuLinUCB(contexts=contexts, front_delay=front)

    def ours_call(i):
        a = ours.select(bool(keys[i]))
        ours.update(a, float(delays[i, a]))

    results["mulinucb_ours_python_per_call_s_per_frame"] = per_call(ours_call, n_frames)
    big = int(1_000_000 * n_scale)
    thetas = np.array([theta, theta * np.array([1, 1, 1, 1, 1, 1, 5.85 / 1.1])])
    segs = np.array([big // 2, big - big // 2], dtype=np.int64)
    best = float("inf")
    for _ in range(3):
        sim = inc.MuLinUCB(contexts=contexts, front_delay=front)
        t0 = clock()
        sim.simulate(thetas, segs, noise=0.01, seed=1, key_prob=0.2)
        best = min(best, clock() - t0)
    results["mulinucb_ours_batched_simulate_s_per_frame"] = best / big
    results["mulinucb_ours_batched_frames_per_s"] = big / best
    table_frames = np.ascontiguousarray(np.tile(delays, (max(1, big // n_frames // 4), 1)))
    sim = inc.MuLinUCB(contexts=contexts, front_delay=front)
    t0 = clock()
    sim.run(table_frames)
    results["mulinucb_ours_batched_run_table_s_per_frame"] = (clock() - t0) / table_frames.shape[0]

    # --- Python call overhead ---
    results["python_mulinucb_select_s_per_call"] = per_call(lambda i: ours.select(False), 200_000 if not args.quick else 20_000)
    X10 = np.ascontiguousarray(rng.normal(size=(10, 16)))
    lin = inc.LinUCB(dim=16, alpha=1.0, reg=1.0)
    for _ in range(100):
        lin.update(rng.normal(size=16), 0.1)
    results["python_linucb_select_K10_d16_s_per_call"] = per_call(lambda i: lin.select(X10), 100_000 if not args.quick else 10_000)

    # --- Disjoint LinUCB vs peers, K=10, d=16 ---
    K, d = 10, 16
    n_dec = int(400 * n_scale) or 50
    Xs = np.ascontiguousarray(rng.normal(size=(max(n_dec, 20000), d)))
    R = np.ascontiguousarray(rng.normal(size=(Xs.shape[0], K)))
    peers = {}
    try:
        from mabwiser.mab import MAB, LearningPolicy

        mab = MAB(arms=list(range(K)), learning_policy=LearningPolicy.LinUCB(alpha=1.0, l2_lambda=1.0), seed=1)
        mab.fit(decisions=list(range(K)), rewards=[0.0] * K, contexts=Xs[:K])

        def mab_step(i):
            a = mab.predict(Xs[i : i + 1])
            mab.partial_fit([a], [float(R[i, a])], Xs[i : i + 1])

        peers["mabwiser"] = per_call(mab_step, n_dec, repeat=1)
        peers["mabwiser_version"] = importlib.metadata.version("mabwiser")
    except Exception as e:  # noqa: BLE001 - record why a peer is missing
        peers["mabwiser_error"] = repr(e)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from contextualbandits.online import LinUCB as CbLinUCB

            cb = CbLinUCB(nchoices=K, alpha=1.0, lambda_=1.0)
            cb.fit(Xs[:K], np.arange(K), np.zeros(K))

            def cb_step(i):
                a = int(cb.predict(Xs[i : i + 1])[0])
                cb.partial_fit(Xs[i : i + 1], np.array([a]), np.array([float(R[i, a])]))

            peers["contextualbandits"] = per_call(cb_step, n_dec, repeat=1)
        peers["contextualbandits_version"] = importlib.metadata.version("contextualbandits")
    except Exception as e:  # noqa: BLE001
        peers["contextualbandits_error"] = repr(e)
    dis = inc.DisjointLinUCB(n_arms=K, dim=d, alpha=1.0, reg=1.0)

    def dis_step(i):
        a = dis.select(Xs[i])
        dis.update(a, Xs[i], float(R[i, a]))

    peers["ours_python_per_call"] = per_call(dis_step, 20000 if not args.quick else 2000)
    dis2 = inc.DisjointLinUCB(n_arms=K, dim=d, alpha=1.0, reg=1.0)
    t0 = clock()
    dis2.run(Xs, R)
    peers["ours_batched_run"] = (clock() - t0) / Xs.shape[0]
    results["disjoint_linucb_K10_d16_s_per_decision"] = peers

    cpp = cpp_numbers(args.cpp_bench)
    results["cpp"] = cpp

    # --- ratios ---
    ratios = {}
    off = results["mulinucb_numpy_official_s_per_frame"]
    if "mu_linucb/vgg16/frame/fixed7/cache" in cpp:
        ratios["mulinucb_numpy_official_over_ours_cpp"] = off / cpp["mu_linucb/vgg16/frame/fixed7/cache"]
    ratios["mulinucb_numpy_official_over_ours_batched"] = off / results["mulinucb_ours_batched_simulate_s_per_frame"]
    ratios["mulinucb_numpy_official_over_ours_python_per_call"] = off / results["mulinucb_ours_python_per_call_s_per_frame"]
    for peer in ("mabwiser", "contextualbandits"):
        if peer in peers:
            if "disjoint_linucb/select+update/K:10/d:16" in cpp:
                ratios[f"{peer}_over_ours_cpp"] = peers[peer] / cpp["disjoint_linucb/select+update/K:10/d:16"]
            ratios[f"{peer}_over_ours_batched"] = peers[peer] / peers["ours_batched_run"]
            ratios[f"{peer}_over_ours_python_per_call"] = peers[peer] / peers["ours_python_per_call"]
    report = {
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "processor": platform.processor(),
        },
        "results": results,
        "ratios": ratios,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bandit_peers.json").write_text(json.dumps(report, indent=2, default=str) + "\n")

    def us(s):
        return f"{s * 1e6:10.3f} us"

    print("muLinUCB, VGG16 (K=23, d=7), select + update per frame")
    print(f"  numpy official loop        {us(off)}")
    if "mu_linucb/vgg16/frame/fixed7/cache" in cpp:
        print(f"  incision C++               {us(cpp['mu_linucb/vgg16/frame/fixed7/cache'])}")
    print(f"  incision batched (simulate){us(results['mulinucb_ours_batched_simulate_s_per_frame'])}  "
          f"= {results['mulinucb_ours_batched_frames_per_s']:.3g} frames/s")
    print(f"  incision Python per call   {us(results['mulinucb_ours_python_per_call_s_per_frame'])}")
    print("Disjoint LinUCB, K=10, d=16, one decision (select + update)")
    for k, v in peers.items():
        if isinstance(v, float):
            print(f"  {k:26s} {us(v)}")
    if cpp:
        for k, v in cpp.items():
            print(f"  C++ {k:40s} {us(v)}")
    print("Python call overhead")
    print(f"  MuLinUCB.select            {us(results['python_mulinucb_select_s_per_call'])}")
    print(f"  LinUCB.select K=10 d=16    {us(results['python_linucb_select_K10_d16_s_per_call'])}")
    print("Ratios")
    for k, v in ratios.items():
        print(f"  {k:50s} {v:12.1f}x")


if __name__ == "__main__":
    main()
