"""What one item writes after its kind: a layer's settings, or a module call's arguments.

Both come as short-form tokens (``64 3x3 /2 bn relu``, ``inception_a 32 /2``) or
as a mapping (``{filters: 64, kernel: 1x7}``).  The layer's are checked against
its :class:`~cnnviz.spec.layers.LayerType` and completed with the spec's
defaults and the field defaults; the call's are bound to the module's declared
arguments.  Every problem goes to the collector; the result is ``None`` when
there was one.
"""

from __future__ import annotations

from typing import Any

from ..errors import Collector
from .expr import ExprError, Scope, substitute_all
from .layers import LAYERS, REQUIRED, STRIDE_TOKEN, BadValue, LayerType
from .limits import Budget
from .loader import Loc, LocDict
from .words import short_value, suggest, whole


class Arguments:
    def __init__(self, coll: Collector, defaults: dict[str, dict[str, Any]], work: Budget, variables: Scope | None = None) -> None:
        self.coll = coll
        self.vars: Scope = variables or {}  # the spec's vars: what a module argument's default may use
        self.defaults = defaults  # layer type -> {field: value}, checked when the spec was read
        self.work = work  # substitution work of the whole spec

    def layer(self, lt: LayerType, args: object, loc: Loc, scope: Scope) -> dict[str, Any] | None:
        """A layer's settings, checked and completed, or None."""
        given: dict[str, Any] = {}
        bad: set[str] = set()  # settings whose value was refused (and reported) already
        ok = True
        if isinstance(args, list):
            positional = list(lt.positional)
            for tok in args:
                key = ""
                try:
                    if tok.startswith("/") and STRIDE_TOKEN.match(tok) and lt.field("stride"):
                        key = "stride"
                        given[key] = whole(tok[1:])
                    elif "=" in tok:
                        key, _, value = tok.partition("=")
                        given[key] = short_value(value)
                    elif tok in lt.flags:
                        key, value = lt.flags[tok]
                        given[key] = value
                    elif positional:
                        key = positional.pop(0)
                        given[key] = short_value(tok)
                    else:
                        hint = (suggest(tok, lt.flags) if lt.flags else "") or (f" ({lt.usage})" if lt.usage else "")
                        if "#" in tok:
                            hint = " (a YAML comment needs a space before '#')"
                        self.coll.add(loc, f"{lt.name}: unexpected '{tok}'{hint}")
                        ok = False
                except BadValue as exc:
                    self.coll.add(loc, f"{lt.name}: {key}: {exc}")
                    bad.add(key)
                    ok = False
        elif args is not None:
            settings = self.named(args, loc, scope, f"{lt.name}: expected its settings")
            if settings is None:
                return None
            given = settings
        params = self.fill(lt, given, loc, args if isinstance(args, LocDict) else None, bad)
        return params if ok else None

    def names_only(self, what: str, names: list[str], args: object, loc: Loc) -> None:
        """The setting or argument names of an item left out (``x0``): a misspelt name is still
        reported, but no value is read, since a value (a width of 0) may be what switches it off."""
        written = [tok.partition("=")[0] for tok in args if "=" in tok] if isinstance(args, list) else list(args) if isinstance(args, dict) else []
        unknown = unknown_setting if what in LAYERS else unknown_argument
        for key in written:
            if key not in names:
                self.coll.add(args.key_loc(key) if isinstance(args, LocDict) else loc, unknown(what, key, names))

    def named(self, args: object, loc: Loc, scope: Scope, what: str) -> dict[str, Any] | None:
        """Settings or arguments written as a mapping, with ``$`` references substituted."""
        if not isinstance(args, dict):
            self.coll.add(loc, f"{what} as text or a mapping, got {args!r}")
            return None
        try:
            return {k: substitute_all(v, scope, self.work) for k, v in args.items()}
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None

    def fill(self, lt: LayerType, given: dict[str, Any], loc: Loc, where: LocDict | None = None, bad: set[str] | frozenset[str] = frozenset()) -> dict[str, Any] | None:
        """Check ``given`` against the layer type; apply spec defaults and field defaults.
        The fields in ``bad`` were given, with a value already reported as wrong."""
        params: dict[str, Any] = {}
        ok = True
        merged = {**self.defaults.get(lt.name, {}), **given}
        for key in merged:
            if lt.field(key) is None:
                self.coll.add(where.key_loc(key) if where else loc, unknown_setting(lt.name, key, [f.name for f in lt.fields]))
                ok = False
        for f in lt.fields:
            if f.name in merged:
                try:
                    params[f.name] = f.convert(merged[f.name])
                except BadValue as exc:
                    self.coll.add(where.loc_of(f.name) if where and f.name in given else loc, f"{lt.name}: {f.name}: {exc}")
                    ok = False
            elif f.default is REQUIRED and f.name not in bad:
                self.coll.add(loc, f"{lt.name}: missing '{f.name}' ({f.doc})")
                ok = False
            else:
                params[f.name] = f.default
        if params.get("stride", ()) is None and "kernel" in params:  # pools: stride defaults to the window
            params["stride"] = params["kernel"]
        if ok and (problem := lt.problem(params)):
            self.coll.add(loc, f"{lt.name}: {problem}")
            ok = False
        return params if ok else None

    def call(self, module: str, declared: dict[str, Any], args: object, loc: Loc, scope: Scope) -> dict[str, Any] | None:
        """A module call's arguments bound to the declared ones (in declared order), or None."""
        names = list(declared)
        self.work.spend(1 + len(names))  # binding costs work at every call: a module may declare many
        given: dict[str, Any] = {}
        if isinstance(args, list):
            free = iter(names)  # positional: the next argument not yet given
            for tok in args:
                key = ""
                try:
                    if "=" in tok:
                        key, _, value = tok.partition("=")
                        given[key] = short_value(value)
                    elif STRIDE_TOKEN.match(tok) and "stride" in declared:
                        key = "stride"
                        given[key] = whole(tok[1:])
                    elif key := next((n for n in free if n not in given), ""):
                        given[key] = short_value(tok)
                    else:
                        hint = "; a YAML comment needs a space before '#'" if any("#" in t for t in args) else ""
                        self.coll.add(loc, f"{module}: too many arguments (it takes: {', '.join(names) or 'none'}){hint}")
                        return None
                except BadValue as exc:
                    self.coll.add(loc, f"{module}: {key}: {exc}")
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
                self.coll.add(loc, unknown_argument(module, key, names))
                ok = False
        for key in names:
            if key in given:
                bound[key] = given[key]
            elif declared[key] is None:
                self.coll.add(loc, f"{module}: missing argument '{key}'")
                ok = False
            else:
                try:  # a default may use the spec's vars: ``args: {width: $base}``
                    bound[key] = substitute_all(declared[key], self.vars, self.work)
                except ExprError as exc:
                    self.coll.add(loc, f"{module}: the default of '{key}': {exc}")
                    ok = False
        return bound if ok else None


def unknown_setting(layer: str, key: str, fields: list[str]) -> str:
    have = f" ({layer} has: {', '.join(fields)})" if fields and not suggest(key, fields) else ""
    return f"{layer}: unknown setting '{key}'{suggest(key, fields)}{have}"


def unknown_argument(module: str, key: str, names: list[str]) -> str:
    return f"{module}: unknown argument '{key}'{suggest(key, names)} (it takes: {', '.join(names) or 'none'})"
