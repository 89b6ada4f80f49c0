"""Laying out the parts separately and packing them into one picture.

Each part (title, main line, each panel, each legend entry) is laid out by
the engine on its own, in one run (``-Tjson0``; a few side by side when there
is a lot to lay out), so a wide main-line box never widens a panel's columns.  The parts are then packed, like the article's
figures: the main line on top, the panels in rows below it (or in columns
beside it for ``TB``), the legend last.  The packed graph carries every
position and is drawn with ``neato -n2``, which draws exactly what it is given.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from .dot import Dot, text
from .engine import find, run
from .quoting import num

GAP = 20.0  # between parts, points
ROW_GAP = 18.0
TITLE_GAP = 10.0
LEGEND_GAP = 6.0
LEGEND_ROW = 2.0
STACK = 3.0  # offset of each card behind a folded run
CARD_ROOM = 4.0  # space kept between a card and the border of the cluster around it
WIDEN = 1.4  # panel rows may run this much wider than the main line to save a row
BATCH = 1 << 20  # characters of DOT: less is laid out in one engine run
MAX_JOBS = 4  # engine runs side by side, at most


@dataclass
class Laid:
    """A part after layout: its size and where the engine put everything (points, y up)."""

    w: float
    h: float
    nodes: dict  # id -> {"pos": (x, y), "width": in, "height": in}
    edges: dict  # edge id -> {"pos": str, "lp": (x, y) | None}
    clusters: dict  # cluster name -> {"bb": (x0, y0, x1, y1), "lp": (x, y) | None}


def with_ids(dots: list[Dot]) -> list[Dot]:
    """Copies whose edges carry ids ``e0, e1, ...``, to find them in the layout."""
    out = []
    for dot in dots:
        edges = [(s, t, {**a, "id": f"e{i}"}) for i, (s, t, a) in enumerate(dot.edges)]
        out.append(replace(dot, edges=edges))
    return out


def source(dots: list[Dot]) -> str:
    """The layout input: every part's DOT, one after another."""
    return "".join(text(d) for d in with_ids(dots))


def _pair(s: str) -> tuple[float, float]:
    x, y = s.split(",")[:2]
    return float(x), float(y)


def parse(data: bytes, count: int) -> list[Laid]:
    """The engine's ``-Tjson0`` output for ``count`` graphs → one :class:`Laid` each."""
    dec = json.JSONDecoder()
    s = data.decode("utf-8")
    i, out = 0, list[Laid]()
    while len(out) < count:
        while i < len(s) and s[i].isspace():
            i += 1
        obj, i = dec.raw_decode(s, i)
        x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
        nodes, clusters, edges = {}, {}, {}
        for o in obj.get("objects", []):
            if "pos" in o:
                nodes[o["name"]] = {"pos": _pair(o["pos"]), "width": float(o["width"]), "height": float(o["height"])}
            elif "bb" in o:
                clusters[o["name"]] = {"bb": tuple(float(v) for v in o["bb"].split(",")), "lp": _pair(o["lp"]) if o.get("lp") else None}
        for e in obj.get("edges", []):
            if "id" in e and "pos" in e:
                edges[e["id"]] = {"pos": e["pos"], "lp": _pair(e["lp"]) if e.get("lp") else None}
        out.append(Laid(x1 - x0, y1 - y0, nodes, edges, clusters))
    return out


def layout(dots: list[Dot], engine: str) -> list[Laid]:
    """Every graph laid out on its own: in one engine run, or, when there is a lot to lay
    out (the rows of a very long line), in a few runs side by side, one per CPU."""
    texts = [text(d) for d in with_ids(dots)]
    batches = _batches(texts, min(os.cpu_count() or 1, MAX_JOBS))
    if len(batches) == 1:
        return parse(run(engine, "".join(texts), ["-Tjson0"]), len(dots))
    find(engine)  # once, in this thread: finding the binary sets up sysconfig, which is not thread-safe
    with ThreadPoolExecutor(len(batches)) as pool:
        done = pool.map(lambda b: parse(run(engine, "".join(b), ["-Tjson0"]), len(b)), batches)
        return [lay for batch in done for lay in batch]


def _batches(texts: list[str], jobs: int) -> list[list[str]]:
    """The graphs in at most ``jobs`` runs of about equal size, in order; one run unless
    each would get :data:`BATCH` characters at least."""
    total = sum(len(t) for t in texts)
    jobs = max(1, min(jobs, total // BATCH))
    out: list[list[str]] = [[]]
    size = 0
    for t in texts:
        if out[-1] and size >= total * len(out) / jobs:
            out.append([])
        out[-1].append(t)
        size += len(t)
    return out


def pack(roles: list[str], laid: list[Laid], direction: str) -> tuple[list[tuple[float, float]], float, float]:
    """Top-left corner (x, y down) of every part, and the picture's width and height.

    ``roles[i]`` is "title", "main", "panel" or "legend"."""
    idx = {r: [i for i, x in enumerate(roles) if x == r] for r in ("title", "main", "panel", "legend")}
    at: list[tuple[float, float]] = [(0.0, 0.0)] * len(laid)
    y = 0.0
    for i in idx["title"]:
        at[i] = (0.0, y)
        y += laid[i].h + TITLE_GAP
    mains = idx["main"]  # one, or several rows (columns in TB) of a wrapped main line
    panels = idx["panel"]
    if direction == "LR":
        for k, m in enumerate(mains):
            at[m] = (0.0, y)
            y += laid[m].h + (ROW_GAP if k + 1 < len(mains) else GAP if panels else 0)
        width = _row_width(panels, laid, max([laid[i].w for i in idx["title"] + mains + panels] or [0]), y)
        y = _flow(panels, laid, at, 0.0, y, width, GAP, ROW_GAP)
    else:
        top = y
        x = 0.0
        for m in mains:
            at[m] = (x, top)
            x += laid[m].w + GAP
        height = max([laid[m].h for m in mains] + [laid[i].h for i in panels])
        x, yc, colw = x - GAP + GAP * 1.5, top, 0.0
        for i in panels:
            if yc > top and yc + laid[i].h > top + height:
                x, yc, colw = x + colw + GAP, top, 0.0
            at[i] = (x, yc)
            yc += laid[i].h + ROW_GAP
            colw = max(colw, laid[i].w)
        width = max([x + colw] + [laid[i].w for i in idx["title"]])
        y = top + height
    if idx["legend"]:
        y = _flow(idx["legend"], laid, at, 0.0, y + GAP, width, LEGEND_GAP * 3, LEGEND_ROW)
    width = max([width] + [at[i][0] + laid[i].w for i in range(len(laid))])
    return at, width, y


def _row_width(panels: list[int], laid: list[Laid], base: float, top: float) -> float:
    """The row width for the panels that gives the smallest picture: at least ``base``
    (the main line), a little wider when that saves a row."""
    best = (float("inf"), base)
    candidates = {base}
    for a in range(len(panels)):
        total = -GAP
        for b in range(a, len(panels)):
            total += laid[panels[b]].w + GAP
            if base < total <= base * WIDEN:
                candidates.add(total)
    for width in sorted(candidates):
        scratch = [(0.0, 0.0)] * len(laid)
        bottom = _flow(panels, laid, scratch, 0.0, top, width, GAP, ROW_GAP)
        used = max([base] + [scratch[i][0] + laid[i].w for i in panels])
        area = used * bottom
        if area < best[0] - 1e-6:
            best = (area, width)
    return best[1]


def _flow(items: list[int], laid: list[Laid], at: list, x0: float, y: float, width: float, gap: float, row_gap: float) -> float:
    """Place parts left to right, wrapping at ``width``; returns the y below the last row."""
    if not items:
        return y
    x, rowh = x0, 0.0
    for i in items:
        if x > x0 and x + laid[i].w > x0 + width:
            y += rowh + row_gap
            x, rowh = x0, 0.0
        at[i] = (x, y)
        x += laid[i].w + gap
        rowh = max(rowh, laid[i].h)
    return y + rowh


def _shift_spline(pos: str, dx: float, dy: float) -> str:
    out = []
    for tok in pos.split():
        prefix = ""
        if tok[:2] in ("e,", "s,"):
            prefix, tok = tok[:2], tok[2:]
        x, y = _pair(tok)
        out.append(f"{prefix}{num(x + dx)},{num(y + dy)}")
    return " ".join(out)


def _cards(box: tuple, k: int, sy: float) -> tuple:
    """A box grown to hold k cards drawn behind it, and a little room around them."""
    x0, y0, x1, y1 = box
    if not k:
        return box
    grow = STACK * k + CARD_ROOM
    return (x0, y0 + min(0.0, sy * k) - (CARD_ROOM if sy < 0 else 0), x1 + grow, y1 + max(0.0, sy * k) + (CARD_ROOM if sy > 0 else 0))


def _union(a: tuple, b: tuple) -> tuple:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _room_for_cards(dot: Dot, lay: Laid, sy: float) -> dict:
    """Every cluster's box, grown where a stack of cards inside it would cross its border."""
    kids: dict = {}
    for cid, (_, parent) in dot.clusters.items():
        kids.setdefault(parent, []).append(cid)
    nodes: dict = {}
    for n, a, c in dot.nodes:
        nd = lay.nodes[n]
        (px, py), w, h = nd["pos"], nd["width"] * 72 / 2, nd["height"] * 72 / 2
        nodes.setdefault(c, []).append(_cards((px - w, py - h, px + w, py + h), a.get("_stack", 0), sy))
    out: dict = {}

    def need(cid) -> tuple:
        box = lay.clusters[f"cluster_{cid}"]["bb"]
        for nb in nodes.get(cid, []):
            box = _union(box, nb)
        for sub in kids.get(cid, []):
            sb = _cards(need(sub), dot.clusters[sub][0].get("_stack", 0), sy)
            box = _union(box, sb)
        out[cid] = box
        return box

    for cid in kids.get(None, []):
        need(cid)
    return out


def compose(dots: list[Dot], laid: list[Laid], at: list, width: float, height: float, direction: str = "LR", pad: float = 0.2) -> Dot:
    """One graph holding every part at its place, with every position fixed (for ``neato -n2``).

    A folded run (``_stack``) gets cards drawn behind it, offset towards the side its
    edge leaves from (right and up in LR, right and down in TB) so no arrowhead is hidden."""
    sy = STACK if direction == "LR" else -STACK
    first = dots[0]
    out = Dot(
        "cnnviz",
        graph={"bb": f"0,0,{num(width)},{num(height)}", "bgcolor": "white", "pad": pad, "splines": "true", "outputorder": "edgesfirst", "fontname": first.graph.get("fontname")},
        node=dict(first.node),
        edge=dict(first.edge),
    )
    for p, (dot, lay, (x, ytop)) in enumerate(zip(with_ids(dots), laid, at)):
        if dot.node != out.node or dot.edge != out.edge:
            raise ValueError("parts must share node and edge defaults")
        dx, dy = x, height - ytop - lay.h

        def name(n, p=p):
            return f"p{p}_{n}"

        room = _room_for_cards(dot, lay, sy)
        for cid, (a, parent) in dot.clusters.items():
            c = lay.clusters[f"cluster_{cid}"]
            x0, y0, x1, y1 = room[cid]
            for j in range(a.get("_stack", 0), 0, -1):  # cards behind
                o, oy = STACK * j, sy * j
                shadow = {k: v for k, v in a.items() if k in ("style", "fillcolor", "color", "penwidth")}
                shadow["bb"] = f"{num(x0 + dx + o)},{num(y0 + dy + oy)},{num(x1 + dx + o)},{num(y1 + dy + oy)}"
                out.clusters[name(f"{cid}_s{j}")] = (shadow, name(parent) if parent else None)
            extra = {"bb": f"{num(x0 + dx)},{num(y0 + dy)},{num(x1 + dx)},{num(y1 + dy)}"}
            if c["lp"]:
                extra["lp"] = f"{num(c['lp'][0] + dx)},{num(c['lp'][1] + dy)}"
            out.clusters[name(cid)] = ({**a, **extra}, name(parent) if parent else None)
        for n, a, c in dot.nodes:
            nd = lay.nodes[n]
            px, py = nd["pos"]
            for j in range(a.get("_stack", 0), 0, -1):
                o, oy = STACK * j, sy * j
                shadow = {k: v for k, v in a.items() if k in ("shape", "style", "fillcolor", "color", "penwidth", "fixedsize")}
                shadow.update(label="", pos=f"{num(px + dx + o)},{num(py + dy + oy)}!", width=nd["width"], height=nd["height"], fixedsize=True)
                out.nodes.append((name(f"{n}_s{j}"), shadow, name(c) if c else None))
            a = {**a, "pos": f"{num(px + dx)},{num(py + dy)}!", "width": nd["width"], "height": nd["height"]}
            out.nodes.append((name(n), a, name(c) if c else None))
        for s, t, a in dot.edges:
            if a.get("style") == "invis":
                continue
            e = lay.edges[a["id"]]
            extra = {"pos": _shift_spline(e["pos"], dx, dy)}
            if e["lp"]:
                extra["lp"] = f"{num(e['lp'][0] + dx)},{num(e['lp'][1] + dy)}"
            b = {k: v for k, v in a.items() if k != "id"}
            out.edges.append((name(s), name(t), {**b, **extra}))
    return out
