"""torch.fx tracing, in-place removal and per-node profiling behind incision.torch.trace."""

from __future__ import annotations

import copy
import inspect
import math
import operator
import statistics
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from ._ops import kind_of, macs_of, nbytes, tensors_in

AREA = "[incision.torch]"

_INPLACE_OPERATORS = {
    operator.iadd: operator.add, operator.isub: operator.sub, operator.imul: operator.mul,
    operator.itruediv: operator.truediv, operator.ifloordiv: operator.floordiv, operator.imod: operator.mod,
    operator.ipow: operator.pow, operator.iand: operator.and_, operator.ior: operator.or_,
    operator.ixor: operator.xor, operator.ilshift: operator.lshift, operator.irshift: operator.rshift,
    operator.imatmul: operator.matmul,
}
# Ops whose result may alias their input: an in-place op on such a value would also change the base tensor,
# which an out-of-place rewrite cannot reproduce.
_VIEW_FUNCTIONS = {operator.getitem, torch.narrow, torch.select, torch.transpose, torch.permute, torch.squeeze,
                   torch.unsqueeze, torch.flatten, torch.reshape, torch.chunk, torch.split, torch.t, torch.diagonal,
                   torch.movedim, torch.unbind}
_VIEW_METHODS = {"view", "view_as", "narrow", "select", "transpose", "permute", "t", "squeeze", "unsqueeze", "expand",
                 "expand_as", "as_strided", "diagonal", "unfold", "reshape", "reshape_as", "flatten", "chunk", "split",
                 "unbind", "T", "mT", "real", "imag", "detach"}


def _where(node: fx.Node) -> str:
    target = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
    return f"node '{node.name}' ({node.op} {target})"


class _LeafTracer(fx.Tracer):
    """fx.Tracer that also keeps instances of the given module classes whole (one call_module node each)."""

    def __init__(self, leaves: tuple[type, ...]) -> None:
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, self.leaves) or super().is_leaf_module(m, qualname)


def symbolic_trace(model: nn.Module, leaf_modules: tuple[type, ...] = ()) -> fx.GraphModule:
    """fx.symbolic_trace with a TypeError that names what failed instead of a raw TraceError stack."""
    try:
        graph = _LeafTracer(leaf_modules).trace(model)
    except Exception as e:  # TraceError, TypeError, NotImplementedError, ... depending on the construct
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = ""
        if "control flow" in first or "iterate" in first or "len(" in first:
            hint = ("; Python control flow on tensor values cannot be traced: keep the submodule that has it whole "
                    "with trace(..., leaf_modules=(ItsClass,)), or remove the branch")
        raise TypeError(f"{AREA} torch.fx cannot trace {type(model).__name__}: {type(e).__name__}: {first}{hint}") \
            from None
    return fx.GraphModule(model, graph, class_name=type(model).__name__)


def _inplace_module(node: fx.Node, gm: fx.GraphModule) -> bool:
    return node.op == "call_module" and getattr(gm.get_submodule(str(node.target)), "inplace", False) is True


def _inplace_twin(node: fx.Node) -> Any:
    """The out-of-place replacement target of an in-place call_function/call_method node, None if not in-place."""
    if node.op == "call_function":
        if node.target in _INPLACE_OPERATORS:
            return _INPLACE_OPERATORS[node.target]
        name = getattr(node.target, "__name__", "")
        if name.endswith("_") and not name.startswith("_"):
            for ns in (torch, F, torch.Tensor):
                if getattr(ns, name, None) is node.target:
                    twin = getattr(ns, name[:-1], None)
                    if twin is None:
                        raise ValueError(f"{AREA} {_where(node)} works in place and has no out-of-place twin")
                    return twin
        return None
    if node.op == "call_method":
        name = str(node.target)
        if name.endswith("_") and not name.startswith("_"):
            twin = name[:-1]
            if not hasattr(torch.Tensor, twin):
                raise ValueError(f"{AREA} {_where(node)} works in place and has no out-of-place twin")
            return twin
    return None


def _inplace_flag(node: fx.Node) -> tuple[str, int] | None:
    """Where a call_function passes inplace=True (('kw', 0) or ('pos', i)), None if it does not."""
    if node.op != "call_function":
        return None
    if node.kwargs.get("inplace") is True:
        return ("kw", 0)
    try:
        params = list(inspect.signature(node.target).parameters)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if "inplace" in params:
        i = params.index("inplace")
        if i < len(node.args) and node.args[i] is True:
            return ("pos", i)
    return None


def _constant_nodes(graph: fx.Graph) -> set[fx.Node]:
    """get_attr nodes and every node that depends on no graph input (recomputed wherever used)."""
    constant: set[fx.Node] = set()
    for node in graph.nodes:
        computes = node.op in ("call_function", "call_method", "call_module")
        if node.op == "get_attr" or (computes and all(n in constant for n in node.all_input_nodes)):
            constant.add(node)
    return constant


def functionalize(gm: fx.GraphModule) -> int:
    """Rewrite in-place ops out of place; later readers of the mutated value read the new node instead.

    Raises ValueError for mutations it cannot express: item assignment, in-place ops on views (they would
    also change the base) and on parameters/buffers (model state). Returns the number of nodes rewritten.
    """
    graph = gm.graph
    constant = _constant_nodes(graph)
    order = {n: i for i, n in enumerate(graph.nodes)}
    rewritten = 0
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target in (operator.setitem, operator.delitem):
            raise ValueError(f"{AREA} {_where(node)} assigns into a tensor in place; it cannot be split")
        module_inplace = _inplace_module(node, gm)
        flag = _inplace_flag(node)
        twin = _inplace_twin(node) if not module_inplace and flag is None else None
        if not (module_inplace or flag or twin):
            continue
        mutated = node.args[0] if node.args else next(iter(node.kwargs.values()), None)
        if isinstance(mutated, fx.Node):
            if mutated in constant:
                raise ValueError(
                    f"{AREA} {_where(node)} mutates a parameter, buffer or constant ('{mutated.name}') in place; "
                    "it cannot be made out of place without changing the model's state")
            view_fn = mutated.op == "call_function" and mutated.target in _VIEW_FUNCTIONS
            view_m = mutated.op == "call_method" and mutated.target in _VIEW_METHODS
            if view_fn or view_m:
                raise ValueError(
                    f"{AREA} {_where(node)} works in place on '{mutated.name}', which may be a view of another "
                    "tensor; rewrite it out of place (e.g. x = x.relu() instead of x.relu_())")
        if module_inplace:
            mod: Any = copy.copy(gm.get_submodule(str(node.target)))
            mod.inplace = False
            name = "incision_out_of_place_" + str(node.target).replace(".", "_")
            if not hasattr(gm, name):
                gm.add_submodule(name, mod)
            node.target = name
        elif flag is not None:
            if flag[0] == "kw":
                node.kwargs = {**node.kwargs, "inplace": False}
            else:
                args = list(node.args)
                args[flag[1]] = False
                node.args = tuple(args)
        else:
            node.target = twin
        rewritten += 1
        if isinstance(mutated, fx.Node):
            for user in list(mutated.users):
                if user is not node and order[user] > order[node]:
                    user.replace_input_with(mutated, node)
    if rewritten:
        graph.lint()
        gm.recompile()
    return rewritten


def _seeded_call(fn: Any, args: tuple) -> Any:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        with torch.no_grad():
            return fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])


def _same(a: Any, b: Any) -> bool:
    ta, tb = tensors_in(a), tensors_in(b)
    if len(ta) != len(tb):
        return False
    return all(x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True)
               for x, y in zip(ta, tb))


def check_rewrite(model: nn.Module, gm: fx.GraphModule, args: tuple) -> None:
    """The out-of-place graph must compute what the model computes (same seed), else the rewrite was unsound."""
    want = _seeded_call(model, args)
    try:
        got = _seeded_call(gm, args)
    except Exception as e:
        raise ValueError(f"{AREA} the traced graph fails on the example input after removing in-place ops: {e}") \
            from None
    if not _same(want, got):
        raise ValueError(
            f"{AREA} removing in-place ops changed the output of {type(model).__name__} (an in-place op mutates "
            "a tensor other users read through an alias); rewrite those ops out of place")


def run_model(model: nn.Module, args: tuple) -> Any:
    """model(*args) with a clear ValueError when the example input does not fit the model or when forward
    mutates parameters or buffers (fx would run such a mutation once at trace time and drop it from the
    graph, so no split could reproduce it). The model's buffers are restored on error."""
    # BatchNorm in training mode updates its statistics on purpose, and its split halves do too.
    allowed = {id(b) for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for b in m.buffers()}
    state = [(name, t) for name, t in [*model.named_parameters(), *model.named_buffers()] if id(t) not in allowed]
    versions = [t._version for _, t in state]
    buffers = {id(b) for b in model.buffers()}
    saved = [(t, t.detach().clone(), t._version) for _, t in state if id(t) in buffers]
    try:
        out = _seeded_call(model, args)
    except Exception as e:
        _restore(saved)
        shapes = ", ".join(str(tuple(a.shape)) if isinstance(a, torch.Tensor) else type(a).__name__ for a in args)
        raise ValueError(
            f"{AREA} {type(model).__name__} fails on the example input ({shapes}): {type(e).__name__}: {e}") from None
    changed = [name for (name, t), v in zip(state, versions) if t._version != v]
    if changed:
        _restore(saved)
        raise ValueError(f"{AREA} {type(model).__name__}.forward mutates its state in place "
                         f"({', '.join(changed[:5])}); "
                         "torch.fx drops such updates from the graph, so the model cannot be split faithfully")
    return out


def _restore(saved: list[tuple[torch.Tensor, torch.Tensor, int]]) -> None:
    with torch.no_grad():
        for t, before, version in saved:
            if t._version != version:
                t.copy_(before)


class Profile:
    """Per-node results of profiling: median seconds, output bytes, kinds, MACs, output shapes."""

    def __init__(self) -> None:
        self.seconds: dict[fx.Node, float] = {}
        self.out_bytes: dict[fx.Node, int] = {}
        self.kinds: dict[fx.Node, str] = {}
        self.macs: dict[fx.Node, float] = {}
        self.meta: dict[fx.Node, Any] = {}  # (shape, dtype) of tensor values, None otherwise


def profile(gm: fx.GraphModule, args: tuple, repeats: int, warmup: int, timer: Any = time.perf_counter) -> Profile:
    """Run the graph node by node warmup + repeats times; time each computing node (median over repeats)."""
    nodes = list(gm.graph.nodes)
    placeholders = [n for n in nodes if n.op == "placeholder"]
    last_use: dict[fx.Node, fx.Node] = {}
    for node in nodes:
        for inp in node.all_input_nodes:
            last_use[inp] = node
    free_after: dict[fx.Node, list[fx.Node]] = {}
    for value, user in last_use.items():
        free_after.setdefault(user, []).append(value)
    modules = dict(gm.named_modules())
    samples: dict[fx.Node, list[float]] = {n: [] for n in nodes}
    result = Profile()
    perf = timer
    with torch.no_grad():
        for r in range(warmup + repeats):
            env: dict[fx.Node, Any] = {}
            for i, node in enumerate(placeholders):
                if i < len(args):
                    env[node] = args[i]
                elif node.args:
                    env[node] = node.args[0]  # default value of an optional forward argument
                else:
                    raise ValueError(f"{AREA} the example input gives {len(args)} values; forward needs "
                                     f"'{node.name}' too")
            for node in nodes:
                if node.op in ("placeholder", "output"):
                    pass
                elif node.op == "get_attr":
                    obj = gm
                    for part in node.target.split("."):
                        obj = getattr(obj, part)
                    env[node] = obj
                else:
                    a = fx.node.map_arg(node.args, env.__getitem__)
                    k = fx.node.map_arg(node.kwargs, env.__getitem__)
                    call_args = a
                    if node.op == "call_module":
                        fn = modules[node.target]
                    elif node.op == "call_function":
                        fn = node.target
                    else:
                        fn = getattr(a[0], node.target)
                        call_args = a[1:]
                    t0 = perf()
                    out = fn(*call_args, **k)
                    t1 = perf()
                    env[node] = out
                    if r >= warmup:
                        samples[node].append(t1 - t0)
                    if r == warmup + repeats - 1:
                        kind = kind_of(node, gm)
                        result.kinds[node] = kind
                        result.macs[node] = macs_of(kind, node, gm, tuple(a), dict(k), out)
                for done in free_after.get(node, ()):
                    if done.op != "placeholder":
                        env.pop(done, None)
                if r == warmup + repeats - 1 and node.op != "output" and node in env:
                    value = env[node]
                    result.out_bytes[node] = nbytes(value)
                    result.meta[node] = (tuple(value.shape), value.dtype) if isinstance(value, torch.Tensor) else None
            for node in placeholders:
                value = env[node]
                result.out_bytes[node] = nbytes(value)
                result.kinds[node] = "input"
                result.macs[node] = 0.0
                result.meta[node] = (tuple(value.shape), value.dtype) if isinstance(value, torch.Tensor) else None
    for node, s in samples.items():
        result.seconds[node] = statistics.median(s) if s else 0.0
    return result


def normalise_inputs(example_input: Any) -> tuple:
    if isinstance(example_input, torch.Tensor):
        return (example_input,)
    if isinstance(example_input, (tuple, list)):
        return tuple(example_input)
    raise TypeError(f"{AREA} example_input must be a tensor or a tuple of forward's arguments, "
                    f"not {type(example_input).__name__}")


def check_options(model: Any, repeats: Any, warmup: Any, server_speedup: Any, leaf_modules: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{AREA} trace needs a torch.nn.Module, not {type(model).__name__}")
    if not isinstance(leaf_modules, tuple) or not all(
            isinstance(c, type) and issubclass(c, nn.Module) for c in leaf_modules):
        raise TypeError(f"{AREA} leaf_modules must be a tuple of nn.Module classes, got {leaf_modules!r}")
    if isinstance(model, leaf_modules):
        raise ValueError(f"{AREA} the model itself is a leaf module ({type(model).__name__}): nothing to split")
    for name, value, low in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{AREA} {name} must be an integer >= {low}, got {value!r}")
    if isinstance(server_speedup, bool) or not isinstance(server_speedup, (int, float)) \
            or not math.isfinite(server_speedup) or server_speedup <= 0:
        raise ValueError(f"{AREA} server_speedup must be a finite number > 0, got {server_speedup!r}")
    moody = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
    if model.training and any(isinstance(m, moody) for m in model.modules()):
        warnings.warn(f"{AREA} {type(model).__name__} is in training mode: profiling runs it several times "
                      "(BatchNorm statistics change, dropout is random); call model.eval() first",
                      stacklevel=3)


def server_time_table(server_times: Any, names: Sequence[str]) -> list[float]:
    """Measured server seconds per layer from a {node name: s} mapping or a sequence in layer-id order."""
    if isinstance(server_times, Mapping):
        unknown = sorted(set(server_times) - set(names))
        if unknown:
            raise ValueError(f"{AREA} server_times names unknown nodes: {unknown[:5]}")
        missing = [n for n in names if n not in server_times]
        if missing:
            raise ValueError(f"{AREA} server_times lacks {len(missing)} layers, e.g. {missing[:5]}")
        values = [server_times[n] for n in names]
    else:
        values = list(server_times)
        if len(values) != len(names):
            raise ValueError(f"{AREA} server_times has {len(values)} values; the graph has {len(names)} layers")
    out = []
    for name, v in zip(names, values):
        v = float(v)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{AREA} server_times['{name}'] = {v} is not a finite time >= 0")
        out.append(v)
    return out
