"""``$( )`` arithmetic and ``$name`` substitution, as (expression, scope, expected) tables.

An expected value that is a :class:`Err` is the start of the error message.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cnnviz.spec.expr import ExprError, evaluate, substitute
from cnnviz.spec.limits import MAX_EXPR_CHARS, MAX_EXPR_STEPS, MAX_TEXT, Budget, Limit


@dataclass(frozen=True)
class Err:
    message: str


W = {"w": 64, "d": 4, "odd": 7, "neg": -7, "half": 0.5, "blocks": [3, 4, 6, 3], "nested": [[1, 2], [3]], "s": "abc", "flag": True, "inf": float("inf"), "nan": float("nan"), "none": None}


@pytest.mark.parametrize(
    "expression, scope, expected",
    [
        # exact division gives a whole number; otherwise a fraction
        ("w / 2", W, 32),
        ("w / 3", W, 64 / 3),
        ("odd / 2", W, 3.5),
        ("6 / 4", {}, 1.5),
        ("1.5 / 0.5", {}, 3),
        # // is floor division, % its remainder
        ("odd // 2", W, 3),
        ("neg // 2", W, -4),
        ("neg % 2", W, 1),
        ("7.5 // 2", {}, 3.0),
        ("d * w // 64", W, 4),
        # precedence, unary minus, powers
        ("2 + 3 * 4", {}, 14),
        ("(2 + 3) * 4", {}, 20),
        ("-w", W, -64),
        ("+w", W, 64),
        ("--w", W, 64),
        ("2 ** 10", {}, 1024),
        ("2 ** -1", {}, 0.5),
        ("-2 ** 2", {}, -4),
        ("2 ** 62", {}, 2**62),
        ("1 ** 1000000", {}, 1),
        ("(-1) ** 1000001", {}, -1),
        # lists, functions
        ("blocks[0] - 1", W, 2),
        ("blocks[-1]", W, 3),
        ("nested[0][1]", W, 2),
        ("nested[1]", W, [3]),
        ("min(w, 32)", W, 32),
        ("max(1, 2.5)", {}, 2.5),
        ("min(blocks)", W, 3),
        ("max(blocks)", W, 6),
        ("int(w * half)", W, 32),
        ("int(7.9)", {}, 7),
        ("round(2.5)", {}, 2),
        ("round(2.567, 2)", {}, 2.57),
        ("s", W, "abc"),
        ("flag", W, True),
        ("none", W, None),
        # errors: names, syntax, what is not arithmetic
        ("nope + 1", W, Err("unknown name 'nope'")),
        ("w +", W, Err("cannot read the expression")),
        ("__import__('os')", {}, Err("only arithmetic on numbers and names is allowed")),
        ("w.real", W, Err("only arithmetic")),
        ("'a' * 3", {}, Err("only arithmetic")),
        ("True + 1", {}, Err("only arithmetic")),
        ("1j", {}, Err("only arithmetic")),
        ("blocks[0:2]", W, Err("only arithmetic")),
        ("min(w, key=abs)", W, Err("only arithmetic")),
        ("s * 1000000000", W, Err("arithmetic needs numbers")),
        ("blocks + blocks", W, Err("arithmetic needs numbers")),
        ("flag + 1", W, Err("arithmetic needs numbers")),
        ("-blocks", W, Err("arithmetic needs numbers")),
        ("-s", W, Err("arithmetic needs numbers")),
        ("blocks[4]", W, Err("bad index")),
        ("blocks[flag]", W, Err("bad index")),
        ("w[0]", W, Err("bad index")),
        ("1 / 0", {}, Err("cannot evaluate '1 / 0': division by zero")),
        ("w % 0", W, Err("cannot evaluate")),
        ("0 ** -1", {}, Err("cannot evaluate")),
        # errors: functions given the wrong values
        ("min()", {}, Err("min() needs one or more numbers, or a list of them")),
        ("max([])", {}, Err("only arithmetic")),
        ("min(s)", W, Err("min() needs one or more numbers")),
        ("min(blocks, 2)", W, Err("min() needs one or more numbers")),
        ("int(s)", W, Err("int() needs a number")),
        ("int()", {}, Err("int() needs a number")),
        ("int(1, 2)", {}, Err("int() needs a number")),
        ("round(2.5, 10 ** 9)", {}, Err("round() keeps from -20 to 20 digits")),
        ("round(2.5, half)", W, Err("round() keeps from -20 to 20 digits")),
        # errors: results too large, not finite, not real
        ("2 ** 63", {}, Err("a whole number larger than 2**63 - 1")),
        ("2 ** 1000", {}, Err("a whole number larger than 2**63 - 1")),
        ("(w ** 64) ** 64", W, Err("a whole number larger than 2**63 - 1")),
        ("2 ** 62 * 2", {}, Err("a whole number larger than 2**63 - 1")),
        ("10 ** 18 * 10", {}, Err("a whole number larger than 2**63 - 1")),
        ("99999999999999999999", {}, Err("a whole number larger than 2**63 - 1")),
        ("round(1e300)", {}, Err("a whole number larger than 2**63 - 1")),
        ("int(1e300)", {}, Err("a whole number larger than 2**63 - 1")),
        ("int(1e308 * 10)", {}, Err("the result is not a finite number")),
        ("1e300 ** 2", {}, Err("the result is not a finite number")),
        ("1.5 ** 100000", {}, Err("the result is not a finite number")),
        ("round(nan)", W, Err("the result is not a finite number")),
        ("inf - inf", W, Err("the result is not a finite number")),
        ("(-8) ** 0.5", {}, Err("the result is not a real number")),
        # errors: size of the expression itself
        ("1" + "+1" * 3000, {}, Err(f"expression longer than {MAX_EXPR_CHARS} characters")),
        ("-" * 150 + "1", {}, Err("expression nested more than 32 deep")),
        ("(" * 40 + "1" + ")" * 40, {}, 1),  # parentheses make no nesting of their own
        ("-(" * 40 + "1" + ")" * 40, {}, Err("expression nested more than 32 deep")),
        ("min(big)", {"big": list(range(MAX_EXPR_STEPS + 1))}, Err(f"more than {MAX_EXPR_STEPS} steps")),
    ],
)
def test_evaluate(expression, scope, expected):
    if isinstance(expected, Err):
        with pytest.raises(ExprError) as info:
            evaluate(expression, scope)
        assert str(info.value).startswith(expected.message), str(info.value)
    else:
        got = evaluate(expression, scope)
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "text, scope, expected",
    [
        ("$w", W, 64),  # a whole reference keeps its type
        ("$(w / 2)", W, 32),
        ("$(w / 3)", W, 64 / 3),
        ("$blocks", W, [3, 4, 6, 3]),
        (" $(w) ", W, 64),
        ("conv $w 3x3", W, "conv 64 3x3"),  # inside text: shown as text
        ("conv $(w/2) $(odd/2)", W, "conv 32 3.5"),
        ("dense $(1.0 * w)", W, "dense 64"),
        ("$act", {"act": None}, None),
        ("x $act", {"act": None}, "x none"),
        ("no references", {}, "no references"),
        (12, {}, 12),
        ("$nope", W, Err("unknown name '$nope' (known: blocks, d, flag")),
        ("conv $blocks 3x3", W, "conv [3, 4, 6, 3] 3x3"),  # a list inside a line is written as the line reads it back
        ("conv $(d) 3x3", {"d": {"a": 1}}, Err("'$(d)' is a mapping: it can stand alone as a value, not inside a line of text")),
        ("conv $t 3x3", {"t": ["a b", 1]}, Err("'$t' is a list: it can stand alone as a value, not inside a line of text")),
        ("conv $(nope)", W, Err("unknown name 'nope'")),
        ("$s" * (MAX_TEXT // 2), W, Err(f"longer than {MAX_TEXT} characters once its references are substituted")),
        ("x" * MAX_TEXT + "$w", W, Err(f"longer than {MAX_TEXT} characters")),
    ],
)
def test_substitute(text, scope, expected):
    if isinstance(expected, Err):
        with pytest.raises(ExprError) as info:
            substitute(text, scope)
        assert str(info.value).startswith(expected.message), str(info.value)
    else:
        got = substitute(text, scope)
        assert got == expected and type(got) is type(expected)


def test_a_chain_of_powers_stops_at_the_first_result_too_large():
    # Each var is within the old per-operator exponent cap; together they never ended.
    scope: dict[str, object] = {"w": 9}
    scope["a"] = evaluate("w ** 16", scope)
    with pytest.raises(ExprError, match=r"larger than 2\*\*63 - 1"):
        evaluate("(a ** 64) ** 64", scope)


def test_the_budget_counts_every_substitution_together():
    budget = Budget(1000, "out of budget")
    substitute("$((w + 1) * 3 - 7)", W, budget)
    first = budget.used  # parsing, then evaluating
    substitute("$((w + 1) * 3 - 7)", W, budget)
    again = budget.used - first  # evaluating only: the tree is kept
    assert 0 < again < first
    before = budget.used
    substitute("conv $w $w $w", W, budget)
    assert budget.used - before == 3  # a step a name
    with pytest.raises(Limit, match="out of budget"):
        for _ in range(1000):
            substitute("conv $w $w $w", W, budget)
    assert budget.used > 1000
