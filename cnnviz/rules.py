"""The shape rules, without torch: output sizes, weight sizes, and what torch would refuse.

:func:`out_shape` is torch's output-size formula for each layer type (from the
Conv2d, MaxPool2d and AvgPool2d docs, ceil mode included); :func:`weight_shapes`
the shapes of a layer's weight tensors; :func:`precheck`, :func:`tower_setting`
and :func:`size_problem` say in a user's words why torch would refuse to build
or run a layer, *before* it is built, so that every such problem becomes a
located error instead of a traceback.  :mod:`cnnviz.shapes` (which imports
torch) builds the layers these rules let through; the test-suite checks the
rules against real torch modules layer by layer.

No tensor may have more than :data:`MAX_ELEMENTS` elements: a layer whose
output or weight would be larger is refused (torch's own limit is an
overflowing byte count, far beyond any real network).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import present
from .errors import Collector
from .model import Network, Node, Path, Shape

__all__ = [
    "CONV_LIKE",
    "ELEMENTWISE",
    "MAX_ELEMENTS",
    "SHAPE_PRESERVING",
    "TOWER_SAFE",
    "conv_groups",
    "layer_input",
    "layer_problem",
    "located",
    "merge_at",
    "merge_shape",
    "out_shape",
    "padding",
    "precheck",
    "recovered",
    "size_problem",
    "tower_setting",
    "weight_shapes",
]

ELEMENTWISE = {"relu", "tanh", "sigmoid", "relu6", "silu", "gelu", "hardswish", "hardsigmoid"}  # activations that act on each value alone
SHAPE_PRESERVING = {"bn", "softmax", "dropout", "identity", "scale", "lrn", "layernorm", "groupnorm", "layerscale", "droppath", "shuffle", *ELEMENTWISE}
# Layers that take a shape of any rank (a custom box's [tokens, features]); layernorm then
# normalises the last dimension, as torch's LayerNorm(features) does in a transformer.
ANY_RANK = {"dropout", "identity", "scale", "layernorm", "droppath", "custom", "flatten", "dense", *ELEMENTWISE}
CONV_LIKE = {"conv", "sepconv", "dwconv", "maxpool", "avgpool"}
# Layers that act on each channel (or each group of channels) alone, so that N towers
# can run as one grouped layer.  LRN mixes neighbouring channels across tower
# boundaries, so it is not here: put it after the towers' merge.
TOWER_SAFE = {"conv", "bn", "maxpool", "avgpool", "dropout", "identity", "scale", "zeropad", "layerscale", *ELEMENTWISE}

# The most elements one tensor (a layer's output or weight) may have: 2**48, about
# 2.8e14, a petabyte of float32.  The largest input the spec stage accepts
# (65536 x 16384 x 16384 = 2**44) fits; the largest weight of the catalogue
# (VGG's first dense layer) has about 1e8.
MAX_ELEMENTS = 1 << 48


def padding(setting: str | tuple[int, int], kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """The (height, width) zero padding each side that a padding setting means."""
    if setting == "same":
        return (dilation[0] * (kernel[0] - 1) // 2, dilation[1] * (kernel[1] - 1) // 2)
    if setting == "valid":
        return (0, 0)
    if not isinstance(setting, tuple):  # the spec stage allows no other word
        raise TypeError(f"padding must be 'same', 'valid' or (height, width), not {setting!r}")
    return (setting[0], setting[1])


def layer_input(type_: str, shape: Shape, towers: int = 1, split: bool = False) -> Shape:
    """The input the one layer built for all ``towers`` sees.  A conv reads a shared
    input as it is (its towers are its output channels); any other layer that reads
    a shared input gets it once per tower, side by side (``shapes.Tile``)."""
    if towers > 1 and not split and type_ != "conv":
        return (shape[0] * towers, *shape[1:])
    return shape


def out_shape(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1) -> Shape:
    """A layer's output shape, by the formulas of torch's Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d and Upsample docs."""
    if type_ in SHAPE_PRESERVING:
        return shape
    if type_ == "flatten":
        return (math.prod(shape),)
    if type_ == "gap":
        return (shape[0], 1, 1) if p.get("keep") else (shape[0],)
    if type_ == "split":  # one of a split's equal parts of the channels
        return (shape[0] // p["parts"], *shape[1:])
    if type_ == "dense":
        return (p["units"],)
    if type_ == "zeropad":
        top, bottom, left, right = p["padding"]
        return (shape[0], shape[1] + top + bottom, shape[2] + left + right)
    if type_ == "custom":
        return tuple(p["output"] or shape)
    if type_ == "upsample":
        return (shape[0], *(p["size"] or (n * s for n, s in zip(shape[1:], p["scale"]))))
    if type_ == "tconv":
        grown = ((n - 1) * s - 2 * pad + k + op for n, s, pad, k, op in zip(shape[1:], p["stride"], p["padding"], p["kernel"], p["output_padding"]))
        return (p["filters"], *grown)
    dilation = p.get("dilation", (1, 1))
    sizes = []
    for n, k, s, pad, dil in zip(shape[1:], p["kernel"], p["stride"], padding(p["padding"], p["kernel"], dilation), dilation):
        span = n + 2 * pad - dil * (k - 1) - 1
        out = (-(-span // s) if p.get("ceil") else span // s) + 1
        if p.get("ceil") and (out - 1) * s >= n + pad:  # the last window must start inside the input
            out -= 1
        sizes.append(out)
    channels = p["filters"] * towers if type_ in ("conv", "sepconv") else shape[0] * p.get("multiplier", 1)
    return (channels, *sizes)


def conv_groups(p: Mapping[str, Any], towers: int = 1, split: bool = False) -> int:
    """A conv's groups: its own setting, or inside towers (where it must be 1) the towers when each reads its own slice."""
    if towers > 1:
        return towers if split else 1
    return int(p["groups"])


def weight_shapes(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1, split: bool = False) -> list[Shape]:
    """The shapes of a layer's weight tensors (biases and batch-norm vectors, never
    larger than its output, left out), for its input ``shape``."""
    c = shape[0]
    if type_ == "conv":
        return [(p["filters"] * towers, c // conv_groups(p, towers, split), *p["kernel"])]
    if type_ == "sepconv":
        return [(c, 1, *p["kernel"]), (p["filters"], c, 1, 1)]
    if type_ == "dwconv":
        return [(c * p["multiplier"], 1, *p["kernel"])]
    if type_ == "tconv":
        return [(c, p["filters"], *p["kernel"])]
    if type_ == "custom":
        return [(p["params"],)] if p["params"] else []
    if type_ == "dense":
        return [(p["units"], c)]
    return []


def precheck(type_: str, p: Mapping[str, Any], shape: Shape) -> str | None:
    """Why torch would refuse this layer on an input of ``shape``, in the user's words (or None)."""
    needs_image = type_ in CONV_LIKE or type_ in ("lrn", "zeropad", "gap", "tconv", "upsample", "shuffle")
    if needs_image and len(shape) != 3:
        got = "the flat vector " if len(shape) == 1 else ""
        return f"needs a [channels, height, width] input, got {got}[{present.shape(shape)}]"
    if len(shape) not in (1, 3) and type_ not in ANY_RANK:
        return f"needs a [channels, height, width] or [features] input, got [{present.shape(shape)}] (a custom box's output)"
    if type_ in CONV_LIKE:
        dilation = p.get("dilation", (1, 1))
        pad = padding(p["padding"], p["kernel"], dilation)
        reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, p["kernel"]))  # the window a dilated kernel spans
        if any(n + 2 * pd < r for n, pd, r in zip(shape[1:], pad, reach)):
            dilated = f" (dilated to {present.size(reach)})" if dilation != (1, 1) else ""
            return f"kernel {present.size(p['kernel'])}{dilated} is larger than its input {present.size(shape[1:])} (padding {present.size(pad)})"
        if type_ in ("maxpool", "avgpool") and any(pd > k // 2 for pd, k in zip(pad, p["kernel"])):
            return f"padding {present.size(pad)} is more than half the window {present.size(p['kernel'])}"
        if type_ == "conv" and shape[0] % p["groups"]:
            return f"{shape[0]} input channels are not divisible by groups={p['groups']}"
        if type_ == "conv" and p["filters"] % p["groups"]:
            return f"{p['filters']} filters are not divisible by groups={p['groups']}"
    if type_ == "split" and shape[0] % p["parts"]:
        return f"{shape[0]} input channels cannot be split into {p['parts']} equal parts, one per branch"
    if type_ in ("groupnorm", "shuffle") and shape[0] % p["groups"]:
        return f"{shape[0]} channels are not divisible by groups={p['groups']}"
    if type_ == "tconv":
        return _tconv_problem(p, shape)
    if type_ == "dense" and len(shape) != 1:
        return f"needs a flat input, got [{present.shape(shape)}]; put flatten or gap before it"
    return None


def _tconv_problem(p: Mapping[str, Any], shape: Shape) -> str | None:
    """Why torch would refuse a transposed conv: an output padding not below the stride, or no output left."""
    if any(op >= s for op, s in zip(p["output_padding"], p["stride"])):
        return f"output_padding {present.size(p['output_padding'])} must be smaller than the stride {present.size(p['stride'])}"
    out = out_shape("tconv", p, shape)[1:]
    if min(out) < 1:
        unpadded = out_shape("tconv", {**p, "padding": (0, 0)}, shape)[1:]
        return f"padding {present.size(p['padding'])} on each side leaves no output (without it the output is {present.size(unpadded)})"
    return None


def layer_problem(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1, split: bool = False) -> str | None:
    """Why torch would refuse to build or run this layer (for all ``towers``) on an input of ``shape``, or None."""
    return precheck(type_, p, shape) or size_problem(type_, p, shape, out_shape(type_, p, shape, towers), towers, split)


def size_problem(type_: str, p: Mapping[str, Any], shape: Shape, out: Shape, towers: int = 1, split: bool = False) -> str | None:
    """Why a layer is too large to build (an output or weight over :data:`MAX_ELEMENTS`), or None."""
    for what, dims in (("output", out), *(("weight", w) for w in weight_shapes(type_, p, shape, towers, split))):
        n = math.prod(dims)
        if n > MAX_ELEMENTS:
            return _too_many(f"its {what} {present.shape(dims)}", n)
    return None


def _too_many(what: str, n: int) -> str:
    return f"{what} would have {present.exact(n)} elements; a tensor may have at most {present.exact(MAX_ELEMENTS)} (2**48)"


def tower_setting(net: Network, node: Node, shape: Shape) -> tuple[int, bool, str | None]:
    """(towers, split, problem) for a layer: how many identical towers it runs in (1 outside
    towers), whether each reads its own slice of the input, and why it cannot (or None)."""
    around = [b for b in node.scope if net.blocks[b].kind == "towers"]
    if not around:
        return 1, False, None
    tb = around[-1]
    towers = net.blocks[tb].count
    split = net.blocks[tb].split or tb in net.nodes[node.inputs[0]].scope
    if len(around) > 1:
        return towers, split, "towers inside towers are not supported"
    if node.type not in TOWER_SAFE:
        return towers, split, f"{node.type} is not supported inside towers (use it after the towers merge)"
    if node.type == "conv" and node.params["groups"] != 1:
        return towers, split, "a grouped conv inside towers is not supported: the towers are the groups"
    if split and shape[0] % towers:
        return towers, split, f"{shape[0]} input channels cannot be split evenly across {towers} towers"
    return towers, split, None


def merge_shape(node: Node, ins: list[Shape], coll: Collector) -> Shape | None:
    """The output of an ``add`` or ``concat`` node, or None after reporting why there is none."""
    if node.towers:
        return ins[0]  # the towers' layers were built as one, for all towers
    listed = ", ".join(present.shape(s) for s in ins)
    if node.type == "mul":
        return _broadcast(ins, listed, node, coll)
    if node.type == "add":
        if len(set(ins)) != 1:
            coll.add(node.loc, f"add: the branches give different shapes ({listed})")
            return None
        return ins[0]
    if len({s[1:] for s in ins}) != 1 or len({len(s) for s in ins}) != 1:
        coll.add(node.loc, f"concat: the branches differ in size ({listed}); only channels may differ")
        return None
    out = (sum(s[0] for s in ins), *ins[0][1:])
    if math.prod(out) > MAX_ELEMENTS:
        coll.add(node.loc, f"concat: {_too_many(f'its output {present.shape(out)}', math.prod(out))}")
        return None
    return out


def _broadcast(ins: list[Shape], listed: str, node: Node, coll: Collector) -> Shape | None:
    """The shape of an element-wise product of ``ins``: each size equal, or 1 (broadcast), as in torch."""
    if len({len(s) for s in ins}) == 1:
        out = tuple(max(dims) for dims in zip(*ins))
        if all(d in (1, o) for s in ins for d, o in zip(s, out)):
            return out
    coll.add(node.loc, f"mul: the branches give shapes that do not broadcast ({listed}); each size must equal the others' or be 1")
    return None


def located(path: Path, node: Node, problem: str) -> str:
    """A layer's problem as the user reads it: ``conv3: conv 16 7×7: kernel 7×7 is larger…``.
    The part of a split's input a branch reads is written by its split (``split1: split: …``),
    so that a problem of a split reads the same, and is reported once, for all its branches."""
    if node.type == "split" and path.parent is not None and path.parent.parent is not None:
        return f"{path.parent.parent}: split: {problem}"
    return f"{path}: {present.layer_line(node.type, node.params)}: {problem}"


def merge_at(net: Network, node: Node, ins: list[Shape], coll: Collector) -> Shape | None:
    """:func:`merge_shape`, with what a skip connection adds: a problem at a merge whose
    branches start from earlier items (``from enc1``) is reported where the first such
    reference is written, saying which branch starts from where.  After a problem the
    result is a best guess (the first branch's shape; for a concat, the channels summed),
    so that the problems further on are reported too."""
    here = Collector(coll.path, coll.error)
    out = merge_shape(node, ins, here)
    refs = net.merge_refs(node.path)
    first = next((r for r in refs if r is not None), None)
    starts = ", ".join(f"branch {j} starts from '{r.name}'" for j, r in enumerate(refs, 1) if r is not None)
    where = node.path.parent or node.path  # the merge block's path (``add1``), as a layer's problem names its own
    for p in here.problems:
        if first is None:
            coll.add((p.path, p.line, p.col), f"{where}: {p.message}")
        else:
            coll.add(first.loc, f"{where}: {p.message} ({starts})")
    if out is None and here.problems:
        same_rank = len({len(s) for s in ins}) == 1
        out = (sum(s[0] for s in ins), *ins[0][1:]) if node.type == "concat" and same_rank else ins[0]
    return out


def recovered(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1) -> Shape | None:
    """A best guess at the output of a layer that was refused, so that the problems after
    it are reported too (every shape problem at once), or None where there is no sensible
    guess (a window larger than its input, an image layer on a vector): then what depends
    on it is not checked."""
    if type_ == "dense":
        return (p["units"],)
    if len(shape) != 3:
        return None
    out = out_shape(type_, p, shape, towers)
    return out if all(d >= 1 for d in out) and math.prod(out) <= MAX_ELEMENTS else None
