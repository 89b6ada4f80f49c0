"""A diff as one JSON object for tools.  The schema is documented in docs/diff.md;
``"schema": "cnnviz-diff/2"`` changes only when a field changes meaning or goes away.

Paths are ``str(path)``, the documented serialisation of :class:`~cnnviz.model.Path`
(``mixed_5b.concat1.b2``); texts (labels, kernel sizes, grids) are written by
:mod:`cnnviz.present`, as everywhere else (``3×3``)."""

from __future__ import annotations

import json

from . import Diff, Side
from .align import Change
from .overview import CENSUS, Stage, census_key
from .parts import Alt
from .units import Unit

SCHEMA = "cnnviz-diff/2"


def _value(v):
    if isinstance(v, Alt):
        return {"variants": [_value(x) for x in v]}
    if isinstance(v, tuple):
        return [_value(x) for x in v]
    return v


def _shape(shape):
    return list(shape) if shape is not None else None


def _side(s: Side) -> dict:
    return {
        "id": s.id,
        "name": s.name,
        "year": s.year,
        "path": s.network.source,
        "input": list(s.input),
        "output": _shape(s.output),
        "outputs": {name: _shape(shape) for name, shape in s.outputs.items()},
        "params": s.params,
        "params_aux": s.params_aux,
        "depth": s.depth,
    }


def _unit(u: Unit | None) -> dict | None:
    if u is None:
        return None
    return {
        "path": str(u.members[0].path),
        "paths": [str(p.path) for p in u.members],
        "kind": u.kind,
        "type": u.rep.type,
        "label": u.label,
        "count": u.count,
        "variants": u.variants,
        "params": u.params,
        "output": _shape(u.output),
    }


def _change(c: Change) -> dict:
    return {
        "status": c.status,
        "kind": c.kind,
        "a": _unit(c.a),
        "b": _unit(c.b),
        "notes": [{"what": n.what, "a": _value(n.a), "b": _value(n.b)} for n in c.notes],
        "children": [_change(k) for k in c.children],
    }


def _stage(s: Stage | None) -> dict | None:
    if s is None:
        return None
    return {"grid": s.grid, "paths": [str(u.members[0].path) for u in s.units], "modules": s.modules, "layers": s.weighted, "params": s.params, "output": _shape(s.output)}


def as_dict(d: Diff) -> dict:
    a, b = d.a, d.b
    ca, cb = d.census
    return {
        "schema": SCHEMA,
        "identical": d.identical,
        "a": _side(a),
        "b": _side(b),
        "delta": {
            "params": b.params - a.params,
            "params_pct": round((b.params - a.params) / a.params * 100, 2) if a.params else None,
            "params_aux": b.params_aux - a.params_aux,
            "depth": b.depth - a.depth,
        },
        "changes": [_change(c) for c in d.changes],
        "census": {what: {census_key(k): [ca[what][k], cb[what][k]] for k in dict.fromkeys([*ca[what], *cb[what]])} for what in CENSUS},
        "stages": [{"a": _stage(x), "b": _stage(y), "params_delta": (y.params if y else 0) - (x.params if x else 0)} for x, y in d.stages],
    }


def as_json(d: Diff) -> str:
    return json.dumps(as_dict(d), indent=2, ensure_ascii=False) + "\n"
