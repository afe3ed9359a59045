"""incision.bandit: the Python face of incision._core.bandit.

Contextual bandits that learn the DNN cut online: shared-parameter and disjoint LinUCB
(Li et al., WWW 2010), muLinUCB from the Autodidactic Neurosurgeon (Zhang, Chen, Xu, WWW 2021),
each over plain, discounted (``gamma``, D-LinUCB, Russac et al., NeurIPS 2019) or sliding-window
(``window``) ridge statistics kept current in O(d^2) per update. Snapshots are versioned,
checksummed bytes (``snapshot``/``restore``, ``save``/``load``, pickle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._core.bandit import DisjointLinUCB, LinUCB, MuLinUCB

__all__: list[str] = ["DisjointLinUCB", "LinUCB", "MuLinUCB", "load_arm_table"]


def load_arm_table(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an ANS arm table (``data/ans/*.csv``) as ``(contexts (K, 7), front_delay (K,))``.

    Columns: ``arm, n_conv, n_fc, n_act, mac_conv, mac_fc, mac_act, tx_bits, front_delay_s``;
    the context is the seven columns after ``arm``, the last arm (all zeros) runs on the device.
    """
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if table.shape[1] != 9:
        raise ValueError(f"[incision.bandit] {path}: expected 9 columns, got {table.shape[1]}")
    contexts = np.ascontiguousarray(table[:, 1:8], dtype=np.float64)
    front = np.ascontiguousarray(table[:, 8], dtype=np.float64)
    return contexts, front
