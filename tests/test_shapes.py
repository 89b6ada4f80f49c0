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


def test_extends_from_a_file_overrides_vars():
    r = infer(VALID / "tiny_resnet_deeper.yaml")
    assert r.total > infer(VALID / "tiny_resnet.yaml").total


@pytest.mark.parametrize("layer_type", sorted(__import__("cnnviz.spec.layers", fromlist=["LAYERS"]).LAYERS))
def test_every_layer_type_has_a_builder(layer_type):
    from cnnviz.shapes import make_layer
    from cnnviz.spec.layers import LAYERS, REQUIRED

    lt = LAYERS[layer_type]
    sample = {"filters": 4, "kernel": (1, 1), "units": 4, "padding": (1, 1, 1, 1) if layer_type == "zeropad" else "same", "factor": 0.5}
    params = {f.name: (sample[f.name] if f.default is REQUIRED or f.name in ("padding",) else f.default) for f in lt.fields}
    if "stride" in params and params["stride"] is None:
        params["stride"] = params["kernel"]
    shape = (4,) if layer_type == "dense" else (4, 6, 6)
    assert isinstance(make_layer(layer_type, params, shape), nn.Module)


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
        ("avgpool", {"kernel": (5, 5), "stride": (3, 3), "padding": "valid", "ceil": False, "count_pad": True}, (3, 14, 14), (3, 4, 4)),
        ("zeropad", {"padding": (0, 1, 0, 1)}, (3, 4, 4), (3, 5, 5)),
    ],
)
def test_shape_formulas_agree_with_torch(type_, params, shape, expected):
    from cnnviz.shapes import make_layer, out_shape

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
    # two parallel branches, each broken: both are reported (downstream of them nothing more)
    text = (
        "name: t\ninput: [3, 8, 8]\nlayers:\n  - concat:\n"
        "    - [add: [[conv 4 3x3], identity]]\n    - [concat: [[conv 8 3x3], [conv 8 3x3 /2]]]\n  - dense 10\n"
    )
    with pytest.raises(ShapeError) as info:
        infer(write(tmp_path, text))
    messages = [p.message for p in info.value.problems]
    assert messages == ["add: the branches give different shapes (4×8×8, 3×8×8)", "concat: the branches differ in size (8×8×8, 8×4×4); only channels may differ"]


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


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
    type_=st.sampled_from(["conv", "maxpool", "avgpool"]),
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.one_of(st.sampled_from(["same", "valid"]), st.tuples(st.integers(0, 2), st.integers(0, 2))),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    ceil=st.booleans(),
)
def test_any_layer_the_precheck_lets_through_gets_torchs_shape(type_, size, kernel, stride, padding, dilation, ceil):
    from cnnviz.model import Node
    from cnnviz.shapes import _precheck, make_layer, out_shape

    if type_ == "conv":
        params = {"filters": 2, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "groups": 1, "bias": False}
    else:
        params = {"kernel": kernel, "stride": stride, "padding": padding, "ceil": ceil, "count_pad": True}
    shape = (2, *size)
    node = Node(NetPath().child("x"), "layer", type_, (), (), params=params)
    hypothesis.assume(_precheck(node, shape) is None)  # the rest is reported as a located error instead
    with torch.no_grad():
        ran = tuple(make_layer(type_, params, shape)(torch.zeros(1, *shape)).shape[1:])
    assert out_shape(type_, params, shape) == ran
