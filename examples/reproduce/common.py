"""Shared plumbing of the reproduction scripts: CSV in and out, Markdown tables formatted from CSV
rows, the executor chosen on the command line, and the machine a run happened on."""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import datetime
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "docs" / "results"


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV, PNG and Markdown page")
    p.add_argument("--full", action="store_true", help="the long run (more frames and seeds)")
    p.add_argument("--workers", type=int, default=0,
                   help="run the sweep on a process pool of this many workers (0: serially)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def executor(workers: int) -> cf.Executor | None:
    """A process pool when asked for, else None (incision.sweep then runs serially)."""
    if workers < 0:
        raise SystemExit(f"--workers must be >= 0, got {workers}")
    return cf.ProcessPoolExecutor(max_workers=workers) if workers else None


def write_csv(path: Path, rows: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(v) for k, v in r.items()})


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def read_csv(path: Path) -> list[dict]:
    """Rows with numbers parsed back (int when integral text, float otherwise, str else)."""
    with path.open(newline="") as f:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _parse(v: str) -> Any:
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def md_table(rows: Iterable[dict], columns: Sequence[tuple[str, str, Callable[[Any], str]]]) -> str:
    """A Markdown table: columns are (header, key, formatter)."""
    rows = list(rows)
    out = ["| " + " | ".join(h for h, _, _ in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(fmt(r[key]) if key else fmt(r) for _, key, fmt in columns) + " |")
    return "\n".join(out)


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count() or 0, "cpu": cpu or "unknown",
            "date": datetime.date.today().isoformat(), "python": platform.python_version()}


def ms(v: float) -> str:
    return f"{1e3 * v:.1f}"


def pct(v: float) -> str:
    return f"{100 * v:+.1f} %"


def x(v: float) -> str:
    return f"{v:.2f}x"
