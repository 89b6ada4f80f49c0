"""Spec → a networkx graph that keeps the hierarchy.

Nodes are the leaf layers, the merge points (``concat``/``add``) and ``input``.
Node ids are dotted paths built from item names (``conv3_1.add1.b1.conv2``), so
they are stable and deterministic; ``named`` tells a name written in the spec
(``@conv4``) from a made-up one (``conv3``).  Nodes are added in execution order, so
``list(g)`` is a topological order.

``g.graph["blocks"]`` describes every enclosing structure by the same kind of
path: module calls, repeats, branches, towers and auxiliary heads, each with
its parent, entry and exit node.  Every node's ``scope`` lists the blocks it is
inside, outermost first, so a later stage can collapse any block to one box.

A conv (or dense) written with ``bn``/``act`` becomes the layer node plus a
``<path>_bn`` and ``<path>_<act>`` node marked ``folded_into`` the layer, so that
the full view shows them and the compact view folds them back.
"""

from __future__ import annotations

import os

import networkx as nx

from .spec import load_spec
from .spec.model import Aux, Branches, Call, Item, Layer, Spec, Towers

INPUT = "input"


def build_graph(spec: Spec) -> nx.DiGraph:
    g = nx.DiGraph(
        id=spec.id,
        name=spec.name,
        path=spec.path,
        input=spec.input,
        meta=spec.meta,
        expect=spec.expect,
        expect_locs=spec.expect_locs,
        modules=spec.modules,
        catalogue=spec.catalogue,
        blocks={},
    )
    g.add_node(INPUT, kind="input", type="input", path=INPUT, scope=(), aux=False, inputs=[], loc=spec.loc)
    g.graph["output"] = _Builder(g).seq(spec.body, "", INPUT, (), False)
    return g


def as_graph(arch) -> nx.DiGraph:
    """A catalogue id, a spec path, a Spec or an already built graph → the graph."""
    if isinstance(arch, nx.DiGraph):
        return arch
    if isinstance(arch, Spec):
        return build_graph(arch)
    if isinstance(arch, (str, os.PathLike)):
        return build_graph(load_spec(os.fspath(arch)))
    raise TypeError(f"expected a catalogue id, a spec path, a Spec or a graph, not {type(arch).__name__}")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class _Builder:
    def __init__(self, g: nx.DiGraph):
        self.g = g
        self.blocks = g.graph["blocks"]

    def seq(self, items: list[Item], prefix: str, src: str, scope: tuple, aux: bool) -> str:
        for item in items:
            src = self.item(item, _join(prefix, item.name), src, scope, aux)
        return src

    def block(self, path: str, kind: str, item: Item, src: str, scope: tuple, **info) -> tuple:
        self.blocks[path] = {
            "kind": kind,
            "name": item.name,
            "named": item.named,
            "parent": scope[-1] if scope else None,
            "loc": item.loc,
            "entry": src,
            **info,
        }
        return (*scope, path)

    def item(self, item: Item, path: str, src: str, scope: tuple, aux: bool) -> str:
        if item.repeat > 1:
            inner = self.block(path, "repeat", item, src, scope, count=item.repeat)
            for i in range(1, item.repeat + 1):
                src = self.one(item, f"{path}.{i}", src, inner, aux, index=i)
            self.blocks[path]["exit"] = src
            return src
        return self.one(item, path, src, scope, aux)

    def one(self, item: Item, path: str, src: str, scope: tuple, aux: bool, index: int = 0) -> str:
        if isinstance(item, Layer):
            return self.layer(item, path, src, scope, aux)
        if isinstance(item, Call):
            inner = self.block(path, "call", item, src, scope, module=item.module, label=item.label, args=item.args, index=index)
            out = self.seq(item.body, path, src, inner, aux)
        elif isinstance(item, Branches):
            inner = self.block(path, "branches", item, src, scope, merge=item.merge, count=len(item.branches), index=index)
            ends = []
            for j, branch in enumerate(item.branches, 1):
                bpath = f"{path}.b{j}"
                self.blocks[bpath] = {"kind": "branch", "name": f"b{j}", "parent": path, "loc": item.loc, "entry": src}
                end = self.seq(branch, bpath, src, (*inner, bpath), aux)
                self.blocks[bpath]["exit"] = end
                ends.append(end)
            out = self.merge(f"{path}.{item.merge}", item.merge, ends, inner, aux, item)
        elif isinstance(item, Towers):
            inner = self.block(path, "towers", item, src, scope, count=item.count, split=item.split, index=index)
            end = self.seq(item.body, path, src, inner, aux)
            out = self.merge(f"{path}.concat", "concat", [end], inner, aux, item, towers=item.count)
        elif isinstance(item, Aux):
            inner = self.block(path, "aux", item, src, scope, index=index)
            self.blocks[path]["exit"] = self.seq(item.body, path, src, inner, True)
            return src  # the main line carries on from where the head branched off
        else:  # pragma: no cover - the spec stage only makes the kinds above
            raise TypeError(type(item).__name__)
        self.blocks[path]["exit"] = out
        return out

    def node(self, path: str, inputs: list[str], **attrs) -> str:
        self.g.add_node(path, path=path, inputs=list(inputs), **attrs)
        for src in inputs:
            self.g.add_edge(src, path)
        return path

    def layer(self, item: Layer, path: str, src: str, scope: tuple, aux: bool) -> str:
        p = item.params
        common = {"kind": "layer", "scope": scope, "aux": aux, "loc": item.loc}
        out = self.node(path, [src], type=item.type, params=p, name=item.name, named=item.named, **common)
        if p.get("bn"):
            out = self.node(f"{path}_bn", [out], type="bn", params={"eps": p["eps"]}, name=f"{item.name}_bn", folded_into=path, **common)
        act = p.get("act", "none")
        if act != "none":
            out = self.node(f"{path}_{act}", [out], type=act, params={}, name=f"{item.name}_{act}", folded_into=path, **common)
        return out

    def merge(self, path: str, op: str, inputs: list[str], scope: tuple, aux: bool, item: Item, **extra) -> str:
        return self.node(path, inputs, kind="merge", type=op, params={}, name=op, scope=scope, aux=aux, loc=item.loc, **extra)


def leaf_count(g: nx.DiGraph, types: tuple[str, ...] = ("conv", "sepconv", "dense")) -> int:
    """The depth in weighted layers along the longest path of the main line (aux heads excluded)."""
    best: dict[str, int] = {}
    for n, d in g.nodes(data=True):
        if d.get("aux"):
            continue
        here = 1 if d.get("type") in types else 0
        best[n] = here + max((best[i] for i in d["inputs"] if i in best), default=0)
    return best.get(g.graph["output"], 0)
