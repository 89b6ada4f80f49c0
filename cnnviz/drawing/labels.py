"""What each box says: its title and detail line, as plain text (escaping happens later, in one place).

The compact and modules views hide what the article hides (filter counts,
padding, stride); a conv keeps its kernel size.  The full view says everything
the spec gave.  Sizes, shapes and counts are written by :mod:`cnnviz.present`,
as everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..present import size
from . import style

FULL = "full"


def layer(type_: str, p: Mapping[str, Any], detail: str) -> tuple[str, str]:
    """(title, detail line) of one layer box."""
    if type_ == "custom":  # the box says what the spec (or the importer) calls it
        return str(p["label"]), ""
    title = style.title(type_)
    bits: list[str] = []
    full = detail == FULL
    if type_ in ("conv", "sepconv", "tconv"):
        if full:
            bits.append(str(p["filters"]))
        bits.append(size(p["kernel"]))
        if full:
            bits.extend(_stride(p))
            if p.get("groups", 1) != 1:
                bits.append(f"g{p['groups']}")
            if tuple(p.get("dilation", (1, 1))) != (1, 1):
                bits.append(f"d{size(p['dilation'])}")
    elif type_ == "dwconv":
        bits.append(size(p["kernel"]))
        if full:
            bits.extend(_stride(p))
            if p["multiplier"] != 1:
                bits.append(f"×{p['multiplier']}")
    elif type_ in ("maxpool", "avgpool"):
        bits.append(size(p["kernel"]))
        if full:
            bits.extend(_stride(p))
    elif type_ == "gap":
        bits.append("global")
    elif type_ == "dense" and full:
        bits.append(str(p["units"]))
    elif type_ == "upsample":
        bits.append(", ".join(f"×{n}" for n in dict.fromkeys(p["scale"])) if p["scale"] else f"to {size(p['size'])}")
        if full:
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
    return title, " ".join(bits)


def _stride(p: Mapping[str, Any]) -> list[str]:
    stride = p.get("stride")
    if not stride or tuple(stride) == (1, 1):
        return []
    return ["/" + (str(stride[0]) if stride[0] == stride[1] else size(stride))]

