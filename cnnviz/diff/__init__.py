"""``cnnviz diff A B``: what changed from one architecture to another.

The pipeline, one module per step::

    network + shapes --parts--> part trees --align--> changes --overview--> census, stages
                                                         \\--> text | json | picture

:func:`compare` needs the two :class:`~cnnviz.model.Network` objects and their
:class:`~cnnviz.model.Shapes`; :func:`diff` does everything from two catalogue
ids or spec files.  Nothing here imports torch except :func:`diff`, through
:func:`cnnviz.shape_stage`, and only once both specs have been read.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Network, Shape, Shapes
from .align import Aligner, Change
from .overview import census, pair_stages, stages
from .parts import Part, parts_of


@dataclass
class Side:
    """One of the two networks."""

    network: Network
    shapes: Shapes
    parts: list[Part]

    @property
    def id(self) -> str:
        return self.network.id

    @property
    def name(self) -> str:
        return self.network.name

    @property
    def year(self) -> int | None:
        return self.network.meta.get("year")

    @property
    def input(self) -> Shape:
        return tuple(self.network.input)

    @property
    def output(self) -> Shape | None:
        return self.shapes.output_of(self.network)

    @property
    def outputs(self) -> dict[str, Shape | None]:
        """Every output's shape by name, the main one first (``out``)."""
        return self.shapes.outputs_of(self.network)

    @property
    def params(self) -> int:
        return self.shapes.total

    @property
    def params_aux(self) -> int:
        return self.shapes.aux

    @property
    def depth(self) -> int:
        return self.network.depth


@dataclass
class Diff:
    a: Side
    b: Side
    changes: list[Change]  # the aligned top-level units, unchanged ones included
    stages: list[tuple]  # (Stage | None, Stage | None)
    census: tuple  # (census of A, census of B)

    @property
    def identical(self) -> bool:
        """Nothing added, removed, changed or renamed, and the same input: what ``--exit-code`` tests."""
        return self.a.input == self.b.input and all(c.status == "unchanged" for c in self.changes)


def compare(na: Network, sa: Shapes, nb: Network, sb: Shapes) -> Diff:
    """The diff of two networks with their shapes."""
    a, b = Side(na, sa, parts_of(na, sa)), Side(nb, sb, parts_of(nb, sb))
    aligner = Aligner()
    changes = aligner.diff(a.parts, b.parts)
    pairs = pair_stages(stages(aligner.units(a.parts)), stages(aligner.units(b.parts)), changes)
    return Diff(a, b, changes, pairs, (census(a.parts), census(b.parts)))


def diff(ref_a, ref_b) -> Diff:
    """The diff of two catalogue ids or spec paths (imports torch for the shapes).

    Both specs are read and built first, so that a spec error is reported
    without importing torch."""
    from .. import shape_stage
    from ..graph import as_network

    na, nb = as_network(ref_a), as_network(ref_b)
    stage = shape_stage()
    return compare(na, stage.infer(na, check=False), nb, stage.infer(nb, check=False))


__all__ = ["Change", "Diff", "Side", "compare", "diff"]
