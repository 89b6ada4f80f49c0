"""Safe YAML loading that remembers where every value was written.

Mappings load as :class:`LocDict` and sequences as :class:`LocList`; both are
the ordinary containers plus ``loc`` (their own ``(line, col)``) and ``locs``
(the position of each key's value or each item).  Only the YAML core types are
accepted: no Python tags, and a bound on nesting and on alias expansion so that
a hostile file fails fast instead of hanging.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import yaml

from ..errors import Problem, SpecError

_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same marks, several times faster
MAX_BYTES = 1 << 20  # a spec is a page of text; a megabyte is already absurd
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion

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

    def fail(self, node: yaml.Node, message: str) -> NoReturn:
        _, line, col = _mark(node, self.path)
        raise SpecError(Problem(self.path, line, col, message))

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
            try:
                value: Scalar = self.scalars.construct_object(node, deep=True)
                return value
            except (yaml.YAMLError, ValueError) as exc:
                self.fail(node, f"bad value: {exc}")
        self.fail(node, f"tag '{node.tag}' is not allowed in a spec")


_SCALARS = {"str", "int", "float", "bool", "null"}
_COLLECTIONS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def load_text(text: str, path: str) -> Value:
    """Parse YAML text; returns LocDict/LocList/scalar, or raises SpecError."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise SpecError(Problem(path, line, col, f"YAML syntax error: {exc.problem or exc.context}")) from None
    except yaml.YAMLError as exc:
        raise SpecError(Problem(path, 0, 0, f"YAML error: {exc}")) from None
    except RecursionError:
        raise SpecError(Problem(path, 0, 0, f"nesting deeper than {MAX_DEPTH} levels")) from None
    if node is None:
        raise SpecError(Problem(path, 0, 0, "the file is empty"))
    return _Builder(path).build(node)


def read_text(path: Path) -> str:
    """Read a spec file, turning every way it can be unreadable into one clear line."""
    shown = str(path)
    if not path.exists():
        raise SpecError(Problem(shown, 0, 0, "no such file"))
    if path.is_dir():
        raise SpecError(Problem(shown, 0, 0, "is a directory, not a spec file"))
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(Problem(shown, 0, 0, f"cannot read: {exc.strerror}")) from None
    if len(data) > MAX_BYTES:
        raise SpecError(Problem(shown, 0, 0, f"larger than {MAX_BYTES // 1024} KiB; not a spec"))
    if b"\0" in data:
        raise SpecError(Problem(shown, 0, 0, "is a binary file, not a YAML spec"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(Problem(shown, 0, 0, f"is not UTF-8 text (byte {exc.start})")) from None
