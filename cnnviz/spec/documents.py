"""Reading a spec's document: the file, and the specs it ``extends``, merged.

Every name is checked before the system sees it (a name too long, or with a NUL,
makes ``stat`` raise), and a file that cannot be read is reported on the
``extends:`` line that names it.  An ``extends`` chain is at most ``MAX_EXTENDS``
specs long and may not come back to a spec of its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import Problem, SpecError
from . import catalogue
from .limits import MAX_EXTENDS, MAX_NAME_BYTES, MAX_PATH_BYTES
from .loader import LocDict, load_text, read_text
from .words import suggest

NOT_INHERITED = ("aliases", "article_params")


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` cannot even be looked up as a file name (the system would raise), or None."""
    if "\0" in ref:
        return "not a valid file name (it contains a NUL character)"
    try:
        raw = os.fsencode(ref)
    except UnicodeError:
        return "not a valid file name (it is not valid Unicode)"
    parts = re.split(rb"[/\\]", raw)
    if len(raw) > MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in parts):
        return f"file name too long (at most {MAX_NAME_BYTES} bytes a name, {MAX_PATH_BYTES} in all)"
    return None


def show_path(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return str(rel)
    except ValueError:
        return str(path)


def load_doc(path: Path, chain: tuple[Path, ...] = (), text: str | None = None) -> LocDict:
    """The document of the spec at ``path`` (read unless ``text`` is given), merged onto
    the documents it extends; ``chain`` is the specs that extend this one."""
    shown = show_path(path)
    doc = load_text(read_text(path) if text is None else text, shown)
    if not isinstance(doc, LocDict):
        _, line, col = getattr(doc, "loc", (shown, 1, 1))
        raise SpecError(Problem(shown, line, col, "a spec is a mapping (name:, input:, layers:, ...)"))
    if "extends" not in doc:
        return doc
    base_ref = doc["extends"]
    loc = doc.loc_of("extends")
    if not isinstance(base_ref, str):
        raise SpecError(Problem(*loc, "extends: expected a catalogue id or a path"))
    if problem := ref_problem(base_ref):
        raise SpecError(Problem(*loc, f"extends: {problem}"))
    if len(chain) + 2 > MAX_EXTENDS:  # the specs above this one, this one, and its base
        raise SpecError(Problem(*loc, f"extends: more than {MAX_EXTENDS} specs extend one another"))
    try:
        base_path = catalogue.resolve(base_ref, relative_to=path.parent)
    except SpecError as exc:
        raise SpecError(Problem(*loc, f"extends: {exc.problems[0].message}")) from None
    key = base_path.resolve()
    if key in chain or key == path.resolve():
        raise SpecError(Problem(*loc, f"extends: '{base_ref}' extends this spec again (a cycle)"))
    try:
        text = read_text(base_path)  # a file that cannot be read is this line's problem
    except SpecError as exc:
        raise SpecError(Problem(*loc, f"extends: {base_ref}: {exc.problems[0].message}")) from None
    base = load_doc(base_path, (*chain, path.resolve()), text)
    for k in NOT_INHERITED:
        base.pop(k, None)
    base.pop("extends", None)
    return _merge(base, doc)


def _merge(base: LocDict, over: LocDict, drop: bool = True, under: tuple[str, ...] = ()) -> LocDict:
    """``over`` merged onto ``base``: mappings key by key, anything else replaced.  With
    ``drop``, a key set to null removes what the base gave it (``expect: {shapes: null}``,
    ``paper: null``); not under ``modules``, where a null argument means a required one.
    At the top level and under ``expect`` a null that drops nothing is a located error
    (a misspelt name would otherwise stay an expectation of null)."""
    out = LocDict(base)
    out.loc, out.locs, out.keylocs = over.loc, dict(base.locs), dict(base.keylocs)
    for key, value in over.items():
        if drop and value is None and base.get(key) is not None:
            del out[key]
            out.locs.pop(key, None)
            out.keylocs.pop(key, None)
            continue
        if drop and value is None and (not under or under[0] == "expect"):
            where = f" under {': '.join(under)}:" if under else ""
            raise SpecError(Problem(*over.key_loc(key), f"'{key}: null' drops nothing: the spec this one extends gives no '{key}'{where}{suggest(key, base)}"))
        if isinstance(value, LocDict) and isinstance(base.get(key), LocDict):
            value = _merge(base[key], value, drop and key != "modules", (*under, key))
        out[key] = value
        out.locs[key], out.keylocs[key] = over.loc_of(key), over.key_loc(key)
    return out

