"""``cnnviz diff A B``: what changed from one architecture to another.

The pipeline, one module per step::

    graph + shapes --parts--> part trees --align--> changes --overview--> census, stages
                                                       \\--> text | json | picture

:func:`compare` needs the two graphs and their shapes (from
:func:`cnnviz.shapes.infer`); :func:`diff` does everything from two catalogue
ids or spec files.  Nothing here imports torch except :func:`diff`, through
:mod:`cnnviz.shapes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..graph import leaf_count
from .align import Aligner, Change
from .overview import census, pair_stages, stages
from .parts import Part, parts_of


@dataclass
class Side:
    """One of the two networks."""

    graph: nx.DiGraph
    shapes: object  # cnnviz.shapes.Shapes
    parts: list[Part]

    @property
    def id(self) -> str:
        return self.graph.graph["id"]

    @property
    def name(self) -> str:
        return self.graph.graph["name"]

    @property
    def year(self):
        return self.graph.graph["meta"].get("year")

    @property
    def input(self) -> tuple:
        return tuple(self.graph.graph["input"])

    @property
    def output(self) -> tuple:
        return self.shapes.shapes[self.graph.graph["output"]]

    @property
    def params(self) -> int:
        return self.shapes.total

    @property
    def params_aux(self) -> int:
        return self.shapes.aux

    @property
    def depth(self) -> int:
        return leaf_count(self.graph)


@dataclass
class Diff:
    a: Side
    b: Side
    changes: list[Change]  # the aligned top-level units, unchanged ones included
    stages: list[tuple]  # (Stage | None, Stage | None)
    census: tuple  # (census of A, census of B)

    @property
    def identical(self) -> bool:
        """No structural change and the same input: what ``--exit-code`` tests."""
        return self.a.input == self.b.input and all(c.status == "unchanged" for c in self.changes)


def compare(ga: nx.DiGraph, sa, gb: nx.DiGraph, sb) -> Diff:
    """The diff of two graphs with their shapes."""
    a, b = Side(ga, sa, parts_of(ga, sa)), Side(gb, sb, parts_of(gb, sb))
    aligner = Aligner()
    changes = aligner.diff(a.parts, b.parts)
    pairs = pair_stages(stages(aligner.units(a.parts)), stages(aligner.units(b.parts)), changes)
    return Diff(a, b, changes, pairs, (census(a.parts), census(b.parts)))


def diff(ref_a, ref_b) -> Diff:
    """The diff of two catalogue ids or spec paths (imports torch for the shapes)."""
    from ..graph import build_graph
    from ..shapes import infer
    from ..spec import load_spec

    ga, gb = build_graph(load_spec(ref_a)), build_graph(load_spec(ref_b))
    return compare(ga, infer(ga, check=False), gb, infer(gb, check=False))


__all__ = ["Change", "Diff", "Side", "compare", "diff"]
