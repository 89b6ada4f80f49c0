"""The typed network model that every stage after the spec walks (no torch, no networkx).

A :class:`Network` owns two tables keyed by :class:`Path`:

* :class:`Node`: the input, every leaf layer (and the batch norm and activation
  written on a conv, as *folded* nodes of their own), and every merge point;
  in execution order, so iterating ``network.nodes`` is a topological order.
* :class:`Block`: every enclosing structure (module calls, repeats, branches
  blocks and their branches, towers, auxiliary heads) with its parent, entry,
  exit and children, in the order the spec opens them.  A branch that starts
  from an earlier item (``from enc1``) carries a :class:`Ref`; its first nodes
  read that item's output, so the skip edge is an ordinary input in the tables,
  and :attr:`Network.ref_edges` says which inputs are skips.

A path (:mod:`cnnviz.paths`, re-exported here) is a tuple of typed segments,
never a string built or split by convention; segments of different kinds never
compare equal, so a layer named ``x_bn`` can never be mistaken for the batch
norm of ``x``.  ``str(path)`` is the documented serialisation
(``docs/spec-format.md``, "Paths")::

    conv2_1.add1.b1.conv1_relu      name . name . branch 1 . name + folded relu
    layer3.2.conv1                  the 2nd copy of a repeated item
    mixed_5b.concat1.concat         the merge node of a concat block

The spec stage refuses names that would make two paths serialise alike (a
``.`` in a name, ``input``, ``x_bn`` beside a conv ``x`` with batch norm), so
the text is unique too and :meth:`Network.find` can look a path up by it.

:class:`Shapes` is what the shape pass measures, keyed by path, so that the
drawing, summary and diff stages can type it without importing torch.
:attr:`Network.graph` is a networkx view derived from the tables, for graph
algorithms; it is not the contract between stages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from .paths import INPUT, ROOT, Path, Seg, SegKind

if TYPE_CHECKING:
    import networkx as nx

Loc = tuple[str, int, int]  # (file, line, col), 1-based; line 0 when unknown
Shape = tuple[int, ...]  # a tensor shape without the batch dimension
__all__ = ["INPUT", "MAIN_OUTPUT", "ROOT", "Block", "DuplicatePath", "Loc", "Network", "NetworkBuilder", "Node", "Path", "Ref", "Seg", "SegKind", "Shape", "Shapes", "frozen"]

NodeKind = Literal["input", "layer", "merge"]
BlockKind = Literal["call", "repeat", "branches", "branch", "towers", "aux", "output"]
MAIN_OUTPUT = "out"  # the main output's key among several (as torchvision's segmentation models name theirs)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``mapping`` (the model's settings cannot be changed by a later stage)."""
    return MappingProxyType(dict(mapping)) if mapping else _EMPTY


@dataclass(frozen=True)
class Node:
    """The input, a leaf layer (or a part folded into one), or a merge point."""

    path: Path
    kind: NodeKind
    type: str  # the layer type ("split" for the part of a split's input a branch reads), the merge op ("add", "concat", "mul") or "input"
    inputs: tuple[Path, ...]
    scope: tuple[Path, ...]  # the blocks it is inside, outermost first
    aux: bool = False  # inside an auxiliary head
    loc: Loc = ("", 0, 0)
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    named: bool = False  # the spec wrote its name (@conv4); False for made-up names
    folded_into: Path | None = None  # a batch norm or activation written on this layer
    towers: int = 0  # the concat of N identical towers

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Ref:
    """A branch that starts from an earlier item's output (``from NAME``) instead of its merge's input."""

    name: str  # the name as written
    target: Path  # the item it names (a layer or a block; the last copy's for a repeat)
    source: Path  # the node whose output the branch reads: the target's exit
    loc: Loc  # where ``from NAME`` is written


@dataclass(frozen=True)
class Block:
    """A structure around nodes: a module call, a repeat, branches and each branch, towers, an aux
    head (training only, off the count) or an extra output (a head that is part of the network)."""

    path: Path
    kind: BlockKind
    parent: Path | None  # the enclosing block, None at the top level
    entry: Path  # the node whose output it reads
    exit: Path  # the node whose output is its output (for an aux head or an output: its own last node)
    children: tuple[Path, ...]  # its items in order: blocks and layer nodes (not merges, not folded parts)
    loc: Loc = ("", 0, 0)
    named: bool = False
    count: int = 1  # copies (repeat), branches (branches), towers (towers)
    index: int = 0  # which copy of a repeat this is, from 1; 0 outside repeats
    module: str = ""  # call: the module's name
    label: str = ""  # call: the label its pictures show
    args: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # call: bound arguments, in declared order
    merge: str = ""  # branches: "concat", "add", "mul" or "split"
    split: bool = False  # towers: each tower reads its own slice of the input
    ref: Ref | None = None  # branch: it starts from this earlier item instead of the merge's input

    @property
    def name(self) -> str:
        return self.path.name


class DuplicatePath(ValueError):
    """Two nodes or blocks given one path: a bug in the stage that built the network."""


@dataclass(frozen=True)
class Network:
    """A whole network: metadata, nodes and blocks by path, and the output node."""

    id: str
    name: str
    source: str  # the spec file as shown in messages
    input: Shape
    nodes: Mapping[Path, Node]
    blocks: Mapping[Path, Block]
    output: Path
    top: tuple[Path, ...]  # the top-level items in order
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # year, paper, reference, novel, aliases...
    expect: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # params, params_aux, output, shapes
    expect_locs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    modules: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # module name -> {"label", "doc", "loc"}
    counts_known: bool = False  # its expect: counts are facts: checked by the tests (catalogue) or counted on the imported model
    loc: Loc = ("", 0, 0)

    def node(self, path: Path) -> Node:
        return self.nodes[path]

    @cached_property
    def outputs(self) -> Mapping[str, Path]:
        """Every output by name → the node that gives it: the main output first, as
        ``out``, then each extra output (``output:``) in execution order, by its path
        text (``P4``; ``stage2.depth`` inside a module call; ``output1`` unnamed)."""
        extra = {name: self.blocks[p].exit for name, p in self.heads.items()}
        return MappingProxyType({MAIN_OUTPUT: self.output, **extra})

    @cached_property
    def heads(self) -> Mapping[str, Path]:
        """Each extra output by name (as in :attr:`outputs`) → its ``output`` block."""
        return MappingProxyType({str(p): p for p, b in self.blocks.items() if b.kind == "output"})

    def block(self, path: Path) -> Block:
        return self.blocks[path]

    def layers(self) -> Iterator[Node]:
        """Every layer node (folded parts included), in execution order."""
        return (n for n in self.nodes.values() if n.kind == "layer")

    @cached_property
    def consumers(self) -> Mapping[Path, tuple[Path, ...]]:
        """Node → the nodes that read its output, in execution order."""
        out: dict[Path, list[Path]] = {p: [] for p in self.nodes}
        for node in self.nodes.values():
            for i in node.inputs:
                out[i].append(node.path)
        return MappingProxyType({p: tuple(v) for p, v in out.items()})

    @cached_property
    def refs(self) -> Mapping[Path, Ref]:
        """Branch block → the reference it starts from (``from NAME``), in the order the spec opens them."""
        return MappingProxyType({p: b.ref for p, b in self.blocks.items() if b.ref is not None})

    @cached_property
    def ref_edges(self) -> Mapping[tuple[Path, Path], Ref]:
        """(source node, reading node) → the reference that makes that edge: the skip connections.

        The readers are the first nodes of the branch, or its merge when the branch
        is nothing but the reference (``concat: [from enc1, identity]``)."""
        out: dict[tuple[Path, Path], Ref] = {}
        for p, ref in self.refs.items():
            branch = self.blocks[p]
            merge = self.blocks[branch.parent].exit if branch.parent is not None else None
            for reader in self.consumers[ref.source]:
                inside = p in self.nodes[reader].scope
                if inside or (reader == merge and branch.exit == ref.source):
                    out.setdefault((ref.source, reader), ref)
        return MappingProxyType(out)

    def merge_refs(self, path: Path) -> tuple[Ref | None, ...]:
        """For a merge node, the reference each of its branches starts from (None: the merge's input)."""
        node = self.nodes[path]
        if node.kind != "merge" or not node.scope or node.towers:
            return ()
        block = self.blocks[node.scope[-1]]
        return tuple(self.blocks[c].ref for c in block.children)

    @cached_property
    def folds(self) -> Mapping[Path, tuple[Path, ...]]:
        """Layer → the batch norm and activation nodes folded into it, in order."""
        out: dict[Path, list[Path]] = {}
        for node in self.nodes.values():
            if node.folded_into is not None:
                out.setdefault(node.folded_into, []).append(node.path)
        return MappingProxyType({p: tuple(v) for p, v in out.items()})

    def layer_exit(self, path: Path) -> Path:
        """The node whose output is a layer's: its last folded part, or itself."""
        return (self.folds.get(path) or (path,))[-1]

    def item_exit(self, path: Path) -> Path:
        """The output node of an item: a block's exit, a layer's last folded part."""
        return self.blocks[path].exit if path in self.blocks else self.layer_exit(path)

    def children(self, path: Path | None) -> tuple[Path, ...]:
        """The items directly inside a block (``None``: the top level)."""
        return self.top if path is None else self.blocks[path].children

    @cached_property
    def _by_text(self) -> Mapping[str, Path]:
        out: dict[str, Path] = {}
        for p in (*self.blocks, *self.nodes):
            out.setdefault(str(p), p)
        return MappingProxyType(out)

    def find(self, text: str) -> Path | None:
        """The block or node whose serialised path is ``text`` (``conv3_1``, ``mixed_6e``)."""
        return self._by_text.get(text)

    @cached_property
    def depth(self) -> int:
        """Weighted layers (conv, sepconv, dwconv, tconv, dense) on the longest path of the main line."""
        best: dict[Path, int] = {}
        for p, n in self.nodes.items():
            if n.aux:
                continue
            here = 1 if n.type in WEIGHTED else 0
            best[p] = here + max((best[i] for i in n.inputs if i in best), default=0)
        return best.get(self.output, 0)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """A networkx view for graph algorithms: nodes are paths (attribute ``node``, the
        :class:`Node`), edges carry ``ref``: the :class:`Ref` of a skip edge, else None."""
        import networkx as nx

        g = nx.DiGraph()
        skips = self.ref_edges
        for p, n in self.nodes.items():
            g.add_node(p, node=n)
            for i in n.inputs:
                g.add_edge(i, p, ref=skips.get((i, p)))
        return g


WEIGHTED = ("conv", "sepconv", "dense", "dwconv", "tconv")


class NetworkBuilder:
    """Collects nodes and blocks, refusing a path given twice, then freezes them into a :class:`Network`."""

    def __init__(self) -> None:
        self.nodes: dict[Path, Node] = {}
        self._order: dict[Path, None] = {}  # blocks in the order they open (a dict: membership in O(1))
        self._blocks: dict[Path, Block] = {}

    def add_node(self, node: Node) -> Path:
        if node.path in self.nodes or node.path in self._blocks:
            raise DuplicatePath(f"two nodes at {node.path}")
        for i in node.inputs:
            if i not in self.nodes:
                raise ValueError(f"{node.path} reads {i}, which is not built yet")
        self.nodes[node.path] = node
        return node.path

    def open(self, path: Path) -> None:
        """Reserve a block's place in the order (its record comes when it closes)."""
        if path in self._order or path in self.nodes:
            raise DuplicatePath(f"two blocks at {path}")
        self._order[path] = None

    def exit(self, path: Path) -> Path:
        """The exit of a block already closed."""
        return self._blocks[path].exit

    def close(self, block: Block) -> None:
        if block.path not in self._order or block.path in self._blocks:
            raise ValueError(f"block {block.path} closed without being opened, or twice")
        self._blocks[block.path] = block

    def network(self, *, output: Path, top: tuple[Path, ...], **info: Any) -> Network:
        missing = [p for p in self._order if p not in self._blocks]
        if missing:
            raise ValueError(f"blocks never closed: {', '.join(map(str, missing))}")
        blocks = {p: self._blocks[p] for p in self._order}
        return Network(nodes=MappingProxyType(dict(self.nodes)), blocks=MappingProxyType(blocks), output=output, top=top, **info)


@dataclass(frozen=True)
class Shapes:
    """What the shape pass measured: each node's output shape and own parameter count."""

    shapes: Mapping[Path, Shape | None]  # None where an upstream error left it unknown
    params: Mapping[Path, int]  # layers with weights only
    total: int  # the network: the main line and its extra outputs
    aux: int  # auxiliary heads (not in ``total``)
    blocks: Mapping[Path, int]  # block → parameters of everything inside it

    def output_of(self, network: Network) -> Shape | None:
        return self.shapes.get(network.output)

    def outputs_of(self, network: Network) -> dict[str, Shape | None]:
        """Every output's shape by name (:attr:`Network.outputs`), the main one first."""
        return {name: self.shapes.get(p) for name, p in network.outputs.items()}

    def item_params(self, network: Network, path: Path) -> int:
        """A block's parameters, or a layer's with its folded batch norm (what a box stands for)."""
        if path in self.blocks:
            return self.blocks[path]
        return sum(self.params.get(p, 0) for p in (path, *network.folds.get(path, ())))
