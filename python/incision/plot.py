"""incision.plot: figures for learner runs and bandwidth maps (matplotlib, optional).

Importing this module does not import matplotlib; each function does, and raises ImportError
with the install hint when it is missing. Every function draws into ``ax`` (a new figure when
None) and returns the Axes, so they compose into subplots.

Learner runs are described the way the demo and the notebooks hold them: ``table`` (T, K) is the
latency of every cut on every frame (seconds) and ``policies`` maps a name to the (T,) cut each
frame used; the oracle is the per-frame minimum of the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["bandwidth_map", "cut_timeline", "latency", "per_frame", "regret"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("incision.plot needs matplotlib: pip install matplotlib") from e
    return plt


def _axes(ax: Any) -> Any:
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(8, 4))
    return ax


def per_frame(table: Any, policies: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Each policy's per-frame latency: ``table[t, arms[t]]``. ValueError on a shape mismatch."""
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"[incision.plot] table must be (frames, cuts), got shape {table.shape}")
    frames = np.arange(table.shape[0])
    out = {}
    for name, arms in policies.items():
        arms = np.asarray(arms, dtype=np.int64)
        if arms.shape != frames.shape:
            raise ValueError(f"[incision.plot] {name}: {arms.shape[0] if arms.ndim else 0} cuts for "
                             f"{table.shape[0]} frames")
        if arms.size and (arms.min() < 0 or arms.max() >= table.shape[1]):
            raise ValueError(f"[incision.plot] {name}: cut outside [0, {table.shape[1]})")
        out[name] = table[frames, arms]
    return out


def regret(table: Any, policies: Mapping[str, Any], *, ax: Any = None) -> Any:
    """Cumulative regret (seconds above the per-frame oracle) over frames, one line per policy."""
    lat = per_frame(table, policies)
    best = np.asarray(table, dtype=np.float64).min(axis=1)
    ax = _axes(ax)
    for name, y in lat.items():
        ax.plot(np.cumsum(y - best), label=name, lw=1.2)
    ax.set_xlabel("frame")
    ax.set_ylabel("cumulative regret (s)")
    ax.legend(fontsize=8)
    return ax


def latency(table: Any, policies: Mapping[str, Any], *, window: int | None = None, oracle: bool = True,
            log: bool = True, ax: Any = None) -> Any:
    """Latency over frames (ms, trailing mean of ``window`` frames; T/120 by default), one line per
    policy, with the oracle dashed when ``oracle``."""
    lat = per_frame(table, policies)
    if oracle:
        lat["oracle"] = np.asarray(table, dtype=np.float64).min(axis=1)
    frames = len(next(iter(lat.values()))) if lat else 0
    w = max(int(window or frames // 120), 1)
    kernel = np.ones(w) / w
    ax = _axes(ax)
    for name, y in lat.items():
        if len(y) < w:
            continue
        smooth = np.convolve(y, kernel, mode="valid")  # trailing mean, no edge artefacts
        style = {"color": "k", "lw": 1.2, "ls": "--"} if name == "oracle" else {"lw": 1.0}
        ax.plot(np.arange(w - 1, len(y)), 1e3 * smooth, label=name, **style)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("frame")
    ax.set_ylabel(f"latency (ms, mean of {w} frames)")
    ax.legend(fontsize=8, ncol=2)
    return ax


def cut_timeline(policies: Mapping[str, Any], *, cut_labels: Sequence[str] | None = None, ax: Any = None) -> Any:
    """The cut each policy chose on every frame (one marker row per policy, offset so they do not hide
    each other); ``cut_labels`` names the cuts on the y axis."""
    ax = _axes(ax)
    n = max(len(policies), 1)
    for i, (name, arms) in enumerate(policies.items()):
        arms = np.asarray(arms)
        offset = (i - (n - 1) / 2) * 0.6 / n
        ax.plot(np.arange(len(arms)), arms + offset, ".", ms=1.5, label=name)
    if cut_labels is not None:
        ax.set_yticks(range(len(cut_labels)))
        ax.set_yticklabels(list(cut_labels), fontsize=7)
    ax.set_xlabel("frame")
    ax.set_ylabel("cut")
    ax.legend(fontsize=8, markerscale=6)
    return ax


def bandwidth_map(m: Any, *, points: int = 256, plans: bool = True, ax: Any = None) -> Any:
    """The optimal latency over bandwidth of a ``BandwidthMap`` (solid), each plan's own latency line
    a + s/B (thin, when ``plans``) and the breakpoints where the optimal plan changes (dotted)."""
    lo = m.min_bandwidth
    hi = m.max_bandwidth if np.isfinite(m.max_bandwidth) else 100.0 * max([lo, *m.breakpoints])
    b = np.geomspace(lo, hi, points)
    ax = _axes(ax)
    if plans:
        for i, p in enumerate(m.plans):
            fixed = p.latency - p.upload_time  # compute, download and RTT: independent of the uplink
            ax.plot(b, 1e3 * (fixed + p.shipped_bytes / b), lw=0.6, alpha=0.6, label=f"plan {i}")
    ax.plot(b, 1e3 * m.latency(b), color="k", lw=2.0, label="optimal")
    for x in m.breakpoints:
        ax.axvline(x, color="0.5", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("uplink bandwidth (bytes/s)")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"bandwidth map: {len(m)} plans, {len(m.breakpoints)} breakpoints")
    if plans and len(m) <= 12:
        ax.legend(fontsize=7, ncol=2)
    return ax
