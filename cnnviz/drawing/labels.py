"""What each box says, as plain text (escaping happens later, in one place).

The compact and modules views hide what the article hides (filter counts,
padding, stride); a conv keeps its kernel size.  The full view says everything
the spec gave.
"""

from __future__ import annotations

from . import style

FULL = "full"


def size(pair) -> str:
    """(3, 3) → '3×3', (1, 7) → '1×7'."""
    return "×".join(str(int(v)) for v in pair)


def shape(shape) -> str:
    """A tensor shape without the batch dimension: (256, 56, 56) → '256×56×56'."""
    return "×".join(str(int(v)) for v in shape) if shape else "?"


def count(n: int) -> str:
    """Parameter counts as people write them: 0, 950, 9.5k, 1.2M, 25.6M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def layer(type_: str, p: dict, detail: str) -> tuple[str, str]:
    """(title, detail line) of one layer box."""
    title = style.title(type_)
    bits: list[str] = []
    full = detail == FULL
    if type_ in ("conv", "sepconv"):
        if full:
            bits.append(str(p["filters"]))
        bits.append(size(p["kernel"]))
        if full:
            bits.extend(_stride(p))
            if p.get("groups", 1) != 1:
                bits.append(f"g{p['groups']}")
            if tuple(p.get("dilation", (1, 1))) != (1, 1):
                bits.append(f"d{size(p['dilation'])}")
    elif type_ in ("maxpool", "avgpool"):
        bits.append(size(p["kernel"]))
        if full:
            bits.extend(_stride(p))
    elif type_ == "gap":
        bits.append("global")
    elif type_ == "dense" and full:
        bits.append(str(p["units"]))
    elif type_ == "dropout" and full:
        bits.append(f"p={p['p']:g}")
    elif type_ == "scale" and full:
        bits.append(f"×{p['factor']:g}")
    elif type_ == "lrn" and full:
        bits.append(f"size {p['size']}")
    elif type_ == "zeropad" and full:
        bits.append(",".join(str(v) for v in p["padding"]))
    return title, " ".join(bits)


def _stride(p: dict) -> list[str]:
    stride = p.get("stride")
    if not stride or tuple(stride) == (1, 1):
        return []
    return ["/" + (str(stride[0]) if stride[0] == stride[1] else size(stride))]


def times(n: int) -> str:
    return f"×{n}" if n > 1 else ""
