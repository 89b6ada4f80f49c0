"""Every node's output shape without torch, for what the boxes say (widths, depthwise convs).

The shape stage (:mod:`cnnviz.shapes`) needs torch only to count parameters;
the shapes themselves follow from the torch-free rules of :mod:`cnnviz.rules`.
A plain render uses these, so that a box can say its output width ("256-d")
and a conv whose groups equal its input channels can say it is depthwise,
without importing torch.  Nothing is reported here: a shape the rules refuse
is left unknown (None), and so is everything after it; ``cnnviz validate``
says why.  When the shape pass ran (``render --shapes/--params``) its shapes
are used instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Collector, ShapeError
from ..model import INPUT, Network, Path, Shape
from ..rules import layer_input, layer_problem, merge_shape, out_shape, tower_setting

Widths = Mapping[Path, Shape | None]


def measure(net: Network) -> dict[Path, Shape | None]:
    """node → its output shape (no batch dimension), or None where the rules give none."""
    out: dict[Path, Shape | None] = {INPUT: tuple(net.input)}
    quiet = Collector(net.source, ShapeError)  # the shape stage reports problems; here they leave a shape unknown
    for path, node in net.nodes.items():
        if path == INPUT:
            continue
        ins = [out.get(i) for i in node.inputs]
        out[path] = None
        if not ins or any(s is None for s in ins):
            continue
        known = [s for s in ins if s is not None]
        if node.kind == "merge":
            out[path] = merge_shape(node, known, quiet)
            continue
        towers, split, problem = tower_setting(net, node, known[0])
        seen = layer_input(node.type, known[0], towers, split)
        if problem is None and layer_problem(node.type, node.params, seen, towers, split) is None:
            out[path] = out_shape(node.type, node.params, seen, towers)
    return out


def channels(widths: Widths, path: Path) -> int | None:
    """The channels (or features) of a node's output, when known: of a custom box's token
    sequence [tokens, features], the features (ViT's "768-d")."""
    shape = widths.get(path)
    if not shape:
        return None
    return shape[0] if len(shape) in (1, 3) else shape[-1]
