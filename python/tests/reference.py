"""Independent reference implementations, used as oracles by the tests and as baselines by the
benchmark scripts in bench/ (which put this folder on sys.path)."""

from __future__ import annotations

import networkx as nx
import numpy as np


class OfficialLoop:
    """The official ANS loop (muLinUCB.py + client frame loop) in numpy, on scaled contexts."""

    def __init__(self, contexts, front, prior):
        scale = np.abs(contexts).max(axis=0)
        scale[scale == 0] = 1.0
        self.x = (contexts / scale).T  # d x K
        self.f = front
        self.A = np.diag(prior).astype(float)
        self.b = np.zeros((contexts.shape[1], 1))
        self.cx = max(np.sqrt(self.x[:, [i]].T @ self.x[:, [i]])[0, 0] for i in range(self.x.shape[1])) ** 2
        self.frame_num = 200
        self.current = 0
        self._constants()

    def _constants(self):
        d = self.x.shape[0]
        self.alpha = (1 + np.sqrt(np.log((1 + self.frame_num * self.cx * self.cx) / 0.1) * d) * 0.05) / (1 - 0.8)
        self.force = np.ceil(np.power(self.frame_num, 0.25))

    def select(self, key):
        self.current += 1
        if self.current > self.frame_num:
            self.frame_num *= 2
            self._constants()
            self.current = 0
        a_inv = np.linalg.inv(self.A)
        theta = a_inv @ self.b
        lw = 0.8 if key else 0.2
        est = []
        for i in range(self.x.shape[1]):
            xi = self.x[:, [i]]
            est.append((xi.T @ theta)[0, 0] - self.alpha * np.sqrt((1 - lw) * (xi.T @ a_inv @ xi)[0, 0]) + self.f[i])
        if self.current % self.force == 0:
            return est.index(min(est[0:-1]))
        return est.index(min(est))

    def update(self, arm, delay):
        if arm != self.x.shape[1] - 1:
            xi = self.x[:, [arm]]
            self.A = self.A + xi @ xi.T
            self.b = self.b + xi * delay


def networkx_min_cut_value(g, bandwidth: float) -> float:
    """The corrected DSL graph built independently in networkx; only the flow VALUE is used
    (networkx's partition can be wrong with float capacities)."""
    dev, srv, out = g.device_times, g.server_times, g.out_bytes
    G = nx.DiGraph()
    G.add_node("s")
    G.add_node("t")
    for v in range(len(g)):
        if g.predecessors(v):
            G.add_edge("s", v, capacity=float(srv[v]))
        else:
            G.add_edge("s", v)  # no capacity attribute = infinite in networkx: the input is pinned
        G.add_edge(v, "t", capacity=float(dev[v]))
        succ = g.successors(v)
        if not succ:
            continue
        ship = float(out[v]) / bandwidth
        if len(succ) == 1:
            G.add_edge(v, succ[0], capacity=ship)
        else:
            G.add_edge(v, ("aux", v), capacity=ship)
            for w in succ:
                G.add_edge(("aux", v), w)  # infinite
        for w in succ:
            if G.has_edge(w, v):
                continue
            G.add_edge(w, v)  # infinite reverse arc into the original producer
    return nx.maximum_flow_value(G, "s", "t")
