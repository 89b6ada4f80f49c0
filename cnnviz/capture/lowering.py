"""Captured blocks → spec items, and the passes over a sequence of items (torch-free).

A module call becomes a block (or is written inline: a container, a block of one
layer); a batch norm and an activation right after a convolution fold into it; a
run on channels-last between two permutes is the same run on channels-first."""

from __future__ import annotations

import copy

from ..spec.items import MERGES as SPEC_MERGES
from ..spec.layers import LAYERS
from ..spec.names import name_problem
from .items import CallItem, From, Item, Line, MergeItem, scope
from .leaves import ACTS, INLINE, Unexpressible, custom, fn_line, gap_keeps, leaf_line
from .oplabels import REARRANGING, op_label
from .ops import Op, leaf_params
from .structure import AuxHead, Block, Leaf, Merge, Node, Opaque, Ref


def lower(node: Node, parent: str = "") -> list[Item]:
    """A node of the captured tree → items (a block's items, or one item); ``parent``: the
    path of the module call whose list they are in (names are paths relative to it)."""
    if isinstance(node, Ref):
        return [From(node.target.anchor)]
    items = _lower(node, parent)
    anchor = getattr(node, "anchor", -1)
    if anchor >= 0:
        if not items or isinstance(items[-1], From):
            raise Unexpressible("a reference to a value drawn as nothing")
        items[-1].anchor = anchor
    return items


def _entry(op: Op) -> tuple[int, ...]:
    return op.in_shapes[0] if op.in_shapes else op.shape


def _local(path: str, parent: str) -> str:
    """A module path as a name in its caller's list: relative to the caller, ``.`` written ``_``."""
    rest = path[len(parent) + 1 :] if parent and path.startswith(parent + ".") else path if not parent else path.rsplit(".", 1)[-1]
    return rest.replace(".", "_")


def _lower(node: Node, parent: str) -> list[Item]:
    if isinstance(node, Leaf):
        op = node.op
        if op.module is None and (op.fn in ("identity", "chunk") or (op.fn in ("cat", "pad") and len(op.inputs) == 1 and not op.params and op.shape == _entry(op))):
            return []  # a copy, a concatenation of one tensor, a padding by nothing, or the parts a split merge takes apart
        line = leaf_line(op) if op.module is not None else fn_line(op)
        if line is not None and line.type == "dropout" and line.fields.get("p") == 0.0:
            return []  # drops nothing (timm's default drop rates): not drawn, as torchvision has none there
        label = type(op.module).__name__ if op.module is not None else op_label(op)
        if line is None:
            line = custom(label, leaf_params(op), op.shape)
        line.origin = line.origin or (label, leaf_params(op), op.shape)
        line.name = _local(op.path, parent) if op.path else ""
        return [line]
    if isinstance(node, AuxHead):
        return [MergeItem(node.role, [tidy(_seq(node.body, parent))], node.name)]
    if isinstance(node, Merge):
        if _split(node):
            return [MergeItem("split", [tidy(_seq(b[1:], parent)) for b in node.branches])]
        kind = {"add": "add", "cat": "concat", "mul": "mul"}[node.op.fn]
        if kind not in SPEC_MERGES:
            raise Unexpressible("mul")
        if kind == "concat" and node.op.consts and node.op.consts[0] not in (1, -3):
            raise Unexpressible("cat")
        return [MergeItem(kind, [tidy(_seq(b, parent)) for b in node.branches])]
    if isinstance(node, Opaque):
        return [_opaque(node, parent)]
    assert isinstance(node, Block)
    try:
        seq = _seq(node.body, node.frame.path)
        raw = _per_position(seq)
        body = tidy(seq)
        inline = node.frame.cls in INLINE or _norm_act(body)
        if not inline:
            bind(body)
    except Unexpressible:
        return [_opaque(Opaque(node.frame, node.shape, _all_ops(node)), parent)]
    local = _local(node.frame.path, parent)
    if len(body) == 1 and isinstance(body[0], Line):
        body[0].name = local  # a module of one layer is drawn as that layer
        return body
    if inline:
        for item in body:  # spliced into the caller: the names say where they came from
            item.name = f"{local}_{item.name}" if item.name else ""
        return body
    return [CallItem(node.frame.cls, body, node.in_shape, node.shape, local, per_position=raw)]


def _per_position(items: list[Item]) -> list[Item] | None:
    """Copies of the layers of a block whose every layer works per position on [H, W, C]
    (timm's Mlp: Linear, GELU, Linear), to be written inline between two permutes; else None."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, CallItem) and item.per_position is not None:
            out += [copy.deepcopy(x) for x in item.per_position]
        elif isinstance(item, Line) and (item.channels_last or item.type in AGNOSTIC):
            out.append(copy.deepcopy(item))
        else:
            return None
    return out if any(isinstance(x, Line) and x.channels_last for x in out) else None


def _norm_act(body: list[Item]) -> bool:
    """A norm and its activation (timm's BatchNormAct2d): written inline, so that both fold
    into the convolution before them as torchvision's Conv2dNormActivation's do."""
    kinds = [i.type if isinstance(i, Line) else "" for i in body]
    return bool(kinds) and kinds[0] in ("bn", "layernorm", "groupnorm") and all(k in ACTS.values() or k in ("identity", "dropout") for k in kinds[1:])


def lower_root(node: Node) -> list[Item]:
    """The model's own items (its body, not a call of it)."""
    if isinstance(node, Block):
        items = tidy(_seq(node.body, node.frame.path))
        bind(items)
        return items
    return [_opaque(node)] if isinstance(node, Opaque) else lower(node)


def _split(node: Merge) -> bool:
    """cat(part 0, f(part 1), …) of the equal parts of one chunk along the channels: a split merge."""
    heads = [b[0].op if b and isinstance(b[0], Leaf) else None for b in node.branches]
    if node.op.fn != "cat" or "split" not in SPEC_MERGES or any(h is None or h.fn != "getitem" for h in heads):
        return False
    sources = {h.inputs[0] for h in heads if h is not None}
    indices = [h.consts[0] if h is not None and h.consts else None for h in heads]
    widths = {h.shape[0] for h in heads if h is not None}
    whole = heads[0].in_shapes[0] if heads[0] is not None and heads[0].in_shapes else ()
    return len(sources) == 1 and indices == list(range(len(heads))) and len(widths) == 1 and bool(whole) and whole[0] == len(heads) * widths.pop()


def _all_ops(node: Node) -> list[Op]:
    if isinstance(node, Leaf):
        return [node.op]
    if isinstance(node, Opaque):
        return node.ops
    if isinstance(node, Merge):
        return [node.op, *(op for b in node.branches for n in b for op in _all_ops(n))]
    if isinstance(node, Ref):
        return []  # the item it reads is in the same block: its ops are counted there
    return [op for n in node.body for op in _all_ops(n)]


def _opaque(node: Opaque, parent: str = "") -> Line:
    seen: set[int] = set()
    params = 0
    for op in node.ops:
        if op.module is not None and id(op.module) not in seen:
            seen.add(id(op.module))
            params += leaf_params(op)
        elif op.module is None:
            params += op.params
    return custom(node.frame.cls, params, node.shape, _local(node.frame.path, parent))


def _seq(nodes: list[Node], parent: str) -> list[Item]:
    return [item for n in nodes for item in lower(n, parent)]


def bind(items: list[Item]) -> None:
    """Name each item a reference reads, uniquely among the names of ``items`` and their
    branches (one scope: module bodies are scopes of their own), and each reference by it."""
    targets: dict[int, Line | MergeItem | CallItem] = {}
    names: dict[str, int] = {}
    refs: list[From] = []
    for it in scope(items):
        if isinstance(it, From):
            refs.append(it)
            continue
        if it.anchor >= 0:
            targets[it.anchor] = it
        names[it.name] = names.get(it.name, 0) + 1
    for ref in refs:
        t = targets.get(ref.reads)
        if t is None:
            raise Unexpressible("a reference to a value drawn as nothing")
        if not t.name or name_problem(t.name) or names[t.name] > 1:
            base = t.name if t.name and not name_problem(t.name) else (t.type if isinstance(t, Line) else t.kind if isinstance(t, MergeItem) else t.cls.lower())
            name, n = base, 2
            while name in names:
                name, n = f"{base}_{n}", n + 1
            names[t.name] -= 1
            t.name, names[name] = name, 1
        ref.source = t.name


AGNOSTIC = ("identity", "dropout", "droppath", *ACTS.values())  # layers indifferent to where the channels are


def _channels_last(items: list[Item]) -> list[Item]:
    """permute to [H, W, C], per-position layers, permute back → the same layers on [C, H, W]
    (a Linear there is a 1x1 convolution, a LayerNorm a layernorm over channels).  What is
    left unpaired becomes a box of its own (custom)."""
    out: list[Item] = []
    i = 0
    while i < len(items):
        j = _permuted_run(items, i)
        if j:
            for inner in items[i + 1 : j]:
                for x in inner.per_position or [] if isinstance(inner, CallItem) else [inner]:
                    if isinstance(x, Line):
                        x.channels_last = False
                        x.name = f"{inner.name}_{x.name}" if inner is not x and x.name else x.name
                        out.append(x)
            i = j + 1
            continue
        out.append(items[i])
        i += 1
    return [_boxed(x) if isinstance(x, Line) and (x.channels_last or x.type == "permute") else x for x in out]


def _permuted_run(items: list[Item], i: int) -> int:
    """The index of the permute back to [C, H, W] that closes a run opened at ``i``, or 0."""
    if not _is(items[i], "permute", [0, 2, 3, 1]):
        return 0
    j = i + 1
    while j < len(items) and (isinstance(x := items[j], Line) and (x.channels_last or x.type in AGNOSTIC) or isinstance(x, CallItem) and x.per_position is not None):
        j += 1
    return j if j < len(items) and _is(items[j], "permute", [0, 3, 1, 2]) else 0


def _is(item: Item, kind: str, dims: list[int] | None = None) -> bool:
    return isinstance(item, Line) and item.type == kind and (dims is None or item.fields.get("dims") == dims)


def _boxed(line: Line) -> Line:
    if line.origin is None:
        raise Unexpressible(line.type)
    label, params, shape = line.origin
    boxed = custom(label, params, shape, line.name)
    boxed.anchor = line.anchor
    return boxed


def tidy(items: list[Item]) -> list[Item]:
    """Fold a batch norm and an activation into the convolution (or dense layer) before them."""
    items = _channels_last(items)
    out: list[Item] = []
    for item in items:
        last = out[-1] if out else None
        if not isinstance(item, Line) or not isinstance(last, Line) or last.anchor >= 0:  # a referenced output stays as it is
            out.append(item)
            continue
        if last.type in ("conv", "dwconv", "tconv") and item.type == "bn" and "bn" not in last.fields and "act" not in last.fields:
            last.fields["bn"] = True
            if "eps" in item.fields:
                last.fields["eps"] = item.fields["eps"]
        elif last.type in ("conv", "dwconv", "tconv", "dense") and "act" not in last.fields and _act_ok(last.type, item.type):
            last.fields["act"] = item.type
        elif _rearranging(item) and _rearranging(last):  # view then permute: one box, from the first's input to the second's output
            last.fields["output"] = item.fields["output"]
        elif last.fields.get("keep") and item.type == "flatten":
            last.fields.pop("keep")
        elif last.origin and last.origin[0] == "gap" and item.type == "flatten":
            out[-1] = Line("gap", {}, last.name)
        else:
            out.append(item)
            continue
        folded = out[-1]
        assert isinstance(folded, Line)
        folded.anchor = item.anchor  # what it folded in: its output is the item's
    for item in out:
        if isinstance(item, Line) and item.type == "gap" and item.fields.get("keep") and not gap_keeps():
            raise Unexpressible("gap keep")
    return out


def _rearranging(item: Item | None) -> bool:
    return isinstance(item, Line) and item.type == "custom" and item.fields.get("label") in REARRANGING and not item.fields.get("params")


def _act_ok(kind: str, act: str) -> bool:
    f = LAYERS[kind].field("act") if kind in LAYERS else None
    if f is None:
        return False
    try:
        f.convert(act)
    except ValueError:
        return False
    return act != "softmax" or kind == "dense"
