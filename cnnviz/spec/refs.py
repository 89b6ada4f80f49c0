"""Named references: ``from NAME`` opening a branch, resolved to an earlier item.

A branch of a merge may start from the output of an item written earlier
instead of the merge's input::

    - conv 64 3x3 @enc1
    - maxpool 2
    - conv 128 3x3
    - upsample 2
    - concat: [from enc1, identity]      # or, quoted: ['@enc1', identity]

Scope: the name is looked up in the layer list that holds the merge, then in the
lists around it, outwards; the nearest list that writes the name decides.  It
must name an item written *before* the merge and finished by then (not the
merge itself, nor an item the merge is inside), not an auxiliary head (whose
output is off the main line; an extra output can be referenced: it is part of
the network, and the name means what it outputs) and not an item left out (``x0``).  A module's
body is a wall: inside a module, a name refers to that instance's own items;
a ``towers`` body is a wall too (its layers are built as one grouped layer).
A repeated item (``x3 @c``) names the output of its last copy.

:class:`Scopes` follows the expansion list by list (a :class:`Frame` each) and
answers :meth:`Scopes.resolve` with a :class:`~cnnviz.spec.model.Ref` (how many
lists out the item is) or a message for the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .loader import Loc, Value
from .model import Aux, Item, Ref
from .words import suggest

REF_WORD = "from"  # ``from NAME``: the word is reserved (no module may be called so)
REF_LINE = re.compile(r"^\s*(?:from\s+(\S+)|@(\S+))\s*$")  # a branch's first entry that is a reference
_WALLS = {"module": ("this module", "a module", "the module's own"), "towers": ("these towers", "towers", "the towers' own")}
_MADE_UP = re.compile(r"^[a-z_]+\d+$")  # what made-up names look like (conv3, concat1)
_WRITTEN = re.compile(r"(?:^|\s)@(\S+)")  # a name written on a short-form line


def ref_name(text: str) -> str | None:
    """NAME when ``text`` is ``from NAME`` or ``@NAME``, else None."""
    m = REF_LINE.match(text)
    return None if m is None else (m.group(1) or m.group(2))


def written_name(raw: Value) -> str | None:
    """The name an entry writes, read without expanding it (to tell "written later" from "unknown")."""
    if isinstance(raw, str):
        found = _WRITTEN.findall(raw)
        return found[-1] if found else None
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        return str(raw["name"])
    return None


@dataclass
class Frame:
    """One layer list being expanded: what its items are called, and which are done."""

    names: list[str | None]  # the name each entry writes, as read before expanding it
    locs: list[Loc]
    wall: str = ""  # "module" or "towers": names outside this list are not visible from inside
    index: int = -1  # the entry being expanded
    current: str | None = None  # its name, once read
    done: dict[str, Item] = field(default_factory=dict)  # finished items by written name
    omitted: dict[str, Loc] = field(default_factory=dict)  # items left out (x0) by written name

    def earlier(self, name: str) -> Loc | None:
        """Where ``name`` is written before the current entry, or None."""
        return self._where(name, 0, self.index)

    def later(self, name: str) -> Loc | None:
        """Where ``name`` is written after the current entry, or None."""
        return self._where(name, self.index + 1, len(self.names))

    def _where(self, name: str, lo: int, hi: int) -> Loc | None:
        return next((loc for n, loc in zip(self.names[lo:hi], self.locs[lo:hi]) if n == name), None)


class Scopes:
    """The stack of layer lists being expanded, innermost last."""

    def __init__(self, inside: Mapping[str, str] | None = None) -> None:
        self.frames: list[Frame] = []
        self.inside = inside or {}  # a name written in a module's own layer list -> that module

    def push(self, entries: list[Value], locs: list[Loc], wall: str = "") -> Frame:
        frame = Frame([written_name(e) for e in entries], list(locs), wall)
        self.frames.append(frame)
        return frame

    def pop(self) -> None:
        self.frames.pop()

    def resolve(self, name: str, loc: Loc) -> Ref | str:
        """The reference a branch of the merge being expanded makes to ``name``, or why it cannot."""
        seen: list[str] = []
        for up, frame in enumerate(reversed(self.frames)):
            if name in frame.done:
                if isinstance(found := frame.done[name], Aux) and found.role == "aux":
                    return f"'{name}' is an auxiliary head, off the main line; a branch can start from an item on the main line only"
                return Ref(name, loc, up)
            if name == frame.current:
                what = "this merge itself" if up == 0 else "an item this reference is inside"
                return f"'{name}' is {what}, whose output is not computed yet; a branch can start from an item written before the merge"
            if name in frame.omitted:
                return f"'{name}' is left out of the network (repeated 0 times, line {frame.omitted[name][1]}), so no branch can start from it"
            if (where := frame.earlier(name)) is not None:  # written, but refused: reported there
                return f"'{name}' (line {where[1]}) has problems of its own, reported on its line"
            if (where := frame.later(name)) is not None:
                return f"'{name}' is written later (line {where[1]}); a branch can start only from an item written before the merge"
            seen += frame.done
            if frame.wall:
                outside = any(name in f.done for f in self.frames[: len(self.frames) - 1 - up])
                if outside:
                    this, inside, own = _WALLS[frame.wall]
                    return f"'{name}' is outside {this}; inside {inside}, a branch can start only from {own} items"
                break
        hint = suggest(name, seen)
        if not hint and name in self.inside:
            module = self.inside[name]
            return (
                f"'{name}' is written inside module '{module}', and an item inside a module cannot be reached "
                f"from outside it; name the call instead ('{module} … @NAME') and start from that"
            )
        if not hint and "." in name:
            hint = " (a reference is a name written with @NAME or name:, not a path into a module)"
        if not hint and _MADE_UP.match(name):
            hint = f" (a name cnnviz makes up, like '{name}', cannot be referenced: write @{name} on the item)"
        return f"no item named '{name}' written before this merge{hint}"
