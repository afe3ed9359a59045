"""TorchBackend: a traced PyTorch model as an incision.exec backend (the online loop, the edge server)."""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import fx

from ._trace import AREA

if TYPE_CHECKING:
    from ._model import TracedModel


def _hash_tensor(h: Any, name: str, t: torch.Tensor) -> None:
    t = t.detach().cpu().contiguous()
    h.update(struct.pack("<I", len(name)) + name.encode())
    h.update(f"{t.dtype}{tuple(t.shape)}".encode())
    if t.numel():
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())


def model_fingerprint(traced: TracedModel) -> int:
    """64 bits naming the model: its layer graph (names, operator kinds, output bytes, MACs, edges; not the
    profiled times) and every tensor it reads (parameters, buffers, get_attr constants), by BLAKE2b."""
    h = hashlib.blake2b(digest_size=8, person=b"incision.torch")
    g = traced.graph
    names, types = g.names, g.types
    out_bytes, macs = np.asarray(g.out_bytes, dtype="<f8"), np.asarray(g.macs, dtype="<f8")
    h.update(struct.pack("<Q", len(names)))
    for i, (name, kind) in enumerate(zip(names, types)):
        succ = g.successors(i)
        h.update(struct.pack("<I", len(name)) + name.encode() + struct.pack("<I", len(kind)) + kind.encode())
        h.update(out_bytes[i].tobytes() + macs[i].tobytes() + struct.pack(f"<I{len(succ)}I", len(succ), *succ))
    module = traced.module
    seen: set[int] = set()
    for name, t in [*module.named_parameters(), *module.named_buffers()]:
        if id(t) not in seen:
            seen.add(id(t))
            _hash_tensor(h, name, t)
    for node in module.graph.nodes:  # tensors read with get_attr that are neither parameters nor buffers
        if node.op == "get_attr":
            value: Any = module
            for part in str(node.target).split("."):
                value = getattr(value, part)
            if isinstance(value, torch.Tensor) and id(value) not in seen:
                seen.add(id(value))
                _hash_tensor(h, str(node.target), value)
    return int.from_bytes(h.digest(), "little")


class TorchBackend:
    """A traced model as an ``incision.exec`` backend, for ``OnlineLoop`` and ``incision.net.EdgeServer``.

    Implements the backend operations the C++ adaptor calls (numpy float32 in and out):

    - ``run_device(device_layers, x)``: runs the device part on ``x`` (the traced input's shape) and returns
      the tensors of the device layers that have a successor outside the set or none at all, by layer id;
    - ``run_server(device_layers, cut)``: runs the rest from ``cut`` ({layer id: array}) and returns the
      tensors of the server layers without successors (the network outputs), by layer id.

    Each device set's two parts are fx GraphModules built once from the trace and cached (``cache_size``
    sets, least recently used first out), so a steady loop over a bandwidth map's plans only runs them.
    ``graph`` is the traced model's LayerGraph; ``input_shape`` and ``layer_shapes`` (the traced shapes:
    the adaptor checks every tensor against them) come from the trace, so the batch is the traced one.
    ``fingerprint`` names the model (graph + weights) in an edge's handshake. Models with one input only;
    every tensor crossing a cut must be float32. Thread-safe (the edge may call it from several threads).
    """

    def __init__(self, traced: TracedModel, *, cache_size: int = 64) -> None:
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"{AREA} cache_size must be an int >= 1, got {cache_size!r}")
        inputs = traced.inputs
        if len(inputs) != 1:
            raise ValueError(f"{AREA} a backend runs models with one input; this one takes {len(inputs)}")
        self._tm = traced
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[int, ...], tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._fingerprint: int | None = None
        meta = traced._meta
        self.graph = traced.graph
        self.layer_shapes: list[tuple[int, ...] | None] = [
            tuple(int(d) for d in m[0]) if m is not None and m[1] == torch.float32 else None for m in meta]
        shape = self.layer_shapes[inputs[0]]
        if shape is None:
            raise ValueError(f"{AREA} a backend's input must be a float32 tensor; the model was traced with "
                             f"{meta[inputs[0]]}")
        self.input_shape: tuple[int, ...] = shape
        n = traced.num_layers
        self._succ = [set(self.graph.successors(i)) for i in range(n)]

    @property
    def traced(self) -> TracedModel:
        return self._tm

    @property
    def fingerprint(self) -> int:
        """The model fingerprint (computed once: it hashes every weight)."""
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self._tm)
        return self._fingerprint

    def __repr__(self) -> str:
        return f"TorchBackend({self._tm!r}, input_shape={self.input_shape}, cached_sets={len(self._cache)})"

    def _parts(self, device_layers: Sequence[int]) -> tuple[Any, ...]:
        key = tuple(int(i) for i in device_layers)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        dev = set(self._tm.device_set(list(key)))
        n = self._tm.num_layers
        front_out = [i for i in sorted(dev) if not self._succ[i] or any(s not in dev for s in self._succ[i])]
        back_in = [i for i in sorted(dev) if any(s not in dev for s in self._succ[i])]
        back_out = [i for i in range(n) if i not in dev and not self._succ[i]]
        front, back = self._tm._sub_graphs(dev, front_out, back_in, back_out)
        gm = self._tm.module
        parts = (fx.GraphModule(gm, front, class_name="DevicePart"), fx.GraphModule(gm, back, class_name="ServerPart"),
                 front_out, back_in, back_out)
        with self._lock:
            self._cache[key] = parts
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return parts

    def _arrays(self, values: Sequence[Any], ids: list[int], what: str) -> list[np.ndarray]:
        out = []
        for v, i in zip(values, ids):
            if not isinstance(v, torch.Tensor) or v.dtype != torch.float32:
                kind = f"a {v.dtype} tensor" if isinstance(v, torch.Tensor) else type(v).__name__
                raise ValueError(f"{AREA} {what}: layer {i} '{self._tm.node_name(i)}' produces {kind}; only float32 "
                                 "tensors can cross a cut or leave the network")
            out.append(v.detach().cpu().numpy())
        return out

    def run_device(self, device_layers: Sequence[int], x: np.ndarray) -> list[np.ndarray]:
        front, _, front_out, _, _ = self._parts(device_layers)
        with torch.no_grad():
            values = front(torch.from_numpy(x))
        return self._arrays(values, front_out, "run_device")

    def run_server(self, device_layers: Sequence[int], cut: Mapping[int, np.ndarray]) -> list[np.ndarray]:
        _, back, _, back_in, back_out = self._parts(device_layers)
        if not back_out:
            return []
        with torch.no_grad():
            values = back(*[torch.from_numpy(cut[i]) for i in back_in])
        return self._arrays(values, back_out, "run_server")
