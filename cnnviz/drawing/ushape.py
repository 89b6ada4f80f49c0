"""Long skip connections drawn as a U (U-Net, FPN): a pure pass over a view graph.

A branch that starts ``from NAME`` gives the view a *skip* edge, from the box of
the item named to the merge (``collapse`` marks it ``skip``).  When skips span
long stretches of the line and nest (U-Net's enc1 → dec1 around enc2 → dec2
around …), the line is folded at the middle of the innermost one: the part
before the fold goes down the ranks (the encoder), the part after comes back up
(the decoder), and each merge shares the rank of the item it reads, so the skip
edges go straight across.  In DOT terms (see :mod:`.dot`): the edges after the
fold are marked ``back`` (written reversed, drawn with the arrow as the data
flows), each pair is listed in ``v.graph["same_rank"]`` (when both ends are in
one cluster: dot cannot line up boxes of different clusters, so a skip out of an
expanded module keeps its ends a rank apart) and ``v.graph["u"]`` is set.

Short skips (a DenseNet-style ``concat: [from x, identity]`` a few boxes on) and
skips that cross instead of nesting leave the line straight.
"""

from __future__ import annotations

import networkx as nx

MIN_SPAN = 4  # boxes of the line from a skip's start to its merge for it to fold the line
MAX_ACROSS = 3  # boxes a skip's branch may have on its way to the merge (FPN's lateral 1×1 conv) and still go across


def _across(v: nx.DiGraph, s: str, r: str) -> list[str] | None:
    """The boxes from a skip's start ``s`` through its reader ``r`` to the merge it ends in, or None."""
    path = [s, r]
    while v.nodes[path[-1]]["kind"] != "merge":
        if len(path) > MAX_ACROSS + 1 or v.out_degree(path[-1]) != 1 or v.in_degree(path[-1]) != 1:
            return None
        (nxt,) = v.successors(path[-1])
        path.append(nxt)
    return path


def _nested(groups: list[list[str]], order: dict[str, int]) -> list[list[str]]:
    """The longest run of groups each strictly inside the one before (by start and merge), outermost first."""
    groups = sorted(groups, key=lambda g: (order[g[0]], -order[g[-1]]))
    chain: list[list[str]] = []
    for g in groups:
        if not chain or (order[g[0]] > order[chain[-1][0]] and order[g[-1]] < order[chain[-1][-1]]):
            chain.append(g)
    return chain


def upright(v: nx.DiGraph) -> str:
    """The direction a main line draws best in when none is asked for: TB for a U (encoder
    down, decoder up, as U-Net's paper draws it), else LR."""
    return "TB" if v.graph.get("u") else "LR"


def u_shape(v: nx.DiGraph) -> nx.DiGraph:
    """A copy of ``v`` folded into a U at its long nested skips (``v`` itself when it has none)."""
    order: dict[str, int] = dict(v.nodes(data="order"))
    groups = []
    for s, r, e in v.edges(data=True):
        if not e.get("skip") or e.get("aux"):
            continue
        g = _across(v, s, r)
        if g and order[g[-1]] - order[s] >= MIN_SPAN:
            groups.append(g)
    chain = _nested(groups, order)
    if not chain:
        return v
    v = v.copy()  # fresh attribute dicts: the input graph is left as it was
    across = {(a, b) for g in chain for a, b in zip(g, g[1:])}
    fold = (order[chain[-1][0]] + order[chain[-1][-1]] + 1) // 2  # the bottom of the U
    for s, t, e in v.edges(data=True):
        if (s, t) in across or e.get("aux") or v.nodes[s].get("aux") or v.nodes[t].get("aux"):
            continue
        if order[s] >= fold:
            e["back"] = True  # the decoder: up the ranks
        elif order[t] >= fold and e.get("skip"):
            e["constraint"] = False  # a skip across the fold that does not pair ranks
    # A rank is shared within one cluster only (dot cannot line up boxes of different
    # clusters): a skip out of an expanded module keeps its start and merge a rank apart.
    v.graph["same_rank"] = [(v.nodes[g[0]].get("cluster"), g) for g in chain if len({v.nodes[n].get("cluster") for n in g}) == 1]
    v.graph["u"] = True
    return v
