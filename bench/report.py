"""The benchmark report: every speed target of the design (section 8) and of the issues, with the value
measured, the peer's value from the same run and the ratio, flagged met / missed, read from the outputs
scripts/bench.sh wrote. Writes docs/results/benchmarks.md and benchmarks.csv; no number is typed by hand.
A target whose benchmark did not run (filtered out, a missing peer) is listed as not measured.

    python bench/report.py --results build/bench/results [--out docs/results]

CPU time is used throughout (Google Benchmark's cpu_time; the Python scripts' process time): the machine
is shared, and wall time then counts other processes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import math
import os
import platform
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class Results:
    """The outputs of one scripts/bench.sh run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cpu: dict[str, float] = {}  # benchmark name -> seconds (median when repeated)
        self.counters: dict[str, dict] = {}
        self.context: dict = {}
        for f in sorted(folder.glob("bench_*.json")):
            try:
                data = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            self.context = self.context or data.get("context", {})
            benches = data.get("benchmarks", [])
            medians = any(b.get("aggregate_name") == "median" for b in benches)
            for b in benches:
                if (medians != (b.get("aggregate_name") == "median") or b.get("error_occurred")
                        or "cpu_time" not in b):
                    continue
                name = b.get("run_name", b["name"]) if medians else b["name"]
                self.cpu[name] = b["cpu_time"] * UNIT[b.get("time_unit", "ns")]
                self.counters[name] = b
        self.json: dict[str, Any] = {}
        for name in ("bandit_peers.json", "partition_networkx.json", "federated_peers.json", "torch_overhead.json"):
            p = folder / name
            if p.exists():
                self.json[name] = json.loads(p.read_text())
        p = folder / "exec_torch.txt"
        self.exec_torch = p.read_text() if p.exists() else ""

    def find(self, pattern: str) -> float | None:
        """The cpu time of the one benchmark whose name matches the regex (None when none ran)."""
        hits = [v for k, v in self.cpu.items() if re.fullmatch(pattern, k)]
        return hits[0] if hits else None

    def counter(self, pattern: str, key: str) -> float | None:
        for k, b in self.counters.items():
            if re.fullmatch(pattern, k) and key in b:
                return float(b[key])
        return None


def row(area: str, target: str, what: str, value: float | None, unit: str, goal: str, met: bool | None,
        peer: str = "", peer_value: float | None = None, ratio: float | None = None, source: str = "") -> dict:
    return {"area": area, "target": target, "measured": what, "value": value, "unit": unit, "goal": goal,
            "peer": peer, "peer_value": peer_value, "ratio": ratio,
            "status": "not measured" if met is None else ("met" if met else "missed"), "source": source}


def at_most(v: float | None, limit: float) -> bool | None:
    return None if v is None else v <= limit


def at_least(v: float | None, limit: float) -> bool | None:
    return None if v is None else v >= limit


def ratio_of(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def us(v: float | None) -> float | None:
    return None if v is None else v * 1e6


def targets(r: Results) -> list[dict]:
    rows: list[dict] = []
    bp = r.json.get("bandit_peers.json", {}).get("results", {})
    cppb = bp.get("cpp", {})

    # --- bandits (design section 8, rows 1-3)
    mu = r.find(r"mu_linucb/vgg16/frame/fixed7/cache") or cppb.get("mu_linucb/vgg16/frame/fixed7/cache")
    rows.append(row("bandit", "μLinUCB select + update, VGG16 arms (K=23, d=7), C++", "per frame", us(mu), "µs",
                    "≤ 0.3 µs", at_most(us(mu), 0.3), source="bench_bandit"))
    numpy_official = bp.get("mulinucb_numpy_official_s_per_frame")
    mu_peer = cppb.get("mu_linucb/vgg16/frame/fixed7/cache", mu)
    rat = ratio_of(numpy_official, mu_peer)
    rows.append(row("bandit", "μLinUCB vs a numpy implementation of the official loop", "per frame", us(mu_peer),
                    "µs", "≥ 300x", at_least(rat, 300), "numpy official loop", us(numpy_official), rat,
                    "bandit_peers.py --cpp-bench"))
    sel = r.find(r"linucb/select/fixed16/K:10/d:16") or cppb.get("linucb/select/fixed16/K:10/d:16")
    upd = r.find(r"linucb/update/fixed16/d:16") or cppb.get("linucb/update/fixed16/d:16")
    rows.append(row("bandit", "LinUCB select, K=10, d=16", "per select", us(sel), "µs", "≤ 1 µs",
                    at_most(us(sel), 1.0), source="bench_bandit"))
    rows.append(row("bandit", "LinUCB update, d=16", "per update", us(upd), "µs", "≤ 0.5 µs", at_most(us(upd), 0.5),
                    source="bench_bandit"))
    dis = bp.get("disjoint_linucb_K10_d16_s_per_decision", {})
    ours_dis = cppb.get("disjoint_linucb/select+update/K:10/d:16")
    for peer in ("mabwiser", "contextualbandits"):
        rat = ratio_of(dis.get(peer), ours_dis)
        rows.append(row("bandit", f"disjoint LinUCB (K=10, d=16) vs {peer}", "per decision, C++", us(ours_dis), "µs",
                        "≥ 100x", at_least(rat, 100), f"{peer} {dis.get(peer + '_version', '')}".strip(),
                        us(dis.get(peer)), rat, "bandit_peers.py"))
    py_sel = bp.get("python_linucb_select_K10_d16_s_per_call")
    rows.append(row("bandit", "Python call overhead, LinUCB.select (K=10, d=16)", "per call", us(py_sel), "µs",
                    "≤ 3 µs", at_most(us(py_sel), 3.0), source="bandit_peers.py"))
    fps = bp.get("mulinucb_ours_batched_frames_per_s")
    rows.append(row("bandit", "batch simulation (MuLinUCB.simulate)", "frames/s", fps, "frames/s", "≥ 1e6",
                    at_least(fps, 1e6), source="bandit_peers.py"))

    # --- partitioning (rows 4-7)
    g = "op_resnet50_inference/native"
    dsl = r.find(rf"dsl/incision/{g}")
    rows.append(row("partition", "DSL, msr-fiddle ResNet-50 operator graph (604 layers), build + solve", "per solve",
                    us(dsl), "µs", "≤ 5 µs", at_most(us(dsl), 5.0), source="bench_partition"))
    for peer, name, goal in (("LEMON Preflow, same reduced graph", "lemon_preflow", 3.0),
                             ("Boost BK, same reduced graph", "boost_bk", 10.0)):
        pv = r.find(rf"dsl/{name}/{g}")
        rat = ratio_of(pv, dsl)
        rows.append(row("partition", f"DSL vs {peer}", "per solve", us(dsl), "µs", f"≥ {goal:g}x",
                        at_least(rat, goal), peer, us(pv), rat, "bench_partition"))
    nx = r.json.get("partition_networkx.json", {})
    nxr = next((x for x in nx.get("rows", []) if x["graph"] == "op_resnet50_inference" and x["rate"] == "native"), None)
    rows.append(row("partition", "DSL vs networkx (through the Python binding)", "per solve",
                    nxr and nxr["incision_us"], "µs", "≥ 500x", at_least(nxr and nxr["speedup"], 500),
                    f"networkx {nx.get('networkx', '')}".strip(), nxr and nxr["networkx_us"], nxr and nxr["speedup"],
                    "partition_networkx.py"))
    big = r.find(r"dsl/incision/synthetic/100000")
    rows.append(row("partition", "DSL, 100k-layer synthetic DAG", "per solve", None if big is None else big * 1e3, "ms",
                    "≤ 50 ms", at_most(None if big is None else big * 1e3, 50.0), source="bench_partition"))
    sizes = [(n, r.find(rf"dsl/incision/synthetic/{n}")) for n in (100, 1000, 10000, 100000)]
    sizes = [(n, t) for n, t in sizes if t]
    if len(sizes) >= 2:
        slope = (math.log(sizes[-1][1]) - math.log(sizes[0][1])) / (math.log(sizes[-1][0]) - math.log(sizes[0][0]))
    else:
        slope = None
    rows.append(row("partition", f"DSL scaling, synthetic DAGs {sizes[0][0] if sizes else ''}-"
                    f"{sizes[-1][0] if sizes else ''} layers", "log-log slope of time over layers", slope, "",
                    "near-linear (≤ 1.2)", at_most(slope, 1.2), source="bench_partition"))
    bm = r.find(r"bandwidth_map/build/op_resnet50_inference")
    rows.append(row("partition", "bandwidth map build, ResNet-50 operator graph", "per build",
                    None if bm is None else bm * 1e3, "ms", "≤ 1 ms", at_most(None if bm is None else bm * 1e3, 1.0),
                    source="bench_partition"))
    lk = r.find(r"bandwidth_map/lookup/op_resnet50_inference")
    rows.append(row("partition", "bandwidth map lookup", "per lookup", None if lk is None else lk * 1e9, "ns",
                    "≤ 100 ns", at_most(None if lk is None else lk * 1e9, 100.0), source="bench_partition"))
    dsh = r.find(rf"dsh/{g}")
    rows.append(row("partition", "DSH, ResNet-50 operator graph", "per solve", None if dsh is None else dsh * 1e3, "ms",
                    "≤ 5 ms", at_most(None if dsh is None else dsh * 1e3, 5.0), source="bench_partition"))

    # --- federated (row 8)
    for name, what in (("BM_fed_round_rows1/10000.*", "one observation per upload"),
                       ("BM_fed_round_dense/10000.*", "dense uploads")):
        v = r.find(name)
        rows.append(row("federated", f"FedLinUCB-DW aggregation round, 10,000 devices, d=16, {what}", "per round",
                        None if v is None else v * 1e3, "ms", "≤ 10 ms",
                        at_most(None if v is None else v * 1e3, 10.0), source="bench_federated"))

    # --- executor (row 9, issue 14)
    for arg in ("3", "25"):
        v = r.find(rf"BM_loop_overhead_null_backend/{arg}")
        allocs = r.counter(rf"BM_loop_overhead_null_backend/{arg}", "allocs_per_frame")
        ok = None if v is None else (us(v) <= 5.0 and (allocs is None or allocs == 0))
        rows.append(row("exec", f"executor overhead per frame, null backend, {arg} layers"
                        + ("" if allocs is None else f" ({allocs:g} allocations per frame)"), "per frame", us(v), "µs",
                        "≤ 5 µs, no allocation", ok, source="bench_exec"))
    for arg in ("1", "16"):
        name = rf"BM_codec_round_trip/{arg}"
        bps = r.counter(name, "bytes_per_second")
        gbs = None if bps is None else bps / 1e9
        rows.append(row("exec", f"tensor serialise + deserialise, {arg} MB", "throughput", gbs, "GB/s", "≥ 2 GB/s",
                        at_least(gbs, 2.0), source="bench_exec"))
    m = re.findall(r"^(\w+): .*?\n(?:.*\n)*?  whole network: incision ([\d.]+) ms, torch ([\d.]+) ms, ratio ([\d.]+)",
                   r.exec_torch, re.M)
    if not m:
        rows.append(row("exec", "xtensor CPU backend vs PyTorch CPU (one thread), whole network", "", None, "ms",
                        "≤ 2x", None, "PyTorch", source="exec_torch.py"))
    for net, ours, torch_ms, rat in m:
        rows.append(row("exec", f"xtensor CPU backend vs PyTorch CPU (one thread), whole {net} network", "per run",
                        float(ours), "ms", "≤ 2x", at_most(float(rat), 2.0), "PyTorch", float(torch_ms), float(rat),
                        "exec_torch.py"))
    for net, _gm, worst in re.findall(r"^(\w+): (?:.*\n)*?  conv layers: geometric mean ratio ([\d.]+), worst ([\d.]+)",
                                     r.exec_torch, re.M):
        rows.append(row("exec", f"xtensor conv2d vs PyTorch, {net} conv layers (worst layer)", "time ratio",
                        float(worst), "x", "≤ 2x", at_most(float(worst), 2.0), "PyTorch", None, float(worst),
                        "exec_torch.py"))

    # --- TCP link (issue 15): bench_net runs ours and the bare Asio floor interleaved in one run
    for arg, place in (("16/0", "one core"), ("16/1", "two cores"), ("1024/0", "one core"), ("1024/1", "two cores")):
        name = rf"BM_small_frame_round_trip/{arg}/real_time"
        nbytes = r.counter(name, "bytes")
        for q in ("p50", "p99"):
            ours, floor = r.counter(name, f"ours_{q}_us"), r.counter(name, f"floor_{q}_us")
            rat = ratio_of(ours, floor)
            what = f"{nbytes:.0f}-byte frame, {place}, {q}" if nbytes else f"{place}, {q}"
            rows.append(row("net", "TCP round trip vs a bare Asio echo of the same bytes", what, ours, "µs",
                            "≤ 1.25x", at_most(rat, 1.25), "bare Asio echo", floor, rat, "bench_net"))
    ours, floor = r.counter(r"BM_shaped_link_1MB/real_time", "ours_MBps"), r.counter(r"BM_shaped_link_1MB/real_time",
                                                                                   "shaped_MBps")
    share = r.counter(r"BM_shaped_link_1MB/real_time", "ours_of_rate")
    rows.append(row("net", "1 MB tensors over a tc-shaped link (root only)", "share of the shaped rate", ours, "MB/s",
                    "≥ 80 % of the rate", at_least(share, 0.8), "shaped rate", floor, share, "bench_net"))
    ours, floor = (r.counter(r"BM_64_devices/real_time", "ours_frames_per_s"),
                   r.counter(r"BM_64_devices/real_time", "floor_frames_per_s"))
    rat = ratio_of(ours, floor)
    rows.append(row("net", "64 concurrent devices, frames/s", "edge server", ours, "frames/s", "≥ 0.8x",
                    at_least(rat, 0.8), "bare Asio echo server", floor, rat, "bench_net"))

    # --- PyTorch (issue 16)
    to = r.json.get("torch_overhead.json")
    load = "" if not to else f" (CPU {to.get('total_cpu_s', float('nan')):.1f} s, load average {to.get('load_average_1min', float('nan')):.1f})"
    rows.append(row("torch", "resnet50 trace + profile + bandwidth map", "wall time" + load, to and to.get("total_s"), "s",
                    "< 10 s", at_most(to and to.get("total_s"), 10.0), source="torch_overhead.py"))
    if to and to.get("per_frame"):
        worst = max(x["ratio"] for x in to["per_frame"])
        rows.append(row("torch", "split model per frame (front + back) vs the unsplit model, worst plan", "time ratio",
                        worst, "x", "report the ratio", None if worst is None else True, "unsplit model", None, worst,
                        "torch_overhead.py"))
    return rows


def machine(r: Results) -> dict:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "date": datetime.date.today().isoformat(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "benchmark_date": r.context.get("date", "")}


def fmt(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1e5:
            return f"{v:.3g}"
        return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def write(rows: list[dict], m: dict, out: Path, results: Path, filter_: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "benchmarks.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    counts = {s: sum(1 for x in rows if x["status"] == s) for s in ("met", "missed", "not measured")}
    lines = [
        "# Benchmark report",
        "",
        "Generated by `bash scripts/bench.sh` (`bench/report.py`; do not edit by hand) from the outputs of one "
        "run: every speed target of the design and the issues, the value measured, the peer's value from the "
        "same run and the ratio. Times are CPU time (Google Benchmark `cpu_time`, process time in the Python "
        "scripts).",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu']}; report written {m['date']} (load average {m['load_average']:.1f}"
        f"{', benchmarks started ' + m['benchmark_date'] if m['benchmark_date'] else ''}). "
        f"Benchmark filter: `{filter_}`; Release build.",
        "",
        f"**{counts['met']} met, {counts['missed']} missed, {counts['not measured']} not measured in this run.**",
        "",
        "| area | target | measured | value | goal | peer | peer value | ratio | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for x in rows:
        unit = f" {x['unit']}" if x["unit"] and x["value"] is not None else ""
        pv = "" if x["peer_value"] is None else f"{fmt(x['peer_value'])} {x['unit']}"
        status = {"met": "met", "missed": "**missed**", "not measured": "not measured"}[x["status"]]
        lines.append(f"| {x['area']} | {x['target']} | {x['measured']} | {fmt(x['value'])}{unit} | {x['goal']} | "
                     f"{x['peer'] or '—'} | {pv or '—'} | {fmt(x['ratio']) + 'x' if x['ratio'] is not None else '—'} "
                     f"| {status} |")
    lines += ["", "Sources (in the results folder of the run): " + ", ".join(sorted({x["source"] for x in rows})) + ".",
              "Ratios are peer time / ours (for the executor and PyTorch rows: ours / PyTorch, lower is better).", ""]
    (out / "benchmarks.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=ROOT / "build" / "bench" / "results")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    ap.add_argument("--filter", default=".", help="the benchmark filter the run used (shown on the page)")
    a = ap.parse_args(argv)
    r = Results(a.results)
    rows = targets(r)
    write(rows, machine(r), a.out, a.results, a.filter)
    for x in rows:
        print(f"{x['status']:>12}  {x['target']}: {fmt(x['value'])} {x['unit']}"
              + (f" (peer {fmt(x['peer_value'])}, ratio {fmt(x['ratio'])}x)" if x["ratio"] is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
