"""incision's CPU backend against PyTorch CPU (one thread) on the same layers and weights.

Builds each example network in torch from the weights incision exports (Network.layer: folded
conv weights and biases, linear weights, pooling geometry), checks the outputs agree, then times
side by side in one process:
  - every conv2d layer: incision's per-layer median (Network.profile, which recomputes one layer in
    C++) against torch.nn.functional.conv2d on the same input (median of timed calls; includes
    torch's Python dispatch, a few microseconds);
  - the whole network: Network.run (numpy in and out) against the torch module under
    inference_mode, medians of timed calls.
Ratios are incision / torch (below 1: incision faster). Target: within 2x.

    .venv/bin/python bench/exec_torch.py [--repeats 200] [--nets resnet inception]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

import incision.exec as ie


class TorchNet(torch.nn.Module):
    """The network of an incision Network, layer by layer, with its exported weights."""

    def __init__(self, net: ie.Network) -> None:
        super().__init__()
        self.layers = [net.layer(v) for v in range(len(net))]
        self.params = [
            (torch.from_numpy(np.array(L["weight"])), None if L["bias"] is None else torch.from_numpy(np.array(L["bias"])))
            if "weight" in L
            else None
            for L in self.layers
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        vals: list[torch.Tensor] = [x]
        for v in range(1, len(self.layers)):
            L = self.layers[v]
            a = [vals[u] for u in L["inputs"]]
            k = L["kind"]
            if k == "conv2d":
                w, b = self.params[v]
                if b is not None and b.dim() == 0:  # as incision's kernel adds it (see test_exec xfail)
                    b = b.expand(w.shape[0])
                y = F.conv2d(a[0], w, b, stride=L["stride"], padding=L["padding"], groups=L["groups"])
            elif k == "relu":
                y = F.relu(a[0])
            elif k == "max_pool":
                y = F.max_pool2d(a[0], L["kernel"], L["stride"], L["padding"])
            elif k == "avg_pool":
                y = F.avg_pool2d(a[0], L["kernel"], L["stride"], L["padding"], count_include_pad=True)
            elif k == "global_avg_pool":
                y = a[0].mean(dim=(2, 3), keepdim=True)
            elif k == "flatten":
                y = a[0].flatten(1)
            elif k == "linear":
                w, b = self.params[v]
                y = F.linear(a[0], w, b)
            elif k == "add":
                y = a[0] + a[1]
            elif k == "concat":
                y = torch.cat(a, dim=1)
            elif k == "softmax":
                y = F.softmax(a[0], dim=1)
            else:
                raise ValueError(f"unknown layer kind {k}")
            vals.append(y)
        return vals[-1]


def median_time(f, repeats: int) -> float:
    for _ in range(max(3, repeats // 10)):
        f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--nets", nargs="+", default=["resnet", "inception"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; medians of {args.repeats} runs")
    for name in args.nets:
        net = ie.example_network(name, seed=0)
        model = TorchNet(net).eval()
        x = np.random.default_rng(0).uniform(-1, 1, net.input_shape).astype(np.float32)
        xt = torch.from_numpy(x)
        with torch.inference_mode():
            ref = model(xt).numpy()
        ours = net.run(x)
        err = float(np.abs(ours - ref).max())
        print(f"\n{name}: {len(net)} layers, {2 * net.total_macs / 1e6:.1f} MFLOP, max |incision - torch| = {err:.2e}")
        assert err < 1e-4, "the torch rebuild disagrees with incision"
        g = net.profile(x, repeats=args.repeats, warmup=args.repeats // 10)
        outs = net.layer_outputs(x)
        print(f"  {'layer':<22}{'out shape':<18}{'incision us':>12}{'torch us':>10}{'ratio':>8}")
        ratios = []
        with torch.inference_mode():
            for v in range(len(net)):
                L = net.layer(v)
                if L["kind"] != "conv2d":
                    continue
                inp = torch.from_numpy(outs[L["inputs"][0]])
                w, b = model.params[v]
                if b is not None and b.dim() == 0:
                    b = b.expand(w.shape[0])
                t_torch = median_time(
                    lambda: F.conv2d(inp, w, b, stride=L["stride"], padding=L["padding"], groups=L["groups"]),
                    args.repeats,
                )
                t_ours = float(g.device_times[v])
                ratios.append(t_ours / t_torch)
                print(f"  {L['name']:<22}{str(L['out_shape']):<18}{t_ours * 1e6:>12.1f}{t_torch * 1e6:>10.1f}{ratios[-1]:>8.2f}")
            t_net_torch = median_time(lambda: model(xt), args.repeats)
        t_net_ours = median_time(lambda: net.run(x), args.repeats)
        print(f"  conv layers: geometric mean ratio {float(np.exp(np.mean(np.log(ratios)))):.2f}, worst {max(ratios):.2f}")
        print(
            f"  whole network: incision {t_net_ours * 1e3:.3f} ms, torch {t_net_torch * 1e3:.3f} ms, "
            f"ratio {t_net_ours / t_net_torch:.2f}"
        )


if __name__ == "__main__":
    main()
