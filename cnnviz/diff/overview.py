"""The counts a reader compares first: what the network is made of, stage by stage.

*Census*: layers by type, conv kernel sizes, modules by label, merges and
towers, counted over the main line with every repeat unrolled (auxiliary
heads left out).

*Stages*: the top-level units grouped by the grid size of their output
(ResNet-50's 56×56, 28×28, 14×14 and 7×7; "head" for the flat end), with
modules, weighted layers, parameters and output shape per stage.  The stages
of the two networks are paired by the top-level matches they contain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

from .. import present
from .align import Change
from .parts import Part
from .units import Unit

Census = dict[str, Counter[Hashable]]
"""{"modules"|"layers"|"kernels"|"merges"|"towers": Counter}: see :func:`census`."""


def _census_walk(p: Part, times: int, c: Census) -> None:
    times *= p.repeat
    if p.kind == "aux":
        return
    if p.kind == "layer":
        c["layers"][p.type] += times
        if p.type in ("conv", "sepconv"):
            c["kernels"][p.settings["kernel"]] += times
    elif p.kind == "module":
        c["modules"][p.label] += times
    elif p.kind == "branches":
        shortcut = p.type == "add" and any(not br.body for br in p.body)
        c["merges"]["residual add" if shortcut else p.type] += times
    elif p.kind == "towers":
        c["towers"][f"{p.settings['count']}-tower blocks"] += times
    for child in p.body:
        _census_walk(child, times, c)


CENSUS = ("modules", "layers", "kernels", "merges", "towers")


def census_key(key) -> str:
    """A census key as text: a kernel (3, 3) as '3×3', a name as itself."""
    return present.setting(key)


def census(parts: list[Part]) -> Census:
    """{"modules"|"layers"|"kernels"|"merges"|"towers": Counter}, repeats unrolled, aux heads left out.

    Kernels are counted by their size as a tuple ((3, 3)); :func:`census_key` writes one."""
    c: Census = {k: Counter() for k in CENSUS}
    for p in parts:
        _census_walk(p, 1, c)
    return c


@dataclass
class Stage:
    grid: str  # "56×56", or "head" once the output is flat
    units: list[Unit] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(u.params for u in self.units)

    @property
    def weighted(self) -> int:
        return sum(u.weighted for u in self.units)

    @property
    def modules(self) -> int:
        return sum(census(u.members)["modules"].total() for u in self.units)

    @property
    def output(self) -> tuple | None:
        return self.units[-1].output


def stages(units: list[Unit]) -> list[Stage]:
    out: list[Stage] = []
    for u in units:
        if u.kind in ("aux", "output"):  # heads off the line, not stages of it
            continue
        shape = u.output or ()
        grid = present.size(shape[1:]) if len(shape) == 3 else "head"
        if not out or out[-1].grid != grid:
            out.append(Stage(grid))
        out[-1].units.append(u)
    return out


def pair_stages(sa: list[Stage], sb: list[Stage], changes: list[Change]) -> list[tuple[Stage | None, Stage | None]]:
    """(stage of A or None, stage of B or None) in order: the pairing that keeps the
    most matched top-level units together (equal grids break ties)."""
    where_a = {id(u): i for i, s in enumerate(sa) for u in s.units}
    where_b = {id(u): j for j, s in enumerate(sb) for u in s.units}
    links: Counter[tuple[int, int]] = Counter()
    for c in changes:
        if c.a is not None and c.b is not None and id(c.a) in where_a and id(c.b) in where_b:
            links[where_a[id(c.a)], where_b[id(c.b)]] += 1
    n, m = len(sa), len(sb)

    def score(i: int, j: int) -> float:
        return links[i, j] + (0.5 if sa[i].grid == sb[j].grid else 0.0)

    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score(i, j)
            best[i][j] = max(best[i + 1][j], best[i][j + 1], s + best[i + 1][j + 1] if s > 0 else 0.0)
    out: list[tuple[Stage | None, Stage | None]] = []
    i, j = 0, 0
    while i < n or j < m:
        if i < n and j < m and score(i, j) > 0 and best[i][j] == score(i, j) + best[i + 1][j + 1]:
            out.append((sa[i], sb[j]))
            i, j = i + 1, j + 1
        elif i < n and (j == m or best[i][j] == best[i + 1][j]):
            out.append((sa[i], None))
            i += 1
        else:
            out.append((None, sb[j]))
            j += 1
    return out
