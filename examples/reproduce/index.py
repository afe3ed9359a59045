"""docs/results/index.md: the results landing page, linking every results page and raw output there.

    python examples/reproduce/index.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
PAGES = [  # (page, what it reproduces or measures, the command that regenerates it)
    ("ans.md", "ANS: μLinUCB against Neurosurgeon, plain LinUCB, device-only, edge-only and the oracle on the "
               "VGG16 and tiny-YOLOv2 arm tables", "python examples/reproduce/ans.py"),
    ("dads.md", "DADS: DSL / DSH latency and throughput speed-ups at the DADS uplinks, msr-fiddle graphs and "
                "profiled torchvision models", "python examples/reproduce/dads.py"),
    ("cans.md", "CANS: cooperative against non-cooperative FedLinUCB-DW, and the regime search for large gains",
     "python examples/reproduce/cans.py"),
    ("benchmarks.md", "Benchmark report: every speed target with the measured value, the peer's and the ratio",
     "bash scripts/bench.sh"),
]


def title(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    lines = ["# Results", "",
             "Every page here is generated from the CSV or JSON its script wrote, so each number can be traced "
             "to a run. `bash scripts/reproduce.sh` regenerates the reproductions (a few minutes; `--full` for "
             "the long runs), `bash scripts/bench.sh` the benchmark report.", "",
             "| page | what | regenerate |", "|---|---|---|"]
    for name, what, cmd in PAGES:
        page = a.out / name
        link = f"[{title(page)}]({name})" if page.exists() else f"{name} (not generated yet)"
        lines.append(f"| {link} | {what} | `{cmd}` |")
    known = {n for n, _, _ in PAGES} | {"index.md"}
    stems = {Path(n).stem for n in known}
    raw = sorted(f.name for f in a.out.iterdir() if f.is_file() and f.name not in known
                 and f.stem.split("_")[0] not in stems)
    if raw:
        lines += ["", "Raw outputs quoted by the area pages (bandit.md, partition.md, federated.md, demo.md):", ""]
        lines += [f"- [{n}]({n})" for n in raw]
    (a.out / "index.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {a.out / 'index.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
