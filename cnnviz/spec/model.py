"""The validated spec: a tree of layers, module calls, branches, towers and heads (aux, output).

Everything here is already checked and concrete: module arguments are bound,
``$`` references substituted, defaults applied.  Repeats are kept as counts (not
unrolled) so that later stages can show "×N".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from .loader import Loc, Value


@dataclass(kw_only=True)
class _Item:
    """What every item has: its name (the path segment), where it was written,
    its repeat count, and whether the spec named it (``@conv4``) or cnnviz did (``conv3``)."""

    name: str = ""
    loc: Loc = ("", 0, 0)
    repeat: int = 1
    named: bool = True


@dataclass
class Layer(_Item):
    type: str
    params: dict[str, Any]  # field name -> converted value


@dataclass(frozen=True)
class Ref:
    """``from NAME`` opening a branch: the branch reads the output of the earlier item NAME.

    Resolved and checked by the spec stage: the item is ``up`` layer lists out from
    the list that holds the merge (0: that list itself), written before the merge."""

    name: str
    loc: Loc
    up: int = 0


@dataclass
class Branches(_Item):
    """Parallel branches fed the same input, merged by 'concat', 'add' or 'mul'
    (an element-wise product that broadcasts sizes of 1); or 'split': each branch
    fed its own equal consecutive part of the input channels, the outputs
    concatenated.  An empty branch is the identity (a shortcut).  A branch with a
    :class:`Ref` starts from that earlier item's output instead (not in a split)."""

    merge: str
    branches: list[list[Item]]
    refs: list[Ref | None] = field(default_factory=list)  # one per branch, or empty: none

    def ref(self, j: int) -> Ref | None:
        """The reference branch ``j`` (from 0) starts from, or None."""
        return self.refs[j] if j < len(self.refs) else None


@dataclass
class Towers(_Item):
    """``count`` identical towers, concatenated.  ``split`` feeds each tower
    its own slice of the input channels (AlexNet's two GPUs); otherwise every
    tower sees the whole input (ResNeXt)."""

    count: int
    split: bool
    body: list[Item]


@dataclass
class Call(_Item):
    """An instance of a user-defined module."""

    module: str
    label: str
    args: dict[str, Any]  # argument name -> bound value, in declared order
    body: list[Item]


HeadRole = Literal["aux", "output"]


@dataclass
class Aux(_Item):
    """A head hanging off the current point of the main line, which carries on from that
    point: an auxiliary classifier, run in training only and counted apart (``role``
    "aux", written ``aux:``), or an extra output of the network, part of it like the
    main line (``role`` "output", written ``output:``; an empty body: the point itself)."""

    body: list[Item]
    role: HeadRole = "aux"


Item = Layer | Branches | Towers | Call | Aux


class ModuleInfo(TypedDict):
    """What a spec keeps about each module it defines (``Spec.modules``)."""

    label: Value  # as written (the module's name when the spec wrote none), before ``$`` substitution
    doc: Value  # as written, '' when the spec wrote none
    loc: Loc  # where the module's definition starts


@dataclass
class Spec:
    id: str
    path: str
    name: str
    input: tuple[int, ...]
    body: list[Item]
    meta: dict[str, Any] = field(default_factory=dict)  # year, paper, reference, article_params, novel, aliases
    expect: dict[str, Any] = field(default_factory=dict)  # params, params_aux, output, shapes: {name: shape}
    expect_locs: dict[str, Any] = field(default_factory=dict)  # same keys -> Loc ({name: Loc} for shapes), to point errors at the promise
    modules: dict[str, ModuleInfo] = field(default_factory=dict)  # module name -> {"label", "doc", "loc"}
    catalogue: bool = False  # shipped in arch_specs/, so its declared expectations are verified by the test-suite
    counted: bool = False  # the spec of an imported model: its expect: was counted on the model itself
    unused: int = 0  # of an imported model: its parameters that its traced forward pass did not use (not drawn)
    loc: Loc = ("", 0, 0)
