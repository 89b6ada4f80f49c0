"""The only module that imports torch: network → real ``nn.Module`` → shapes and parameter counts.

* :func:`build_model` makes a trainable ``torch.nn.Module`` from a spec.
* :func:`infer` builds each layer's module on the meta device (no memory for
  weights or activations), counts parameters the way torch does (BatchNorm
  running statistics are buffers, not parameters), finds each node's output
  shape by torch's output-size formulas and checks the spec's declared
  expectations.  It returns a :class:`~cnnviz.model.Shapes` keyed by
  :class:`~cnnviz.model.Path`; problems raise :class:`~cnnviz.errors.ShapeError`.

With ``verify=True`` every shape-changing layer also runs on a meta tensor and
must agree with the formula.  Shape-preserving layers (batch norm, activations,
dropout, scaling) are never run: their output shape is their input shape.

The figures in error messages are written by :mod:`cnnviz.present`, like
everywhere else; the measurements themselves are plain numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

with warnings.catch_warnings():  # torch warns when NumPy is absent; we never need NumPy
    warnings.simplefilter("ignore")
    import torch
    from torch import nn

from . import present
from .errors import Collector, ShapeError
from .graph import as_network
from .model import INPUT, Network, Node, Path, Shape, Shapes

__all__ = ["SHAPE_PRESERVING", "GraphNet", "Scale", "Shapes", "build_model", "infer", "make_layer", "out_shape"]

SHAPE_PRESERVING = {"bn", "relu", "tanh", "sigmoid", "softmax", "dropout", "identity", "scale", "lrn"}


class Scale(nn.Module):
    """Multiply by a constant: Inception-ResNet's residual scaling."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


def _pad(padding: str | tuple[int, int], kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """The (height, width) zero padding each side that a padding setting means."""
    if padding == "same":
        return (dilation[0] * (kernel[0] - 1) // 2, dilation[1] * (kernel[1] - 1) // 2)
    if padding == "valid":
        return (0, 0)
    if not isinstance(padding, tuple):  # the spec stage allows no other word
        raise TypeError(f"padding must be 'same', 'valid' or (height, width), not {padding!r}")
    return (padding[0], padding[1])


ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def make_layer(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1, split: bool = False) -> nn.Module:
    """One node's module, for an input of ``shape`` (no batch dimension).

    Inside ``towers`` identical towers the layer is built once for all of them:
    a grouped convolution whose groups are the towers.  ``split`` means each
    tower reads only its own slice of the input channels."""
    c = shape[0]
    flat = len(shape) == 1
    if type_ == "conv":
        groups = p["groups"]
        if towers > 1:
            groups = towers * groups if split else groups
            return nn.Conv2d(c, p["filters"] * towers, p["kernel"], p["stride"], _pad(p["padding"], p["kernel"], p["dilation"]), p["dilation"], groups, p["bias"])
        return nn.Conv2d(c, p["filters"], p["kernel"], p["stride"], _pad(p["padding"], p["kernel"], p["dilation"]), p["dilation"], groups, p["bias"])
    if type_ == "sepconv":
        return nn.Sequential(
            nn.Conv2d(c, c, p["kernel"], p["stride"], _pad(p["padding"], p["kernel"], p["dilation"]), p["dilation"], c, False),
            nn.Conv2d(c, p["filters"], 1, bias=p["bias"]),
        )
    if type_ == "bn":
        return (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c, eps=p["eps"])
    if type_ in ACTIVATIONS:
        return ACTIVATIONS[type_]()
    if type_ == "softmax":
        return nn.Softmax(dim=1)
    if type_ == "maxpool":
        return nn.MaxPool2d(p["kernel"], p["stride"], _pad(p["padding"], p["kernel"]), ceil_mode=p["ceil"])
    if type_ == "avgpool":
        return nn.AvgPool2d(p["kernel"], p["stride"], _pad(p["padding"], p["kernel"]), ceil_mode=p["ceil"], count_include_pad=p["count_pad"])
    if type_ == "gap":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if type_ == "lrn":
        return nn.LocalResponseNorm(p["size"], p["alpha"], p["beta"], p["k"])
    if type_ == "dropout":
        return nn.Dropout(p["p"])
    if type_ == "flatten":
        return nn.Flatten()
    if type_ == "dense":
        return nn.Linear(c, p["units"], p["bias"])
    if type_ == "zeropad":
        top, bottom, left, right = p["padding"]
        return nn.ZeroPad2d((left, right, top, bottom))
    if type_ == "scale":
        return Scale(p["factor"])
    if type_ == "identity":
        return nn.Identity()
    raise ValueError(f"no builder for layer type '{type_}'")  # every LAYERS entry has one; a test checks


class GraphNet(nn.Module):
    """A network run node by node in its execution order (``Network.nodes``)."""

    def __init__(self, net: Network, modules: Mapping[Path, nn.Module]):
        super().__init__()
        # (node, its module's attribute path or "", its merge op or "", its input nodes, inside an aux head)
        self._plan: list[tuple[Path, str, str, tuple[Path, ...], bool]] = []
        self._output = net.output
        self._aux_outputs = [b.exit for b in net.blocks.values() if b.kind == "aux"]
        for path, node in net.nodes.items():
            if path == INPUT:
                continue
            name = _attach(self, path, modules[path]) if path in modules else ""
            self._plan.append((path, name, node.type if node.kind == "merge" else "", node.inputs, node.aux))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """The main output; in training mode with auxiliary heads, ``(output, [aux outputs])``."""
        values = {INPUT: x}
        for path, name, merge, inputs, aux in self._plan:
            if aux and not self.training:
                continue
            if merge == "add":
                out = values[inputs[0]]
                for other in inputs[1:]:
                    out = out + values[other]
            elif merge == "concat":
                out = values[inputs[0]] if len(inputs) == 1 else torch.cat([values[i] for i in inputs], dim=1)
            else:
                out = self.get_submodule(name)(values[inputs[0]])
            values[path] = out
        if self.training and self._aux_outputs:
            return values[self._output], [values[p] for p in self._aux_outputs]
        return values[self._output]


def _attach(root: nn.Module, path: Path, module: nn.Module) -> str:
    """Register ``module`` under a nested name mirroring the node's path; returns that name."""
    parts = path.names()
    here = root
    for part in parts[:-1]:
        if part not in here._modules:
            here.add_module(part, nn.Module())
        here = here.get_submodule(part)
    here.add_module(parts[-1], module)
    return str(path)  # the serialised path is the name named_modules() and get_submodule() use


# Layers that act on each channel (or each group of channels) alone, so that N towers
# can run as one grouped layer.  LRN mixes neighbouring channels across tower
# boundaries, so it is not here: put it after the towers' merge.
TOWER_SAFE = {"conv", "bn", "relu", "tanh", "sigmoid", "maxpool", "avgpool", "dropout", "identity", "scale", "zeropad"}
CONV_LIKE = {"conv", "sepconv", "maxpool", "avgpool"}


def _towers(net: Network, node: Node, shape: Shape) -> tuple[int, bool, str | None]:
    """(towers, split, problem) for a layer: how many identical towers it runs in (1 outside
    towers), whether each reads its own slice of the input, and why it cannot (or None)."""
    tb = next((b for b in reversed(node.scope) if net.blocks[b].kind == "towers"), None)  # the innermost
    if tb is None:
        return 1, False, None
    towers = net.blocks[tb].count
    split = net.blocks[tb].split or tb in net.nodes[node.inputs[0]].scope
    if node.type not in TOWER_SAFE:
        return towers, split, f"{node.type} is not supported inside towers (use it after the towers merge)"
    if node.type == "conv" and node.params["groups"] != 1:
        return towers, split, "a grouped conv inside towers is not supported: the towers are the groups"
    if split and shape[0] % towers:
        return towers, split, f"{shape[0]} input channels cannot be split evenly across {towers} towers"
    return towers, split, None


def _construct(net: Network, coll: Collector, verify: bool = False) -> tuple[dict[Path, Shape | None], dict[Path, int], dict[Path, tuple[Shape, int, bool]]]:
    """Build every node's module on the meta device (no memory) for its parameter
    count, and find every node's output shape.

    Shapes come from torch's own output-size formulas (:func:`out_shape`): a
    forward pass on the meta device gives the same answer but costs seconds
    (its first convolution imports sympy, its first linear layer torch._dynamo).
    ``verify=True`` runs that forward pass too and checks the two agree; the
    test-suite does so for every catalogue spec."""
    shapes: dict[Path, Shape | None] = {INPUT: tuple(net.input)}
    params: dict[Path, int] = {}
    modules: dict[Path, tuple[Shape, int, bool]] = {}  # node -> make_layer's (input shape, towers, split)
    for path, node in net.nodes.items():
        if path == INPUT:
            continue
        ins = [s for s in (shapes.get(i) for i in node.inputs) if s is not None]
        if len(ins) != len(node.inputs):
            shapes[path] = None  # an upstream error was already reported
            continue
        where = node.loc
        if node.kind == "merge":
            shapes[path] = _merge_shape(node, ins, coll)
            continue
        shape = ins[0]
        towers, split, problem = _towers(net, node, shape)
        if problem is None and (problem := _precheck(node, shape)):
            problem = f"{path}: {present.layer_line(node.type, node.params)}: {problem}"
        if problem:
            coll.add(where, problem)
            shapes[path] = None
            continue
        with torch.device("meta"):
            module = make_layer(node.type, node.params, shape, towers, split)
        modules[path] = (shape, towers, split)
        params[path] = sum(p.numel() for p in module.parameters())
        shapes[path] = out_shape(node.type, node.params, shape, towers)
        if verify and node.type not in SHAPE_PRESERVING:
            with torch.no_grad():
                ran = tuple(module(torch.empty((1, *shape), device="meta")).shape[1:])
            if ran != shapes[path]:  # a bug in out_shape, not a user error
                raise RuntimeError(f"{path}: shape formula gives {shapes[path]} but torch gives {ran}")
    return shapes, params, modules


def out_shape(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1) -> Shape:
    """A layer's output shape, by the formulas of torch's Conv2d, MaxPool2d and AvgPool2d docs."""
    if type_ in SHAPE_PRESERVING:
        return shape
    if type_ == "flatten":
        return (math.prod(shape),)
    if type_ == "gap":
        return (shape[0],)
    if type_ == "dense":
        return (p["units"],)
    if type_ == "zeropad":
        top, bottom, left, right = p["padding"]
        return (shape[0], shape[1] + top + bottom, shape[2] + left + right)
    dilation = p.get("dilation", (1, 1))
    sizes = []
    for n, k, s, pad, dil in zip(shape[1:], p["kernel"], p["stride"], _pad(p["padding"], p["kernel"], dilation), dilation):
        span = n + 2 * pad - dil * (k - 1) - 1
        out = (-(-span // s) if p.get("ceil") else span // s) + 1
        if p.get("ceil") and (out - 1) * s >= n + pad:  # the last window must start inside the input
            out -= 1
        sizes.append(out)
    channels = p["filters"] * towers if type_ in ("conv", "sepconv") else shape[0]
    return (channels, *sizes)


def _precheck(node: Node, shape: Shape) -> str | None:
    """Catch the usual mistakes with a clearer message than torch's."""
    t, p = node.type, node.params
    needs_image = t in CONV_LIKE or t in ("lrn", "zeropad", "gap")
    if needs_image and len(shape) != 3:
        return f"needs a [channels, height, width] input, got the flat vector [{present.shape(shape)}]"
    if t in CONV_LIKE:
        pad = _pad(p["padding"], p["kernel"], p.get("dilation", (1, 1)))
        for n, k, pd, dl in zip(shape[1:], p["kernel"], pad, p.get("dilation", (1, 1))):
            if n + 2 * pd < dl * (k - 1) + 1:
                return f"kernel {present.size(p['kernel'])} is larger than its input {present.size(shape[1:])} (padding {present.size(pad)})"
        if t in ("maxpool", "avgpool") and any(pd > k // 2 for pd, k in zip(pad, p["kernel"])):
            return f"padding {present.size(pad)} is more than half the window {present.size(p['kernel'])}"
        if t == "conv" and shape[0] % p["groups"]:
            return f"{shape[0]} input channels are not divisible by groups={p['groups']}"
    if t == "dense" and len(shape) != 1:
        return f"needs a flat input, got [{present.shape(shape)}]; put flatten or gap before it"
    return None


def _merge_shape(node: Node, ins: list[Shape], coll: Collector) -> Shape | None:
    if node.towers:
        return ins[0]
    listed = ", ".join(present.shape(s) for s in ins)
    if node.type == "add":
        if len(set(ins)) != 1:
            coll.add(node.loc, f"add: the branches give different shapes ({listed})")
            return None
        return ins[0]
    if len({s[1:] for s in ins}) != 1 or len({len(s) for s in ins}) != 1:
        coll.add(node.loc, f"concat: the branches differ in size ({listed}); only channels may differ")
        return None
    return (sum(s[0] for s in ins), *ins[0][1:])


def infer(arch: object, check: bool = True, verify: bool = False) -> Shapes:
    """Shapes and parameter counts of every node of ``arch`` (a catalogue id, a spec path,
    a Spec or a Network).  Raises :class:`~cnnviz.errors.ShapeError` listing every shape
    problem and (with ``check``) every broken declared expectation.  ``verify`` also
    runs every shape-changing layer on the meta device and checks torch agrees."""
    net = as_network(arch)
    coll = Collector(net.source, ShapeError)
    shapes, params, _ = _construct(net, coll, verify)
    coll.raise_if_any()
    aux = sum(n for path, n in params.items() if net.nodes[path].aux)
    blocks = dict.fromkeys(net.blocks, 0)
    for path, n in params.items():
        for b in net.nodes[path].scope:
            blocks[b] += n
    result = Shapes(
        shapes=MappingProxyType(shapes),
        params=MappingProxyType(params),
        total=sum(params.values()) - aux,
        aux=aux,
        blocks=MappingProxyType(blocks),
    )
    if check:
        _check_expect(net, result, coll)
        coll.raise_if_any()
    return result


def _check_expect(net: Network, r: Shapes, coll: Collector) -> None:
    expect, locs = net.expect, net.expect_locs
    for key, have in (("params", r.total), ("params_aux", r.aux)):
        if key in expect and expect[key] != have:
            coll.add(locs[key], f"expect: {key} is {present.exact(expect[key])} but the network has {present.exact(have)} ({present.signed(have - expect[key])})")
    out = r.output_of(net)
    if "output" in expect and tuple(expect["output"]) != out:
        coll.add(locs["output"], f"expect: output is {present.shape(expect['output'])} but the network gives {present.shape(out)}")
    for name, want in expect.get("shapes", {}).items():
        path = net.find(name)
        if path is None:
            coll.add(locs["shapes"][name], f"expect: shapes: no layer or block named '{name}'")
            continue
        got = r.shapes[net.item_exit(path)]
        if got != tuple(want):
            coll.add(locs["shapes"][name], f"expect: shapes: {name} is {present.shape(want)} but the network gives {present.shape(got)}")


def build_model(arch: object) -> nn.Module:
    """A trainable ``torch.nn.Module`` for a catalogue id, a spec path, a Spec or a Network.

    In eval mode ``model(x)`` returns the main output; in training mode a
    network with auxiliary heads returns ``(output, [aux outputs])``."""
    net = as_network(arch)
    coll = Collector(net.source, ShapeError)
    _, _, inputs = _construct(net, coll)
    coll.raise_if_any()
    modules = {path: make_layer(net.nodes[path].type, net.nodes[path].params, *args) for path, args in inputs.items()}
    return GraphNet(net, modules)
