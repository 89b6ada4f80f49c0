"""The captured tree's nodes (torch-free): what :mod:`cnnviz.capture.structure` builds from
the ops and :mod:`cnnviz.capture.lowering` turns into spec items."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..spec.model import HeadRole
from .ops import Frame, Op

MERGES = ("add", "mul", "cat")


@dataclass
class Leaf:
    op: Op
    anchor: int = -1  # set when a reference reads this node's output (see Ref)


@dataclass
class Merge:
    op: Op
    branches: list[list[Node]]  # an empty branch is the identity
    anchor: int = -1


@dataclass
class Block:
    frame: Frame
    body: list[Node]
    shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    anchor: int = -1


@dataclass
class Opaque:
    frame: Frame
    shape: tuple[int, ...]
    ops: list[Op] = field(default_factory=list)
    anchor: int = -1


@dataclass
class Ref:
    """The first node of a branch that reads an earlier node's output (a long skip: ``from NAME``)
    instead of its merge's input.  The target is written earlier in the same list or one around it."""

    target: Leaf | Merge | Block | Opaque


@dataclass(frozen=True)
class Head:
    """A value the model returns besides its output: an auxiliary head's (training only) or an extra output's."""

    out: int  # the op whose value it is
    role: HeadRole
    name: str = ""  # an output's name (a dict key, or made from its place)


@dataclass
class AuxHead:
    """A head the model returns besides its output, drawn off the main line where it starts."""

    body: list[Node]
    role: HeadRole = "aux"
    name: str = ""


Node = Leaf | Merge | Block | Opaque | AuxHead | Ref


class Unstructured(Exception):
    pass


@dataclass
class Unit:
    """One item of a module's level: a single op, or the ops of one module call inside it."""

    id: int
    members: list[Op]
    preds: list[int]  # unit ids (or the source id), in input order
    out: int  # the op whose value leaves the unit
    frame: Frame | None  # set for a module call
    depth: int = 0  # the call's place on its ops' stacks


def shape_of(node: Node) -> tuple[int, ...] | None:
    if isinstance(node, (Leaf, Merge)):
        return node.op.shape
    if isinstance(node, (Block, Opaque)):
        return node.shape
    return None


def anchor_refs(node: Node, counter: list[int]) -> None:
    """Number every node a reference reads (its ``anchor``), once the tree is final."""
    if isinstance(node, Ref):
        if node.target.anchor < 0:
            counter[0] += 1
            node.target.anchor = counter[0]
        return
    for child in children(node):
        anchor_refs(child, counter)


def children(node: Node) -> list[Node]:
    if isinstance(node, Merge):
        return [n for b in node.branches for n in b]
    if isinstance(node, (Block, AuxHead)):
        return list(node.body)
    return []
