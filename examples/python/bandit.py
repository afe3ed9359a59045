"""LinUCB from Python, frame by frame and a whole stream at once (docs/bandit.md includes the
marked regions).

Checked against an independent computation: LinUCB written out in numpy (Li et al., WWW 2010,
ridge statistics solved directly) must make the same choices and give the same upper
confidence bounds.
"""

import numpy as np

import incision as inc

T, K, d = 300, 5, 4  # frames, arms, context dimension
rng = np.random.default_rng(3)
theta_true = rng.normal(size=d)  # unknown to the learners
contexts = rng.normal(size=(T, K, d))  # a new context per arm and frame
rewards = contexts @ theta_true + rng.normal(0, 0.1, size=(T, K))

# [doc:shared]
pol = inc.LinUCB(dim=d, alpha=1.0, reg=1.0)  # gamma=0.99 or window=500 to forget
chosen = []
for t in range(T):
    X = contexts[t]  # (K, d) float64, C order: read in place
    a = pol.select(X)  # argmax of x.theta + alpha * sqrt(x' A^-1 x); ties to the lowest index
    pol.update(X[a], rewards[t, a])
    chosen.append(a)
arms = inc.LinUCB(dim=d, alpha=1.0, reg=1.0).run(contexts, rewards)  # (T, K, d), (T, K): one call
# [doc:shared]

# [doc:disjoint]
dis = inc.DisjointLinUCB(n_arms=K, dim=d, alpha=1.0, reg=1.0)  # one model per arm
thetas = rng.normal(size=(K, d))  # arm a pays x.theta_a + noise for the frame's one context x
noise = rng.normal(0, 0.1, size=T)
dis_chosen = []
for t in range(T):
    x = contexts[t, 0]
    a = dis.select(x)
    dis.update(a, x, x @ thetas[a] + noise[t])
    dis_chosen.append(a)
# [doc:disjoint]


def numpy_linucb(contexts, reward_of, n_models, probe, alpha=1.0, reg=1.0):
    """LinUCB with n_models ridge models (1: shared; K: disjoint, one context for all arms).

    Returns the choices and the upper confidence bounds of the rows of probe at the end."""
    A = np.stack([reg * np.eye(d)] * n_models)
    b = np.zeros((n_models, d))

    def ucb(rows):
        models = np.zeros(len(rows), dtype=int) if n_models == 1 else np.arange(n_models)
        return np.array(
            [
                x @ np.linalg.solve(A[m], b[m]) + alpha * np.sqrt(x @ np.linalg.solve(A[m], x))
                for x, m in zip(rows, models)
            ]
        )

    out = []
    for t, X in enumerate(contexts):
        rows = X if n_models == 1 else np.repeat(X[None], n_models, axis=0)
        a = int(np.argmax(ucb(rows)))
        m = 0 if n_models == 1 else a
        A[m] += np.outer(rows[a], rows[a])
        b[m] += reward_of(t, a) * rows[a]
        out.append(a)
    return out, ucb(probe if n_models == 1 else np.repeat(probe[None], n_models, axis=0))


probe = rng.normal(size=(K, d))
want, want_scores = numpy_linucb(contexts, lambda t, a: rewards[t, a], 1, probe)
assert list(arms) == chosen == want
assert np.allclose(pol.scores(probe), want_scores, rtol=1e-9, atol=1e-12)
want, want_scores = numpy_linucb(contexts[:, 0], lambda t, a: contexts[t, 0] @ thetas[a] + noise[t], K, probe[0])
assert dis_chosen == want
assert np.allclose(dis.scores(probe[0]), want_scores, rtol=1e-9, atol=1e-12)

# It learned: in the last 100 frames its reward is close to the best arm's.
expected = contexts[-100:] @ theta_true
regret = np.mean(expected.max(axis=1) - expected[np.arange(100), chosen[-100:]])
print(f"LinUCB: mean regret over the last 100 frames {regret:.4f} (reward spread {rewards.std():.2f})")
assert regret < 0.05 * rewards.std()
