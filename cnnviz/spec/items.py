"""Expanding the ``layers:`` of a spec (and of its modules) into model items.

An item is written either as one short line::

    conv 64 7x7 /2 @stem_conv      # type, positional values, /stride, @name
    inception_a 32 x3              # a module call with its arguments, repeated 3 times

or as a mapping with exactly one kind key plus optional ``name`` and ``repeat``::

    - conv: {filters: 64, kernel: 1x7}
      name: b7_1
    - concat:
        - conv 64 1x1
        - [conv 48 1x1, conv 64 5x5]
    - add: [[conv 64 3x3, conv 64 3x3], identity]
    - towers: {count: 32, layers: [conv 4 1x1, conv 4 3x3]}
    - aux: [avgpool 5x5 /3, conv 128 1x1, flatten, dense 1024, dense 1000]

Every problem is reported to the collector and expansion carries on, so that a
user sees every error of a spec at once.
"""

from __future__ import annotations

import difflib
import re

from ..errors import Collector
from .expr import ExprError, substitute
from .layers import LAYERS, NAME_TOKEN, REPEAT_TOKEN, REQUIRED, STRIDE_TOKEN, BadValue, LayerType
from .loader import Loc, LocDict, LocList
from .model import Aux, Branches, Call, Item, Layer, Towers

STRUCTURAL = ("concat", "add", "towers", "aux")
COMMON_KEYS = ("name", "repeat")
MAX_REPEAT = 1024
MAX_LAYERS = 50_000  # leaf layers after unrolling every repeat
NAME = re.compile(r"^[A-Za-z_][\w-]*$")
INPUT_NAME = "input"  # str(cnnviz.model.INPUT)


def suggest(word: str, choices) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def scalar(token: str):
    """A short-form value: int, float, true/false, null, or the word itself
    (``none`` stays a word, as in YAML: it is how a setting or a layer is switched off)."""
    low = token.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low == "null":
        return None
    for cast in (int, float):
        try:
            return cast(token)
        except ValueError:
            pass
    return token


class Expander:
    def __init__(self, coll: Collector, modules: LocDict, defaults: dict, variables: dict):
        self.coll = coll
        self.modules = modules
        self.defaults = defaults  # layer type -> {field: converted value}
        self.vars = variables
        self.weight = 0

    # -- lists ---------------------------------------------------------------

    def items(self, seq, loc: Loc, scope: dict, stack: tuple = ()) -> list[Item]:
        if isinstance(seq, str):  # a single item where a list is expected
            seq, locs = [seq], [loc]
        elif isinstance(seq, list):
            locs = seq.locs if isinstance(seq, LocList) else [loc] * len(seq)
        else:
            self.coll.add(loc, f"expected a list of layers, got {type(seq).__name__}")
            return []
        made: list[Item] = []
        for raw, iloc in zip(seq, locs):
            item = self.item(raw, iloc, scope, stack)
            if item is not None:
                made.append(item)
        self.name_items(made)
        return made

    def name_items(self, made: list[Item]) -> None:
        """Check the names written in one list, then make up names for the rest that
        collide with none of them (nor with the batch norm or activation folded into a layer)."""
        owner: dict[str, Item] = {}  # written name -> its item
        for item in made:
            if not item.name:
                continue
            first = owner.get(item.name)
            if first is not None:
                self.coll.add(item.loc, f"name '{item.name}' already names the {_what(first)} at line {first.loc[1]}")
            else:
                owner[item.name] = item
        folded = {f: item for item in owner.values() for f in _folded_names(item, item.name)}
        for name, item in owner.items():
            if name in folded:
                layer = folded[name]
                self.coll.add(item.loc, f"name '{name}' is the path of the {name[len(layer.name) + 1 :]} written on '{layer.name}' at line {layer.loc[1]}; choose another")
        used = set(owner) | set(folded)
        counters: dict[str, int] = {}
        for item in made:
            if item.name:
                continue
            kind = item.module if isinstance(item, Call) else _kind(item)
            n = counters.get(kind, 0)
            while True:
                n += 1
                name = f"{kind}{n}"
                if name not in used and not used.intersection(_folded_names(item, name)):
                    break
            counters[kind] = n
            item.name, item.named = name, False
            used.update((name, *_folded_names(item, name)))

    # -- one item ------------------------------------------------------------

    def item(self, raw, loc: Loc, scope: dict, stack: tuple) -> Item | None:
        name, repeat, body, body_loc = None, 1, None, loc
        try:
            if isinstance(raw, str):
                tokens = str(substitute(raw, scope)).split()
                if not tokens:
                    self.coll.add(loc, "empty layer line")
                    return None
                if tokens in (["none"], ["None"]):  # an optional layer switched off by an argument
                    return None
                kind, args = tokens[0], tokens[1:]
            elif isinstance(raw, dict):
                kinds = [k for k in raw if k not in COMMON_KEYS]
                if len(kinds) != 1:
                    what = f"several kinds ({', '.join(kinds)})" if kinds else "no kind"
                    self.coll.add(loc, f"a layer mapping needs exactly one kind key besides name/repeat; found {what}")
                    return None
                kind = kinds[0]
                body, body_loc = raw[kind], raw.loc_of(kind)
                args = substitute(body, scope) if isinstance(body, str) else body
                if isinstance(args, str):
                    args = args.split()
                elif isinstance(args, list) and kind in LAYERS and LAYERS[kind].positional:
                    args = {LAYERS[kind].positional[0]: args}  # `zeropad: [0, 1, 0, 1]`
                name = substitute(raw.get("name"), scope)
                repeat = substitute(raw.get("repeat", 1), scope)
            elif raw is None:
                self.coll.add(loc, "empty layer entry")
                return None
            else:
                self.coll.add(loc, f"a layer is a line of text or a mapping, not {raw!r}")
                return None
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None

        if isinstance(args, list) and kind not in STRUCTURAL:  # short form: pull out @name, xN
            rest = []
            for tok in args:
                tok = str(tok)
                if m := NAME_TOKEN.match(tok):
                    name = m.group(1)
                elif m := REPEAT_TOKEN.match(tok):
                    repeat = int(m.group(1))
                else:
                    rest.append(tok)
            args = rest
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
            self.coll.add(loc, f"repeat must be a whole number from 1 to {MAX_REPEAT}, got {repeat!r}")
            repeat = 1
        if name is not None and not isinstance(name, str):
            self.coll.add(loc, f"name must be text, got {name!r}")
            name = None
        elif name is not None and (problem := name_problem(name)):
            self.coll.add(loc, problem)
            name = None

        if kind in LAYERS:
            made = self.layer(LAYERS[kind], args, body_loc, scope)
        elif kind in ("concat", "add"):
            made = self.branches(kind, body, body_loc, scope, stack)
        elif kind == "towers":
            made = self.towers(body, body_loc, scope, stack)
        elif kind == "aux":
            made = self.aux(body, body_loc, scope, stack)
        elif kind in self.modules:
            made = self.call(kind, args, body_loc, scope, stack)
        else:
            known = [*LAYERS, *STRUCTURAL, *self.modules]
            self.coll.add(loc, f"unknown layer type or module '{kind}'{suggest(kind, known)}")
            return None
        if made is None:
            return None
        made.name, made.loc, made.repeat = name or "", loc, repeat
        self.weight += _weight(made) * (repeat - 1)
        if self.weight > MAX_LAYERS:
            self.coll.add(loc, f"the network unrolls to more than {MAX_LAYERS} layers; check repeat counts")
            raise _TooBig
        return made

    def layer(self, lt: LayerType, args, loc: Loc, scope: dict) -> Layer | None:
        given: dict = {}
        ok = True
        if isinstance(args, list):
            positional = list(lt.positional)
            for tok in args:
                if tok.startswith("/") and STRIDE_TOKEN.match(tok) and lt.field("stride"):
                    given["stride"] = int(tok[1:])
                elif "=" in tok:
                    key, _, value = tok.partition("=")
                    given[key] = scalar(value)
                elif tok in lt.flags:
                    key, value = lt.flags[tok]
                    given[key] = value
                elif positional:
                    given[positional.pop(0)] = scalar(tok)
                else:
                    hint = suggest(tok, lt.flags) if lt.flags else ""
                    if "#" in tok:
                        hint = " (a YAML comment needs a space before '#')"
                    self.coll.add(loc, f"{lt.name}: unexpected '{tok}'{hint}")
                    ok = False
        elif args is not None:
            given = self.named(args, loc, scope, f"{lt.name}: expected its settings")
            if given is None:
                return None
        params = self.fill(lt, given, loc, args if isinstance(args, LocDict) else None)
        if params is None or not ok:
            return None
        self.weight += 1
        return Layer(lt.name, params, loc=loc)

    def named(self, args, loc: Loc, scope: dict, what: str) -> dict | None:
        """Settings or arguments written as a mapping, with ``$`` references substituted."""
        if not isinstance(args, dict):
            self.coll.add(loc, f"{what} as text or a mapping, got {args!r}")
            return None
        try:
            return {k: substitute(v, scope) for k, v in args.items()}
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None

    def fill(self, lt: LayerType, given: dict, loc: Loc, where: LocDict | None = None) -> dict | None:
        """Check ``given`` against the layer type; apply spec defaults and field defaults."""
        params, ok = {}, True
        merged = {**self.defaults.get(lt.name, {}), **given}
        for key in merged:
            if lt.field(key) is None:
                fields = [f.name for f in lt.fields]
                have = f" ({lt.name} has: {', '.join(fields)})" if fields and not suggest(key, fields) else ""
                self.coll.add(where.key_loc(key) if where else loc, f"{lt.name}: unknown setting '{key}'{suggest(key, fields)}{have}")
                ok = False
        for f in lt.fields:
            if f.name in merged:
                try:
                    params[f.name] = f.convert(merged[f.name])
                except BadValue as exc:
                    self.coll.add(where.loc_of(f.name) if where and f.name in given else loc, f"{lt.name}: {f.name}: {exc}")
                    ok = False
            elif f.default is REQUIRED:
                self.coll.add(loc, f"{lt.name}: missing '{f.name}' ({f.doc})")
                ok = False
            else:
                params[f.name] = f.default
        if "stride" in params and params["stride"] is None:  # pools: stride defaults to the window
            params["stride"] = params["kernel"]
        return params if ok else None

    def branches(self, merge: str, body, loc: Loc, scope: dict, stack: tuple) -> Branches | None:
        if not isinstance(body, list) or len(body) < 2:
            self.coll.add(loc, f"{merge}: expected a list of at least two branches")
            return None
        out = []
        for i, branch in enumerate(body):
            bloc = body.loc_of(i) if isinstance(body, LocList) else loc
            if branch is None or branch == [] or branch == "identity":
                out.append([])
            else:
                out.append(self.items(branch, bloc, scope, stack))
        return Branches(merge, out, loc=loc)

    def towers(self, body, loc: Loc, scope: dict, stack: tuple) -> Towers | None:
        if not isinstance(body, dict):
            self.coll.add(loc, "towers: expected a mapping with count, layers and optionally input: split")
            return None
        for key in body:
            if key not in ("count", "layers", "input"):
                self.coll.add(body.key_loc(key), f"towers: unknown key '{key}'{suggest(key, ('count', 'layers', 'input'))}")
        try:
            count = substitute(body.get("count"), scope)
            mode = substitute(body.get("input", "shared"), scope)
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None
        if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_REPEAT:
            self.coll.add(body.loc_of("count"), f"towers: count must be a whole number from 2 to {MAX_REPEAT}, got {count!r}")
            return None
        if mode not in ("shared", "split"):
            self.coll.add(body.loc_of("input"), f"towers: input must be 'shared' or 'split', got {mode!r}")
            return None
        if "layers" not in body:
            self.coll.add(loc, "towers: missing 'layers'")
            return None
        return Towers(count, mode == "split", self.items(body["layers"], body.loc_of("layers"), scope, stack), loc=loc)

    def aux(self, body, loc: Loc, scope: dict, stack: tuple) -> Aux | None:
        if isinstance(body, dict) and "layers" in body:
            body, loc = body["layers"], body.loc_of("layers")
        return Aux(self.items(body, loc, scope, stack), loc=loc)

    def call(self, module: str, args, loc: Loc, scope: dict, stack: tuple) -> Call | None:
        if module in stack:
            chain = " → ".join([*stack[stack.index(module):], module])
            self.coll.add(loc, f"module '{module}' uses itself ({chain})")
            return None
        mdef = self.modules[module]
        declared = mdef.get("args") or {}
        names = list(declared)
        given: dict = {}
        if isinstance(args, list):
            for tok in args:
                if "=" in tok:
                    key, _, value = tok.partition("=")
                    given[key] = scalar(value)
                elif STRIDE_TOKEN.match(tok) and "stride" in declared:
                    given["stride"] = int(tok[1:])
                elif free := [n for n in names if n not in given]:  # positional: the next argument not yet given
                    given[free[0]] = scalar(tok)
                else:
                    hint = "; a YAML comment needs a space before '#'" if any("#" in t for t in args) else ""
                    self.coll.add(loc, f"{module}: too many arguments (it takes: {', '.join(names) or 'none'}){hint}")
                    return None
        elif args is not None:
            given = self.named(args, loc, scope, f"{module}: expected arguments")
            if given is None:
                return None
        bound, ok = {}, True
        for key in given:
            if key not in declared:
                self.coll.add(loc, f"{module}: unknown argument '{key}'{suggest(key, names)} (it takes: {', '.join(names) or 'none'})")
                ok = False
        for key in names:
            if key in given:
                bound[key] = given[key]
            elif declared[key] is None:
                self.coll.add(loc, f"{module}: missing argument '{key}'")
                ok = False
            else:
                bound[key] = declared[key]
        if not ok:
            return None
        inner = {**self.vars, **bound}
        local = mdef.get("vars") or {}
        for key, value in local.items():  # derived values, in order; each may use the ones before
            try:
                inner[key] = substitute(value, inner)
            except ExprError as exc:
                self.coll.add(local.loc_of(key) if isinstance(local, LocDict) else loc, f"{module}: vars: {key}: {exc}")
                return None
        try:
            label = str(substitute(mdef.get("label", module), inner))
        except ExprError as exc:
            self.coll.add(mdef.loc_of("label"), str(exc))
            label = module
        body = self.items(mdef.get("layers"), mdef.loc_of("layers"), inner, (*stack, module))
        return Call(module, label, bound, body, loc=loc)


class _TooBig(Exception):
    """Raised to stop expanding once the size limit is passed."""


def _kind(item: Item) -> str:
    if isinstance(item, Layer):
        return item.type
    if isinstance(item, Branches):
        return item.merge
    return "towers" if isinstance(item, Towers) else "aux"


def _what(item: Item) -> str:
    return f"call of {item.module}" if isinstance(item, Call) else _kind(item)


def name_problem(name: str) -> str | None:
    """Why a name written in a spec cannot be used, or None."""
    if "." in name:
        return f"name '{name}' contains '.', which separates the steps of a path; use '_' instead"
    if name == INPUT_NAME:
        return f"name '{name}' is reserved: it is the path of the network's input"
    if not NAME.match(name):
        return f"name '{name}' is not a valid name (a letter or '_' first, then letters, digits, '_' or '-')"
    return None


def _folded_names(item: Item, name: str) -> tuple[str, ...]:
    """The serialised paths of the parts a layer folds in (``x_bn``, ``x_relu``)."""
    if not isinstance(item, Layer):
        return ()
    out = [f"{name}_bn"] if item.params.get("bn") else []
    act = item.params.get("act", "none")
    return (*out, f"{name}_{act}") if act != "none" else tuple(out)


def _weight(item: Item) -> int:
    """Leaf layers in one copy of the item (repeats of nested items included)."""
    if isinstance(item, Layer):
        return 1
    if isinstance(item, Branches):
        return sum(sum(_weight(i) * i.repeat for i in b) for b in item.branches) + 1
    return sum(_weight(i) * i.repeat for i in item.body) + 1
