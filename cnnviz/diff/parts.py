"""Graph → the tree of parts that the diff aligns.

A part is one item of a layer list as the spec wrote it: a layer (with the
batch norm and activation folded into it), a module instance, a branches
block, one branch of it, a towers block or an auxiliary head.  A repeated item
is one part with ``repeat`` > 1 whose body is its first copy (the copies are
identical).

Each part knows its graph ``path`` (a node id for a layer, a block id
otherwise) and, when shapes are given, its parameter count (all copies) and
output shape, so that every level of the diff can report deltas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..graph import INPUT

WEIGHTED = ("conv", "sepconv", "dense")


class Alt(tuple):
    """The values one setting takes across the variants of a run (``32/64``)."""


def value_text(v) -> str:
    if isinstance(v, Alt):
        return "/".join(value_text(x) for x in v)
    if isinstance(v, tuple):
        return "x".join(map(str, v))
    if isinstance(v, bool):
        return "on" if v else "off"
    return str(v)


def layer_text(type_: str, p: dict) -> str:
    """``conv 64 3x3 /2``: the layer as a spec line would write it."""
    bits = [type_]
    for key in ("filters", "units"):
        if key in p:
            bits.append(value_text(p[key]))
    if "kernel" in p:
        bits.append(value_text(p["kernel"]))
    stride = p.get("stride")
    if stride and stride != (1, 1) and stride != p.get("kernel"):
        same = not isinstance(stride, Alt) and stride[0] == stride[1]
        bits.append("/" + (str(stride[0]) if same else value_text(stride)))
    if p.get("groups", 1) != 1:
        bits.append(f"groups={value_text(p['groups'])}")
    return " ".join(bits)


def part_label(kind: str, type_: str, settings: dict, body: list) -> str:
    """The text a diagram prints for a part other than a module (whose label the spec gives)."""
    if kind == "layer":
        return layer_text(type_, settings)
    if kind == "branches":
        return f"{type_} of {len(body)} branches"
    if kind == "branch":
        return ", ".join(p.label + (f" ×{p.repeat}" if p.repeat > 1 else "") for p in body) or "identity"
    if kind == "towers":
        return f"{value_text(settings['count'])} towers" + (" (split input)" if settings["split"] is True else "")
    return "auxiliary classifier"


@dataclass(eq=False)
class Part:
    kind: str  # layer | module | branches | branch | towers | aux
    path: str
    type: str  # layer type; module name; "concat"/"add"; "branch"; "towers"; "aux"
    label: str  # what a diagram prints: module label, layer text, "concat of 4 branches"…
    settings: dict  # layer params; module args; {"count", "split"} for towers; {} otherwise
    body: list["Part"]  # the items inside; a branches block's body is its branches
    repeat: int = 1
    params: int = 0
    output: tuple | None = None
    weighted: int = 0  # conv/sepconv/dense layers inside, all copies
    named: bool = False  # the spec gave this part its name (@conv4)
    cached_key: object = field(default=None, repr=False)

    def key(self):
        """Everything structural except names and labels: equal keys mean identical parts."""
        if self.cached_key is None:
            settings = () if self.kind == "module" else tuple(sorted(self.settings.items()))
            name = "" if self.kind == "module" else self.type
            self.cached_key = (self.kind, name, self.repeat, settings, tuple(p.key() for p in self.body))
        return self.cached_key


def parts_of(g: nx.DiGraph, shapes=None) -> list[Part]:
    """The top-level parts in execution order (aux heads included where they branch off)."""
    return _Tree(g, shapes).seq(None)


class _Tree:
    def __init__(self, g: nx.DiGraph, shapes):
        self.g = g
        self.blocks = g.graph["blocks"]
        self.shapes = shapes
        self.children: dict = {}  # container (block id or None) -> ordered child ids
        self.params: dict = {}  # block id or layer node -> parameters
        self.weighted: dict = {}
        self.last: dict = {}  # layer node -> its last folded node, whose output is the layer's
        for node, d in g.nodes(data=True):
            if node == INPUT:
                continue
            own = d.get("folded_into") or node
            n = shapes.params.get(node, 0) if shapes else 0
            w = 1 if d["type"] in WEIGHTED else 0
            for b in (*d["scope"], own):
                self.params[b] = self.params.get(b, 0) + n
                self.weighted[b] = self.weighted.get(b, 0) + w
            self.last[own] = node
            if d["kind"] == "merge" or d.get("folded_into"):
                continue
            chain = (None, *d["scope"], node)
            for outer, inner in zip(chain, chain[1:]):
                self.children.setdefault(outer, {})[inner] = None

    def seq(self, container) -> list[Part]:
        return [self.part(c) for c in self.children.get(container, {}) if self.blocks.get(c, {}).get("kind") != "branch"]

    def part(self, ident: str) -> Part:
        b = self.blocks.get(ident)
        if b is None:  # a layer node
            d = self.g.nodes[ident]
            made = Part("layer", ident, d["type"], layer_text(d["type"], d["params"]), dict(d["params"]), [])
            return self.annotate(made, ident, self.last[ident])
        kind = b["kind"]
        if kind == "repeat":
            made = self.part(f"{ident}.1")
            made.path, made.repeat = ident, b["count"]
        elif kind == "call":
            made = Part("module", ident, b["module"], b["label"], dict(b["args"]), self.seq(ident))
        elif kind == "branches":
            body = [self.branch(f"{ident}.b{j}") for j in range(1, b["count"] + 1)]
            made = Part("branches", ident, b["merge"], part_label("branches", b["merge"], {}, body), {}, body)
        elif kind == "towers":
            settings = {"count": b["count"], "split": b["split"]}
            made = Part("towers", ident, "towers", part_label("towers", "towers", settings, []), settings, self.seq(ident))
        else:
            made = Part("aux", ident, "aux", part_label("aux", "aux", {}, []), {}, self.seq(ident))
        return self.annotate(made, ident, b["exit"])

    def branch(self, ident: str) -> Part:
        body = self.seq(ident)
        made = Part("branch", ident, "branch", part_label("branch", "branch", {}, body), {}, body)
        return self.annotate(made, ident, self.blocks[ident]["exit"])

    def annotate(self, part: Part, ident: str, exit_node: str) -> Part:
        part.params = self.params.get(ident, 0)
        part.weighted = self.weighted.get(ident, 0)
        part.named = (self.blocks[ident] if ident in self.blocks else self.g.nodes[ident]).get("named", False)
        if self.shapes is not None:
            part.output = self.shapes.shapes.get(exit_node)
        return part
