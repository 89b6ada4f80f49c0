"""Safe YAML loading that remembers where every value was written.

Mappings load as :class:`LocDict` and sequences as :class:`LocList`; both are
the ordinary containers plus ``loc`` (their own ``(line, col)``) and ``locs``
(the position of each key's value or each item).  Only the YAML core types are
accepted: no Python tags, no control characters in text, whole numbers below
2**63, and bounds on nesting and on alias expansion so that a hostile file fails
fast instead of hanging or crashing (:mod:`cnnviz.spec.limits`).

The nesting depth is measured on the parser's event stream, which libyaml makes
without recursion, *before* the document is composed: composing recurses once
per level (in C), and a list nested 50,000 deep would overflow the stack.
Only regular files are read: a named pipe would block forever, a device might
never end.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, NoReturn

import yaml

from ..errors import Problem, SpecError
from .limits import MAX_BYTES, MAX_DEPTH, MAX_INT_BITS, MAX_INT_CHARS, MAX_NODES, TOO_LARGE

_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same marks, several times faster
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")  # tab, newlines and NEL allowed

Loc = tuple[str, int, int]  # (file, line, col), 1-based


class LocDict(dict[str, Any]):
    loc: Loc = ("", 0, 0)
    locs: dict[str, Loc]
    keylocs: dict[str, Loc]

    def loc_of(self, key: str) -> Loc:
        """Where the value of ``key`` was written."""
        return self.locs.get(key, self.loc)

    def key_loc(self, key: str) -> Loc:
        """Where ``key`` itself was written."""
        return self.keylocs.get(key, self.loc)


class LocList(list[Any]):
    loc: Loc = ("", 0, 0)
    locs: list[Loc]

    def loc_of(self, index: int) -> Loc:
        return self.locs[index] if 0 <= index < len(self.locs) else self.loc


Scalar = str | int | float | bool | None  # what the core YAML scalar tags construct
Value = LocDict | LocList | Scalar  # a loaded document or any part of it


def _mark(node: yaml.Node, path: str) -> Loc:
    return (path, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into LocDict/LocList/scalars."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self.scalars = yaml.SafeLoader("")  # only for its scalar resolvers/constructors
        self.problems: list[Problem] = []  # bad values, reported together; the value becomes None

    def fail(self, node: yaml.Node, message: str) -> NoReturn:
        """A problem with the document's structure: stop here."""
        _, line, col = _mark(node, self.path)
        raise SpecError([*self.problems, Problem(self.path, line, col, message)])

    def note(self, node: yaml.Node, message: str) -> None:
        """A problem with one value: note it and carry on, to report every one at once."""
        _, line, col = _mark(node, self.path)
        self.problems.append(Problem(self.path, line, col, message))

    def build(self, node: yaml.Node, depth: int = 0) -> Value:
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(node, f"the document expands to more than {MAX_NODES} values (an alias bomb?)")
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTIONS:
            self.fail(node, f"tag '{node.tag}' is not allowed in a spec")
        if isinstance(node, yaml.MappingNode):
            mapping = LocDict()
            mapping.loc, mapping.locs, mapping.keylocs = _mark(node, self.path), {}, {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    self.fail(knode, "YAML merge keys ('<<') are not supported; use 'extends' or a module")
                if not isinstance(knode, yaml.ScalarNode):
                    self.fail(knode, "mapping keys must be plain words")
                key = self.build(knode, depth + 1)
                if not isinstance(key, (str, int)):
                    self.fail(knode, "mapping keys must be plain words")
                key = str(key)
                if key in mapping:
                    self.fail(knode, f"duplicate key '{key}'")
                mapping[key] = self.build(vnode, depth + 1)
                mapping.locs[key] = _mark(vnode, self.path)
                mapping.keylocs[key] = _mark(knode, self.path)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            seq = LocList()
            seq.loc, seq.locs = _mark(node, self.path), []
            for item in node.value:
                seq.append(self.build(item, depth + 1))
                seq.locs.append(_mark(item, self.path))
            return seq
        if node.tag.startswith("tag:yaml.org,2002:") and node.tag.split(":")[-1] in _SCALARS:
            if node.tag == _INT and len(node.value) > MAX_INT_CHARS:  # refused unread: int() of it may be slow, or fail
                self.note(node, TOO_LARGE)
                return None
            try:
                value: Scalar = self.scalars.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:
                self.fail(node, f"bad value: {exc}")
            if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
                self.note(node, TOO_LARGE)
                return None
            if isinstance(value, str) and (bad := _CONTROL.search(value)):
                self.note(node, f"text with the control character U+{ord(bad.group()):04X}; leave it out")
                return None
            return value
        self.fail(node, f"tag '{node.tag}' is not allowed in a spec")


_SCALARS = {"str", "int", "float", "bool", "null"}
_COLLECTIONS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_INT = "tag:yaml.org,2002:int"
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def load_text(text: str, path: str) -> Value:
    """Parse YAML text; returns LocDict/LocList/scalar, or raises SpecError."""
    try:
        _check_depth(text, path)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise SpecError(Problem(path, line, col, f"YAML syntax error: {exc.problem or exc.context}{_hint(text, mark)}")) from None
    except yaml.YAMLError as exc:
        raise SpecError(Problem(path, 0, 0, f"YAML error: {exc}")) from None
    if node is None:
        raise SpecError(Problem(path, 0, 0, "the file is empty"))
    builder = _Builder(path)
    value = builder.build(node)
    if builder.problems:
        raise SpecError(builder.problems)
    return value


_HINTS = {
    "\t": " (YAML does not allow tabs for indentation; indent with spaces)",
    "@": " (a YAML value cannot start with '@': write a reference as 'from NAME', or quote it: '@NAME')",
    "`": " (a YAML value cannot start with '`'; quote it)",
}


def _hint(text: str, mark: yaml.Mark | None) -> str:
    """What to do about the character a YAML syntax error stopped at, when it is a common slip."""
    if mark is None or not 0 <= mark.index < len(text):
        return ""
    return _HINTS.get(text[mark.index], "")


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, found on the event stream (no recursion)."""
    try:
        _count_depth(text, path, _LOADER)
    except yaml.MarkedYAMLError as exc:
        # libyaml (PyYAML >= 6.0.4) scans ahead and stops at its own depth limit before the
        # first event; the pure-Python parser has none and finds where ours is crossed
        if _LOADER is yaml.SafeLoader or "nesting depth" not in str(exc.problem):
            raise
        _count_depth(text, path, yaml.SafeLoader)
        raise


def _count_depth(text: str, path: str, loader: type[yaml.SafeLoader | yaml.CSafeLoader]) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                raise SpecError(Problem(path, line, col, f"nesting deeper than {MAX_DEPTH} levels"))
        elif isinstance(event, _CLOSE):
            depth -= 1


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a spec file"
    kind = next((what for test, what in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a spec file; only regular files are read"


def read_text(path: Path) -> str:
    """Read a spec file, turning every way it can be unreadable into one clear line.

    Only a regular file is opened for reading: it is checked before opening, and
    opened without blocking (a FIFO swapped in between would otherwise wait for
    a writer forever) and checked again through the open descriptor."""
    shown = str(path)
    try:
        why = _not_regular(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        why = "no such file"
    except OSError as exc:
        why = f"cannot read: {exc.strerror}"
    except ValueError:  # a NUL in the name
        why = "not a valid file name"
    if why:
        raise SpecError(Problem(shown, 0, 0, why))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as fh:
            why = _not_regular(os.fstat(fh.fileno()).st_mode)
            data = b"" if why else fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(Problem(shown, 0, 0, f"cannot read: {exc.strerror}")) from None
    if why:
        raise SpecError(Problem(shown, 0, 0, why))
    if len(data) > MAX_BYTES:
        raise SpecError(Problem(shown, 0, 0, f"larger than {MAX_BYTES // 1024} KiB; not a spec"))
    if b"\0" in data:
        raise SpecError(Problem(shown, 0, 0, "is a binary file, not a YAML spec"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(Problem(shown, 0, 0, f"is not UTF-8 text (byte {exc.start})")) from None
