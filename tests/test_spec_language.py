"""Language details: ``$`` inside lists and mappings, lists on one line, module calls
in mapping form, ``x0``.  The errors are in tests/cases/invalid (one_line_lists,
padding_word, tab_indent, extends_missing, extends_cycle, repeat_bounds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.errors import SpecError
from cnnviz.spec.layers import BadValue
from cnnviz.spec.loader import load_text
from cnnviz.spec.model import Call, Layer
from cnnviz.spec.parse import _build
from cnnviz.spec.words import BadLine, short_value, split_line


def parse(text: str):
    return _build(load_text(text, "t.yaml"), Path("t.yaml"))


def first_layer(line: str, head: str = "vars: {h: 2, w: 3, p: [1, 2], n: 0}\n"):
    spec = parse(f"name: t\ninput: [3, 16, 16]\n{head}layers:\n  - {line}\n")
    item = spec.body[0]
    assert isinstance(item, Layer)
    return item


@pytest.mark.parametrize(
    "line, key, value",
    [
        # $ inside a list, in mapping form and on one line
        ("conv: {filters: 8, kernel: 3, padding: [$h, $w]}", "padding", (2, 3)),
        ("conv 8 3x3 padding=[$h, $w]", "padding", (2, 3)),
        ("conv 8 3x3 padding=[$h,$(w+1)]", "padding", (2, 4)),
        ("zeropad: [0, $h, $w, 1]", "padding", (0, 2, 3, 1)),
        ("conv: {filters: 8, kernel: [1, $w]}", "kernel", (1, 3)),
        # a whole list from a var
        ("conv: {filters: 8, kernel: 3, padding: $p}", "padding", (1, 2)),
        # lists on one line, with or without spaces
        ("conv 8 3x3 padding=[0,3]", "padding", (0, 3)),
        ("conv 8 1x7 padding=[0, 3]", "padding", (0, 3)),
        ("conv 8 [1, 7]", "kernel", (1, 7)),
        ("zeropad [0, 1, 0, 1]", "padding", (0, 1, 0, 1)),
        # a list var inside a line reads back as the list
        ("conv 8 3x3 padding=$p", "padding", (1, 2)),
        ("zeropad $p", "padding", (1, 1, 2, 2)),
        ("conv 8 [$w, $h]", "kernel", (3, 2)),
        ("upsample size=[$h, $w]", "size", (2, 3)),
        ("upsample: {size: [$(h*4), $w], mode: bilinear}", "size", (8, 3)),
    ],
)
def test_values_with_lists_and_references(line, key, value):
    assert first_layer(line).params[key] == value


@pytest.mark.parametrize(
    "text, words",
    [
        ("conv 64 3x3", ["conv", "64", "3x3"]),
        ("  conv   64  ", ["conv", "64"]),
        ("conv 8 padding=[0, 3] x2", ["conv", "8", "padding=[0, 3]", "x2"]),
        ("m sizes=[[1, 2], [3, 4]] @a", ["m", "sizes=[[1, 2], [3, 4]]", "@a"]),
    ],
)
def test_a_line_is_cut_into_words_outside_brackets(text, words):
    assert split_line(text) == words


@pytest.mark.parametrize("text", ["conv padding=[0, 3", "conv padding=0, 3]"])
def test_unbalanced_brackets_are_refused(text):
    with pytest.raises(BadLine):
        split_line(text)


@pytest.mark.parametrize(
    "token, value",
    [("[]", []), ("[1,2]", [1, 2]), ("[1, [2, 3]]", [1, [2, 3]]), ("[same, 1.5, true]", ["same", 1.5, True]), ("7", 7), ("x", "x")],
)
def test_short_values(token, value):
    assert short_value(token) == value


@pytest.mark.parametrize("token", ["[1,,2]", "[[[[[1]]]]]"])
def test_bad_short_values(token):
    with pytest.raises(BadValue):
        short_value(token)


# -- module calls in mapping form: the way to pass a list, or a value with spaces ------------------

MODULE = """\
name: t
input: [3, 16, 16]
vars: {k: 5}
modules:
  pad_conv:
    args: {width: null, pad: [0, 0]}
    layers:
      - conv: {filters: $width, kernel: 3, padding: $pad}
layers:
  - pad_conv: {width: 8, pad: [1, $k]}
  - pad_conv: {width: 4}
    name: second
  - pad_conv width=4 pad=[2,2]
"""


def test_a_module_arguments_default_may_use_the_specs_vars():
    text = "name: t\ninput: [3, 16, 16]\nvars: {base: 8}\nmodules:\n  m:\n    args: {w: $base, pad: [0, $base]}\n    layers: [conv $w 3x3, zeropad $pad]\nlayers: [m, m w=4]\n"
    calls = parse(text).body
    assert [dict(c.args) for c in calls if isinstance(c, Call)] == [{"w": 8, "pad": [0, 8]}, {"w": 4, "pad": [0, 8]}]


def test_a_list_that_cannot_be_written_on_a_line_is_refused_there():
    with pytest.raises(SpecError, match="'\\$p' is a list: it can stand alone as a value, not inside a line of text"):
        first_layer("conv 8 3x3 padding=$p", head='vars: {p: ["a b", 1]}\n')


def test_a_module_call_in_mapping_form_takes_a_list():
    spec = parse(MODULE)
    calls = spec.body
    assert all(isinstance(c, Call) for c in calls)
    assert [dict(c.args) for c in calls if isinstance(c, Call)] == [{"width": 8, "pad": [1, 5]}, {"width": 4, "pad": [0, 0]}, {"width": 4, "pad": [2, 2]}]
    convs = [c.body[0] for c in calls if isinstance(c, Call)]
    assert [c.params["padding"] for c in convs if isinstance(c, Layer)] == [(1, 5), (0, 0), (2, 2)]
    assert calls[1].name == "second"


# -- x0: the item's words are checked, then it is left out ------------------------------------------


@pytest.mark.parametrize(
    "layers, kept",
    [
        (["conv 8 3x3", "relu x0", "gap"], ["conv", "gap"]),
        (["conv 8 3x3 x$n", "gap"], ["gap"]),
        (["conv: {filters: 8, kernel: 3}\n    repeat: $n", "gap"], ["gap"]),
        (["add: [conv 3 3x3, identity]\n    repeat: 0", "gap"], ["gap"]),
        (["relu x1", "gap"], ["relu", "gap"]),
    ],
)
def test_zero_repeats_leave_the_item_out(layers, kept):
    body = "".join(f"  - {line}\n" for line in layers)
    spec = parse(f"name: t\ninput: [3, 8, 8]\nvars: {{n: 0}}\nlayers:\n{body}")
    assert [getattr(i, "type", type(i).__name__) for i in spec.body] == kept


def test_a_module_block_switched_off_by_an_argument():
    text = "name: t\ninput: [3, 8, 8]\nmodules:\n  m:\n    args: {extra: 1}\n    layers: [conv 3 3x3, relu x$extra]\nlayers:\n  - m extra=0\n"
    (call,) = parse(text).body
    assert isinstance(call, Call) and [getattr(i, "type", "") for i in call.body] == ["conv"]


SE_MODULE = "modules:\n  se:\n    args: [width, squeeze]\n    layers:\n      - mul: [identity, [gap keep, conv $squeeze 1x1, conv $width 1x1 act=sigmoid]]\n"


@pytest.mark.parametrize(
    "line",
    [
        "conv $n 3x3 x$(min(n, 1))",  # a width of 0 is what switches it off: its values are not read
        "conv: {filters: 0, kernel: 3}\n    repeat: 0",
        "se 8 $n x$(min(n, 1))",  # nor a module call's, nor what the module contains
        "se: {width: 8, squeeze: 0}\n    repeat: $n",
        "add: [conv 0 3x3, identity]\n    repeat: 0",
    ],
)
def test_a_left_out_items_values_are_not_read(line):
    spec = parse(f"name: t\ninput: [3, 8, 8]\nvars: {{n: 0}}\n{SE_MODULE}layers:\n  - {line}\n  - gap\n")
    assert [getattr(i, "type", "") for i in spec.body] == ["gap"]


@pytest.mark.parametrize(
    "line, message",
    [  # a misspelt word in a left-out line is still reported
        ("conv 8 3x3 bogus=1 x0", "conv: unknown setting 'bogus'"),
        ("conv: {filters: 8, kernle: 3}\n    repeat: 0", "conv: unknown setting 'kernle' (did you mean 'kernel'?)"),
        ("se 8 4 sqeeze=2 x0", "se: unknown argument 'sqeeze' (did you mean 'squeeze'?)"),
        ("cnov 8 3x3 x0", "unknown layer type or module 'cnov' (did you mean 'conv'?)"),
    ],
)
def test_a_left_out_items_words_are_still_checked(line, message):
    with pytest.raises(SpecError) as info:
        parse(f"name: t\ninput: [3, 8, 8]\n{SE_MODULE}layers:\n  - {line}\n  - gap\n")
    (problem,) = info.value.problems
    assert problem.message.startswith(message), problem.message


def test_from_is_not_a_module_name():
    with pytest.raises(SpecError, match="modules: 'from' starts a reference"):
        parse("name: t\ninput: [3, 8, 8]\nmodules:\n  from: {layers: [relu]}\nlayers: [gap]\n")


def test_a_long_list_written_into_lines_costs_substitution_work():
    # 1,000 items shown at each of 300 calls: refused by the spec's substitution budget, not written out
    big = "[" + ", ".join(["1"] * 1000) + "]"
    calls = ", ".join(["m"] * 300)
    text = f"name: t\ninput: [3, 8, 8]\nvars: {{big: {big}}}\nmodules:\n  m: {{layers: ['conv 8 3x3 padding=$big']}}\nlayers: [{calls}]\n"
    with pytest.raises(SpecError, match="takes more than 250,000 steps"):
        parse(text)
