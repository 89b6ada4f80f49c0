"""A diff as one picture: both compact diagrams, coloured by what changed, and a legend.

The two networks are drawn by the renderer (:class:`cnnviz.drawing.Diagram`),
one above the other, with a ``paint`` hook (:class:`Painter`) that colours
every box by the status of the parts it stands for: added (only in B), removed
(only in A), changed, renamed or unchanged.  With ``detail="modules"`` the
insides of each changed module follow, before and after side by side;
``"full"`` draws every layer instead (a long line wraps, as ``render``'s do).
The pieces are placed in rows by :class:`cnnviz.drawing.Figure`.
"""

from __future__ import annotations

from ..drawing import DEFAULT_DPI, Diagram, Figure, Paint, Piece, legend_pieces, title_piece
from ..model import Network, Path
from ..present import count
from . import Diff
from .align import Change
from .units import Unit

PALETTE = {  # status -> (fill, stroke, legend)
    "added": ("#d3f9d8", "#2b8a3e", "added in B"),
    "removed": ("#ffe3e3", "#c92a2a", "removed from A"),
    "changed": ("#fff3bf", "#e67700", "changed"),
    "renamed": ("#d0ebff", "#1c7ed6", "renamed, same structure"),
    "unchanged": ("#f8f9fa", "#adb5bd", "unchanged"),
}
GAP = 18.0
DETAILS = ("compact", "modules", "full")


def _roots(u: Unit) -> list[Path]:
    """The path of every copy in a unit: ``mixed_5cd.1``, ``mixed_5cd.2``…"""
    out = []
    for p in u.members:
        out += [p.path.copy(k) for k in range(1, p.repeat + 1)] if p.repeat > 1 else [p.path]
    return out


def _rep_root(u: Unit) -> Path:
    """The copy whose paths the unit's representative (and the changes below it) use."""
    first = u.members[0]
    return first.path.copy(1) if first.repeat > 1 else first.path


def _side(c: Change, which: str) -> Unit | None:
    return c.a if which == "a" else c.b


class Painter:
    """Path → status on one side of a diff (``which`` is "a" or "b"); as a ``paint``
    hook, the status's colours (a cluster keeps its fill and takes the stroke)."""

    def __init__(self, net: Network, changes: list[Change], which: str):
        self.net = net
        self.top: list[tuple[list[Path], str, dict[Path, str]]] = []  # (copy roots, status, {path inside a copy: status})
        for c in changes:
            u = _side(c, which)
            if u is None:
                continue
            root, inner = _rep_root(u), {}
            for k in c.walk():
                ku = _side(k, which)
                if k is c or ku is None:
                    continue
                for m in ku.members:
                    if m.path.within(root) and m.path != root:
                        inner[m.path.relative_to(root)] = k.status
            roots, other = _roots(u), c.b if which == "a" else c.a
            if c.status == "changed" and other is not None and other.count < len(roots):  # the copies beyond the other side's count
                self.top.append((roots[other.count :], "removed" if which == "a" else "added", {}))
                roots = roots[: other.count]
            self.top.append((roots, c.status, inner))

    def status(self, path: Path) -> str | None:
        node = self.net.nodes.get(path)
        if node is not None and node.folded_into is not None:
            path = node.folded_into  # a conv's bn and activation are the conv
        for roots, status, inner in self.top:
            for root in roots:
                if path.within(root):
                    rel: Path | None = path.relative_to(root)
                    while rel:  # the innermost change that holds it
                        found = inner.get(rel)
                        if found:
                            return found
                        rel = rel.parent
                    return status
        return None

    def of(self, members) -> str | None:
        found = {self.status(m) for m in members} - {None}
        if not found:
            return None
        return found.pop() if len(found) == 1 else "changed"

    def __call__(self, drawn: tuple[Path, ...] | Path) -> Paint | None:
        if isinstance(drawn, Path):  # a cluster: its frame only
            status = self.status(drawn)
            return None if status is None else Paint(stroke=PALETTE[status][1])
        status = self.of(drawn)
        return None if status is None else Paint(*PALETTE[status][:2])

    def used(self, piece: Piece) -> set[str]:
        """The statuses of the boxes a main line or panel shows (for the legend)."""
        if piece.part is None:
            return set()
        found = (self.of(d["members"]) for _, d in piece.part.graph.nodes(data=True) if d["kind"] not in ("port", "input"))
        return {s for s in found if s is not None}


class Picture:
    """The pieces of the diff picture in rows, laid out once, drawn in any format."""

    def __init__(self, d: Diff, detail: str = "modules", engine: str | None = None, dpi: int = DEFAULT_DPI):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        view_detail = "full" if detail == "full" else "compact"
        sides = {"a": d.a, "b": d.b}
        self.painters = {w: Painter(s.network, d.changes, w) for w, s in sides.items()}
        self.diagrams = {w: Diagram(s.network, detail=view_detail, legend=False, paint=self.painters[w]) for w, s in sides.items()}
        pieces = {w: dg.pieces() for w, dg in self.diagrams.items()}
        used: set[str] = set()
        rows: list[list[Piece]] = [[self._title(d)]]
        self.mains = {}  # "a"/"b" -> the painted DOT of the main line
        for w in ("a", "b"):
            (title,) = [p for p in pieces[w] if p.role == "title"]
            (main,) = [p for p in pieces[w] if p.role == "main"]
            used |= self.painters[w].used(main)
            rows += [[title], [main]]
            self.mains[w] = main.dot
        if detail == "modules":
            for c in d.changes:
                row = self._panels(c, pieces, used)
                if row:
                    rows.append(row)
        rows.append(legend_pieces([(Paint(fill, stroke), name) for status, (fill, stroke, name) in PALETTE.items() if status in used]))
        self.rows = rows
        self.figure = Figure(rows, engine=engine, dpi=dpi, gap=GAP)

    @staticmethod
    def _title(d: Diff) -> Piece:
        a, b = d.a, d.b
        delta = b.params - a.params
        pct = f", {delta / a.params * 100:+.1f}%" if a.params else ""
        sub = f"params {count(a.params)} → {count(b.params)} ({'+' if delta >= 0 else '-'}{count(abs(delta))}{pct}) · depth {a.depth} → {b.depth}"
        return title_piece(f"{a.name} → {b.name}", sub)

    def _panels(self, c: Change, pieces: dict[str, list[Piece]], used: set[str]) -> list[Piece]:
        """The insides of a changed module: A's panel, then B's."""
        if c.status != "changed" or c.a is None or c.b is None or c.a.kind != "module" or c.b.kind != "module":
            return []
        row = []
        for w, u, when in (("a", c.a, "before"), ("b", c.b, "after")):
            roots = _roots(u)
            for piece in pieces[w]:
                block = piece.part.block if piece.part is not None else None
                if piece.role == "panel" and block is not None and any(block.within(r) for r in roots):
                    used |= self.painters[w].used(piece)
                    row.append(piece.retitled(f"{u.label} · {when}"))
                    break
        return row

    def render(self, fmt: str = "svg") -> bytes:
        return self.figure.render(fmt)
