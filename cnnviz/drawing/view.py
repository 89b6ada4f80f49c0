"""Network (+ optional shapes) → :class:`View`: the main line and one panel per module type.

Pure: :func:`build` reads the :class:`~cnnviz.model.Network` and returns new
view graphs (see :mod:`.collapse`); nothing here knows about DOT or files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .. import present
from ..model import Network, Path, Shapes
from . import naming, style
from .collapse import COMPACT, DETAILS, FULL, collapse
from .runs import Inside, Runs, inside, runs
from .widths import Widths, channels, measure


@dataclass(frozen=True)
class Part:
    """One piece laid out on its own: the main line, or the inside of one module."""

    key: str  # "main", or the module name (with "~2", "~3" for variants)
    title: str  # "" for the main line
    graph: nx.DiGraph
    block: Path | None = None  # the module instance drawn
    calls: tuple[Path, ...] = ()  # every module instance the panel stands for (``block`` among them)


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
    params_declared: bool = False  # params is the spec's unchecked ``expect: params``, not measured

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
    widths = shapes.shapes if shapes is not None else measure(net)  # what boxes say of widths and groups
    main = collapse(net, None, detail, aux, run, within, widths)
    parts = [Part("main", "", main)]
    if detail != FULL:
        parts += _panels(net, [main], aux, run, within, widths)
    if shapes is not None:
        for part in parts:
            _annotate(net, part, shapes)
    cats, marks = set(), set()
    for part in parts:
        for _, d in part.graph.nodes(data=True):
            if d["kind"] not in ("port", "input", "output"):  # the input and output boxes explain themselves
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
    else:  # declared counts: the catalogue's are checked by the test-suite, an imported model's were counted on it, a user's are marked
        params, params_aux = expect.get("params"), expect.get("params_aux", 0)
    declared = shapes is None and params is not None and not net.counts_known
    return View(
        id=net.id,
        name=net.name,
        year=net.meta.get("year"),
        params=params,
        params_aux=params_aux or 0,
        params_declared=declared,
        input=tuple(net.input),
        detail=detail,
        aux=aux,
        parts=tuple(parts),
        legend=tuple(style.legend_order(cats)),
        marks=tuple(m for m in ("towers", "aux") if m in marks),
    )


def _activation(v: nx.DiGraph) -> str:
    """The one activation a panel's convs use (its title: "Hard swish"), or ""."""
    acts = {d["act"] for _, d in v.nodes(data=True) if d.get("act") and d["act"] != "linear"}
    return style.title(acts.pop()) if len(acts) == 1 else ""


def _signature(v: nx.DiGraph) -> tuple:
    """What a panel draws; two instances with different activations on their convs draw
    different panels, even where the panel's own tags would not tell them apart."""
    clusters = v.graph["clusters"]
    nodes = tuple(
        (n, d["kind"], d["type"], d["title"], d["detail"], d["count"], d.get("act"), clusters[d["cluster"]]["label"] if d.get("cluster") else None)
        for n, d in v.nodes(data=True)
    )
    return nodes, tuple(v.edges)


def _panels(net: Network, todo: list[nx.DiGraph], aux: bool, run: Runs | None, within: Inside | None, widths: Widths) -> list[Part]:
    """One panel per module type (per variant, when instances draw differently), in order of
    appearance; variants are named by what differs, and every module box says its width and
    its own call's distinguishing arguments (:mod:`.naming`)."""
    blocks = net.blocks
    graphs = list(todo)
    panel_of: dict[Path, Part] = {}  # call block -> the panel drawing it
    variants: dict[str, dict[tuple, Part]] = {}  # module -> its panels by what they draw
    order: list[Part] = []
    drawn_for: dict[tuple, Part] = {}  # (module, args) -> panel: one collapse per argument set
    while todo:
        v = todo.pop(0)
        for _n, d in v.nodes(data=True):
            if d["kind"] != "module":
                continue
            for b in d["members"]:
                args_key = (d["type"], repr(list(blocks[b].args.items())))
                match = drawn_for.get(args_key)
                if match is None:
                    drawn = collapse(net, b, COMPACT, aux, run, within, widths)
                    have = variants.setdefault(d["type"], {})
                    match = have.get(_signature(drawn))
                    if match is None:
                        key = d["type"] if not have else f"{d['type']}~{len(have) + 1}"
                        match = have[_signature(drawn)] = Part(key, blocks[b].label, drawn, b)
                        order.append(match)
                        todo.append(drawn)
                        graphs.append(drawn)
                    drawn_for[args_key] = match
                panel_of[b] = match
                d.setdefault("panels", [])
                if match.key not in d["panels"]:
                    d["panels"].append(match.key)
    titles: dict[str, str] = {}  # panel key -> its title, where a module has variants
    named: dict[str, tuple[str, ...]] = {}  # module -> the arguments naming its panels
    tags: dict[str, str] = {}  # panel key -> the activation it draws, where that tells variants apart
    calls_of: dict[str, list[Path]] = {}  # panel key -> the calls it draws
    for b, p in panel_of.items():
        calls_of.setdefault(p.key, []).append(b)
    for module, have in variants.items():
        parts = list(have.values())
        if len(parts) > 1 and len({p.title for p in parts}) < len(parts):
            groups = [[blocks[b].args for b in calls_of[part.key]] for part in parts]
            drawn = [_activation(p.graph) for p in parts]
            titles.update(zip((p.key for p in parts), naming.variant_titles(parts[0].title, groups, drawn)))
            named[module] = naming.variant_keys(groups, drawn)
            if len(set(drawn)) > 1:
                tags.update(zip((p.key for p in parts), drawn))
    shown = naming.differing(net, widths, named)
    drawing = {id(p.graph): (p.block, calls_of.get(p.key, [])) for p in order}  # a panel's graph -> (the call drawn, every call it stands for)
    for graph in graphs:
        drawn_call, stands_for = drawing.get(id(graph), (None, []))
        for _, d in graph.nodes(data=True):
            if d["kind"] == "module":
                tag = tags.get(d["panels"][0], "") if d.get("panels") else ""
                first = blocks[d["members"][0]]  # a run ×N: how much each of its calls shrinks
                shrink = naming.shrink_text(widths.get(first.entry), widths.get(first.exit))
                agreed = _agreed(d, drawn_call, stands_for, lambda ms: channels(widths, blocks[ms[-1]].exit))
                width = d["width"] if agreed else None  # an SE used at 240, 144 and 576 channels: none, not the first call's
                d["detail"] = naming.box_detail(width, d["args"], shown.get(d["type"], ()), tag, shrink)
    shared = Counter(next(iter(have.values())).title for have in variants.values())  # label -> modules that have it
    out = []
    for p in order:
        title = titles.get(p.key, p.title)
        if shared[p.title] > 1 and p.block is not None:  # another module has this label too: say which module
            title = f"{p.title} ({blocks[p.block].module}){title[len(p.title) :]}"
        out.append(Part(p.key, title, p.graph, p.block, tuple(calls_of.get(p.key, ()))))
    return out


def _agreed(d: dict, drawn: Path | None, calls: Sequence[Path], value: Callable[[list[Path]], object]) -> bool:
    """Whether what ``value`` says of a box's members is the same in every call its panel
    stands for (``drawn`` being the one drawn; None outside panels): a panel claims for its
    boxes only what holds for all of them."""
    if drawn is None:
        return True
    own = value(list(d["members"]))
    return all(value([m.rebase(drawn, c) for m in d["members"]]) == own for c in calls if c != drawn)


def _annotate(net: Network, part: Part, shapes: Shapes) -> None:
    """Parameter counts on boxes, tensor shapes on edges (in place on a fresh view).

    A box counts what it stands for, once: a module box its call blocks (a folded
    run's are disjoint), a layer box every network node among its members, which
    already include the batch norm folded into a conv (the full view draws that
    batch norm as a box of its own, with its own count).  In a panel, a box whose
    count differs between the calls the panel stands for gets none (it would be
    the first call's)."""

    def blocks_count(members: list[Path]) -> int:
        return sum(shapes.item_params(net, b) for b in members)

    def nodes_count(members: list[Path]) -> int:
        return sum(shapes.params.get(x, 0) for x in members)

    v = part.graph
    for _n, d in v.nodes(data=True):
        if d["kind"] not in ("module", "layer"):
            continue
        count = blocks_count if d["kind"] == "module" else nodes_count
        if _agreed(d, part.block, part.calls, count):
            d["nparams"] = count(list(d["members"]))
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
                item["args"] = {k: _plain(x) for k, x in d["args"].items()}  # in declared order
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
        "params_declared": view.params_declared,
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
    """'2015 · 25.6M parameters · input 3×224×224' (what is known).  The count is the shape
    pass's when it ran, else the declared ``expect: params``; a user's declared count, which
    nothing has checked, says "(declared)"."""
    bits = []
    if view.year:
        bits.append(str(view.year))
    if view.params is not None:
        aux = f" (+{present.count(view.params_aux)} aux)" if view.params_aux and view.aux else ""
        bits.append(f"{present.count(view.params)} parameters{aux}{' (declared)' if view.params_declared else ''}")
    if view.input:
        bits.append(f"input {present.shape(view.input)}")
    return " · ".join(bits)
