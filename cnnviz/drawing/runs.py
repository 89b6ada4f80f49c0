"""Which module instances fold together: runs of identical calls.

Identical means the same module with the same arguments, under the same
parent (repeats looked through), each feeding the next and nothing else —
whether the spec wrote ``xN`` or spelled the instances out.
"""

from __future__ import annotations

import networkx as nx


def runs(g: nx.DiGraph, aux: bool = True) -> dict[str, tuple[str, int]]:
    """call block → (first block of its run, 1-based index in the run).

    A run is a chain of call blocks of the same module with the same arguments,
    one feeding the next and nothing else, under the same parent (repeats are
    looked through), whether the spec wrote ``xN`` or spelled them out."""
    blocks = g.graph["blocks"]
    calls = [b for b, info in blocks.items() if info["kind"] == "call"]
    by_exit: dict[str, list[str]] = {}
    out: dict[str, tuple[str, int]] = {}
    for b in calls:
        info = blocks[b]
        out[b] = (b, 1)
        for prev in by_exit.get(info["entry"], ()):
            if _same(blocks, prev, b) and _only_into(g, prev, b, aux):
                first, i = out[prev]
                out[b] = (first, i + 1)
                break
        by_exit.setdefault(info["exit"], []).append(b)
    return out


def _parent(blocks: dict, b: str):
    p = blocks[b]["parent"]
    while p is not None and blocks[p]["kind"] == "repeat":
        p = blocks[p]["parent"]
    return p


def _sig_args(args) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in (args or {}).items()))


def _same(blocks: dict, a: str, b: str) -> bool:
    x, y = blocks[a], blocks[b]
    return (x["module"], x["label"], _sig_args(x["args"]), _parent(blocks, a)) == (
        y["module"],
        y["label"],
        _sig_args(y["args"]),
        _parent(blocks, b),
    )


def _only_into(g: nx.DiGraph, a: str, b: str, aux: bool) -> bool:
    """Everything that reads a's output is inside b, and b reads nothing else."""
    for s in g.successors(g.graph["blocks"][a]["exit"]):
        if b not in g.nodes[s]["scope"] and (aux or not g.nodes[s]["aux"]):
            return False
    entry = g.graph["blocks"][b]["entry"]
    for n, d in g.nodes(data=True):
        if b in d["scope"] and any(i != entry and b not in g.nodes[i]["scope"] for i in d["inputs"]):
            return False
    return True
