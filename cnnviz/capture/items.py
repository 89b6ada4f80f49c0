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


@dataclass
class MergeItem:
    kind: str  # add, concat, mul, split; aux or output: a head, its one branch its body
    branches: list[list[Item]]
    name: str = ""
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
    per_position: list[Item] | None = None  # its layers, unboxed, when each works per position (an Mlp on [H, W, C])


Item = Line | MergeItem | CallItem


def fingerprint(item: Item, loose: bool = False) -> str:
    """What must agree for two neighbours to fold into one ×N item: everything but the name
    (and for module calls the input shape; loose ignores its channels)."""
    if isinstance(item, Line):
        return f"L{item.type}{sorted(item.fields.items(), key=lambda kv: kv[0])!r}x{item.repeat}"
    if isinstance(item, MergeItem):
        named = f"@{item.name}" if item.kind == "output" else ""  # two outputs are two, however alike
        return f"M{item.kind}{named}[" + "|".join(",".join(fingerprint(i, loose) for i in b) for b in item.branches) + f"]x{item.repeat}"
    shape = item.in_shape[1:] if loose else item.in_shape
    return f"C{item.cls}{shape}[" + ",".join(fingerprint(i, loose) for i in item.body) + f"]x{item.repeat}"


def fold_runs(items: list[Item], loose: bool = False) -> list[Item]:
    """Consecutive items with the same fingerprint → one item repeated (its name is the first's)."""
    out: list[Item] = []
    prints: list[str] = []  # the fingerprint of one copy of each item of out
    for item in items:
        if isinstance(item, MergeItem):
            item.branches = [fold_runs(b, loose) for b in item.branches]
        elif isinstance(item, CallItem):
            item.body = fold_runs(item.body, loose)
        unit = _unit(item, loose)
        if out and prints[-1] == unit and item.repeat == 1:
            out[-1].repeat += 1
            continue
        out.append(item)
        prints.append(unit)
    return out


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
