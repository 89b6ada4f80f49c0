"""Network (+ optional shapes) → :class:`View`: the main line and one panel per module type.

Pure: :func:`build` reads the :class:`~cnnviz.model.Network` and returns new
view graphs (see :mod:`.collapse`); nothing here knows about DOT or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .. import present
from ..model import Network, Path, Shapes
from . import style
from .collapse import COMPACT, DETAILS, FULL, collapse
from .runs import Inside, Runs, inside, runs


@dataclass(frozen=True)
class Part:
    """One piece laid out on its own: the main line, or the inside of one module."""

    key: str  # "main", or the module name (with "~2", "~3" for variants)
    title: str  # "" for the main line
    graph: nx.DiGraph
    block: Path | None = None  # the module instance drawn


@dataclass(frozen=True)
class View:
    id: str
    name: str
    year: int | None
    params: int | None  # main-line parameters
    params_aux: int
    input: tuple
    detail: str
    aux: bool
    parts: tuple[Part, ...]
    legend: tuple[str, ...]  # categories present, in the style table's order
    marks: tuple[str, ...] = field(default=())  # "towers", "aux" when drawn

    @property
    def main(self) -> Part:
        return self.parts[0]

    @property
    def panels(self) -> tuple[Part, ...]:
        return self.parts[1:]


def build(net: Network, detail: str = COMPACT, aux: bool = True, shapes: Shapes | None = None) -> View:
    """The whole picture as data.  ``shapes`` (from :func:`cnnviz.shapes.infer`) adds
    parameter counts to boxes and tensor shapes to edges."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    within = inside(net) if detail != FULL else None  # each block's nodes, for its panel
    run = runs(net, aux, within) if detail != FULL else None  # which instances fold: the same for every part
    main = collapse(net, None, detail, aux, run)
    parts = [Part("main", "", main)]
    if detail != FULL:
        parts += _panels(net, [main], aux, run, within)
    for part in parts:
        _distinguish(part.graph)
    if shapes is not None:
        for part in parts:
            _annotate(net, part.graph, shapes)
    cats, marks = set(), set()
    for part in parts:
        for _, d in part.graph.nodes(data=True):
            if d["kind"] not in ("port", "input"):  # the input box explains itself
                cats.add(d["category"])
            if d.get("aux"):
                marks.add("aux")
        for c in part.graph.graph["clusters"].values():
            if c["kind"] == "towers":
                marks.add("towers")
    expect = net.expect
    params: int | None
    if shapes is not None:
        params, params_aux = shapes.total, shapes.aux
    elif net.catalogue:  # declared counts, which the test-suite checks against the shape pass
        params, params_aux = expect.get("params"), expect.get("params_aux", 0)
    else:  # a user's declared count is unchecked without the shape pass: show none rather than a wrong one
        params, params_aux = None, 0
    return View(
        id=net.id,
        name=net.name,
        year=net.meta.get("year"),
        params=params,
        params_aux=params_aux or 0,
        input=tuple(net.input),
        detail=detail,
        aux=aux,
        parts=tuple(parts),
        legend=tuple(style.legend_order(cats)),
        marks=tuple(m for m in ("towers", "aux") if m in marks),
    )


def _signature(v: nx.DiGraph) -> tuple:
    clusters = v.graph["clusters"]
    nodes = tuple(
        (n, d["kind"], d["type"], d["title"], d["detail"], d["count"], clusters[d["cluster"]]["label"] if d.get("cluster") else None)
        for n, d in v.nodes(data=True)
    )
    return nodes, tuple(v.edges)


def _panels(net: Network, todo: list[nx.DiGraph], aux: bool, run: Runs | None, within: Inside | None = None) -> list[Part]:
    """One panel per module type (per variant, when instances draw differently), in order of appearance."""
    blocks = net.blocks
    graphs = list(todo)
    panel_of: dict[tuple, str] = {}  # (module, args) -> panel key
    variants: dict[str, dict[tuple, Part]] = {}  # module -> its panels by what they draw
    order: list[Part] = []
    while todo:
        v = todo.pop(0)
        for _n, d in v.nodes(data=True):
            if d["kind"] != "module":
                continue
            for b in d["members"]:
                args_key = (d["type"], repr(sorted((k, repr(x)) for k, x in blocks[b].args.items())))
                if args_key not in panel_of:
                    drawn = collapse(net, b, COMPACT, aux, run, within)
                    sig = _signature(drawn)
                    have = variants.setdefault(d["type"], {})
                    match = have.get(sig)
                    if match is None:
                        key = d["type"] if not have else f"{d['type']}~{len(have) + 1}"
                        match = Part(key, blocks[b].label, drawn, b)
                        have[sig] = match
                        order.append(match)
                        todo.append(drawn)
                        graphs.append(drawn)
                    panel_of[args_key] = match.key
                d.setdefault("panels", [])
                if panel_of[args_key] not in d["panels"]:
                    d["panels"].append(panel_of[args_key])
    # Variants of one module that share a title get a tag, on the panel and on the boxes it draws.
    tags: dict[str, str] = {}
    for _module, have in variants.items():
        parts = list(have.values())
        if len(parts) > 1 and len({p.title for p in parts}) < len(parts):
            diff = _differing([blocks[p.block].args for p in parts if p.block is not None])
            for i, p in enumerate(parts):
                tags[p.key] = diff[i] if diff else f"variant {i + 1}"
    out = []
    for part in order:
        if part.key in tags:
            part = Part(part.key, f"{part.title} ({tags[part.key]})", part.graph, part.block)
        out.append(part)
    for graph in graphs:
        _tag_boxes(graph, tags)
    return out


def _tag_boxes(v: nx.DiGraph, tags: dict) -> None:
    for _, d in v.nodes(data=True):
        if d["kind"] == "module" and d.get("panels"):
            found = [tags[k] for k in d["panels"] if k in tags]
            if found:
                d["detail"] = found[0]
                d["tagged"] = True


def _fmt_arg(x) -> str:
    if isinstance(x, (tuple, list)) and len(x) == 2 and x[0] == x[1]:
        return str(x[0])
    if isinstance(x, (tuple, list)):
        return "×".join(str(i) for i in x)
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _differing(arg_sets: list, most: int = 2, width: int = 24) -> list[str] | None:
    """Short texts telling instances apart by the arguments that differ, or None when
    too many differ to say it briefly."""
    keys = sorted({k for a in arg_sets for k in a})
    differ = [k for k in keys if len({repr(a.get(k)) for a in arg_sets}) > 1]
    if not differ or len(differ) > most:
        return None
    texts = [", ".join(f"{k} {_fmt_arg(a.get(k))}" for k in differ) for a in arg_sets]
    if max(len(t) for t in texts) > width:
        return None
    return texts


def _distinguish(v: nx.DiGraph) -> None:
    """Neighbouring boxes of one module with different arguments say how they differ
    ("pool 32" | "pool 64 ×2"), so two same-named boxes never look like a missed fold."""
    for s, t in v.edges:
        a, b = v.nodes[s], v.nodes[t]
        if a["kind"] != "module" or b["kind"] != "module" or a["title"] != b["title"] or a.get("tagged") or b.get("tagged"):
            continue
        texts = _differing([a["args"], b["args"]])
        if texts:
            a["detail"], b["detail"] = texts


def _annotate(net: Network, v: nx.DiGraph, shapes: Shapes) -> None:
    """Parameter counts on boxes, tensor shapes on edges (in place on a fresh view).

    A box counts what it stands for, once: a module box its call blocks (a folded
    run's are disjoint), a layer box every network node among its members, which
    already include the batch norm folded into a conv (the full view draws that
    batch norm as a box of its own, with its own count)."""
    for _n, d in v.nodes(data=True):
        if d["kind"] == "module":
            d["nparams"] = sum(shapes.item_params(net, b) for b in d["members"])
        elif d["kind"] == "layer":
            d["nparams"] = sum(shapes.params.get(x, 0) for x in d["members"])
    for _, _, e in v.edges(data=True):
        shape = shapes.shapes.get(e["via"])
        if shape is not None:
            e["shape"] = tuple(shape)


def as_json(view: View) -> dict:
    """The collapsed graph as plain data (the ``--format json`` output)."""

    def part(p: Part) -> dict:
        v = p.graph
        nodes = []
        for n, d in v.nodes(data=True):
            item = {"id": n, "kind": d["kind"], "type": d["type"], "label": d["title"]}
            if d["detail"]:
                item["detail"] = d["detail"]
            if d["count"] > 1:
                item["count"] = d["count"]
            if d.get("cluster"):
                item["cluster"] = d["cluster"]
            if d.get("aux"):
                item["aux"] = True
            if d.get("panels"):
                item["panels"] = list(d["panels"])
            if "nparams" in d:
                item["params"] = d["nparams"]
            if d["kind"] == "module":
                item["args"] = {k: _plain(x) for k, x in sorted(d["args"].items())}
            item["members"] = [str(m) for m in d["members"]]
            nodes.append(item)
        edges = []
        for s, t, e in v.edges(data=True):
            item = {"from": s, "to": t}
            if e.get("aux"):
                item["aux"] = True
            if e.get("skip"):
                item["skip"] = True  # from a branch that starts from an earlier item (``from NAME``)
            if e.get("shape"):
                item["shape"] = list(e["shape"])
            edges.append(item)
        clusters = {c: {k: _plain(x) for k, x in info.items()} for c, info in v.graph["clusters"].items()}
        out = {"key": p.key, "title": p.title, "nodes": nodes, "edges": edges, "clusters": clusters}
        if p.block:
            out["instance"] = str(p.block)
        return out

    return {
        "id": view.id,
        "name": view.name,
        "year": view.year,
        "params": view.params,
        "params_aux": view.params_aux,
        "input": list(view.input),
        "detail": view.detail,
        "main": part(view.main),
        "panels": [part(p) for p in view.panels],
        "legend": [{"category": c, "name": style.swatch(c).legend, "fill": style.swatch(c).fill} for c in view.legend],
    }


def _plain(x: Any) -> Any:
    if isinstance(x, tuple):
        return list(x)
    if isinstance(x, Path):
        return str(x)
    return x


def subtitle(view: View) -> str:
    """'2015 · 25.6M parameters · input 3×224×224' (what is known)."""
    bits = []
    if view.year:
        bits.append(str(view.year))
    if view.params is not None:
        aux = f" (+{present.count(view.params_aux)} aux)" if view.params_aux and view.aux else ""
        bits.append(f"{present.count(view.params)} parameters{aux}")
    if view.input:
        bits.append(f"input {present.shape(view.input)}")
    return " · ".join(bits)
