"""``$name`` and ``$(expression)`` substitution inside spec values.

Expressions are arithmetic only (numbers, names, + - * / // % **, parentheses,
``min``/``max``, indexing a list); they are evaluated by walking the AST, never
with ``eval``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

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
_FUNCS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "int": int, "round": round}


class ExprError(ValueError):
    pass


def evaluate(text: str, scope: Scope) -> Any:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExprError(f"cannot read the expression '{text}'") from None
    return _eval(tree.body, scope, text)


def _eval(node: ast.expr, scope: Scope, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in scope:
            raise ExprError(f"unknown name '{node.id}'" + _known(scope))
        return scope[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, scope, text), _eval(node.right, scope, text)
        if not (_number(left) and _number(right)):  # no string or list arithmetic: 'a' * 10**9 is a memory bomb
            raise ExprError(f"arithmetic needs numbers in '{text}'")
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ExprError(f"exponent too large in '{text}'")
        try:
            value = _BINOPS[type(node.op)](left, right)
        except (ZeroDivisionError, TypeError) as exc:
            raise ExprError(f"cannot evaluate '{text}': {exc}") from None
        return int(value) if isinstance(value, float) and value.is_integer() and isinstance(node.op, ast.Div) else value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, scope, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Subscript):
        seq, index = _eval(node.value, scope, text), _eval(node.slice, scope, text)
        if not isinstance(seq, list) or not isinstance(index, int) or not -len(seq) <= index < len(seq):
            raise ExprError(f"bad index in '{text}'")
        return seq[index]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
        return _FUNCS[node.func.id](*(_eval(a, scope, text) for a in node.args))
    raise ExprError(f"only arithmetic on numbers and names is allowed in '{text}'")


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _known(scope: Scope) -> str:
    return f" (known: {', '.join(sorted(scope))})" if scope else " (no arguments or vars are defined here)"


def substitute(value: Any, scope: Scope) -> Any:
    """Replace references in a string.  A string that is exactly one reference
    becomes the referenced value itself (so ``$(4*width)`` stays a number)."""
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _REF.fullmatch(value.strip())
    if whole:
        return _lookup(whole, scope)
    return _REF.sub(lambda m: _show(_lookup(m, scope)), value)


def _lookup(m: re.Match[str], scope: Scope) -> Any:
    expr, name = m.group(1), m.group(2)
    if name is not None:
        if name not in scope:
            raise ExprError(f"unknown name '${name}'" + _known(scope))
        return scope[name]
    return evaluate(expr, scope)


def _show(v: object) -> str:
    if v is None:
        return "none"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
