"""``$name`` and ``$(expression)`` substitution inside spec values.

Expressions are arithmetic only (numbers, names, + - * / // % **, parentheses,
``min``/``max``/``int``/``round``, indexing a list); they are evaluated by
walking the AST, never with ``eval``.

Every evaluation is bounded as a whole, not operator by operator
(:mod:`cnnviz.spec.limits`): an expression is at most ``MAX_EXPR_CHARS`` long
and ``MAX_EXPR_DEPTH`` deep; every value it makes or reads is checked (a whole
number below ``2**MAX_INT_BITS``, a float finite), so a chain of powers stops
at the first result that is too large instead of computing it; each step
(node, name, list element) counts against ``MAX_EXPR_STEPS`` for the
evaluation and against the spec's :class:`~cnnviz.spec.limits.Budget` for all
of them together.  A problem is an :class:`ExprError`; an exhausted budget is a
:class:`~cnnviz.spec.limits.Limit`.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from .limits import MAX_EXPR_CHARS, MAX_EXPR_DEPTH, MAX_EXPR_STEPS, MAX_INT_BITS, MAX_TEXT, Budget, expression_budget

_REF = re.compile(r"\$(?:\(((?:[^()]|\([^()]*\))*)\)|([A-Za-z_]\w*))")
Scope = Mapping[str, Any]  # name -> value: the spec's vars and a module's arguments

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCS = ("min", "max", "int", "round")


class ExprError(ValueError):
    pass


def evaluate(text: str, scope: Scope, budget: Budget | None = None) -> Any:
    """The value of one expression (the text inside ``$( )``), or ExprError."""
    budget = budget or expression_budget()
    return _Evaluator(text, scope, budget).run(_tree(text.strip(), budget))


_TREES: dict[str, ast.expr] = {}  # parsed expressions: a module's are the same text at every call
_PARSE_COST = 20  # steps: parsing costs about as much as twenty steps of evaluation, and more with length


def _tree(text: str, budget: Budget) -> ast.expr:
    tree = _TREES.get(text)
    if tree is None:
        budget.spend(_PARSE_COST + len(text))
        tree = _parse(text)
        if len(_TREES) >= 4096:
            _TREES.clear()
        _TREES[text] = tree
    return tree


def _parse(text: str) -> ast.expr:
    """The checked syntax tree of an expression."""
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters: '{text[:40]}...'")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):  # ValueError: a NUL character
        raise ExprError(f"cannot read the expression '{text}'") from None
    if sum(map(text.count, "+-*/%([")) + 2 <= MAX_EXPR_DEPTH:
        return tree  # each level of the tree takes one of these characters: it cannot be too deep
    todo: list[tuple[ast.AST, int]] = [(tree, 1)]  # depth without recursion
    while todo:
        node, depth = todo.pop()
        if depth > MAX_EXPR_DEPTH:
            raise ExprError(f"expression nested more than {MAX_EXPR_DEPTH} deep in '{text}'")
        todo += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    return tree


class _Evaluator:
    def __init__(self, text: str, scope: Scope, budget: Budget) -> None:
        self.text = text
        self.scope = scope
        self.budget = budget
        self.steps = 0

    def run(self, tree: ast.expr) -> Any:
        try:
            return self.eval(tree)
        finally:
            self.budget.spend(2 + self.steps)  # and 2 for setting up

    def fail(self, why: str) -> NoReturn:
        raise ExprError(f"{why} in '{self.text}'")

    def step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_EXPR_STEPS:
            self.fail(f"more than {MAX_EXPR_STEPS} steps")

    def eval(self, node: ast.expr) -> Any:
        self.step()
        text = self.text
        if isinstance(node, ast.Constant) and _number(node.value):
            return self.checked(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.scope:
                raise ExprError(f"unknown name '{node.id}'" + _known(self.scope))
            value = self.scope[node.id]
            return self.checked(value) if _number(value) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = self.eval(node.left), self.eval(node.right)
            if not (_number(left) and _number(right)):  # no string or list arithmetic: 'a' * 10**9 is a memory bomb
                raise ExprError(f"arithmetic needs numbers in '{text}'")
            if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > MAX_INT_BITS:
                self.fail(_TOO_LARGE)  # known before computing it: 2**64 is already too large
            try:
                value = _BINOPS[type(node.op)](left, right)
            except ZeroDivisionError as exc:
                raise ExprError(f"cannot evaluate '{text}': {exc}") from None
            except OverflowError:
                self.fail("the result is not a finite number")
            value = self.checked(value)
            return int(value) if isinstance(value, float) and value.is_integer() and isinstance(node.op, ast.Div) else value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.eval(node.operand)
            if not _number(value):
                self.fail("arithmetic needs numbers")
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Subscript):
            seq, index = self.eval(node.value), self.eval(node.slice)
            if not isinstance(seq, list) or not isinstance(index, int) or isinstance(index, bool) or not -len(seq) <= index < len(seq):
                self.fail("bad index")
            value = seq[index]
            return self.checked(value) if _number(value) else value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
            return self.call(node.func.id, [self.eval(a) for a in node.args])
        self.fail("only arithmetic on numbers and names is allowed")

    def call(self, name: str, args: list[Any]) -> Any:
        if name in ("min", "max"):
            values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
            self.step(len(values))
            if not values or not all(_number(v) for v in values):
                self.fail(f"{name}() needs one or more numbers, or a list of them")
            return self.checked((min if name == "min" else max)(values))
        if not args or len(args) > (2 if name == "round" else 1) or not all(_number(a) for a in args):
            self.fail(f"{name}() needs a number" + (" and optionally a whole number of digits" if name == "round" else ""))
        if name == "int":
            return self.checked(int(args[0]))
        if len(args) == 2 and (not isinstance(args[1], int) or not -20 <= args[1] <= 20):
            self.fail("round() keeps from -20 to 20 digits")
        return self.checked(round(*args))

    def checked(self, value: Any) -> Any:
        """A number every later step can use cheaply: a whole number below 2**MAX_INT_BITS, a finite float."""
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            self.fail(_TOO_LARGE)
        if isinstance(value, float) and not math.isfinite(value):
            self.fail("the result is not a finite number")
        if not isinstance(value, (int, float)):  # a complex power: (-8) ** 0.5
            self.fail("the result is not a real number")
        return value


_TOO_LARGE = f"a whole number larger than 2**{MAX_INT_BITS} - 1"


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _known(scope: Scope) -> str:
    names = sorted(scope)
    shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return f" (known: {shown})" if scope else " (no arguments or vars are defined here)"


def substitute(value: Any, scope: Scope, budget: Budget | None = None) -> Any:
    """Replace references in a string.  A string that is exactly one reference
    becomes the referenced value itself (so ``$(4*width)`` stays a number)."""
    if not isinstance(value, str) or "$" not in value:
        return value
    budget = budget or expression_budget()
    whole = _REF.fullmatch(value.strip())
    if whole:
        return _lookup(whole, scope, budget)
    out: list[str] = []
    size, start = 0, 0
    for m in _REF.finditer(value):
        piece = value[start : m.start()] + _show(_lookup(m, scope, budget), m.group(0), budget)
        size += len(piece)
        if size > MAX_TEXT:
            raise ExprError(f"longer than {MAX_TEXT} characters once its references are substituted")
        out.append(piece)
        start = m.end()
    out.append(value[start:])
    if size + len(value) - start > MAX_TEXT:
        raise ExprError(f"longer than {MAX_TEXT} characters once its references are substituted")
    return "".join(out)


def substitute_all(value: Any, scope: Scope, budget: Budget | None = None) -> Any:
    """:func:`substitute` in a value and in every list item and mapping value inside it
    (``size: [$h, $w]``, ``{padding: [0, $p]}``); lists and mappings come back plain."""
    if isinstance(value, list):
        return [substitute_all(v, scope, budget) for v in value]
    if isinstance(value, dict):
        return {k: substitute_all(v, scope, budget) for k, v in value.items()}
    return substitute(value, scope, budget)


def _lookup(m: re.Match[str], scope: Scope, budget: Budget) -> Any:
    expr, name = m.group(1), m.group(2)
    if name is not None:
        budget.spend()
        if name not in scope:
            raise ExprError(f"unknown name '${name}'" + _known(scope))
        return scope[name]
    return evaluate(expr, scope, budget)


_WORD = re.compile(r"^[^\s,\[\]]+$")  # a list item that reads back as itself on a line


def _show(v: object, ref: str, budget: Budget) -> str:
    """A value as part of a line of text; a list as ``[a, b]``, which the line reads back.
    Each list item shown costs a step of the budget (a long list var used in a module
    called many times would otherwise be written out at every call)."""
    if isinstance(v, list):
        budget.spend(len(v))
        if len(v) > MAX_TEXT // 2:  # each item takes at least a character and a comma
            raise ExprError(f"longer than {MAX_TEXT} characters once its references are substituted")
        items = [_show(x, ref, budget) for x in v]
        if all(isinstance(x, list) or _WORD.match(t) for x, t in zip(v, items)):
            return f"[{', '.join(items)}]"
    if isinstance(v, (list, dict)):
        raise ExprError(f"'{ref}' is a {'list' if isinstance(v, list) else 'mapping'}: it can stand alone as a value, not inside a line of text")
    if v is None:
        return "none"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
