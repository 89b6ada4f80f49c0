"""The proportions of a picture: a long main line wraps into rows, so that no catalogue
diagram is much wider than tall (measured on the SVG the engine draws)."""

from __future__ import annotations

import re

import pytest

from cnnviz.drawing import Diagram
from cnnviz.drawing.figure import ASPECT
from cnnviz.registry import list_models

pytestmark = pytest.mark.dot


def svg_size(svg: str) -> tuple[float, float]:
    head = svg[: svg.index(">", svg.index("<svg"))]
    w, h = (float(re.search(rf'{k}="([0-9.]+)pt"', head).group(1)) for k in ("width", "height"))
    return w, h


@pytest.mark.parametrize("detail", ["compact", "modules"])
@pytest.mark.parametrize("ident", list_models())
def test_catalogue_pictures_are_at_most_three_times_wider_than_tall(ident, detail):
    w, h = svg_size(str(Diagram(ident, detail=detail).svg()))
    assert w <= ASPECT * h * 1.05, f"{ident}: {w:.0f} × {h:.0f} pt"


def test_a_long_line_over_nothing_else_wraps():
    """VGG-16 is one long line of boxes: it comes out in rows, the same boxes as before."""
    d = Diagram("vgg16", legend=False, title=False)
    w, h = svg_size(str(d.svg()))
    assert w <= ASPECT * h * 1.05
    drawn = d.dot()
    assert drawn.count("_w_out") >= 1  # cut into rows, each ending in a port
    for title in ("Conv", "Max pool", "FC", "Softmax"):
        assert title in drawn


def test_top_to_bottom_pictures_are_left_alone():
    w, h = svg_size(str(Diagram("vgg16", direction="TB").svg()))
    assert h > w  # a tall line is what TB asks for


@pytest.mark.parametrize(("rows", "cuts"), [(1, 0), (2, 1), (3, 2), (100, None)])
def test_choose_takes_the_rows_asked_for_a_short_line(rows, cuts):
    from cnnviz import build_network
    from cnnviz.drawing import wrap
    from cnnviz.drawing.view import build

    v = build(build_network("vgg16")).main.graph
    along = {n: float(d["order"]) for n, d in v.nodes(data=True)}
    got = wrap.choose(v, along, float(len(v)), limit=1e9, rows=rows)
    assert len(got) == (cuts if cuts is not None else len(wrap.candidates(v)))  # at most one cut per candidate
    assert [along[c] for c in got] == sorted(along[c] for c in got)
