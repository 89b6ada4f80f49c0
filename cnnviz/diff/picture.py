"""A diff as one picture: both compact diagrams, coloured by what changed, and a legend.

The two networks are drawn by the renderer (:class:`cnnviz.drawing.Diagram`),
one above the other; every box is then recoloured by the status of the parts
it stands for: added (only in B), removed (only in A), changed, renamed or
unchanged.  With ``detail="modules"`` the insides of each changed module
follow, before and after side by side; ``"full"`` draws every layer instead.
"""

from __future__ import annotations

import networkx as nx

from ..drawing import Diagram
from ..drawing import compose as _compose
from ..drawing import dot as _dot
from ..drawing import labels, style
from ..drawing.engine import PURE, check_format, run
from ..drawing.quoting import join, tag
from . import Diff
from .align import Change, Unit

PALETTE = {  # status -> (fill, stroke, legend)
    "added": ("#d3f9d8", "#2b8a3e", "added in B"),
    "removed": ("#ffe3e3", "#c92a2a", "removed from A"),
    "changed": ("#fff3bf", "#e67700", "changed"),
    "renamed": ("#d0ebff", "#1c7ed6", "renamed, same structure"),
    "unchanged": ("#f8f9fa", "#adb5bd", "unchanged"),
}
GAP = 18.0
DETAILS = ("compact", "modules", "full")


def _roots(u: Unit) -> list[str]:
    """The graph paths of every copy in a unit: ``mixed_5cd.1``, ``mixed_5cd.2``…"""
    out = []
    for p in u.members:
        out += [f"{p.path}.{k}" for k in range(1, p.repeat + 1)] if p.repeat > 1 else [p.path]
    return out


def _rep_root(u: Unit) -> str:
    """The copy whose paths the unit's representative (and the changes below it) use."""
    first = u.members[0]
    return f"{first.path}.1" if first.repeat > 1 else first.path


def _side(c: Change, which: str) -> Unit | None:
    return c.a if which == "a" else c.b


class Painter:
    """Graph path → status on one side of a diff (``which`` is "a" or "b")."""

    def __init__(self, g: nx.DiGraph, changes: list[Change], which: str):
        self.g = g
        self.top: list[tuple[list[str], str, dict]] = []  # (copy roots, status, {relative path: status})
        for c in changes:
            u = _side(c, which)
            if u is None:
                continue
            root, inner = _rep_root(u), {}
            for k in c.walk():
                ku = _side(k, which)
                if k is c or ku is None:
                    continue
                for m in ku.members:
                    if m.path.startswith(root + "."):
                        inner[m.path[len(root) + 1 :]] = k.status
            roots, other = _roots(u), c.b if which == "a" else c.a
            if c.status == "changed" and other.count < len(roots):  # the copies beyond the other side's count
                self.top.append((roots[other.count :], "removed" if which == "a" else "added", {}))
                roots = roots[: other.count]
            self.top.append((roots, c.status, inner))

    def status(self, path: str) -> str | None:
        if path in self.g:
            path = self.g.nodes[path].get("folded_into") or path  # a conv's bn and activation are the conv
        for roots, status, inner in self.top:
            for root in roots:
                if path == root or path.startswith(root + "."):
                    parts = path[len(root) + 1 :].split(".") if path != root else []
                    for i in range(len(parts), 0, -1):
                        found = inner.get(".".join(parts[:i]))
                        if found:
                            return found
                    return status
        return None

    def of(self, members) -> str | None:
        found = {self.status(m) for m in members} - {None}
        if not found:
            return None
        return found.pop() if len(found) == 1 else "changed"


def _paint(dot: _dot.Dot, view_graph: nx.DiGraph, painter: Painter) -> set[str]:
    """Recolour a part's boxes (and its towers/aux frames) in place; the statuses used."""
    used = set()
    nodes = []
    for n, a, cluster in dot.nodes:
        d = view_graph.nodes[n]
        status = painter.of(d.get("members") or ()) if d["kind"] not in ("port", "input") else None
        if status is not None:
            fill, stroke, _ = PALETTE[status]
            a = {**a, "fillcolor": fill, "color": stroke}
            used.add(status)
        nodes.append((n, a, cluster))
    dot.nodes = nodes
    for cid, info in view_graph.graph["clusters"].items():
        status = painter.status(info["block"]) if info.get("block") else None
        if status is not None and cid in dot.clusters:
            a, parent = dot.clusters[cid]
            dot.clusters[cid] = ({**a, "color": PALETTE[status][1]}, parent)
    return used


def _legend(used: set[str]) -> list[_dot.Dot]:
    out = []
    for i, status in enumerate(s for s in PALETTE if s in used):
        fill, stroke, name = PALETTE[status]
        d = _dot.base(f"difflegend{i}", "LR")
        d.graph["ranksep"] = 0.06
        d.nodes.append(("swatch", {"shape": "box", "style": "rounded,filled", "fillcolor": fill, "color": stroke, "label": "", "width": 0.3, "height": 0.2, "fixedsize": True}, None))
        d.nodes.append(("name", {"shape": "plaintext", "label": tag("font", name, point_size=style.LEGEND_SIZE, color=style.TEXT), "margin": "0.02,0", "height": 0.2, "width": 0}, None))
        d.edges.append(("swatch", "name", {"style": "invis"}))
        out.append(d)
    return out


def _retitle(dot: _dot.Dot, text: str) -> None:
    a, parent = dot.clusters["panel"]
    label = tag("font", tag("b", text), point_size=style.PANEL_TITLE_SIZE, color=style.TEXT)
    dot.clusters["panel"] = ({**a, "label": label}, parent)


class Picture:
    """The parts of the diff picture in rows, laid out once, drawn in any format."""

    def __init__(self, d: Diff, detail: str = "modules", engine: str | None = None, dpi: int = 144):
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        self.engine = engine or PURE
        self.dpi = dpi
        view_detail = "full" if detail == "full" else "compact"
        self.diagrams = diagrams = {w: Diagram(s.graph, detail=view_detail, legend=False, title=False) for w, s in (("a", d.a), ("b", d.b))}
        painters = {w: Painter(s.graph, d.changes, w) for w, s in (("a", d.a), ("b", d.b))}
        used: set[str] = set()
        rows: list[list[_dot.Dot]] = [[self._title(d)]]
        self.mains = {}  # "a"/"b" -> the painted DOT of the main line
        for w in ("a", "b"):
            dg = diagrams[w]
            (main,) = [dot for role, dot in dg.parts() if role == "main"]
            used |= _paint(main, dg.view.main.graph, painters[w])
            rows += [[_dot.title_dot(dg.view)], [main]]
            self.mains[w] = main
        if detail == "modules":
            for c in d.changes:
                row = self._panels(c, diagrams, painters, used)
                if row:
                    rows.append(row)
        rows.append(_legend(used))
        self.rows = rows

    @staticmethod
    def _title(d: Diff) -> _dot.Dot:
        a, b = d.a, d.b
        delta = b.params - a.params
        pct = f", {delta / a.params * 100:+.1f}%" if a.params else ""
        sub = f"params {labels.count(a.params)} → {labels.count(b.params)} ({'+' if delta >= 0 else '-'}{labels.count(abs(delta))}{pct}) · depth {a.depth} → {b.depth}"
        t = _dot.base("difftitle", "LR")
        head = tag("font", tag("b", f"{a.name} → {b.name}"), point_size=style.TITLE_SIZE, color=style.TEXT)
        label = join(head, "   ", tag("font", sub, point_size=style.SUBTITLE_SIZE, color=style.MUTED))
        t.nodes.append(("title", {"shape": "plaintext", "label": label, "margin": 0, "height": 0.3}, None))
        return t

    @staticmethod
    def _panels(c: Change, diagrams: dict, painters: dict, used: set) -> list[_dot.Dot]:
        """The insides of a changed module: A's panel, then B's."""
        if c.status != "changed" or any(u is None or u.kind != "module" for u in (c.a, c.b)):
            return []
        row = []
        for w, u, when in (("a", c.a, "before"), ("b", c.b, "after")):
            dg = diagrams[w]
            roots = _roots(u)
            panels = [dot for role, dot in dg.parts() if role == "panel"]
            for part, dot in zip(dg.view.panels, panels):
                if any(part.block == r or part.block.startswith(r + ".") for r in roots):
                    used |= _paint(dot, part.graph, painters[w])
                    _retitle(dot, f"{u.label} · {when}")
                    row.append(dot)
                    break
        return row

    def _composed(self) -> _dot.Dot:
        dots = [dot for row in self.rows for dot in row]
        laid = _compose.layout(dots, self.engine)
        at, y, width, i = [], 0.0, 0.0, 0
        for row in self.rows:
            x, height = 0.0, 0.0
            for _ in row:
                at.append((x, y))
                x += laid[i].w + GAP
                height = max(height, laid[i].h)
                i += 1
            width = max(width, x - GAP)
            y += height + GAP
        return _compose.compose(dots, laid, at, width, y - GAP)

    def render(self, fmt: str = "svg") -> bytes:
        check_format(self.engine, fmt)
        args = ["-Kneato", "-n2", f"-T{fmt}"] + ([f"-Gdpi={int(self.dpi)}"] if fmt == "png" else [])
        return run(self.engine, _dot.text(self._composed()), args)
