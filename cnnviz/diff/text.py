"""A diff as text for the terminal, read like the article's "what's improved" list.

``detail`` picks how much to print:

* ``compact``: the totals, one line per top-level change and the census;
* ``modules`` (the default): the changes inside changed modules too, and the stages;
* ``full``: also every unchanged part.

Lines start with a marker: ``+`` added, ``-`` removed, ``~`` changed,
``>`` renamed (same structure), ``=`` unchanged.

:func:`lines` gives the report as data, one :class:`Line` each with its role
(a change's status, a title, a dim note…); :func:`as_text` joins them as plain
text.  Colours are the command line's business: it styles each line by its
role when it writes to a terminal.  Figures are written by :mod:`cnnviz.present`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import present
from ..present import percent, signed
from . import Diff
from .align import Change, Note
from .overview import CENSUS, Stage, census_key
from .parts import Alt
from .phrases import branch_number, given_name, note_text, times, unit_text

MARK = {"added": "+", "removed": "-", "changed": "~", "renamed": ">", "unchanged": "="}
ROLES = ("added", "removed", "changed", "renamed", "unchanged", "title", "heading", "dim", "plain")
HIDDEN = {"filters", "units", "kernel", "stride", "groups", "count", "label", "merge", "branches"}  # shown by the labels
INLINE = 100  # a change whose parts fit on one line this long is printed on one line

CommonNote = tuple[str, str, object, object]
"""(layer type, what, a, b): a setting change made throughout; see :func:`common_notes`."""


@dataclass(frozen=True)
class Line:
    """One line of the report: ``indent`` spaces, then ``text`` shown in its ``role``
    (a change's status, or title, heading, dim, plain), then an unstyled ``tail``."""

    text: str = ""
    role: str = "plain"
    indent: int = 0
    tail: str = ""  # a change's parameter delta, after the padded change

    def __str__(self) -> str:
        return " " * self.indent + self.text + self.tail


def common_notes(changes: list[Change]) -> list[CommonNote]:
    """Layer setting changes made throughout, as (layer type, what, a, b): seen on at
    least two layers of the type, and every matched layer of the type that had
    ``what`` = a now has b (batch norm on every conv of Inception-v3, ReLU for tanh
    in AlexNet)."""
    seen: Counter[CommonNote] = Counter()
    broken: set[CommonNote] = set()
    pairs = [k for c in changes for k in c.walk() if k.a is not None and k.b is not None and k.kind == "layer"]
    for k in pairs:
        a, _ = k.both()
        for n in k.notes:
            if n.what not in HIDDEN and n.what != "repeat" and not isinstance(n.a, Alt) and not isinstance(n.b, Alt):
                seen[a.rep.type, n.what, n.a, n.b] += 1
    for k in pairs:
        a, b = k.both()
        sa, sb = a.rep.settings, b.rep.settings
        for type_, what, va, vb in seen:
            if a.rep.type == type_ and sa.get(what) == va and what in sb and sb[what] != vb:
                broken.add((type_, what, va, vb))
    return sorted((key for key, n in seen.items() if n >= 2 and key not in broken), key=str)


class Writer:
    def __init__(self, d: Diff, detail: str):
        self.d = d
        self.detail = detail
        self.full = detail == "full"
        self.common = common_notes(d.changes)
        self.lines: list[Line] = []

    def out(self, text: str = "", role: str = "plain", indent: int = 0, tail: str = "") -> None:
        self.lines.append(Line(text, role, indent, tail))

    # -- phrases -----------------------------------------------------------------

    def notes(self, c: Change) -> list[Note]:
        """The notes a line shows: not those the labels show, nor those made throughout."""
        if not c.notes:  # an added or removed part has none; a matched one has both sides
            return []
        a, b = c.both()
        keep = []
        for n in c.notes:
            if n.what in HIDDEN or (n.what == "module" and a.label != b.label):
                continue
            if c.kind == "layer" and (a.rep.type, n.what, n.a, n.b) in self.common:
                continue
            keep.append(n)
        return keep

    def quiet(self, c: Change) -> bool:
        """A changed layer with nothing left to say once the changes made throughout are said."""
        if c.status != "changed" or c.kind != "layer":
            return False
        a, b = c.both()
        return a.label == b.label and a.count == b.count and not self.notes(c)

    def head(self, c: Change) -> str:
        """The change in one phrase, without its children."""
        if c.status in ("added", "removed", "unchanged"):
            return unit_text(c.unit())
        a, b = c.both()  # changed or renamed
        if c.status == "renamed" and c.notes:  # its own name or label; else only names inside it
            extra = ["same structure", *(note_text(n) for n in c.notes if n.what == "module")]
            return f"{a.label}{times(a)} → {b.label}{times(b)} ({'; '.join(extra)})"
        if c.kind == "branches" and a.rep.type != b.rep.type and any(n.what == "residual" for n in c.notes):
            return f"{a.label} → wrapped in a residual {b.label}"
        if a.kind == "branch":
            na, nb = branch_number(a), branch_number(b)
            text = f"branch {nb}" if na == nb else f"branch {na} → {nb}"
        elif a.label == b.label:
            same = a.label + (times(a) if c.status == "renamed" else "")  # renamed inside: the unit as it stands
            text = f"{a.label} ×{a.count} → ×{b.count}" if a.count != b.count else same
        else:
            text = f"{a.label}{times(a)} → {b.label}{times(b)}"
        extra = [note_text(n) for n in self.notes(c)]
        return text + (f" ({'; '.join(extra)})" if extra else "")

    def phrase(self, c: Change) -> str:
        return self.head(c) if c.status == "changed" else f"{MARK[c.status]}{self.head(c)}"

    def visible(self, c: Change) -> list[Change]:
        """The children worth printing.  Under a module, a lone changed child with
        nothing of its own to say (Inception-A's concat) gives way to its children."""
        kids = [k for k in c.children if self.full or (k.status != "unchanged" and not self.quiet(k))]
        if len(kids) == 1 and c.kind == "module" and not self.full:
            k = kids[0]
            if k.status in ("changed", "renamed") and not k.notes and k.kind not in ("branch", "layer"):
                ka, kb = k.both()
                if ka.label == kb.label:
                    return self.visible(k)
        return kids

    # -- sections ----------------------------------------------------------------

    def write(self) -> list[Line]:
        d = self.d
        a, b = d.a, d.b
        self.title()
        self.out()
        self.out("What changed", "heading")
        if d.identical:
            self.out("  nothing: the two networks have the same structure")
        types: dict[str, list[str]] = {}  # note -> the layer types it was made on
        for type_, what, va, vb in self.common:
            types.setdefault(note_text(Note(what, va, vb)), []).append(type_)
        lines: dict[str, list[str]] = {}  # layer types -> notes
        for made, on in types.items():
            lines.setdefault(" and ".join(on), []).append(made)
        for layer_types, notes in lines.items():
            self.out(f"~ every {layer_types}: {', '.join(notes)}", "changed", indent=2)
        shown = [c for c in d.changes if self.full or (c.status != "unchanged" and not self.quiet(c))]
        width = max((len(MARK[c.status] + " " + self.top_text(c)) for c in shown), default=0)
        width = min(width, 72)
        for c in shown:
            self.change_line(c, width)
        if not d.identical and len(shown) < len(d.changes):
            self.out(f"= {len(d.changes) - len(shown)} top-level parts unchanged", "dim", indent=2)
        self.census()
        if self.detail != "compact":
            self.stages()
        self.out()
        delta = f"{signed(b.params - a.params)} params ({percent(a.params, b.params)})" if a.params != b.params else "same params"
        depth = f"depth {b.depth - a.depth:+d}" if a.depth != b.depth else "same depth"
        self.out(f"Total: {delta}, {depth}", "heading")
        return self.lines

    def title(self) -> None:
        a, b = self.d.a, self.d.b

        def name(s):
            return f"{s.name} ({s.year})" if s.year else s.name

        self.out(f"{name(a)} → {name(b)}", "title")
        rows: list[tuple[str, str, str, str]] = [("params", present.exact(a.params), present.exact(b.params), f"{signed(b.params - a.params)} ({percent(a.params, b.params)})")]
        if a.params_aux or b.params_aux:
            aux_a, aux_b = [present.exact(n) if n else "none" for n in (a.params_aux, b.params_aux)]
            rows.append(("aux heads", aux_a, aux_b, signed(b.params_aux - a.params_aux)))
        rows.append(("depth", str(a.depth), str(b.depth), f"{b.depth - a.depth:+d} weighted layers on the longest path"))
        rows = [(w, x, y, delta if x != y else "(same)") for w, x, y, delta in rows]
        rows.append(("input", present.shape(a.input), present.shape(b.input), ""))
        rows.append(("outputs", ", ".join(a.outputs), ", ".join(b.outputs), "") if len(a.outputs) > 1 or len(b.outputs) > 1 else ("output", present.shape(a.output), present.shape(b.output), ""))
        wa = max(len(r[1]) for r in rows)
        wb = max(len(r[2]) for r in rows)
        for what, x, y, delta in rows:
            arrow = f"   {'':<{wb}}" if x == y else f" → {y:<{wb}}"
            self.out(f"  {what:<10} {x:>{wa}}{arrow}  {delta}".rstrip())

    def top_text(self, c: Change) -> str:
        na, nb = given_name(c.a), given_name(c.b)
        name = f"{na} → {nb}" if na and nb and na != nb else nb or na  # a matched pair named differently: both
        name = f"{name}: " if name else ""
        if self.detail == "compact" and c.children:
            return name + self.head(c) + ": " + self.summary(c)
        return name + (self.inline(c) or self.head(c))

    def change_line(self, c: Change, width: int) -> None:
        text = self.top_text(c)
        pa, pb = (c.a.params if c.a else 0), (c.b.params if c.b else 0)
        aux = c.kind == "aux"
        params = f"{signed(pb - pa)} params{' (aux)' if aux else ''}" if pa != pb else ""
        line = f"{MARK[c.status]} {text}"
        self.out(f"{line:<{width}}" if params else line, c.status, indent=2, tail=f"  {params}" if params else "")
        if self.detail != "compact" and not self.inline(c):
            self.children(c, 2)

    def inline(self, c: Change) -> str:
        """``head: child; child`` when every visible child is a leaf and it all fits on one line."""
        kids = self.visible(c)
        if not kids or any(self.visible(k) for k in kids):
            return ""
        text = f"{self.head(c)}: " + "; ".join(self.phrase(k) for k in kids)
        return text if len(text) <= INLINE else ""

    def children(self, c: Change, depth: int) -> None:
        for k in self.visible(c):
            first, text = k, self.inline(k) or self.head(k)
            while not self.inline(k) and len(self.visible(k)) == 1 and k.status in ("changed", "renamed"):
                k = self.visible(k)[0]
                text += " › " + (self.inline(k) or self.phrase(k))
            self.out(f"{MARK[first.status]} {text}", first.status, indent=2 * (depth + 1))
            if not self.inline(k):
                self.children(k, depth + 1)

    def summary(self, c: Change, limit: int = 5) -> str:
        """The leaf changes below ``c``, counted: ``-conv 64 1x1 (×2); +32 towers […]``."""
        leaves: Counter[str] = Counter()
        for k in c.walk():
            if k is not c and not self.visible(k) and k.status != "unchanged" and not self.quiet(k):
                leaves[self.phrase(k)] += 1
        items = [f"{p} (×{n})" if n > 1 else p for p, n in leaves.items()]
        more = f"; … {len(items) - limit} more" if len(items) > limit else ""
        return "; ".join(items[:limit]) + more

    def census(self) -> None:
        ca, cb = self.d.census
        rows = []
        for what in CENSUS:
            a, b = ca[what], cb[what]
            if a == b or (what == "kernels" and set(a) == set(b)):
                continue
            if what == "kernels":
                order = sorted(set(a) | set(b), key=lambda k: (-_area(k), k))
                rows.append((what, f"{', '.join(census_key(k) for k in order if k in a) or 'none'} → {', '.join(census_key(k) for k in order if k in b) or 'none'}"))
                continue
            keys = list(dict.fromkeys([*a, *b]))
            rows.append((what, ", ".join(f"{k} {a[k] or 'none'} → {b[k] or 'none'}" for k in keys if a[k] != b[k])))
        if rows:
            self.out()
            self.out("Census (main line, repeats unrolled)", "heading")
            for what, text in rows:
                self.out(f"  {what:<8} {text}")

    def stages(self) -> None:
        rows: list[tuple[str, str, str, str, str, str]] = []
        for sa, sb in self.d.stages:
            grid = sa.grid if sa and (not sb or sa.grid == sb.grid) else f"{sa.grid if sa else '—'} → {sb.grid if sb else '—'}"

            def pair(f: Callable[[Stage], Any], fmt: Callable[[Any], str] = str, sa: Stage | None = sa, sb: Stage | None = sb) -> str:
                x, y = (fmt(f(sa)) if sa else "—"), (fmt(f(sb)) if sb else "—")
                return x if x == y else f"{x} → {y}"

            pa, pb = (sa.params if sa else 0), (sb.params if sb else 0)
            delta = signed(pb - pa) if pa != pb else ""
            rows.append((grid, pair(lambda s: s.modules), pair(lambda s: s.weighted), pair(lambda s: s.params, present.exact), delta, pair(lambda s: s.output, present.shape)))
        head_row = ("grid", "modules", "layers", "params", "Δ params", "output")
        modules = any(s.modules for pair in self.d.stages for s in pair if s)
        keep = [i for i in range(6) if i != 1 or modules]
        table = [tuple(r[i] for i in keep) for r in [head_row, *rows]]
        widths = [max(len(r[i]) for r in table) for i in range(len(keep))]
        self.out()
        self.out("Stages (top-level parts grouped by output grid; layers: conv, sepconv, dense)", "heading")
        for n, r in enumerate(table):
            cells = [f"{v:<{w}}" if i in (0, len(r) - 1) else f"{v:>{w}}" for i, (v, w) in enumerate(zip(r, widths))]
            self.out("  ".join(cells).rstrip(), "dim" if n == 0 else "plain", indent=2)


def _area(kernel) -> int:
    return math.prod(kernel) if isinstance(kernel, tuple) else kernel * kernel


def lines(d: Diff, detail: str = "modules") -> list[Line]:
    """The report as :class:`Line` records, for a caller that styles them by role."""
    return Writer(d, detail).write()


def as_text(d: Diff, detail: str = "modules") -> str:
    """The report as plain text (no colour)."""
    return "\n".join(map(str, lines(d, detail)))
