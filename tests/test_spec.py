"""The short form of a layer line, as (line, expected settings) tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz.errors import SpecError
from cnnviz.spec import Call, Layer
from cnnviz.spec.loader import load_text
from cnnviz.spec.parse import _build


def parse(text: str):
    return _build(load_text(text, "t.yaml"), Path("t.yaml"))


def one_layer(line: str) -> Layer:
    spec = parse(f"name: t\ninput: [3, 32, 32]\nlayers:\n  - {line}\n")
    (item,) = spec.body
    return item


@pytest.mark.parametrize(
    "line, expected",
    [
        ("conv 64 3x3", {"filters": 64, "kernel": (3, 3), "stride": (1, 1), "padding": "same", "bias": True}),
        ("conv 64 7x7 /2", {"kernel": (7, 7), "stride": (2, 2)}),
        ("conv 192 1x7", {"kernel": (1, 7)}),
        ("conv 8 3 valid nobias", {"kernel": (3, 3), "padding": "valid", "bias": False}),
        ("conv 8 3x3 bn relu", {"bn": True, "act": "relu"}),
        ("conv 8 3x3 groups=2 dilation=2 padding=2", {"groups": 2, "dilation": (2, 2), "padding": (2, 2)}),
        ("maxpool 3x3 /2", {"kernel": (3, 3), "stride": (2, 2), "padding": "valid", "ceil": False}),
        ("maxpool 2", {"kernel": (2, 2), "stride": (2, 2)}),
        ("avgpool 3x3 /1 same count_pad=false", {"stride": (1, 1), "padding": "same", "count_pad": False}),
        ("maxpool 3 /2 ceil", {"ceil": True}),
        ("lrn 5 alpha=1e-4 k=2", {"size": 5, "alpha": 1e-4, "k": 2.0}),
        ("dense 1000 softmax", {"units": 1000, "act": "softmax"}),
        ("dropout 0.4", {"p": 0.4}),
        ("zeropad 1", {"padding": (1, 1, 1, 1)}),
        ("zeropad: [0, 1, 0, 1]", {"padding": (0, 1, 0, 1)}),
        ("scale 0.17", {"factor": 0.17}),
        ("sepconv 128 3x3", {"filters": 128, "bias": False}),
    ],
)
def test_short_form(line, expected):
    layer = one_layer(line)
    assert {k: layer.params[k] for k in expected} == expected


@pytest.mark.parametrize(
    "line, name, repeat",
    [("conv 8 3x3 @c1", "c1", 1), ("conv 8 3x3 x3", "conv1", 3), ("conv 8 3x3 ×2 @c", "c", 2), ("relu", "relu1", 1)],
)
def test_names_and_repeats(line, name, repeat):
    layer = one_layer(line)
    assert (layer.name, layer.repeat) == (name, repeat)


MODULE = """
name: t
input: [3, 32, 32]
vars: {d: 4}
modules:
  m:
    args: {filters: null, kernel: 3, stride: 1, out: null}
    vars: {w: $(d * filters), half: $(w // 2)}
    layers: [conv $w $kernel /$stride, conv $out 1x1, conv $half 1x1]
layers:
  - {line}
"""


@pytest.mark.parametrize(
    "line, args",
    [
        ("m 8 5 /2 16", {"filters": 8, "kernel": 5, "stride": 2, "out": 16}),
        ("m /2 8 5 16", {"filters": 8, "kernel": 5, "stride": 2, "out": 16}),
        ("m out=16 8", {"filters": 8, "out": 16, "kernel": 3, "stride": 1}),
    ],
)
def test_module_arguments_fill_the_free_slots_in_order(line, args):
    (call,) = parse(MODULE.replace("{line}", line)).body
    assert isinstance(call, Call) and call.args == args
    assert [c.params["filters"] for c in call.body] == [4 * args["filters"], args["out"], 2 * args["filters"]]


def test_none_switches_an_optional_layer_off():
    spec = parse("name: t\ninput: [3, 8, 8]\nmodules:\n  m:\n    args: {act: relu}\n    layers: [conv 8 1x1, $act]\nlayers: [m, m act=none]\n")
    assert [len(c.body) for c in spec.body] == [2, 1]


def test_positional_arguments_do_not_skip_defaults():
    # two positionals fill filters then kernel (in declaration order); out is then missing
    with pytest.raises(SpecError, match="missing argument 'out'"):
        parse(MODULE.replace("{line}", "m 8 16"))


@pytest.mark.parametrize(
    "expr, message",
    [
        ("$(s * 1000000000)", "arithmetic needs numbers"),
        ("$(2 ** 1000)", "exponent too large"),
        ("$(__import__('os'))", "only arithmetic on numbers and names"),
        ("$(nope + 1)", "unknown name 'nope'"),
        ("$(1 / 0)", "cannot evaluate"),
    ],
)
def test_expressions_are_arithmetic_only(expr, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        parse(f"name: t\ninput: [3, 8, 8]\nvars: {{s: abc}}\nlayers:\n  - conv {expr} 3x3\n")
