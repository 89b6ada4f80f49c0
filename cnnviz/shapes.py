"""The shape stage, the only one that imports torch: network → real ``nn.Module`` → shapes and parameter counts.

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
located errors live in :mod:`cnnviz.rules`, which needs no torch; the module
each layer type becomes, in :mod:`cnnviz.torch_layers`.  The figures
in error messages are written by :mod:`cnnviz.present`, like everywhere else;
the measurements themselves are plain numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType

with warnings.catch_warnings():  # torch warns when NumPy is absent; we never need NumPy
    warnings.simplefilter("ignore")
    import torch
    from torch import nn

from . import present
from .errors import Collector, ShapeError
from .graph import as_network
from .model import INPUT, Loc, Network, Path, Shape, Shapes
from .rules import SHAPE_PRESERVING, layer_input, layer_problem, located, merge_at, out_shape, recovered, tower_setting
from .torch_layers import ChannelLayerNorm, Custom, DropPath, LayerScale, Part, Scale, Tile, make_layer

__all__ = ["SHAPE_PRESERVING", "ChannelLayerNorm", "Custom", "DropPath", "GraphNet", "LayerScale", "Part", "Scale", "Shapes", "Tile", "build_model", "infer", "make_layer", "out_shape"]


Outputs = torch.Tensor | dict[str, torch.Tensor]  # one output, or several by name


class GraphNet(nn.Module):
    """A network run node by node in its execution order (``Network.nodes``)."""

    def __init__(self, net: Network, modules: Mapping[Path, nn.Module]):
        super().__init__()
        # (node, its module's attribute path or "", its merge op or "", its input nodes, inside an aux head)
        self._plan: list[tuple[Path, str, str, tuple[Path, ...], bool]] = []
        self._outputs = dict(net.outputs) if len(net.outputs) > 1 else None  # name -> node, the main output first
        self._output = net.output
        self._aux_outputs = [b.exit for b in net.blocks.values() if b.kind == "aux"]
        for path, node in net.nodes.items():
            if path == INPUT:
                continue
            name = _attach(self, path, modules[path]) if path in modules else ""
            self._plan.append((path, name, node.type if node.kind == "merge" else "", node.inputs, node.aux))

    def forward(self, x: torch.Tensor) -> Outputs | tuple[Outputs, list[torch.Tensor]]:
        """The output, or every output by name (:attr:`~cnnviz.model.Network.outputs`) when the
        network has several; in training mode with auxiliary heads, ``(that, [aux outputs])``."""
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
        given: Outputs = values[self._output] if self._outputs is None else {k: values[p] for k, p in self._outputs.items()}
        if self.training and self._aux_outputs:
            return given, [values[p] for p in self._aux_outputs]
        return given


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
    """Build every distinct layer's module once on the meta device (no memory) for its parameter
    count, and find every node's output shape.

    Shapes come from torch's own output-size formulas (:func:`out_shape`): a
    forward pass on the meta device gives the same answer but costs seconds
    (its first convolution imports sympy, its first linear layer torch._dynamo).
    ``verify=True`` runs that forward pass too and checks the two agree; the
    test-suite does so for every catalogue spec.  What torch would refuse to
    build or run is reported first, located (:mod:`cnnviz.rules`)."""
    found = Collector(coll.path, coll.error)  # every problem, before those of one line are told once
    shapes: dict[Path, Shape | None] = {INPUT: tuple(net.input)}
    params: dict[Path, int] = {}
    modules: dict[Path, tuple[Shape, int, bool]] = {}  # node -> make_layer's (input shape, towers, split)
    built: dict[tuple[str, str, Shape, int, bool], int] = {}  # (type, settings, input, towers, split) -> parameters of the layer torch built
    for path, node in net.nodes.items():
        if path == INPUT:
            continue
        ins = [s for s in (shapes.get(i) for i in node.inputs) if s is not None]
        shapes[path] = None  # until measured: unknown after an upstream error or a problem here
        if len(ins) != len(node.inputs):
            continue  # an upstream error was already reported
        if node.kind == "merge":
            shapes[path] = merge_at(net, node, ins, found)
            continue
        shape = ins[0]
        towers, split, problem = tower_setting(net, node, shape)
        if problem:
            found.add(node.loc, problem)
            continue
        seen = layer_input(node.type, shape, towers, split)  # the input of the one layer built for all towers
        if problem := layer_problem(node.type, node.params, seen, towers, split):
            found.add(node.loc, located(path, node, problem))
            shapes[path] = recovered(node.type, node.params, seen, towers)  # to report the problems after it too
            continue
        modules[path] = (shape, towers, split)
        shapes[path] = out = out_shape(node.type, node.params, seen, towers)
        key = (node.type, repr(node.params), shape, towers, split)  # the copies of a repeat are built once
        if key in built:
            params[path] = built[key]
            continue
        with torch.device("meta"):
            module = make_layer(node.type, node.params, shape, towers, split)
        params[path] = built[key] = sum(p.numel() for p in module.parameters())
        if verify and (node.type not in SHAPE_PRESERVING or seen != shape):
            with torch.no_grad():
                ran = tuple(module.eval()(torch.empty((1, *shape), device="meta")).shape[1:])  # eval: a batch norm inside may see one value
            if ran != out:  # a bug in out_shape, not a user error
                raise RuntimeError(f"{path}: shape formula gives {out} but torch gives {ran}")
    _once_per_line(found, coll)
    return shapes, params, modules


def _once_per_line(found: Collector, coll: Collector) -> None:
    """The problems of ``found`` into ``coll``, one per written line: a line of a module that
    fails in each of its calls (or again, after a guess at an earlier failure) is reported at
    its first failure, with how many more there were."""
    by_line: dict[tuple[str, int, int], dict[str, None]] = {}  # each message once (a split's parts share theirs)
    for p in found.problems:
        by_line.setdefault((p.path, p.line, p.col), {})[p.message] = None
    for loc, distinct in by_line.items():
        messages = list(distinct)
        more = len(messages) - 1
        coll.add(loc, messages[0] + (f" (and {more} more time{'s' if more > 1 else ''} where the line is used again)" if more else ""))


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

    def broken(key: str, loc: Loc, message: str, under: str = "expect") -> None:
        if loc[0] != net.source:  # declared in a spec this one extends, maybe the catalogue's
            message += f" (inherited: the spec extends this file; `{key}: null` under `{under}:` drops it)"
        coll.add(loc, f"expect: {message}")

    for key, have in (("params", r.total), ("params_aux", r.aux)):
        if key in expect and expect[key] != have:
            broken(key, locs[key], f"{key} is {present.exact(expect[key])} but the network has {present.exact(have)} ({present.signed(have - expect[key])})")
    out = r.output_of(net)
    if "output" in expect and tuple(expect["output"]) != out:
        broken("output", locs["output"], f"output is {present.shape(expect['output'])} but the network gives {present.shape(out)}")
    for name, want in expect.get("shapes", {}).items():
        path = net.find(name)
        if path is None:
            broken(name, locs["shapes"][name], f"shapes: no layer or block named '{name}'", "expect: shapes")
            continue
        got = r.shapes[net.item_exit(path)]
        if got != tuple(want):
            broken(name, locs["shapes"][name], f"shapes: {name} is {present.shape(want)} but the network gives {present.shape(got)}", "expect: shapes")


def check_expect(arch: object, result: Shapes) -> None:
    """Raise :class:`~cnnviz.errors.ShapeError` listing every declared expectation of ``arch``
    that ``result`` (from ``infer(arch, check=False)``) breaks; ``summary`` prints its table first."""
    net = as_network(arch)
    coll = Collector(net.source, ShapeError)
    _check_expect(net, result, coll)
    coll.raise_if_any()


def build_model(arch: object) -> nn.Module:
    """A trainable ``torch.nn.Module`` for a catalogue id, a spec path, a Spec or a Network.

    In eval mode ``model(x)`` returns the output.  A network with extra outputs
    (``output:`` items) returns a dict instead, every output by name in
    execution order, the main one first as ``"out"`` (as torchvision's FPN and
    backbones return an ordered dict of feature maps by name, and its
    segmentation models ``{"out": …, "aux": …}``): ``model(x)["P4"]``.  In
    training mode a network with auxiliary heads returns ``(that, [aux outputs])``."""
    net = as_network(arch)
    coll = Collector(net.source, ShapeError)
    _, _, inputs = _construct(net, coll)
    coll.raise_if_any()
    modules = {path: make_layer(net.nodes[path].type, net.nodes[path].params, *args) for path, args in inputs.items()}
    return GraphNet(net, modules)
