"""Network + shapes → a torchinfo-like table, or one JSON object.

Every figure is written by :mod:`cnnviz.present`, so a shape or a count reads
here as it does in the diagrams and the diff.  Paths appear as ``str(path)``,
the documented serialisation.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from . import present
from .model import INPUT, Block, Network, Path, Shape, Shapes

DEFAULT_DEPTH = 2


class Row(NamedTuple):
    indent: int
    path: Path
    type: str
    output: Shape | None
    params: int
    is_block: bool


def block_type(net: Network, b: Block) -> str:
    """What a block row's Type column says: a module's label, 'identity block ×5' (a repeat:
    what is repeated, and how many copies), 'concat of 4 branches'."""
    if b.kind == "call":
        return b.label
    if b.kind == "repeat":
        first = b.children[0] if b.children else None
        if first is None:
            what = ""
        elif first in net.blocks:
            what = block_type(net, net.blocks[first]) + " "
        else:
            node = net.nodes[first]
            what = present.layer_line(node.type, node.params) + " "
        return f"{what}{present.TIMES}{b.count}"
    if b.kind == "branches":
        return f"{b.merge} of {b.count} branches"
    if b.kind == "towers":
        return f"{b.count} towers{' (split input)' if b.split else ''}"
    if b.kind == "aux":
        return "auxiliary classifier"
    if b.kind == "output":
        return "output"
    return "branch"


def rows(net: Network, shapes: Shapes, depth: int = DEFAULT_DEPTH) -> list[Row]:
    """One row per block and per layer, ``depth`` levels deep (1: the top-level items only),
    in execution order.

    A batch norm or activation written on a layer joins that layer's row."""
    out: list[Row] = []
    opened: set[Path] = set()
    for path, node in net.nodes.items():
        if path == INPUT:
            continue
        visible = [b for b in node.scope if net.blocks[b].kind != "branch"]
        for level, b in enumerate(visible):
            if b not in opened and level < depth:
                opened.add(b)
                block = net.blocks[b]
                out.append(Row(level, b, block_type(net, block) + _starts(net, block), shapes.shapes.get(block.exit), shapes.blocks[b], True))
        if len(visible) >= depth or node.kind == "merge":
            continue
        parent = node.folded_into
        if parent is not None and out and out[-1].path == parent:  # bn/activation written on the conv: one row
            last = out[-1]
            out[-1] = last._replace(type=f"{last.type} · {node.type}", output=shapes.shapes.get(path), params=last.params + shapes.params.get(path, 0))
        else:
            towers = [net.blocks[b].count for b in node.scope if net.blocks[b].kind == "towers"]
            typ = present.layer_line(node.type, node.params) + (f" ({present.TIMES}{towers[-1]} towers)" if towers else "")
            out.append(Row(len(visible), path, typ, shapes.shapes.get(path), shapes.params.get(path, 0), False))
    return out


def _starts(net: Network, block: Block) -> str:
    """' (b1 from enc1)': where the branches of a branches block that start from an earlier item start."""
    if block.kind != "branches":
        return ""
    refs = [f"{c.name} from {net.refs[c].name}" for c in block.children if c in net.refs]
    return f" ({', '.join(refs)})" if refs else ""


def table(net: Network, shapes: Shapes, depth: int = DEFAULT_DEPTH) -> str:
    title = net.name + (f" ({net.meta['year']})" if "year" in net.meta else "")
    body = [("  " * r.indent + str(r.path), r.type, present.shape(r.output), present.exact(r.params) if r.params else "--") for r in rows(net, shapes, depth)]
    head = ("Layer (path)", "Type", "Output", "Params")
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    rule = "=" * (sum(widths) + 6)

    def fmt(r: tuple[str, str, str, str]) -> str:
        return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}"

    out = [title, f"input {present.shape(net.input)}", rule, fmt(head), rule, *map(fmt, body), rule]
    out.append(f"Total params: {present.exact(shapes.total)}")
    if shapes.aux:
        out.append(f"Auxiliary heads: {present.exact(shapes.aux)} (not in the total; used in training only)")
    outs = shapes.outputs_of(net)
    if len(outs) > 1:
        out.append("Outputs: " + ", ".join(f"{name} {present.shape(s)}" for name, s in outs.items()))
    else:
        out.append(f"Output: {present.shape(shapes.output_of(net))}")
    out.append(f"Depth: {net.depth} weighted layers (conv + dense) on the longest path")
    return "\n".join(out)


def as_json(net: Network, shapes: Shapes) -> str:
    """One JSON object: id, name, year, input, output, outputs (every output by name, the
    main one first as ``out``), params, params_aux, depth and every layer."""
    layers = [
        {
            "path": str(node.path),
            "type": node.type,
            "output": _dims(shapes.shapes.get(node.path)),
            "params": shapes.params.get(node.path, 0),
            **({"aux": True} if node.aux else {}),
        }
        for node in net.layers()
    ]
    obj = {
        "id": net.id,
        "name": net.name,
        "year": net.meta.get("year"),
        "input": list(net.input),
        "output": _dims(shapes.output_of(net)),
        "outputs": {name: _dims(s) for name, s in shapes.outputs_of(net).items()},
        "params": shapes.total,
        "params_aux": shapes.aux,
        "depth": net.depth,
        "layers": layers,
    }
    if net.refs:  # the skip connections: each branch that starts from an earlier item
        obj["refs"] = [{"branch": str(p), "from": r.name, "item": str(r.target), "reads": str(r.source)} for p, r in net.refs.items()]
    return json.dumps(obj, indent=2)


def _dims(shape: Shape | None) -> list[int] | None:
    """A shape as a JSON list; null where it is unknown."""
    return None if shape is None else list(shape)
