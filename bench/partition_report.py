"""Markdown tables from docs/results/partition_bench.json (Google Benchmark) and
docs/results/partition_networkx.json (bench/partition_networkx.py). CPU time is used: the machine
may be shared, and wall time then counts other processes.

    python bench/partition_report.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    bench = json.loads((ROOT / "docs" / "results" / "partition_bench.json").read_text())
    cpu: dict[str, float] = {}
    # single runs, or the medians of repeated runs (--benchmark_repetitions)
    medians = any(b.get("aggregate_name") == "median" for b in bench["benchmarks"])
    for b in bench["benchmarks"]:
        if medians != (b.get("aggregate_name") == "median"):
            continue
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        cpu[b["run_name"] if medians else b["name"]] = b["cpu_time"] * unit  # microseconds
    print("| graph | rate | incision dsl() us | incision re-solve us | LEMON Preflow us | Boost BK us | vs LEMON | vs Boost BK |")
    print("|---|---|---|---|---|---|---|---|")
    for name in sorted({n.split("/")[2] for n in cpu if n.startswith("dsl/incision/") and "synthetic" not in n}):
        for rate in ("native", "100mbit"):
            key = f"{name}/{rate}"
            ours = cpu.get(f"dsl/incision/{key}")
            if ours is None:
                continue
            re = cpu.get(f"dsl/incision_resolve/{key}", float("nan"))
            lemon = cpu.get(f"dsl/lemon_preflow/{key}", float("nan"))
            bk = cpu.get(f"dsl/boost_bk/{key}", float("nan"))
            print(f"| {name} | {rate} | {ours:.1f} | {re:.1f} | {lemon:.1f} | {bk:.1f} | {lemon / ours:.1f}x | {bk / ours:.1f}x |")
    print()
    print("| synthetic layers | incision us | LEMON us | Boost BK us | vs LEMON | vs Boost BK |")
    print("|---|---|---|---|---|---|")
    for n in (100, 1000, 10000, 100000):
        ours = cpu.get(f"dsl/incision/synthetic/{n}")
        if ours is None:
            continue
        lemon = cpu.get(f"dsl/lemon_preflow/synthetic/{n}", float("nan"))
        bk = cpu.get(f"dsl/boost_bk/synthetic/{n}", float("nan"))
        print(f"| {n} | {ours:.1f} | {lemon:.1f} | {bk:.1f} | {lemon / ours:.1f}x | {bk / ours:.1f}x |")
    print()
    for key in sorted(cpu):
        if key.startswith(("bandwidth_map/", "dsh/")):
            print(f"- `{key}`: {cpu[key]:.3f} us CPU")
    nxf = ROOT / "docs" / "results" / "partition_networkx.json"
    if nxf.exists():
        rows = json.loads(nxf.read_text())["rows"]
        print()
        print("| graph | rate | incision (Python) us | networkx us | speed-up |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['graph']} | {r['rate']} | {r['incision_us']:.1f} | {r['networkx_us']:.0f} | {r['speedup']:.0f}x |")


if __name__ == "__main__":
    main()
