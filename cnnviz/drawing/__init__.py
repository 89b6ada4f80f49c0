"""Compact, article-style diagrams: graph → view → DOT → layout → SVG/PNG/PDF.

::

    import cnnviz
    svg = cnnviz.render("resnet50")              # SVG text; shows inline in Jupyter
    d = cnnviz.diagram("inception_v4", detail="modules")
    d.save("inception_v4.png")

The stages, each in its own module: :mod:`.runs` (which instances fold),
:mod:`.collapse`, :mod:`.passes` and :mod:`.view` (graph → collapsed view
graphs, pure functions), :mod:`.labels` (what boxes say), :mod:`.dot` (view →
DOT, all text escaped by :mod:`.quoting`, colours from :mod:`.style`),
:mod:`.compose` (lay out parts, pack them), :mod:`.engine` (the layout binary;
atomic writes).  torch is
imported only for ``shapes=True`` or ``params=True``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..graph import as_graph
from . import compose as _compose
from . import dot as _dot
from . import wrap as _wrap
from .collapse import COMPACT, DETAILS, FULL, MODULES
from ..errors import EngineError, MissingDependency
from ..files import write_atomic
from .engine import ENGINES, PURE, SYSTEM, check_format, run
from .view import Part, View, as_json, build

FORMATS = ("svg", "png", "pdf", "dot", "json")
DIRECTIONS = ("LR", "TB")
DEFAULT_DPI = 144
DOT_HEADER = "// cnnviz diagram: every position is fixed; draw it with  dot -Kneato -n2 -Tsvg FILE\n"


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
        direction: str = "LR",
        shapes: bool = False,
        params: bool = False,
        aux: bool = True,
        engine: str | None = None,
        legend: bool = True,
        title: bool = True,
        dpi: int = DEFAULT_DPI,
    ):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        direction = direction.upper()
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be LR or TB, not {direction!r}")
        if engine is not None and engine not in ENGINES:
            raise EngineError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
        self.graph = as_graph(arch)
        measured = None
        if shapes or params:
            try:
                from ..shapes import infer  # the only torch import, and only when asked
            except ImportError as exc:
                raise MissingDependency(f"shapes and parameter counts need torch ({exc}); install it with 'pip install torch'") from None
            measured = infer(self.graph, check=False)
        self.view: View = build(self.graph, detail, aux, measured)
        self.options = {"direction": direction, "shapes": shapes, "params": params, "legend": legend, "title": title}
        self.engine = engine
        self.dpi = dpi
        self._laid = None

    # -- DOT -------------------------------------------------------------------

    def parts(self) -> list[tuple[str, _dot.Dot]]:
        """(role, DOT graph) of every piece: title, main line, panels, legend entries."""
        o, v = self.options, self.view
        out = []
        if o["title"]:
            out.append(("title", _dot.title_dot(v)))
        for i, part in enumerate(v.parts):
            out.append(("main" if i == 0 else "panel", _dot.part_dot(part, i, o["direction"], o["params"], o["shapes"])))
        if o["legend"]:
            out += [("legend", d) for d in _dot.legend_dots(v)]
        return out

    def source(self) -> str:
        """The layout input: each part's DOT (deterministic, no engine needed)."""
        return _compose.source([d for _, d in self.parts()])

    def _engine_for(self, fmt: str) -> str:
        engine = self.engine or (SYSTEM if fmt == "pdf" else PURE)
        check_format(engine, fmt)
        return engine

    def _composed(self, engine: str) -> _dot.Dot:
        if self._laid is None or self._laid[0] != engine:
            parts = self.parts()
            laid = _compose.layout([d for _, d in parts], engine)
            rows = self._wrapped(parts, laid)
            if rows:  # the main line was too long: lay out its rows and use them instead
                m = [r for r, _ in parts].index("main")
                o = self.options
                row_dots = [_dot.part_dot(Part("main", "", r), 0, o["direction"], o["params"], o["shapes"]) for r in rows]
                parts = parts[:m] + [("main", d) for d in row_dots] + parts[m + 1 :]
                laid = laid[:m] + _compose.layout(row_dots, engine) + laid[m + 1 :]
            dots = [d for _, d in parts]
            at, w, h = _compose.pack([r for r, _ in parts], laid, self.options["direction"])
            self._laid = (engine, _compose.compose(dots, laid, at, w, h, self.options["direction"]))
        return self._laid[1]

    def _wrapped(self, parts, laid) -> list:
        """The main line's rows when it is too long for one, else []."""
        m = [r for r, _ in parts].index("main")
        lay, v = laid[m], self.view.main.graph
        if self.options["direction"] == "LR":
            along, length = {n: p["pos"][0] for n, p in lay.nodes.items()}, lay.w
        else:
            along, length = {n: lay.h - p["pos"][1] for n, p in lay.nodes.items()}, lay.h
        cuts = _wrap.choose(v, along, length)
        return _wrap.split(v, cuts) if cuts else []

    def dot(self) -> str:
        """The packed DOT, every position fixed: what the engine draws."""
        return DOT_HEADER + _dot.text(self._composed(self._engine_for("svg")))

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
        engine = self._engine_for("svg" if fmt == "dot" else fmt)
        if fmt == "dot":
            return self.dot().encode("utf-8")
        args = ["-Kneato", "-n2", f"-T{fmt}"]
        if fmt == "png":
            args.append(f"-Gdpi={int(self.dpi)}")
        return run(engine, _dot.text(self._composed(engine)), args)

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


def format_of(path: str | os.PathLike) -> str | None:
    """The format a file name asks for, from its suffix (None when it does not say)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = {"gv": "dot", "htm": None}.get(suffix, suffix)
    return suffix if suffix in FORMATS else None


def diagram(arch, **options) -> Diagram:
    """A :class:`Diagram` of a catalogue id, spec path, Spec or graph (see :class:`Diagram` for options)."""
    return Diagram(arch, **options)


def render(arch, **options) -> SVG:
    """The SVG text of a diagram; in Jupyter it displays as the picture."""
    return Diagram(arch, **options).svg()


__all__ = ["COMPACT", "DETAILS", "FORMATS", "FULL", "MODULES", "SVG", "Diagram", "EngineError", "diagram", "format_of", "render"]
