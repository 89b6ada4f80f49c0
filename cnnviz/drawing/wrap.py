"""Wrapping a main line too long for one row into several.

A compact main line fits on a page; ResNet-152 drawn layer by layer is
twenty metres long.  When the laid-out main line is longer than
:data:`LIMIT`, or when the picture would be much wider than tall (VGG's
one long line above short panels; :func:`cnnviz.drawing.figure.packed` asks
for the rows), it is cut after spine nodes that every crossing edge leaves
from and that split no cluster, into rows of about equal length; each row
ends in a small port and the next starts from one, like the panels' ports.
Positions along the line are the view nodes' ``order`` attribute (their ids are
never parsed).  Pure: new graphs.

A line of more than :data:`BIG` nodes is never laid out whole (the layout
engine's memory grows faster than the line): it is first cut into chunks of
about :data:`CHUNK` nodes (:func:`chunks`), each laid out on its own, and the
positions along the whole line are pieced together from theirs
(:func:`stitch`); the rows are chosen from those.  Every step here is linear
in the line (or ``n log n``), so a line of tens of thousands of nodes wraps as
quickly, per node, as ResNet-152's.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping

import networkx as nx

LIMIT = 2400.0  # points along the line; longer lines wrap
BIG = 1500  # nodes: a longer line is laid out in chunks, never whole
CHUNK = 600  # nodes in a chunk, about
PORT = {"kind": "port", "category": "port", "title": "", "detail": "", "count": 1, "aux": False, "members": (), "cluster": None, "spine": True}


def _covered(positions: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """For each position (sorted), how many of the half-open ``spans`` [lo, hi) hold it."""
    diff = [0] * (len(positions) + 1)
    for lo, hi in spans:
        a, b = bisect_left(positions, lo), bisect_left(positions, hi)
        if a < b:
            diff[a] += 1
            diff[b] -= 1
    out, run = [], 0
    for d in diff[:-1]:
        run += d
        out.append(run)
    return out


def candidates(v: nx.DiGraph) -> list[str]:
    """Spine nodes after which the line may be cut: every edge from before the cut to
    after it leaves this node, and no cluster straddles the cut."""
    spans: dict = {}  # cluster -> (first, last) order of the nodes inside it (nested ones too)
    clusters = v.graph.get("clusters", {})
    for _n, d in v.nodes(data=True):
        c, i = d.get("cluster"), d["order"]
        while c is not None:
            lo, hi = spans.get(c, (i, i))
            spans[c] = (min(lo, i), max(hi, i))
            c = clusters[c]["parent"]
    order = v.nodes(data="order")
    positions = sorted(set(order[n] for n in v))
    # An edge s -> t jumps over every node strictly between its ends; a cluster holds its span.
    jumped = _covered(positions, [(order[s] + 1, order[t]) for s, t in v.edges])
    inside = _covered(positions, list(spans.values()))
    at = {p: k for k, p in enumerate(positions)}
    out = []
    for c, d in v.nodes(data=True):
        if not d.get("spine") or d["kind"] == "port" or v.out_degree(c) == 0:
            continue
        k = at[d["order"]]
        if jumped[k] or inside[k]:
            continue
        out.append(c)
    return out


def choose(v: nx.DiGraph, along: Mapping, length: float, limit: float = LIMIT, rows: int = 1) -> list[str]:
    """The nodes to cut after, giving rows of about equal length (``along``: node → position):
    as many rows as ``limit`` asks, and ``rows`` at least (fewer where there are not
    enough places to cut).

    Each cut is the candidate nearest its target (the earlier one in the line on a tie)
    among those beyond the previous cut; the candidates are sorted once, so each cut
    looks only at its neighbours."""
    if length <= limit and rows <= 1:
        return []
    rows = max(rows, math.ceil(length / limit))
    order = v.nodes(data="order")
    cands = sorted(candidates(v), key=lambda c: along[c])  # stable: ties keep the line's order
    pos = [along[c] for c in cands]
    cuts: list[str] = []
    last = -math.inf
    for k in range(1, rows):
        target = k * length / rows
        first = bisect_right(pos, last)  # the options: beyond the previous cut
        if first >= len(cands):
            break
        mid = max(first, bisect_right(pos, target))
        best = None
        for step, start in ((-1, mid - 1), (1, mid)):  # outwards from the target, both ways
            j = start
            while first <= j < len(cands):
                key = (abs(pos[j] - target), order[cands[j]])
                if best is not None and key[0] > best[0][0]:
                    break
                if best is None or key < best[0]:
                    best = (key, cands[j])
                j += step
        if best is None:  # pragma: no cover - first < len(cands) leaves one option at least
            break
        cuts.append(best[1])
        last = along[best[1]]
    return cuts


def split(v: nx.DiGraph, cuts: list[str], overlap: bool = False) -> list[nx.DiGraph]:
    """The main line cut into rows after each node in ``cuts``; a row ends in a port,
    and the next starts from one standing for the same tensor.

    ``overlap``: pieces to be laid out, not drawn: no ports; instead a piece starts
    with the node the previous one ends with, so that the two share a position."""
    order = v.nodes(data="order")
    bounds = [order[c] + 1 for c in cuts]
    clusters = v.graph.get("clusters", {})
    rank = {c: i for i, c in enumerate(clusters)}
    keeps: list[list] = [[] for _ in range(len(bounds) + 1)]
    for n in v:  # in the line's order, each node to its row
        keeps[bisect_right(bounds, order[n])].append(n)
    if overlap:
        for k, cut in enumerate(cuts, 1):
            keeps[k].insert(0, cut)
    rows: list[nx.DiGraph] = []
    for k, keep in enumerate(keeps):
        used: set = set()
        for n in keep:
            c = v.nodes[n].get("cluster")
            while c is not None and c not in used:
                used.add(c)
                c = clusters[c]["parent"]
        row = nx.DiGraph(clusters={c: clusters[c] for c in sorted(used, key=rank.__getitem__)})
        if k and overlap:  # the clusters of the shared node end with it: untitled, they take no room along the line
            c = v.nodes[keep[0]].get("cluster")
            while c is not None:
                row.graph["clusters"][c] = {**clusters[c], "label": " ", "count": 1}
                c = clusters[c]["parent"]
        if k and not overlap:
            row.add_node("w_in", type="in", **PORT)
        for n in keep:
            row.add_node(n, **v.nodes[n])
        if k and not overlap:
            for t in v.successors(cuts[k - 1]):
                row.add_edge("w_in", t, **v.edges[cuts[k - 1], t])
        for s in keep:
            for t, e in v.adj[s].items():
                if t in row:
                    row.add_edge(s, t, **e)
        if k < len(bounds) and not overlap:
            row.add_node("w_out", type="out", **PORT)
            row.add_edge(cuts[k], "w_out", aux=False, spine=True, via=next(iter(v.edges[cuts[k], t]["via"] for t in v.successors(cuts[k]))))
        rows.append(row)
    return rows


def chunks(v: nx.DiGraph, size: int | None = None) -> list[str]:
    """Cuts giving pieces of about ``size`` nodes (:data:`CHUNK`; more where no cut is
    possible sooner), to lay a long line out piece by piece."""
    size = CHUNK if size is None else size
    order = v.nodes(data="order")
    cuts: list[str] = []
    start, prev = min(order[n] for n in v), None
    for c in candidates(v):
        if prev is not None and order[c] + 1 - start > size:
            cuts.append(prev)
            start = order[prev] + 1
        prev = c
    return cuts


def stitch(cuts: list[str], pieces: list[tuple[dict, float]]) -> tuple[dict, float]:
    """The positions along a whole line, and its length, from those of its chunks.

    ``pieces``: for each chunk (as ``split(v, cuts, overlap=True)`` cut it), node →
    position along it, and its length.  A chunk starts with the node the previous
    one ends with (``cuts[k - 1]``), which lines the two up."""
    along: dict = {}
    end = 0.0
    for k, (pos, length) in enumerate(pieces):
        offset = along[cuts[k - 1]] - pos[cuts[k - 1]] if k else 0.0
        for n, x in pos.items():
            along.setdefault(n, x + offset)
        end = offset + length
    return along, end
