"""Aligning two part lists and describing what changed, recursively.

Consecutive parts that a diagram draws as one box with "×N" form a *unit*
(:mod:`.units`).

Two unit lists are aligned like lines in a text diff, except that units pair
up by structural similarity (0 to 1) rather than equality: the alignment is
the order-preserving matching with the highest total similarity, and pairs
below :data:`THRESHOLD` are not matched.  Matched units are compared: equal
structure is *unchanged*, or *renamed* when a module name or label differs
(its own, or one inside it, which the aligned bodies then show as children);
otherwise *changed*, with notes (repeat count, kernel, filters, branch and
tower counts…) and the alignment of their bodies as children.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field

from .parts import Part
from .units import Unit, units

THRESHOLD = 0.3

Pair = tuple[int | None, int | None]
"""(i, j): a unit of A matched to one of B, or (i, None) removed, or (None, j) added."""


def _name_sim(a: Part, b: Part) -> float:
    """1 for the same module or label; for related labels (Inception-A, Inception-ResNet-A) their likeness."""
    if a.type == b.type or a.label == b.label:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a.label, b.label).ratio()
    return ratio if ratio >= 0.6 else 0.0


def residual(p: Part) -> bool:
    """Whether the part's own body adds an identity shortcut (a residual block)."""
    return any(c.kind == "branches" and c.type == "add" and any(not br.body for br in c.body) for c in p.body)


def _residual_branch(u: Unit) -> Part | None:
    """The one non-identity branch of a residual add, or None."""
    p = u.rep
    if p.kind != "branches" or p.type != "add" or u.count != 1:
        return None
    full = [br for br in p.body if br.body]
    return full[0] if len(full) == 1 and len(p.body) == 2 else None


@dataclass
class Note:
    """One specific difference: ``Note("kernel", (5, 5), (3, 3))``."""

    what: str  # repeat | variants | module | label | residual | merge | branches | a layer or towers setting
    a: object
    b: object

    def counts(self) -> tuple[int, int]:
        """(a, b) of a note on counts (repeat, variants, branches); ValueError for any other."""
        if not isinstance(self.a, int) or not isinstance(self.b, int):
            raise ValueError(f"the {self.what} note is not on counts: {self.a!r} → {self.b!r}")
        return self.a, self.b


@dataclass(eq=False)
class Change:
    status: str  # added | removed | changed | renamed | unchanged
    a: Unit | None
    b: Unit | None
    notes: list[Note] = field(default_factory=list)
    children: list[Change] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.unit().kind

    def unit(self) -> Unit:
        """The unit the change is about: A's, or B's for an added one."""
        u = self.a if self.a is not None else self.b
        if u is None:
            raise ValueError(f"a {self.status} change with neither side")
        return u

    def both(self) -> tuple[Unit, Unit]:
        """(A's unit, B's unit) of a matched change (changed, renamed, unchanged),
        which has both; ValueError for an added or removed one."""
        if self.a is None or self.b is None:
            raise ValueError(f"a {self.status} change has only one side")
        return self.a, self.b

    def walk(self) -> Iterator[Change]:
        """This change and every change below it, depth first."""
        yield self
        for c in self.children:
            yield from c.walk()


class Aligner:
    def __init__(self) -> None:
        self._units: dict[int, list[Unit]] = {}  # id(part list) -> units, for lists that live as long as the aligner
        self._sim: dict[tuple, float] = {}
        self._keep: list[list[Part]] = []  # keeps the lists alive so that their ids stay unique

    def units(self, parts: list[Part]) -> list[Unit]:
        got = self._units.get(id(parts))
        if got is None:
            got = self._units[id(parts)] = units(parts)
            self._keep.append(parts)
        return got

    # -- similarity ------------------------------------------------------------

    def sim(self, ua: Unit, ub: Unit) -> float:
        a, b = ua.rep, ub.rep
        if a.kind != b.kind:
            return 0.0
        key = (a.key(), b.key(), a.type, b.type, a.label, b.label)
        if key not in self._sim:
            self._sim[key] = self._similarity(a, b)
        return self._sim[key]

    def _similarity(self, a: Part, b: Part) -> float:
        if a.key() == b.key():
            return 1.0 if (a.type, a.label) == (b.type, b.label) else 0.9
        if a.kind == "layer":
            if a.type != b.type:
                return 0.0
            keys = set(a.settings) | set(b.settings)
            same = sum(a.settings.get(k) == b.settings.get(k) for k in keys)
            return 0.5 + 0.5 * same / max(len(keys), 1)
        inner = self.seq_sim(a.body, b.body)
        if a.kind == "module":
            return 0.4 * _name_sim(a, b) + 0.6 * inner
        if a.kind == "branch":
            return inner
        if a.kind == "branches":
            return (0.3 if a.type == b.type else 0.0) + 0.6 * inner
        return 0.3 + 0.7 * inner  # towers, aux, output

    def seq_sim(self, xs: list[Part], ys: list[Part]) -> float:
        ua, ub = self.units(xs), self.units(ys)
        if not ua and not ub:
            return 1.0
        score, _ = self.align(ua, ub)
        return 2 * score / (len(ua) + len(ub))

    # -- alignment -------------------------------------------------------------

    def align(self, ua: list[Unit], ub: list[Unit]) -> tuple[float, list[Pair]]:
        """The order-preserving matching with the highest total similarity, as
        (i, j) pairs with None for an unmatched side; removals before additions in a gap."""
        n, m = len(ua), len(ub)
        best = [[0.0] * (m + 1) for _ in range(n + 1)]
        sims = [[self.sim(x, y) for y in ub] for x in ua]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                s = sims[i][j]
                here = max(best[i + 1][j], best[i][j + 1])
                if s >= THRESHOLD:
                    here = max(here, s + best[i + 1][j + 1])
                best[i][j] = here
        pairs: list[Pair] = []
        i, j = 0, 0
        while i < n or j < m:
            if i < n and j < m and sims[i][j] >= THRESHOLD and best[i][j] == sims[i][j] + best[i + 1][j + 1]:
                pairs.append((i, j))
                i, j = i + 1, j + 1
            elif i < n and (j == m or best[i][j] == best[i + 1][j]):
                pairs.append((i, None))
                i += 1
            else:
                pairs.append((None, j))
                j += 1
        return best[0][0], pairs

    # -- comparison ------------------------------------------------------------

    def diff(self, xs: list[Part], ys: list[Part]) -> list[Change]:
        ua, ub = self.units(xs), self.units(ys)
        out: list[Change] = []
        for i, j, wrap in self._wrapped(ua, ub, self.align(ua, ub)[1]):
            x = ua[i] if i is not None else None
            y = ub[j] if j is not None else None
            if y is None:
                out.append(Change("removed", x, None))
            elif x is None:
                out.append(Change("added", None, y))
            elif wrap:
                children = self.diff(x.members, wrap.body)
                out.append(Change("changed", x, y, [Note("residual", False, True)], children))
            else:
                out.append(self.compare(x, y))
        return out

    def _wrapped(self, ua: list[Unit], ub: list[Unit], pairs: list[Pair]) -> list[tuple[int | None, int | None, Part | None]]:
        """(i, j, branch) for each pair; within each run of unmatched units, a removed
        unit is paired with an added residual block whose one branch holds it
        (Inception-A's concat → Inception-ResNet-A's add(concat …, identity)),
        ``branch`` being that branch (None for every other pair)."""
        out: list[tuple[int | None, int | None, Part | None]] = []
        gap: list[Pair] = []
        for pair in [*pairs, None]:
            if pair is not None and None in pair:
                gap.append(pair)
                continue
            free = [i for i, j in gap if j is None and i is not None]
            wrap: dict[int, tuple[int, Part]] = {}  # added j -> (removed i, branch)
            for _, j in gap:
                inner = _residual_branch(ub[j]) if j is not None else None
                if j is None or inner is None:
                    continue
                scored = [(self.seq_sim(ua[i].members, inner.body), -i) for i in free]
                score, minus_i = max(scored, default=(0.0, 0))
                if score >= THRESHOLD:
                    wrap[j] = (-minus_i, inner)
                    free.remove(-minus_i)
            for i, j in gap:
                wrapped = wrap.get(j) if j is not None else None
                if wrapped is not None:
                    out.append((wrapped[0], j, wrapped[1]))
                elif j is not None or i in free:
                    out.append((i, j, None))
            gap = []
            if pair is not None:
                out.append((*pair, None))
        return out

    def compare(self, ua: Unit, ub: Unit) -> Change:
        a, b = ua.rep, ub.rep
        notes = []
        if a.kind == "module":
            if a.type != b.type:
                notes.append(Note("module", a.type, b.type))
            if a.label != b.label:
                notes.append(Note("label", a.label, b.label))
        if ua.runs() == ub.runs():
            if a.names() == b.names():
                return Change("renamed" if notes else "unchanged", ua, ub, notes)
            inside = self.diff(a.body, b.body) if a.names()[1] != b.names()[1] else []
            return Change("renamed", ua, ub, notes, inside)
        if ua.count != ub.count:
            notes.insert(0, Note("repeat", ua.count, ub.count))
        if ua.variants != ub.variants:
            notes.append(Note("variants", ua.variants, ub.variants))
        if a.kind == "module" and residual(a) != residual(b):
            notes.append(Note("residual", residual(a), residual(b)))
        if a.kind == "branches":
            if a.type != b.type:
                notes.append(Note("merge", a.type, b.type))
            if len(a.body) != len(b.body):
                notes.append(Note("branches", len(a.body), len(b.body)))
        if a.kind in ("layer", "towers", "branch", "output"):  # a branch's one setting: where it starts (``from enc1``); an output's, its name
            for k in dict.fromkeys([*a.settings, *b.settings]):
                if a.settings.get(k) != b.settings.get(k):
                    notes.append(Note(k, a.settings.get(k), b.settings.get(k)))
        children = self.diff(a.body, b.body) if a.key() != b.key() else []
        return Change("changed", ua, ub, notes, children)


def align_parts(xs: list[Part], ys: list[Part]) -> list[Change]:
    """The aligned changes between two top-level part lists."""
    return Aligner().diff(xs, ys)
