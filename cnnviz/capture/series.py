"""One level of a module's units → a sequence of nodes with merges, and long skips as references (torch-free).

The *cut points* (units every path goes through) make the sequence; between two of them
the second must be a merge whose inputs each head a branch.  That is how a block is
written without references, and it is tried first.  A level that cannot be written so
(an FPN's laterals, a U-Net whose decoder steps are modules) is tried again with
references: its main line is its longest path, and an edge from a point of that line to
a later unit other than the next is a *long skip*, written as a branch that starts
``from`` the earlier item.  So every skip lands where the spec language can reach it: in
the same list or one around it, never inside another module.

A branch that goes down in size and back up (a U-Net's encoder–decoder pair, nestable as
``concat: [identity, [pool, …, up]]``) is unnested the same way (:func:`unnest`): the
picture of a U-Net is a U, as a hand-written spec's."""

from __future__ import annotations

from dataclasses import dataclass, field

from .nodes import MERGES, AuxHead, Block, Leaf, Merge, Node, Opaque, Ref, Unit, Unstructured, shape_of

Target = Leaf | Merge | Block | Opaque


@dataclass
class Level:
    units: dict[int, Unit]
    nodes: dict[int, Node]
    refs: bool = False  # may a branch start from an earlier item (a long skip)?
    emitted: dict[int, Node] = field(default_factory=dict)  # unit -> the node written for it (a merge: its Merge)


def series(lv: Level, region: set[int], src: int, sink: int, done: dict[int, Target] | None = None) -> list[Node]:
    """The items from just after ``src`` up to and including ``sink``; ``done``: the items written
    before, in this list and the lists around it, that a reference may read."""
    done = dict(done or {})
    keep: set[int] = set()
    todo = [sink]
    while todo:
        u = todo.pop()
        if u in keep or u not in region:
            continue
        keep.add(u)
        todo += [p for p in lv.units[u].preds if p != src and p not in done]
    order = sorted(keep)
    pos = {u: i for i, u in enumerate(order)}
    nxt = _main_line(lv, order, src, sink) if lv.refs else None

    def long(u: int, v: int) -> bool:
        return nxt is not None and u in nxt and nxt[u] != v

    far = max((i for i, u in enumerate(order) if src in lv.units[u].preds), default=-1)
    out: list[Node] = []
    prev, between = src, list[int]()
    for i, u in enumerate(order):
        if any(p not in pos and p != src and p not in done for p in lv.units[u].preds):
            raise Unstructured
        if far <= i:
            node = _emit(lv, u, prev, between, done)
            out.append(node)
            lv.emitted[u] = node
            if isinstance(node, (Leaf, Merge, Block, Opaque)):
                done[u] = node
            prev, between = u, []
        else:
            between.append(u)
        far = max([far, *(j for j, v in enumerate(order) if u in lv.units[v].preds and not long(u, v))])
    return out


def _main_line(lv: Level, order: list[int], src: int, sink: int) -> dict[int, int]:
    """The longest path from ``src`` to ``sink``, as each of its units' successor on it."""
    dist: dict[int, int] = {src: 0}
    best: dict[int, int] = {}
    for u in order:
        came = [p for p in lv.units[u].preds if p in dist]
        if came:
            best[u] = max(came, key=lambda p: (dist[p], p))  # a tie: the later one
        dist[u] = dist[best[u]] + 1 if u in best else 0
    nxt: dict[int, int] = {}
    u = sink
    while u in best and u != src:
        nxt[best[u]] = u
        u = best[u]
    nxt.pop(src, None)  # the source cannot be named: its edges are never references
    return nxt


def _emit(lv: Level, u: int, prev: int, between: list[int], done: dict[int, Target]) -> Node:
    unit = lv.units[u]
    if not between and unit.preds == [prev]:
        return lv.nodes[u]
    node = lv.nodes[u]
    if not isinstance(node, Leaf) or node.op.fn not in MERGES:
        raise Unstructured
    branches: list[list[Node]] = []
    used: set[int] = set()
    for p in unit.preds:
        if p == prev:
            branches.append([])
            continue
        if lv.refs and p in done:
            branches.append([Ref(done[p])])
            continue
        part, start = _reach(lv, p, prev, set(between), done if lv.refs else {})
        if part & used:
            raise Unstructured  # one value feeds two branches
        used |= part
        body = series(lv, part, start, p, done)
        branches.append(body if start == prev else [Ref(done[start]), *body])
    if used != set(between) or len(branches) < 2:
        raise Unstructured
    return Merge(node.op, branches)


def _reach(lv: Level, u: int, prev: int, region: set[int], done: dict[int, Target]) -> tuple[set[int], int]:
    """The units of the branch that ends in ``u``, and where it starts: ``prev`` (the merge's
    input) or an item written before (a reference)."""
    seen: set[int] = set()
    starts: set[int] = set()
    todo = [u]
    while todo:
        v = todo.pop()
        if v == prev or v in done:
            starts.add(v)
            continue
        if v in seen:
            continue
        if v not in region:
            raise Unstructured
        seen.add(v)
        todo += lv.units[v].preds
    if len(starts) > 1:
        raise Unstructured  # a branch that reads two earlier values
    return seen, starts.pop() if starts else prev


def unnest(nodes: list[Node]) -> list[Node]:
    """``concat: [identity, [down, …, up]]`` → ``down, …, up, concat: [from X, identity]``, X the
    item before the merge (whose output both branches start from), at every depth; the other
    branch may hold layers of its own (an FPN's lateral: ``add: [identity, [from X, conv 1x1]]``)."""
    out: list[Node] = []
    for n in nodes:
        if isinstance(n, Merge):
            n.branches = [unnest(b) for b in n.branches]
            k = _down_and_up(n)
            target = next((m for m in reversed(out) if not isinstance(m, AuxHead)), None)
            if k is not None and isinstance(target, (Leaf, Merge, Block, Opaque)) and not _blank(target):
                out += n.branches[k]
                n.branches = [[] if i == k else [Ref(target), *b] for i, b in enumerate(n.branches)]
        out.append(n)
    return out


def _down_and_up(n: Merge) -> int | None:
    """The branch of a two-branch ``cat``/``add`` that goes down in size and back up to the
    merge's, while the other does not go down, or None."""
    if n.op.fn not in ("cat", "add") or len(n.branches) != 2 or len(n.op.shape) != 3:
        return None
    area = n.op.shape[1] * n.op.shape[2]

    def down(branch: list[Node]) -> bool:
        return any((s := shape_of(x)) is not None and len(s) == 3 and s[1] * s[2] < area for x in branch)

    ups = [k for k, b in enumerate(n.branches) if b and down(b) and not isinstance(b[0], Ref) and (s := shape_of(b[-1])) is not None and s[1:] == n.op.shape[1:]]
    if len(ups) != 1 or down(other := n.branches[1 - ups[0]]) or (other and isinstance(other[0], Ref)):
        return None
    return ups[0]


def _blank(node: Node) -> bool:
    """A node written as nothing (a copy): it cannot be named."""
    return isinstance(node, Leaf) and node.op.module is None and node.op.fn in ("identity", "chunk")
