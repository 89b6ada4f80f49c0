"""What each box says: its title and detail line, as plain text (escaping happens later, in one place).

The compact and modules views hide what the article hides (filter counts,
padding); a conv keeps its kernel size.  On the main line a conv also says a
stride other than 1 ("3×3 /2"), and a pool a stride other than its window (a 2×2
pool halves the size by itself), so that where the image shrinks can be seen;
in a module's panel the stride is the calls' business (their boxes say it where
it tells them apart), and one panel draws calls of every stride.  The full view
says everything the spec gave.  In every view a depthwise conv (groups equal to its input
channels, or the ``dwconv`` type) is titled "DW conv", and a grouped one says
its groups ("3×3 · g32").  Sizes, shapes and counts are written by :mod:`cnnviz.present`,
as everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..present import size
from . import style

FULL = "full"
SEP = " · "  # between the parts of a detail line that are not one phrase
DEPTHWISE = "DW conv"
CONVS = frozenset({"conv", "sepconv", "dwconv", "tconv"})  # boxes that may be linear or activated


def depthwise(type_: str, p: Mapping[str, Any], cin: int | None) -> bool:
    """A depthwise conv: the ``dwconv`` type, or a conv whose groups equal its input channels."""
    if type_ == "dwconv":
        return True
    return type_ == "conv" and cin is not None and cin > 1 and p.get("groups", 1) == cin


def layer(type_: str, p: Mapping[str, Any], detail: str, cin: int | None = None, strides: bool = True) -> tuple[str, str]:
    """(title, detail line) of one layer box; ``cin``: its input channels, when known;
    ``strides``: whether a compact box says its stride (on the main line, not in a panel)."""
    if type_ == "custom":  # the box says what the spec (or the importer) calls it
        return str(p["label"]), ""
    dw = depthwise(type_, p, cin)
    title = DEPTHWISE if dw else style.title(type_)
    bits: list[str] = []
    tags: list[str] = []
    full = detail == FULL
    if type_ in CONVS:
        if full and "filters" in p:
            bits.append(str(p["filters"]))
        bits.append(size(p["kernel"]))
        if full or strides:
            bits.extend(_stride(p, up=type_ == "tconv"))
        if full:
            if tuple(p.get("dilation", (1, 1))) != (1, 1):
                bits.append(f"d{size(p['dilation'])}")
        if not dw and p.get("groups", 1) != 1:
            tags.append(f"g{p['groups']}")
        if p.get("multiplier", 1) != 1:
            tags.append(f"×{p['multiplier']}")
    elif type_ in ("maxpool", "avgpool"):
        bits.append(size(p["kernel"]))
        if full or (strides and tuple(p.get("stride") or ()) != tuple(p["kernel"])):
            bits.extend(_stride(p))
    elif type_ == "gap":
        bits.append("global")
    elif type_ == "dense":  # its width is all an FC box has to say (a conv box says its kernel)
        bits.append(str(p["units"]))
    elif type_ == "upsample":
        bits.append(", ".join(f"×{n}" for n in dict.fromkeys(p["scale"])) if p["scale"] else f"to {size(p['size'])}")
        if full or p["mode"] != "nearest":  # nearest is what a reader assumes
            bits.append(p["mode"])
    elif type_ == "split":
        bits.append(f"{p['part']}/{p['parts']}")
    elif type_ == "shuffle" and full:
        bits.append(f"g{p['groups']}")
    elif type_ in ("dropout", "droppath") and full:
        bits.append(f"p={p['p']:g}")
    elif type_ == "scale" and full:
        bits.append(f"×{p['factor']:g}")
    elif type_ == "lrn" and full:
        bits.append(f"size {p['size']}")
    elif type_ == "zeropad" and full:
        bits.append(",".join(str(v) for v in p["padding"]))
    return title, SEP.join([" ".join(bits)] * bool(bits) + tags)


def _stride(p: Mapping[str, Any], up: bool = False) -> list[str]:
    """A stride as the image changes by it: "/2" shrinks; a transposed conv's (``up``) grows, "↑2"."""
    stride = p.get("stride")
    if not stride or tuple(stride) == (1, 1):
        return []
    return [("↑" if up else "/") + (str(stride[0]) if stride[0] == stride[1] else size(stride))]

