"""Transforms of a view graph, each a pure function returning a new graph.

The default lists are data (:data:`PASSES` for the compact and modules
views, :data:`FULL_PASSES` for the full one), applied in order by
:func:`cnnviz.drawing.collapse.collapse`.  A view node's position in execution
order is its ``order`` attribute; node ids (``n0``...) are never parsed.
"""

from __future__ import annotations

import networkx as nx

from ..model import MAIN_OUTPUT
from . import style
from .labels import SEP
from .ushape import u_shape

LINEAR = "linear"
ASSUMED = "relu"  # the activation a conv box needs not name, unless its graph has others


def copy(v: nx.DiGraph) -> nx.DiGraph:
    """A copy whose node and edge attribute dicts are fresh (values shared)."""
    out = nx.DiGraph(**v.graph)
    for n, d in v.nodes(data=True):
        out.add_node(n, **d)
    for s, t, e in v.edges(data=True):
        out.add_edge(s, t, **e)
    return out


def _layer_sig(d: dict):
    """What makes two layers "identical" for folding; None for what never folds.
    Layers inside a branch are left as written: two 3×3 convs in an Inception
    branch are the point of the figure."""
    if d["kind"] != "layer" or d.get("branch"):
        return None
    return (d["type"], repr(sorted((k, repr(v)) for k, v in d["params"].items())), d["aux"], d.get("cluster"))


def fold_layers(v: nx.DiGraph) -> nx.DiGraph:
    """Chains of identical layers (a → b, nothing else in or out) merged into one box ×N."""
    v = copy(v)
    for u in list(v):
        if u not in v:
            continue
        du = v.nodes[u]
        sig = _layer_sig(du)
        if sig is None:
            continue
        members = None  # the chain's members, gathered in one list (not a tuple copied per link)
        while v.out_degree(u) == 1:
            (w,) = v.successors(u)
            dw = v.nodes[w]
            if v.in_degree(w) != 1 or sig != _layer_sig(dw):
                break
            members = members if members is not None else list(du["members"])
            du["count"] += dw["count"]
            members += dw["members"]
            for x in list(v.successors(w)):
                v.add_edge(u, x, **v.edges[w, x])
            v.remove_node(w)
        if members is not None:
            du["members"] = tuple(members)
    return v


def renumber(v: nx.DiGraph) -> nx.DiGraph:
    """A copy with nodes n0, n1, ... (and ``order`` 0, 1, ...) again, in the same order
    (after folding left gaps)."""
    new = {n: f"n{i}" for i, n in enumerate(v)}  # relabelling keeps the order: ids stay execution order
    out = nx.DiGraph(**v.graph)
    for i, (n, d) in enumerate(v.nodes(data=True)):
        out.add_node(new[n], **{**d, "order": i})
    for s, t, e in v.edges(data=True):
        out.add_edge(new[s], new[t], **e)
    return out


def mark_spine(v: nx.DiGraph) -> nx.DiGraph:
    """The longest path of non-aux nodes (to the main output, where a network has several)
    and its edges marked ``spine``: the line drawn straight."""
    v = copy(v)
    best: dict[str, tuple[int, str | None]] = {}
    for n in v:  # nodes were added in execution order: a topological order
        if v.nodes[n].get("aux"):
            continue
        preds = [(best[p][0], p) for p in v.predecessors(n) if p in best]
        length, prev = max(preds, key=lambda t: t[0]) if preds else (0, None)
        best[n] = (length + 1, prev)
    for n in v:
        v.nodes[n]["spine"] = False
    for e in v.edges:
        v.edges[e]["spine"] = False
    if not best:
        return v
    main = [n for n in best if v.nodes[n].get("output") == MAIN_OUTPUT]  # with several outputs, the line ends in the main one
    end: str | None = main[0] if main else max(best, key=lambda n: (best[n][0], -v.nodes[n]["order"]))
    while end is not None:
        v.nodes[end]["spine"] = True
        prev = best[end][1]
        if prev is not None:
            v.edges[prev, end]["spine"] = True
        end = prev
    return v


def tag_acts(v: nx.DiGraph) -> nx.DiGraph:
    """Where one graph (the main line, a panel) mixes linear and activated convs, each
    linear conv says "linear"; where it mixes activations, or its one activation is not
    the ReLU a reader assumes, each conv says the one written on it ("SiLU").  A conv
    followed by its activation's own box needs no tag for it."""
    convs = [d for _, d in v.nodes(data=True) if d.get("act")]
    acts = {d["act"] for d in convs}
    unusual = bool(acts - {LINEAR, ASSUMED})
    if len(acts) < 2 and not unusual:
        return v
    named = len(acts - {LINEAR}) > 1 or unusual
    v = copy(v)
    for _, d in v.nodes(data=True):
        act = d.get("act")
        tag = LINEAR if act == LINEAR else style.title(act) if act and named and d.get("act_on") else None
        if tag:
            d["detail"] = SEP.join([d["detail"]] * bool(d["detail"]) + [tag])
    return v


PASSES = (fold_layers, tag_acts, renumber, mark_spine, u_shape)
FULL_PASSES = (mark_spine, u_shape)
