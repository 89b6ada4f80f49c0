"""Compact, article-style diagrams: network → view → DOT → layout → SVG/PNG/PDF.

::

    import cnnviz
    svg = cnnviz.render("resnet50")              # SVG text; shows inline in Jupyter
    d = cnnviz.diagram("inception_v4", detail="modules")
    d.save("inception_v4.png")

The stages, each in its own module: :mod:`.runs` (which instances fold),
:mod:`.collapse`, :mod:`.passes` and :mod:`.view` (network → collapsed view
graphs, pure functions), :mod:`.labels` and :mod:`.naming` (what boxes and panels say, with
widths from :mod:`.widths`, torch-free), :mod:`.dot` (view →
DOT, all text escaped by :mod:`.quoting`, colours from :mod:`.style`, a
``paint`` hook applied as it is built), :mod:`.figure` and :mod:`.compose` (lay
out pieces, wrap long lines, and lines that make a picture too wide, pack them), :mod:`.engine` (the layout binary).
torch is imported only for ``shapes=True`` or ``params=True``.

To put several diagrams into one picture, take their :meth:`Diagram.pieces`
and place them with a :class:`Figure` (``cnnviz diff`` does, with a ``paint``
hook that colours each box by what changed).
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

from .. import shape_stage
from ..errors import EngineError
from ..files import write_atomic
from ..graph import as_network
from ..model import Network
from . import compose
from .collapse import COMPACT, DETAILS, FULL, MODULES
from .dot import Dot, PaintHook, part_dot, text
from .engine import ENGINES
from .figure import DEFAULT_DPI, DOT_HEADER, Figure, Piece, draw, engine_for, format_of, legend_pieces, packed, title_piece
from .legend import legend_dots, title_dot
from .style import Paint
from .ushape import upright
from .view import View, as_json, build

FORMATS = ("svg", "png", "pdf", "dot", "json")
DIRECTIONS = ("LR", "TB")


class SVG(str):
    """SVG text that Jupyter shows as a picture."""

    __slots__ = ()

    def _repr_svg_(self) -> str:
        return str(self)


class Diagram:
    """One architecture drawn with fixed options; lays out once, writes any format."""

    def __init__(
        self,
        arch,
        *,
        detail: str = COMPACT,
        direction: str | None = None,
        shapes: bool = False,
        params: bool = False,
        aux: bool = True,
        engine: str | None = None,
        legend: bool = True,
        title: bool = True,
        dpi: int = DEFAULT_DPI,
        paint: PaintHook | None = None,
    ):
        """``arch``: a catalogue id, a spec path, a Spec or a :class:`~cnnviz.model.Network`.

        ``paint``, when given, is asked for the colours of every box, with the paths
        it stands for (a tuple of :class:`~cnnviz.model.Path`; empty for the input and
        the merges), and of every cluster (a module drawn expanded, towers), with its
        block's path; it answers a :class:`Paint` or None for the usual colours.

        ``direction`` None: left to right, or top to bottom for a network whose long
        skips fold it into a U (:func:`.ushape.upright`)."""
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        direction = direction.upper() if direction is not None else None
        if direction is not None and direction not in DIRECTIONS:
            raise ValueError(f"direction must be LR or TB, not {direction!r}")
        if engine is not None and engine not in ENGINES:
            raise EngineError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
        self.network: Network = as_network(arch)
        measured = None
        if shapes or params:  # the only torch import, and only when asked
            measured = shape_stage().infer(self.network, check=False)
        self.view: View = build(self.network, detail, aux, measured)
        direction = direction or upright(self.view.main.graph)
        self.options: dict[str, Any] = {"direction": direction, "shapes": shapes, "params": params, "legend": legend, "title": title}
        self.engine = engine
        self.dpi = dpi
        self.paint = paint
        self._laid: tuple[str, Dot] | None = None

    # -- DOT -------------------------------------------------------------------

    def pieces(self) -> list[Piece]:
        """Every piece of the picture, each to be laid out on its own: the title, the
        main line, one panel per module, the legend entries (as the options ask)."""
        o, v = self.options, self.view
        out = []
        if o["title"]:
            out.append(Piece("title", title_dot(v)))
        for i, part in enumerate(v.parts):
            redraw = partial(part_dot, index=i, direction=o["direction"], show_params=o["params"], show_shapes=o["shapes"], paint=self.paint)
            out.append(Piece("main" if i == 0 else "panel", redraw(part), part, redraw))
        if o["legend"]:
            out += [Piece("legend", d) for d in legend_dots(v)]
        return out

    def source(self) -> str:
        """The layout input: each piece's DOT (deterministic, no engine needed)."""
        return compose.source([p.dot for p in self.pieces()])

    def _composed(self, engine: str) -> Dot:
        if self._laid is None or self._laid[0] != engine:
            self._laid = (engine, packed(self.pieces(), engine, self.options["direction"]))
        return self._laid[1]

    def dot(self) -> str:
        """The packed DOT, every position fixed: what the engine draws."""
        return DOT_HEADER + text(self._composed(engine_for(self.engine, "svg")))

    def json(self) -> str:
        """The collapsed graph (main line, panels, legend) as JSON, for other tools."""
        return json.dumps(as_json(self.view), indent=2, ensure_ascii=False) + "\n"

    # -- pictures --------------------------------------------------------------

    def render(self, fmt: str = "svg") -> bytes:
        """The diagram in ``fmt`` (svg, png, pdf, dot, json) as bytes."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if fmt == "json":
            return self.json().encode("utf-8")
        engine = engine_for(self.engine, "svg" if fmt == "dot" else fmt)
        if fmt == "dot":
            return self.dot().encode("utf-8")
        return draw(self._composed(engine), engine, fmt, self.dpi)

    def svg(self) -> SVG:
        return SVG(self.render("svg").decode("utf-8"))

    def png(self) -> bytes:
        return self.render("png")

    def pdf(self) -> bytes:
        return self.render("pdf")

    def save(self, path: str | os.PathLike, fmt: str | None = None) -> Path:
        """Write atomically; the format defaults to the file's suffix."""
        path = Path(path)
        fmt = fmt or format_of(path) or "svg"
        write_atomic(path, self.render(fmt))
        return path

    def _repr_svg_(self) -> str:
        return str(self.svg())

    def __repr__(self) -> str:
        return f"<Diagram {self.view.id} detail={self.view.detail} parts={len(self.view.parts)}>"


def diagram(arch, **options) -> Diagram:
    """A :class:`Diagram` of a catalogue id, spec path, Spec or network (see :class:`Diagram` for options)."""
    return Diagram(arch, **options)


def render(arch, **options) -> SVG:
    """The SVG text of a diagram; in Jupyter it displays as the picture."""
    return Diagram(arch, **options).svg()


__all__ = [
    "COMPACT",
    "DEFAULT_DPI",
    "DETAILS",
    "FORMATS",
    "FULL",
    "MODULES",
    "SVG",
    "Diagram",
    "EngineError",
    "Figure",
    "Paint",
    "PaintHook",
    "Piece",
    "diagram",
    "format_of",
    "legend_pieces",
    "render",
    "title_piece",
]
