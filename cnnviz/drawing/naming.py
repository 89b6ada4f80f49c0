"""What a module's box and panel say to tell its instances apart.

A module box says its output width ("256-d", as the ResNet paper writes
it) and, each from the box's own call, the fewest arguments (in the order
the module declares them) that tell apart the module's calls of the same
width and the calls its different panels draw ("24-d · k3"), and how much it
shrinks the image ("24-d · k3 /2"), measured on the shapes, whether the stride is
an argument or written inside the module.  A module
drawn with different insides gets one panel per variant, named by the fewest
arguments, constant within each variant, that tell them apart
("MBConv6 · k5").

Plain text only: :mod:`.quoting` escapes it where it is drawn.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from ..model import Network, Path
from ..present import TIMES, setting, size
from .labels import SEP
from .widths import Widths, channels

Args = Mapping[str, Any]
_SIZE = re.compile(r"[0-9]+x[0-9]+")


def value_text(x: Any) -> str:
    """One argument's value: a square pair as one number, a pair as 1×7, a list joined."""
    if isinstance(x, (tuple, list)) and len(x) == 2 and x[0] == x[1] and not isinstance(x[0], (tuple, list)):
        return setting(x[0])
    if isinstance(x, (tuple, list)):
        return size(setting(i) for i in x)
    if isinstance(x, str) and _SIZE.fullmatch(x):  # a size as written in a spec: 1x7
        return x.replace("x", TIMES)
    return setting(x)


def arg_text(key: str, value: Any) -> str:
    """``stride`` as the spec writes it (/2), a one-letter argument glued to its value (k5),
    any other as ``name value`` (pool 32)."""
    v = value_text(value)
    if key == "stride":
        return "/" + v
    return f"{key}{v}" if len(key) == 1 else f"{key} {v}"


def args_text(args: Args, keys: Sequence[str]) -> str:
    """The texts of ``keys`` (in that order) for these arguments: 'k5, e6 /2'."""
    out = ""
    for k in keys:
        t = arg_text(k, args.get(k))
        out += t if not out else (" " if k == "stride" else ", ") + t
    return out


def width_text(width: int | None) -> str:
    return f"{width}-d" if width else ""


def shrink_text(before: Sequence[int] | None, after: Sequence[int] | None) -> str:
    """How much a box shrinks the image it reads, as a stride is written ("/2", "/2×1"), or ''
    when it does not (or the shapes are not images, or not known)."""
    if before is None or after is None or len(before) != 3 or len(after) != 3:
        return ""
    if any(a < 1 or b % a for b, a in zip(before[1:], after[1:])) or tuple(before[1:]) == tuple(after[1:]):
        return ""  # the same size, grown (up-sampling), or not by a whole factor
    h, w = before[1] // after[1], before[2] // after[2]
    return "/" + (str(h) if h == w else size((h, w)))


def box_detail(width: int | None, args: Args, keys: Sequence[str], tag: str = "", shrink: str = "") -> str:
    """A module box's detail line: its output width, the arguments that tell it apart, how
    much it shrinks the image (``shrink``: "/2"; its panel, drawn once for calls of every
    stride, cannot say), and what its panel draws differently from the module's other
    panels (``tag``)."""
    told = args_text(args, [k for k in keys if not (width and args.get(k) == width)])  # "48-d" says "width 48" already
    if shrink and "stride" not in keys:
        told = f"{told} {shrink}" if told else shrink
    return SEP.join(t for t in (width_text(width), told, tag) if t)


def calls(net: Network) -> dict[str, list[Path]]:
    """module → its call blocks, in execution order."""
    out: dict[str, list[Path]] = {}
    for b, block in net.blocks.items():
        if block.kind == "call":
            out.setdefault(block.module, []).append(b)
    return out


def separating(sets: Sequence[Args], kinds: Sequence[Hashable], labels: Sequence[Hashable], given: Sequence[str] = ()) -> tuple[str, ...]:
    """The fewest arguments, taken in declared order, that (with those ``given``) tell apart
    every two argument sets of the same kind (``kinds[i]``) and different labels
    (``labels[i]``), where anything can; ``given`` among them, the whole in declared order.

    Argument sets of one kind that the arguments chosen so far do not tell apart form a
    block; an argument is taken when it splits a block holding two labels or more (each
    such split tells two of them apart).  Linear in the sets, for each argument."""
    keys = list(dict.fromkeys(k for a in sets for k in a))
    blocks: dict[tuple, list[int]] = {}
    for i, kind in enumerate(kinds):
        blocks.setdefault((kind,), []).append(i)
    out = set(given)
    for k in [*given, *keys]:
        split: dict[tuple, list[int]] = {}
        for at, members in blocks.items():
            if len({labels[i] for i in members}) > 1:  # a block already told apart needs nothing more
                for i in members:
                    split.setdefault((*at, repr(sets[i].get(k))), []).append(i)
        if k in out or len(split) > sum(1 for m in blocks.values() if len({labels[i] for i in m}) > 1):
            out.add(k)
            blocks = split
    return tuple(k for k in keys if k in out)


def differing(net: Network, widths: Widths, given: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """module → the arguments its boxes show: those ``given`` (the ones naming its panels),
    and the fewest more, in declared order, that tell apart its calls of the same output width."""
    out: dict[str, tuple[str, ...]] = {}
    for module, blocks in calls(net).items():
        sets = [net.blocks[b].args for b in blocks]
        ws = [channels(widths, net.blocks[b].exit) for b in blocks]
        out[module] = separating(sets, ws, [repr(list(a.items())) for a in sets], (given or {}).get(module, ()))
    return out


def variant_keys(groups: list[list[Args]], drawn: Sequence[str] = ()) -> tuple[str, ...]:
    """The fewest arguments, constant within each group (a variant's calls), that tell the
    groups apart; groups whose ``drawn`` texts (the activation they draw, say) differ are
    told apart already."""
    tag = list(drawn) or [""] * len(groups)
    flat = [(g, a) for g, group in enumerate(groups) for a in group]
    keys = list(dict.fromkeys(k for _, a in flat for k in a))
    steady = {k for k in keys if all(len({repr(a.get(k)) for a in group}) == 1 for group in groups)}
    sets = [{k: v for k, v in a.items() if k in steady} for _, a in flat]
    return separating(sets, [tag[g] for g, _ in flat], [g for g, _ in flat])


def variant_titles(label: str, groups: list[list[Args]], drawn: Sequence[str] = ()) -> list[str]:
    """Panel titles of a module's variants: 'MBConv6 · k5' (the arguments), 'bneck · Hard swish
    · k5' (with what each draws differently, ``drawn``, when that differs), or 'block ·
    variant 2' when nothing tells them apart alone (the difference lies in how several combine)."""
    keys = variant_keys(groups, drawn)
    tags = list(drawn) if len(set(drawn)) > 1 else [""] * len(groups)
    titles = [SEP.join(t for t in (label, tag, args_text(g[0], keys)) if t) for tag, g in zip(tags, groups)]
    if titles.count(label) or len(set(titles)) < len(titles):
        return [f"{label}{SEP}variant {i + 1}" for i in range(len(groups))]
    return titles
