"""The only module that imports torch: graph → real ``nn.Module`` → shapes and parameter counts.

* :func:`build_model` makes a trainable ``torch.nn.Module`` from a spec.
* :func:`infer` builds the same module on the meta device (no memory for
  weights or activations), runs each shape-changing layer on a meta tensor,
  counts parameters the way torch does (BatchNorm running statistics are
  buffers, not parameters) and checks the spec's declared expectations.

Shape-preserving layers (batch norm, activations, dropout, scaling) are not
run: their output shape is their input shape, and running them on the meta
device would cost time and tell nothing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import networkx as nx

with warnings.catch_warnings():  # torch warns when NumPy is absent; we never need NumPy
    warnings.simplefilter("ignore")
    import torch
    from torch import nn

from .errors import Collector
from .graph import INPUT, as_graph
from .summary import layer_type

SHAPE_PRESERVING = {"bn", "relu", "tanh", "sigmoid", "softmax", "dropout", "identity", "scale", "lrn"}


class Scale(nn.Module):
    """Multiply by a constant: Inception-ResNet's residual scaling."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


def _pad(padding, kernel, dilation=(1, 1)):
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    if padding == "valid":
        return (0, 0)
    return tuple(padding)


def make_layer(type_: str, p: dict, shape: tuple, towers: int = 1, split: bool = False) -> nn.Module | None:
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
    if type_ in ("relu", "tanh", "sigmoid"):
        return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[type_]()
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


@dataclass
class Shapes:
    """What the shape pass found: per node output shape and own parameter count."""

    shapes: dict = field(default_factory=dict)  # node -> tuple (no batch dim)
    params: dict = field(default_factory=dict)  # node -> int
    total: int = 0  # main line
    aux: int = 0  # auxiliary heads
    blocks: dict = field(default_factory=dict)  # block id -> parameters of everything inside it


class GraphNet(nn.Module):
    """A network run node by node in the graph's execution order."""

    def __init__(self, g: nx.DiGraph, modules: dict[str, nn.Module]):
        super().__init__()
        self._plan = []  # (node, module attribute path or None, merge op or None, input nodes)
        self._output = g.graph["output"]
        self._aux_outputs = [b["exit"] for b in g.graph["blocks"].values() if b["kind"] == "aux"]
        for node, d in g.nodes(data=True):
            if node == INPUT:
                continue
            name = None
            if node in modules:
                name = _attach(self, node, modules[node])
            self._plan.append((node, name, d["type"] if d["kind"] == "merge" else None, tuple(d["inputs"]), d["aux"]))
        self._lookup = {}

    def forward(self, x):
        """The main output; in training mode with auxiliary heads, ``(output, [aux outputs])``."""
        values = {INPUT: x}
        for node, name, merge, inputs, aux in self._plan:
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
            values[node] = out
        if self.training and self._aux_outputs:
            return values[self._output], [values[n] for n in self._aux_outputs]
        return values[self._output]


def _attach(root: nn.Module, path: str, module: nn.Module) -> str:
    """Register ``module`` under a nested name mirroring the node path."""
    parts = path.split(".")
    here = root
    for part in parts[:-1]:
        if not hasattr(here, part) or part not in here._modules:
            here.add_module(part, nn.Module())
        here = here._modules[part]
    here.add_module(parts[-1], module)
    return path


# Layers that act on each channel (or each group of channels) alone, so that N towers
# can run as one grouped layer.  LRN mixes neighbouring channels across tower
# boundaries, so it is not here: put it after the towers' merge.
TOWER_SAFE = {"conv", "bn", "relu", "tanh", "sigmoid", "maxpool", "avgpool", "dropout", "identity", "scale", "zeropad"}
CONV_LIKE = {"conv", "sepconv", "maxpool", "avgpool"}


def _towers_of(g: nx.DiGraph, d: dict):
    """The innermost towers block around a node, or None."""
    for b in reversed(d["scope"]):
        if g.graph["blocks"][b]["kind"] == "towers":
            return b
    return None


def _show(shape) -> str:
    return "x".join(map(str, shape))


def _construct(g: nx.DiGraph, coll: Collector, verify: bool = False):
    """Build every node's module on the meta device (no memory) for its parameter
    count, and find every node's output shape.

    Shapes come from torch's own output-size formulas (:func:`out_shape`): a
    forward pass on the meta device gives the same answer but costs seconds
    (its first convolution imports sympy, its first linear layer torch._dynamo).
    ``verify=True`` runs that forward pass too and checks the two agree; the
    test-suite does so for every catalogue spec."""
    shapes, params, modules = {INPUT: tuple(g.graph["input"])}, {}, {}
    blocks = g.graph["blocks"]
    for node, d in g.nodes(data=True):
        if node == INPUT:
            continue
        ins = [shapes.get(i) for i in d["inputs"]]
        if any(s is None for s in ins):
            shapes[node] = None  # an upstream error was already reported
            continue
        where = d["loc"]
        if d["kind"] == "merge":
            shapes[node] = _merge_shape(d, ins, coll, where)
            continue
        shape = ins[0]
        towers, split = 1, False
        tb = _towers_of(g, d)
        if tb is not None:
            towers = blocks[tb]["count"]
            inside = tb in g.nodes[d["inputs"][0]]["scope"]
            split = blocks[tb]["split"] or inside
            if d["type"] not in TOWER_SAFE:
                coll.add(where, f"{d['type']} is not supported inside towers (use it after the towers merge)")
                shapes[node] = None
                continue
            if d["type"] == "conv" and d["params"]["groups"] != 1:
                coll.add(where, "a grouped conv inside towers is not supported: the towers are the groups")
                shapes[node] = None
                continue
            if split and shape[0] % towers:
                coll.add(where, f"{shape[0]} input channels cannot be split evenly across {towers} towers")
                shapes[node] = None
                continue
        problem = _precheck(d, shape)
        if problem:
            coll.add(where, f"{node}: {layer_type(d)}: {problem}")
            shapes[node] = None
            continue
        with torch.device("meta"):
            module = make_layer(d["type"], d["params"], shape, towers, split)
        modules[node] = (shape, towers, split)
        params[node] = sum(p.numel() for p in module.parameters())
        shapes[node] = out_shape(d["type"], d["params"], shape, towers)
        if verify and d["type"] not in SHAPE_PRESERVING:
            with torch.no_grad():
                ran = tuple(module(torch.empty((1, *shape), device="meta")).shape[1:])
            if ran != shapes[node]:  # a bug in out_shape, not a user error
                raise RuntimeError(f"{node}: shape formula gives {shapes[node]} but torch gives {ran}")
    return shapes, params, modules


def out_shape(type_: str, p: dict, shape: tuple, towers: int = 1) -> tuple:
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


def _precheck(d: dict, shape) -> str | None:
    """Catch the usual mistakes with a clearer message than torch's."""
    t, p = d["type"], d["params"]
    if t in CONV_LIKE or t in ("lrn", "zeropad", "gap") or (t == "bn" and len(shape) == 3):
        if len(shape) != 3:
            return f"needs a [channels, height, width] input, got the flat vector [{_show(shape)}]"
    if t in CONV_LIKE:
        pad = _pad(p["padding"], p["kernel"], p.get("dilation", (1, 1)))
        for size, k, pd, dl in zip(shape[1:], p["kernel"], pad, p.get("dilation", (1, 1))):
            if size + 2 * pd < dl * (k - 1) + 1:
                return f"kernel {_show(p['kernel'])} is larger than its input {_show(shape[1:])} (padding {_show(pad)})"
        if t in ("maxpool", "avgpool") and any(pd > k // 2 for pd, k in zip(pad, p["kernel"])):
            return f"padding {_show(pad)} is more than half the window {_show(p['kernel'])}"
        if t == "conv" and shape[0] % p["groups"]:
            return f"{shape[0]} input channels are not divisible by groups={p['groups']}"
    if t == "dense" and len(shape) != 1:
        return f"needs a flat input, got [{_show(shape)}]; put flatten or gap before it"
    return None


def _merge_shape(d: dict, ins: list, coll: Collector, where):
    if d.get("towers"):
        return ins[0]
    if d["type"] == "add":
        if len(set(ins)) != 1:
            coll.add(where, f"add: the branches give different shapes ({', '.join(_show(s) for s in ins)})")
            return None
        return ins[0]
    if len({s[1:] for s in ins}) != 1 or len({len(s) for s in ins}) != 1:
        coll.add(where, f"concat: the branches differ in size ({', '.join(_show(s) for s in ins)}); only channels may differ")
        return None
    return (sum(s[0] for s in ins), *ins[0][1:])


def infer(ref_or_graph, check: bool = True, verify: bool = False) -> Shapes:
    """Shapes and parameter counts of every node; raises SpecError listing every
    shape problem and every broken declared expectation.  ``verify`` also runs
    every shape-changing layer on the meta device and checks torch agrees."""
    g = as_graph(ref_or_graph)
    coll = Collector(g.graph["path"])
    shapes, params, _ = _construct(g, coll, verify)
    coll.raise_if_any()
    aux = sum(n for node, n in params.items() if g.nodes[node]["aux"])
    blocks = dict.fromkeys(g.graph["blocks"], 0)
    for node, n in params.items():
        for b in g.nodes[node]["scope"]:
            blocks[b] += n
    result = Shapes(shapes, params, sum(params.values()) - aux, aux, blocks)
    if check:
        _check_expect(g, result, coll)
        coll.raise_if_any()
    return result


def _check_expect(g: nx.DiGraph, r: Shapes, coll: Collector) -> None:
    expect, locs = g.graph["expect"], g.graph["expect_locs"]
    for key, have in (("params", r.total), ("params_aux", r.aux)):
        if key in expect and expect[key] != have:
            coll.add(locs[key], f"expect: {key} is {expect[key]:,} but the network has {have:,} ({have - expect[key]:+,})")
    out = r.shapes[g.graph["output"]]
    if "output" in expect and tuple(expect["output"]) != out:
        coll.add(locs["output"], f"expect: output is {_show(expect['output'])} but the network gives {_show(out)}")
    blocks = g.graph["blocks"]
    for name, want in expect.get("shapes", {}).items():
        node = blocks[name]["exit"] if name in blocks else _layer_exit(g, name)
        if node is None:
            coll.add(locs["shapes"][name], f"expect: shapes: no layer or block named '{name}'")
        elif r.shapes[node] != tuple(want):
            coll.add(locs["shapes"][name], f"expect: shapes: {name} is {_show(want)} but the network gives {_show(r.shapes[node])}")


def _layer_exit(g: nx.DiGraph, name: str):
    """A layer's last node (after any bn/activation folded into it)."""
    if name not in g:
        return None
    last = name
    for n, d in g.nodes(data=True):
        if d.get("folded_into") == name:
            last = n
    return last


def build_model(ref_or_graph) -> nn.Module:
    """A trainable ``torch.nn.Module`` for a catalogue id, a spec path or a graph.

    In eval mode ``model(x)`` returns the main output; in training mode a
    network with auxiliary heads returns ``(output, [aux outputs])``."""
    g = as_graph(ref_or_graph)
    coll = Collector(g.graph["path"])
    _, _, inputs = _construct(g, coll)
    coll.raise_if_any()
    modules = {node: make_layer(g.nodes[node]["type"], g.nodes[node]["params"], *args) for node, args in inputs.items()}
    return GraphNet(g, modules)
