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

The output-size formulas and the checks that turn what torch would refuse into
located errors live in :mod:`cnnviz.rules`, which needs no torch.  The figures
in error messages are written by :mod:`cnnviz.present`, like everywhere else;
the measurements themselves are plain numbers.
"""

from __future__ import annotations

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
from .model import INPUT, Network, Path, Shape, Shapes
from .rules import SHAPE_PRESERVING, conv_groups, layer_input, layer_problem, located, merge_at, out_shape, padding, recovered, tower_setting

__all__ = ["SHAPE_PRESERVING", "ChannelLayerNorm", "DropPath", "GraphNet", "LayerScale", "Part", "Scale", "Shapes", "Tile", "build_model", "infer", "make_layer", "out_shape"]


class Scale(nn.Module):
    """Multiply by a constant: Inception-ResNet's residual scaling."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class Tile(nn.Module):
    """The input ``towers`` times side by side along channels: what each of N towers
    reading a shared input sees, for a layer that acts on each channel alone."""

    def __init__(self, towers: int):
        super().__init__()
        self.towers = towers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, self.towers, *([1] * (x.dim() - 2)))

    def extra_repr(self) -> str:
        return f"towers={self.towers}"


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels at each position of an image (ConvNeXt's
    LayerNorm2d): channels moved last, normalised by ``norm`` (an ``nn.LayerNorm``), moved back."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.norm(x.permute(0, 2, 3, 1))
        return out.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """A learned scale per channel (ConvNeXt): ``channels`` parameters, each set to ``init``."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(-1, *([1] * (x.dim() - 2)))


class Part(nn.Module):
    """The ``part``-th (from 1) of ``parts`` equal consecutive slices of the channels: what a branch of a split reads."""

    def __init__(self, part: int, parts: int):
        super().__init__()
        self.part, self.parts = part, parts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[1] // self.parts
        return x.narrow(1, (self.part - 1) * size, size)

    def extra_repr(self) -> str:
        return f"part={self.part}, parts={self.parts}"


class DropPath(nn.Module):
    """Stochastic depth: in training, each sample's whole input is zeroed with probability
    ``p`` and the rest scaled by 1 / (1 - p); in evaluation, the identity."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0], *([1] * (x.dim() - 1))), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep if keep > 0 else x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
}


def activation(name: str) -> nn.Module:
    """The module of an activation: a layer type, or a value of ``act``/``mid_act``."""
    return nn.Softmax(dim=1) if name == "softmax" else ACTIVATIONS[name]()


def make_layer(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1, split: bool = False) -> nn.Module:
    """One node's module, for an input of ``shape`` (no batch dimension).

    Inside ``towers`` identical towers the layer is built once for all of them:
    a conv whose output channels are the towers' (grouped by tower when ``split``,
    each tower reading only its own slice of the input channels); any other layer
    acts on each channel alone, so it is built for all the towers' channels, after
    a :class:`Tile` when the towers share their input."""
    if towers > 1 and type_ != "conv" and not split:
        return nn.Sequential(Tile(towers), make_layer(type_, p, layer_input(type_, shape, towers), towers, True))
    c = shape[0]
    flat = len(shape) == 1
    if type_ == "conv":
        pad = padding(p["padding"], p["kernel"], p["dilation"])
        return nn.Conv2d(c, p["filters"] * towers, p["kernel"], p["stride"], pad, p["dilation"], conv_groups(p, towers, split), p["bias"])
    if type_ == "sepconv":
        mid_act = p.get("mid_act", "none")
        mid = ([nn.BatchNorm2d(c, eps=p["eps"])] if p.get("mid_bn") else []) + ([activation(mid_act)] if mid_act != "none" else [])
        return nn.Sequential(
            nn.Conv2d(c, c, p["kernel"], p["stride"], padding(p["padding"], p["kernel"], p["dilation"]), p["dilation"], c, False),
            *mid,
            nn.Conv2d(c, p["filters"], 1, bias=p["bias"]),
        )
    if type_ == "dwconv":
        pad = padding(p["padding"], p["kernel"], p["dilation"])
        return nn.Conv2d(c, c * p["multiplier"], p["kernel"], p["stride"], pad, p["dilation"], c, p["bias"])
    if type_ == "bn":
        return (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c, eps=p["eps"])
    if type_ == "layernorm":
        return nn.LayerNorm(c, eps=p["eps"]) if flat else ChannelLayerNorm(c, p["eps"])
    if type_ == "groupnorm":
        return nn.GroupNorm(p["groups"], c, eps=p["eps"])
    if type_ == "layerscale":
        return LayerScale(c, p["init"])
    if type_ == "tconv":
        return nn.ConvTranspose2d(c, p["filters"], p["kernel"], p["stride"], p["padding"], p["output_padding"], bias=p["bias"])
    if type_ == "upsample":
        corners = True if p["align_corners"] else None  # None: torch's default (off), the only value nearest takes
        if p["size"]:
            return nn.Upsample(size=p["size"], mode=p["mode"], align_corners=corners)
        sh, sw = p["scale"]
        return nn.Upsample(scale_factor=sh if sh == sw else (sh, sw), mode=p["mode"], align_corners=corners)
    if type_ == "droppath":
        return DropPath(p["p"])
    if type_ == "shuffle":
        return nn.ChannelShuffle(p["groups"])
    if type_ in ACTIVATIONS or type_ == "softmax":
        return activation(type_)
    if type_ == "maxpool":
        return nn.MaxPool2d(p["kernel"], p["stride"], padding(p["padding"], p["kernel"]), ceil_mode=p["ceil"])
    if type_ == "avgpool":
        return nn.AvgPool2d(p["kernel"], p["stride"], padding(p["padding"], p["kernel"]), ceil_mode=p["ceil"], count_include_pad=p["count_pad"])
    if type_ == "gap":
        return nn.AdaptiveAvgPool2d(1) if p.get("keep") else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if type_ == "split":
        return Part(p["part"], p["parts"])
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
            if merge in ("add", "mul"):
                out = values[inputs[0]]
                for other in inputs[1:]:
                    out = out + values[other] if merge == "add" else out * values[other]
            elif merge == "concat":
                out = values[inputs[0]] if len(inputs) == 1 else torch.cat([values[i] for i in inputs], dim=1)
            else:
                out = self.get_submodule(name)(values[inputs[0]])
            values[path] = out
        if self.training and self._aux_outputs:
            return values[self._output], [values[p] for p in self._aux_outputs]
        return values[self._output]


def _attach(root: nn.Module, path: Path, module: nn.Module) -> str:
    """Register ``module`` under a nested name mirroring the node's path; returns that name.

    A name that torch's ``nn.Module`` already uses as an attribute (``training``,
    ``forward``, ``float``…) gets a ``#`` after it, which no spec name contains."""
    parts = path.names()
    here = root
    names = []
    for i, part in enumerate(parts):
        name = f"{part}#" if part not in here._modules and hasattr(here, part) else part
        names.append(name)
        if i == len(parts) - 1:
            here.add_module(name, module)
        elif name not in here._modules:
            here.add_module(name, nn.Module())
        here = here.get_submodule(name)
    return ".".join(names)  # the name named_modules() and get_submodule() use: the serialised path


def _construct(net: Network, coll: Collector, verify: bool = False) -> tuple[dict[Path, Shape | None], dict[Path, int], dict[Path, tuple[Shape, int, bool]]]:
    """Build every node's module on the meta device (no memory) for its parameter
    count, and find every node's output shape.

    Shapes come from torch's own output-size formulas (:func:`out_shape`): a
    forward pass on the meta device gives the same answer but costs seconds
    (its first convolution imports sympy, its first linear layer torch._dynamo).
    ``verify=True`` runs that forward pass too and checks the two agree; the
    test-suite does so for every catalogue spec.  What torch would refuse to
    build or run is reported first, located (:mod:`cnnviz.rules`)."""
    shapes: dict[Path, Shape | None] = {INPUT: tuple(net.input)}
    params: dict[Path, int] = {}
    modules: dict[Path, tuple[Shape, int, bool]] = {}  # node -> make_layer's (input shape, towers, split)
    for path, node in net.nodes.items():
        if path == INPUT:
            continue
        ins = [s for s in (shapes.get(i) for i in node.inputs) if s is not None]
        shapes[path] = None  # until measured: unknown after an upstream error or a problem here
        if len(ins) != len(node.inputs):
            continue  # an upstream error was already reported
        if node.kind == "merge":
            shapes[path] = merge_at(net, node, ins, coll)
            continue
        shape = ins[0]
        towers, split, problem = tower_setting(net, node, shape)
        if problem:
            coll.add(node.loc, problem)
            continue
        seen = layer_input(node.type, shape, towers, split)  # the input of the one layer built for all towers
        if problem := layer_problem(node.type, node.params, seen, towers, split):
            coll.add(node.loc, located(path, node, problem))
            shapes[path] = recovered(node.type, node.params, seen, towers)  # to report the problems after it too
            continue
        with torch.device("meta"):
            module = make_layer(node.type, node.params, shape, towers, split)
        modules[path] = (shape, towers, split)
        params[path] = sum(p.numel() for p in module.parameters())
        shapes[path] = out = out_shape(node.type, node.params, seen, towers)
        if verify and (node.type not in SHAPE_PRESERVING or seen != shape):
            with torch.no_grad():
                ran = tuple(module(torch.empty((1, *shape), device="meta")).shape[1:])
            if ran != out:  # a bug in out_shape, not a user error
                raise RuntimeError(f"{path}: shape formula gives {out} but torch gives {ran}")
    return shapes, params, modules


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
