"""incision.sweep: run an experiment over a grid of scenarios x seeds on any executor.

    from concurrent.futures import ProcessPoolExecutor
    from incision.sweep import sweep

    def experiment(scenario, seed):           # a module-level function: executors pickle it
        ...
        return {"latency": ...}

    runs = sweep(experiment, {"wifi": {"mbit": 18.88}, "3g": {"mbit": 1.1}}, seeds=range(5))
    with ProcessPoolExecutor(2) as pool:       # or dask: Client(...).get_executor(), Ray, ...
        same = sweep(experiment, {"wifi": {"mbit": 18.88}, "3g": {"mbit": 1.1}}, seeds=range(5),
                     executor=pool)

Any ``concurrent.futures.Executor`` works (its ``submit`` must return ``concurrent.futures.Future``s,
as the standard pools and dask's ``Client.get_executor()`` do); without one the tasks run one after
another in this process. The results come back in grid order (scenario by scenario, seeds in the
order given), whatever order the tasks finish in, so a sweep gives the same list serially and on a
cluster when the experiment itself is deterministic in (scenario, seed). A failing task raises
``SweepError`` naming its scenario and seed, with the task's exception as ``__cause__``; the tasks
not started yet are cancelled. Progress is a tqdm bar when tqdm is installed (``progress=False``
turns it off).
"""

from __future__ import annotations

import concurrent.futures as cf
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Run", "SweepError", "sweep"]

AREA = "[incision.sweep]"


@dataclass(frozen=True)
class Run:
    """One task of a sweep: the scenario's name and parameters, the seed, and what the experiment returned."""

    scenario: str
    params: Any
    seed: int
    value: Any


class SweepError(RuntimeError):
    """A task of a sweep raised; ``scenario`` and ``seed`` say which, ``__cause__`` holds its exception."""

    def __init__(self, scenario: str, seed: int, error: BaseException) -> None:
        super().__init__(f"{AREA} scenario {scenario!r}, seed {seed}: {type(error).__name__}: {error}")
        self.scenario = scenario
        self.seed = seed


def _named(scenarios: Any) -> list[tuple[str, Any]]:
    if isinstance(scenarios, Mapping):
        items = [(k, v) for k, v in scenarios.items()]
        for k, _ in items:
            if not isinstance(k, str):
                raise TypeError(f"{AREA} scenario names must be str, got {type(k).__name__} {k!r}")
    elif isinstance(scenarios, (str, bytes)) or not isinstance(scenarios, Iterable):
        raise TypeError(f"{AREA} scenarios must be a mapping name -> parameters or an iterable of scenarios, "
                        f"got {type(scenarios).__name__}")
    else:
        items = []
        for s in scenarios:
            name = s.get("name") if isinstance(s, Mapping) else getattr(s, "name", None)
            items.append((name if isinstance(name, str) else str(s), s))
    if not items:
        raise ValueError(f"{AREA} no scenarios to run")
    seen: set[str] = set()
    for name, _ in items:
        if name in seen:
            raise ValueError(f"{AREA} two scenarios are named {name!r}; names must be unique")
        seen.add(name)
    return items


def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, numbers.Integral):
        seeds = [seeds]
    out = []
    for s in seeds:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{AREA} seeds must be integers, got {type(s).__name__} {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError(f"{AREA} no seeds to run")
    if len(set(out)) != len(out):
        raise ValueError(f"{AREA} repeated seed in {out}")
    return out


def _bar(total: int, desc: str | None, progress: bool) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar then
        return None
    return tqdm(total=total, desc=desc, unit="run", leave=False)


def sweep(fn: Callable[[Any, int], Any], scenarios: Any, seeds: Any = (0,), *,
          executor: cf.Executor | None = None, progress: bool = True, desc: str | None = None,
          timeout: float | None = None) -> list[Run]:
    """Run ``fn(params, seed)`` for every scenario and seed; the ``Run``s in grid order.

    ``scenarios``: a mapping name -> parameters, or an iterable of scenarios (named by their ``"name"``
    key or ``name`` attribute, else by ``str``); names must be unique. ``seeds``: an int or an iterable of
    distinct ints. ``executor``: any ``concurrent.futures.Executor`` (None: serially in this process).
    ``timeout``: seconds the whole sweep may take on an executor (``TimeoutError`` after it, the
    tasks not started yet cancelled); None waits as long as it takes.
    Raises ``SweepError`` (naming the scenario and seed) when a task raises, TypeError/ValueError for a
    bad grid before anything runs.
    """
    if not callable(fn):
        raise TypeError(f"{AREA} fn must be callable as fn(params, seed), got {type(fn).__name__}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"{AREA} executor must have submit() like concurrent.futures.Executor, "
                        f"got {type(executor).__name__}")
    if timeout is not None and not (isinstance(timeout, numbers.Real) and timeout > 0):
        raise ValueError(f"{AREA} timeout must be a positive number of seconds or None, got {timeout!r}")
    grid = [(name, params, seed) for name, params in _named(scenarios) for seed in _seeds(seeds)]
    values: list[Any] = [None] * len(grid)
    bar = _bar(len(grid), desc, progress)
    try:
        if executor is None:
            for i, (name, params, seed) in enumerate(grid):
                try:
                    values[i] = fn(params, seed)
                except Exception as e:
                    raise SweepError(name, seed, e) from e
                if bar is not None:
                    bar.update(1)
        else:
            futures = {executor.submit(fn, params, seed): i for i, (name, params, seed) in enumerate(grid)}
            try:
                for fut in cf.as_completed(futures, timeout=timeout):
                    i = futures[fut]
                    try:
                        values[i] = fut.result()
                    except Exception as e:
                        raise SweepError(grid[i][0], grid[i][2], e) from e
                    if bar is not None:
                        bar.update(1)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    return [Run(name, params, seed, v) for (name, params, seed), v in zip(grid, values)]
