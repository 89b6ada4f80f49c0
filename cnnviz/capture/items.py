"""The items an imported model becomes, before they are written as a spec (torch-free).

A :class:`Line` is one layer or module call with its settings in the spec's own
(converted) form, only those that differ from the default; :class:`MergeItem` is an
``add``/``concat``/``mul``; :class:`CallItem` a module call whose body is still to be
turned into a module definition (:mod:`cnnviz.capture.fold`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arg:
    """A module argument used in a module's body: ``$name``, or ``$(k*name)``."""

    name: str
    times: int = 1


@dataclass
class Line:
    type: str  # a layer type, 'custom', or a module name (a call)
    fields: dict[str, Any]  # field -> value; the defaults left out (every argument of a call)
    name: str = ""
    repeat: int = 1
    origin: tuple[str, int, tuple[int, ...]] | None = field(default=None, compare=False)  # (class, params, output shape) of the leaf
    channels_last: bool = field(default=False, compare=False)  # a per-position layer on [H, W, C]: valid between two permutes
    anchor: int = field(default=-1, compare=False)  # >= 0: a reference reads this item's output (see From)


@dataclass
class MergeItem:
    kind: str  # add, concat, mul, split; aux or output: a head, its one branch its body
    branches: list[list[Item]]
    name: str = ""
    repeat: int = 1
    anchor: int = field(default=-1, compare=False)


@dataclass
class From:
    """The first item of a branch that starts from an earlier item's output (``from NAME``), the
    item whose ``anchor`` it ``reads``; ``source`` is its name once :func:`bind` has named it."""

    reads: int  # the anchor of the item it reads
    source: str = ""
    name: str = ""  # a reference has no name of its own, and no repeat: these keep the passes over items uniform
    repeat: int = 1


@dataclass
class CallItem:
    cls: str
    body: list[Item]
    in_shape: tuple[int, ...]
    shape: tuple[int, ...]
    name: str = ""
    repeat: int = 1
    line: Line | None = None  # set once the module is defined: the call as written
    anchor: int = field(default=-1, compare=False)
    per_position: list[Item] | None = None  # its layers, unboxed, when each works per position (an Mlp on [H, W, C])


Item = Line | MergeItem | CallItem | From


def fingerprint(item: Item, loose: bool = False) -> str:
    """What must agree for two neighbours to fold into one ×N item: everything but the name
    (and for module calls the input shape; loose ignores its channels)."""
    if isinstance(item, From):
        return f"F{item.source}"
    if isinstance(item, Line):
        return f"L{item.type}{sorted(item.fields.items(), key=lambda kv: kv[0])!r}x{item.repeat}"
    if isinstance(item, MergeItem):
        named = f"@{item.name}" if item.kind == "output" else ""  # two outputs are two, however alike
        return f"M{item.kind}{named}[" + "|".join(",".join(fingerprint(i, loose) for i in b) for b in item.branches) + f"]x{item.repeat}"
    shape = item.in_shape[1:] if loose else item.in_shape
    return f"C{item.cls}{shape}[" + ",".join(fingerprint(i, loose) for i in item.body) + f"]x{item.repeat}"


def fold_runs(items: list[Item], loose: bool = False, _scope: tuple[dict[str, str], set[str]] | None = None) -> list[Item]:
    """Consecutive items with the same fingerprint → one item repeated (its name is the first's).
    An item a reference reads folds only as the last copy (a ×N is read as its last copy's
    output), when the first's name can stand for it: the references are renamed to it."""
    renames, written = _scope if _scope is not None else ({}, _written(items))
    out: list[Item] = []
    prints: list[str] = []  # the fingerprint of one copy of each item of out
    for item in items:
        if isinstance(item, From):
            item.source = renames.get(item.source, item.source)
        elif isinstance(item, MergeItem):
            item.branches = [fold_runs(b, loose, (renames, written)) for b in item.branches]
        elif isinstance(item, CallItem):
            item.body = fold_runs(item.body, loose)  # a scope of its own
        unit = _unit(item, loose)
        last = out[-1] if out else None
        if last is not None and not _anchored(last) and prints[-1] == unit and item.repeat == 1 and not isinstance(item, From) and not isinstance(last, From):
            if item.anchor < 0:
                last.repeat += 1
                continue
            if last.name in written:
                last.repeat += 1
                last.anchor = item.anchor
                renames[item.name] = last.name
                continue
        out.append(item)
        prints.append(unit)
    return out


def _written(items: list[Item]) -> set[str]:
    """The names of one scope (``items`` and their merges' branches) that only one item has."""
    counts: dict[str, int] = {}
    for item in scope(items):
        counts[item.name] = counts.get(item.name, 0) + 1
    return {n for n, c in counts.items() if c == 1 and n}


def scope(items: list[Item]) -> list[Item]:
    """The items a name in ``items`` can be looked up among: these and their merges' branches, at
    any depth (not inside module calls, which are walls)."""
    out: list[Item] = []
    for item in items:
        out.append(item)
        if isinstance(item, MergeItem):
            for b in item.branches:
                out += scope(b)
    return out


def _anchored(item: Item) -> bool:
    """A reference reads it, or it is a reference: it folds with no neighbour (a ×N would be read as its last copy)."""
    return isinstance(item, From) or item.anchor >= 0


def _unit(item: Item, loose: bool) -> str:
    """The fingerprint of one copy of ``item``."""
    saved = item.repeat
    item.repeat = 1
    try:
        return fingerprint(item, loose)
    finally:
        item.repeat = saved


@dataclass
class Module:
    """A module definition: one per distinct block (class and body shape)."""

    name: str
    label: str
    args: list[str] = field(default_factory=list)
    body: list[Item] = field(default_factory=list)
