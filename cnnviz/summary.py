"""Graph + shapes → a torchinfo-like table, or one JSON object."""

from __future__ import annotations

import json

import networkx as nx

from .graph import INPUT, leaf_count

DEFAULT_DEPTH = 2


def shape_text(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else "?"


def block_type(b: dict) -> str:
    kind = b["kind"]
    if kind == "call":
        return b["label"]
    if kind == "repeat":
        return f"×{b['count']}"
    if kind == "branches":
        return f"{b['merge']} of {b['count']} branches"
    if kind == "towers":
        return f"{b['count']} towers{' (split input)' if b['split'] else ''}"
    if kind == "aux":
        return "auxiliary classifier"
    return "branch"


def layer_type(d: dict) -> str:
    p = d["params"]
    bits = [d["type"]]
    if "filters" in p:
        bits.append(str(p["filters"]))
    elif "units" in p:
        bits.append(str(p["units"]))
    if "kernel" in p:
        bits.append("x".join(map(str, p["kernel"])))
    stride = p.get("stride")
    if stride and stride != (1, 1) and stride != p.get("kernel"):
        bits.append("/" + ("x".join(map(str, stride)) if stride[0] != stride[1] else str(stride[0])))
    if p.get("groups", 1) != 1:
        bits.append(f"groups={p['groups']}")
    return " ".join(bits)


def rows(g: nx.DiGraph, shapes, depth: int = DEFAULT_DEPTH) -> list[tuple]:
    """(indent, path, type, output shape, params, is_block) in execution order."""
    blocks = g.graph["blocks"]
    out, opened = [], set()
    for node, d in g.nodes(data=True):
        if node == INPUT:
            continue
        visible = [b for b in d["scope"] if blocks[b]["kind"] != "branch"]
        for level, b in enumerate(visible):
            if b not in opened and level <= depth:
                opened.add(b)
                exit_ = blocks[b].get("exit")
                out.append((level, b, block_type(blocks[b]), shapes.shapes.get(exit_), shapes.blocks[b], True))
        if len(visible) > depth or d["kind"] == "merge":
            continue
        parent = d.get("folded_into")
        if parent is not None and out and out[-1][1] == parent:  # bn/activation written on the conv: one row
            ind, path, typ, _, n, _ = out[-1]
            out[-1] = (ind, path, f"{typ} · {d['type']}", shapes.shapes.get(node), n + shapes.params.get(node, 0), False)
        else:
            towers = [blocks[b]["count"] for b in d["scope"] if blocks[b]["kind"] == "towers"]
            typ = layer_type(d) + (f" (×{towers[-1]} towers)" if towers else "")
            out.append((len(visible), node, typ, shapes.shapes.get(node), shapes.params.get(node, 0), False))
    return out


def table(g: nx.DiGraph, shapes, depth: int = DEFAULT_DEPTH) -> str:
    meta = g.graph["meta"]
    title = g.graph["name"] + (f" ({meta['year']})" if "year" in meta else "")
    lines_ = rows(g, shapes, depth)
    body = [("  " * ind + path, typ, shape_text(shp), f"{n:,}" if n else "--") for ind, path, typ, shp, n, _ in lines_]
    head = ("Layer (path)", "Type", "Output", "Params")
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    rule = "=" * (sum(widths) + 6)

    def fmt(r):
        return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}"

    out = [title, f"input {shape_text(g.graph['input'])}", rule, fmt(head), rule, *map(fmt, body), rule]
    out.append(f"Total params: {shapes.total:,}")
    if shapes.aux:
        out.append(f"Auxiliary heads: {shapes.aux:,} (not in the total; used in training only)")
    out.append(f"Output: {shape_text(shapes.shapes[g.graph['output']])}")
    out.append(f"Depth: {leaf_count(g)} weighted layers (conv + dense) on the longest path")
    return "\n".join(out)


def as_json(g: nx.DiGraph, shapes) -> str:
    layers = [
        {"path": n, "type": d["type"], "output": list(shapes.shapes[n]), "params": shapes.params.get(n, 0), **({"aux": True} if d["aux"] else {})}
        for n, d in g.nodes(data=True)
        if d["kind"] == "layer"
    ]
    obj = {
        "id": g.graph["id"],
        "name": g.graph["name"],
        "year": g.graph["meta"].get("year"),
        "input": list(g.graph["input"]),
        "output": list(shapes.shapes[g.graph["output"]]),
        "params": shapes.total,
        "params_aux": shapes.aux,
        "depth": leaf_count(g),
        "layers": layers,
    }
    return json.dumps(obj, indent=2)
