"""incision.torch overhead: trace + profile + bandwidth map time, and the per-frame cost of split halves.

    .venv/bin/python bench/torch_overhead.py [--model resnet50] [--side 224] [--repeats 5] [--threads N]

1. Wall time of incision.torch.trace (fx trace, in-place rewrite, node-by-node profile over warmup + repeats
   passes) and of the bandwidth map over 1 kB/s .. 100 GB/s on its graph (target for resnet50: < 10 s).
   Reported as wall and as process CPU time (the CPU time is what the machine's load does not inflate).
2. Per frame: median (and minimum) time (--clock wall or cpu) of back(*front(x)) against model(x) (interleaved,
   same input), at the bandwidth map's plans and at the all-device and all-server cuts; the ratio is the split's
   overhead.
3. Per frame in the online loop (--loop-frames > 0): incision.exec.OnlineLoop over the model's TorchBackend
   (tm.backend()), one fixed cut per row, measured timing, an ideal simulated link; a frame there is the C++ loop
   calling the backend through the adaptor (numpy <-> tensor copies, the cut encoded and decoded, the outputs
   compared with the unsplit run's) plus the two parts. Each repetition times model(x) over the same number of
   frames, then loop.run(frames) (which also computes one unsplit reference: one model time is subtracted);
   the ratio of the medians is the loop's overhead over calling the unsplit model. With --edge the server part
   runs on an in-process edge server over loopback TCP hosting a second backend of the same model.
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

import numpy as np
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


class FixedArm:
    """The loop's learner for a timing row: always the one candidate."""

    def select(self, key_frame):
        return 0

    def update(self, arm, delay):
        pass


def loop_per_frame(model, backend, device_layers, x, frames, repeats, clock, edge_port=None):
    """Median seconds per frame of model(x) and of the online loop at one cut (see the module doc, item 3)."""
    import incision.exec as ie

    if edge_port is None:
        loop = ie.OnlineLoop(backend, FixedArm(), ie.SimLink(ie.BandwidthTrace.constant(1e300)), [device_layers])
    else:
        import incision.net as inet

        link = inet.TcpLink(edge_port, backend, deadline=60.0)
        loop = ie.OnlineLoop(backend, FixedArm(), None, [device_layers], edge=link)
    xn = x.numpy()
    whole, looped = [], []
    with torch.no_grad():
        model(x)
        loop.run(1, xn)
        for _ in range(repeats):
            t0 = clock()
            for _ in range(frames):
                model(x)
            t1 = clock()
            r = loop.run(frames, xn)
            t2 = clock()
            per_model = (t1 - t0) / frames
            whole.append(per_model)
            looped.append((t2 - t1 - per_model) / frames)
            if not np.all(r["output_error"] <= 1e-4):
                raise SystemExit(f"the loop's outputs differ from the unsplit model's: {r['output_error']}")
            if edge_port is not None and not np.array_equal(r["edge"], r["offloaded"]):
                raise SystemExit("the edge did not serve every offloaded frame")
    return statistics.median(whole), statistics.median(looped)


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
    ap.add_argument("--loop-frames", type=int, default=5, help="frames per repetition of the loop timing (0: skip)")
    ap.add_argument("--loop-repeats", type=int, default=5, help="repetitions of the loop timing (median)")
    ap.add_argument("--edge", action="store_true", help="also time the loop with the server part on a loopback edge")
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
              f"front+back {split * 1e3:8.2f} ms, ratio {split / whole:.3f} "
              f"(of the minima {split_min / whole_min:.3f})")
    if a.loop_frames > 0:
        result["loop"] = []
        backend = tm.backend()
        edges = [None]
        server = None
        if a.edge:
            import incision.net as inet

            server = inet.EdgeServer(it.trace(model, x, repeats=1, warmup=0).backend())
            edges.append(server.port)
        print(f"  online loop over tm.backend(), {a.loop_frames} frames x {a.loop_repeats} repetitions, "
              f"{a.clock} clock (per frame, medians):")
        for kind, plan in cuts:
            d = sorted(plan.device_layers if isinstance(plan, inc.Plan) else plan)
            for port in edges:
                whole, looped = loop_per_frame(model, backend, d, x, a.loop_frames, a.loop_repeats, clock, port)
                where = "edge" if port is not None else "local"
                result["loop"].append({"cut": kind, "device_layers": len(d), "server": where, "model_s": whole,
                                       "loop_s": looped, "ratio": looped / whole})
                print(f"  {kind:10s} device layers {len(d):4d}, server {where:5s}: model {whole * 1e3:8.2f} ms, "
                      f"loop {looped * 1e3:8.2f} ms, ratio {looped / whole:.3f}")
        if server is not None:
            server.stop()
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
