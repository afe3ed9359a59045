"""The main demo: learning where to cut VGG16 while the uplink switches between network types.

Real data: the ANS VGG16 arm table (23 partition points; per-arm context features and front-end
delays measured on an NVIDIA Jetson, from the official ANS code). Simulated: the uplink, which
switches between the DADS uplink levels (CAT1 0.13, 3G 1.1, 4G 5.85, Wi-Fi 18.88 Mbit/s), and the
edge server, whose back-end time is linear in the remaining MACs and triples while it is loaded.

Side by side, frame by frame, against the oracle that knows the current bandwidth and load:
  muLinUCB (ANS), muLinUCB with discounted or sliding-window statistics (forgetting; not in ANS),
  Neurosurgeon with a
  stale profile (re-measures the bandwidth only every few hundred frames and profiled the server
  while idle), device-only and edge-only.

    python -m incision demo [--frames N] [--seed S] [--plot demo.png] [--json out.json]
    python -m incision demo --torch resnet18    # the same on a profiled torchvision model

(examples/python/demo.py runs the same.) ``--torch MODEL`` traces and profiles a torchvision
model here (random weights, no download), builds its bandwidth map and learns which of the map's
plans to run over the same switching uplink (muLinUCB on incision.torch's arm contexts), then
splits the model at the plan chosen last and checks the two halves reproduce its output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, data
from .bandit import MuLinUCB

MBIT = 1e6
LINKS = {"CAT1": 0.13 * MBIT, "3G": 1.1 * MBIT, "4G": 5.85 * MBIT, "Wi-Fi": 18.88 * MBIT}  # bit/s
SCHEDULE = ["Wi-Fi", "4G", "Wi-Fi", "3G", "Wi-Fi", "CAT1", "Wi-Fi", "4G", "Wi-Fi"]


def load_vgg16(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(data_dir / "ans" / "vgg16_arms.csv", delimiter=",", skiprows=1)
    contexts = np.ascontiguousarray(table[:, 1:8])  # n_conv n_fc n_act mac_conv mac_fc mac_act tx_bits
    return contexts, np.ascontiguousarray(table[:, 8])


def server_coefficients(load: float) -> np.ndarray:
    """Seconds per unit of each context column on the edge GPU (the tx_bits column is added later)."""
    per_layer_conv, per_layer_fc, per_layer_act = 2e-4, 2e-4, 2e-5
    per_mac_conv, per_mac_fc, per_mac_act = 0.9e-12, 2.0e-12, 2.0e-10
    return load * np.array([per_layer_conv, per_layer_fc, per_layer_act, per_mac_conv, per_mac_fc, per_mac_act, 0.0])


def environment(frames: int, rng: np.random.Generator):
    """Per-frame bandwidth (bit/s), server load factor and network label."""
    bandwidth = np.empty(frames)
    load = np.ones(frames)
    labels = []
    dwell = max(frames // len(SCHEDULE), 1)
    for i, name in enumerate(SCHEDULE):
        lo, hi = i * dwell, frames if i == len(SCHEDULE) - 1 else (i + 1) * dwell
        bandwidth[lo:hi] = LINKS[name] * rng.uniform(0.9, 1.1, hi - lo)
        labels.append((lo, hi, name))
    busy = slice(frames // 3, frames // 2)  # the edge server is shared and busy for a while
    load[busy] = 3.0
    return bandwidth, load, labels


def true_offload_delay(contexts: np.ndarray, bandwidth: np.ndarray, load: np.ndarray, rng, noise: float):
    """(T, K) table: tx_bits / bandwidth + load * server time + noise; all-local arm gets 0."""
    base = contexts @ server_coefficients(1.0)  # idle server time per arm
    delay = load[:, None] * base[None, :] + contexts[None, :, 6] / bandwidth[:, None]
    delay += rng.normal(0.0, noise, delay.shape)
    delay = np.maximum(delay, 0.0)
    delay[:, ~contexts.any(axis=1)] = 0.0
    return np.ascontiguousarray(delay)


def neurosurgeon_stale(contexts, front, bandwidth, every: int) -> np.ndarray:
    """Neurosurgeon (Kang et al., ASPLOS 2017): argmin over cuts of its predicted latency, with a
    server profile taken while the server was idle and a bandwidth re-measured every `every` frames."""
    idle = contexts @ server_coefficients(1.0)
    arms = np.empty(len(bandwidth), dtype=np.int64)
    for start in range(0, len(bandwidth), every):
        predicted = front + np.where(contexts.any(axis=1), idle + contexts[:, 6] / bandwidth[start], 0.0)
        arms[start : start + every] = int(np.argmin(predicted))
    return arms


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r  {label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_learner(label, learner, offload, key_weight, chunk=6000):
    arms = []
    for start in range(0, len(offload), chunk):
        stop = min(start + chunk, len(offload))
        a, _ = learner.run(offload[start:stop], key_weight[start:stop])
        arms.append(np.asarray(a))
        progress(label, stop, len(offload))
    return np.concatenate(arms)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=54000, help="30 min of video at 30 frames/s")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", type=float, default=0.01, help="std of the offloading-delay noise (s)")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount of the forgetting variant")
    parser.add_argument("--window", type=int, default=300, help="window of the sliding-window variant")
    parser.add_argument(
        "--alpha", type=float, default=0.1, help="fixed exploration scale of the forgetting variants"
    )
    parser.add_argument(
        "--profile-every", type=int, default=2500, help="frames between Neurosurgeon's bandwidth measurements"
    )
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the shipped data)")
    parser.add_argument("--torch", metavar="MODEL", nargs="?", const="resnet18", default=None,
                        help="run on a profiled torchvision model instead (resnet18 if no name is given)")
    parser.add_argument("--plot", type=lambda s: Path(s) if s else None, default=Path("build/demo/demo.png"),
                        help="where to write the plot ('' for none)")
    parser.add_argument("--json", type=Path, default=None, help="also write the summary as JSON")
    args = parser.parse_args(argv)

    if args.torch:
        return torch_demo(args)
    rng = np.random.default_rng(args.seed)
    contexts, front = load_vgg16(args.data or data.root())
    bandwidth, load, labels = environment(args.frames, rng)
    offload = true_offload_delay(contexts, bandwidth, load, rng, args.noise)
    latency = front[None, :] + offload  # what each cut would cost on each frame
    oracle = latency.argmin(axis=1)
    key_weight = np.where(rng.random(args.frames) < 0.1, 0.8, 0.2)  # 10% key frames (ANS weights)
    local_arm = int(np.flatnonzero(~contexts.any(axis=1))[0])

    print(f"incision {__version__} demo: VGG16 ({len(front)} cuts, ANS table), {args.frames} frames")
    print("  network: " + " -> ".join(name for _, _, name in labels) + "; server busy (x3) in the middle")
    t0 = time.perf_counter()
    policies = {
        "muLinUCB (ANS)": run_learner("muLinUCB (ANS)", MuLinUCB(contexts, front), offload, key_weight),
        # ANS's alpha(T) (about 7 here) suits a learner that never forgets; one whose effective
        # sample size stays near 1/(1 - gamma) or W needs a smaller fixed exploration scale.
        f"discounted {args.gamma}": run_learner(
            "muLinUCB, discounted",
            MuLinUCB(contexts, front, gamma=args.gamma, alpha=args.alpha),
            offload,
            key_weight,
        ),
        f"sliding window {args.window}": run_learner(
            "muLinUCB, sliding window",
            MuLinUCB(contexts, front, window=args.window, alpha=args.alpha),
            offload,
            key_weight,
        ),
        "Neurosurgeon, stale": neurosurgeon_stale(contexts, front, bandwidth, args.profile_every),
        "device-only": np.full(args.frames, local_arm),
        "edge-only": np.zeros(args.frames, dtype=np.int64),
        "oracle": oracle,
    }
    elapsed = time.perf_counter() - t0

    rows = summarise(latency, policies)
    print(f"\n(three learners ran {args.frames} frames each in {elapsed:.2f} s)")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"frames": args.frames, "seed": args.seed, "rows": rows}, indent=2))
    if args.plot:
        plot(args.plot, bandwidth, load, latency, policies, labels)
        print(f"plot written to {args.plot}")
    return 0


def summarise(latency: np.ndarray, policies: dict) -> list[dict]:
    """One row per policy against the per-frame oracle of the (T, K) latency table; printed."""
    frames = np.arange(latency.shape[0])
    oracle = latency.argmin(axis=1)
    best = latency[frames, oracle]
    rows = []
    for name, arms in policies.items():
        lat = latency[frames, arms]
        rows.append(
            {
                "policy": name,
                "mean_latency_ms": 1e3 * float(lat.mean()),
                "vs_oracle_pct": 100.0 * float(lat.mean() / best.mean() - 1.0),
                "oracle_cut_pct": 100.0 * float(np.mean(arms == oracle)),
                "regret_s": float((lat - best).sum()),
            }
        )
    print(f"\n{'policy':<28}{'mean latency':>14}{'vs oracle':>11}{'on oracle cut':>15}{'regret':>10}")
    for r in rows:
        print(
            f"{r['policy']:<28}{r['mean_latency_ms']:>11.1f} ms{r['vs_oracle_pct']:>+10.1f}%"
            f"{r['oracle_cut_pct']:>14.1f}%{r['regret_s']:>9.1f}s"
        )
    return rows


def torch_demo(args) -> int:
    """The demo on a torchvision model: trace + profile, bandwidth map, learn the plan online, split."""
    try:
        import torch
        import torchvision
    except ImportError:
        print("--torch needs PyTorch and torchvision: pip install 'incision[torch]'", file=sys.stderr)
        return 2
    from . import torch as it
    from .partition import BandwidthMap

    factory = getattr(torchvision.models, args.torch, None)
    if not callable(factory):
        print(f"--torch: torchvision.models has no model {args.torch!r}", file=sys.stderr)
        return 2
    torch.manual_seed(args.seed)
    model = factory(weights=None).eval()  # random weights: nothing to download
    x = torch.randn(1, 3, 224, 224)
    t0 = time.perf_counter()
    tm = it.trace(model, x, repeats=3, warmup=1)
    # bytes/s: from the slowest DADS uplink level to well above Wi-Fi
    bmap = BandwidthMap(tm.graph, min_bandwidth=LINKS["CAT1"] / 8 / 2, max_bandwidth=LINKS["Wi-Fi"] / 8 * 100)
    plans = bmap.plans
    contexts, front = tm.arms(plans)
    print(f"incision {__version__} demo: {args.torch} ({tm.num_layers} layers traced and profiled, "
          f"{len(plans)} plans in the bandwidth map) in {time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(args.seed)
    bandwidth, load, labels = environment(args.frames, rng)
    rate = bandwidth / 8  # bytes/s
    fixed = np.array([p.latency - p.upload_time for p in plans])  # device + server + RTT (+ download)
    shipped = np.array([p.shipped_bytes for p in plans])
    server = np.array([p.server_time for p in plans])
    # the server part slows down while the server is busy, like the main demo's server
    latency = fixed[None, :] + (load[:, None] - 1.0) * server[None, :] + shipped[None, :] / rate[:, None]
    offload = np.maximum(latency - front[None, :] + rng.normal(0.0, 1e-3, latency.shape), 0.0)
    offload[:, ~contexts.any(axis=1)] = 0.0
    key_weight = np.full(args.frames, 0.2)
    print("  network: " + " -> ".join(name for _, _, name in labels) + "; server busy (x3) in the middle")
    local = np.flatnonzero(~contexts.any(axis=1))
    policies = {
        # settings incision.torch documents for these contexts (seconds, bytes; a changing link)
        "muLinUCB (discounted)": run_learner("muLinUCB, discounted",
                                             MuLinUCB(contexts, front, alpha=0.01, gamma=0.95), offload, key_weight),
        "highest-bandwidth plan": np.zeros(args.frames, dtype=np.int64),
        "oracle": latency.argmin(axis=1),
    }
    if local.size:
        policies["device-only"] = np.full(args.frames, int(local[0]))
    rows = summarise(latency, policies)
    last = plans[int(policies["muLinUCB (discounted)"][-1])]
    front_half, back_half = tm.split(last)
    with torch.no_grad():
        err = float((back_half(*front_half(x)) - model(x)).abs().max())
    print(f"\nsplit at the last learned plan ({len(last.device_layers)} device layers, "
          f"{last.shipped_bytes / 1e3:.1f} kB shipped): max |front+back - model| = {err:.2e}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": args.torch, "frames": args.frames, "rows": rows,
                                         "split_max_abs_error": err}, indent=2))
    if args.plot:
        plot(args.plot, bandwidth, load, latency, policies, labels, title=f"{args.torch} (profiled here)")
        print(f"plot written to {args.plot}")
    return 0


def plot(path: Path, bandwidth, load, latency, policies, labels, title: str = "VGG16 on a Jetson") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot as iplot

    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.arange(len(bandwidth))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=[1, 2.2])
    top.semilogy(frames, bandwidth / MBIT, color="0.3", lw=0.8)
    for lo, hi, name in labels:
        top.text((lo + hi) / 2, bandwidth[lo] / MBIT * 1.3, name, ha="center", fontsize=8)
    busy = np.flatnonzero(load > 1)
    if busy.size:
        for ax in (top, bottom):
            ax.axvspan(busy[0], busy[-1], color="tab:red", alpha=0.07, lw=0)
    top.set_ylabel("uplink (Mbit/s)")
    top.set_title(f"{title} + edge server: where to cut (shaded: server busy)")
    iplot.latency(latency, {k: v for k, v in policies.items() if k != "oracle"}, ax=bottom)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
