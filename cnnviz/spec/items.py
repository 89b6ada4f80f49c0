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
    - output: [conv 256 3x3]       # an extra output of the network (``name: P4``)
    - output @P5                   # this point is an output as it is

Every problem is reported to the collector and expansion carries on, so that a
user sees every error of a spec at once.  Expansion is bounded
(:mod:`cnnviz.spec.limits`): every item made counts against the network budget,
each copy of a repeat as much as the same item written out again, so that ``xN``
and N written copies are refused alike; module calls and nesting have a depth
limit.  Passing a limit is reported once, at the innermost item, and stops the
expansion (:class:`~cnnviz.spec.limits.Stop`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from ..errors import Collector
from .arguments import Arguments
from .expr import ExprError, Scope, substitute, substitute_all
from .heads import HEADS, output_problems
from .layers import LAYERS, NAME_TOKEN, REPEAT_TOKEN, BadValue, LayerType
from .limits import MAX_CALL_DEPTH, MAX_NESTING, MAX_TOWERS, Budget, Limit, Stop, network_budget
from .loader import Loc, LocDict, LocList, Value
from .model import Aux, Branches, Call, HeadRole, Item, Layer, Ref, Towers
from .names import name_items, name_problem
from .refs import REF_WORD, Scopes, ref_name, written_name
from .words import BadLine, split_line, suggest, whole

MERGES = ("concat", "add", "mul", "split")  # how the branches of a branches item meet
STRUCTURAL = (*MERGES, "towers", *HEADS)
COMMON_KEYS = ("name", "repeat")


class Expander:
    def __init__(self, coll: Collector, modules: dict[str, LocDict], defaults: dict[str, dict[str, Any]], variables: dict[str, Any], work: Budget) -> None:
        self.coll = coll
        self.modules = modules  # module name -> its definition (``args`` bound to a dict of name -> default)
        self.vars = variables
        self.work = work  # substitution work of the whole spec
        self.args = Arguments(coll, defaults, work, variables)
        self.size = network_budget()  # items of the unrolled network
        self.depth = 0  # items being expanded, one inside the other
        self.known = (*LAYERS, *STRUCTURAL, *modules)  # what an item may be
        inside = {written_name(e): m for m, d in modules.items() if isinstance(d.get("layers"), list) for e in d["layers"]}
        self.scopes = Scopes({n: m for n, m in inside.items() if n})  # the layer lists being expanded, for ``from NAME``
        self.within: list[str] = []  # the towers and heads being expanded, outermost first

    # -- lists ---------------------------------------------------------------

    def items(self, seq: Value, loc: Loc, scope: Scope, stack: tuple[str, ...] = (), wall: str = "") -> list[Item]:
        """The items of one layer list (``wall``: "module" or "towers" when names outside it are out of reach)."""
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
        frame = self.scopes.push(entries, locs, wall)
        try:
            for i, (raw, iloc) in enumerate(zip(entries, locs)):
                frame.index, frame.current = i, None
                item = self.item(raw, iloc, scope, stack)
                if item is not None:
                    made.append(item)
                    if item.name:
                        frame.done[item.name] = item
        finally:
            self.scopes.pop()
        name_items(made, self.coll)
        return made

    # -- one item ------------------------------------------------------------

    def item(self, raw: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Item | None:
        """One item, charged to the network budget: itself and what it contains, once per copy."""
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise Limit(f"items nested more than {MAX_NESTING} deep (module calls, branches, towers, aux heads)")
            before = self.size.used
            self.size.spend()
            made = self.one(raw, loc, scope, stack)
            if made is not None and made.repeat > 1:
                self.size.spend((self.size.used - before) * (made.repeat - 1))
            return made
        except Limit as exc:
            self.coll.add(loc, str(exc))
            raise Stop from None
        finally:
            self.depth -= 1

    # -- what the item is ---------------------------------------------------

    def one(self, raw: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Item | None:
        written: object = None  # the name as written; checked below
        repeat: object = 1  # checked below
        body: Value = None
        body_loc = loc
        args: object
        try:
            if isinstance(raw, str):
                tokens = split_line(str(substitute(raw, scope, self.work)))
                if not tokens:
                    self.coll.add(loc, "empty layer line")
                    return None
                if tokens in (["none"], ["None"]):  # an optional layer switched off by an argument
                    return None
                kind, args = tokens[0], tokens[1:]
            elif isinstance(raw, dict):
                kinds = [k for k in islice(raw, 5) if k not in COMMON_KEYS]  # a mapping of 5 keys or more has several
                if len(kinds) != 1:
                    what = f"several kinds ({', '.join(kinds[:3])}{', ...' if len(raw) > 4 else ''})" if kinds else "no kind"
                    self.coll.add(loc, f"a layer mapping needs exactly one kind key besides name/repeat; found {what}")
                    return None
                kind = kinds[0]
                body, body_loc = raw[kind], raw.loc_of(kind)
                args = substitute(body, scope, self.work) if isinstance(body, str) else body
                if isinstance(args, str):
                    args = split_line(args)
                elif isinstance(args, list) and kind in LAYERS and LAYERS[kind].positional:
                    args = {LAYERS[kind].positional[0]: substitute_all(args, scope, self.work)}  # `zeropad: [0, 1, 0, 1]`
                written = substitute(raw.get("name"), scope, self.work)
                repeat = substitute(raw.get("repeat", 1), scope, self.work)
            elif raw is None:
                self.coll.add(loc, "empty layer entry")
                return None
            else:
                self.coll.add(loc, f"a layer is a line of text or a mapping, not {raw!r}")
                return None
        except (ExprError, BadLine) as exc:
            self.coll.add(loc, str(exc))
            return None
        if kind == REF_WORD or kind.startswith("@"):
            self.coll.add(loc, f"'{REF_WORD} NAME' (or '@NAME') can only start a branch of a merge, as in concat: [{REF_WORD} NAME, identity]; here it is an item of a layer list")
            return None

        if isinstance(args, list) and (kind not in STRUCTURAL or kind == "output" and isinstance(raw, str)):  # short form: pull out @name, xN
            rest: list[str] = []
            for tok in args:
                tok = str(tok)
                if m := NAME_TOKEN.match(tok):
                    written = m.group(1)
                elif m := REPEAT_TOKEN.match(tok):
                    try:
                        repeat = whole(m.group(1))
                    except BadValue as exc:
                        self.coll.add(loc, f"repeat: {exc}")
                else:
                    rest.append(tok)
            args = rest
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:  # how many: the network budget says
            self.coll.add(loc, f"repeat must be a whole number, 0 or more, got {repeat!r}")
            repeat = 1
        name: str | None = None
        if written is not None and not isinstance(written, str):
            self.coll.add(loc, f"name must be text, got {written!r}")
        elif isinstance(written, str):
            if problem := name_problem(written):
                self.coll.add(loc, problem)
            else:
                name = written
        self.scopes.frames[-1].current = name

        if repeat == 0:  # left out (a block switched off in a variant): only its words are checked
            self.omitted(kind, args, loc, name)
            return None
        made: Item | None
        if kind in LAYERS:
            made = self.layer(LAYERS[kind], args, body_loc, scope)
        elif kind in MERGES:
            made = self.branches(kind, body, body_loc, scope, stack)
        elif kind == "towers":
            made = self.towers(body, body_loc, scope, stack)
        elif kind in HEADS:
            made = self.head(kind, body, body_loc, scope, stack, args if isinstance(raw, str) else None)
        elif kind in self.modules:
            made = self.call(kind, args, body_loc, scope, stack)
        else:
            self.coll.add(loc, f"unknown layer type or module '{kind}'{suggest(kind, self.known)}")
            return None
        if made is None:
            return None
        if isinstance(made, Aux) and made.role == "output" and (problems := output_problems(self.within, name, repeat, self.depth == 1)):
            for problem in problems:
                self.coll.add(loc, problem)
            return None
        made.name, made.loc, made.repeat = name or "", loc, repeat
        return made

    def omitted(self, kind: str, args: object, loc: Loc, name: str | None) -> None:
        """An item repeated 0 times: its kind and the names it sets are checked, its values and
        what it contains are not (``se $w $squeeze x$(min(squeeze, 1))`` with a squeeze of 0)."""
        if kind in LAYERS:
            self.args.names_only(kind, [f.name for f in LAYERS[kind].fields], args, loc)
        elif kind in self.modules:
            self.args.names_only(kind, list(self.modules[kind].get("args") or {}), args, loc)
        elif kind not in MERGES and kind not in ("towers", *HEADS):
            self.coll.add(loc, f"unknown layer type or module '{kind}'{suggest(kind, self.known)}")
        if name:
            self.scopes.frames[-1].omitted[name] = loc

    def layer(self, lt: LayerType, args: object, loc: Loc, scope: Scope) -> Layer | None:
        params = self.args.layer(lt, args, loc, scope)
        return None if params is None else Layer(lt.name, params, loc=loc)

    def branches(self, merge: str, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Branches | None:
        if not isinstance(body, list) or len(body) < 2:
            self.coll.add(loc, f"{merge}: expected a list of at least two branches")
            return None
        out: list[list[Item]] = []
        refs: list[Ref | None] = []
        for i, branch in enumerate(body):
            bloc = body.loc_of(i) if isinstance(body, LocList) else loc
            branch, ref = self.branch_ref(branch, bloc, scope)
            if ref is not None and merge == "split":
                self.coll.add(ref.loc, f"split: a branch cannot start from '{ref.name}': each branch of a split reads its own part of the input")
                ref = None
            refs.append(ref)
            if branch is None or branch == [] or branch == "identity":
                out.append([])
            else:
                out.append(self.items(branch, bloc, scope, stack))
        return Branches(merge, out, loc=loc, refs=refs if any(refs) else [])

    def branch_ref(self, branch: Value, loc: Loc, scope: Scope) -> tuple[Value, Ref | None]:
        """A branch without its opening ``from NAME`` (or ``'@NAME'``), and the reference it makes."""
        first, rest, where = branch, None, loc
        if isinstance(branch, list) and branch:
            first, rest, where = branch[0], LocList(branch[1:]), branch.loc_of(0) if isinstance(branch, LocList) else loc
            if isinstance(branch, LocList):
                rest.loc, rest.locs = branch.loc, branch.locs[1:]
        if isinstance(first, dict) and list(first) == [REF_WORD] and isinstance(first[REF_WORD], str):
            first = f"{REF_WORD} {first[REF_WORD]}"  # the mapping form, ``- from: enc1``
        if not isinstance(first, str):
            return branch, None
        try:
            name = ref_name(str(substitute(first, scope, self.work)))
        except ExprError as exc:
            self.coll.add(where, str(exc))
            return rest, None
        if name is None:
            return branch, None
        found = self.scopes.resolve(name, where)
        if isinstance(found, str):
            self.coll.add(where, found)
            return rest, None
        return rest, found

    def towers(self, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Towers | None:
        if not isinstance(body, dict):
            self.coll.add(loc, "towers: expected a mapping with count, layers and optionally input: split")
            return None
        for key in body:
            if key not in ("count", "layers", "input"):
                self.coll.add(body.key_loc(key), f"towers: unknown key '{key}'{suggest(key, ('count', 'layers', 'input'))}")
        try:
            count = substitute(body.get("count"), scope, self.work)
            mode = substitute(body.get("input", "shared"), scope, self.work)
        except ExprError as exc:
            self.coll.add(loc, str(exc))
            return None
        if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_TOWERS:
            self.coll.add(body.loc_of("count"), f"towers: count must be a whole number from 2 to {MAX_TOWERS}, got {count!r}")
            return None
        if mode not in ("shared", "split"):
            self.coll.add(body.loc_of("input"), f"towers: input must be 'shared' or 'split', got {mode!r}")
            return None
        if "layers" not in body:
            self.coll.add(loc, "towers: missing 'layers'")
            return None
        with self.inside("towers"):
            return Towers(count, mode == "split", self.items(body["layers"], body.loc_of("layers"), scope, stack, "towers"), loc=loc)

    @contextmanager
    def inside(self, kind: str) -> Iterator[None]:
        self.within.append(kind)
        try:
            yield
        finally:
            self.within.pop()

    def head(self, role: HeadRole, body: Value, loc: Loc, scope: Scope, stack: tuple[str, ...], line: object = None) -> Aux | None:
        """An ``aux:`` or ``output:`` head (``line``: the words after it on a line of its own);
        an output may be the point itself (``identity``, ``[]``, or the line ``output @NAME``)."""
        if isinstance(body, dict) and "layers" in body:
            loc = body.loc_of("layers")
            body = body["layers"]
        if role == "output" and isinstance(line, list) and line:
            self.coll.add(loc, f"output: a line takes only @name, not '{' '.join(map(str, line))}'; a head is a list: output: [conv 256 3x3]")
            return None
        if role == "output" and (line is not None or body in ([], "identity", ["identity"])):
            return Aux([], loc=loc, role=role)
        with self.inside(role):
            return Aux(self.items(body, loc, scope, stack), loc=loc, role=role)

    def call(self, module: str, args: object, loc: Loc, scope: Scope, stack: tuple[str, ...]) -> Call | None:
        if module in stack:
            chain = " → ".join([*stack[stack.index(module):], module])
            self.coll.add(loc, f"module '{module}' uses itself ({chain})")
            return None
        if len(stack) >= MAX_CALL_DEPTH:
            chain = " → ".join([*stack[:3], "…", *stack[-2:], module])
            raise Limit(f"module calls nested more than {MAX_CALL_DEPTH} deep ({chain})")
        mdef = self.modules[module]
        bound = self.args.call(module, mdef.get("args") or {}, args, loc, scope)
        if bound is None:
            return None
        local = mdef.get("vars") or {}
        self.work.spend(len(self.vars) + len(local))  # the scope is made afresh at every call
        inner = {**self.vars, **bound}
        for key, value in local.items():  # derived values, in order; each may use the ones before
            try:
                inner[key] = substitute_all(value, inner, self.work)
            except ExprError as exc:
                self.coll.add(local.loc_of(key) if isinstance(local, LocDict) else loc, f"{module}: vars: {key}: {exc}")
                return None
        try:
            label = str(substitute(mdef.get("label", module), inner, self.work))
        except ExprError as exc:
            self.coll.add(mdef.loc_of("label"), str(exc))
            label = module
        body = self.items(mdef.get("layers"), mdef.loc_of("layers"), inner, (*stack, module), "module")
        return Call(module, label, bound, body, loc=loc)
