"""Network → one collapsed view graph (a pure function returning a new graph).

:func:`collapse` draws one region of the :class:`~cnnviz.model.Network`: the
whole network (the main line) or the inside of one module instance (a panel).
Every node of the network is mapped to a *key*:

* a module call deeper than the detail level expands becomes one box, shared
  by every consecutive identical instance (``run``), so it reads "×N";
* inside an expanded module, the nodes of the 2nd..Nth identical instance map
  onto the 1st instance's nodes (``Path.rebase``), and the link from one
  instance to the next is dropped, so the inside is drawn once (a cluster
  marked "×N");
* batch norm and activations written on a conv map onto the conv; clutter
  layers (dropout, flatten, ...) are hidden and their edges bridged; auxiliary
  heads are dropped when asked.

The view's nodes are ``n0, n1, ...`` in execution order, so output is
deterministic; a node's ``order`` attribute is that position (ids are never
parsed back), its ``members`` the :class:`~cnnviz.model.Path` of every network
node (or, for a module box, every call block) it stands for, and an edge's
``via`` the network node whose output it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx

from .. import present
from ..model import Network, Path
from . import labels, style
from .passes import FULL_PASSES, PASSES
from .runs import Inside, Runs, inside, runs
from .widths import Widths, channels, measure

COMPACT, MODULES, FULL = "compact", "modules", "full"
DETAILS = (COMPACT, MODULES, FULL)
_EXPAND = {COMPACT: 0, MODULES: 1, FULL: 1 << 30}
IN_PORT, OUT_PORT = "<in>", "<out>"
_HIDE, _DROP = "hide", "drop"


class _Collapser:
    def __init__(self, net: Network, root: Path | None, detail: str, aux: bool, run: Runs | None, within: Inside | None, widths: Widths | None = None):
        self.net, self.root, self.detail, self.aux = net, root, detail, aux
        self.widths = widths if widths is not None else measure(net)
        self.blocks = net.blocks
        self.expand = _EXPAND[detail]
        if root is None:
            self.region: Sequence[Path] = tuple(net.nodes)
            self.members: set[Path] | None = None  # every node
        else:  # a panel walks the nodes inside its block, not the whole network
            self.region = (within if within is not None else inside(net)).get(root, ())
            self.members = set(self.region)
        if detail == FULL:
            self.run = {b: (b, 1) for b, blk in self.blocks.items() if blk.kind == "call"}
        else:
            self.run = run if run is not None else runs(net, aux, within)
        self.outputs: dict[Path, list[str]] = {}  # node -> the outputs it gives (in a panel: those inside it)
        for name, p in net.outputs.items() if len(net.outputs) > 1 else ():
            if root is None or name in net.heads and net.heads[name].within(root):
                self.outputs.setdefault(p, []).append(name)
        self.run_len: dict[Path, int] = {}
        self.in_run: dict[Path, list[Path]] = {}  # first block of a run -> every block of it
        for b, (first, i) in self.run.items():
            self.run_len[first] = max(self.run_len.get(first, 1), i)
            self.in_run.setdefault(first, []).append(b)

    # -- where a node goes ---------------------------------------------------

    def rel(self, scope: tuple[Path, ...]) -> tuple[Path, ...]:
        if self.root is None:
            return scope
        return scope[scope.index(self.root) + 1 :]

    def in_region(self, n: Path) -> bool:
        return self.members is None or n in self.members

    def calls(self, scope: tuple[Path, ...]) -> list[Path]:
        return [b for b in self.rel(scope) if self.blocks[b].kind == "call"]

    def canon(self, n: Path) -> Path:
        """The node of the first instance that n is drawn as."""
        while True:
            for depth, b in enumerate(self.calls(self.net.nodes[n].scope)):
                if depth >= self.expand:
                    return n
                first = self.run[b][0]
                if first != b:
                    n = n.rebase(b, first)
                    break
            else:
                return n

    def key(self, n: Path):
        c = self.canon(n)
        node = self.net.nodes[c]
        if node.aux and not self.aux:
            return _DROP
        calls = self.calls(node.scope)
        if len(calls) > self.expand:
            return ("box", self.run[calls[self.expand]][0])
        if node.folded_into is not None and self.detail != FULL:
            return self.key(node.folded_into)
        if node.kind == "layer" and node.type in style.CLUTTER and self.detail != FULL:
            return _HIDE
        return ("node", c)

    def crossing(self, i: Path, n: Path) -> bool:
        """Is i → n the link from one folded instance into the next?"""
        for depth, b in enumerate(self.calls(self.net.nodes[n].scope)):
            if depth > self.expand:
                return False
            if self.run[b][0] != b and b not in self.net.nodes[i].scope:
                return True
        return False

    # -- the view graph ------------------------------------------------------

    def build(self) -> nx.DiGraph:
        v = nx.DiGraph()
        ids: dict = {}
        src: dict[Path, tuple] = {}  # network node -> view nodes whose output it carries

        def add(k, attrs):
            if k not in ids:
                ids[k] = f"n{len(ids)}"
                v.add_node(ids[k], **attrs, order=len(ids) - 1)
            return ids[k]

        def link(s, t, via: Path, aux: bool, skip: bool = False):
            if s == t or v.has_edge(s, t):
                return
            v.add_edge(s, t, via=via, aux=aux, **({"skip": True} if skip else {}))

        def ends(n: Path) -> None:
            """The boxes of the outputs that node n gives, each named, after what draws n."""
            for name in self.outputs.get(n, ()):
                out = add(("output", (self.canon(n), name)), self.output_attrs(name))
                for s in src[n]:
                    link(s, out, n, False)

        members: dict[str, list[Path]] = {}  # view node -> the network nodes it stands for
        skips = self.net.ref_edges  # (source, reader) of each branch that starts from an earlier item
        hidden_skips: set[Path] = set()  # hidden nodes (dropout…) that a skip feeds: the skip goes on through them
        if self.root is not None:
            add(IN_PORT, _port("in"))
        for n in self.region:
            node = self.net.nodes[n]
            k = self.key(n)
            if k == _DROP:
                continue
            feeds = []
            for i in node.inputs:
                if self.crossing(i, n):
                    continue
                if i in src:
                    feeds.append((i, src[i]))
                elif not self.in_region(i):
                    feeds.append((i, (ids[IN_PORT],)))
            if k == _HIDE:
                src[n] = tuple(dict.fromkeys(s for _, ss in feeds for s in ss))
                if any((i, n) in skips or i in hidden_skips for i, _ in feeds):
                    hidden_skips.add(n)
                ends(n)
                continue
            me = add(k, self.attrs(k))
            if k[0] == "node":
                members.setdefault(me, []).append(n)
            for i, ss in feeds:
                for s in ss:
                    link(s, me, i, node.aux or bool(v.nodes[s].get("aux")), (i, n) in skips or i in hidden_skips)
            src[n] = (me,)
            ends(n)
        for me, ms in members.items():
            v.nodes[me]["members"] = tuple(ms)
        if self.root is not None:
            out = add(OUT_PORT, _port("out"))
            last = self.blocks[self.root].exit
            for s in src.get(last, ()):
                link(s, out, last, False)
        self.clusters(v, ids)
        for transform in FULL_PASSES if self.detail == FULL else PASSES:
            v = transform(v)
        return v

    def attrs(self, k) -> dict[str, Any]:
        kind, ref = k
        if kind == "box":
            b = self.blocks[ref]
            n = self.run_len.get(ref, 1)
            members = tuple(self.in_run[ref])
            return {
                "kind": "module",
                "type": b.module,
                "category": "module",
                "title": b.label,
                "detail": "",
                "count": n,
                "aux": self._aux_block(ref),
                "block": ref,
                "args": dict(b.args),
                "width": channels(self.widths, self.blocks[members[-1]].exit),  # the run's output
                "members": members,
            }
        node = self.net.nodes[ref]
        if node.kind == "input":
            return {"kind": "input", "type": "input", "category": "input", "title": "Input", "detail": present.shape(self.net.input), "count": 1, "aux": False, "members": ()}
        if node.kind == "merge":
            title = {"add": "+", "mul": "×"}.get(node.type, "concat")
            return {"kind": "merge", "type": node.type, "category": style.category(node.type), "title": title, "detail": "", "count": 1, "aux": node.aux, "members": ()}
        cin = channels(self.widths, node.inputs[0]) if node.inputs else None
        title, detail = labels.layer(node.type, node.params, self.detail, cin, strides=self.root is None)
        return {
            "kind": "layer",
            "type": node.type,
            "category": style.category(node.type),
            "title": title,
            "detail": detail,
            "count": 1,
            "aux": node.aux,
            "params": node.params,
            "small": self.detail != FULL and style.category(node.type) in style.SMALL,  # a standalone norm or activation
            **(self._act(ref) if node.type in labels.CONVS else {}),
            "branch": any(self.blocks[b].kind == "branch" for b in self.rel(node.scope)),
            "members": (),
        }

    def output_attrs(self, name: str) -> dict[str, Any]:
        """An output's box, no shape: the name a built model gives it ("out", "P4", "stage2.depth");
        in a panel, which may stand for several calls, its name inside the module ("depth")."""
        title = name if self.root is None else str(self.net.heads[name].relative_to(self.root))
        return {"kind": "output", "type": "output", "category": "output", "title": title, "detail": "", "count": 1, "aux": False, "output": name, "members": ()}

    def _act(self, ref: Path) -> dict[str, Any]:
        """A conv's activation (``act``): the one written on it (``act_on``), else a standalone
        one it alone feeds (``conv, relu`` or ``conv, bn, relu``), else "linear"."""
        nodes = self.net.nodes
        for f in self.net.folds.get(ref, ()):
            if style.category(nodes[f].type) == "act":
                return {"act": nodes[f].type, "act_on": True}
        at = self.net.layer_exit(ref)
        while len(out := self.net.consumers[at]) == 1 and nodes[out[0]].kind == "layer":  # through a standalone norm
            cat = style.category(nodes[out[0]].type)
            if cat == "act":
                return {"act": nodes[out[0]].type, "act_on": False}
            if cat != "norm":
                break
            at = out[0]
        return {"act": "linear", "act_on": False}

    def _aux_block(self, b: Path | None) -> bool:
        while b is not None:
            if self.blocks[b].kind == "aux":
                return True
            b = self.blocks[b].parent
        return False

    # -- clusters ------------------------------------------------------------

    def clusters(self, v: nx.DiGraph, ids: dict) -> None:
        """Towers and expanded modules become clusters (nested as in the spec).  Auxiliary
        heads do not: their nodes are dashed, and a cluster would stop the layout from
        hanging them below the main line."""
        cids: dict[Path, str] = {}
        info: dict[str, dict] = {}
        for k, node in ids.items():
            if k in (IN_PORT, OUT_PORT):
                v.nodes[node]["cluster"] = None
                continue
            kind, ref = k
            if kind == "output":  # outside the module that gives it: it is the network's
                v.nodes[node]["cluster"] = None
                continue
            if kind == "box":
                scope = self._ancestors(ref)
            else:
                d = self.net.nodes[ref]
                scope = self.rel(d.scope)
                if d.kind == "merge" and d.towers:
                    scope = scope[:-1]  # the concat of the towers sits outside them
            chain = [b for b in scope if self._clustered(b, scope)]
            parent = None
            for b in chain:
                if b not in cids:
                    cids[b] = f"c{len(cids)}"
                    info[cids[b]] = {**self._cluster_info(b), "parent": parent}
                parent = cids[b]
            v.nodes[node]["cluster"] = parent
        v.graph["clusters"] = info

    def _ancestors(self, b: Path) -> tuple[Path, ...]:
        out = []
        p = self.blocks[b].parent
        while p is not None and p != self.root:
            out.append(p)
            p = self.blocks[p].parent
        return tuple(reversed(out))

    def _clustered(self, b: Path, scope: tuple[Path, ...]) -> bool:
        kind = self.blocks[b].kind
        if kind == "towers":
            return True
        if kind == "call":
            return self.calls(scope).index(b) < self.expand
        return False

    def _cluster_info(self, b: Path) -> dict[str, Any]:
        block = self.blocks[b]
        if block.kind == "towers":
            return {"kind": "towers", "label": f"×{block.count} towers", "count": block.count, "block": b}
        n = self.run_len.get(b, 1)
        return {"kind": "module", "label": block.label, "count": n, "block": b, "module": block.module}


def _port(which: str) -> dict[str, Any]:
    return {"kind": "port", "type": which, "category": "port", "title": "", "detail": "", "count": 1, "aux": False, "members": ()}


def collapse(
    net: Network, root: Path | None = None, detail: str = COMPACT, aux: bool = True, run: Runs | None = None, within: Inside | None = None, widths: Widths | None = None
) -> nx.DiGraph:
    """The view of the whole network (``root=None``) or of the inside of call block ``root``.

    ``run`` is :func:`~cnnviz.drawing.runs.runs` of ``(net, aux)``, ``within``
    :func:`~cnnviz.drawing.runs.inside` of ``net`` and ``widths``
    :func:`~cnnviz.drawing.widths.measure` of it (or the shape pass's shapes) when
    the caller has them already."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    return _Collapser(net, root, detail, aux, run, within, widths).build()
