"""DSL build + solve: incision (through the Python binding) vs networkx on the same graphs.

networkx builds the corrected DSL graph (same construction as incision: server-time source arcs,
device-time sink arcs, transfer arcs with an auxiliary vertex per multi-consumer output, infinite
reverse arcs into the original producer, pinned inputs) and runs maximum_flow_value with its
default preflow_push. Both timings cover graph construction and solve from the same LayerGraph.

    python bench/partition_networkx.py [--out docs/results/partition_networkx.json | --out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import networkx as nx

import incision as inc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from reference import networkx_min_cut_value  # noqa: E402

FILES = [
    "op_resnet50_inference.json",
    "op_bert_l-12_inference.json",
    "layer_inceptionv3_inference.json",
    "layer_resnet50_inference.json",
    "layer_gnmt_inference.json",
    "layer_bert24_inference.json",
]
RATES = {"native": 2.0**31, "100mbit": 12.5e6}


def best_time(fn, min_total: float = 0.5, max_reps: int = 20000) -> float:
    fn()  # warm up
    times = []
    total = 0.0
    while total < min_total and len(times) < max_reps:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    times.sort()
    return times[len(times) // 2]  # median


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "partition_networkx.json"))
    args = ap.parse_args()
    rows = []
    for name in FILES:
        g = inc.LayerGraph.from_msr_json(str(ROOT / "data" / "msr-fiddle" / name))
        for tag, bw in RATES.items():
            ours = inc.dsl(g, bandwidth=bw).latency
            theirs = networkx_min_cut_value(g, bw)
            assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)), (name, tag, ours, theirs)
            t_inc = best_time(lambda: inc.dsl(g, bandwidth=bw))
            t_nx = best_time(lambda: networkx_min_cut_value(g, bw), min_total=1.0, max_reps=200)
            rows.append(
                {
                    "graph": name[:-5],
                    "rate": tag,
                    "layers": len(g),
                    "incision_us": t_inc * 1e6,
                    "networkx_us": t_nx * 1e6,
                    "speedup": t_nx / t_inc,
                    "cut_value_s": ours,
                }
            )
            print(f"{name[:-5]:34s} {tag:8s} incision {t_inc * 1e6:9.1f} us  networkx {t_nx * 1e6:11.1f} us  "
                  f"x{t_nx / t_inc:8.0f}")
    out = Path(args.out)
    if out.is_dir():  # scripts/bench.sh passes its results directory
        out = out / "partition_networkx.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"python": platform.python_version(), "networkx": nx.__version__, "rows": rows}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
