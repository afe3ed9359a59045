"""Operator kinds and multiply-accumulate counts of torch.fx nodes (layer metadata).

Kinds form a small fixed vocabulary so arm contexts stay short and comparable across models:

=========  =====================================================  ==============================
kind       what                                                   macs
=========  =====================================================  ==============================
input      graph input (placeholder)                              0
conv       convolutions and transposed convolutions              exact (per output element:
                                                                  in_channels/groups * kernel)
linear     fully connected layers (nn.Linear, F.linear, addmm)   exact (out elements * in_features)
matmul     matmul, mm, bmm, einsum, @                             out elements * inner dimension
norm       batch/layer/group/instance norm                        output elements (one each)
act        activations (relu, sigmoid, softmax, gelu, ...)        output elements
pool       pooling and reductions (mean, sum, max)                input elements (each read once)
eltwise    element-wise arithmetic (+, *, -, /, ...)              output elements
shape      data movement without arithmetic (view, flatten,       0
           cat, getitem, size, dropout, identity)
other      anything else                                          0
=========  =====================================================  ==============================
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

KINDS = ("input", "conv", "linear", "matmul", "norm", "act", "pool", "eltwise", "shape", "other")

_MODULE_KINDS: tuple[tuple[type, str], ...] = (
    (nn.modules.conv._ConvNd, "conv"),
    (nn.Linear, "linear"),
    (nn.Bilinear, "linear"),
    (nn.modules.batchnorm._NormBase, "norm"),
    (nn.LayerNorm, "norm"),
    (nn.GroupNorm, "norm"),
    (nn.LocalResponseNorm, "norm"),
    (nn.modules.pooling._MaxPoolNd, "pool"),
    (nn.modules.pooling._AvgPoolNd, "pool"),
    (nn.modules.pooling._AdaptiveAvgPoolNd, "pool"),
    (nn.modules.pooling._AdaptiveMaxPoolNd, "pool"),
    (nn.modules.pooling._LPPoolNd, "pool"),
    (nn.Dropout, "shape"),
    (nn.modules.dropout._DropoutNd, "shape"),
    (nn.Identity, "shape"),
    (nn.Flatten, "shape"),
    (nn.Unflatten, "shape"),
)

_FUNCTION_KINDS: dict[Any, str] = {}


def _register(kind: str, *fns: Any) -> None:
    for fn in fns:
        if fn is not None:
            _FUNCTION_KINDS[fn] = kind


def _get(ns: Any, *names: str) -> list[Any]:
    return [getattr(ns, n, None) for n in names]


_register("conv", *_get(F, "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"))
_register("conv", *_get(torch, "conv1d", "conv2d", "conv3d"))
_register("linear", F.linear, torch.addmm, F.bilinear)
_register("matmul", torch.matmul, torch.mm, torch.bmm, torch.einsum, operator.matmul, torch.baddbmm)
_register("norm", *_get(F, "batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm"))
_ACT_NAMES = (
    "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh",
    "leaky_relu", "prelu", "rrelu", "sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign",
    "logsigmoid", "glu", "threshold", "tanhshrink", "softshrink", "hardshrink", "softmin",
)
_register("act", *_get(F, *_ACT_NAMES))
_register("act", *_get(torch, "relu", "sigmoid", "tanh", "softmax", "log_softmax", "selu", "celu", "prelu", "rrelu"))
_POOL_NAMES = (
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d",
)
_register("pool", *_get(F, *_POOL_NAMES))
_register("pool", *_get(torch, "mean", "sum", "amax", "amin", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d"))
_register(
    "eltwise",
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.neg,
    operator.pow, operator.mod,
    *_get(torch, "add", "sub", "mul", "div", "true_divide", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "abs",
          "clamp", "clip", "where", "maximum", "minimum", "square", "reciprocal"),
)
_register(
    "shape",
    operator.getitem, getattr, F.dropout, F.pad, F.interpolate,
    *_get(torch, "flatten", "reshape", "cat", "concat", "stack", "transpose", "permute", "squeeze", "unsqueeze",
          "chunk", "split", "narrow", "select", "t", "movedim", "roll", "flip", "tile", "unbind"),
)

_METHOD_KINDS: dict[str, str] = {}
for _n in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu"):
    _METHOD_KINDS[_n] = "act"
for _n in ("add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "abs", "clamp", "clip",
           "square", "reciprocal", "__add__", "__mul__", "__sub__", "__truediv__"):
    _METHOD_KINDS[_n] = "eltwise"
for _n in ("mean", "sum", "amax", "amin", "max", "min", "norm"):
    _METHOD_KINDS[_n] = "pool"
for _n in ("matmul", "mm", "bmm"):
    _METHOD_KINDS[_n] = "matmul"
for _n in ("view", "view_as", "reshape", "reshape_as", "flatten", "size", "dim", "permute", "transpose", "t",
           "contiguous", "unsqueeze", "squeeze", "expand", "expand_as", "chunk", "split", "narrow", "select",
           "repeat", "float", "half", "to", "type_as", "detach", "clone", "unbind", "flip", "roll", "numel"):
    _METHOD_KINDS[_n] = "shape"


def kind_of(node: fx.Node, root: nn.Module) -> str:
    """Operator kind of a computing node (see the module docstring)."""
    if node.op == "placeholder":
        return "input"
    if node.op == "call_module":
        mod = root.get_submodule(str(node.target))
        for cls, kind in _MODULE_KINDS:
            if isinstance(mod, cls):
                return kind
        if type(mod).__module__ == "torch.nn.modules.activation":
            return "act"
        return "other"
    if node.op == "call_function":
        try:
            return _FUNCTION_KINDS.get(node.target, "other")
        except TypeError:  # unhashable target
            return "other"
    if node.op == "call_method":
        return _METHOD_KINDS.get(str(node.target), "other")
    return "other"


def _numel(value: Any) -> int:
    return sum(t.numel() for t in tensors_in(value))


def tensors_in(value: Any) -> list[torch.Tensor]:
    """Every tensor in a (nested) tuple/list/dict value."""
    out: list[torch.Tensor] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return out


def nbytes(value: Any) -> int:
    """Bytes of every tensor in a value (what shipping it costs); 0 for non-tensors."""
    return sum(t.numel() * t.element_size() for t in tensors_in(value))


def macs_of(kind: str, node: fx.Node, root: nn.Module, args: tuple, kwargs: dict, out: Any) -> float:
    """Multiply-accumulates of one node, from its run-time argument and output values."""
    first = args[0] if args else next(iter(kwargs.values()), None)
    weight: Any
    if kind == "conv":
        if node.op == "call_module":
            weight = root.get_submodule(str(node.target)).weight
            transposed = isinstance(root.get_submodule(str(node.target)), nn.modules.conv._ConvTransposeNd)
        else:
            weight = args[1] if len(args) > 1 else kwargs.get("weight")
            transposed = "transpose" in getattr(node.target, "__name__", "")
        if not isinstance(weight, torch.Tensor):
            return 0.0
        per = math.prod(weight.shape[1:])  # in_channels/groups * kernel (conv); out/groups * kernel (transposed)
        base = first if transposed else out
        return float(_numel(base) * per)
    if kind == "linear":
        if node.op == "call_module":
            mod = root.get_submodule(str(node.target))
            weight = mod.weight
            if isinstance(mod, nn.Bilinear):
                return float(_numel(out) * weight.shape[1] * weight.shape[2])
            return float(_numel(out) * weight.shape[-1])
        if node.target is torch.addmm:  # addmm(bias, a, b)
            a = args[1] if len(args) > 1 else kwargs.get("mat1")
            return float(_numel(out) * a.shape[-1]) if isinstance(a, torch.Tensor) else 0.0
        weight = args[1] if len(args) > 1 else kwargs.get("weight")
        return float(_numel(out) * weight.shape[-1]) if isinstance(weight, torch.Tensor) and weight.dim() else 0.0
    if kind == "matmul":
        if isinstance(first, torch.Tensor) and first.dim() > 0:
            return float(_numel(out) * first.shape[-1])
        return 0.0
    if kind in ("norm", "act", "eltwise"):
        return float(_numel(out))
    if kind == "pool":
        return float(_numel(first))
    return 0.0
