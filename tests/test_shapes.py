"""The shape pass: real modules, torch's parameter convention, grouped towers, aux heads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cnnviz.graph import build_graph
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
    g = build_graph(load_spec(VALID / "tiny_resnet.yaml"))
    r = infer(g)
    bn = next(n for n, d in g.nodes(data=True) if d.get("type") == "bn")
    channels = r.shapes[bn][0]
    assert r.params[bn] == 2 * channels  # weight and bias; running mean/var are buffers


def test_towers_build_as_a_grouped_convolution():
    g = build_graph(load_spec(VALID / "tiny_resnet.yaml"))
    model = build_model(g)
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
