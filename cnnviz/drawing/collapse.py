"""Graph → one collapsed view graph (a pure function returning a new graph).

:func:`collapse` draws one region of the network graph: the whole network
(the main line) or the inside of one module instance (a panel).  Every graph
node is mapped to a *key*:

* a module call deeper than the detail level expands becomes one box, shared
  by every consecutive identical instance (``run``), so it reads "×N";
* inside an expanded module, the nodes of the 2nd..Nth identical instance map
  onto the 1st instance's nodes, and the link from one instance to the next
  is dropped, so the inside is drawn once (a cluster marked "×N");
* batch norm and activations written on a conv map onto the conv; clutter
  layers (dropout, flatten, ...) are hidden and their edges bridged; auxiliary
  heads are dropped when asked.

The view's nodes are ``n0, n1, ...`` in execution order, so output is
deterministic; a node's ``members`` lists what it stands for.
"""

from __future__ import annotations

import networkx as nx

from . import labels, style
from .passes import FULL_PASSES, PASSES
from .runs import runs

COMPACT, MODULES, FULL = "compact", "modules", "full"
DETAILS = (COMPACT, MODULES, FULL)
_EXPAND = {COMPACT: 0, MODULES: 1, FULL: 1 << 30}
IN_PORT, OUT_PORT = "<in>", "<out>"
_HIDE, _DROP = "hide", "drop"


class _Collapser:
    def __init__(self, g: nx.DiGraph, root: str | None, detail: str, aux: bool):
        self.g, self.root, self.detail, self.aux = g, root, detail, aux
        self.blocks = g.graph["blocks"]
        self.expand = _EXPAND[detail]
        self.run = runs(g, aux) if detail != FULL else {b: (b, 1) for b, i in self.blocks.items() if i["kind"] == "call"}
        self.run_len: dict[str, int] = {}
        for first, i in self.run.values():
            self.run_len[first] = max(self.run_len.get(first, 1), i)

    # -- where a node goes ---------------------------------------------------

    def rel(self, scope: tuple) -> tuple:
        if self.root is None:
            return scope
        return scope[scope.index(self.root) + 1 :]

    def in_region(self, n: str) -> bool:
        return self.root is None or self.root in self.g.nodes[n]["scope"]

    def calls(self, scope: tuple) -> list[str]:
        return [b for b in self.rel(scope) if self.blocks[b]["kind"] == "call"]

    def canon(self, n: str) -> str:
        """The node of the first instance that n is drawn as."""
        while True:
            for depth, b in enumerate(self.calls(self.g.nodes[n]["scope"])):
                if depth >= self.expand:
                    return n
                first = self.run[b][0]
                if first != b:
                    n = first + n[len(b) :]
                    break
            else:
                return n

    def key(self, n: str):
        c = self.canon(n)
        d = self.g.nodes[c]
        if d["aux"] and not self.aux:
            return _DROP
        calls = self.calls(d["scope"])
        if len(calls) > self.expand:
            return ("box", self.run[calls[self.expand]][0])
        if d.get("folded_into") and self.detail != FULL:
            return self.key(d["folded_into"])
        if d["kind"] == "layer" and d["type"] in style.CLUTTER and self.detail != FULL:
            return _HIDE
        return ("node", c)

    def crossing(self, i: str, n: str) -> bool:
        """Is i → n the link from one folded instance into the next?"""
        for depth, b in enumerate(self.calls(self.g.nodes[n]["scope"])):
            if depth > self.expand:
                return False
            if self.run[b][0] != b and b not in self.g.nodes[i]["scope"]:
                return True
        return False

    # -- the view graph ------------------------------------------------------

    def build(self) -> nx.DiGraph:
        g = self.g
        v = nx.DiGraph()
        ids: dict = {}
        src: dict[str, tuple] = {}  # graph node -> view keys whose output it carries

        def add(k, attrs):
            if k not in ids:
                ids[k] = f"n{len(ids)}"
                v.add_node(ids[k], **attrs)
            return ids[k]

        def link(s, t, via: str, aux: bool):
            if s == t or v.has_edge(s, t):
                return
            v.add_edge(s, t, via=via, aux=aux)

        if self.root is not None:
            add(IN_PORT, _port("in"))
        for n in g:
            if not self.in_region(n):
                continue
            d = g.nodes[n]
            k = self.key(n)
            if k == _DROP:
                continue
            feeds = []
            for i in d["inputs"]:
                if self.crossing(i, n):
                    continue
                if i in src:
                    feeds.append((i, src[i]))
                elif not self.in_region(i):
                    feeds.append((i, (ids[IN_PORT],)))
            if k == _HIDE:
                src[n] = tuple(dict.fromkeys(s for _, ss in feeds for s in ss))
                continue
            me = add(k, self.attrs(k))
            v.nodes[me]["members"] = (*v.nodes[me]["members"], n) if k[0] == "node" else v.nodes[me]["members"]
            for i, ss in feeds:
                for s in ss:
                    link(s, me, i, bool(d["aux"]) or bool(v.nodes[s].get("aux")))
            src[n] = (me,)
        if self.root is not None:
            out = add(OUT_PORT, _port("out"))
            last = self.blocks[self.root]["exit"]
            for s in src.get(last, ()):
                link(s, out, last, False)
        self.clusters(v, ids)
        for transform in FULL_PASSES if self.detail == FULL else PASSES:
            v = transform(v)
        return v

    def attrs(self, k) -> dict:
        kind, ref = k
        if kind == "box":
            b = self.blocks[ref]
            n = self.run_len.get(ref, 1)
            members = tuple(x for x, (first, _) in self.run.items() if first == ref)
            return {
                "kind": "module",
                "type": b["module"],
                "category": "module",
                "title": b["label"],
                "detail": "",
                "count": n,
                "aux": self._aux_block(ref),
                "block": ref,
                "args": dict(b["args"] or {}),
                "members": members,
            }
        d = self.g.nodes[ref]
        if d["kind"] == "input":
            shape = self.g.graph.get("input")
            return {"kind": "input", "type": "input", "category": "input", "title": "Input", "detail": labels.shape(shape), "count": 1, "aux": False, "members": ()}
        if d["kind"] == "merge":
            title = "+" if d["type"] == "add" else "concat"
            return {"kind": "merge", "type": d["type"], "category": style.category(d["type"]), "title": title, "detail": "", "count": 1, "aux": bool(d["aux"]), "members": ()}
        title, detail = labels.layer(d["type"], d["params"], self.detail)
        return {
            "kind": "layer",
            "type": d["type"],
            "category": style.category(d["type"]),
            "title": title,
            "detail": detail,
            "count": 1,
            "aux": bool(d["aux"]),
            "params": d["params"],
            "branch": any(self.blocks[b]["kind"] == "branch" for b in self.rel(d["scope"])),
            "members": (),
        }

    def _aux_block(self, b: str) -> bool:
        while b is not None:
            if self.blocks[b]["kind"] == "aux":
                return True
            b = self.blocks[b]["parent"]
        return False

    # -- clusters ------------------------------------------------------------

    def clusters(self, v: nx.DiGraph, ids: dict) -> None:
        """Towers and expanded modules become clusters (nested as in the spec).  Auxiliary
        heads do not: their nodes are dashed, and a cluster would stop the layout from
        hanging them below the main line."""
        cids: dict[str, str] = {}
        info: dict[str, dict] = {}
        for k, node in ids.items():
            if k in (IN_PORT, OUT_PORT):
                v.nodes[node]["cluster"] = None
                continue
            kind, ref = k
            if kind == "box":
                scope = self._ancestors(ref)
            else:
                d = self.g.nodes[ref]
                scope = self.rel(d["scope"])
                if d["kind"] == "merge" and d.get("towers"):
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

    def _ancestors(self, b: str) -> tuple:
        out = []
        p = self.blocks[b]["parent"]
        while p is not None and p != self.root:
            out.append(p)
            p = self.blocks[p]["parent"]
        return tuple(reversed(out))

    def _clustered(self, b: str, scope: tuple) -> bool:
        kind = self.blocks[b]["kind"]
        if kind == "towers":
            return True
        if kind == "call":
            return self.calls(scope).index(b) < self.expand
        return False

    def _cluster_info(self, b: str) -> dict:
        info = self.blocks[b]
        if info["kind"] == "towers":
            return {"kind": "towers", "label": f"×{info['count']} towers", "count": info["count"], "block": b}
        n = self.run_len.get(b, 1)
        return {"kind": "module", "label": info["label"], "count": n, "block": b, "module": info["module"]}


def _port(which: str) -> dict:
    return {"kind": "port", "type": which, "category": "port", "title": "", "detail": "", "count": 1, "aux": False, "members": ()}


def collapse(g: nx.DiGraph, root: str | None = None, detail: str = COMPACT, aux: bool = True) -> nx.DiGraph:
    """The view of the whole network (``root=None``) or of the inside of call block ``root``."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    return _Collapser(g, root, detail, aux).build()
