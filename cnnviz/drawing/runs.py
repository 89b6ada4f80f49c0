"""Which module instances fold together: runs of identical calls.

Identical means the same module with the same arguments, under the same
parent (repeats looked through), each feeding the next and nothing else —
whether the spec wrote ``xN`` or spelled the instances out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Network, Path

Runs = dict[Path, tuple[Path, int]]
Inside = Mapping[Path, Sequence[Path]]


def inside(net: Network) -> dict[Path, list[Path]]:
    """block → the nodes inside it (at any depth), in execution order: one pass over the
    network, so that a region is drawn by walking its own nodes, not every node."""
    out: dict[Path, list[Path]] = {}
    for node in net.nodes.values():
        for b in node.scope:
            out.setdefault(b, []).append(node.path)
    return out


def runs(net: Network, aux: bool = True, within: Inside | None = None) -> Runs:
    """call block → (first block of its run, 1-based index in the run).

    A run is a chain of call blocks of the same module with the same arguments,
    one feeding the next and nothing else, under the same parent (repeats are
    looked through), whether the spec wrote ``xN`` or spelled them out.
    ``within`` is :func:`inside` of ``net`` when the caller has it already."""
    within = inside(net) if within is None else within
    by_exit: dict[Path, list[Path]] = {}
    out: Runs = {}
    for b, block in net.blocks.items():
        if block.kind != "call":
            continue
        out[b] = (b, 1)
        for prev in by_exit.get(block.entry, ()):
            if _same(net, prev, b) and _only_into(net, within, prev, b, aux):
                first, i = out[prev]
                out[b] = (first, i + 1)
                break
        by_exit.setdefault(block.exit, []).append(b)
    return out


def _parent(net: Network, b: Path) -> Path | None:
    p = net.blocks[b].parent
    while p is not None and net.blocks[p].kind == "repeat":
        p = net.blocks[p].parent
    return p


def _sig_args(args: Mapping[str, Any]) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in args.items()))


def _same(net: Network, a: Path, b: Path) -> bool:
    x, y = net.blocks[a], net.blocks[b]
    return (x.module, x.label, _sig_args(x.args), _parent(net, a)) == (y.module, y.label, _sig_args(y.args), _parent(net, b))


def _only_into(net: Network, within: Inside, a: Path, b: Path, aux: bool) -> bool:
    """Everything that reads a's output is inside b, and b reads nothing else."""
    for s in net.consumers[net.blocks[a].exit]:
        reader = net.nodes[s]
        if b not in reader.scope and (aux or not reader.aux):
            return False
    entry = net.blocks[b].entry
    for n in within.get(b, ()):
        if any(i != entry and b not in net.nodes[i].scope for i in net.nodes[n].inputs):
            return False
    return True
