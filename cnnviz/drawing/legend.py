"""The small parts of a picture around its diagrams: the title line and the legend,
each entry its own small graph (a swatch and its name) so that entries flow into rows."""

from __future__ import annotations

from typing import Any

from . import style
from .dot import Dot, base, font, node_attrs
from .quoting import join
from .style import Paint
from .view import View, subtitle


def title_dot(view: View) -> Dot:
    return heading_dot(view.name, subtitle(view))


def heading_dot(text: str, sub: str = "", name: str = "title") -> Dot:
    """A picture's title line: ``text`` in bold, then ``sub`` in grey."""
    dot = base(name, "LR")
    label = join(font(text, style.TITLE_SIZE, style.TEXT, bold=True), "   ", font(sub, style.SUBTITLE_SIZE, style.MUTED))
    dot.nodes.append(("title", {"shape": "plaintext", "label": label, "margin": 0, "height": 0.3}, None))
    return dot


LEGEND_EXTRA = {
    "towers": "one tower drawn for N identical ones",
    "aux": "auxiliary classifier (training only)",
}


def legend_dots(view: View) -> list[Dot]:
    """One small graph per legend entry (a swatch and its name), so entries can flow into rows.
    The swatches are small copies of the real boxes."""
    entries: list[tuple[dict, str]] = []
    for cat in view.legend:
        sw = style.swatch(cat)
        if cat in ("add", "mul"):
            a = node_attrs({"kind": "merge", "type": cat, "category": cat}, False)
            a.update(width=0.2, height=0.2, label=font("+" if cat == "add" else "×", 11, bold=True))
        elif cat == "concat":
            a = node_attrs({"kind": "merge", "type": "concat", "category": "concat"}, False)
        else:
            a = swatch_attrs(Paint(sw.fill, sw.stroke))
        entries.append((a, sw.legend))
    for mark in view.marks:
        if mark == "towers":
            a = {"shape": "box", "style": "rounded,filled", "fillcolor": style.TOWERS_FILL, "color": style.TOWERS_STROKE}
            a.update(label=font("×N", 8, style.MUTED, bold=True), width=0.3, height=0.2, fixedsize=True, _stack=2)
        else:
            a = {"shape": "box", "style": "rounded,dashed", "color": style.AUX_STROKE, "label": "", "width": 0.3, "height": 0.2, "fixedsize": True}
        entries.append((a, LEGEND_EXTRA[mark]))
    return entry_dots(entries)


def swatch_attrs(paint: Paint) -> dict[str, Any]:
    """A legend's small box in the given colours."""
    return {"shape": "box", "style": "rounded,filled", "fillcolor": paint.fill, "color": paint.stroke, "label": "", "width": 0.3, "height": 0.2, "fixedsize": True}


def entry_dots(entries: list[tuple[dict, str]], prefix: str = "legend") -> list[Dot]:
    """One small graph per legend entry: (swatch node attributes, name)."""
    out = []
    for i, (a, name) in enumerate(entries):
        dot = base(f"{prefix}{i}", "LR")
        dot.graph["ranksep"] = 0.12
        dot.nodes.append(("swatch", a, None))
        dot.nodes.append(("name", {"shape": "plaintext", "label": font(name, style.LEGEND_SIZE, style.TEXT), "margin": "0.02,0", "height": 0.2, "width": 0}, None))
        dot.edges.append(("swatch", "name", {"style": "invis"}))
        out.append(dot)
    return out
