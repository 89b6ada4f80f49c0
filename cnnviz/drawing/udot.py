"""A U in DOT (the view's side is :mod:`.ushape`): its rank groups, in order.

Dot draws a U as readily mirrored as not; what keeps the encoder on the left is
the order within ranks, and dot keeps that order only where it is told:

* a flat edge (both ends in one rank) has its tail left of its head (TB; above
  it in LR), but only between boxes of one cluster, or both outside any;
* a rank group across clusters needs ``newrank`` (without it dot ranks each
  cluster on its own and cannot line up boxes of different clusters), and its
  flat edges do not order it;
* otherwise the order comes from the first box dot reads: in the modules and
  full views of U-Net and of an FPN the U came out mirrored while the input box
  was written after the clusters, and the right way round once it was written
  first.

So each group of ``v.graph["same_rank"]`` is one rank, consecutive boxes with no
edge between them get an invisible one (the U's arms, the boxes either side of its
bottom, usually outside any module), and the first box of the line is written
before the clusters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from .dot import Dot


def u_ranks(dot: Dot, v: nx.DiGraph, frame: str | None) -> None:
    """Add a U's rank groups (and what orders them) to ``dot``, the DOT of the view graph ``v``."""
    if not v.graph.get("u"):
        return
    start = min(v, key=lambda n: v.nodes[n]["order"])
    if v.nodes[start].get("cluster") is None and frame is None:
        dot.lead.append(start)
    for group in v.graph["same_rank"]:
        clusters = {v.nodes[n].get("cluster") for n in group}
        if len(clusters) > 1:
            dot.graph["newrank"] = True
        dot.ranks.append(((clusters.pop() if len(clusters) == 1 else None) or frame, group))
        dot.edges += [(a, b, {"style": "invis"}) for a, b in zip(group, group[1:]) if not v.has_edge(a, b) and not v.has_edge(b, a)]
