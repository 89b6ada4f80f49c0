"""Units: runs of consecutive parts that a diagram draws as one box with "×N".

A run is copies of one module (even with different arguments, like
Inception-v3's three Inception-A modules whose pool branch has 32, 64 and 64
filters), or identical layers.  A unit's representative merges its variants:
a setting that differs between them becomes an :class:`~.parts.Alt` ("32/64").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .parts import Alt, Part, part_label


def _run_key(p: Part):
    if p.kind == "module":
        return ("module", p.type, p.label)
    if p.kind in ("aux", "output", "branch"):  # heads never fold into a run
        return None
    return _shape(p)


def _shape(p: Part):
    """The key without the repeat count."""
    k = p.key()
    return (k[0], k[1], k[3], k[4])


def _skeleton(p: Part, top: bool = True):
    """The structure without setting values (nor the outer repeat): variants with equal skeletons merge."""
    repeat = 1 if top else p.repeat
    return (p.kind, p.type, p.label if p.kind == "module" else "", repeat, tuple(p.settings), tuple(_skeleton(c, False) for c in p.body))


def _merge(parts: list[Part]) -> Part:
    first = parts[0]
    settings = {}
    for key in first.settings:
        values = list(dict.fromkeys(p.settings[key] for p in parts))
        settings[key] = values[0] if len(values) == 1 else Alt(values)
    body = [_merge([p.body[i] for p in parts]) for i in range(len(first.body))]
    label = first.label if first.kind == "module" else part_label(first.kind, first.type, settings, body)
    return dataclasses.replace(first, settings=settings, body=body, label=label, cached_key=None)


@dataclass(eq=False)
class Unit:
    """A run of consecutive parts shown as one box: ``Inception-A ×3``."""

    members: list[Part]
    rep: Part = field(init=False)
    variants: int = field(init=False)

    def __post_init__(self) -> None:
        first: dict[object, Part] = {}
        for p in self.members:
            first.setdefault(_shape(p), p)
        distinct = list(first.values())
        self.variants = len(distinct)
        if len(distinct) > 1 and len({_skeleton(p) for p in distinct}) == 1:
            rep = _merge(distinct)
        else:
            rep = distinct[0]
        self.rep = dataclasses.replace(rep, repeat=1, cached_key=None)

    @property
    def count(self) -> int:
        return sum(p.repeat for p in self.members)

    @property
    def kind(self) -> str:
        return self.rep.kind

    @property
    def label(self) -> str:
        return self.rep.label

    @property
    def params(self) -> int:
        return sum(p.params for p in self.members)

    @property
    def weighted(self) -> int:
        return sum(p.weighted for p in self.members)

    @property
    def output(self) -> tuple | None:
        return self.members[-1].output

    def runs(self) -> list:
        """(shape, count) with neighbours of equal shape merged: equal lists mean identical units."""
        out: list = []
        for p in self.members:
            s = _shape(p)
            if out and out[-1][0] == s:
                out[-1] = (s, out[-1][1] + p.repeat)
            else:
                out.append((s, p.repeat))
        return out


def units(parts: list[Part]) -> list[Unit]:
    groups: list[list[Part]] = []
    for p in parts:
        key = _run_key(p)
        if groups and key is not None and _run_key(groups[-1][-1]) == key:
            groups[-1].append(p)
        else:
            groups.append([p])
    return [Unit(g) for g in groups]
