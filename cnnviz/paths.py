"""Where a node or block sits in a network: :class:`Path`, a tuple of typed segments.

A path is never a string built or split by convention: a name the spec wrote
(``conv4``), the i-th copy of a repeat, the j-th branch of a ``concat``/``add``,
the merge node of a block, a batch norm or activation folded into a layer, the
input.  Segments of different kinds never compare equal.  ``str(path)`` is the
documented serialisation (``docs/spec-format.md``, "Names and paths").
:mod:`cnnviz.model` re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

SegKind = Literal["name", "copy", "branch", "merge", "fold", "input"]


class Seg(NamedTuple):
    """One step of a path: its kind and its value (a name, a number or an operation)."""

    kind: SegKind
    value: str | int

    def text(self) -> str:
        if self.kind == "branch":
            return f"b{self.value}"
        return str(self.value)


@dataclass(frozen=True)
class Path:
    """Where a node or block sits in the network: a tuple of typed segments."""

    segs: tuple[Seg, ...] = ()

    # -- making paths ---------------------------------------------------------

    def _plus(self, seg: Seg) -> Path:
        return Path((*self.segs, seg))

    def child(self, name: str) -> Path:
        """An item of a layer list, by its name (written or made up)."""
        return self._plus(Seg("name", name))

    def copy(self, i: int) -> Path:
        """The i-th copy (from 1) of a repeated item."""
        return self._plus(Seg("copy", i))

    def branch(self, j: int) -> Path:
        """The j-th branch (from 1) of a concat/add block."""
        return self._plus(Seg("branch", j))

    def merge(self, op: str) -> Path:
        """The node where a block's branches (or towers) meet."""
        return self._plus(Seg("merge", op))

    def split_input(self) -> Path:
        """The part of a ``split``'s input that this branch reads (written ``input``, a name no item may take)."""
        return self._plus(Seg("input", "input"))

    def fold(self, op: str) -> Path:
        """A batch norm or activation written on this layer (``conv 64 3x3 bn relu``)."""
        return self._plus(Seg("fold", op))

    # -- reading paths --------------------------------------------------------

    @property
    def parent(self) -> Path | None:
        return Path(self.segs[:-1]) if self.segs else None

    @property
    def last(self) -> Seg | None:
        return self.segs[-1] if self.segs else None

    @property
    def is_fold(self) -> bool:
        return bool(self.segs) and self.segs[-1].kind == "fold"

    def within(self, other: Path) -> bool:
        """Whether ``other`` is this path or one of its ancestors."""
        n = len(other.segs)
        return self.segs[:n] == other.segs

    def relative_to(self, other: Path) -> Path:
        if not self.within(other):
            raise ValueError(f"{self} is not inside {other}")
        return Path(self.segs[len(other.segs) :])

    def rebase(self, old: Path, new: Path) -> Path:
        """This path with the ancestor ``old`` replaced by ``new``."""
        return Path((*new.segs, *self.relative_to(old).segs))

    def names(self) -> tuple[str, ...]:
        """The serialised steps: a folded part joins the name before it (``conv1_relu``)."""
        out: list[str] = []
        for seg in self.segs:
            if seg.kind == "fold" and out:
                out[-1] = f"{out[-1]}_{seg.value}"
            else:
                out.append(seg.text())
        return tuple(out)

    @property
    def name(self) -> str:
        """The last serialised step (``conv1_relu``, ``b2``, ``3``), or '' for the root."""
        names = self.names()
        return names[-1] if names else ""

    def __str__(self) -> str:
        return ".".join(self.names())

    def __repr__(self) -> str:
        return f"Path({str(self)!r})"

    def __len__(self) -> int:
        return len(self.segs)


ROOT = Path()
INPUT = Path((Seg("input", "input"),))
