"""
Run a split network: the reference CPU backend, simulated link, online loop
"""
from __future__ import annotations

import os
import collections.abc
import incision._core.partition
import numpy
import numpy.typing
import typing
__all__: list[str] = ['BandwidthTrace', 'Network', 'OnlineLoop', 'SimLink', 'chain_candidates', 'decode_tensor', 'decode_tensors', 'encode_tensor', 'encode_tensors', 'example_network', 'make_arms', 'map_candidates', 'run', 'run_split']
class BandwidthTrace:
    """
    
    A piecewise-constant uplink: from time[i] (seconds, strictly increasing, >= 0) on, the link sends
    at bandwidth[i] bytes/s (0: down) with a one-way latency[i] plus a uniform random delay in
    [0, jitter[i]) per message. Before the first row the first row holds. Immutable.
    
    CSV form (from_csv / parse_csv): a header ``time,bandwidth[,latency[,jitter]]`` then one row per
    change; blank lines and lines starting with '#' are skipped.
    """
    @staticmethod
    def constant(bandwidth: typing.SupportsFloat | typing.SupportsIndex, latency: typing.SupportsFloat | typing.SupportsIndex = 0.0, jitter: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> BandwidthTrace:
        ...
    @staticmethod
    def from_csv(path: os.PathLike | str | bytes) -> BandwidthTrace:
        """
        Loads a CSV file (OSError if unreadable; ValueError naming file:line on bad content).
        """
    @staticmethod
    def parse_csv(text: str, source: str = '<string>') -> BandwidthTrace:
        ...
    def __init__(self, time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], bandwidth: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"], latency: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None, jitter: typing.Annotated[numpy.typing.ArrayLike, numpy.float64, "[m, 1]"] | None = None) -> None:
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def bandwidth_at(self, t: typing.SupportsFloat | typing.SupportsIndex) -> float:
        ...
    def transmit_end(self, start: typing.SupportsFloat | typing.SupportsIndex, nbytes: typing.SupportsFloat | typing.SupportsIndex) -> float:
        """
        When nbytes sent from start have left (inf if the link never carries them).
        """
    @property
    def bandwidth(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def jitter(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def latency(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def time(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
class Network:
    """
    
    A DNN run by incision's reference CPU backend (xtensor buffers, Eigen GEMMs, float32, one
    thread). Build one with example_network(). Layer ids are those of ``graph``, so every plan of
    the partitioners (dsl, chain_scan, BandwidthMap, ...) applies as is.
    
    Inputs are float32 numpy arrays of shape ``input_shape`` (other dtypes or shapes: ValueError).
    A split run's outputs equal the unsplit run's bit for bit (both parts run the same kernels).
    
    Threads: every method takes a per-network lock; run, run_split, profile and layer_outputs
    release the GIL while they compute.
    """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    def layer(self, layer: typing.SupportsInt | typing.SupportsIndex) -> dict:
        """
        One layer as a dict: name, kind ('input', 'conv2d', 'relu', 'max_pool', 'avg_pool',
        'global_avg_pool', 'linear', 'flatten', 'add', 'concat', 'softmax'), inputs (predecessor ids, in
        operand order), out_shape; kernel/stride/padding (and groups) for convolutions and pooling;
        weight and bias (read-only float32 views, batch norm already folded into convolutions; bias None
        when absent) for conv2d (K, C/groups, k, k) and linear (out, in); for a convolution with batch
        norm, batch_norm: gamma, beta, mean, var, eps and the weight and bias before folding. Average pooling divides by the
        full window (count_include_pad).
        """
    def layer_outputs(self, x: numpy.ndarray) -> list:
        """
        Every layer's output of the unsplit run on x, in layer id order (for checks against references).
        """
    def profile(self, x: numpy.ndarray | None = None, *, repeats: typing.SupportsInt | typing.SupportsIndex = 5, warmup: typing.SupportsInt | typing.SupportsIndex = 1, server_speedup: typing.SupportsFloat | typing.SupportsIndex = 1.0, seed: typing.SupportsInt | typing.SupportsIndex = 1) -> incision._core.partition.LayerGraph:
        """
        Times every layer on this machine (median of ``repeats`` runs after ``warmup``) on ``x`` (default:
        uniform [-1, 1) noise from ``seed``) and returns the LayerGraph with device_time, server_time =
        device_time / server_speedup, and out_bytes filled, ready for dsl/BandwidthMap.
        """
    def run(self, x: numpy.ndarray) -> typing.Any:
        """
        The unsplit run: the network output (a tuple of outputs if it has several).
        """
    def run_device(self, device_layers: typing.Any, x: numpy.ndarray) -> bytes:
        """
        The device part alone: the serialised tensors crossing the cut (bytes, envelope kind 301), to ship yourself and hand to run_server.
        """
    def run_server(self, device_layers: typing.Any, data: bytes) -> typing.Any:
        """
        The server part from run_device's bytes (same device set): returns what run() returns. ValueError on corrupt bytes or a cut that lacks a tensor.
        """
    def run_split(self, device_layers: typing.Any, x: numpy.ndarray) -> typing.Any:
        """
        Split run at a device set (a Plan or ascending layer ids holding the input and every
        predecessor of its members): the device part, the tensors crossing the cut serialised into
        one envelope (kind 301) and deserialised, then the server part. Returns what run() returns.
        ValueError for an infeasible set, an unknown id or a wrong input.
        """
    @property
    def fingerprint(self) -> int:
        """
        The model fingerprint an edge and its devices compare in the handshake (graph and weights).
        """
    @property
    def graph(self) -> incision._core.partition.LayerGraph:
        """
        The network's LayerGraph (a copy; times are 0 until profile() fills them; out_bytes = 4 per element; type and macs per layer).
        """
    @property
    def input_shape(self) -> tuple:
        """
        Shape of the input tensor, e.g. (1, 3, 32, 32).
        """
    @property
    def name(self) -> str:
        ...
    @property
    def seed(self) -> int:
        ...
    @property
    def total_macs(self) -> float:
        """
        Multiply-accumulates of one inference (element operations included).
        """
class OnlineLoop:
    """
    
    Split inference frame by frame with a learner choosing the cut (incision::exec::online_loop).
    
    Per frame (virtual time, see SimLink): ``learner.select(key_frame)`` picks a candidate device
    set; the device runs its part; the cut is serialised and sent over ``link``; the server
    decodes it and runs the rest; ``learner.update(arm, offload_delay)`` gets the frame's latency
    minus its device time. Deadline: when the server's result is not back ``deadline`` seconds
    after the frame started (late, link down, server gone), the device finishes the frame itself.
    No frame is lost and every frame's output equals the unsplit network's.
    
    ``network``: an incision.exec.Network, or a Python backend object (``graph``,
    ``run_device(device_layers, x)``, ``run_server(device_layers, cut)``, optionally
    ``input_shape`` and ``layer_shapes``; incision.torch's ``TracedModel.backend()`` is one; see
    docs/python-network.md). A Python backend is called with the GIL held; an exception it raises
    ends run() with a ValueError (for ValueError/TypeError) or RuntimeError naming the method, the
    original as ``__cause__``; a result of the wrong count, dtype or shape is a ValueError.
    ``learner``: any object with ``select(key_frame) -> int`` and ``update(arm, delay)``, e.g.
    incision.MuLinUCB over make_arms(...) or incision.exec.LinUCBCutLearner. It is called with the
    GIL held and outside the network's and link's locks; compute runs with the GIL released.
    ``link``: the SimLink that carries the cut to the server part, run on the device's own
    backend (None with an edge).
    ``candidates``: 'chain', a BandwidthMap, or a sequence of Plans / ascending id lists.
    ``profile``: the profiled LayerGraph (required for timing='modeled', whose compute times are the
    profile's sums: deterministic). ``timing='measured'`` times the parts with a steady clock.
    ``edge``: an incision.net.TcpLink (with ``link=None``): each offloaded frame's server part
    runs on that edge server; when the edge does not deliver by the frame's deadline (the earlier of
    ``deadline`` and the TcpLink's), refuses it or is unreachable, the device completes the frame
    itself (``fallback``), so no frame is lost. transfer_time and server_time are then the real
    round trip and the edge's reported compute time (modeled timing replaces the compute times
    only); records also carry ``edge`` and ``edge_server_time``.
    The loop keeps the network, the link and the edge alive; it must not be driven from inside its
    learner.
    """
    def __init__(self, network: typing.Any, learner: typing.Any, link: typing.Any, candidates: typing.Any = 'chain', profile: typing.Any | None = None, *, deadline: typing.SupportsFloat | typing.SupportsIndex = ..., frame_interval: typing.SupportsFloat | typing.SupportsIndex = 0.0, timing: str = 'measured', server_slowdown: typing.SupportsFloat | typing.SupportsIndex = 1.0, key_frame_every: typing.SupportsInt | typing.SupportsIndex = 1, edge: typing.Any = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def run(self, frames: typing.SupportsInt | typing.SupportsIndex, x: numpy.ndarray | None = None, *, seed: typing.SupportsInt | typing.SupportsIndex = 1) -> dict:
        """
        Runs ``frames`` frames on ``x`` (default: noise from ``seed`` of the backend's input_shape),
        the same input each frame. Returns per-frame records as numpy arrays in a dict: frame, arm,
        start, device_time, transfer_time (inf: never delivered), server_time, fallback_time, latency,
        shipped_bytes (seconds, bytes), offloaded, fallback (bool), and output_error (max |output -
        unsplit output|, 0 when the frame reproduced the unsplit run; inf for another count or shape).
        With an edge also ``edge`` (bool: the edge delivered the server part; an offloaded frame
        without it fell back to the device) and ``edge_server_time`` (the compute time the edge
        reported, NaN when it did not deliver). If the learner or a Python backend raises, the frames before
        stay counted and learnt from.
        """
    @property
    def candidates(self) -> list[list[int]]:
        ...
    @property
    def edge(self) -> typing.Any:
        """
        The TcpLink, or None.
        """
    @property
    def frames(self) -> int:
        ...
    @property
    def learner(self) -> typing.Any:
        ...
    @property
    def network(self) -> typing.Any:
        """
        The backend: a Network or a Python backend object.
        """
    @property
    def now(self) -> float:
        """
        The virtual clock (seconds).
        """
    @property
    def server_available(self) -> bool:
        """
        False: the server is gone, every offloaded frame falls back to the device after the deadline.
        """
    @server_available.setter
    def server_available(self, arg1: bool) -> None:
        ...
class SimLink:
    """
    
    A simulated uplink over a BandwidthTrace on a virtual clock (never sleeps): one message on the
    wire at a time (FIFO), rate changes mid-message apply to the rest, latency and jitter as in force
    when the transmission started; jitter is drawn from ``seed``. Per-object lock.
    """
    @typing.overload
    def __init__(self, trace: BandwidthTrace, seed: typing.SupportsInt | typing.SupportsIndex = 0) -> None:
        ...
    @typing.overload
    def __init__(self, csv_path: os.PathLike | str | bytes, seed: typing.SupportsInt | typing.SupportsIndex = 0) -> None:
        """
        A link over the trace in a CSV file (see BandwidthTrace).
        """
    def __repr__(self) -> str:
        ...
    def reset(self) -> None:
        """
        Back to an idle wire and the initial jitter sequence.
        """
    def send(self, t: typing.SupportsFloat | typing.SupportsIndex, nbytes: typing.SupportsInt | typing.SupportsIndex) -> float:
        """
        Sends nbytes at virtual time t (seconds); returns the delivery time (inf: never).
        """
    @property
    def busy_until(self) -> float:
        """
        When the wire is free again.
        """
    @property
    def trace(self) -> BandwidthTrace:
        ...
def chain_candidates(graph: incision._core.partition.LayerGraph) -> list[list[int]]:
    """
    Every topological prefix of the graph (ascending ids): the chain cuts, all-device last.
    """
def decode_tensor(data: bytes) -> numpy.typing.NDArray[numpy.float32]:
    """
    The array of encode_tensor's bytes. ValueError naming the first bad field on corrupt input.
    """
def decode_tensors(data: bytes) -> dict:
    """
    {layer id: array} from encode_tensors' bytes (or a split run's cut). ValueError on corrupt input.
    """
def encode_tensor(x: numpy.ndarray) -> bytes:
    """
    A float32 array serialised as (shape, dtype, bytes) in incision's envelope (kind 300).
    """
def encode_tensors(tensors: collections.abc.Mapping[typing.SupportsInt | typing.SupportsIndex, numpy.ndarray]) -> bytes:
    """
    Named tensors {layer id: float32 array} serialised as one envelope (kind 301).
    """
def example_network(name: str, seed: typing.SupportsInt | typing.SupportsIndex = 0) -> Network:
    """
    One of the built-in example networks for a (1, 3, 32, 32) input, weights drawn from ``seed``:
    'resnet' (residual blocks: adds across branches, 25 layers) or 'inception' (parallel branches
    joined by concat, 37 layers). ValueError for another name.
    """
def make_arms(profile: incision._core.partition.LayerGraph, candidates: typing.Any) -> tuple[typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"], typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]]:
    """
    (contexts, front_delay) for MuLinUCB from a profiled graph: per candidate the context row
    (server-side MACs, shipped bytes, 1), all zeros for the all-device set, and the front delay (the
    device time of its layers, seconds).
    """
def map_candidates(bandwidth_map: typing.Any) -> list[list[int]]:
    """
    The device sets of a BandwidthMap's plans (highest bandwidth first).
    """
def run(backend: typing.Any, x: numpy.ndarray) -> typing.Any:
    """
    The unsplit run of any backend (a Network or a Python backend object, see OnlineLoop): the
    device part with every layer. Returns the outputs (a tuple when there are several).
    """
def run_split(backend: typing.Any, device_layers: typing.Any, x: numpy.ndarray) -> typing.Any:
    """
    A split run of any backend (a Network or a Python backend object) as the loop and the edge run
    it: run_device, the cut serialised and deserialised (kind 301), run_server. Returns the
    outputs (a tuple when there are several). The adaptor checks what a Python backend returns:
    ValueError for a wrong count, dtype or shape, naming the layer.
    """
