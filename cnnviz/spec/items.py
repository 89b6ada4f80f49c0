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

from typing import Any

from ..errors import Collector
from .expr import ExprError, Scope, substitute
from .layers import LAYERS, NAME_TOKEN, REPEAT_TOKEN, REQUIRED, STRIDE_TOKEN, BadValue, LayerType
from .loader import Loc, LocDict, LocList, Value
from .model import Aux, Branches, Call, Item, Layer, Towers
from .names import name_items, name_problem
from .words import scalar, suggest

STRUCTURAL = ("concat", "add", "towers", "aux")
COMMON_KEYS = ("name", "repeat")
MAX_REPEAT = 1024
MAX_LAYERS = 50_000  # leaf layers after unrolling every repeat


class Expander:
    def __init__(self, coll: Collector, modules: dict[str, LocDict], defaults: dict[str, dict[str, Any]], variables: dict[str, Any]) -> None:
        self.coll = coll
        self.modules = modules  # module name -> its definition (``args`` bound to a dict of name -> default)
        self.defaults = defaults  # layer type -> {field: converted value}
        self.vars = variables
        self.weight = 0

    # -- lists ---------------------------------------------------------------

    def items(self, seq: Value, loc: Loc, scope: Scope, stack: tuple[str, ...] = ()) -> list[Item]:
        entries: list[Value]
        locs: list[Loc]
        if isinstance(seq, str):  # a single item where a list is expected
            entries, locs = [seq], [loc]
        elif isinstance(seq, list):
            entries, locs = seq, seq.locs if isinstance(seq, LocList) else [loc] * len(seq)
        else:
            self.coll.add(loc, f"expected a list of layers, got {type(seq).__name__}")
            return []
        made: list[Item] = []
        for raw, iloc in zip(entries, locs):
            item = self.item(raw, iloc, scope, stack)
            if item is not None:
                made.append(item)
        name_items(made, self.coll)
        return made

    # -- one item ------------------------------------------------------------

    def item(self, raw: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Item | None:
        written: object = None  # the name as written; checked below
        repeat: object = 1  # checked below
        body: Value = None
        body_loc = loc
        args: object
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
                written = substitute(raw.get("name"), scope)
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
            rest: list[str] = []
            for tok in args:
                tok = str(tok)
                if m := NAME_TOKEN.match(tok):
                    written = m.group(1)
                elif m := REPEAT_TOKEN.match(tok):
                    repeat = int(m.group(1))
                else:
                    rest.append(tok)
            args = rest
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
            self.coll.add(loc, f"repeat must be a whole number from 1 to {MAX_REPEAT}, got {repeat!r}")
            repeat = 1
        name: str | None = None
        if written is not None and not isinstance(written, str):
            self.coll.add(loc, f"name must be text, got {written!r}")
        elif isinstance(written, str):
            if problem := name_problem(written):
                self.coll.add(loc, problem)
            else:
                name = written

        made: Item | None
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

    def layer(self, lt: LayerType, args: object, loc: Loc, scope: Scope) -> Layer | None:
        given: dict[str, Any] = {}
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
            settings = self.named(args, loc, scope, f"{lt.name}: expected its settings")
            if settings is None:
                return None
            given = settings
        params = self.fill(lt, given, loc, args if isinstance(args, LocDict) else None)
        if params is None or not ok:
            return None
        self.weight += 1
        return Layer(lt.name, params, loc=loc)

    def named(self, args: object, loc: Loc, scope: Scope, what: str) -> dict[str, Any] | None:
        """Settings or arguments written as a mapping, with ``$`` references substituted."""
        if not isinstance(args, dict):
            self.coll.add(loc, f"{what} as text or a mapping, got {args!r}")
            return None
        try:
            return {k: substitute(v, scope) for k, v in args.items()}
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None

    def fill(self, lt: LayerType, given: dict[str, Any], loc: Loc, where: LocDict | None = None) -> dict[str, Any] | None:
        """Check ``given`` against the layer type; apply spec defaults and field defaults."""
        params: dict[str, Any] = {}
        ok = True
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

    def branches(self, merge: str, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Branches | None:
        if not isinstance(body, list) or len(body) < 2:
            self.coll.add(loc, f"{merge}: expected a list of at least two branches")
            return None
        out: list[list[Item]] = []
        for i, branch in enumerate(body):
            bloc = body.loc_of(i) if isinstance(body, LocList) else loc
            if branch is None or branch == [] or branch == "identity":
                out.append([])
            else:
                out.append(self.items(branch, bloc, scope, stack))
        return Branches(merge, out, loc=loc)

    def towers(self, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Towers | None:
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

    def aux(self, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Aux | None:
        if isinstance(body, dict) and "layers" in body:
            loc = body.loc_of("layers")
            body = body["layers"]
        return Aux(self.items(body, loc, scope, stack), loc=loc)

    def call(self, module: str, args: object, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Call | None:
        if module in stack:
            chain = " → ".join([*stack[stack.index(module):], module])
            self.coll.add(loc, f"module '{module}' uses itself ({chain})")
            return None
        mdef = self.modules[module]
        declared = mdef.get("args") or {}
        names = list(declared)
        given: dict[str, Any] = {}
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
            named = self.named(args, loc, scope, f"{module}: expected arguments")
            if named is None:
                return None
            given = named
        bound: dict[str, Any] = {}
        ok = True
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


def _weight(item: Item) -> int:
    """Leaf layers in one copy of the item (repeats of nested items included)."""
    if isinstance(item, Layer):
        return 1
    if isinstance(item, Branches):
        return sum(sum(_weight(i) * i.repeat for i in b) for b in item.branches) + 1
    return sum(_weight(i) * i.repeat for i in item.body) + 1
