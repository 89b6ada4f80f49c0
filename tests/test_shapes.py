"""The shape pass: real modules, torch's parameter convention, grouped towers, aux heads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cnnviz.errors import ShapeError, SpecError
from cnnviz.graph import build_network
from cnnviz.model import Path as NetPath
from cnnviz.model import Shapes
from cnnviz.shapes import build_model, infer
from cnnviz.spec import load_spec

VALID = Path(__file__).parent / "cases" / "valid"


def test_lenet5_forward_on_a_real_tensor():
    model = build_model("lenet5").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == infer("lenet5").total


def test_user_spec_trains_and_returns_aux_outputs_in_training():
    model = build_model(VALID / "tiny_resnet.yaml")
    model.train()
    out, aux = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and [a.shape for a in aux] == [(2, 10)]
    (out.sum() + aux[0].sum()).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_aux_params_are_counted_separately():
    r = infer(VALID / "tiny_resnet.yaml")
    assert r.aux == 16 * 10 + 10
    model = build_model(VALID / "tiny_resnet.yaml")
    assert r.total + r.aux == sum(p.numel() for p in model.parameters())


def test_batchnorm_statistics_are_buffers_not_params():
    net = build_network(load_spec(VALID / "tiny_resnet.yaml"))
    r = infer(net)
    bn = next(p for p, n in net.nodes.items() if n.type == "bn")
    channels = r.shapes[bn][0]
    assert r.params[bn] == 2 * channels  # weight and bias; running mean/var are buffers


def test_towers_build_as_a_grouped_convolution():
    net = build_network(load_spec(VALID / "tiny_resnet.yaml"))
    model = build_model(net)
    convs = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and "grouped1" in n}
    first, second = convs["grouped1.towers1.conv1"], convs["grouped1.towers1.conv2"]
    assert (first.in_channels, first.out_channels, first.groups) == (32, 32, 1)  # 4 towers of 8 on a shared input
    assert (second.in_channels, second.out_channels, second.groups) == (32, 32, 4)


def test_the_newer_vocabulary_builds_a_trainable_model_with_the_inferred_counts():
    r = infer(VALID / "modern_blocks.yaml")  # its expect: params was counted by hand
    model = build_model(VALID / "modern_blocks.yaml").train()
    assert sum(p.numel() for p in model.parameters()) == r.total == 54_914
    out = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 2, 64, 64)
    (model(torch.randn(2, 3, 64, 64)) ** 2).sum().backward()
    learned = [n for n, p in model.named_parameters() if p.grad is None]
    assert learned == ["custom1.weight"]  # only the custom box's stand-in weight takes no part (it passes its input on)
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_extends_from_a_file_overrides_vars():
    r = infer(VALID / "tiny_resnet_deeper.yaml")
    assert r.total > infer(VALID / "tiny_resnet.yaml").total


SMALLER = "name: Smaller\nextends: {base}\nlayers: [conv 8 3x3 @c1, gap]\nexpect:\n  params: 224\n  output: [8]\n  shapes:\n{drop}"


def test_an_inherited_expectation_is_said_to_be_inherited_and_null_drops_it(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("name: Base\ninput: [3, 8, 8]\nlayers: [conv 8 3x3 @c1, conv 16 3x3 @c2, gap]\nexpect:\n  shapes:\n    c1: [8, 8, 8]\n    c2: [16, 8, 8]\n")
    child = tmp_path / "child.yaml"
    child.write_text(SMALLER.format(base="base.yaml", drop="    c1: [8, 8, 8]\n"))
    with pytest.raises(ShapeError) as info:
        infer(child)
    (problem,) = info.value.problems
    assert (problem.path.endswith("base.yaml"), problem.line) == (True, 7)  # where it was declared
    assert problem.message == "expect: shapes: no layer or block named 'c2' (inherited: the spec extends this file; `c2: null` under `expect: shapes:` drops it)"
    child.write_text(SMALLER.format(base="base.yaml", drop="    c2: null\n"))
    assert infer(child).total == 224  # c1's inherited expectation still holds and is checked
    child.write_text(SMALLER.format(base="base.yaml", drop="    c1: [8, 4, 4]\n    c2: null\n"))
    with pytest.raises(ShapeError, match="c1 is 8×4×4 but the network gives 8×8×8"):
        infer(child)


@pytest.mark.parametrize(
    "type_, params, shape, expected",
    [
        ("conv", {"filters": 8, "kernel": (3, 3), "stride": (2, 2), "padding": "same", "dilation": (1, 1), "groups": 1, "bias": False}, (3, 299, 299), (8, 150, 150)),
        ("conv", {"filters": 8, "kernel": (3, 3), "stride": (2, 2), "padding": "valid", "dilation": (1, 1), "groups": 1, "bias": False}, (3, 299, 299), (8, 149, 149)),
        ("conv", {"filters": 8, "kernel": (1, 7), "stride": (1, 1), "padding": "same", "dilation": (1, 1), "groups": 1, "bias": False}, (3, 17, 17), (8, 17, 17)),
        ("conv", {"filters": 8, "kernel": (3, 3), "stride": (1, 1), "padding": "same", "dilation": (2, 2), "groups": 1, "bias": False}, (3, 9, 9), (8, 9, 9)),
        ("maxpool", {"kernel": (3, 3), "stride": (2, 2), "padding": "valid", "ceil": True}, (3, 112, 112), (3, 56, 56)),
        ("maxpool", {"kernel": (3, 3), "stride": (2, 2), "padding": "valid", "ceil": False}, (3, 112, 112), (3, 55, 55)),
        ("maxpool", {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "ceil": True}, (3, 6, 6), (3, 4, 4)),
        ("maxpool", {"kernel": (3, 3), "stride": (3, 3), "padding": (1, 1), "ceil": True}, (3, 5, 5), (3, 2, 2)),  # not 3: the third window would start in the padding
        ("avgpool", {"kernel": (2, 2), "stride": (3, 3), "padding": (1, 1), "ceil": True, "count_pad": False}, (3, 7, 7), (3, 3, 3)),
        ("avgpool", {"kernel": (5, 5), "stride": (3, 3), "padding": "valid", "ceil": False, "count_pad": True}, (3, 14, 14), (3, 4, 4)),
        ("zeropad", {"padding": (0, 1, 0, 1)}, (3, 4, 4), (3, 5, 5)),
    ],
)
def test_shape_formulas_agree_with_torch(type_, params, shape, expected):
    from cnnviz.rules import out_shape
    from cnnviz.shapes import make_layer

    assert out_shape(type_, params, shape) == expected
    with torch.no_grad():
        assert tuple(make_layer(type_, params, shape)(torch.zeros(1, *shape)).shape[1:]) == expected


# -- the typed model in, the typed measurements out ----------------------------


@pytest.mark.parametrize("form", ["id", "path", "spec", "network"])
def test_infer_takes_an_id_a_path_a_spec_or_a_network(form):
    ref = {"id": "lenet5", "path": Path(__file__).parent.parent / "arch_specs" / "lenet5.yaml"}.get(form)
    if form == "spec":
        ref = load_spec("lenet5")
    elif form == "network":
        ref = build_network(load_spec("lenet5"))
    r = infer(ref)
    assert isinstance(r, Shapes) and (r.total, r.aux) == (61_706, 0)


def test_shapes_are_keyed_by_path_and_cover_every_node():
    net = build_network(load_spec(VALID / "tiny_resnet.yaml"))
    r = infer(net)
    assert set(r.shapes) == set(net.nodes)
    assert all(isinstance(p, NetPath) for p in (*r.shapes, *r.params, *r.blocks))
    assert set(r.blocks) == set(net.blocks)
    assert r.output_of(net) == (10,)
    stage1 = net.find("stage1")
    assert r.shapes[net.item_exit(stage1)] == (16, 32, 32)
    # a block counts everything inside it; a layer's box counts its folded batch norm too
    inside = [p for p, n in net.nodes.items() if stage1 in n.scope]
    assert r.blocks[stage1] == sum(r.params.get(p, 0) for p in inside) > 0
    stem = net.find("stem")
    assert r.item_params(net, stem) == 16 * 3 * 9 + 2 * 16


def test_shapes_cannot_be_changed_by_a_later_stage():
    r = infer("lenet5")
    with pytest.raises(TypeError):
        r.shapes[next(iter(r.shapes))] = (1,)  # type: ignore[index]


def test_the_shape_class_is_the_models():
    import cnnviz.shapes

    assert cnnviz.shapes.Shapes is Shapes


def test_module_names_follow_the_paths():
    net = build_network(load_spec(VALID / "tiny_resnet.yaml"))
    names = {n for n, _ in build_model(net).named_modules()}
    # every node with weights or an operation is a submodule named by its serialised path
    expected = {str(p) for p, n in net.nodes.items() if n.kind == "layer"}
    assert expected <= names
    assert "stage1.1.add1.b1.conv1_relu" in names and "stage1.1.add1.b1.conv1_bn" in names


def write(tmp_path, text: str):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shape_problems_raise_a_shape_error_that_is_a_spec_error(tmp_path):
    path = write(tmp_path, "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3\n  - dense 10\n")
    with pytest.raises(ShapeError) as info:
        infer(path)
    assert isinstance(info.value, SpecError)
    (problem,) = info.value.problems
    assert (problem.path, problem.line, problem.col) == (str(path), 5, 5)
    assert problem.message == "dense1: dense 10: needs a flat input, got [8×8×8]; put flatten or gap before it"
    with pytest.raises(ShapeError):
        build_model(path)  # the same check before building the real module


def test_every_shape_problem_is_reported_at_once(tmp_path):
    # two parallel branches, each broken: both are reported, and so is the layer after them
    # (a broken merge goes on with a best guess: its first branch, channels summed for a concat)
    text = (
        "name: t\ninput: [3, 8, 8]\nlayers:\n  - concat:\n"
        "    - [add: [[conv 4 3x3], identity]]\n    - [concat: [[conv 8 3x3], [conv 8 3x3 /2]]]\n  - dense 10\n"
    )
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, text))
    messages = [p.message for p in info.value.problems]
    assert messages == [
        "concat1.b1.add1: add: the branches give different shapes (4×8×8, 3×8×8)",
        "concat1.b2.concat1: concat: the branches differ in size (8×8×8, 8×4×4); only channels may differ",
        "dense1: dense 10: needs a flat input, got [20×8×8]; put flatten or gap before it",
    ]


AUX = "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 4 3x3\n  - aux: [gap, dense 10]\n  - gap\n  - dense 2\nexpect:\n"


@pytest.mark.parametrize("declared", ["  params: 122\n  params_aux: 50\n", "  params_aux: 50\n"])
def test_declared_aux_params_that_are_right_pass(tmp_path, declared):
    r = infer(write(tmp_path, AUX + declared))
    assert (r.total, r.aux) == ((4 * 3 * 9 + 4) + (4 * 2 + 2), 4 * 10 + 10)


@pytest.mark.parametrize(
    "declared, messages",
    [
        ("  params_aux: 51\n", ["expect: params_aux is 51 but the network has 50 (-1)"]),
        ("  params_aux: 0\n", ["expect: params_aux is 0 but the network has 50 (+50)"]),
        ("  params: 172\n  params_aux: 122\n", ["expect: params is 172 but the network has 122 (-50)", "expect: params_aux is 122 but the network has 50 (-72)"]),
    ],
)
def test_wrong_declared_aux_params_are_reported(tmp_path, declared, messages):
    path = write(tmp_path, AUX + declared)
    with pytest.raises(ShapeError) as info:
        infer(path)
    assert [p.message for p in info.value.problems] == messages
    assert [p.line for p in info.value.problems] == list(range(9, 9 + len(messages)))  # each at its own key

@pytest.mark.parametrize(
    "input_, line, message",
    [
        ("[4, 8, 8]", "conv 3 3x3 groups=2", "conv1: conv 3 3×3 groups=2: 3 filters are not divisible by groups=2"),
        ("[4, 8, 8]", "conv 6 3x3 groups=3", "conv1: conv 6 3×3 groups=3: 4 input channels are not divisible by groups=3"),
        ("[3, 8, 8]", "conv 8 3x3 dilation=5 valid", "conv1: conv 8 3×3: kernel 3×3 (dilated to 11×11) is larger than its input 8×8 (padding 0×0)"),
        ("[3, 8, 8]", "conv 8 3x3 dilation=5x1 padding=1", "conv1: conv 8 3×3: kernel 3×3 (dilated to 11×3) is larger than its input 8×8 (padding 1×1)"),
        ("[3, 8, 8]", "maxpool 3 padding=2", "maxpool1: maxpool 3×3: padding 2×2 is more than half the window 3×3"),
        ("[3, 8, 8]", "avgpool 2 /1 padding=0x2", "avgpool1: avgpool 2×2: padding 0×2 is more than half the window 2×2"),
        ("[3, 2, 8]", "maxpool 3 padding=0", "maxpool1: maxpool 3×3: kernel 3×3 is larger than its input 2×8 (padding 0×0)"),
        ("[8]", "lrn", "lrn1: lrn: needs a [channels, height, width] input, got the flat vector [8]"),
        ("[8]", "zeropad 1", "zeropad1: zeropad: needs a [channels, height, width] input, got the flat vector [8]"),
        ("[8]", "gap", "gap1: gap: needs a [channels, height, width] input, got the flat vector [8]"),
        ("[8]", "sepconv 4 3x3", "sepconv1: sepconv 4 3×3: needs a [channels, height, width] input, got the flat vector [8]"),
        (
            "[3, 16384, 16384]",
            "towers: {count: 32, layers: [conv 65536 1x1]}",
            "towers1.conv1: conv 65536 1×1: its output 2097152×16384×16384 would have 562,949,953,421,312 elements; a tensor may have at most 281,474,976,710,656 (2**48)",
        ),
        (
            "[65536, 16384, 16384]",
            "flatten\n  - dense 65536",
            "dense1: dense 65536: its weight 65536×17592186044416 would have 1,152,921,504,606,846,976 elements; a tensor may have at most 281,474,976,710,656 (2**48)",
        ),
        (
            "[1, 8, 8]",
            "towers: {count: 1024, layers: [conv 65536 4096x4096 padding=2048]}",
            "towers1.conv1: conv 65536 4096×4096: its weight 67108864×1×4096×4096 would have 1,125,899,906,842,624 elements; a tensor may have at most 281,474,976,710,656 (2**48)",
        ),
    ],
)
def test_what_torch_would_refuse_is_a_located_error(tmp_path, input_, line, message):
    path = write(tmp_path, f"name: t\ninput: {input_}\nlayers:\n  - {line}\n")
    with pytest.raises(ShapeError) as info:
        infer(path)
    assert [(p.line, p.message) for p in info.value.problems] == [(4 if "dense" not in line else 5, message)]


TOKENS = "name: t\ninput: [3, 8, 8]\nlayers:\n  - custom: {label: Patches, params: 5, output: [5, 16]}\n"


@pytest.mark.parametrize(
    "after, expected",
    [
        # a custom box's token sequence [tokens, features]: layers that act on each value or
        # normalise the features take it (layernorm as torch's LayerNorm(features): 2 x 16)
        ("  - layernorm\n  - gelu\n  - dropout 0.1\n", (5 + 32, (5, 16))),
        ("  - add: [identity, [gelu]]\n", (5, (5, 16))),
        ("  - custom: {label: Head, params: 3, output: [2, 3, 4, 5]}\n", (8, (2, 3, 4, 5))),
        ("  - flatten\n  - dense 3\n", (5 + 80 * 3 + 3, (3,))),
    ],
)
def test_token_sequences_pass_through_the_layers_that_take_them(tmp_path, after, expected):
    path = write(tmp_path, TOKENS + after)
    r = infer(path)
    assert (r.total, tuple(r.output_of(build_network(load_spec(path))))) == expected


@pytest.mark.parametrize(
    "after, message",
    [
        ("  - conv 8 3x3\n", "conv1: conv 8 3×3: needs a [channels, height, width] input, got [5×16]"),
        ("  - bn\n", "bn1: bn: needs a [channels, height, width] or [features] input, got [5×16] (a custom box's output)"),
        ("  - dense 3\n", "dense1: dense 3: needs a flat input, got [5×16]; put flatten or gap before it"),
    ],
)
def test_token_sequences_are_refused_where_a_layer_needs_channels(tmp_path, after, message):
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, TOKENS + after))
    assert [p.message for p in info.value.problems] == [message]


def test_the_size_limit_is_per_tensor_and_counts_every_element(tmp_path):
    from cnnviz.rules import MAX_ELEMENTS

    assert MAX_ELEMENTS == 2**48
    # the largest input the spec stage accepts passes through a layer that keeps its shape
    assert infer(write(tmp_path, "name: t\ninput: [65536, 16384, 16384]\nlayers:\n  - relu\n")).output_of(build_network(load_spec(tmp_path / "net.yaml"))) == (65536, 16384, 16384)
    # 17 copies of it side by side are too many
    text = "name: t\ninput: [65536, 16384, 16384]\nlayers:\n  - concat: [" + ", ".join(["identity"] * 17) + "]\n"
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, text))
    (problem,) = info.value.problems
    assert problem.message == "concat1: concat: its output 1114112×16384×16384 would have 299,067,162,755,072 elements; a tensor may have at most 281,474,976,710,656 (2**48)"


@pytest.mark.parametrize(
    "towers, message",
    [
        ("{count: 2, layers: [towers: {count: 2, layers: [conv 4 1x1]}]}", "towers inside towers are not supported"),
        ("{count: 2, layers: [lrn]}", "lrn is not supported inside towers (use it after the towers merge)"),
        ("{count: 2, layers: [conv 4 1x1 groups=2]}", "a grouped conv inside towers is not supported: the towers are the groups"),
        ("{count: 2, input: split, layers: [conv 4 1x1]}", "3 input channels cannot be split evenly across 2 towers"),
    ],
)
def test_towers_refuse_what_one_grouped_layer_cannot_be(tmp_path, towers, message):
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, f"name: t\ninput: [3, 8, 8]\nlayers:\n  - towers: {towers}\n"))
    assert [p.message for p in info.value.problems] == [message]


def test_towers_with_a_shared_input_give_every_tower_the_whole_input(tmp_path):
    # a layer other than a conv first in shared towers sees the input once per tower (it used to see it once)
    r = infer(write(tmp_path, "name: t\ninput: [3, 8, 8]\nlayers:\n  - towers: {count: 2, layers: [maxpool 2, conv 8 1x1]}\n"))
    assert r.total == 2 * (3 * 8 + 8)
    net = build_network(load_spec(tmp_path / "net.yaml"))
    assert r.output_of(net) == (16, 4, 4)
    assert r.shapes[net.find("towers1.maxpool1")] == (6, 4, 4)  # both towers' pools, side by side


def test_broken_expectations_raise_a_shape_error(tmp_path):
    text = (
        "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3 bn relu @c1\n  - gap\n  - dense 10\n"
        "expect:\n  params: 100\n  shapes:\n    c1: [8, 4, 4]\n    nope: [1]\n"
    )
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, text))
    assert [p.message for p in info.value.problems] == [
        "expect: params is 100 but the network has 330 (+230)",
        "expect: shapes: c1 is 8×4×4 but the network gives 8×8×8",
        "expect: shapes: no layer or block named 'nope'",
    ]
    assert infer(write(tmp_path, text), check=False).total == 330  # check=False measures without judging


def test_expected_shapes_name_layers_blocks_and_folded_parts(tmp_path):
    text = (
        "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3 /2 bn relu @c1\n  - add: [[conv 8 3x3], identity]\n    name: res\n  - gap\n"
        "expect:\n  output: [8]\n  shapes:\n    c1: [8, 4, 4]\n    c1_relu: [8, 4, 4]\n    res: [8, 4, 4]\n    res.b1.conv1: [8, 4, 4]\n"
    )
    assert infer(write(tmp_path, text)).total == (8 * 3 * 9 + 8) + 2 * 8 + (8 * 8 * 9 + 8)  # convs with bias, one bn


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    type_=st.sampled_from(["conv", "sepconv", "dwconv", "tconv", "maxpool", "avgpool"]),
    channels=st.integers(1, 6),
    filters=st.integers(1, 6),
    groups=st.sampled_from([1, 1, 2, 3]),
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.one_of(st.sampled_from(["same", "valid"]), st.tuples(st.integers(0, 2), st.integers(0, 2))),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    ceil=st.booleans(),
    flag=st.booleans(),
)
# CI found this one: torch pads a transposed conv down to an empty output without refusing it
@hypothesis.example(type_="tconv", channels=1, filters=1, groups=1, size=(1, 1), kernel=(4, 4), stride=(1, 1), padding=(0, 2), dilation=(1, 1), ceil=False, flag=False)
def test_any_layer_the_precheck_lets_through_gets_torchs_shape(type_, channels, filters, groups, size, kernel, stride, padding, dilation, ceil, flag):
    """For random conv and pool settings, the rules and torch agree: a layer the pre-check lets
    through builds and runs on a real tensor, with the output shape of ``out_shape`` and the weights
    of ``weight_shapes``; a layer it refuses, torch refuses too."""
    from cnnviz.rules import out_shape, precheck, weight_shapes
    from cnnviz.shapes import make_layer

    if type_ in ("conv", "sepconv"):
        params = {"filters": filters, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "groups": groups, "bias": flag}
        if type_ == "sepconv":
            del params["groups"]
    elif type_ == "dwconv":
        params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "multiplier": groups, "bias": flag}
    elif type_ == "tconv":  # padding n or [h, w] only; dilation's numbers serve as the output padding
        pad = padding if isinstance(padding, tuple) else (0, 0)
        params = {"filters": filters, "kernel": kernel, "stride": stride, "padding": pad, "output_padding": tuple(d - 1 for d in dilation), "bias": flag}
    else:
        params = {"kernel": kernel, "stride": stride, "padding": padding, "ceil": ceil, "count_pad": flag}
    shape = (channels, *size)
    problem = precheck(type_, params, shape)
    if problem is not None:  # reported as a located error instead; torch refuses it too (in ceil mode it may pool a partial window)
        if not ceil or type_ in ("conv", "sepconv", "dwconv", "tconv"):
            try:
                with torch.no_grad():
                    ran = make_layer(type_, params, shape)(torch.zeros(1, *shape))
            except (RuntimeError, ValueError):
                return
            # torch's CPU kernels sometimes return an empty tensor instead of refusing (a transposed
            # conv padded down to width 0): no output is still no output, which the rules refuse
            assert 0 in ran.shape, f"torch ran it to {tuple(ran.shape)}, the rules said: {problem}"
        return
    module = make_layer(type_, params, shape)
    with torch.no_grad():
        ran = tuple(module(torch.zeros(1, *shape)).shape[1:])
    assert out_shape(type_, params, shape) == ran
    weights = [tuple(p.shape) for name, p in module.named_parameters() if name.endswith("weight")]
    assert weight_shapes(type_, params, shape) == weights


def test_the_shape_rules_need_no_torch():
    # cnnviz.rules (formulas and pre-checks) is torch-free, so a later stage may check shapes without torch
    import json
    import subprocess
    import sys

    probe = "import sys, json\nimport cnnviz.rules\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert not {"torch", "numpy"} & set(json.loads(out.splitlines()[-1]))


def test_null_under_modules_is_a_required_argument_not_a_dropped_one(tmp_path):
    (tmp_path / "base.yaml").write_text("name: Base\ninput: [3, 8, 8]\nmodules:\n  m:\n    args: {w: 4}\n    layers: [conv $w 3x3]\nlayers: [m, gap]\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: Child\nextends: base.yaml\nmodules:\n  m:\n    args: {w: null}\n")
    with pytest.raises(SpecError, match="m: missing argument 'w'"):
        infer(child)
    child.write_text("name: Child\nextends: base.yaml\nmodules:\n  m:\n    args: {w: null}\nlayers: [m 2, gap]\n")
    assert infer(child).total == 2 * 3 * 9 + 2


@pytest.mark.parametrize(
    "child, message",
    [
        ("expect:\n  shapes:\n    c11: null\n", "'c11: null' drops nothing: the spec this one extends gives no 'c11' under expect: shapes: (did you mean 'c1'?)"),
        ("flops: null\n", "'flops: null' drops nothing: the spec this one extends gives no 'flops'"),
    ],
)
def test_a_null_that_drops_nothing_is_an_error(tmp_path, child, message):
    (tmp_path / "base.yaml").write_text("name: Base\ninput: [3, 8, 8]\nlayers: [conv 8 3x3 @c1, gap]\nexpect:\n  shapes:\n    c1: [8, 8, 8]\n")
    (tmp_path / "child.yaml").write_text(f"name: Child\nextends: base.yaml\n{child}")
    with pytest.raises(SpecError) as info:
        infer(tmp_path / "child.yaml")
    assert [p.message for p in info.value.problems] == [message]
