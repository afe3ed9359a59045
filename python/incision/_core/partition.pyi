"""
Optimal cuts of layer graphs from profiles
"""
from __future__ import annotations

import os
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['BandwidthMap', 'DadsDecision', 'LayerGraph', 'Plan', 'chain_scan', 'dads', 'dsh', 'dsl', 'evaluate']
class BandwidthMap:
    """
    
    Every latency-optimal plan over [min_bandwidth, max_bandwidth] (bytes/s) with exact breakpoints,
    from a few min-cuts; lookups are a binary search. ``latency`` takes a number or an array of
    bandwidths (any shape; the result has that shape). Immutable once built (no lock needed); keeps
    its own copy of the graph, so it pickles (rebuilt on load, exactly) and compares (``==``: same
    range, breakpoints and plans).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: BandwidthMap) -> bool:
        ...
    def __getstate__(self) -> tuple[str, float, float, float, float | None]:
        ...
    def __init__(self, graph: LayerGraph, min_bandwidth: typing.SupportsFloat | typing.SupportsIndex, max_bandwidth: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None) -> None:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def index(self, bandwidth: typing.SupportsFloat | typing.SupportsIndex) -> int:
        ...
    @typing.overload
    def latency(self, bandwidth: typing.SupportsFloat | typing.SupportsIndex) -> float:
        """
        Optimal latency (s) at a bandwidth (bytes/s); IndexError outside the range.
        """
    @typing.overload
    def latency(self, bandwidth: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
        """
        Element-wise over an array of bandwidths (one C++ loop).
        """
    def plan(self, bandwidth: typing.SupportsFloat | typing.SupportsIndex) -> Plan:
        ...
    @property
    def breakpoints(self) -> list[float]:
        """
        decreasing bandwidths (bytes/s)
        """
    @property
    def download_bandwidth(self) -> float | None:
        ...
    @property
    def max_bandwidth(self) -> float:
        ...
    @property
    def min_bandwidth(self) -> float:
        ...
    @property
    def plans(self) -> list[Plan]:
        """
        plans from the highest bandwidth to the lowest
        """
    @property
    def rtt(self) -> float:
        ...
    @property
    def solves(self) -> int:
        ...
class DadsDecision:
    def __repr__(self) -> str:
        ...
    @property
    def decrease_rate(self) -> bool:
        ...
    @property
    def heavy_load(self) -> bool:
        ...
    @property
    def plan(self) -> Plan:
        ...
class LayerGraph:
    """
    
    A DAG of DNN layers with per-layer device time (s), server time (s) and output size (bytes).
    
    A layer without predecessors is an input: produced on the device and pinned there; its
    out_bytes is what shipping the raw input costs. Every mutation is validated (negative or
    non-finite values, unknown ids, self loops, duplicate edges, cycles -> ValueError/IndexError
    naming the layer) and leaves the graph unchanged on error.
    
    Threads: every method takes a per-graph lock, so a graph may be shared by Python threads; the
    partitioners (dsl, dsh, dads, chain_scan, evaluate, BandwidthMap) release the GIL while they run.
    """
    __hash__: typing.ClassVar[None] = None
    @staticmethod
    def from_json(text: str) -> LayerGraph:
        """
        Parse incision's own JSON format.
        """
    @staticmethod
    def from_msr_json(path: os.PathLike | str | bytes, time_scale: typing.SupportsFloat | typing.SupportsIndex = 0.001, link_rate: typing.SupportsFloat | typing.SupportsIndex = 2147483648.0) -> LayerGraph:
        """
        Load an msr-fiddle workload. device_time = cpuLatency * time_scale, server_time =
        fpgaLatency * time_scale (values are milliseconds), out_bytes = edge cost * time_scale * link_rate
        (2**31 B/s reproduces the files' edge sizes).
        """
    @staticmethod
    def load_json(path: os.PathLike | str | bytes) -> LayerGraph:
        """
        Read a file in incision's own JSON format (path: str or os.PathLike).
        """
    def __eq__(self, arg0: LayerGraph) -> bool:
        """
        Same layers (every field, in id order) and the same edges.
        """
    def __getstate__(self) -> str:
        ...
    def __init__(self) -> None:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: str) -> None:
        ...
    def add_edge(self, src: typing.SupportsInt | typing.SupportsIndex, dst: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Add the data dependency src -> dst.
        """
    def add_layer(self, name: str, device_time: typing.SupportsFloat | typing.SupportsIndex, server_time: typing.SupportsFloat | typing.SupportsIndex, out_bytes: typing.SupportsFloat | typing.SupportsIndex, *, type: str = '', macs: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> int:
        """
        Add a layer; returns its id (0, 1, 2, ... in insertion order). type (operator kind, e.g.
        'conv') and macs (multiply-accumulates) are optional metadata no partitioner reads.
        """
    def is_chain(self) -> bool:
        ...
    def predecessors(self, layer: typing.SupportsInt | typing.SupportsIndex) -> list[int]:
        ...
    def save_json(self, path: os.PathLike | str | bytes) -> None:
        ...
    def set_costs(self, layer: typing.SupportsInt | typing.SupportsIndex, device_time: typing.SupportsFloat | typing.SupportsIndex, server_time: typing.SupportsFloat | typing.SupportsIndex, out_bytes: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def set_metadata(self, layer: typing.SupportsInt | typing.SupportsIndex, type: str, macs: typing.SupportsFloat | typing.SupportsIndex) -> None:
        """
        Replace a layer's optional metadata (operator kind, multiply-accumulates).
        """
    def successors(self, layer: typing.SupportsInt | typing.SupportsIndex) -> list[int]:
        ...
    def to_json(self) -> str:
        ...
    def topological_order(self) -> list[int]:
        ...
    @property
    def device_times(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def edges(self) -> list[tuple[int, int]]:
        ...
    @property
    def inputs(self) -> list[int]:
        ...
    @property
    def macs(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        """
        multiply-accumulates per layer (0 where unknown)
        """
    @property
    def names(self) -> list[str]:
        ...
    @property
    def num_edges(self) -> int:
        ...
    @property
    def num_layers(self) -> int:
        ...
    @property
    def out_bytes(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def server_times(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def types(self) -> list[str]:
        """
        operator kind per layer ('' where unknown)
        """
class Plan:
    """
    A partition mapped back to layer ids, with its predicted times (seconds).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Plan) -> bool:
        """
        Same placement, layer lists, status and times (exact).
        """
    def __getstate__(self) -> tuple:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @property
    def device_layers(self) -> list[int]:
        ...
    @property
    def device_time(self) -> float:
        ...
    @property
    def download_time(self) -> float:
        ...
    @property
    def latency(self) -> float:
        ...
    @property
    def max_stage(self) -> float:
        ...
    @property
    def on_device(self) -> numpy.typing.NDArray[numpy.bool]:
        """
        bool array per layer id
        """
    @property
    def rtt(self) -> float:
        ...
    @property
    def server_layers(self) -> list[int]:
        ...
    @property
    def server_time(self) -> float:
        ...
    @property
    def shipped_bytes(self) -> float:
        ...
    @property
    def shipped_layers(self) -> list[int]:
        ...
    @property
    def status(self) -> str:
        ...
    @property
    def upload_time(self) -> float:
        ...
def chain_scan(graph: LayerGraph, bandwidth: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Plan:
    """
    Latency-optimal prefix cut of a chain (Neurosurgeon, ASPLOS 2017).
    """
def dads(graph: LayerGraph, bandwidth: typing.SupportsFloat | typing.SupportsIndex, rate: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None) -> DadsDecision:
    """
    DADS controller: DSL if its max stage < 1/rate, else DSH; decrease_rate if DSH misses 1/rate too.
    """
def dsh(graph: LayerGraph, bandwidth: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None, grid: typing.SupportsInt | typing.SupportsIndex = 7, levels: typing.SupportsInt | typing.SupportsIndex = 4) -> Plan:
    """
    Throughput-oriented plan (DADS DSH): minimise the largest pipeline stage; at most 3x the optimum with a free download (download_bandwidth=None), 4x with a finite one (grid <= 64, levels <= 16).
    """
def dsl(graph: LayerGraph, bandwidth: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None, corrected: bool = True) -> Plan:
    """
    Latency-optimal plan by one minimum cut (DADS DSL, INFOCOM 2019) with both corrections
    (precedence and input pinning). corrected=False builds the paper's graph as printed, whose plan
    can be infeasible (status "infeasible"); it exists to document that flaw.
    """
def evaluate(graph: LayerGraph, device_layers: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], bandwidth: typing.SupportsFloat | typing.SupportsIndex, rtt: typing.SupportsFloat | typing.SupportsIndex = 0.0, download_bandwidth: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Plan:
    """
    Price a feasible device set (ValueError if infeasible).
    """
