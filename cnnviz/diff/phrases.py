"""How the diff report names a unit, a branch and a note: the phrases of its lines
(``Inception-A ×4``, ``branch 3: conv 64 1x1, conv 96 3x3``, ``made residual``)."""

from __future__ import annotations

import re

from .align import Note
from .parts import value_text
from .units import Unit


def times(u: Unit) -> str:
    return f" ×{u.count}" if u.count > 1 else ""


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def given_name(u: Unit | None) -> str:
    """The name the spec gave a lone top-level part (``conv4``), or "" when the name is
    automatic (``conv3``, ``concat1``) or just repeats the label (``stem`` for Stem)."""
    if u is None or len(u.members) != 1:
        return ""
    part = u.rep if u.count == 1 else u.members[0]
    last = part.path.last
    if not part.named or last is None or last.kind != "name":
        return ""
    return "" if _norm(part.path.name) == _norm(u.label) else part.path.name


def unit_text(u: Unit) -> str:
    """``Inception-A ×4``; ``32 towers [conv 4 1x1, conv 4 3x3]``; ``branch 3: conv 64 1x1, conv 96 3x3``."""
    p = u.rep
    if p.kind == "branch":
        return f"branch {branch_number(u)}: {p.label}"
    if p.kind in ("towers", "aux", "output"):
        return p.label + (f" [{', '.join(c.label for c in p.body)}]" if p.body else "") + times(u)
    if p.kind == "branches":
        return f"{p.label} [{' | '.join(br.label for br in p.body)}]{times(u)}"
    return f"{p.label}{times(u)}"


def branch_number(u: Unit) -> int:
    """Which branch of its block a branch unit is (from 1), read off its path."""
    last = u.rep.path.last
    if last is None or last.kind != "branch":
        raise ValueError(f"{u.rep.path} is not a branch")
    return int(last.value)


def note_text(n: Note) -> str:
    if n.what == "repeat":
        a, b = n.counts()
        return f"{b - a:+d}"
    if n.what == "variants":
        return f"uniform: {n.a} variants → 1" if n.b == 1 else f"{n.a} → {n.b} variants"
    if n.what == "residual":
        return "made residual" if n.b else "no longer residual"
    if n.what == "module":
        return f"module {n.a} → {n.b}"
    if n.what == "from":
        return f"starts from {n.a or 'the merge input'} → {n.b or 'the merge input'}"
    if n.what == "split":
        return f"input {'split' if n.a else 'shared'} → {'split' if n.b else 'shared'}"
    return f"{n.what} {value_text(n.a)} → {value_text(n.b)}"
