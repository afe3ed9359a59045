"""A learner written in Python driving the C++ online loop (run by scripts/docs.sh)."""

import numpy as np

import incision.exec as ie


# [doc:learner]
class EpsilonGreedy:
    """Any object with ``select(key_frame) -> int`` and ``update(arm, delay)`` is a learner."""

    def __init__(self, front_delay, epsilon=0.1, seed=0):
        self.front = np.asarray(front_delay, dtype=float)  # known: the device part of each cut
        self.total = np.zeros_like(self.front)  # measured offloading delays, summed per cut
        self.count = np.zeros_like(self.front)
        self.epsilon = epsilon
        self.rng = np.random.default_rng(seed)  # explicit seed: reproducible runs

    def select(self, key_frame):
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(self.front)))
        mean = np.divide(self.total, self.count, out=np.zeros_like(self.total), where=self.count > 0)
        return int(np.argmin(self.front + mean))  # untried cuts look free: each gets tried

    def update(self, arm, delay):
        self.total[arm] += delay
        self.count[arm] += 1
# [doc:learner]


# [doc:use]
net = ie.example_network("resnet", seed=0)
profile = net.profile(server_speedup=10)
candidates = ie.chain_candidates(profile)
_, front_delay = ie.make_arms(profile, candidates)
link = ie.SimLink(ie.BandwidthTrace([0.0], [2e6], [1e-3]))  # 2 MB/s, 1 ms
loop = ie.OnlineLoop(net, EpsilonGreedy(front_delay, seed=7), link, candidates, profile, timing="modeled")
records = loop.run(300)
print(f"{len(candidates)} cuts, mean latency {1e3 * records['latency'].mean():.3f} ms")
# [doc:use]

assert (records["output_error"] == 0).all()  # every frame reproduced the unsplit network
