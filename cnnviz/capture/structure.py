"""Captured ops → a tree: module calls as blocks, parallel paths as merges (torch-free).

Inside each module call the ops form a graph with one input and one output.  Its
*cut points* (ops every path goes through) make the sequence; between two cut
points the second must be a merge (add, mul, cat) whose inputs each head a branch.
A module whose graph is not of that shape (two inputs, a branch feeding two merges)
becomes one opaque box with its exact parameter count and output shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..spec.model import HeadRole
from .ops import INPUT, Frame, Op

MERGES = ("add", "mul", "cat")


@dataclass
class Leaf:
    op: Op


@dataclass
class Merge:
    op: Op
    branches: list[list[Node]]  # an empty branch is the identity


@dataclass
class Block:
    frame: Frame
    body: list[Node]
    shape: tuple[int, ...]
    in_shape: tuple[int, ...]


@dataclass
class Opaque:
    frame: Frame
    shape: tuple[int, ...]
    ops: list[Op] = field(default_factory=list)


@dataclass(frozen=True)
class Head:
    """A value the model returns besides its output: an auxiliary head's (training only) or an extra output's."""

    out: int  # the op whose value it is
    role: HeadRole
    name: str = ""  # an output's name (a dict key, or made from its place)


@dataclass
class AuxHead:
    """A head the model returns besides its output, drawn off the main line where it starts."""

    body: list[Node]
    role: HeadRole = "aux"
    name: str = ""


Node = Leaf | Merge | Block | Opaque | AuxHead


class Unstructured(Exception):
    pass


@dataclass
class _Unit:
    id: int
    members: list[Op]
    preds: list[int]  # unit ids (or the source id), in input order
    out: int  # the op whose value leaves the unit
    frame: Frame | None  # set for a module call


def tree(ops: list[Op], output: int, root: Frame, in_shape: tuple[int, ...], heads: tuple[Head, ...] = ()) -> Node:
    """The model as a tree; ``heads``: the other values it returns, drawn as heads off the main
    line where they branch from it (when that is a point of the model's own sequence; an
    output that is such a point itself, as an empty head right after it)."""
    _dense_cats(ops)
    _shuffles(ops)
    consumers: dict[int, set[int]] = {h.out: {-3} for h in heads}  # returned: used outside every module
    for op in ops:
        for i in op.inputs:
            consumers.setdefault(i, set()).add(op.index)
    shape = ops[output].shape if output != INPUT else in_shape
    try:
        return Block(root, _level(ops, 0, INPUT, output, consumers, ops, heads), shape, in_shape)
    except Unstructured:
        return Opaque(root, shape, ops)


def _shuffles(ops: list[Op]) -> None:
    """A channel shuffle as torch writes it (view to [g, C/g, H, W], transpose 1 and 2, view
    back to [C, H, W]) → one ``shuffle`` op; the three ops it replaces are left unused."""
    for op in ops:
        chain = [op]
        while chain[-1].inputs and chain[-1].inputs[0] != INPUT and len(chain) < 5:
            chain.append(ops[chain[-1].inputs[0]])
            if chain[-1].fn == "view" and len(chain[-1].shape) == 4:
                break
        if op.fn != "view" or len(op.shape) != 3 or len(chain) < 3 or chain[-1].fn != "view" or len(chain[-1].shape) != 4:
            continue
        first, middle = chain[-1], chain[1:-1]
        if [m.fn for m in middle if m.fn != "identity"] != ["transpose"] or not first.in_shapes or first.in_shapes[0] != op.shape:
            continue
        if sorted(int(c) for c in next(m for m in middle if m.fn == "transpose").consts[:2]) != [1, 2]:
            continue
        op.fn, op.consts, op.inputs, op.in_shapes = "shuffle", [first.shape[0]], list(first.inputs), list(first.in_shapes)


def _dense_cats(ops: list[Op]) -> None:
    """DenseNet concatenates every earlier output at each layer: cat(x0, …, xk) where an
    earlier cat(x0, …, xk-1) exists is cat(that, xk).  So rewritten, and moved into the
    module that made xk, each layer becomes "its input, concatenated with what it adds"
    (``concat: [identity, [...]]``): one input, one output, and foldable."""
    cats: dict[tuple[int, ...], Op] = {}
    for op in ops:
        if op.fn != "cat" or op.module is not None:
            continue
        key = tuple(op.inputs)
        earlier = cats.get(key[:-1])
        cats.setdefault(key, op)
        if len(key) < 2 or earlier is None or key[-1] == INPUT:
            continue
        last = ops[key[-1]]
        op.inputs = [earlier.index, key[-1]]
        op.in_shapes = [earlier.shape, last.shape]
        op.stack = last.stack


def _block(frame: Frame, members: list[Op], depth: int, entry: int, out: int, in_shape: tuple[int, ...], consumers: dict[int, set[int]], every: list[Op]) -> Node:
    shape = every[out].shape if out != INPUT else in_shape
    try:
        return Block(frame, _level(members, depth, entry, out, consumers, every), shape, in_shape)
    except Unstructured:
        return Opaque(frame, shape, members)


def _level(members: list[Op], depth: int, entry: int, sink: int, consumers: dict[int, set[int]], every: list[Op], heads: tuple[Head, ...] = ()) -> list[Node]:
    inside = {op.index for op in members}
    groups: dict[str, list[Op]] = {}
    units: dict[int, _Unit] = {}
    unit_of: dict[int, int] = {}
    for op in members:
        if len(op.stack) == depth:
            units[op.index] = _Unit(op.index, [op], [], op.index, None)
            unit_of[op.index] = op.index
        else:
            groups.setdefault(op.stack[depth].key, []).append(op)
    for group in groups.values():
        uid = group[0].index
        own = {op.index for op in group}
        outs = [op.index for op in group if op.index == sink or consumers.get(op.index, set()) - own]
        units[uid] = _Unit(uid, group, [], outs[-1] if len(outs) == 1 else -2, group[0].stack[depth])
        for op in group:
            unit_of[op.index] = uid
    nodes: dict[int, Node] = {}
    for uid, unit in units.items():
        external = [i for op in unit.members for i in op.inputs if i not in {m.index for m in unit.members}]
        if any(i != entry and i not in inside for i in external):
            raise Unstructured  # a value from outside this module other than its input
        unit.preds = list(dict.fromkeys(unit_of[i] if i in inside else INPUT for i in external))
        if unit.frame is None:
            nodes[uid] = Leaf(unit.members[0])
        elif unit.out == -2 or len(set(external)) > 1:
            nodes[uid] = Opaque(unit.frame, unit.members[-1].shape, unit.members)
        else:
            sub_in = every[external[0]].shape if external and external[0] != INPUT else _entry_shape(unit.members[0])
            nodes[uid] = _block(unit.frame, unit.members, depth + 1, external[0] if external else entry, unit.out, sub_in, consumers, every)
    if sink == entry:
        return []
    if sink not in unit_of:
        raise Unstructured
    main = _series(units, nodes, set(units), INPUT, unit_of[sink])
    for h in heads:
        _attach(main, units, nodes, unit_of, unit_of[sink], h)
    return main


def _attach(main: list[Node], units: dict[int, _Unit], nodes: dict[int, Node], unit_of: dict[int, int], sink: int, h: Head) -> None:
    """Insert the head that computes ``h.out`` after the item of the main line it starts from."""
    if h.out not in unit_of:
        return
    try:
        on_main = _ancestors(units, sink, INPUT, set(units))
        head = _ancestors(units, unit_of[h.out], INPUT, set(units)) - on_main
        if not head and h.role == "output" and units[unit_of[h.out]].out == h.out:  # a point of the main line itself
            start, body = unit_of[h.out], []
        else:
            starts = {p for u in head for p in units[u].preds if p not in head}
            if len(starts) != 1 or not head:
                return
            start = starts.pop()
            if any(unit_of.get(i) == start and i != units[start].out for u in head for op in units[u].members for i in op.inputs):
                return  # it reads a value from inside the item it starts from (a backbone's layer3), not that item's output
            body = _series(units, nodes, head, start, unit_of[h.out])
        at = next((i for i, n in enumerate(main) if start != INPUT and n is nodes.get(start)), None)
        if at is not None:
            while at + 1 < len(main) and isinstance(main[at + 1], AuxHead):  # after the heads already there: in the order returned
                at += 1
            main.insert(at + 1, AuxHead(body, h.role, h.name))
    except Unstructured:
        return  # drawn without that head


def _entry_shape(op: Op) -> tuple[int, ...]:
    return op.in_shapes[0] if op.in_shapes else op.shape


def _series(units: dict[int, _Unit], nodes: dict[int, Node], region: set[int], src: int, sink: int) -> list[Node]:
    """The items from just after ``src`` up to and including ``sink``."""
    keep: set[int] = set()
    todo = [sink]
    while todo:
        u = todo.pop()
        if u in keep or u not in region:
            continue
        keep.add(u)
        todo += [p for p in units[u].preds if p != src]
    order = sorted(keep)
    pos = {u: i for i, u in enumerate(order)}
    furthest = -1
    for i, u in enumerate(order):
        for p in units[u].preds:
            if p == src:
                furthest = max(furthest, i)
    out: list[Node] = []
    prev, between = src, list[int]()
    far = furthest
    for i, u in enumerate(order):
        cut = far <= i
        for p in units[u].preds:
            if p not in pos and p != src:
                raise Unstructured
        if cut:
            out.append(_emit(units, nodes, u, prev, between))
            prev, between = u, []
        else:
            between.append(u)
        consumers_at = [j for j, v in enumerate(order) if u in units[v].preds]
        far = max([far, *consumers_at])
    return out


def _emit(units: dict[int, _Unit], nodes: dict[int, Node], u: int, prev: int, between: list[int]) -> Node:
    unit = units[u]
    if not between and unit.preds == [prev]:
        return nodes[u]
    node = nodes[u]
    if not isinstance(node, Leaf) or node.op.fn not in MERGES:
        raise Unstructured
    branches: list[list[Node]] = []
    used: set[int] = set()
    for p in unit.preds:
        if p == prev:
            branches.append([])
            continue
        part = _ancestors(units, p, prev, set(between))
        if part & used:
            raise Unstructured  # one value feeds two branches
        used |= part
        branches.append(_series(units, nodes, part, prev, p))
    if used != set(between):
        raise Unstructured
    if len(branches) < 2:
        raise Unstructured
    return Merge(node.op, branches)


def _ancestors(units: dict[int, _Unit], u: int, stop: int, region: set[int]) -> set[int]:
    seen: set[int] = set()
    todo = [u]
    while todo:
        v = todo.pop()
        if v == stop or v in seen:
            continue
        if v not in region:
            raise Unstructured
        seen.add(v)
        todo += units[v].preds
    return seen
