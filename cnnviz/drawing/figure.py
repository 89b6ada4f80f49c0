"""Pictures made of pieces: each piece laid out on its own, then placed.

A :class:`Piece` is one part of a picture with its role: a title line, a main
line, a panel (the inside of one module) or a legend entry.  A diagram's
pieces come from :meth:`cnnviz.drawing.Diagram.pieces`; :func:`title_piece`
and :func:`legend_pieces` make title lines and legends of one's own.

Placing them is done in one of two ways, both with the same layout, wrapping
and drawing code:

* :func:`packed`: one diagram, packed like the article's figures (what
  :meth:`Diagram.render <cnnviz.drawing.Diagram.render>` draws);
* :class:`Figure`: pieces of several diagrams in rows, left to right, rows top
  to bottom (what ``cnnviz diff -o diff.svg`` draws).

Either way a main line too long for one row is cut into rows (:mod:`.wrap`),
each redrawn with the options (and paint) of the diagram it comes from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..files import write_atomic
from . import compose, wrap
from .dot import Dot, text
from .engine import PURE, SYSTEM, check_format, run
from .legend import entry_dots, heading_dot, swatch_attrs
from .style import Paint
from .view import Part

FORMATS = ("svg", "png", "pdf", "dot")
DEFAULT_DPI = 144
DOT_HEADER = "// cnnviz diagram: every position is fixed; draw it with  dot -Kneato -n2 -Tsvg FILE\n"
ROLES = ("title", "main", "panel", "legend")
# A chunk of a long line is laid out only for its positions along the line, which
# neither the edges' routes nor the order within a rank change: skip the first, hurry the second.
MEASURE = {"splines": "", "mclimit": 0.01}
ASPECT = 3.0  # a picture is at most this many times wider than tall, where its main line can wrap
FIT_TRIES = 3  # layouts tried to bring a picture within ASPECT
MAX_ROWS = 12  # rows a main line is cut into for the sake of the aspect, at most


@dataclass(frozen=True)
class Piece:
    """One part of a picture, laid out on its own.

    ``part`` is the view part a main line or panel draws, and ``draw`` the
    function that drew it (with its diagram's options and paint), so that the
    piece can be redrawn: retitled, or cut into rows when too long."""

    role: str  # "title", "main", "panel" or "legend"
    dot: Dot
    part: Part | None = None
    draw: Callable[[Part], Dot] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")

    def retitled(self, title: str) -> Piece:
        """The same main line or panel under another title (a panel's frame says it)."""
        if self.part is None or self.draw is None:
            raise ValueError(f"a {self.role} piece has no title of its own to change")
        part = replace(self.part, title=title)
        return replace(self, dot=self.draw(part), part=part)


def title_piece(title: str, subtitle: str = "") -> Piece:
    """A title line: ``title`` in bold, then ``subtitle`` in grey (as a diagram's own)."""
    return Piece("title", heading_dot(title, subtitle))


def legend_pieces(entries: list[tuple[Paint, str]]) -> list[Piece]:
    """One legend entry per (colours, name): a small box in those colours, and the name."""
    return [Piece("legend", d) for d in entry_dots([(swatch_attrs(p), name) for p, name in entries])]


# -- laying out ------------------------------------------------------------------


def _along(lay: compose.Laid, direction: str) -> tuple[dict, float]:
    """Every node's position along a laid-out line (its centre), and the line's length."""
    if direction == "LR":
        return {n: p["pos"][0] for n, p in lay.nodes.items()}, lay.w
    return {n: lay.h - p["pos"][1] for n, p in lay.nodes.items()}, lay.h


def _redrawn(piece: Piece, graphs: list) -> list[Piece]:
    """The piece redrawn once per graph (the rows or chunks of its main line)."""
    assert piece.part is not None and piece.draw is not None  # only main lines are cut
    out = []
    for graph in graphs:
        part = replace(piece.part, graph=graph)
        out.append(replace(piece, dot=piece.draw(part), part=part))
    return out


def _rows(piece: Piece, along: dict, length: float) -> list[Piece]:
    """A main line's rows when it is too long for one, else []."""
    assert piece.part is not None
    v = piece.part.graph
    cuts = wrap.choose(v, along, length)
    return _redrawn(piece, wrap.split(v, cuts)) if cuts else []


def _wraps(piece: Piece) -> bool:
    return piece.role == "main" and piece.part is not None and piece.draw is not None


def _chunks(piece: Piece) -> tuple[list[str], list[Piece]]:
    """A main line too long to lay out whole (:data:`wrap.BIG` nodes): its cuts and
    chunks, else nothing."""
    if not _wraps(piece) or piece.part is None or len(piece.part.graph) <= wrap.BIG:
        return [], []
    v = piece.part.graph
    cuts = wrap.chunks(v)
    chunks = _redrawn(piece, wrap.split(v, cuts, overlap=True))
    return cuts, [replace(c, dot=replace(c.dot, graph={**c.dot.graph, **MEASURE})) for c in chunks]


def lay_out(pieces: list[Piece], engine: str, direction: str = "LR") -> list[list[tuple[Piece, compose.Laid]]]:
    """Every piece laid out on its own (one engine pass, and one more for wrapped lines):
    for each piece, itself and its layout, or the rows of a main line too long for one.

    A main line of more than :data:`wrap.BIG` nodes is not laid out whole: the first
    run lays out its chunks, its rows are chosen from their positions, and only the
    rows are laid out whole (in the second run)."""
    chunked = {i: c for i, p in enumerate(pieces) if (c := _chunks(p))[1]}
    first = [d for i, p in enumerate(pieces) for d in ([c.dot for c in chunked[i][1]] if i in chunked else [p.dot])]
    laid = iter(compose.layout(first, engine))
    whole: dict[int, compose.Laid] = {}
    rows: dict[int, list[Piece]] = {}
    for i, p in enumerate(pieces):
        if i in chunked and p.part is not None:
            marks, chunks = chunked[i]
            along, length = wrap.stitch(marks, [_along(next(laid), direction) for _ in chunks])
            v = p.part.graph
            rows[i] = _redrawn(p, wrap.split(v, wrap.choose(v, along, length)))  # one row when it fits after all
        else:
            whole[i] = next(laid)
            if _wraps(p) and (r := _rows(p, *_along(whole[i], direction))):
                rows[i] = r
    extra = iter(compose.layout([r.dot for i in rows for r in rows[i]], engine) if rows else [])
    return [[(r, next(extra)) for r in rows[i]] if i in rows else [(p, whole[i])] for i, p in enumerate(pieces)]


def packed(pieces: list[Piece], engine: str, direction: str) -> Dot:
    """One diagram's pieces packed like the article's figures: the title, the main line
    (in rows when long, or when the picture would be too wide: :func:`fit`), the panels
    flowing below it (beside it for TB), the legend last."""
    groups = lay_out(pieces, engine, direction)
    if direction == "LR":
        groups = fit(pieces, groups, engine)
    flat = [x for group in groups for x in group]
    laid = [lay for _, lay in flat]
    at, w, h = compose.pack([p.role for p, _ in flat], laid, direction)
    return compose.compose([p.dot for p, _ in flat], laid, at, w, h, direction)


Groups = list[list[tuple[Piece, compose.Laid]]]


def _size(groups: Groups, direction: str = "LR") -> tuple[float, float]:
    flat = [x for group in groups for x in group]
    _, w, h = compose.pack([p.role for p, _ in flat], [lay for _, lay in flat], direction)
    return w, h


def _within(size: tuple[float, float], aspect: float) -> bool:
    return size[0] <= aspect * size[1]


def _line(group: list[tuple[Piece, compose.Laid]]) -> tuple[dict, float]:
    """Positions along a main line (LR) laid out whole or in rows, and its length."""
    along: dict = {}
    offset = 0.0
    for _, lay in group:
        pos, length = _along(lay, "LR")
        along.update((n, x + offset) for n, x in pos.items() if n not in ("w_in", "w_out"))
        offset += length
    return along, offset


def fit(pieces: list[Piece], groups: Groups, engine: str, aspect: float = ASPECT) -> Groups:
    """The main line cut into more rows while the packed picture is more than ``aspect``
    times wider than tall (a long line over short panels, as VGG's): the rows are
    guessed from the packing with rows of the line's length split evenly, laid out,
    and one more row taken while the picture is still too wide (a few tries at most)."""
    main = [i for i, p in enumerate(pieces) if _wraps(p)]
    if len(main) != 1 or pieces[main[0]].part is None:
        return groups
    i = main[0]
    piece, part = pieces[i], pieces[i].part
    assert part is not None
    along, length = _line(groups[i])
    height = max(lay.h for _, lay in groups[i])
    rows = len(groups[i])
    for _ in range(FIT_TRIES):
        if _within(_size(groups), aspect):
            break
        want = rows + 1
        while want < MAX_ROWS and not _within(_size([*groups[:i], [(piece, compose.Laid(length / want, height, {}, {}, {}))] * want, *groups[i + 1 :]]), aspect):
            want += 1  # rows guessed as the line split evenly: packing them costs no layout
        cuts = wrap.choose(part.graph, along, length, rows=want)
        if len(cuts) + 1 <= rows:
            break  # no more places to cut
        redrawn = _redrawn(piece, wrap.split(part.graph, cuts))
        groups = [*groups[:i], list(zip(redrawn, compose.layout([r.dot for r in redrawn], engine))), *groups[i + 1 :]]
        rows = len(cuts) + 1
    return groups


def in_rows(rows: list[list[Piece]], engine: str, direction: str = "LR", gap: float = compose.ROW_GAP) -> Dot:
    """Pieces in rows: each row left to right, rows top to bottom, ``gap`` points apart.
    A wrapped main line's further rows follow its own row (LR) or stand beside it (TB)."""
    groups = iter(lay_out([p for row in rows for p in row], engine, direction))
    placed: list[list[tuple[Piece, compose.Laid]]] = []
    for row in rows:
        line: list[tuple[Piece, compose.Laid]] = []
        below: list[list[tuple[Piece, compose.Laid]]] = []
        for _ in row:
            first, *more = next(groups)
            line.append(first)
            if direction == "LR":
                below += [[m] for m in more]
            else:
                line += more
        placed += [line, *below]
    at, laid, dots = [], [], []
    y, width = 0.0, 0.0
    for line in placed:
        x, height = 0.0, 0.0
        for piece, lay in line:
            at.append((x, y))
            laid.append(lay)
            dots.append(piece.dot)
            x += lay.w + gap
            height = max(height, lay.h)
        width = max(width, x - gap)
        y += height + gap
    return compose.compose(dots, laid, at, width, y - gap, direction)


# -- drawing ---------------------------------------------------------------------


def engine_for(engine: str | None, fmt: str) -> str:
    """The engine that draws ``fmt``: the one asked for, else graphviz-pure (system dot for PDF)."""
    engine = engine or (SYSTEM if fmt == "pdf" else PURE)
    check_format(engine, fmt)
    return engine


def draw(dot: Dot, engine: str, fmt: str, dpi: int = DEFAULT_DPI) -> bytes:
    """A composed picture (every position fixed) drawn by the engine in ``fmt``."""
    args = ["-Kneato", "-n2", f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={int(dpi)}")
    return run(engine, text(dot), args)


class Figure:
    """Pieces of one or more diagrams in rows (see :func:`in_rows`), laid out once, drawn in any format.

    ::

        a, b = Diagram("vgg16", legend=False), Diagram("vgg19", legend=False)
        rows = [[p] for p in a.pieces() if p.role != "panel"] + [[p] for p in b.pieces() if p.role != "panel"]
        Figure(rows).save("both.svg")
    """

    def __init__(self, rows: list[list[Piece]], *, direction: str = "LR", engine: str | None = None, dpi: int = DEFAULT_DPI, gap: float = compose.ROW_GAP):
        self.rows = [list(row) for row in rows]
        self.direction = direction.upper()
        self.engine = engine
        self.dpi = dpi
        self.gap = gap
        self._laid: tuple[str, Dot] | None = None

    def composed(self, engine: str | None = None) -> Dot:
        """The whole picture as one graph, every position fixed (laid out once per engine)."""
        engine = engine_for(engine or self.engine, "svg")
        if self._laid is None or self._laid[0] != engine:
            self._laid = (engine, in_rows(self.rows, engine, self.direction, self.gap))
        return self._laid[1]

    def dot(self) -> str:
        """The packed DOT, every position fixed: what the engine draws."""
        return DOT_HEADER + text(self.composed())

    def render(self, fmt: str = "svg") -> bytes:
        """The picture in ``fmt`` (svg, png, pdf, dot) as bytes."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if fmt == "dot":
            return self.dot().encode("utf-8")
        engine = engine_for(self.engine, fmt)
        return draw(self.composed(engine), engine, fmt, self.dpi)

    def save(self, path: str | os.PathLike, fmt: str | None = None) -> Path:
        """Write atomically; the format defaults to the file's suffix."""
        path = Path(path)
        write_atomic(path, self.render(fmt or format_of(path) or "svg"))
        return path


def format_of(path: str | os.PathLike) -> str | None:
    """The format a file name asks for, from its suffix (None when it does not say)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"gv": "dot", "htm": None}.get(suffix, suffix)
    return fmt if fmt in (*FORMATS, "json") else None
