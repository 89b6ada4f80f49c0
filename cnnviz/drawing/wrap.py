"""Wrapping a main line too long for one row into several (full views of deep networks).

A compact main line fits on a page; ResNet-152 drawn layer by layer is
twenty metres long.  When the laid-out main line is longer than
:data:`LIMIT`, it is cut after spine nodes that every crossing edge leaves
from and that split no cluster, into rows of about equal length; each row
ends in a small port and the next starts from one, like the panels' ports.
Positions along the line are the view nodes' ``order`` attribute (their ids are
never parsed).  Pure: new graphs.
"""

from __future__ import annotations

import math

import networkx as nx

LIMIT = 2400.0  # points along the line; longer lines wrap


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
    edges = [(order[s], order[t]) for s, t in v.edges]
    out = []
    for c, d in v.nodes(data=True):
        i = d["order"]
        if not d.get("spine") or d["kind"] == "port" or v.out_degree(c) == 0:
            continue
        if any(s < i + 1 <= t and s != i for s, t in edges):
            continue
        if any(lo <= i < hi for lo, hi in spans.values()):
            continue
        out.append(c)
    return out


def choose(v: nx.DiGraph, along: dict, length: float, limit: float = LIMIT) -> list[str]:
    """The nodes to cut after, giving rows of about equal length (``along``: node → position)."""
    if length <= limit:
        return []
    rows = math.ceil(length / limit)
    cands = candidates(v)
    cuts: list[str] = []
    last = -math.inf
    for k in range(1, rows):
        target = k * length / rows
        options = [c for c in cands if along[c] > last]
        if not options:
            break
        best = min(options, key=lambda c: (abs(along[c] - target), v.nodes[c]["order"]))
        cuts.append(best)
        last = along[best]
    return cuts


def split(v: nx.DiGraph, cuts: list[str]) -> list[nx.DiGraph]:
    """The main line cut into rows after each node in ``cuts``; a row ends in a port,
    and the next starts from one standing for the same tensor."""
    order = v.nodes(data="order")
    bounds = [order[c] + 1 for c in cuts]
    rows: list[nx.DiGraph] = []
    clusters = v.graph.get("clusters", {})
    port = {"kind": "port", "category": "port", "title": "", "detail": "", "count": 1, "aux": False, "members": (), "cluster": None, "spine": True}
    for k in range(len(bounds) + 1):
        lo = bounds[k - 1] if k else 0
        hi = bounds[k] if k < len(bounds) else math.inf
        keep = [n for n in v if lo <= order[n] < hi]
        used: set = set()
        for n in keep:
            c = v.nodes[n].get("cluster")
            while c is not None:
                used.add(c)
                c = clusters[c]["parent"]
        row = nx.DiGraph(clusters={c: info for c, info in clusters.items() if c in used})
        if k:
            row.add_node("w_in", type="in", **port)
        for n in keep:
            row.add_node(n, **v.nodes[n])
        if k:
            for t in v.successors(cuts[k - 1]):
                row.add_edge("w_in", t, **v.edges[cuts[k - 1], t])
        for s, t, e in v.edges(data=True):
            if s in row and t in row:
                row.add_edge(s, t, **e)
        if k < len(bounds):
            row.add_node("w_out", type="out", **port)
            row.add_edge(cuts[k], "w_out", aux=False, spine=True, via=next(iter(v.edges[cuts[k], t]["via"] for t in v.successors(cuts[k]))))
        rows.append(row)
    return rows
