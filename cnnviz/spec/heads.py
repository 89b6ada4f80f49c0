"""Heads: ``aux:`` and ``output:`` items, off the current point of the main line, which goes on from there.

An auxiliary classifier runs in training only and is counted apart; an extra
output is part of the network.  Both are :class:`~cnnviz.spec.model.Aux` items,
told apart by their ``role``; this module says where an output may not be.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import MAIN_OUTPUT
from .model import HeadRole

HEADS: tuple[HeadRole, ...] = ("aux", "output")


def output_problems(within: Sequence[str], name: str | None, repeat: int, top: bool) -> list[str]:
    """Why an output cannot be where it is written (``within``: the towers and heads around it,
    outermost first; ``top``: an item of the network's own layer list), or nothing."""
    problems = []
    if "towers" in within:
        problems.append("an output cannot be inside towers: they are built as one grouped layer; put it after the towers")
    if "aux" in within:
        problems.append("an output cannot be inside an auxiliary head, which runs in training only")
    if repeat > 1:
        problems.append(f"an output cannot be repeated (x{repeat}): each copy would be one more output at the same point")
    if name == MAIN_OUTPUT and top:
        problems.append(f"'{MAIN_OUTPUT}' is the main output's name (a built model with several outputs returns them by name, the main one as '{MAIN_OUTPUT}'); name this output otherwise")
    return problems
