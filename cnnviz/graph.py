"""Spec → :class:`~cnnviz.model.Network`: every item of the spec gets a typed path.

Layers become nodes; a conv (or dense) written with ``bn``/``act`` becomes the
layer node plus a node per folded part (``Path.fold``), marked ``folded_into``
the layer, so that the full view shows them and the compact view folds them
back.  Module calls, repeats, branches (and each branch), towers, auxiliary
heads and extra outputs become blocks with their parent, entry, exit and children, so a later
stage can collapse any block to one box.  Nodes are added in execution order.

A branch that starts ``from NAME`` (resolved by the spec stage to an item some
lists out) reads that item's output node: its branch block carries a
:class:`~cnnviz.model.Ref` and its entry is the item's exit.
"""

from __future__ import annotations

import os

from .model import INPUT, ROOT, Block, Network, NetworkBuilder, Node, Path, Ref, frozen
from .spec import load_spec
from .spec.model import Aux, Branches, Call, Item, Layer, Spec, Towers


def build_network(spec: Spec) -> Network:
    b = _Builder()
    b.net.add_node(Node(INPUT, "input", "input", (), (), loc=spec.loc))
    top: list[Path] = []
    output = b.seq(spec.body, ROOT, INPUT, (), False, top)
    return b.net.network(
        output=output,
        top=tuple(top),
        id=spec.id,
        name=spec.name,
        source=spec.path,
        input=tuple(spec.input),
        meta=frozen(spec.meta),
        expect=frozen(spec.expect),
        expect_locs=frozen(spec.expect_locs),
        modules=frozen(spec.modules),
        counts_known=spec.catalogue or spec.counted,
        loc=spec.loc,
    )


def as_network(arch: object) -> Network:
    """A catalogue id, a spec path, a Spec or an already built network → the network."""
    if isinstance(arch, Network):
        return arch
    if isinstance(arch, Spec):
        return build_network(arch)
    if isinstance(arch, (str, os.PathLike)):
        return build_network(load_spec(os.fspath(arch)))
    raise TypeError(f"expected a catalogue id, a spec path, a Spec or a Network, not {type(arch).__name__}")


class _Builder:
    def __init__(self) -> None:
        self.net = NetworkBuilder()
        self.lists: list[dict[str, tuple[Path, Path]]] = []  # per layer list being built: name -> (item, its output node)

    def seq(self, items: list[Item], at: Path, src: Path, scope: tuple[Path, ...], aux: bool, kids: list[Path]) -> Path:
        """Build a layer list under ``at``; returns the node that carries its output."""
        built: dict[str, tuple[Path, Path]] = {}
        self.lists.append(built)
        for item in items:
            path = at.child(item.name)
            kids.append(path)
            src = self.item(item, path, src, scope, aux)
            built[item.name] = (path, self.net.exit(path) if isinstance(item, Aux) else src)  # an output's name means what it outputs
        self.lists.pop()
        return src

    def ref(self, item: Branches, j: int) -> Ref | None:
        """The item branch ``j`` starts from, found where the spec stage resolved it."""
        r = item.ref(j)
        if r is None:
            return None
        target, source = self.lists[-1 - r.up][r.name]
        return Ref(r.name, target, source, r.loc)

    def item(self, item: Item, path: Path, src: Path, scope: tuple[Path, ...], aux: bool) -> Path:
        if item.repeat <= 1:
            return self.one(item, path, src, scope, aux)
        self.net.open(path)
        entry, inner, copies = src, (*scope, path), []
        for i in range(1, item.repeat + 1):
            copies.append(path.copy(i))
            src = self.one(item, path.copy(i), src, inner, aux, index=i)
        self.close(path, "repeat", item, scope, entry, src, copies, count=item.repeat)
        return src

    def close(self, path: Path, kind, item: Item, scope: tuple[Path, ...], entry: Path, exit_: Path, kids: list[Path], **info) -> None:
        parent = scope[-1] if scope else None
        self.net.close(Block(path, kind, parent, entry, exit_, tuple(kids), loc=item.loc, named=item.named, **info))

    def one(self, item: Item, path: Path, src: Path, scope: tuple[Path, ...], aux: bool, index: int = 0) -> Path:
        if isinstance(item, Layer):
            return self.layer(item, path, src, scope, aux)
        self.net.open(path)
        inner = (*scope, path)
        kids: list[Path] = []
        if isinstance(item, Call):
            out = self.seq(item.body, path, src, inner, aux, kids)
            self.close(path, "call", item, scope, src, out, kids, module=item.module, label=item.label, args=frozen(item.args), index=index)
        elif isinstance(item, Branches):
            ends = []
            for j, branch in enumerate(item.branches, 1):
                bpath = path.branch(j)
                kids.append(bpath)
                self.net.open(bpath)
                bkids: list[Path] = []
                ref = self.ref(item, j - 1)
                if ref is not None:  # (the spec stage allows no reference in a split)
                    start = ref.source
                else:
                    start = self.split_part(item, bpath, j, src, (*inner, bpath), aux) if item.merge == "split" else src
                end = self.seq(branch, bpath, start, (*inner, bpath), aux, bkids)
                entry = src if ref is None else ref.source
                self.net.close(Block(bpath, "branch", path, entry, end, tuple(bkids), loc=item.loc if ref is None else ref.loc, ref=ref))
                ends.append(end)
            op = "concat" if item.merge == "split" else item.merge  # a split's branches are concatenated
            out = self.merge(path.merge(op), op, ends, inner, aux, item)
            self.close(path, "branches", item, scope, src, out, kids, merge=item.merge, count=len(item.branches), index=index)
        elif isinstance(item, Towers):
            end = self.seq(item.body, path, src, inner, aux, kids)
            out = self.merge(path.merge("concat"), "concat", [end], inner, aux, item, towers=item.count)
            self.close(path, "towers", item, scope, src, out, kids, count=item.count, split=item.split, index=index)
        elif isinstance(item, Aux):  # an auxiliary head's nodes are marked aux; an extra output's are the network's own
            end = self.seq(item.body, path, src, inner, aux or item.role == "aux", kids)
            self.close(path, item.role, item, scope, src, end, kids, index=index)
            return src  # the main line carries on from where the head branched off
        else:  # pragma: no cover - the spec stage only makes the kinds above
            raise TypeError(type(item).__name__)
        return out

    def layer(self, item: Layer, path: Path, src: Path, scope: tuple[Path, ...], aux: bool) -> Path:
        p = item.params
        out = self.net.add_node(Node(path, "layer", item.type, (src,), scope, aux, item.loc, frozen(p), named=item.named))
        if p.get("bn"):
            out = self.net.add_node(Node(path.fold("bn"), "layer", "bn", (out,), scope, aux, item.loc, frozen({"eps": p["eps"]}), folded_into=path))
        act = p.get("act", "none")
        if act != "none":
            out = self.net.add_node(Node(path.fold(act), "layer", act, (out,), scope, aux, item.loc, folded_into=path))
        return out

    def split_part(self, item: Branches, bpath: Path, j: int, src: Path, scope: tuple[Path, ...], aux: bool) -> Path:
        """The node that gives the j-th branch of a split its part of the input channels."""
        params = frozen({"part": j, "parts": len(item.branches)})
        return self.net.add_node(Node(bpath.split_input(), "layer", "split", (src,), scope, aux, item.loc, params))

    def merge(self, path: Path, op: str, inputs: list[Path], scope: tuple[Path, ...], aux: bool, item: Item, towers: int = 0) -> Path:
        return self.net.add_node(Node(path, "merge", op, tuple(inputs), scope, aux=aux, loc=item.loc, towers=towers))
