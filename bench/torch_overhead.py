"""incision.torch overhead: trace + profile + bandwidth map time, and the per-frame cost of split halves.

    .venv/bin/python bench/torch_overhead.py [--model resnet50] [--side 224] [--repeats 5] [--threads N]

1. Wall time of incision.torch.trace (fx trace, in-place rewrite, node-by-node profile over warmup + repeats
   passes) and of the bandwidth map over 1 kB/s .. 100 GB/s on its graph (target for resnet50: < 10 s).
   Reported as wall and as process CPU time (the CPU time is what the machine's load does not inflate).
2. Per frame: median (and minimum) time (--clock wall or cpu) of back(*front(x)) against model(x) (interleaved, same input), at the
   bandwidth map's plans and at the all-device and all-server cuts; the ratio is the split's overhead.
Random weights (no download), CPU, eval mode, torch.no_grad().
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision

import incision as inc

try:
    import incision.torch as it
except ModuleNotFoundError:  # installed wheel predates incision.torch: use the source tree's copy
    inc.__path__.append(str(Path(__file__).resolve().parents[1] / "python" / "incision"))
    import incision.torch as it


def per_frame(model, front, back, x, frames, clock):
    """Median seconds of model(x) and of back(*front(x)), interleaved so load drifts hit both alike."""
    whole, split = [], []
    with torch.no_grad():
        model(x)
        back(*front(x))
        for _ in range(frames):
            t0 = clock()
            model(x)
            t1 = clock()
            back(*front(x))
            t2 = clock()
            whole.append(t1 - t0)
            split.append(t2 - t1)
    return statistics.median(whole), statistics.median(split), min(whole), min(split)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--side", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=5, help="profiling passes (median per node)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave as is)")
    ap.add_argument("--frames", type=int, default=7, help="frames per per-frame timing")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="per-frame clock: wall (perf_counter) or process CPU time (steadier on a loaded machine)")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, a.model)(weights=None).eval()
    x = torch.randn(1, 3, a.side, a.side)

    c0, t0 = time.process_time(), time.perf_counter()
    tm = it.trace(model, x, repeats=a.repeats, warmup=a.warmup)
    c1, t1 = time.process_time(), time.perf_counter()
    bmap = inc.BandwidthMap(tm.graph, 1e3, 1e11)
    c2, t2 = time.process_time(), time.perf_counter()
    result = {
        "model": a.model, "input": list(x.shape), "threads": torch.get_num_threads(), "repeats": a.repeats,
        "warmup": a.warmup, "layers": tm.num_layers, "edges": tm.graph.num_edges,
        "trace_profile_s": t1 - t0, "bandwidth_map_s": t2 - t1, "total_s": t2 - t0,
        "trace_profile_cpu_s": c1 - c0, "bandwidth_map_cpu_s": c2 - c1, "total_cpu_s": c2 - c0, "clock": a.clock,
        "load_average_1min": os.getloadavg()[0],
        "profiled_device_s": float(tm.graph.device_times.sum()), "plans": len(bmap), "per_frame": [],
    }
    print(f"{a.model} {tuple(x.shape)} threads={result['threads']}: {tm.num_layers} layers, "
          f"{tm.graph.num_edges} edges")
    print(f"  trace+profile {t1 - t0:.2f} s ({a.warmup}+{a.repeats} passes), bandwidth map {t2 - t1:.4f} s "
          f"({len(bmap)} plans, {bmap.solves} solves), total {t2 - t0:.2f} s wall, {c2 - c0:.2f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    clock = time.perf_counter if a.clock == "wall" else time.process_time

    cuts = [("map", p) for p in bmap.plans]
    cuts += [("all-device", list(range(tm.num_layers))), ("all-server", tm.inputs)]
    for kind, plan in cuts:
        front, back = tm.split(plan)
        whole, split, whole_min, split_min = per_frame(model, front, back, x, a.frames, clock)
        n_dev = len(plan.device_layers if isinstance(plan, inc.Plan) else plan)
        crossing = len(tm.cut_layers(plan))
        row = {"cut": kind, "device_layers": n_dev, "crossing": crossing, "model_s": whole, "split_s": split,
               "ratio": split / whole, "model_min_s": whole_min, "split_min_s": split_min,
               "ratio_min": split_min / whole_min}
        result["per_frame"].append(row)
        print(f"  {kind:10s} device layers {n_dev:4d}, crossing {crossing}: model {whole * 1e3:8.2f} ms, "
              f"front+back {split * 1e3:8.2f} ms, ratio {split / whole:.3f} (of the minima {split_min / whole_min:.3f})")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
