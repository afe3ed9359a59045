"""Writes the notebooks of this folder from the cells below (so they stay reviewable as code).

    python examples/notebooks/make_notebooks.py

The committed .ipynb files carry no outputs; python/tests/test_notebooks.py executes each one.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

NOTEBOOKS = {
    "01_learn_the_cut_ans.ipynb": [
        new_markdown_cell(
            "# Learning where to cut VGG16 online (ANS tables)\n\n"
            "The ANS arm table of VGG16 (23 cuts; per-cut context features and front-end delays measured on a "
            "Jetson) ships with incision. The uplink switches between the DADS network levels and the edge "
            "server is busy for a while; the offloading delay of each cut is simulated from the table "
            "(`incision.demo`, the model of `python -m incision demo`). muLinUCB (ANS), a discounted "
            "muLinUCB and Neurosurgeon with a stale profile are compared with the per-frame oracle."
        ),
        new_code_cell(
            "import numpy as np\n"
            "import matplotlib.pyplot as plt\n"
            "import incision as inc\n"
            "from incision import demo\n\n"
            "contexts, front = inc.load_arm_table(inc.data.path('ans/vgg16_arms.csv'))\n"
            "contexts.shape, front.round(4)"
        ),
        new_code_cell(
            "frames = 9000\n"
            "rng = np.random.default_rng(7)\n"
            "bandwidth, load, labels = demo.environment(frames, rng)        # bit/s, server load factor\n"
            "offload = demo.true_offload_delay(contexts, bandwidth, load, rng, noise=0.01)\n"
            "table = front[None, :] + offload                               # latency of every cut, every frame\n"
            "key_weight = np.where(rng.random(frames) < 0.1, 0.8, 0.2)\n"
            "local = int(np.flatnonzero(~contexts.any(axis=1))[0])\n\n"
            "def learn(learner):\n"
            "    arms, summary = learner.run(offload, key_weight)\n"
            "    return np.asarray(arms)\n\n"
            "policies = {\n"
            "    'muLinUCB (ANS)': learn(inc.MuLinUCB(contexts, front)),\n"
            "    'muLinUCB, discounted 0.99': learn(inc.MuLinUCB(contexts, front, gamma=0.99, alpha=0.1)),\n"
            "    'Neurosurgeon, stale': demo.neurosurgeon_stale(contexts, front, bandwidth, every=2500),\n"
            "    'device-only': np.full(frames, local),\n"
            "    'edge-only': np.zeros(frames, dtype=np.int64),\n"
            "}\n"
            "rows = demo.summarise(table, policies)"
        ),
        new_code_cell(
            "fig, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True)\n"
            "inc.plot.regret(table, policies, ax=axes[0])\n"
            "inc.plot.latency(table, policies, ax=axes[1])\n"
            "inc.plot.cut_timeline({k: policies[k] for k in ['muLinUCB (ANS)', 'muLinUCB, discounted 0.99']}"
            " | {'oracle': table.argmin(axis=1)}, ax=axes[2])\n"
            "for lo, hi, name in labels:\n"
            "    axes[0].axvline(lo, color='0.8', lw=0.5)\n"
            "    axes[0].text((lo + hi) / 2, 0, name, ha='center', fontsize=7)\n"
            "fig.tight_layout()"
        ),
        new_markdown_cell(
            "Over these 9,000 frames muLinUCB as in ANS is still exploring (its exploration scale grows with "
            "the horizon and it never forgets), so it trails the discounted variant, which tracks the switching "
            "link; `python -m incision demo` runs the 54,000-frame version with a sliding window too."
        ),
        new_code_cell(
            "# the learners beat the baselines that never adapt\n"
            "by = {r['policy']: r for r in rows}\n"
            "assert by['muLinUCB (ANS)']['regret_s'] < by['edge-only']['regret_s']\n"
            "assert by['muLinUCB, discounted 0.99']['regret_s'] < by['device-only']['regret_s']\n"
            "{k: round(v['regret_s'], 1) for k, v in by.items()}"
        ),
    ],
    "02_torchvision_split.ipynb": [
        new_markdown_cell(
            "# A torchvision model: profile, bandwidth map, split, run\n\n"
            "`incision.torch` traces any torch.fx-traceable module, profiles every node here and builds the "
            "layer graph. The bandwidth map gives every latency-optimal plan over a range of uplink rates; "
            "each plan splits the model into a device half and a server half whose composition is the model. "
            "Needs `pip install 'incision[torch]'` (random weights, nothing is downloaded)."
        ),
        new_code_cell(
            "import numpy as np\n"
            "import torch, torchvision\n"
            "import matplotlib.pyplot as plt\n"
            "import incision as inc\n"
            "import incision.torch as it\n\n"
            "torch.manual_seed(0)\n"
            "model = torchvision.models.resnet18(weights=None).eval()\n"
            "x = torch.randn(1, 3, 224, 224)\n"
            "tm = it.trace(model, x, repeats=3, warmup=1, server_speedup=10.0)\n"
            "tm, float(tm.graph.device_times.sum())"
        ),
        new_code_cell(
            "bmap = inc.BandwidthMap(tm.graph, min_bandwidth=1e4, max_bandwidth=1e9)  # bytes/s\n"
            "inc.plot.bandwidth_map(bmap)\n"
            "[(round(p.latency * 1e3, 2), len(p.device_layers), int(p.shipped_bytes)) for p in bmap.plans]"
        ),
        new_code_cell(
            "# every plan of the map splits the model; the halves reproduce its output\n"
            "with torch.no_grad():\n"
            "    want = model(x)\n"
            "    for plan in bmap.plans:\n"
            "        front, back = tm.split(plan)\n"
            "        shipped = front(x)                     # the tensors crossing the cut\n"
            "        got = back(*shipped)\n"
            "        assert torch.allclose(got, want, atol=1e-5), plan\n"
            "len(bmap.plans), 'plans split and checked'"
        ),
        new_code_cell(
            "# learning the plan online: muLinUCB over the map's plans while the uplink switches\n"
            "contexts, front_delay = tm.arms(bmap.plans)\n"
            "rng = np.random.default_rng(1)\n"
            "rate = np.repeat([5e6, 2e4, 5e6], 600) * rng.uniform(0.9, 1.1, 1800)   # bytes/s\n"
            "fixed = np.array([p.latency - p.upload_time for p in bmap.plans])\n"
            "shipped = np.array([p.shipped_bytes for p in bmap.plans])\n"
            "table = fixed[None, :] + shipped[None, :] / rate[:, None]\n"
            "offload = np.maximum(table - front_delay[None, :], 0.0)\n"
            "learner = inc.MuLinUCB(contexts, front_delay, alpha=0.01, gamma=0.95)\n"
            "arms, _ = learner.run(offload, None)\n"
            "policies = {'muLinUCB': np.asarray(arms), 'plan at 1 GB/s': np.zeros(1800, dtype=int)}\n"
            "fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))\n"
            "inc.plot.latency(table, policies, window=30, ax=ax[0])\n"
            "inc.plot.regret(table, policies, ax=ax[1])\n"
            "fig.tight_layout()\n"
            "lat = table[np.arange(1800), arms].mean(); best = table.min(axis=1).mean()\n"
            "print(f'muLinUCB {1e3 * lat:.2f} ms per frame, oracle {1e3 * best:.2f} ms')"
        ),
        new_code_cell(
            "# the same learner in the real loop: incision's executor runs the traced parts (tm.backend()) over a\n"
            "# simulated 5 MB/s uplink, then with each frame's server part on an edge server over loopback TCP\n"
            "import incision.exec as ie\n"
            "import incision.net as inet\n\n"
            "backend = tm.backend()\n"
            "learner = inc.MuLinUCB(contexts, front_delay, alpha=0.01, gamma=0.95)\n"
            "link = ie.SimLink(ie.BandwidthTrace.constant(5e6))\n"
            "sim = ie.OnlineLoop(backend, learner, link, bmap, tm.graph, timing='modeled').run(3, x.numpy())\n"
            "with inet.EdgeServer(tm.backend()) as edge:   # a real edge would trace its own copy of the model\n"
            "    tcp_link = inet.TcpLink(edge.port, backend, deadline=5.0)   # the handshake checks the fingerprints\n"
            "    tcp = ie.OnlineLoop(backend, learner, None, bmap, tm.graph, edge=tcp_link).run(3, x.numpy())\n"
            "assert sim['output_error'].max() < 1e-4 and tcp['output_error'].max() < 1e-4   # every frame = model(x)\n"
            "print('simulated link, arms:', sim['arm'])\n"
            "print('over TCP, frames the edge served:', int(tcp['edge'].sum()), 'of', int(tcp['offloaded'].sum()),\n"
            "      'offloaded; its compute times (ms):', np.round(1e3 * tcp['edge_server_time'][tcp['edge']], 1))"
        ),
    ],
    "03_federated_fedlinucb_dw.ipynb": [
        new_markdown_cell(
            "# Devices learning the cut together: FedLinUCB-DW\n\n"
            "Several devices of one type (here: VGG16 on the same uplink) share what they learn through an edge "
            "aggregator (`inc.FedAggregator`); each `inc.FedLinUCBDW` uploads its statistics when its log-det "
            "trigger fires and installs its group's pooled statistics. `inc.run_lockstep` runs all devices "
            "frame by frame in C++. A device joining late starts from the group's experience."
        ),
        new_code_cell(
            "import numpy as np\n"
            "import matplotlib.pyplot as plt\n"
            "import incision as inc\n\n"
            "contexts, front = inc.load_arm_table(inc.data.path('ans/vgg16_arms.csv'))\n"
            "theta = np.array([1e-3, 5e-4, 2e-4, 2e-12, 4e-12, 1e-11, 1 / 5.85e6])   # 4G uplink\n"
            "frames, n_dev = 1500, 4\n"
            "rng = np.random.default_rng(3)\n"
            "tables = [np.maximum(contexts @ theta + rng.normal(0, 0.01, (frames, len(front))), 0.0) for _ in range(n_dev)]\n"
            "for t in tables:\n"
            "    t[:, ~contexts.any(axis=1)] = 0.0                    # the on-device arm ships nothing\n"
            "key = np.zeros((n_dev, frames), dtype=bool)\n\n"
            "def devices():\n"
            "    return [inc.FedLinUCBDW(i + 1, 'vgg16', contexts, front, upload_threshold=1.0) for i in range(n_dev)]"
        ),
        new_code_cell(
            "edge = inc.FedAggregator()\n"
            "coop = devices()\n"
            "for d in coop:\n"
            "    d.receive(edge.handle(d.hello()))\n"
            "arms_coop = inc.run_lockstep(coop, edge, tables, key)\n"
            "arms_alone = inc.run_lockstep(devices(), None, tables, key)       # no edge: each learns alone\n"
            "latency = [front[None, :] + t for t in tables]\n"
            "def regret(arms):\n"
            "    return np.mean([np.cumsum(l[np.arange(frames), a] - l.min(axis=1)) for l, a in zip(latency, arms)], axis=0)\n"
            "plt.plot(regret(arms_coop), label='FedLinUCB-DW (cooperating)')\n"
            "plt.plot(regret(arms_alone), label='each device alone')\n"
            "plt.xlabel('frame'); plt.ylabel('mean cumulative regret (s)'); plt.legend()\n"
            "edge.group_names(), edge.group_count('vgg16'), edge.group_size('vgg16')"
        ),
        new_code_cell(
            "# a latecomer joins: its first download carries the group's statistics\n"
            "late = inc.FedLinUCBDW(99, 'vgg16', contexts, front, upload_threshold=1.0)\n"
            "late.receive(edge.handle(late.hello()))\n"
            "late.receive(edge.download_for(99))\n"
            "fresh = inc.FedLinUCBDW(100, 'vgg16', contexts, front)\n"
            "oracle = int((front + contexts @ theta * contexts.any(axis=1)).argmin())\n"
            "print('oracle cut', oracle, '| latecomer picks', late.select(), '| a fresh device picks', fresh.select())\n"
            "assert regret(arms_coop)[-1] <= regret(arms_alone)[-1] * 1.5"
        ),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        })
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i}"  # stable ids: regenerating gives the same file
        nbformat.validate(nb)
        (HERE / name).write_text(nbformat.writes(nb) + "\n")
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
