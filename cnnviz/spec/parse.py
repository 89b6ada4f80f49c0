"""A spec file (or catalogue id) → a validated :class:`Spec`, or every problem at once."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import Collector, Problem, SpecError
from . import catalogue
from .documents import load_doc, ref_problem, show_path
from .expr import ExprError, Scope, substitute_all
from .items import STRUCTURAL, Expander
from .layers import LAYERS, BadValue
from .limits import MAX_TEXT, Budget, Limit, Problems, Stop, expression_budget
from .loader import Loc, LocDict, LocList, Value
from .model import Item, Spec
from .refs import REF_WORD
from .values import MAX_RANK
from .words import suggest

TOP_KEYS = {
    "name": "display name, as the paper writes it",
    "aliases": "other ids that find this spec",
    "year": "year of publication",
    "paper": "title, authors, venue, url",
    "reference": "the implementation whose numbers the spec follows",
    "article_params": "the parameter count as the article rounds it, e.g. 26M",
    "novel": "what's novel, in a sentence or two",
    "notes": "free text",
    "input": "input shape [C, H, W]",
    "extends": "a catalogue id or path whose spec this one starts from",
    "vars": "named values usable as $name anywhere",
    "defaults": "default settings per layer type, e.g. conv: {bn: true, act: relu}",
    "modules": "reusable blocks: name -> {label, args, layers}",
    "layers": "the network, in order",
    "expect": "declared facts checked by validation: params, params_aux, output, shapes",
}
PAPER_KEYS = ("title", "authors", "venue", "url")
MODULE_KEYS = ("label", "args", "vars", "layers", "doc")
EXPECT_KEYS = ("params", "params_aux", "output", "shapes")
IDENT = re.compile(r"^[A-Za-z_]\w*$")
MAX_DIM = 1 << 14


def load_spec(ref: str | os.PathLike[str]) -> Spec:
    """Load a catalogue id (``resnet50``) or a path to a YAML spec."""
    text = os.fspath(ref)
    if problem := ref_problem(text):
        raise SpecError(Problem(text if len(text) <= 80 else text[:60] + "...", 0, 0, problem))
    path = catalogue.resolve(text)
    doc = load_doc(path)
    return _build(doc, path)


def _build(doc: LocDict, path: Path) -> Spec:
    coll = Problems(show_path(path))
    work = expression_budget()
    try:
        for key in doc:
            if key not in TOP_KEYS:
                coll.add(doc.key_loc(key), f"unknown key '{key}'{suggest(key, TOP_KEYS)}")
        for key in ("name", "input", "layers"):
            if key not in doc:
                coll.add(doc.loc, f"missing '{key}' ({TOP_KEYS[key]})")
        if _long_texts(doc, coll):
            raise Stop  # not expanded: a value too long would cost its length at every module call

        meta = _meta(doc, coll)
        shape = _shape(doc.get("input"), doc.loc_of("input"), coll, "input") if "input" in doc else None
        variables = _vars(doc, coll, work)
        defaults = _defaults(doc, coll, variables, work)
        modules = _modules(doc, coll)
        expect, expect_locs = _expect(doc, coll)

        expander = Expander(coll, modules, defaults, variables, work)
        body: list[Item] = []
        if "layers" in doc:
            body = expander.items(doc["layers"], doc.loc_of("layers"), variables)
    except Stop:
        pass  # reported already; raise_if_any() raises
    coll.raise_if_any()
    assert shape is not None  # a missing or bad input was reported, so raise_if_any() raised
    return Spec(
        id=path.stem,
        path=coll.path,
        name=doc["name"],
        input=shape,
        body=body,
        meta=meta,
        expect=expect,
        expect_locs=expect_locs,
        modules={k: {"label": v.get("label", k), "doc": v.get("doc", ""), "loc": v.loc} for k, v in modules.items()},
        catalogue=catalogue.is_catalogue(path),
        loc=doc.loc,
    )


def _meta(doc: LocDict, coll: Collector) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, kind in (("name", str), ("reference", str), ("novel", str), ("notes", str), ("year", int)):
        if key in doc:
            if isinstance(doc[key], kind) and not isinstance(doc[key], bool):
                meta[key] = doc[key]
            else:
                coll.add(doc.loc_of(key), f"{key}: expected {'a year' if kind is int else 'text'}, got {doc[key]!r}")
    if "article_params" in doc:
        meta["article_params"] = str(doc["article_params"])
    aliases = doc.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and IDENT.match(a) for a in aliases):
        coll.add(doc.loc_of("aliases"), "aliases: expected a list of ids (letters, digits, _)")
    else:
        meta["aliases"] = list(aliases)
    paper = doc.get("paper")
    if paper is not None:
        if not isinstance(paper, LocDict):
            coll.add(doc.loc_of("paper"), "paper: expected a mapping with title, authors, venue, url")
        else:
            for key in paper:
                if key not in PAPER_KEYS:
                    coll.add(paper.key_loc(key), f"paper: unknown key '{key}'{suggest(key, PAPER_KEYS)}")
            authors = paper.get("authors", [])
            if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
                coll.add(paper.loc_of("authors"), "paper: authors: expected a list of names")
            meta["paper"] = {k: (list(v) if isinstance(v, list) else v) for k, v in paper.items()}
    return meta


def _shape(value: Value, loc: Loc, coll: Collector, what: str, any_rank: bool = False) -> tuple[int, ...] | None:
    """An input shape ([channels, height, width] or [features]); with ``any_rank``, a shape
    a network may produce (a custom box's [tokens, features]: 1 to MAX_RANK sizes)."""
    ranks = range(1, MAX_RANK + 1) if any_rank else (1, 3)
    if (
        not isinstance(value, list)
        or len(value) not in ranks
        or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_DIM * 4 for v in value)
        or (len(value) == 3 and max(value[1:]) > MAX_DIM)
    ):
        kinds = "[channels, height, width], [features] or [tokens, features]" if any_rank else "[channels, height, width] or [features]"
        coll.add(loc, f"{what}: expected {kinds} of positive sizes (height and width at most {MAX_DIM}), got {value!r}")
        return None
    return tuple(value)


def _long_texts(doc: LocDict, coll: Collector) -> bool:
    """Refuse text longer than MAX_TEXT where layers are expanded (layers, modules, vars,
    defaults): expanding a value works on its whole length at every module call.
    Whether there was any."""
    before = len(coll.problems)
    todo: list[tuple[Value, Loc]] = [(doc[k], doc.loc_of(k)) for k in ("layers", "modules", "vars", "defaults") if k in doc]
    while todo:  # no recursion: the loader bounds the depth, but a walk needs none
        value, loc = todo.pop()
        if isinstance(value, str) and len(value) > MAX_TEXT:
            coll.add(loc, f"text longer than {MAX_TEXT} characters (a layer line or a value is a few words)")
        elif isinstance(value, LocDict):
            for key, item in value.items():
                if len(key) > MAX_TEXT:
                    coll.add(value.key_loc(key), f"name longer than {MAX_TEXT} characters")
                elif key != "doc":
                    todo.append((item, value.loc_of(key)))
        elif isinstance(value, LocList):
            todo += [(item, value.loc_of(i)) for i, item in enumerate(value)]
    return len(coll.problems) > before


def _vars(doc: LocDict, coll: Collector, work: Budget) -> dict[str, Any]:
    """The spec's vars, in order; each may use the ones before it (``$(2*base)``)."""
    raw: Value = doc.get("vars", LocDict())
    if not isinstance(raw, LocDict):
        coll.add(doc.loc_of("vars"), "vars: expected a mapping of names to values")
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not IDENT.match(key):
            coll.add(raw.key_loc(key), f"vars: '{key}' is not a valid name (letters, digits, _)")
            continue
        try:
            out[key] = substitute_all(value, out, work)
        except ExprError as exc:
            coll.add(raw.loc_of(key), f"vars: {key}: {exc}")
        except Limit as exc:
            coll.add(raw.loc_of(key), str(exc))
            raise Stop from None
    return out


def _defaults(doc: LocDict, coll: Collector, variables: Scope, work: Budget) -> dict[str, dict[str, Any]]:
    raw: Value = doc.get("defaults", LocDict())
    if not isinstance(raw, dict):
        coll.add(doc.loc_of("defaults"), "defaults: expected a mapping of layer type to settings")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for type_name, settings in raw.items():
        lt = LAYERS.get(type_name)
        if lt is None:
            coll.add(raw.key_loc(type_name), f"defaults: unknown layer type '{type_name}'{suggest(type_name, LAYERS)}")
            continue
        if not isinstance(settings, LocDict):
            coll.add(raw.loc_of(type_name), f"defaults: {type_name}: expected a mapping of settings")
            continue
        out[type_name] = {}
        for key, value in settings.items():
            f = lt.field(key)
            if f is None:
                coll.add(settings.key_loc(key), f"defaults: {type_name}: unknown setting '{key}'{suggest(key, [x.name for x in lt.fields])}")
                continue
            try:
                value = substitute_all(value, variables, work)
                f.convert(value)
                out[type_name][key] = value
            except (BadValue, ExprError) as exc:
                coll.add(settings.loc_of(key), f"defaults: {type_name}: {key}: {exc}")
            except Limit as exc:
                coll.add(settings.loc_of(key), str(exc))
                raise Stop from None
    return out


def _modules(doc: LocDict, coll: Collector) -> dict[str, LocDict]:
    if "modules" not in doc:
        return {}
    raw = doc["modules"]
    if not isinstance(raw, LocDict):
        coll.add(doc.loc_of("modules"), "modules: expected a mapping of module name to definition")
        return {}
    out: dict[str, LocDict] = {}
    for name, mdef in raw.items():
        loc = raw.key_loc(name)
        if not IDENT.match(name):
            coll.add(loc, f"modules: '{name}' is not a valid module name (letters, digits, _)")
            continue
        if name in LAYERS or name in STRUCTURAL:
            coll.add(loc, f"modules: '{name}' is a built-in layer type; choose another name")
            continue
        if name == REF_WORD:
            coll.add(loc, f"modules: '{name}' starts a reference (from NAME); choose another name")
            continue
        if not isinstance(mdef, LocDict):
            coll.add(raw.loc_of(name), f"modules: {name}: expected a mapping with label, args, layers")
            continue
        for key in mdef:
            if key not in MODULE_KEYS:
                coll.add(mdef.key_loc(key), f"modules: {name}: unknown key '{key}'{suggest(key, MODULE_KEYS)}")
        if "layers" not in mdef:
            coll.add(mdef.loc, f"modules: {name}: missing 'layers'")
            continue
        args = mdef.get("args", {})
        if isinstance(args, LocList):
            args = {a: None for a in args if isinstance(a, str)} if all(isinstance(a, str) for a in args) else None
        elif args is None:
            args = {}
        if not isinstance(args, dict) or not all(IDENT.match(a) for a in args):
            coll.add(mdef.loc_of("args"), f"modules: {name}: args: expected a list of names or a mapping of name to default (null: required)")
            continue
        local = mdef.get("vars", {})
        if not isinstance(local, dict) or not all(IDENT.match(k) for k in local):
            coll.add(mdef.loc_of("vars"), f"modules: {name}: vars: expected a mapping of names to values or $(expressions)")
            continue
        fixed = LocDict(mdef)
        fixed.loc, fixed.locs, fixed.keylocs = mdef.loc, mdef.locs, mdef.keylocs
        fixed["args"] = dict(args)
        out[name] = fixed
    return out


def _expect(doc: LocDict, coll: Collector) -> tuple[dict[str, Any], dict[str, Any]]:
    if "expect" not in doc:
        return {}, {}
    raw = doc["expect"]
    if not isinstance(raw, LocDict):
        coll.add(doc.loc_of("expect"), "expect: expected a mapping (params, params_aux, output, shapes)")
        return {}, {}
    out: dict[str, Any] = {}
    locs: dict[str, Any] = {}
    for key, value in raw.items():
        loc = raw.loc_of(key)
        if key not in EXPECT_KEYS:
            coll.add(raw.key_loc(key), f"expect: unknown key '{key}'{suggest(key, EXPECT_KEYS)}")
        elif key in ("params", "params_aux"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                coll.add(loc, f"expect: {key}: expected a whole number, got {value!r}")
            else:
                out[key], locs[key] = value, loc
        elif key == "output":
            shape = _shape(value, loc, coll, "expect: output", any_rank=True)
            if shape:
                out[key], locs[key] = shape, loc
        elif not isinstance(value, LocDict):
            coll.add(loc, "expect: shapes: expected a mapping of layer name to shape")
        else:
            out["shapes"], locs["shapes"] = {}, {}
            for name, shp in value.items():
                shape = _shape(shp, value.loc_of(name), coll, f"expect: shapes: {name}", any_rank=True)
                if shape:
                    out["shapes"][name], locs["shapes"][name] = shape, value.loc_of(name)
    return out, locs


def load_spec_text(text: str, path: str, ident: str) -> Spec:
    """A spec from text that is no file (the spec an imported model becomes); ``path``
    names it in error lines and ``ident`` is its id (the default output name)."""
    where = Path(path)
    spec = _build(load_doc(where, text=text), where)
    spec.id = ident
    return spec
