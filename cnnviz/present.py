"""How figures are written, in one place: shapes, sizes, parameter counts, a layer as a line.

Used by the summary table, the box labels, the diff's text, the gallery and
the shape stage's error messages, so that a shape or a count reads the same
everywhere.  Plain text only: escaping for DOT, HTML or Markdown happens later,
in the module that writes those.  Measuring and formatting stay apart: this
module knows nothing of networks, and the shape stage imports nothing that
formats results (:mod:`cnnviz.summary`, :mod:`cnnviz.drawing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

TIMES = "×"


def size(dims: Iterable[Any]) -> str:
    """(3, 3) → '3×3'; (1, 7) → '1×7'."""
    return TIMES.join(str(d) for d in dims)


def shape(dims: Iterable[Any] | None) -> str:
    """A tensor shape without the batch dimension: (256, 56, 56) → '256×56×56'; None → '?'."""
    text = size(dims) if dims is not None else ""
    return text or "?"


def count(n: int) -> str:
    """A parameter count as a box shows it: 0, 950, 9.5k, 1.2M, 25.6M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def rounded(n: int) -> str:
    """A count as the article writes one: 60K, 26M."""
    if n >= 999_500:
        return f"{(n + 500_000) // 1_000_000}M"
    if n >= 1_000:
        return f"{(n + 500) // 1_000}K"
    return str(n)


def exact(n: int | None) -> str:
    """25557032 → '25,557,032' (the same on every locale); None → '?'."""
    return "?" if n is None else f"{n:,}"


def signed(n: int) -> str:
    """+1,234 or -56."""
    return f"{n:+,}"


def percent(a: int, b: int) -> str:
    """The change from a to b: '+4.2%'; 'new' when a is 0."""
    return f"{(b - a) / a * 100:+.1f}%" if a else "new"


def times(n: int) -> str:
    """'×3' for a run of three; '' for one."""
    return f"{TIMES}{n}" if n > 1 else ""


def setting(v: Any) -> str:
    """One setting's value: a pair as '3×3', a flag as on/off, a float without noise."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, tuple):
        return size(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def layer_line(type_: str, p: Mapping[str, Any], value: Callable[[Any], str] = setting) -> str:
    """A layer as a spec line would write it: ``conv 64 3×3 /2 groups=2``.

    ``value`` writes each setting (the diff passes one that writes "32/64" for
    a setting that differs between the variants of a run)."""
    bits = [type_]
    if type_ == "custom":
        bits.append(value(p["label"]))
    if type_ == "split":  # the part of a split's input one branch reads
        bits.append(f"{p['part']}/{p['parts']}")
    for key in ("filters", "units"):
        if key in p:
            bits.append(value(p[key]))
    if "kernel" in p:
        bits.append(value(p["kernel"]))
    stride = p.get("stride")
    if stride and stride != (1, 1) and stride != p.get("kernel"):
        square = type(stride) is tuple and stride[0] == stride[1]  # not an Alt of the diff's variants
        bits.append("/" + (str(stride[0]) if square else value(stride)))
    if p.get("groups", 1) != 1:
        bits.append(f"groups={value(p['groups'])}")
    return " ".join(bits)
