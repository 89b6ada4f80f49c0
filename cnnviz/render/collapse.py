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

COMPACT, MODULES, FULL = "compact", "modules", "full"
DETAILS = (COMPACT, MODULES, FULL)
_EXPAND = {COMPACT: 0, MODULES: 1, FULL: 1 << 30}
IN_PORT, OUT_PORT = "<in>", "<out>"
_HIDE, _DROP = "hide", "drop"


def runs(g: nx.DiGraph, aux: bool = True) -> dict[str, tuple[str, int]]:
    """call block → (first block of its run, 1-based index in the run).

    A run is a chain of call blocks of the same module with the same arguments,
    one feeding the next and nothing else, under the same parent (repeats are
    looked through), whether the spec wrote ``xN`` or spelled them out."""
    blocks = g.graph["blocks"]
    calls = [b for b, info in blocks.items() if info["kind"] == "call"]
    by_exit: dict[str, list[str]] = {}
    out: dict[str, tuple[str, int]] = {}
    for b in calls:
        info = blocks[b]
        out[b] = (b, 1)
        for prev in by_exit.get(info["entry"], ()):
            if _same(blocks, prev, b) and _only_into(g, prev, b, aux):
                first, i = out[prev]
                out[b] = (first, i + 1)
                break
        by_exit.setdefault(info["exit"], []).append(b)
    return out


def _parent(blocks: dict, b: str):
    p = blocks[b]["parent"]
    while p is not None and blocks[p]["kind"] == "repeat":
        p = blocks[p]["parent"]
    return p


def _sig_args(args) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in (args or {}).items()))


def _same(blocks: dict, a: str, b: str) -> bool:
    x, y = blocks[a], blocks[b]
    return (x["module"], x["label"], _sig_args(x["args"]), _parent(blocks, a)) == (
        y["module"],
        y["label"],
        _sig_args(y["args"]),
        _parent(blocks, b),
    )


def _only_into(g: nx.DiGraph, a: str, b: str, aux: bool) -> bool:
    """Everything that reads a's output is inside b, and b reads nothing else."""
    for s in g.successors(g.graph["blocks"][a]["exit"]):
        if b not in g.nodes[s]["scope"] and (aux or not g.nodes[s]["aux"]):
            return False
    entry = g.graph["blocks"][b]["entry"]
    for n, d in g.nodes(data=True):
        if b in d["scope"] and any(i != entry and b not in g.nodes[i]["scope"] for i in d["inputs"]):
            return False
    return True


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
        if self.detail != FULL:
            fold_layers(v)
            v = renumber(v)
        mark_spine(v)
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


def _layer_sig(d: dict):
    """What makes two layers "identical" for folding; None for what never folds.
    Layers inside a branch are left as written: two 3×3 convs in an Inception
    branch are the point of the figure."""
    if d["kind"] != "layer" or d.get("branch"):
        return None
    return (d["type"], repr(sorted((k, repr(v)) for k, v in d["params"].items())), d["aux"], d.get("cluster"))


def fold_layers(v: nx.DiGraph) -> None:
    """Merge chains of identical layers (a → b, nothing else in or out) into one box ×N. In place."""
    for u in list(v):
        if u not in v:
            continue
        while v.out_degree(u) == 1:
            (w,) = v.successors(u)
            if v.in_degree(w) != 1 or _layer_sig(v.nodes[u]) is None or _layer_sig(v.nodes[u]) != _layer_sig(v.nodes[w]):
                break
            du, dw = v.nodes[u], v.nodes[w]
            du["count"] += dw["count"]
            du["members"] = (*du["members"], *dw["members"])
            for x in list(v.successors(w)):
                v.add_edge(u, x, **v.edges[w, x])
            v.remove_node(w)


def renumber(v: nx.DiGraph) -> nx.DiGraph:
    """A copy with nodes n0, n1, ... again, in the same order (after folding left gaps)."""
    new = {n: f"n{i}" for i, n in enumerate(v)}
    out = nx.DiGraph(**v.graph)
    for n, d in v.nodes(data=True):
        out.add_node(new[n], **d)
    for s, t, e in v.edges(data=True):
        out.add_edge(new[s], new[t], **e)
    return out


def mark_spine(v: nx.DiGraph) -> None:
    """Mark the longest path of non-aux nodes and its edges: the line drawn straight."""
    best: dict[str, tuple[int, str | None]] = {}
    for n in v:  # nodes were added in execution order: a topological order
        if v.nodes[n].get("aux"):
            continue
        preds = [(best[p][0], p) for p in v.predecessors(n) if p in best]
        length, prev = max(preds, key=lambda t: t[0]) if preds else (0, None)
        best[n] = (length + 1, prev)
    for n in v:
        v.nodes[n]["spine"] = False
    for e in v.edges:
        v.edges[e]["spine"] = False
    if not best:
        return
    end = max(best, key=lambda n: (best[n][0], -_index(n)))
    while end is not None:
        v.nodes[end]["spine"] = True
        prev = best[end][1]
        if prev is not None:
            v.edges[prev, end]["spine"] = True
        end = prev


def _index(n: str) -> int:
    return int(n[1:])


def collapse(g: nx.DiGraph, root: str | None = None, detail: str = COMPACT, aux: bool = True) -> nx.DiGraph:
    """The view of the whole network (``root=None``) or of the inside of call block ``root``."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    return _Collapser(g, root, detail, aux).build()
