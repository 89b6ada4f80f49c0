"""Network → the tree of parts that the diff aligns.

A part is one item of a layer list as the spec wrote it: a layer (with the
batch norm and activation folded into it), a module instance, a branches
block, one branch of it, a towers block, an auxiliary head or an extra output.  A repeated item
is one part with ``repeat`` > 1 whose body is its first copy (the copies are
identical).

Each part knows its :class:`~cnnviz.model.Path` (a layer node's, or a
block's: for a repeated item the repeat block's) and, when shapes are given,
its parameter count (all copies) and output shape, so that every level of the
diff can report deltas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import present
from ..model import WEIGHTED, Network, Path, Shapes


class Alt(tuple):
    """The values one setting takes across the variants of a run (``32/64``)."""


def value_text(v) -> str:
    """A setting's value as the diff writes it: the presentation layer's, or ``32/64`` for an :class:`Alt`."""
    if isinstance(v, Alt):
        return "/".join(value_text(x) for x in v)
    return present.setting(v)


def layer_text(type_: str, p: Mapping[str, Any]) -> str:
    """``conv 64 3×3 /2``: the layer as a spec line would write it."""
    return present.layer_line(type_, p, value=value_text)


def part_label(kind: str, type_: str, settings: dict, body: list) -> str:
    """The text a diagram prints for a part other than a module (whose label the spec gives)."""
    if kind == "layer":
        return layer_text(type_, settings)
    if kind == "branches":
        return f"{type_} of {len(body)} branches"
    if kind == "branch":
        start = [f"from {value_text(settings['from'])}"] if "from" in settings else []  # a skip: ``from enc1``
        return ", ".join(start + [p.label + (f" ×{p.repeat}" if p.repeat > 1 else "") for p in body]) or "identity"
    if kind == "towers":
        return f"{value_text(settings['count'])} towers" + (" (split input)" if settings["split"] is True else "")
    if kind == "output":
        return f"output {value_text(settings['name'])}"
    return "auxiliary classifier"


COMMUTATIVE = ("add", "mul")  # merges whose branch order does not change what they compute


@dataclass(eq=False)
class Part:
    kind: str  # layer | module | branches | branch | towers | aux | output
    path: Path
    type: str  # layer type; module name; "concat"/"add"; "branch"; "towers"; "aux"; "output"
    label: str  # what a diagram prints: module label, layer text, "concat of 4 branches"…
    settings: dict  # layer params; module args; {"count", "split"} for towers; {"name"} for an output (what a built model calls it); {} otherwise
    body: list[Part]  # the items inside; a branches block's body is its branches
    repeat: int = 1
    params: int = 0
    output: tuple | None = None
    weighted: int = 0  # conv/sepconv/dense layers inside, all copies
    named: bool = False  # the spec gave this part its name (@conv4)
    cached_key: object = field(default=None, repr=False)
    cached_names: object = field(default=None, repr=False)

    def key(self):
        """Everything structural except names and labels: equal keys mean identical parts."""
        if self.cached_key is None:
            settings = () if self.kind == "module" else tuple(sorted(self.settings.items()))
            name = "" if self.kind == "module" else self.type
            self.cached_key = (self.kind, name, self.repeat, settings, tuple(p.key() for p in self.body))
        return self.cached_key

    def names(self):
        """The module names and labels, at every depth, that :meth:`key` leaves out: parts
        with equal keys and other names are *renamed*."""
        if self.cached_names is None:
            own = (self.type, self.label) if self.kind == "module" else ()
            self.cached_names = (own, tuple(p.names() for p in self.body))
        return self.cached_names


def parts_of(net: Network, shapes: Shapes | None = None) -> list[Part]:
    """The top-level parts in execution order (aux heads included where they branch off)."""
    return _Tree(net, shapes).seq(None)


class _Tree:
    def __init__(self, net: Network, shapes: Shapes | None):
        self.net = net
        self.shapes = shapes
        self.weighted: dict[Path, int] = {}  # block or layer -> weighted layers inside, all copies
        for node in net.layers():
            if node.type in WEIGHTED and node.folded_into is None:
                for p in (*node.scope, node.path):
                    self.weighted[p] = self.weighted.get(p, 0) + 1

    def seq(self, container: Path | None) -> list[Part]:
        return [self.part(p) for p in self.net.children(container)]

    def part(self, path: Path) -> Part:
        b = self.net.blocks.get(path)
        if b is None:  # a layer node
            n = self.net.nodes[path]
            made = Part("layer", path, n.type, layer_text(n.type, n.params), dict(n.params), [], named=n.named)
            return self.annotate(made)
        if b.kind == "repeat":
            made = self.part(path.copy(1))
            made.path, made.repeat = path, b.count
        elif b.kind == "call":
            made = Part("module", path, b.module, b.label, dict(b.args), self.seq(path))
        elif b.kind == "branches":
            body = [self.part(br) for br in b.children]
            if b.merge in COMMUTATIVE:  # add: [identity, X] is add: [X, identity]
                body.sort(key=lambda br: repr(br.key()))
            made = Part("branches", path, b.merge, part_label("branches", b.merge, {}, body), {}, body)
        elif b.kind == "branch":
            body = self.seq(path)
            start = {"from": b.ref.name} if b.ref is not None else {}
            made = Part("branch", path, "branch", part_label("branch", "branch", start, body), start, body)
        elif b.kind == "towers":
            settings = {"count": b.count, "split": b.split}
            made = Part("towers", path, "towers", part_label("towers", "towers", settings, []), settings, self.seq(path))
        elif b.kind == "output":
            named = {"name": path.name}
            made = Part("output", path, "output", part_label("output", "output", named, []), named, self.seq(path))
        else:
            made = Part("aux", path, "aux", part_label("aux", "aux", {}, []), {}, self.seq(path))
        made.named = b.named
        return self.annotate(made)

    def annotate(self, part: Part) -> Part:
        part.weighted = self.weighted.get(part.path, 0)
        if self.shapes is not None:
            part.params = self.shapes.item_params(self.net, part.path)
            part.output = self.shapes.shapes.get(self.net.item_exit(part.path))
        return part
