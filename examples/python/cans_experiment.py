"""CANS setting in simulation: heterogeneous devices of three types share one edge server.

Compares, on the same bandwidth traces and noise, average inference latency over time for
  * non-cooperative muLinUCB (every device learns alone; ANS),
  * FedLinUCB-DW without warm start (devices of one type pool their statistics at the edge),
  * FedLinUCB-DW (pooling plus a warm start from each device's own offline measurements),
  * FedLinUCB-DW with wrong offline data (robustness: offloading measured 4x too slow),
for 2 devices and for 50 devices, and reports the latency reduction against the non-cooperative
baseline and the bytes the devices exchanged with the edge.

The ground truth is linear in the ANS arm contexts (data/ans, from the official ANS code): per-layer
overheads, per-MAC server time (per device type) and 1/bandwidth on the bits to ship, plus Gaussian
noise; each device has its own bandwidth trace, a log-normal AR(1) around its type's DADS uplink level
(CAT1 0.13, 3G 1.1, 4G 5.85, Wi-Fi 18.88 Mbit/s). Front-end delays are the ANS Jetson measurements
scaled per device type. Everything here is our simulation, not the CANS paper's (only its abstract
is public): see docs/federated.md.

    python examples/python/cans_experiment.py            # default run (< 1 minute)
    python examples/python/cans_experiment.py --frames 4000 --seeds 20 --out docs/results
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import incision as inc

REPO = Path(__file__).resolve().parents[2]
COLS = ["n_conv", "n_fc", "n_act", "mac_conv", "mac_fc", "mac_act", "tx_bits"]
MBIT = 1e6  # the DADS levels are Mbit/s; the ANS tables count bits


@dataclass(frozen=True)
class DeviceType:
    name: str
    table: str
    front_scale: float  # device-specific front-end speed (x the ANS Jetson measurements)
    uplink_mbit: float  # the type's typical uplink (a DADS level)
    server_scale: float  # per-type server time per MAC (x the reference)


TYPES = [
    DeviceType("vgg16/jetson-tx2", "vgg16_arms.csv", 1.0, 18.88, 1.0),
    DeviceType("vgg16/jetson-nano", "vgg16_arms.csv", 2.5, 5.85, 1.0),
    DeviceType("tiny-yolov2/rpi4", "tiny_yolov2_arms.csv", 8.0, 18.88, 1.5),
]


def load_arms(name: str) -> tuple[np.ndarray, np.ndarray]:
    rows = np.genfromtxt(REPO / "data" / "ans" / name, delimiter=",", names=True)
    x = np.stack([rows[c] for c in COLS], axis=1).astype(np.float64)
    return np.ascontiguousarray(x), np.ascontiguousarray(rows["front_delay_s"].astype(np.float64))


def theta(kind: DeviceType, bandwidth_bit_s: np.ndarray | float) -> np.ndarray:
    """Raw-space coefficients: per-layer overheads, per-MAC server time, 1/bandwidth on the bits."""
    s = kind.server_scale
    fixed = np.array([1e-3, 5e-4, 2e-4, 2e-12 * s, 4e-12 * s, 1e-11 * s])
    bw = np.atleast_1d(np.asarray(bandwidth_bit_s, dtype=np.float64))
    return np.concatenate([np.broadcast_to(fixed, (bw.size, 6)), (1.0 / bw)[:, None]], axis=1)


def bandwidth_trace(rng: np.random.Generator, level_mbit: float, frames: int, sigma: float = 0.35,
                    rho: float = 0.98) -> np.ndarray:
    """Log-normal AR(1) around the level: slow fades with occasional deep drops."""
    z = np.empty(frames)
    z[0] = rng.normal(0, sigma)
    eps = rng.normal(0, sigma * math.sqrt(1 - rho * rho), size=frames)
    for t in range(1, frames):
        z[t] = rho * z[t - 1] + eps[t]
    return level_mbit * MBIT * np.exp(z - sigma * sigma / 2)


@dataclass
class Device:
    kind: DeviceType
    x: np.ndarray
    front: np.ndarray
    offload: np.ndarray  # (frames, K) realised offloading delays (noise included), 0 for the local arm
    key: np.ndarray  # (frames,) key-frame flags
    offline_arms: list[int]
    offline_good: list[float]
    offline_wrong: list[float]


def make_devices(n: int, frames: int, rng: np.random.Generator, noise: float = 0.02,
                 sigma: float = 0.35) -> list[Device]:
    """n devices; with n < 3 all of the first type (a two-device prototype of one kind), else the
    three types in turn."""
    tables = {t.table: load_arms(t.table) for t in TYPES}
    out = []
    for i in range(n):
        kind = TYPES[i % len(TYPES)] if n >= len(TYPES) else TYPES[0]
        x, front = tables[kind.table]
        front = front * kind.front_scale
        bw = bandwidth_trace(rng, kind.uplink_mbit, frames, sigma=sigma)
        mean = np.einsum("kd,td->tk", x, theta(kind, bw))
        offload = mean + rng.normal(0, noise, size=mean.shape)
        local = np.all(x == 0, axis=1)
        offload[:, local] = 0.0
        key = rng.random(frames) < 0.2
        # Offline experience: 2 measurements of 12 random offloading arms, taken at another time
        # (a bandwidth drawn around the type's level); "wrong" data sees offloading 4x slower.
        candidates = np.flatnonzero(~local)
        arms = list(np.repeat(rng.choice(candidates, size=12, replace=False), 2))
        past_bw = kind.uplink_mbit * MBIT * rng.uniform(0.7, 1.3)
        past = x[arms] @ theta(kind, past_bw)[0] + rng.normal(0, noise, size=len(arms))
        good = list(np.maximum(past, 0.0))
        wrong = list(4.0 * np.maximum(past, 0.0))
        out.append(Device(kind, x, front, np.ascontiguousarray(offload), key, [int(a) for a in arms], good, wrong))
    return out


def run(devices: list[Device], method: str, threshold: float) -> dict:
    cooperative = method != "mulinucb"
    learners = []
    for i, d in enumerate(devices):
        # Non-cooperative: each device alone (never uploads; tested equal to muLinUCB).
        learner = inc.FedLinUCBDW(i + 1, d.kind.name, d.x, d.front,
                                  upload_threshold=threshold if cooperative else math.inf)
        if method == "fed_warm":
            learner.warm_start(d.offline_arms, d.offline_good)
        elif method == "fed_wrong":
            learner.warm_start(d.offline_arms, d.offline_wrong)
        learners.append(learner)
    edge = inc.FedAggregator() if cooperative else None
    if edge is not None:
        for learner in learners:
            learner.receive(edge.handle(learner.hello()))
    arms = inc.run_lockstep(learners, edge, [d.offload for d in devices], np.stack([d.key for d in devices]))
    frames = arms.shape[1]
    latency = np.empty(arms.shape)
    for i, d in enumerate(devices):
        latency[i] = d.front[arms[i]] + d.offload[np.arange(frames), arms[i]]
    bytes_total = sum(lr.traffic["bytes_in"] + lr.traffic["bytes_out"] for lr in learners)
    messages = sum(lr.traffic["messages_in"] + lr.traffic["messages_out"] for lr in learners)
    return {"latency": latency, "bytes": int(bytes_total), "messages": int(messages),
            "uploads": int(sum(lr.n_uploads for lr in learners))}


def oracle_latency(devices: list[Device]) -> np.ndarray:
    """Best arm per frame knowing the realised delays (a lower bound no learner reaches)."""
    return np.stack([np.min(d.front[None, :] + d.offload, axis=1) for d in devices])


METHODS = {
    "mulinucb": "non-cooperative muLinUCB",
    "fed_cold": "FedLinUCB-DW, no warm start",
    "fed_warm": "FedLinUCB-DW",
    "fed_wrong": "FedLinUCB-DW, wrong offline data",
}


def experiment(n_devices: int, frames: int, seeds: int, threshold: float, seed0: int, sigma: float) -> dict:
    curves = {m: np.zeros(frames) for m in METHODS}
    totals = {m: {"bytes": 0, "messages": 0, "uploads": 0, "mean_latency": 0.0, "early_latency": 0.0,
                  "first100_latency": 0.0} for m in METHODS}
    best = np.zeros(frames)
    early = min(frames, 500)
    for s in range(seeds):
        rng = np.random.default_rng(seed0 + 1000 * n_devices + s)
        devices = make_devices(n_devices, frames, rng, sigma=sigma)
        best += oracle_latency(devices).mean(axis=0) / seeds
        for m in METHODS:
            r = run(devices, m, threshold)
            curves[m] += r["latency"].mean(axis=0) / seeds
            totals[m]["bytes"] += r["bytes"] / seeds
            totals[m]["messages"] += r["messages"] / seeds
            totals[m]["uploads"] += r["uploads"] / seeds
            totals[m]["mean_latency"] += float(r["latency"].mean()) / seeds
            totals[m]["early_latency"] += float(r["latency"][:, :early].mean()) / seeds
            totals[m]["first100_latency"] += float(r["latency"][:, :100].mean()) / seeds
    base = totals["mulinucb"]
    for m in METHODS:
        t = totals[m]
        t["reduction_vs_noncoop"] = 1.0 - t["mean_latency"] / base["mean_latency"]
        t["early_reduction_vs_noncoop"] = 1.0 - t["early_latency"] / base["early_latency"]
        t["first100_reduction_vs_noncoop"] = 1.0 - t["first100_latency"] / base["first100_latency"]
        t["bytes_per_device_frame"] = t["bytes"] / (n_devices * frames)
    return {"n_devices": n_devices, "frames": frames, "seeds": seeds, "early_frames": early,
            "oracle_mean_latency": float(best.mean()), "methods": totals,
            "curves": {m: np.round(c, 5).tolist() for m, c in curves.items()},
            "oracle_curve": np.round(best, 5).tolist()}


def threshold_sweep(n_devices: int, frames: int, thresholds: list[float], seeds: int, seed0: int,
                    sigma: float) -> dict:
    """Communication against latency: FedLinUCB-DW (warm) at several upload thresholds."""
    acc = {th: {"lat": 0.0, "bytes": 0.0, "uploads": 0.0} for th in thresholds}
    base = 0.0
    for s in range(seeds):
        rng = np.random.default_rng(seed0 + 7 + s)
        devices = make_devices(n_devices, frames, rng, sigma=sigma)
        base += run(devices, "mulinucb", math.inf)["latency"].mean() / seeds
        for th in thresholds:
            r = run(devices, "fed_warm", th)
            acc[th]["lat"] += float(r["latency"].mean()) / seeds
            acc[th]["bytes"] += r["bytes"] / (n_devices * frames) / seeds
            acc[th]["uploads"] += r["uploads"] / seeds
    rows = [{"threshold": th, "mean_latency": v["lat"], "reduction_vs_noncoop": 1.0 - v["lat"] / base,
             "bytes_per_device_frame": v["bytes"], "uploads": v["uploads"]} for th, v in acc.items()]
    return {"n_devices": n_devices, "frames": frames, "seeds": seeds, "noncoop_mean_latency": float(base),
            "rows": rows}


def smooth(y: np.ndarray, w: int) -> np.ndarray:
    w = max(1, min(w, len(y)))
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = np.empty(len(y))
    for t in range(len(y)):
        lo = max(0, t - w + 1)
        out[t] = (c[t + 1] - c[lo]) / (t + 1 - lo)
    return out


def plot(results: list[dict], path: Path, sweep: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results) + (sweep is not None)
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.2), sharey=False)
    axes = np.atleast_1d(axes)
    styles = {"mulinucb": ("tab:gray", "-"), "fed_cold": ("tab:blue", "-"), "fed_warm": ("tab:red", "-"),
              "fed_wrong": ("tab:orange", "--")}
    for ax, r in zip(axes, results):
        w = max(10, r["frames"] // 40)
        for m, label in METHODS.items():
            c, ls = styles[m]
            red = r["methods"][m]["reduction_vs_noncoop"]
            tag = "" if m == "mulinucb" else f" ({-100 * red:+.0f}% latency)"
            ax.plot(smooth(np.array(r["curves"][m]), w), color=c, ls=ls, label=label + tag)
        ax.plot(smooth(np.array(r["oracle_curve"]), w), color="k", ls=":", label="oracle (per-frame best)")
        ax.set_title(f"{r['n_devices']} devices, {r['seeds']} seeds")
        ax.set_xlabel("frame")
        ax.set_ylabel(f"mean latency over devices [s], moving mean {w}")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if sweep is not None:
        ax = axes[-1]
        xs = [max(r["bytes_per_device_frame"], 1e-3) for r in sweep["rows"]]
        ys = [r["mean_latency"] for r in sweep["rows"]]
        ax.plot(xs, ys, "o-", color="tab:red", label="FedLinUCB-DW")
        for r, x, y in zip(sweep["rows"], xs, ys):
            ax.annotate(f"threshold {r['threshold']:g}", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
        ax.axhline(sweep["noncoop_mean_latency"], color="tab:gray", label="non-cooperative muLinUCB")
        ax.set_xscale("log")
        ax.set_xlabel("bytes per device per frame (both directions)")
        ax.set_ylabel("mean latency [s]")
        ax.set_title(f"upload threshold sweep, {sweep['n_devices']} devices, {sweep['seeds']} seeds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("CANS setting (simulation): FedLinUCB-DW vs non-cooperative muLinUCB")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=3000)
    p.add_argument("--seeds", type=int, default=20, help="seeds for the 2-device case")
    p.add_argument("--seeds-50", type=int, default=3, help="seeds for the 50-device case")
    p.add_argument("--threshold", type=float, default=1.0, help="upload threshold (log-det ratio x count)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--sigma", type=float, default=0.35, help="log-normal spread of the bandwidth traces")
    p.add_argument("--out", type=Path, default=None, help="directory for the JSON and PNG (default: print only)")
    a = p.parse_args()
    t0 = time.perf_counter()
    results = [experiment(2, a.frames, a.seeds, a.threshold, a.seed, a.sigma),
               experiment(50, a.frames, a.seeds_50, a.threshold, a.seed, a.sigma)]
    sweep = threshold_sweep(50, a.frames, [0.0, 0.1, 1.0, 10.0, 100.0], a.seeds_50, a.seed, a.sigma)
    elapsed = time.perf_counter() - t0
    for r in results:
        print(f"== {r['n_devices']} devices, {r['frames']} frames, {r['seeds']} seeds "
              f"(oracle {r['oracle_mean_latency']:.3f} s)")
        print(f"{'method':36s} {'mean [s]':>9s} {'vs ANS':>8s} {'first 100':>10s} {'vs ANS':>8s} "
              f"{'first ' + str(r['early_frames']):>10s} {'vs ANS':>8s} {'B/dev/frame':>12s} {'uploads':>8s}")
        for m, label in METHODS.items():
            t = r["methods"][m]
            print(f"{label:36s} {t['mean_latency']:9.3f} {100 * t['reduction_vs_noncoop']:7.1f}% "
                  f"{t['first100_latency']:10.3f} {100 * t['first100_reduction_vs_noncoop']:7.1f}% "
                  f"{t['early_latency']:10.3f} {100 * t['early_reduction_vs_noncoop']:7.1f}% "
                  f"{t['bytes_per_device_frame']:12.1f} {t['uploads']:8.0f}")
    print(f"== upload threshold sweep, 50 devices, {sweep['seeds']} seeds, FedLinUCB-DW (non-cooperative: "
          f"{sweep['noncoop_mean_latency']:.3f} s)")
    for r in sweep["rows"]:
        print(f"  threshold {r['threshold']:6g}: {r['mean_latency']:.3f} s ({-100 * r['reduction_vs_noncoop']:+.1f}% latency), "
              f"{r['bytes_per_device_frame']:.1f} B/device/frame, {r['uploads']:.0f} uploads")
    print(f"({elapsed:.1f} s)")
    if a.out is not None:
        a.out.mkdir(parents=True, exist_ok=True)
        meta = {"frames": a.frames, "threshold": a.threshold, "seed": a.seed, "elapsed_s": elapsed,
                "types": [t.__dict__ for t in TYPES], "noise_s": 0.02,
                "bandwidth": f"log-normal AR(1), rho 0.98, sigma {a.sigma}, around the type's uplink level"}
        plot(results, a.out / "federated_cans.png", sweep)
        # The JSON keeps the curves every 10 frames (the plot uses all of them).
        slim = [{**r, "curves": {m: c[::10] for m, c in r["curves"].items()}, "oracle_curve": r["oracle_curve"][::10],
                 "curve_stride": 10} for r in results]
        (a.out / "federated_cans.json").write_text(
            json.dumps({"meta": meta, "results": slim, "threshold_sweep": sweep}, indent=1))
        print(f"wrote {a.out / 'federated_cans.json'} and {a.out / 'federated_cans.png'}")


if __name__ == "__main__":
    main()
