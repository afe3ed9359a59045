"""TracedModel: a profiled LayerGraph of an nn.Module, its splits and its MuLinUCB arm table."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from .. import partition as _partition
from ._trace import (
    AREA,
    _constant_nodes,
    check_options,
    check_rewrite,
    functionalize,
    normalise_inputs,
    profile,
    run_model,
    server_time_table,
    symbolic_trace,
)


class _ShapeCheck:
    """Forward pre-hook: each tensor argument must match the traced shape (dim 0, the batch, may differ)."""

    def __init__(self, part: str, names: Sequence[str], meta: Sequence[Any]) -> None:
        self.part, self.names, self.meta = part, list(names), list(meta)

    def __call__(self, module: nn.Module, args: tuple) -> None:
        if len(args) != len(self.names):
            raise TypeError(f"{AREA} {self.part} takes {len(self.names)} positional inputs "
                            f"({', '.join(self.names)}), got {len(args)}")
        for name, meta, value in zip(self.names, self.meta, args):
            if meta is None:
                continue
            shape, dtype = meta
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{AREA} {self.part} input '{name}' must be a tensor of shape {shape}, "
                                f"not {type(value).__name__}")
            got = tuple(value.shape)
            if len(got) != len(shape) or got[1:] != shape[1:]:
                raise ValueError(f"{AREA} {self.part} input '{name}' has shape {got}; the model was traced and "
                                 f"profiled with {shape} (only dim 0, the batch, may differ)")
            if value.dtype != dtype:
                raise ValueError(f"{AREA} {self.part} input '{name}' has dtype {value.dtype}; traced with {dtype}")


class TracedModel:
    """A torch.fx trace of a model with one profiled LayerGraph layer per computing node.

    Layer ids follow the fx graph order (graph inputs first). ``graph`` is the incision.LayerGraph the
    partitioners take; ``split`` cuts the model at any feasible device set; ``arms`` builds MuLinUCB contexts.
    """

    def __init__(self, module: fx.GraphModule, layer_nodes: list[fx.Node], graph: _partition.LayerGraph,
                 meta: list[Any], model_name: str) -> None:
        self._gm = module
        self._nodes = layer_nodes
        self._graph = graph
        self._meta = meta
        self._model_name = model_name
        self._index = {n: i for i, n in enumerate(layer_nodes)}
        self._by_name = {n.name: i for i, n in enumerate(layer_nodes)}
        self._constant = _constant_nodes(module.graph)
        self._output = next(n for n in module.graph.nodes if n.op == "output")
        self._inputs = [i for i, n in enumerate(layer_nodes) if n.op == "placeholder"]
        self._preds = [sorted({self._index[p] for p in n.all_input_nodes if p in self._index}) for n in layer_nodes]
        self._device_times = np.asarray(graph.device_times, dtype=np.float64)
        self._server_times = np.asarray(graph.server_times, dtype=np.float64)
        self._out_bytes = np.asarray(graph.out_bytes, dtype=np.float64)
        self._succ = [sorted(graph.successors(i)) for i in range(len(layer_nodes))]

    # --- the graph and its names ---------------------------------------------------------------------------
    @property
    def graph(self) -> _partition.LayerGraph:
        """The profiled LayerGraph (seconds, bytes; operator kind and MACs as metadata)."""
        return self._graph

    @property
    def module(self) -> fx.GraphModule:
        """The traced model with in-place ops made out of place (shares parameters with the original)."""
        return self._gm

    @property
    def num_layers(self) -> int:
        return len(self._nodes)

    @property
    def inputs(self) -> list[int]:
        """Layer ids of the graph inputs (forward's arguments), pinned on the device."""
        return list(self._inputs)

    def node_name(self, layer: int) -> str:
        """The fx node name of a layer id."""
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(self._nodes):
            raise IndexError(f"{AREA} layer id {layer!r} is out of range [0, {len(self._nodes)})")
        return self._nodes[int(layer)].name

    def layer_id(self, name: str) -> int:
        """The layer id of an fx node name."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{AREA} no layer named '{name}' (get_attr and output nodes are not layers)") from None

    def __repr__(self) -> str:
        total = float(self._device_times.sum())
        return (f"TracedModel({self._model_name}, layers={len(self._nodes)}, edges={self._graph.num_edges}, "
                f"device_time={total * 1e3:.3f} ms)")

    # --- device sets ------------------------------------------------------------------------------------------
    def device_set(self, plan_or_device_layers: Any) -> list[int]:
        """The validated, sorted device layer ids of a Plan, a bool mask (``plan.on_device``) or a collection
        of layer ids / node names.

        ValueError when the set comes from another graph (a Plan of another size or whose times differ from
        this graph's, ids out of range), misses a graph input, or is not closed under predecessors.
        """
        n = len(self._nodes)
        if isinstance(plan_or_device_layers, _partition.Plan):
            return self._plan_set(plan_or_device_layers)
        if isinstance(plan_or_device_layers, np.ndarray) and plan_or_device_layers.dtype == np.bool_:
            if plan_or_device_layers.shape != (n,):
                raise ValueError(f"{AREA} a device mask needs shape ({n},), got {plan_or_device_layers.shape}: "
                                 "it comes from another graph")
            plan_or_device_layers = np.flatnonzero(plan_or_device_layers).tolist()
        if isinstance(plan_or_device_layers, (str, bytes)) or not isinstance(plan_or_device_layers, Iterable):
            raise TypeError(f"{AREA} expected a Plan or a collection of layer ids, "
                            f"not {type(plan_or_device_layers).__name__}")
        ids: set[int] = set()
        for item in plan_or_device_layers:
            if isinstance(item, str):
                if item not in self._by_name:
                    raise ValueError(f"{AREA} no layer named '{item}' in this traced model")
                ids.add(self._by_name[item])
            elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
                if not 0 <= item < n:
                    raise ValueError(f"{AREA} layer id {int(item)} is out of range [0, {n}): the device set comes "
                                     "from another graph")
                ids.add(int(item))
            else:
                raise TypeError(f"{AREA} device layers must be int ids or node names, not {type(item).__name__}")
        self._check_feasible(ids)
        return sorted(ids)

    def _plan_set(self, plan: _partition.Plan) -> list[int]:
        n = len(self._nodes)
        on = np.asarray(plan.on_device)
        if on.shape != (n,):
            raise ValueError(f"{AREA} the plan comes from another graph: it covers {on.size} layers, this traced "
                             f"model has {n}")
        ids = sorted(int(i) for i in plan.device_layers)
        dev = set(ids)
        server = [i for i in range(n) if i not in dev]
        ours = (float(self._device_times[ids].sum()), float(self._server_times[server].sum()),
                float(sum(self._out_bytes[i] for i in ids if any(s not in dev for s in self._succ[i]))))
        theirs = (plan.device_time, plan.server_time, plan.shipped_bytes)
        for what, a, b in zip(("device time", "server time", "shipped bytes"), theirs, ours):
            if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
                raise ValueError(f"{AREA} the plan comes from another graph: its {what} is {a:.6g}, this graph's "
                                 f"for the same device layers is {b:.6g}")
        self._check_feasible(dev)
        return ids

    def _check_feasible(self, dev: set[int]) -> None:
        missing = [i for i in self._inputs if i not in dev]
        if missing:
            raise ValueError(f"{AREA} the device set misses the graph input(s) "
                             f"{', '.join(repr(self._nodes[i].name) for i in missing)} (inputs stay on the device)")
        for v in sorted(dev):
            lacking = [p for p in self._preds[v] if p not in dev]
            if lacking:
                raise ValueError(
                    f"{AREA} the device set is not closed under predecessors: layer {v} '{self._nodes[v].name}' "
                    f"is on the device but its input(s) {', '.join(repr(self._nodes[p].name) for p in lacking)} "
                    "are not")

    def cut_layers(self, plan_or_device_layers: Any) -> list[int]:
        """Layer ids of the tensors crossing the cut, in the order front returns them: every device layer with a
        server-side user (the model's output counts as server side), ordered by layer id."""
        dev = set(self.device_set(plan_or_device_layers))
        return self._crossing(dev)

    def _crossing(self, dev: set[int]) -> list[int]:
        out = []
        for i in sorted(dev):
            for user in self._nodes[i].users:
                if user is self._output or (user in self._index and self._index[user] not in dev):
                    out.append(i)
                    break
        return out

    # --- split ------------------------------------------------------------------------------------------------
    def split(self, plan_or_device_layers: Any) -> tuple[fx.GraphModule, fx.GraphModule]:
        """Cut the model into (front, back) GraphModules: ``back(*front(*inputs))`` equals ``model(*inputs)``.

        front takes forward's arguments and always returns a tuple: the values crossing the cut (see
        ``cut_layers``). back takes those values as positional arguments (named after their fx nodes) and
        returns the model's output. Both share parameters with the original model. get_attr nodes and
        constant-only nodes are recomputed on each side that needs them and never cross. A forward pre-hook
        checks input shapes (dim 0 may differ) and dtypes against the traced ones.
        """
        dev = set(self.device_set(plan_or_device_layers))
        crossing = self._crossing(dev)
        front, back = self._sub_graphs(dev, crossing, crossing, None)
        name = self._model_name
        front_module = fx.GraphModule(self._gm, front, class_name=f"{name}Front")
        back_module = fx.GraphModule(self._gm, back, class_name=f"{name}Back")
        front_names = [n.name for n in self._nodes if n.op == "placeholder"]
        front_module.register_forward_pre_hook(
            _ShapeCheck("front", front_names, [self._meta[i] for i in self._inputs]))
        back_module.register_forward_pre_hook(
            _ShapeCheck("back", [self._nodes[i].name for i in crossing], [self._meta[i] for i in crossing]))
        return front_module, back_module

    def _sub_graphs(self, dev: set[int], front_out: list[int], back_in: list[int],
                    back_out: list[int] | None) -> tuple[fx.Graph, fx.Graph]:
        """The device part (forward's arguments -> tuple of the layers front_out) and the server part
        (the layers back_in as arguments -> the model's output, or the tuple of the layers back_out)."""
        source = self._gm.graph
        front = fx.Graph()
        env: dict[fx.Node, fx.Node] = {}
        for node in source.nodes:
            if node.op == "placeholder":
                env[node] = front.node_copy(node, lambda n: env[n])
            elif node in self._index and self._index[node] in dev:
                self._copy(front, node, env)
        front.output(tuple(env[self._nodes[i]] for i in front_out))

        back = fx.Graph()
        benv: dict[fx.Node, fx.Node] = {}
        for i in back_in:
            benv[self._nodes[i]] = back.placeholder(self._nodes[i].name)
        for node in source.nodes:
            if node in self._index and self._index[node] not in dev:
                self._copy(back, node, benv)
        if back_out is None:
            for n in self._output.all_input_nodes:
                if n not in benv:
                    self._copy(back, n, benv)
            back.output(fx.node.map_arg(self._output.args[0], lambda n: benv[n]))
        else:
            back.output(tuple(benv[self._nodes[i]] for i in back_out))
        return front, back

    def backend(self, *, cache_size: int = 64) -> Any:
        """This model as an ``incision.exec`` backend (``TorchBackend``): the online loop and the edge server
        run its device and server parts at any device set. See ``TorchBackend``."""
        from ._backend import TorchBackend

        return TorchBackend(self, cache_size=cache_size)

    def _copy(self, graph: fx.Graph, node: fx.Node, env: dict[fx.Node, fx.Node]) -> None:
        """Copy node into graph; constants it reads are copied (recomputed) first."""
        for inp in node.all_input_nodes:
            if inp not in env:
                if inp not in self._constant:  # a layer of the other side: the device set was checked closed
                    raise AssertionError(f"{AREA} internal: '{inp.name}' missing while copying '{node.name}'")
                self._copy(graph, inp, env)
        env[node] = graph.node_copy(node, lambda n: env[n])

    # --- arms for MuLinUCB --------------------------------------------------------------------------------------
    def _feature_layout(self) -> tuple[list[str], list[str]]:
        """Operator kinds with a layer-count column, and those with a MACs column (some layer has MACs)."""
        types = self._graph.types
        macs = np.asarray(self._graph.macs)
        kinds = sorted({k for k in types if k != "input"})
        with_macs = [k for k in kinds if any(m > 0 for m, t in zip(macs, types) if t == k)]
        return kinds, with_macs

    @property
    def arm_features(self) -> list[str]:
        """Column names of ``arms``' contexts: per operator kind present (inputs excluded, sorted) the number of
        server-side layers ``server_<kind>_layers``, then for kinds with any MACs ``server_<kind>_macs``, then
        ``shipped_bytes``."""
        kinds, with_macs = self._feature_layout()
        return ([f"server_{k}_layers" for k in kinds] + [f"server_{k}_macs" for k in with_macs]
                + ["shipped_bytes"])

    def arms(self, plans: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
        """ANS-style arm table for ``incision.MuLinUCB`` over ``plans`` (Plans or device-layer collections).

        Returns ``(contexts, front_delay)``: contexts (K, d) float64, one row per plan describing its
        server-side part in the columns of ``arm_features`` (layer counts and MACs per operator kind of the
        server layers, bytes shipped over the link), so the offloading delay is roughly linear in the row;
        the all-device plan's row is all zeros (MuLinUCB's on-device arm). front_delay (K,) is the profiled
        device time of each plan's device part, in seconds.

        With delays in seconds, a fixed exploration scale suits MuLinUCB better than its defaults, and
        forgetting tracks a changing link: ``MuLinUCB(contexts, front_delay, alpha=0.01, gamma=0.95)`` ends
        within 10% of the oracle on resnet18 under a switching link (python/tests/test_torch.py).
        """
        sets = [self.device_set(p) for p in plans]
        if not sets:
            raise ValueError(f"{AREA} arms needs at least one plan")
        kinds, with_macs = self._feature_layout()
        types = self._graph.types
        macs = np.asarray(self._graph.macs, dtype=np.float64)
        col_layers = {k: j for j, k in enumerate(kinds)}
        col_macs = {k: len(kinds) + j for j, k in enumerate(with_macs)}
        d = len(kinds) + len(with_macs) + 1
        contexts = np.zeros((len(sets), d), dtype=np.float64)
        front_delay = np.zeros(len(sets), dtype=np.float64)
        for row, ids in enumerate(sets):
            dev = set(ids)
            for i in range(len(self._nodes)):
                if i in dev:
                    continue
                k = types[i]
                if k == "input":
                    continue
                contexts[row, col_layers[k]] += 1.0
                if k in col_macs:
                    contexts[row, col_macs[k]] += macs[i]
            contexts[row, d - 1] = sum(self._out_bytes[i] for i in ids if any(s not in dev for s in self._succ[i]))
            front_delay[row] = float(self._device_times[ids].sum())
        return contexts, front_delay


def trace(model: nn.Module, example_input: Any, *, repeats: int = 10, warmup: int = 2,
          server_speedup: float = 10.0, server_times: Any = None, timer: Any = time.perf_counter,
          leaf_modules: tuple[type, ...] = ()) -> TracedModel:
    """Trace ``model`` with torch.fx and profile every node on this machine.

    ``example_input`` is a tensor or a tuple of forward's arguments. One LayerGraph layer per computing fx node
    (call_module / call_function / call_method) and one input layer per forward argument; get_attr nodes and
    nodes that depend on no input are folded into their users. In-place ops (``inplace=True`` modules,
    ``x.relu_()``, ``torch.relu_``, ``x += y``) are made out of place first; mutations that cannot be
    (item assignment, in-place ops on views or on parameters) raise ValueError.

    Each node's device time is the median over ``repeats`` node-by-node runs (after ``warmup`` runs) under
    ``torch.no_grad()`` with the thread count the caller set (``torch.set_num_threads``). out_bytes sums the
    node's tensor outputs; operator kind and MACs are layer metadata (see ``incision.torch.KINDS``). Server
    time is device time / ``server_speedup`` unless ``server_times`` (a {node name: seconds} mapping or a
    sequence in layer-id order) gives measured ones. ``timer`` is the clock (wall time by default;
    ``time.process_time`` with one thread measures CPU time, steadier on a loaded machine).
    ``leaf_modules``: module classes kept whole (one layer per call, kind 'other' unless a known kind),
    e.g. a submodule with data-dependent control flow that torch.fx cannot trace through.

    Raises TypeError when torch.fx cannot trace the model, ValueError when the example input does not fit it.
    """
    check_options(model, repeats, warmup, server_speedup, leaf_modules)
    args = normalise_inputs(example_input)
    run_model(model, args)  # a wrong example input fails here with a clear message, before tracing
    gm = symbolic_trace(model, leaf_modules)
    if functionalize(gm):
        check_rewrite(model, gm, args)
    gm.graph.eliminate_dead_code()
    gm.recompile()

    if not callable(timer):
        raise TypeError(f"{AREA} timer must be a callable returning seconds, like time.perf_counter")
    prof = profile(gm, args, repeats, warmup, timer)
    constant = _constant_nodes(gm.graph)
    layer_nodes = [n for n in gm.graph.nodes
                   if n.op == "placeholder" or (n.op in ("call_module", "call_function", "call_method")
                                                and n not in constant)]
    names = [n.name for n in layer_nodes]
    device = [prof.seconds.get(n, 0.0) if n.op != "placeholder" else 0.0 for n in layer_nodes]
    if server_times is None:
        server = [t / float(server_speedup) for t in device]
    else:
        server = server_time_table(server_times, names)

    graph = _partition.LayerGraph()
    index: dict[fx.Node, int] = {}
    for node, dt, st in zip(layer_nodes, device, server):
        index[node] = graph.add_layer(node.name, device_time=dt, server_time=st, out_bytes=float(prof.out_bytes[node]),
                                      type=prof.kinds[node], macs=prof.macs[node])
    for node in layer_nodes:
        for inp in node.all_input_nodes:
            if inp in index:
                graph.add_edge(index[inp], index[node])
    meta = [prof.meta.get(n) for n in layer_nodes]
    return TracedModel(gm, layer_nodes, graph, meta, type(model).__name__)
