"""Module calls → module definitions: one per distinct block, numbers that differ become arguments.

Calls of one class whose bodies have the same shape (the same items in the same
order, with the same names) share one module; a setting that differs between them
becomes an argument (``$filters``), or a multiple of one (``$(4*filters)``).
Inner modules are defined before the modules that call them."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..drawing.labels import SEP
from ..drawing.naming import arg_text, separating
from ..spec.layers import LAYERS, REQUIRED
from .items import Arg, CallItem, From, Item, Line, MergeItem, Module, fingerprint

RESERVED = {"add", "concat", "mul", "split", "towers", "aux", "custom", "from", "none", "input"}


class CannotUnify(Exception):
    pass


def default(kind: str, field: str) -> Any:
    t = LAYERS.get(kind)
    f = t.field(field) if t else None
    return None if f is None or f.default is REQUIRED else f.default


class Args:
    """The arguments of one module being defined: name -> its value in each instance."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}

    def value(self, vals: list[Any], hint: str) -> Any:
        if all(v == vals[0] for v in vals):
            return vals[0]
        if any(v is None or isinstance(v, (list, dict, Arg)) for v in vals):
            raise CannotUnify
        if hint == "stride" and all(isinstance(v, tuple) and v[0] == v[1] for v in vals):
            vals = [v[0] for v in vals]
        for name, known in self.values.items():
            if known == vals:
                return Arg(name)
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in vals)
        if ints:
            for name, known in self.values.items():
                if all(isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in known) and all(v % k == 0 for v, k in zip(vals, known)):
                    ratio = {v // k for v, k in zip(vals, known)}
                    if len(ratio) == 1 and (r := ratio.pop()) > 1:
                        return Arg(name, r)
        name = hint
        n = 2
        while name in self.values:
            name, n = f"{hint}{n}", n + 1
        self.values[name] = vals
        return Arg(name)


def _as_line(item: Item) -> Item:
    if isinstance(item, CallItem):
        assert item.line is not None  # inner modules are defined first
        return item.line
    return item


def shape_key(items: list[Item]) -> str:
    """What instances of one module must share: item kinds, order, names, merges (not settings)."""
    out = []
    for item in map(_as_line, items):
        if isinstance(item, From):
            out.append(f"F{item.source}")
        elif isinstance(item, Line):
            out.append(f"L{item.type}:{item.name}:{item.fields.get('label', '')}")
        elif isinstance(item, MergeItem):
            out.append(f"M{item.kind}:{item.name}:{item.repeat}(" + "|".join(shape_key(b) for b in item.branches) + ")")
    return ",".join(out)


def unify(lists: list[list[Item]], args: Args) -> list[Item]:
    return [_unify_item([_as_line(lst[i]) for lst in lists], args) for i in range(len(lists[0]))]


def _unify_item(its: list[Item], args: Args) -> Item:
    first = its[0]
    if isinstance(first, From):
        return first  # the same in every instance: the shape key holds its name
    if isinstance(first, MergeItem):
        merges = [i for i in its if isinstance(i, MergeItem)]
        return MergeItem(first.kind, [unify([m.branches[b] for m in merges], args) for b in range(len(first.branches))], first.name, first.repeat)
    lines = [i for i in its if isinstance(i, Line)]
    assert isinstance(first, Line) and len(lines) == len(its)
    fields: dict[str, Any] = {}
    for line in lines:
        for f in line.fields:
            fields.setdefault(f, None)
    for f in fields:
        vals = [line.fields.get(f, default(line.type, f)) for line in lines]
        if f == "output" and any(v != vals[0] for v in vals):
            raise CannotUnify  # a spec substitutes no $name inside a list: modules apart
        if f == "output":
            fields[f] = vals[0]
        else:
            fields[f] = args.value(vals, f)
    fields = {f: v for f, v in fields.items() if isinstance(v, Arg) or v != default(first.type, f) or first.type not in LAYERS}
    return Line(first.type, fields, first.name, args.value([line.repeat for line in lines], "n"))


def _calls(items: list[Item], out: list[CallItem]) -> list[CallItem]:
    for item in items:
        if isinstance(item, MergeItem):
            for b in item.branches:
                _calls(b, out)
        elif isinstance(item, CallItem):
            _calls(item.body, out)
            out.append(item)
    return out


def _height(item: CallItem) -> int:
    inner = _calls(item.body, [])
    return 1 + max((_height(c) for c in inner), default=0)


def define(items: list[Item]) -> list[Module]:
    """Set ``line`` on every module call in ``items`` and return the modules, inner ones first."""
    calls = _calls(items, [])
    modules: list[Module] = []
    taken: set[str] = set(LAYERS) | RESERVED
    first: list[CallItem] = []  # a call of each module, in the order of ``modules``
    for height in sorted({_height(c) for c in calls}):
        groups: dict[tuple[str, str], list[CallItem]] = {}
        for c in calls:
            if _height(c) == height:
                groups.setdefault((c.cls, shape_key(c.body)), []).append(c)
        for (cls, _), group in groups.items():
            try:
                modules.append(_module(cls, group, taken))
                first.append(group[0])
            except CannotUnify:
                exact: dict[str, list[CallItem]] = {}
                for c in group:
                    exact.setdefault("".join(fingerprint(_as_line(i)) for i in c.body), []).append(c)
                for same in exact.values():
                    modules.append(_module(cls, same, taken))
                    first.append(same[0])
    _tell_apart(modules, first)
    return modules


def _names(items: list[Item]) -> set[str]:
    """The names of the items, at any depth of merges, except those that end in an index
    (``block_3``, ``denselayer7``): they tell instances apart, not what differs."""
    out: set[str] = set()
    for item in items:
        if item.name and not re.search(r"\d+$", item.name):
            out.add(item.name)
        if isinstance(item, MergeItem):
            for b in item.branches:
                out |= _names(b)
    return out


def _residual(items: list[Item]) -> set[str]:
    return {"residual"} if any(isinstance(i, MergeItem) and i.kind == "add" and [] in i.branches for i in items) else set()


def _tell_apart(modules: list[Module], first: list[CallItem]) -> None:
    """Modules of one class get labels that say what only some of them have ("Bottleneck
    (downsample)", "MBConv (residual)"), or else the fewest settings that differ, as a
    spec's variant panels are named ("MBConv · e6, k5"), or else a number."""
    by_label: dict[str, list[int]] = {}
    for i, m in enumerate(modules):
        by_label.setdefault(m.label, []).append(i)
    for label, same in by_label.items():
        if len(same) < 2:
            continue
        bodies = [modules[i].body for i in same]
        labels = _by_names(label, bodies) or _by_settings(label, [_settings(first[i], b) for i, b in zip(same, bodies)])
        if labels is None:
            labels = [label] * len(same)
        seen: dict[str, int] = {}
        for i, new in zip(same, labels):
            seen[new] = seen.get(new, 0) + 1
            modules[i].label = new if seen[new] == 1 else f"{new} {seen[new]}"


def _by_names(label: str, bodies: list[list[Item]]) -> list[str] | None:
    """Labels by the names (or the residual) only some have, at most two each; None when they do not tell all apart."""
    for features in ([_names(b) for b in bodies], [_names(b) | _residual(b) for b in bodies]):
        common = set.intersection(*features)
        extras = [sorted(own - common) for own in features]
        labels = [f"{label} ({', '.join(extra)})" if extra else label for extra in extras]
        if len(set(labels)) == len(labels) and all(len(extra) <= 2 for extra in extras):
            return labels
    return None


def _by_settings(label: str, sets: list[dict[str, Any]]) -> list[str] | None:
    """Labels by the fewest settings that tell the modules apart (:func:`~cnnviz.drawing.naming.separating`,
    as for a spec's panels); None when they do not."""
    keys = separating(sets, [0] * len(sets), list(range(len(sets))))
    texts = [", ".join(t for k in keys if (t := _setting_text(k, s.get(k)))) for s in sets]
    labels = [SEP.join([label, t]) if t else label for t in texts]
    return labels if keys and len(set(labels)) == len(labels) else None


def _setting_text(key: str, value: Any) -> str:
    if value is True or value is None:  # a name or an inner module that only some have
        return key if value else ""
    return arg_text(key, value)


def _settings(call: CallItem, body: list[Item]) -> dict[str, Any]:
    """What may tell one block apart from another of its class: the names and the residual
    only some have, its kernel sizes, its expansion (its widest inner tensor over its input
    channels, when it holds a conv), the inner modules it calls, how many it holds."""
    lines, inner = _leaves(call.body)
    out: dict[str, Any] = {n: True for n in sorted(_names(body) | _residual(body))}
    kernels = sorted({ln.fields["kernel"] for ln in lines if ln.type in ("conv", "dwconv") and ln.fields.get("kernel") not in (None, (1, 1))})
    if kernels:
        out["k"] = kernels[0] if len(kernels) == 1 else tuple(kernels)
    widest = max([ln.origin[2][0] for ln in lines if ln.origin and ln.origin[2]] + [c.shape[0] for c in inner if c.shape], default=0)
    if call.in_shape and widest % call.in_shape[0] == 0 and any(ln.type in ("conv", "dwconv") for ln in lines):
        out["e"] = widest // call.in_shape[0]
    out |= {c.cls: True for c in inner}
    members: list[Line | CallItem] = [*lines, *inner]
    out["layers"] = sum(i.repeat if isinstance(i.repeat, int) else 1 for i in members)
    return out


def _leaves(items: list[Item]) -> tuple[list[Line], list[CallItem]]:
    """The layers and the module calls of a body, at any depth of merges (not inside the calls)."""
    lines: list[Line] = []
    calls: list[CallItem] = []
    for item in items:
        if isinstance(item, MergeItem):
            for b in item.branches:
                more = _leaves(b)
                lines += more[0]
                calls += more[1]
        elif isinstance(item, CallItem):
            calls.append(item)
        elif isinstance(item, Line):
            lines.append(item)
    return lines, calls


def snake(cls: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls).lower()
    s = re.sub(r"\W+", "_", s).strip("_") or "block"
    return s if re.match(r"^[a-z_]", s) else f"m_{s}"


def _fewer_args(body: list[Item], args: Args) -> list[Item]:
    """An argument that is always a whole multiple of a later one is written through it:
    ``$filters`` = 4 × ``$filters2`` becomes ``$(4*filters2)``, one argument fewer."""
    ints = {n: v for n, v in args.values.items() if all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)}
    swap: dict[str, Arg] = {}
    for big, bv in ints.items():
        for small, sv in ints.items():
            if small != big and small not in swap and all(b % s == 0 for b, s in zip(bv, sv)) and len({b // s for b, s in zip(bv, sv)}) == 1 and bv[0] > sv[0]:
                swap[big] = Arg(small, bv[0] // sv[0])
                break
    if not swap:
        return body
    for name in swap:
        del args.values[name]
    body = [_rewrite(i, swap) for i in body]
    renames: dict[str, Arg] = {}  # filters2 -> filters once filters is gone
    for name in list(args.values):
        base = re.sub(r"\d+$", "", name)
        if base != name and base not in args.values and base not in {a.name for a in renames.values()}:
            renames[name] = Arg(base)
    if renames:
        args.values = {renames[n].name if n in renames else n: v for n, v in args.values.items()}
        body = [_rewrite(i, renames) for i in body]
    return body


def _rewrite(item: Item, swap: dict[str, Arg]) -> Item:
    def fix(v: Any) -> Any:
        if isinstance(v, Arg) and v.name in swap:
            return Arg(swap[v.name].name, swap[v.name].times * v.times)
        return [fix(x) for x in v] if isinstance(v, list) else v

    if isinstance(item, MergeItem):
        item.branches = [[_rewrite(i, swap) for i in b] for b in item.branches]
    elif isinstance(item, Line):
        item.fields = {k: fix(v) for k, v in item.fields.items()}
    item.repeat = fix(item.repeat)
    return item


def _module(cls: str, group: list[CallItem], taken: set[str]) -> Module:
    args = Args()
    body = _fewer_args(unify([copy.deepcopy(c.body) for c in group], args), args)
    base = snake(cls)
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    for i, c in enumerate(group):
        c.line = Line(name, {a: vals[i] for a, vals in args.values.items()}, c.name, c.repeat)
    return Module(name, cls, list(args.values), body)
