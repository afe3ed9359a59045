"""incision.sweep: the same results serially, on a process pool and on a Dask distributed cluster;
grid order whatever the completion order; a failing task named by scenario and seed."""

from __future__ import annotations

import concurrent.futures as cf
import sys
import time

import numpy as np
import pytest

import incision as inc
from incision.sweep import Run, SweepError, sweep

# Early scenarios sleep longest, so on a parallel executor they finish last.
SCENARIOS = {"wifi": {"mbit": 18.88, "delay": 0.3}, "3g": {"mbit": 1.1, "delay": 0.15},
             "cat1": {"mbit": 0.13, "delay": 0.0}}
SEEDS = [3, 1, 2]


def experiment(params: dict, seed: int) -> dict:
    """A real, seed-deterministic run: muLinUCB on the VGG16 arms over a noisy delay table."""
    if params.get("fail"):
        raise ValueError("this scenario is broken on purpose")
    time.sleep(params["delay"])
    contexts, front = inc.load_arm_table(inc.data.path("ans/vgg16_arms.csv"))
    rng = np.random.default_rng(seed)
    frames = 400
    delay = np.ascontiguousarray(contexts[:, 6][None, :] / (params["mbit"] * 1e6)
                                 + rng.normal(0.0, 0.01, (frames, len(front))))
    delay[:, ~contexts.any(axis=1)] = 0.0
    arms, _ = inc.MuLinUCB(contexts, front).run(delay)
    lat = front[arms] + delay[np.arange(frames), arms]
    return {"arms": np.asarray(arms).tolist(), "mean_latency": float(lat.mean())}


def test_serial_grid_order_and_values():
    runs = sweep(experiment, SCENARIOS, SEEDS, progress=False)
    assert [(r.scenario, r.seed) for r in runs] == [(s, k) for s in SCENARIOS for k in SEEDS]
    assert all(isinstance(r, Run) and r.params is SCENARIOS[r.scenario] for r in runs)
    # each value is the experiment's own answer for that (scenario, seed)
    for r in runs:
        assert r.value == experiment(dict(SCENARIOS[r.scenario], delay=0.0), r.seed)
    # the scenarios differ: the learner ends elsewhere on Wi-Fi than on CAT1
    assert runs[0].value["arms"][-50:] != runs[-1].value["arms"][-50:]


class Recording:
    """Wraps an executor and records the order in which its tasks finish."""

    def __init__(self, inner: cf.Executor) -> None:
        self.inner, self.finished, self.submitted = inner, [], 0

    def submit(self, fn, *args):
        index = self.submitted
        self.submitted += 1
        fut = self.inner.submit(fn, *args)
        fut.add_done_callback(lambda _: self.finished.append(index))
        return fut


def test_results_in_grid_order_whatever_the_completion_order():
    serial = sweep(experiment, SCENARIOS, SEEDS, progress=False)
    with cf.ThreadPoolExecutor(max_workers=len(SCENARIOS) * len(SEEDS)) as pool:
        rec = Recording(pool)
        threaded = sweep(experiment, SCENARIOS, SEEDS, executor=rec, progress=False, timeout=120)
    assert sorted(rec.finished) == list(range(9)) and rec.finished != sorted(rec.finished)
    assert rec.finished.index(8) < rec.finished.index(0)  # the last scenario finished first
    assert [(r.scenario, r.seed, r.value) for r in threaded] == [(r.scenario, r.seed, r.value) for r in serial]


def test_process_pool_same_as_serial():
    serial = sweep(experiment, SCENARIOS, SEEDS, progress=False)
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        parallel = sweep(experiment, SCENARIOS, SEEDS, executor=pool, progress=False, timeout=120)
    assert [(r.scenario, r.seed, r.value) for r in parallel] == [(r.scenario, r.seed, r.value) for r in serial]


def test_dask_local_cluster_same_as_serial():
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    # Dask workers are other processes that cannot import this test file: ship its functions by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    serial = sweep(experiment, SCENARIOS, SEEDS, progress=False)
    t0 = time.monotonic()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        on_dask = sweep(experiment, SCENARIOS, SEEDS, executor=client.get_executor(), progress=False,
                        timeout=120)
        # both seeds of 'broken' fail; which one the workers finish first is theirs to decide
        with pytest.raises(SweepError, match=r"scenario 'broken', seed [12]: ValueError: this scenario is broken"):
            sweep(experiment, {"ok": SCENARIOS["wifi"], "broken": {"fail": True}}, [1, 2],
                  executor=client.get_executor(), progress=False, timeout=120)
    assert time.monotonic() - t0 < 120
    assert [(r.scenario, r.seed, r.value) for r in on_dask] == [(r.scenario, r.seed, r.value) for r in serial]


@pytest.mark.parametrize("pool", [None, "process"])
def test_failing_task_names_its_scenario(pool):
    grid = {"wifi": SCENARIOS["wifi"], "broken": {"fail": True}, "cat1": SCENARIOS["cat1"]}
    if pool is None:
        with pytest.raises(SweepError, match=r"scenario 'broken', seed 5: ValueError: this scenario is broken") as e:
            sweep(experiment, grid, 5, progress=False)
    else:
        with cf.ProcessPoolExecutor(max_workers=2) as ex, pytest.raises(SweepError) as e:
            sweep(experiment, grid, 5, executor=ex, progress=False, timeout=120)
    assert e.value.scenario == "broken" and e.value.seed == 5
    assert isinstance(e.value.__cause__, ValueError)


def test_progress_bar_runs_and_scenario_sequences_are_named():
    pytest.importorskip("tqdm")
    runs = sweep(experiment, [{"name": "a", "mbit": 5.85, "delay": 0.0}], [0], progress=True, desc="t")
    assert runs[0].scenario == "a"


def test_bad_grids_raise_before_running():
    calls = []

    def fn(p, s):
        calls.append((p, s))

    with pytest.raises(ValueError, match="no scenarios"):
        sweep(fn, {}, [0], progress=False)
    with pytest.raises(ValueError, match="no seeds"):
        sweep(fn, {"a": 1}, [], progress=False)
    with pytest.raises(ValueError, match="repeated seed"):
        sweep(fn, {"a": 1}, [1, 1], progress=False)
    with pytest.raises(TypeError, match="seeds must be integers"):
        sweep(fn, {"a": 1}, [0.5], progress=False)
    with pytest.raises(ValueError, match="two scenarios are named 'x'"):
        sweep(fn, [{"name": "x"}, {"name": "x"}], [0], progress=False)
    with pytest.raises(TypeError, match="fn must be callable"):
        sweep(None, {"a": 1}, [0], progress=False)
    with pytest.raises(TypeError, match="executor must have submit"):
        sweep(fn, {"a": 1}, [0], executor=object(), progress=False)
    with pytest.raises(ValueError, match="timeout must be a positive"):
        sweep(fn, {"a": 1}, [0], executor=cf.ThreadPoolExecutor(1), timeout=0, progress=False)
    assert calls == []


def test_timeout_is_reported():
    with cf.ThreadPoolExecutor(max_workers=1) as ex, pytest.raises(cf.TimeoutError):
        sweep(experiment, {"slow": {"mbit": 1.0, "delay": 1.0}}, [0, 1], executor=ex, progress=False, timeout=0.2)
