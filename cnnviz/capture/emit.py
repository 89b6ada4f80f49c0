"""Items and modules → a spec document in cnnviz's own YAML format (torch-free).

The text is what ``cnnviz import`` writes and what an imported model is read from,
so the picture of a model and its ejected spec cannot disagree."""

from __future__ import annotations

from typing import Any

import yaml

from ..spec.heads import HEADS
from ..spec.layers import LAYERS
from ..spec.names import name_problem
from .items import Arg, CallItem, From, Item, Line, MergeItem, Module


def text(v: Any, square: bool = False) -> str:
    """A value as written in a layer line."""
    if isinstance(v, Arg):
        return f"${v.name}" if v.times == 1 else f"$({v.times}*{v.name})"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "x".join(str(x) for x in v) if len(set(v)) > 1 or not square else str(v[0])
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _tail(item: Line | MergeItem, names: set[str]) -> list[str]:
    out = []
    if item.name and not name_problem(item.name) and item.name not in names:
        names.add(item.name)
        out.append(f"@{item.name}")
    if isinstance(item.repeat, Arg) or item.repeat != 1:
        out.append(f"x{text(item.repeat)}")
    return out


def line_text(line: Line, modules: dict[str, Module], names: set[str]) -> str:
    tokens = [line.type]
    fields = dict(line.fields)
    if line.type in modules:
        for arg in modules[line.type].args:
            v = fields.pop(arg)
            tokens.append(f"/{v}" if arg == "stride" and isinstance(v, int) else text(v))
        return " ".join(tokens + _tail(line, names))
    kind = LAYERS[line.type]
    flags = {(f, repr(v)): word for word, (f, v) in kind.flags.items()}  # (field, value) -> its bare word
    for f in kind.positional:
        if f not in fields:
            break
        tokens.append(text(fields.pop(f), square=f == "scale"))
    for f, v in fields.items():
        if f == "stride" and (isinstance(v, Arg) or (isinstance(v, tuple) and v[0] == v[1])):
            tokens.append(f"/{text(v[0] if isinstance(v, tuple) else v)}")
        elif not isinstance(v, Arg) and (f, repr(v)) in flags:
            tokens.append(flags[(f, repr(v))])
        else:
            tokens.append(f"{f}={text(v, square=f != 'kernel')}")
    return " ".join(tokens + _tail(line, names))


def item_value(item: Item, modules: dict[str, Module], names: set[str]) -> Any:
    if isinstance(item, From):
        return f"from {item.source}"
    if isinstance(item, CallItem):
        assert item.line is not None
        item = item.line
    if isinstance(item, Line) and item.type == "custom":
        body = {k: (text(v) if isinstance(v, Arg) else [text(x) if isinstance(x, Arg) else x for x in v] if isinstance(v, list) else v) for k, v in item.fields.items()}
        out: dict[str, Any] = {"custom": body}
        tail = _tail(item, names)
        for t in tail:
            if t.startswith("@"):
                out["name"] = t[1:]
            else:
                out["repeat"] = item.repeat if isinstance(item.repeat, int) else text(item.repeat)
        return out
    if isinstance(item, Line):
        return line_text(item, modules, names)
    if item.kind in HEADS:
        out = {item.kind: seq_value(item.branches[0], modules) or "identity"}
    else:
        out = {item.kind: [_branch(b, modules) for b in item.branches]}
    for t in _tail(item, names):
        if t.startswith("@"):
            out["name"] = t[1:]
        else:
            out["repeat"] = item.repeat
    return out


def _branch(items: list[Item], modules: dict[str, Module]) -> Any:
    """A merge's branch: ``identity``, ``from NAME`` alone, or its items."""
    if len(items) == 1 and isinstance(items[0], From):
        return item_value(items[0], modules, set())
    return seq_value(items, modules) or "identity"


def seq_value(items: list[Item], modules: dict[str, Module]) -> list[Any]:
    names: set[str] = set()
    return [item_value(i, modules, names) for i in items]


def document(name: str, reference: str, input_shape: tuple[int, ...], items: list[Item], modules: list[Module], expect: dict[str, Any], notes: str = "") -> str:
    by_name = {m.name: m for m in modules}
    doc: dict[str, Any] = {"name": name, "reference": reference}
    if notes:
        doc["notes"] = notes
    doc["input"] = list(input_shape)
    if modules:
        doc["modules"] = {m.name: {"label": m.label, **({"args": list(m.args)} if m.args else {}), "layers": seq_value(m.body, by_name)} for m in modules}
    doc["layers"] = seq_value(items, by_name)
    doc["expect"] = expect
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 20, default_flow_style=False)  # the reference line on one line


class _Dumper(yaml.SafeDumper):
    """Short lists of numbers ([3, 224, 224]) on one line; everything else in block style."""


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = len(data) <= 4 and all(isinstance(x, (int, float)) or (isinstance(x, str) and " " not in x and len(x) < 24) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)
