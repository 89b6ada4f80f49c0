"""What a capture records (torch-free): one :class:`Op` per leaf-module call or functional op.

Both capture methods (``torch.export`` and the forward-hook fallback) produce the same
list of ops, in execution order, so the later steps (structure, fold, emit) do not
know which one ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT = -1  # the op index that stands for the model's input


@dataclass(frozen=True)
class Frame:
    """One module call on the stack: ``key`` tells calls of the same module apart."""

    key: str
    path: str  # dotted module path ('' for the model itself)
    cls: str  # class name


@dataclass
class Op:
    """A leaf module call (``module`` set) or a functional op (``fn`` set) inside the
    innermost container on ``stack``.  ``inputs`` are op indices (or :data:`INPUT`)."""

    index: int
    stack: tuple[Frame, ...]  # the containers around the op, outermost first
    inputs: list[int]
    shape: tuple[int, ...]  # output shape without the batch dimension
    module: Any = None  # the torch module of a leaf call
    path: str = ""  # the leaf module's dotted path
    fn: str = ""  # normalised name of a functional op: add, mul, cat, flatten, relu, ...
    consts: list[Any] = field(default_factory=list)  # non-tensor arguments of a functional op
    in_shapes: list[tuple[int, ...]] = field(default_factory=list)
    params: int = 0  # parameters used directly by a functional op (a layer scale's gamma)


# torch function / ATen names → one name per meaning
FUNCTIONS = {
    "add": "add", "__add__": "add", "__radd__": "add", "__iadd__": "add",
    "mul": "mul", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul", "multiply": "mul",
    "cat": "cat", "concat": "cat", "concatenate": "cat",
    "flatten": "flatten", "view": "view", "reshape": "view",
    "relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh", "silu": "silu", "gelu": "gelu",
    "hardswish": "hardswish", "hardsigmoid": "hardsigmoid", "softmax": "softmax",
    "adaptive_avg_pool2d": "adaptive_avg_pool2d", "mean": "mean",
    "dropout": "dropout", "clone": "identity", "contiguous": "identity", "detach": "identity",
    "interpolate": "interpolate", "upsample_nearest2d": "interpolate", "upsample_bilinear2d": "interpolate_bilinear",
    "pad": "pad", "constant_pad_nd": "pad",
    "chunk": "chunk", "split": "chunk", "split_with_sizes": "chunk", "getitem": "getitem", "transpose": "transpose",
}  # fmt: skip
PARTS = ("chunk", "unbind")  # ops whose result is a tuple of tensors, taken apart by getitem (timm attention: qkv.unbind(0))


def normalise(name: str) -> str:
    """``aten.add_.Tensor`` / ``__iadd__`` / ``relu_`` → ``add`` / ``add`` / ``relu``; unknown names unchanged."""
    base = name.split(".")[1] if name.startswith("aten.") else name.rsplit(".", 1)[-1]
    if base in FUNCTIONS:
        return FUNCTIONS[base]
    stripped = base[:-1] if base.endswith("_") and not base.endswith("__") else base
    return FUNCTIONS.get(stripped, stripped)


def leaf_params(op: Op) -> int:
    """Parameters a leaf call owns (each counted once even when the module is called twice)."""
    return sum(p.numel() for p in op.module.parameters()) if op.module is not None else op.params

