"""Captured ops → a tree: module calls as blocks, parallel paths as merges (torch-free).

Inside each module call the ops form a graph with one input and one output.  Its
*cut points* (ops every path goes through) make the sequence; between two cut
points the second must be a merge (add, mul, cat) whose inputs each head a branch
(:mod:`cnnviz.capture.series`, which also writes long skips as references).  A call
inside it that takes or gives several values (a U-Net's ``Up(x, skip)``) is written
as its parts when that makes the module expressible ("flattened": a reference may not
cross a module's wall, so the call's wall goes).  A module whose graph is still not of
that shape (a branch feeding two merges, attention's matrix products) becomes one
opaque box with its exact parameter count and output shape."""

from __future__ import annotations

from .nodes import MERGES, AuxHead, Block, Head, Leaf, Merge, Node, Opaque, Ref, Unit, Unstructured, anchor_refs
from .ops import INPUT, Frame, Op
from .series import Level, series, unnest

__all__ = ["MERGES", "AuxHead", "Block", "Head", "Leaf", "Merge", "Node", "Opaque", "Ref", "Unstructured", "tree"]

# how a level is tried, in order: (calls with several inputs or outputs flattened, long skips as references);
# flattened first when there is such a call: its parts drawn rather than one box for all of it
ATTEMPTS = ((False, False), (False, True))
FLATTENED = ((True, False), (True, True), *ATTEMPTS)


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
        node: Node = Block(root, _level(ops, 0, INPUT, output, consumers, ops, heads), shape, in_shape)
    except Unstructured:
        return Opaque(root, shape, ops)
    anchor_refs(node, [0])
    return node


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
    """The items of one module call (or of the model), tried as ATTEMPTS says.  Flattening
    writes a call that takes several values (a U-Net's ``Up(x, skip)``) or gives several
    (an encoder returning its features) as its parts, in this list, so that what it reads
    can be referenced; without it such a call is one opaque box."""
    inside = {op.index for op in members}
    built: dict[str, Node] = {}  # a call's node, the same in every attempt
    first: list[Node] | None = None
    several = _units(members, depth, sink, consumers, True)[2]
    for flatten, refs in FLATTENED if several else ATTEMPTS:
        units, unit_of, _ = _units(members, depth, sink, consumers, flatten)
        nodes = _nodes(units, unit_of, inside, entry, consumers, every, built)
        if sink == entry:
            return []
        if sink not in unit_of:
            raise Unstructured
        lv = Level(units, nodes, refs)
        try:
            main = unnest(series(lv, set(units), INPUT, unit_of[sink]))
        except Unstructured:
            continue
        claimed: set[int] = set()
        if all([_attach(main, lv, unit_of, unit_of[sink], h, claimed) for h in heads]):
            return main
        if first is None:  # a head left out: a later attempt may draw it (a backbone's features, flattened)
            first = main
    if first is None:
        raise Unstructured
    return first


def _units(members: list[Op], depth: int, sink: int, consumers: dict[int, set[int]], flatten: bool) -> tuple[dict[int, Unit], dict[int, int], bool]:
    """The level's units (an op, or one module call's ops), each op's unit, and whether a call was flattened."""
    units: dict[int, Unit] = {}
    unit_of: dict[int, int] = {}
    flattened = False

    def group(ops: list[Op], d: int) -> None:
        nonlocal flattened
        groups: dict[str, list[Op]] = {}
        for op in ops:
            if len(op.stack) == d:
                units[op.index] = Unit(op.index, [op], [], op.index, None, d)
                unit_of[op.index] = op.index
            else:
                groups.setdefault(op.stack[d].key, []).append(op)
        for g in groups.values():
            own = {op.index for op in g}
            outs = [op.index for op in g if op.index == sink or consumers.get(op.index, set()) - own]
            several = len({i for op in g for i in op.inputs if i not in own}) > 1 or len(outs) > 1
            if flatten and several:
                flattened = True
                group(g, d + 1)
                continue
            uid = g[0].index
            units[uid] = Unit(uid, g, [], outs[-1] if len(outs) == 1 else -2, g[0].stack[d], d)
            for op in g:
                unit_of[op.index] = uid

    group(members, depth)
    return dict(sorted(units.items())), unit_of, flattened


def _nodes(units: dict[int, Unit], unit_of: dict[int, int], inside: set[int], entry: int, consumers: dict[int, set[int]], every: list[Op], built: dict[str, Node]) -> dict[int, Node]:
    nodes: dict[int, Node] = {}
    for uid, unit in units.items():
        own = {m.index for m in unit.members}
        external = [i for op in unit.members for i in op.inputs if i not in own]
        if any(i != entry and i not in inside for i in external):
            raise Unstructured  # a value from outside this module other than its input
        unit.preds = list(dict.fromkeys(unit_of[i] if i in inside else INPUT for i in external))
        if unit.frame is None:
            nodes[uid] = Leaf(unit.members[0])
        elif unit.out == -2 or len(set(external)) > 1:
            nodes[uid] = Opaque(unit.frame, unit.members[-1].shape, unit.members)
        else:
            if unit.frame.key not in built:
                sub_in = every[external[0]].shape if external and external[0] != INPUT else _entry_shape(unit.members[0])
                built[unit.frame.key] = _block(unit.frame, unit.members, unit.depth + 1, external[0] if external else entry, unit.out, sub_in, consumers, every)
            nodes[uid] = built[unit.frame.key]
    return nodes


def _attach(main: list[Node], lv: Level, unit_of: dict[int, int], sink: int, h: Head, claimed: set[int]) -> bool:
    """Insert the head that computes ``h.out`` after the item of the main line it starts from; whether it could
    (not when it shares layers with a head before it, ``claimed``: a spec would count them twice)."""
    if h.out not in unit_of:
        return False
    units = lv.units
    try:
        on_main = _ancestors(units, sink, INPUT, set(units))
        head = _ancestors(units, unit_of[h.out], INPUT, set(units)) - on_main
        if not head and h.role == "output" and units[unit_of[h.out]].out == h.out:  # a point of the main line itself
            start, body = unit_of[h.out], []
        else:
            starts = {p for u in head for p in units[u].preds if p not in head}
            if len(starts) != 1 or not head:
                return False
            start = starts.pop()
            if any(unit_of.get(i) == start and i != units[start].out for u in head for op in units[u].members for i in op.inputs):
                return False  # it reads a value from inside the item it starts from (a backbone's layer3), not that item's output
            if head & claimed:
                return False
            claimed |= head
            body = series(Level(units, lv.nodes), head, start, unit_of[h.out])
        at = next((i for i, n in enumerate(main) if start != INPUT and n is lv.emitted.get(start)), None)
        if at is not None:
            while at + 1 < len(main) and isinstance(main[at + 1], AuxHead):  # after the heads already there: in the order returned
                at += 1
            main.insert(at + 1, AuxHead(body, h.role, h.name))
            return True
        return False
    except Unstructured:
        return False  # drawn without that head


def _entry_shape(op: Op) -> tuple[int, ...]:
    return op.in_shapes[0] if op.in_shapes else op.shape


def _ancestors(units: dict[int, Unit], u: int, stop: int, region: set[int]) -> set[int]:
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
