"""View → DOT: every part (title, main line, panels, legend) as its own small graph.

A :class:`Dot` is a graph as data (nodes, edges, clusters with their
attributes); :func:`text` writes it.  Labels are built only from
:mod:`.quoting` parts, so user text is escaped exactly once, and attributes are
written in sorted order, so the same view gives the same bytes.

A *paint* hook (:data:`PaintHook`) may give boxes and clusters other colours
than their category's; it is applied here, while each part's DOT is built, so
nothing edits a :class:`Dot` afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import present
from ..model import Path
from . import style
from .quoting import Html, attrs, escape, ident, join, tag
from .style import Paint
from .udot import u_ranks
from .view import Part

PaintHook = Callable[[tuple[Path, ...] | Path], Paint | None]
"""What a box stands for (its members, a tuple of paths) or a cluster's block path → its colours, or None."""


@dataclass
class Dot:
    name: str
    graph: dict = field(default_factory=dict)
    node: dict = field(default_factory=dict)  # node defaults
    edge: dict = field(default_factory=dict)  # edge defaults
    nodes: list = field(default_factory=list)  # (id, attrs, cluster id or None)
    edges: list = field(default_factory=list)  # (tail, head, attrs)
    clusters: dict = field(default_factory=dict)  # id -> (attrs, parent id or None)
    ranks: list = field(default_factory=list)  # (cluster id or None, [node ids]) drawn in one rank
    lead: list = field(default_factory=list)  # ids of nodes outside any cluster, written first


def font(text, size: int | None = None, color: str | None = None, bold: bool = False) -> Html:
    body = tag("b", text) if bold else escape(text)
    if size is None and color is None:
        return body
    return tag("font", body, point_size=size, color=color)


def base(name: str, direction: str) -> Dot:
    return Dot(
        name,
        graph={
            "rankdir": direction,
            "fontname": style.FONT,
            "nodesep": 0.16,
            "ranksep": 0.3,
            "bgcolor": "transparent",
            "pad": 0,
            "margin": 0,
            "ordering": "out",
        },
        node={"fontname": style.FONT, "fontsize": style.BOX_SIZE, "fontcolor": style.TEXT, "penwidth": 1.1},
        edge={"color": style.EDGE, "arrowsize": 0.6, "penwidth": 1.1, "fontname": style.FONT, "fontsize": style.EDGE_LABEL_SIZE, "fontcolor": style.MUTED},
    )


def box_label(d: dict, show_params: bool) -> Html:
    """Title (×N), detail line and parameter count of one box."""
    lines = []
    times = present.times(d["count"])
    if d["kind"] == "module":
        lines.append(font(d["title"], bold=True))
        second = [font(times, style.BOX_SIZE, style.COUNT, bold=True) if times else "", font(d["detail"], style.DETAIL_SIZE, style.MUTED) if d["detail"] else ""]
        if any(second):
            lines.append(join(*second, sep="  "))
    elif d.get("small"):  # a standalone norm or activation (compact and modules views): a small box
        head = [font(d["title"], style.SMALL_SIZE)]
        if times:
            head.append(font(" " + times, style.SMALL_SIZE, style.COUNT, bold=True))
        lines.append(join(*head))
        if d["detail"]:
            lines.append(font(d["detail"], style.TAG_SIZE, style.MUTED))
    else:
        head = [font(d["title"])]
        if times:
            head.append(font(" " + times, None, style.COUNT, bold=True))
        lines.append(join(*head))
        if d["detail"]:
            lines.append(font(d["detail"], style.DETAIL_SIZE, style.MUTED))
    if show_params and d.get("nparams"):
        lines.append(font(present.count(d["nparams"]), style.DETAIL_SIZE - 1, style.MUTED))
    return Html(tag("br").join(lines))


def node_attrs(d: dict, show_params: bool, paint: PaintHook | None = None) -> dict:
    kind = d["kind"]
    if kind == "port":
        return {"shape": "circle", "label": "", "width": 0.09, "height": 0.09, "fixedsize": True, "style": "filled", "fillcolor": style.MUTED, "color": style.MUTED}
    sw = style.swatch(d["category"])
    a: dict[str, Any] = {"fillcolor": sw.fill, "color": sw.stroke}
    if kind == "merge" and d["type"] in ("add", "mul"):
        sign = "+" if d["type"] == "add" else "×"
        a.update(shape="circle", label=font(sign, 15, bold=True), width=0.28, height=0.28, fixedsize=True, style="filled", penwidth=1.3)
    elif kind == "merge":
        a.update(shape="box", label=font("concat", style.DETAIL_SIZE, style.TEXT), style="rounded,filled", height=0.26, width=0.3, margin="0.05,0.02")
    elif kind in ("input", "output"):
        a.update(shape="box", label=box_label(d, False), style="rounded,filled", height=0.46, margin="0.1,0.04")
    elif kind == "module":
        a.update(shape="box", label=box_label(d, show_params), style="rounded,filled", height=0.46, margin="0.12,0.05", penwidth=1.4)
    elif d.get("small"):
        a.update(shape="box", label=box_label(d, show_params), style="rounded,filled", height=0.3, width=0.3, margin="0.05,0.02")
    else:
        a.update(shape="box", label=box_label(d, show_params), style="rounded,filled", height=0.46, margin="0.08,0.04")
    if paint is not None:
        _apply(a, paint(tuple(d.get("members") or ())))
    if d.get("aux"):
        a["style"] = a["style"] + ",dashed"
    if d.get("count", 1) > 1:
        a["_stack"] = _cards(d["count"])  # a folded run is drawn as a small stack of cards
    tip = _tooltip(d)
    if tip:
        a["tooltip"] = tip
    return a


def _apply(a: dict, paint: Paint | None) -> None:
    if paint is not None and paint.fill is not None:
        a["fillcolor"] = paint.fill
    if paint is not None and paint.stroke is not None:
        a["color"] = paint.stroke


def _tooltip(d: dict) -> str:
    members = list(d.get("members") or ())
    if not members:
        return ""
    shown = ", ".join(str(m) for m in members[:4]) + (f", … ({len(members)} in all)" if len(members) > 4 else "")
    if d["kind"] == "module":
        args = ", ".join(f"{k}={v}" for k, v in d["args"].items())  # in declared order
        return f"{d['title']} ({d['type']}{': ' + args if args else ''}): {shown}"
    return shown


def cluster_attrs(c: dict, paint: PaintHook | None = None) -> dict[str, Any]:
    out = _cluster_attrs(c)
    if paint is not None and c.get("block") is not None:
        _apply(out, paint(c["block"]))
    return out


def _cluster_attrs(c: dict) -> dict[str, Any]:
    if c["kind"] == "towers":
        return {
            "label": font(c["label"], style.CLUSTER_SIZE, style.MUTED, bold=True),
            "style": "rounded,filled",
            "fillcolor": style.TOWERS_FILL,
            "color": style.TOWERS_STROKE,
            "labeljust": "r",
            "labelloc": "b",
            "margin": 8,
            "_stack": _cards(c["count"]),
        }
    sw = style.swatch("module")
    title = join(font(c["label"], style.CLUSTER_SIZE, style.TEXT, bold=True), font(" " + present.times(c["count"]), style.CLUSTER_SIZE, style.COUNT, bold=True) if c["count"] > 1 else "")
    out = {"label": title, "style": "rounded,filled", "fillcolor": "#fdf8ef", "color": sw.stroke, "labeljust": "l", "margin": 8}
    if c["count"] > 1:
        out["_stack"] = _cards(c["count"])
    return out


def _cards(n: int) -> int:
    """Cards drawn behind something that stands for n copies: 1 for two, 2 for more."""
    return min(n - 1, 2)


def part_dot(part: Part, index: int, direction: str, show_params: bool, show_shapes: bool, paint: PaintHook | None = None) -> Dot:
    """One part: the main line (index 0) or a panel, framed and titled (when it has a title)."""
    dot = base(f"part{index}", direction)
    v = part.graph
    frame = None
    if part.title:
        frame = "panel"
        dot.clusters[frame] = (
            {
                "label": font(part.title, style.PANEL_TITLE_SIZE, style.TEXT, bold=True),
                "style": "rounded,filled",
                "fillcolor": style.PANEL_FILL,
                "color": style.PANEL_STROKE,
                "labeljust": "l",
                "margin": 12,
                "penwidth": 1.2,
            },
            None,
        )
    for cid, c in v.graph["clusters"].items():
        dot.clusters[cid] = (cluster_attrs(c, paint), c["parent"] or frame)
    for n, d in v.nodes(data=True):
        dot.nodes.append((n, node_attrs(d, show_params, paint), d.get("cluster") or frame))
    dot.ranks = _branch_starts(v, frame)
    for _, group in dot.ranks:
        # An invisible edge inside a rank orders its ends: in LR the head goes above the
        # tail, in TB to its right.  So the spec's first branch is on top, or on the left.
        chain = group[::-1] if direction == "LR" else group
        dot.edges += [(a, b, {"style": "invis"}) for a, b in zip(chain, chain[1:])]
    u_ranks(dot, v, frame)
    edges = list(v.edges(data=True))
    if direction == "LR":
        # With ordering=out, LR stacks a node's successors bottom-up in the order given;
        # reversed, the spec's first branch is drawn on top.
        edges.reverse()
    labelled: set = set()
    # Auxiliary heads hang below the main line (LR) or to its right (TB): their edges go last.
    edges.sort(key=lambda e: bool(e[2].get("aux")))
    for s, t, e in edges:
        a: dict[str, Any] = {}
        if e.get("aux"):
            a.update(style="dashed", color=style.AUX_EDGE)
        # Weights keep the spine straight and each branch packed next to its split,
        # so that the long edges are the ones into the merge, as in the article.
        if e.get("spine"):
            a["weight"] = 8
        elif v.nodes[s].get("aux") and v.nodes[t].get("aux"):
            a["weight"] = 6  # an auxiliary head is a straight line of its own
        elif v.out_degree(s) > 1:
            a["weight"] = 3
        elif v.nodes[t]["kind"] != "merge":
            a["weight"] = 2
        if show_shapes and e.get("shape") and (s, e["shape"]) not in labelled:
            a["label"] = escape(present.shape(e["shape"]))
            labelled.add((s, e["shape"]))  # a fan-out carries one tensor: say it once
        if e.get("constraint") is False:
            a["constraint"] = "false"
        if e.get("back"):  # the way back up a U (.ushape): written reversed, the arrow still along the data
            dot.edges.append((t, s, {**a, "dir": "back"}))
        else:
            dot.edges.append((s, t, a))
    return dot


def _branch_starts(v, frame) -> list:
    """The first layers of a split's branches share a rank, so every branch starts next
    to the split and the long edges are the ones into the merge (as the article draws
    them).  Only layers (one input each) and only within one cluster."""
    out = []
    for n in v:
        if v.out_degree(n) < 2:
            continue
        groups: dict = {}
        for t in v.successors(n):
            d = v.nodes[t]
            if v.edges[n, t].get("skip"):
                continue  # a branch that starts from an earlier item (``from NAME``) starts where it reads
            if d["kind"] in ("layer", "module") and not d.get("aux") and v.in_degree(t) == 1:
                groups.setdefault(d.get("cluster") or frame, []).append(t)
        out += [(c, g) for c, g in groups.items() if len(g) > 1]
    return out


def public(a: dict) -> dict:
    """Attributes without the renderer's private notes (keys starting with '_')."""
    return {k: v for k, v in a.items() if not k.startswith("_")}


def text(dot: Dot) -> str:
    """The DOT source of one graph."""
    out = [f"digraph {ident(dot.name)} {{"]
    if dot.graph:
        out.append(f"  graph{attrs(dot.graph)};")
    if dot.node:
        out.append(f"  node{attrs(dot.node)};")
    if dot.edge:
        out.append(f"  edge{attrs(dot.edge)};")
    children: dict = {}
    for cid, (_, parent) in dot.clusters.items():
        children.setdefault(parent, []).append(cid)
    members: dict = {}
    for n, a, c in dot.nodes:
        if n in dot.lead:  # before everything else (.udot)
            out.append(f"  {ident(n)}{attrs(public(a))};")
        else:
            members.setdefault(c, []).append((n, a))
    ranks: dict = {}
    for where, group in dot.ranks:
        ranks.setdefault(where, []).append(group)

    def emit(cid, depth):
        pad = "  " * depth
        for sub in children.get(cid, []):
            out.append(f"{pad}subgraph {ident('cluster_' + sub)} {{")
            out.append(f"{pad}  graph{attrs(public(dot.clusters[sub][0]))};")
            emit(sub, depth + 1)
            out.append(f"{pad}}}")
        for n, a in members.get(cid, []):
            out.append(f"{pad}{ident(n)}{attrs(public(a))};")
        for group in ranks.get(cid, ()):
            out.append(f"{pad}{{rank=same; {'; '.join(ident(n) for n in group)};}}")

    emit(None, 1)
    for s, t, a in dot.edges:
        out.append(f"  {ident(s)} -> {ident(t)}{attrs(public(a))};")
    out.append("}")
    return "\n".join(out) + "\n"
