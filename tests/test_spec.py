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
        ("$(2 ** 1000)", "a whole number larger than 2**63 - 1"),
        ("$(__import__('os'))", "only arithmetic on numbers and names"),
        ("$(nope + 1)", "unknown name 'nope'"),
        ("$(1 / 0)", "cannot evaluate"),
    ],
)
def test_expressions_are_arithmetic_only(expr, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        parse(f"name: t\ninput: [3, 8, 8]\nvars: {{s: abc}}\nlayers:\n  - conv {expr} 3x3\n")


@pytest.mark.parametrize(
    "expect, facts",
    [
        ("{params: 584, params_aux: 120}", {"params": 584, "params_aux": 120}),
        ("{params_aux: 0}", {"params_aux": 0}),
        ("{output: [8], shapes: {c: [8, 8, 8]}}", {"output": (8,), "shapes": {"c": (8, 8, 8)}}),
    ],
)
def test_expect_is_parsed(expect, facts):
    spec = parse(f"name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3x3 @c, gap]\nexpect: {expect}\n")
    assert spec.expect == facts


@pytest.mark.parametrize(
    "expect, message",
    [
        ("{params_aux: -1}", "expect: params_aux: expected a whole number, got -1"),
        ("{params_aux: 1.5}", "expect: params_aux: expected a whole number, got 1.5"),
        ("{params_aux: many}", "expect: params_aux: expected a whole number, got 'many'"),
        ("{params_aux: true}", "expect: params_aux: expected a whole number, got True"),
        ("{param: 5}", "expect: unknown key 'param' (did you mean 'params'?)"),
        ("{paramsaux: 5}", "expect: unknown key 'paramsaux' (did you mean 'params_aux'?)"),
        ("{shape: {c: [8]}}", "expect: unknown key 'shape' (did you mean 'shapes'?)"),
    ],
)
def test_expect_problems(expect, message):
    with pytest.raises(SpecError) as info:
        parse(f"name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3x3 @c, gap]\nexpect: {expect}\n")
    assert [p.message for p in info.value.problems] == [message]


@pytest.mark.parametrize(
    "definition, message",
    [
        ("{lable: x, layers: [relu]}", "modules: m: unknown key 'lable' (did you mean 'label'?)"),
        ("{layers: [relu], arg: [w]}", "modules: m: unknown key 'arg' (did you mean 'args'?)"),
        ("{layers: [relu], var: {a: 1}}", "modules: m: unknown key 'var' (did you mean 'vars'?)"),
        ("{layers: [relu], repeat: 2}", "modules: m: unknown key 'repeat'"),
        ("{layer: [relu]}", "modules: m: unknown key 'layer' (did you mean 'layers'?)"),
    ],
)
def test_unknown_keys_in_a_module_definition(definition, message):
    with pytest.raises(SpecError) as info:
        parse(f"name: t\ninput: [3, 8, 8]\nmodules:\n  m: {definition}\nlayers: [gap]\n")
    assert message in [p.message for p in info.value.problems]


# -- repeats: a count is a whole number, 0 or more (0 leaves the item out); the network budget alone limits it ---

BLOCK = "name: t\ninput: [3, 8, 8]\nmodules:\n  m: {layers: [relu, relu, relu, relu, relu, relu, relu, relu, relu]}\nlayers: [LINE]\n"


@pytest.mark.parametrize("line, repeat", [("relu x1", 1), ("relu x1024", 1024), ("relu x1025", 1025), ("relu x50000", 50_000), ("relu ×7", 7), ("relu *3", 3)])
def test_repeat_counts(line, repeat):
    assert one_layer(line).repeat == repeat


@pytest.mark.parametrize(
    "line, message",
    [
        ("{relu: null, repeat: -3}", "repeat must be a whole number, 0 or more, got -3"),
        ("{relu: null, repeat: 2.0}", "repeat must be a whole number, 0 or more, got 2.0"),
        ("{relu: null, repeat: x3}", "repeat must be a whole number, 0 or more, got 'x3'"),
        ("conv 8 3x3 x0 bogus=1", "conv: unknown setting 'bogus' (conv has: filters, kernel, stride, padding, dilation, groups, bias, bn, eps, act)"),
        ("relu x50001", "the network unrolls to more than 50,000 items (layers, module calls, branches, each copy counted); check repeat counts"),
        ("relu x99999999999999999999", "repeat: whole number too large (the limit is 2**63 - 1)"),
    ],
)
def test_repeat_problems(line, message):
    with pytest.raises(SpecError) as info:
        one_layer(line)
    assert [p.message for p in info.value.problems] == [message]


@pytest.mark.parametrize("calls, ok", [(5000, True), (5001, False)])
def test_a_repeat_and_its_copies_written_out_meet_the_same_limit(calls, ok):
    # each call of m is 10 items (the call and its 9 layers); the list adds nothing
    for line in (f"m x{calls}", ", ".join(["m"] * calls)):
        text = BLOCK.replace("LINE", line)
        if ok:
            parse(text)
        else:
            with pytest.raises(SpecError, match="the network unrolls to more than 50,000 items"):
                parse(text)


def test_the_limits_are_documented():
    from cnnviz.spec import limits

    doc = (Path(__file__).resolve().parent.parent / "docs" / "spec-format.md").read_text(encoding="utf-8")
    section = doc.split("## Limits", 1)[1].split("\n## ", 1)[0]
    names = [n for n in vars(limits) if n.startswith("MAX_") and n != "MAX_INT_BITS"]
    assert len(names) >= 17
    for name in names:
        value = getattr(limits, name)
        assert f"{value:,}" in section or str(value) in section, f"{name} = {value} is not in docs/spec-format.md, Limits"
    assert f"`2**{limits.MAX_INT_BITS}`" in section


def test_unknown_keys_under_paper():
    with pytest.raises(SpecError) as info:
        parse("name: t\ninput: [3, 8, 8]\nlayers: [gap]\npaper: {title: T, autors: [A]}\n")
    assert [str(p) for p in info.value.problems] == ["t.yaml:4:19: paper: unknown key 'autors' (did you mean 'authors'?)"]


@pytest.mark.parametrize("line", ["avgpool", "maxpool /2", "maxpool: {stride: 2}"])
def test_a_pool_without_its_window_is_one_error(line):
    # found by tests/test_fuzz.py: the default stride (the window) was looked up anyway, a KeyError
    with pytest.raises(SpecError) as info:
        one_layer(line)
    assert [p.message for p in info.value.problems] == [f"{line.split()[0].rstrip(':')}: missing 'kernel' (window size)"]


def test_every_problem_at_once_across_the_stages_of_reading():
    with pytest.raises(SpecError) as info:
        parse("name: t\ninput: [3, 8, 8]\nlayres: 1\nvars: {w: $(1/0)}\nlayers: [convv 8 3x3]\nexpect: {parms: 1}\n")
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:3:1: unknown key 'layres' (did you mean 'layers'?)",
        "t.yaml:4:11: vars: w: cannot evaluate '1/0': division by zero",
        "t.yaml:5:10: unknown layer type or module 'convv' (did you mean 'conv'?)",
        "t.yaml:6:10: expect: unknown key 'parms' (did you mean 'params'?)",
    ]


@pytest.mark.parametrize("missing", ["name", "input", "layers"])
def test_each_required_key_missing_is_reported(missing):
    full = {"name": "name: t", "input": "input: [3, 8, 8]", "layers": "layers: [relu]"}
    text = "\n".join(line for key, line in full.items() if key != missing) + "\n"
    with pytest.raises(SpecError) as err:
        parse(text)
    assert [p.message.split(" (")[0] for p in err.value.problems] == [f"missing '{missing}'"]


@pytest.mark.parametrize(
    "files, says",
    [
        ({"a.yaml": "extends: a.yaml\n"}, "extends: 'a.yaml' extends this spec again (a cycle)"),
        ({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: ./a.yaml\n"}, "extends: './a.yaml' extends this spec again (a cycle)"),
    ],
    ids=["itself", "through-another"],
)
def test_an_extends_cycle_is_refused(tmp_path, files, says):
    from cnnviz.spec import load_spec

    for name, text in files.items():
        (tmp_path / name).write_text(text + "name: t\ninput: [3, 8, 8]\nlayers: [relu]\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path / "a.yaml")
    assert [p.message for p in err.value.problems] == [says]
