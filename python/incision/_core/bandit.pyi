"""
Contextual bandits that learn the cut online
"""
from __future__ import annotations

import os
import numpy
import numpy.typing
import typing
__all__: list[str] = ['DisjointLinUCB', 'LinUCB', 'MuLinUCB']
class DisjointLinUCB:
    """
    
    Disjoint LinUCB: one ridge model per arm (Li et al., WWW 2010, Algorithm 1).
    
    ``select(x)`` returns argmax_k x.theta_k + alpha*sqrt(x^T A_k^-1 x) for one (d,) context;
    ``update(arm, x, reward)`` updates that arm only. ``gamma``/``window`` as for LinUCB.
    
    Threads: every method takes a per-object lock, so one learner may be shared by Python threads and
    their calls are serialised (each call sees and leaves a consistent state; ``n_updates`` counts
    every update). Batch methods (``run``, ``simulate``) release the GIL while they run, so learners in
    different threads progress in parallel; they are all or nothing: on an exception nothing is applied.
    """
    @staticmethod
    def __setstate__(*args, **kwargs):
        """
        _setstate(self: object, state: bytes) -> None
        
        Restores snapshot bytes into this learner (pickle). ValueError/TypeError on bad state, nothing changed.
        """
    @staticmethod
    def load(path: os.PathLike | str | bytes) -> DisjointLinUCB:
        """
        A learner from a file written by save().
        """
    @staticmethod
    def restore(data: bytes) -> DisjointLinUCB:
        """
        A learner from snapshot() bytes. ValueError on corrupt or foreign bytes.
        """
    def __getstate__(self) -> bytes:
        ...
    def __init__(self, n_arms: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0, reg: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, gamma: typing.SupportsFloat | typing.SupportsIndex | None = None, window: typing.SupportsInt | typing.SupportsIndex | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def inverse(self, arm: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    def merge(self, other: DisjointLinUCB) -> None:
        """
        Adds the other learner's data statistics.
        """
    def n_updates(self, arm: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    def run(self, contexts: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], rewards: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"]) -> typing.Annotated[numpy.typing.NDArray[numpy.int64], "[m, 1]"]:
        """
        Runs a whole stream in C++ (contexts (T, d), rewards (T, n_arms)); returns the chosen arms. All or nothing: non-finite input raises before any update.
        """
    def save(self, path: os.PathLike | str | bytes) -> None:
        """
        Writes the snapshot to a file atomically.
        """
    def scores(self, x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def select(self, x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> int:
        ...
    def snapshot(self) -> bytes:
        """
        The full state as versioned, checksummed bytes.
        """
    def theta(self, arm: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def update(self, arm: typing.SupportsInt | typing.SupportsIndex, x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], reward: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def alpha(self) -> float:
        ...
    @alpha.setter
    def alpha(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def dim(self) -> int:
        ...
    @property
    def n_arms(self) -> int:
        ...
    @property
    def policy(self) -> str:
        """
        Statistics policy: 'ridge', 'discounted' (gamma) or 'window'.
        """
class LinUCB:
    """
    
    LinUCB with one shared parameter vector over arm contexts (Li et al., WWW 2010).
    
    ``select(X)`` returns argmax_k x_k.theta + alpha*sqrt(x_k^T A^-1 x_k) over the rows of X
    (any (K, d) array-like; float64 C-ordered input is read in place); ties go to the lowest index.
    ``update(x, reward)`` folds the chosen row and its reward into the ridge statistics in O(d^2)
    (Sherman-Morrison). Pass ``gamma`` for discounted statistics (D-LinUCB) or ``window`` for a
    sliding window.
    
    Threads: every method takes a per-object lock, so one learner may be shared by Python threads and
    their calls are serialised (each call sees and leaves a consistent state; ``n_updates`` counts
    every update). Batch methods (``run``, ``simulate``) release the GIL while they run, so learners in
    different threads progress in parallel; they are all or nothing: on an exception nothing is applied.
    """
    @staticmethod
    def __setstate__(*args, **kwargs):
        """
        _setstate(self: object, state: bytes) -> None
        
        Restores snapshot bytes into this learner (pickle). ValueError/TypeError on bad state, nothing changed.
        """
    @staticmethod
    def load(path: os.PathLike | str | bytes) -> LinUCB:
        """
        A learner from a file written by save().
        """
    @staticmethod
    def restore(data: bytes) -> LinUCB:
        """
        A learner from snapshot() bytes. ValueError on corrupt or foreign bytes.
        """
    def __getstate__(self) -> bytes:
        ...
    def __init__(self, dim: typing.SupportsInt | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0, reg: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, gamma: typing.SupportsFloat | typing.SupportsIndex | None = None, window: typing.SupportsInt | typing.SupportsIndex | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def merge(self, other: LinUCB) -> None:
        """
        Adds the other learner's data statistics.
        """
    def run(self, contexts: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rewards: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> typing.Annotated[numpy.typing.NDArray[numpy.int64], "[m, 1]"]:
        """
        Runs a whole stream in C++: at frame t choose among contexts[t] (K, d), observe rewards[t, a]. Returns the chosen arms. All or nothing: non-finite input raises before any update.
        """
    def save(self, path: os.PathLike | str | bytes) -> None:
        """
        Writes the snapshot to a file atomically.
        """
    def scores(self, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"]) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        """
        Upper confidence bound of every row of X.
        """
    def select(self, X: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"]) -> int:
        """
        Index of the row of X (K, d) with the largest upper confidence bound.
        """
    def snapshot(self) -> bytes:
        """
        The full state as versioned, checksummed bytes.
        """
    def update(self, x: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], reward: typing.SupportsFloat | typing.SupportsIndex) -> None:
        """
        Adds the chosen context and its reward.
        """
    @property
    def alpha(self) -> float:
        ...
    @alpha.setter
    def alpha(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def dim(self) -> int:
        ...
    @property
    def gram(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        A
        """
    @property
    def inverse(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        """
        A^-1
        """
    @property
    def log_det(self) -> float:
        ...
    @property
    def moment(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        """
        b
        """
    @property
    def n_updates(self) -> int:
        ...
    @property
    def policy(self) -> str:
        """
        Statistics policy: 'ridge', 'discounted' (gamma) or 'window'.
        """
    @property
    def theta(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
class MuLinUCB:
    """
    
    muLinUCB (ANS; Zhang, Chen, Xu, WWW 2021): learns the DNN cut online.
    
    ``contexts`` (K, d): one row per partition point describing the server-side part; an all-zero
    row is the all-on-device arm. ``front_delay`` (K,): known on-device delays in seconds.
    ``select(key_frame)`` advances the frame schedule and returns the cut (lower confidence bound
    on the delay, exploration scaled by sqrt(1 - L), forced sampling of an offloading arm every
    ceil(T^mu) frames with a doubling horizon T from ``initial_horizon``); ``update(arm,
    offload_delay)`` feeds back the measured offloading delay (ignored for on-device arms).
    Defaults are the official code's constants. Deviations (named): ``reg``*I prior instead of a
    random diagonal, ``scaling='column_max'`` feature scaling (``'none'`` for raw contexts).
    ``gamma`` (discounted) or ``window`` (sliding window) add forgetting (not in ANS).
    
    Threads: every method takes a per-object lock, so one learner may be shared by Python threads and
    their calls are serialised (each call sees and leaves a consistent state; ``n_updates`` counts
    every update). Batch methods (``run``, ``simulate``) release the GIL while they run, so learners in
    different threads progress in parallel; they are all or nothing: on an exception nothing is applied.
    """
    @staticmethod
    def __setstate__(*args, **kwargs):
        """
        _setstate(self: object, state: bytes) -> None
        
        Restores snapshot bytes into this learner (pickle). ValueError/TypeError on bad state, nothing changed.
        """
    @staticmethod
    def load(path: os.PathLike | str | bytes) -> MuLinUCB:
        """
        A learner from a file written by save().
        """
    @staticmethod
    def restore(data: bytes) -> MuLinUCB:
        """
        A learner from snapshot() bytes. ValueError on corrupt or foreign bytes.
        """
    def __getstate__(self) -> bytes:
        ...
    def __init__(self, contexts: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], front_delay: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], *, reg: typing.SupportsFloat | typing.SupportsIndex = 1.0, scaling: str = 'column_max', mu: typing.SupportsFloat | typing.SupportsIndex = 0.25, initial_horizon: typing.SupportsInt | typing.SupportsIndex = 200, delta: typing.SupportsFloat | typing.SupportsIndex = 0.1, c_noise: typing.SupportsFloat | typing.SupportsIndex = 0.05, c_theta: typing.SupportsFloat | typing.SupportsIndex = 1.0, l_key: typing.SupportsFloat | typing.SupportsIndex = 0.8, l_nonkey: typing.SupportsFloat | typing.SupportsIndex = 0.2, alpha: typing.SupportsFloat | typing.SupportsIndex | None = None, forced_sampling: bool = True, arm_cache: bool = True, gamma: typing.SupportsFloat | typing.SupportsIndex | None = None, window: typing.SupportsInt | typing.SupportsIndex | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def estimates(self, L: typing.SupportsFloat | typing.SupportsIndex = 0.2) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        """
        Current delay estimates (lower confidence bounds) per arm.
        """
    def is_local_arm(self, arm: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def merge(self, other: MuLinUCB) -> None:
        """
        Adds the other learner's data statistics.
        """
    def run(self, offload_delays: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], key_weight: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None) -> tuple[typing.Annotated[numpy.typing.NDArray[numpy.int64], "[m, 1]"], dict]:
        """
        Runs a stream in C++ over a (T, K) offloading-delay table; returns (arms, summary).
        """
    def save(self, path: os.PathLike | str | bytes) -> None:
        """
        Writes the snapshot to a file atomically.
        """
    def scaled_context(self, arm: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def select(self, key_frame: bool = False) -> int:
        """
        Next frame's cut.
        """
    def select_weighted(self, L: typing.SupportsFloat | typing.SupportsIndex) -> int:
        """
        Next frame's cut with an explicit key-frame weight L in [0, 1).
        """
    def set_prior(self, diagonal: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]) -> None:
        """
        Replaces the statistics by an empty diagonal prior A = diag(diagonal), b = 0 (e.g. the official code's random diagonal), keeping the frame schedule.
        """
    def simulate(self, thetas: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.f_contiguous"], segment_frames: typing.Annotated[numpy.typing.ArrayLike, numpy.int64, "[m, 1]"], noise: typing.SupportsFloat | typing.SupportsIndex = 0.0, seed: typing.SupportsInt | typing.SupportsIndex = 0, key_prob: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> tuple[typing.Annotated[numpy.typing.NDArray[numpy.int64], "[m, 1]"], typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], dict]:
        """
        Runs a stream in C++ against offload delay = raw_context . thetas[s] + N(0, noise^2) in segment s (segment_frames[s] >= 0 frames each, at most 2**27 frames in all). Returns (arms, end-to-end delays, summary).
        """
    def snapshot(self) -> bytes:
        """
        The full state as versioned, checksummed bytes.
        """
    def update(self, arm: typing.SupportsInt | typing.SupportsIndex, offload_delay: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def alpha(self) -> float:
        ...
    @property
    def c_x(self) -> float:
        ...
    @property
    def dim(self) -> int:
        ...
    @property
    def feature_scale(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def forced_period(self) -> int:
        ...
    @property
    def gram(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def horizon(self) -> int:
        ...
    @property
    def inverse(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def last_forced(self) -> bool:
        ...
    @property
    def moment(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def n_arms(self) -> int:
        ...
    @property
    def n_frames(self) -> int:
        ...
    @property
    def n_updates(self) -> int:
        ...
    @property
    def policy(self) -> str:
        """
        Statistics policy: 'ridge', 'discounted' (gamma) or 'window'.
        """
    @property
    def theta(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        """
        theta in the scaled feature space
        """
