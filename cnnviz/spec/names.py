"""The names of the items in one layer list: the written ones checked, the rest made up.

Every item's path is its list's path plus its name (:mod:`cnnviz.model`), so a
name must keep paths apart *as text* too: it cannot contain the separator
``.``, cannot be ``input`` (the input's path), and cannot be the path of a
batch norm or activation written on another item of the same list
(``@x_bn`` beside ``conv 8 3x3 bn @x``).  Made-up names (``conv3``) step
around every written one.  The texts come from :class:`cnnviz.model.Path`
itself, never from a second copy of its rules.
"""

from __future__ import annotations

import re

from ..errors import Collector
from ..model import INPUT, ROOT
from .model import Branches, Call, Item, Layer, Towers

NAME = re.compile(r"^[A-Za-z_][\w-]*$")
SEPARATOR = "."


def kind(item: Item) -> str:
    """What a made-up name starts with: the layer type, the merge, the module, towers, aux, output."""
    if isinstance(item, Layer):
        return item.type
    if isinstance(item, Branches):
        return item.merge
    if isinstance(item, Call):
        return item.module
    return "towers" if isinstance(item, Towers) else item.role


def name_problem(name: str) -> str | None:
    """Why a name written in a spec cannot be used, or None."""
    if SEPARATOR in name:
        return f"name '{name}' contains '{SEPARATOR}', which separates the steps of a path; use '_' instead"
    if name == str(INPUT):
        return f"name '{name}' is reserved: it is the path of the network's input"
    if not NAME.match(name):
        return f"name '{name}' is not a valid name (a letter or '_' first, then letters, digits, '_' or '-')"
    return None


def folded(item: Item, name: str) -> dict[str, str]:
    """The path texts of the parts a layer folds in, each with its type (``{"x_bn": "bn"}``)."""
    if not isinstance(item, Layer):
        return {}
    ops = (["bn"] if item.params.get("bn") else []) + [a for a in [item.params.get("act", "none")] if a != "none"]
    return {ROOT.child(name).fold(op).name: op for op in ops}


def name_items(made: list[Item], coll: Collector) -> None:
    """Check the names written in one list (reporting to ``coll``), then name the others."""
    owner: dict[str, Item] = {}  # written name -> its item
    for item in made:
        if not item.name:
            continue
        first = owner.get(item.name)
        if first is not None:
            what = f"call of {first.module}" if isinstance(first, Call) else kind(first)
            coll.add(item.loc, f"name '{item.name}' already names the {what} at line {first.loc[1]}")
        else:
            owner[item.name] = item
    parts = {text: (item, op) for item in owner.values() for text, op in folded(item, item.name).items()}
    for name, item in owner.items():
        if name in parts:
            layer, op = parts[name]
            coll.add(item.loc, f"name '{name}' is the path of the {op} written on '{layer.name}' at line {layer.loc[1]}; choose another")
    used = set(owner) | set(parts)
    counters: dict[str, int] = {}
    for item in made:
        if item.name:
            continue
        n = counters.get(kind(item), 0)
        while True:
            n += 1
            name = f"{kind(item)}{n}"
            if name not in used and not used.intersection(folded(item, name)):
                break
        counters[kind(item)] = n
        item.name, item.named = name, False
        used.update((name, *folded(item, name)))
