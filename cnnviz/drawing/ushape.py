"""Long skip connections drawn as a U (U-Net, FPN): a pure pass over a view graph.

A branch that starts ``from NAME`` gives the view a *skip* edge, from the box of
the item named to the merge (``collapse`` marks it ``skip``).  When skips span
long stretches of the line and nest (U-Net's enc1 → dec1 around enc2 → dec2
around …), the line is folded at the middle of the innermost one: the part
before the fold goes down the ranks (the encoder), the part after comes back up
(the decoder), and each merge shares the rank of the item it reads, so the skip
edges go straight across.  The bottom of the U is the box half-way along the
innermost skip or, when that box is drawn in an expanded module, the whole
module, its boxes side by side, so that no module is bent round the fold.

In DOT terms (see :mod:`.dot`): the edges after the fold are marked ``back``
(written reversed, drawn with the arrow as the data flows), ``v.graph["u"]`` is
set, and ``v.graph["same_rank"]`` lists groups of boxes each drawn in one rank,
left to right (encoder first): every skip across, the bottom row, and the
boxes just before and after the bottom (the U's arms).  The DOT stage keeps
them in that order, which is what puts the encoder on the left in every detail
level (dot itself would as soon draw the U mirrored).

Short skips (a DenseNet-style ``concat: [from x, identity]`` a few boxes on) and
skips that cross instead of nesting leave the line straight.
"""

from __future__ import annotations

import networkx as nx

MIN_SPAN = 4  # boxes of the line from a skip's start to its merge for it to fold the line
MIN_INNER = 3  # the same for a skip nested inside such a one (a U-Net whose pooling is inside its Down modules)
MAX_ROW = 6  # boxes of an expanded module drawn side by side at the bottom of the U, at most
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


def _bottom(v: nx.DiGraph, order: dict[str, int], inner: list[str]) -> list[str]:
    """The boxes at the bottom of the U, in line order: of the line inside the innermost skip
    ``inner`` (its side branches that start ``from`` somewhere left out), the box half-way
    along; or, when that box is drawn in an expanded module, the whole module in one rank
    (when it is a straight run of at most MAX_ROW boxes), or else its last box, so that no
    module is bent round the fold."""
    line = nx.restricted_view(v, [], [(s, t) for s, t, e in v.edges(data=True) if e.get("skip")])
    inside = sorted(nx.descendants(line, inner[0]) & nx.ancestors(line, inner[-1]), key=order.__getitem__)
    inside = [n for n in inside if not v.nodes[n].get("aux")]
    if not inside:
        return []
    at = inside[len(inside) // 2]
    cluster = v.nodes[at].get("cluster")
    if cluster is None:
        return [at]
    run = [n for n in inside if v.nodes[n].get("cluster") == cluster]
    straight = all(v.has_edge(a, b) for a, b in zip(run, run[1:])) and v.subgraph(run).number_of_edges() == len(run) - 1
    return run if straight and len(run) <= MAX_ROW else run[-1:]


def _arms(v: nx.DiGraph, bottom: list[str]) -> list[str]:
    """The box just before the bottom of the U and the one just after it (the ends of its arms), or []."""
    before = [n for n in v.predecessors(bottom[0]) if not v.nodes[n].get("aux")]
    after = [n for n in v.successors(bottom[-1]) if not v.nodes[n].get("aux")]
    return [before[0], after[0]] if len(before) == len(after) == 1 else []


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
        if g and order[g[-1]] - order[s] >= MIN_INNER:
            groups.append(g)
    chain = _nested([g for g in groups if order[g[-1]] - order[g[0]] >= MIN_SPAN], order)
    if not chain:
        return v
    inner = chain[-1]
    chain += _nested([g for g in groups if order[g[-1]] - order[g[0]] < MIN_SPAN and order[inner[0]] < order[g[0]] and order[g[-1]] < order[inner[-1]]], order)
    v = v.copy()  # fresh attribute dicts: the input graph is left as it was
    across = {(a, b) for g in chain for a, b in zip(g, g[1:])}
    bottom = _bottom(v, order, chain[-1])
    if not bottom:
        return v
    fold = order[bottom[-1]]  # edges from here on go back up
    row = set(bottom)
    for s, t, e in v.edges(data=True):
        if (s, t) in across or e.get("aux") or v.nodes[s].get("aux") or v.nodes[t].get("aux") or (s in row and t in row):
            continue
        if order[s] >= fold:
            e["back"] = True  # the decoder: up the ranks
        elif order[t] >= fold and e.get("skip"):
            e["constraint"] = False  # a skip across the fold that does not pair ranks
    # Each group is drawn in one rank, left to right (TB): every skip across, the bottom
    # row, and the boxes either side of the bottom (.dot orders them, so the encoder is
    # the left arm of the U in every detail level).
    groups = [list(g) for g in chain]
    if len(bottom) > 1:
        groups.append(bottom)
    arms = _arms(v, bottom)
    if arms and not any(a in g for a in arms for g in groups):  # an arm ranked by a skip already is where it is
        groups.append(arms)
    v.graph["same_rank"] = groups
    v.graph["u"] = True
    return v
