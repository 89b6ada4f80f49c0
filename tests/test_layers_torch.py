"""Every layer type and every option, against plain torch modules built by hand.

Each row is a spec line, its input shape, and the torch modules that line
means, written out by hand here (one per node: the layer, then the batch norm
and activation written on it).  For each row the test

* runs the hand-built modules forward on a real CPU tensor, and checks that
  ``cnnviz.shapes.infer`` gives every node the same output shape and the same
  parameter count (summing ``p.numel()`` of the hand-built modules);
* checks that ``build_model`` builds modules with the same settings (eps,
  ceil_mode, count_include_pad, groups, bias, dilation, LRN alpha/beta/k…) and
  the same parameter shapes, then loads the hand-built modules' weights into it
  and checks it computes the same numbers.

Towers are checked the same way against N separate towers built by hand, each
reading the whole input (shared) or its own slice (split), concatenated.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnviz.errors import ShapeError
from cnnviz.graph import build_network
from cnnviz.model import Network
from cnnviz.shapes import Custom, DropPath, LayerScale, Scale, Tile, build_model, infer
from cnnviz.spec import load_spec
from cnnviz.spec.layers import LAYERS


class ChannelNorm(nn.Module):
    """The hand-built stand-in for ``layernorm`` on an image: each position's channels
    normalised to mean 0 and variance 1 (computed here, not by LayerNorm), then scaled
    and shifted by the parameters of ``norm``."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, unbiased=False, keepdim=True)
        w, b = self.norm.weight.view(1, -1, 1, 1), self.norm.bias.view(1, -1, 1, 1)
        return (x - mean) / torch.sqrt(var + self.norm.eps) * w + b


class Gamma(nn.Module):
    """The hand-built stand-in for ``layerscale``: a parameter per channel, broadcast over the positions."""

    def __init__(self, channels: int, init: float = 1e-6):
        super().__init__()
        self.init = init
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.gamma[:, None, None] if x.dim() == 4 else self.gamma)


class Mul(nn.Module):
    """The hand-built stand-in for ``scale``: torch has no such layer."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class Shuffle(nn.Module):
    """The hand-built stand-in for ``shuffle``: channels read as a groups × (C/groups) table, transposed."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.reshape(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class NoDrop(nn.Identity):
    """The hand-built stand-in for ``droppath`` in evaluation: nothing is dropped."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p


class Opaque(nn.Module):
    """The hand-built stand-in for ``custom``: ``params`` numbers, and the declared output
    (the input when the shape stays, zeros otherwise)."""

    def __init__(self, label: str, params: int, output: tuple[int, ...]):
        super().__init__()
        self.label, self.output = label, output
        if params:
            self.weight = nn.Parameter(torch.zeros(params))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if tuple(x.shape[1:]) == self.output else torch.zeros(x.shape[0], *self.output)


def same_setup(built: nn.Module, stage: nn.Module) -> bool:
    """Whether a built module has the settings of the hand-built one (a stand-in where torch has no such layer)."""
    if isinstance(stage, Mul):
        return isinstance(built, Scale) and built.factor == stage.factor
    if isinstance(stage, Gamma):
        return isinstance(built, LayerScale) and built.gamma.shape == stage.gamma.shape and bool((built.gamma == stage.init).all())
    if isinstance(stage, Shuffle):
        return isinstance(built, nn.ChannelShuffle) and built.groups == stage.groups
    if isinstance(stage, Opaque):
        return isinstance(built, Custom) and (built.label, built.output) == (stage.label, stage.output)
    if isinstance(stage, NoDrop):
        return isinstance(built, DropPath) and built.p == stage.p
    return settings(built) == settings(stage)


def network(tmp_path: Path, input_shape: tuple[int, ...], item: str) -> Network:
    path = tmp_path / "net.yaml"
    path.write_text(f"name: t\ninput: {list(input_shape)}\nlayers:\n  - {item}\n", encoding="utf-8")
    return build_network(load_spec(path))


C2, C, F = nn.Conv2d, nn.BatchNorm2d, nn.Flatten

# (spec line, input shape, the modules it means, one per node); lambdas so that every run gets fresh modules
LINES: list[tuple[str, tuple[int, ...], object]] = [
    # conv: kernel, stride, padding (same for any stride, valid, n, [h, w]), dilation, groups, bias, bn, eps, act
    ("conv 8 3x3", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1)]),
    ("conv 8 3", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1)]),
    ("conv 8 3x3 valid", (3, 9, 9), lambda: [C2(3, 8, 3)]),
    ("conv 8 3x3 same /2", (3, 10, 10), lambda: [C2(3, 8, 3, 2, 1)]),
    ("conv 8 3x3 /2 valid", (3, 10, 10), lambda: [C2(3, 8, 3, 2)]),
    ("conv 8 4x4 /2", (3, 10, 10), lambda: [C2(3, 8, 4, 2, 1)]),  # same pads (k-1)//2 each side, as torchvision
    ("conv 8 5x5 stride=1x2", (3, 11, 11), lambda: [C2(3, 8, 5, (1, 2), 2)]),
    ("conv 8 1x7", (3, 17, 17), lambda: [C2(3, 8, (1, 7), padding=(0, 3))]),
    ("conv 8 7x1 valid", (3, 17, 17), lambda: [C2(3, 8, (7, 1))]),
    ("conv: {filters: 8, kernel: 1x7, padding: [0, 3]}", (3, 17, 17), lambda: [C2(3, 8, (1, 7), padding=(0, 3))]),
    ("conv 8 3x3 padding=2", (3, 9, 9), lambda: [C2(3, 8, 3, padding=2)]),
    ("conv 8 3x3 padding=1x0 /2", (3, 9, 9), lambda: [C2(3, 8, 3, 2, (1, 0))]),
    ("conv 8 3x3 dilation=2", (3, 9, 9), lambda: [C2(3, 8, 3, padding=2, dilation=2)]),
    ("conv 8 3x3 dilation=2 valid", (3, 9, 9), lambda: [C2(3, 8, 3, dilation=2)]),
    ("conv 8 3x3 dilation=1x3", (3, 9, 9), lambda: [C2(3, 8, 3, padding=(1, 3), dilation=(1, 3))]),
    ("conv 8 3x3 dilation=3 padding=1", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1, dilation=3)]),
    ("conv 8 3x3 groups=2", (4, 8, 8), lambda: [C2(4, 8, 3, padding=1, groups=2)]),
    ("conv 6 3x3 groups=3 nobias", (6, 8, 8), lambda: [C2(6, 6, 3, padding=1, groups=3, bias=False)]),
    ("conv 8 1x1 groups=4 /2", (4, 8, 8), lambda: [C2(4, 8, 1, 2, groups=4)]),
    ("conv 8 3x3 nobias", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1, bias=False)]),
    ("conv 8 3x3 bias=false", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1, bias=False)]),
    ("conv 8 3x3 eps=0.1", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1)]),  # eps means nothing without bn
    ("conv 8 3x3 bn", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), C(8)]),
    ("conv 8 3x3 bn eps=0.001 nobias", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1, bias=False), C(8, eps=0.001)]),
    ("conv 8 3x3 bn relu", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), C(8), nn.ReLU()]),
    ("conv 8 3x3 relu", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), nn.ReLU()]),
    ("conv 8 3x3 tanh", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), nn.Tanh()]),
    ("conv 8 3x3 act=sigmoid bn eps=0.5", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), C(8, eps=0.5), nn.Sigmoid()]),
    ("conv 8 3x3 act=none", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1)]),
    ("conv 8 3x3 relu6", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), nn.ReLU6()]),
    ("conv 8 3x3 bn silu", (3, 9, 9), lambda: [C2(3, 8, 3, padding=1), C(8), nn.SiLU()]),
    ("conv 8 1x1 gelu", (3, 5, 5), lambda: [C2(3, 8, 1), nn.GELU()]),
    ("conv 8 3x3 /2 bn hardswish", (3, 9, 9), lambda: [C2(3, 8, 3, 2, 1), C(8), nn.Hardswish()]),
    ("conv 8 1x1 hardsigmoid", (3, 5, 5), lambda: [C2(3, 8, 1), nn.Hardsigmoid()]),
    ("conv 8 1x1 act=hardswish", (3, 5, 5), lambda: [C2(3, 8, 1), nn.Hardswish()]),
    ("conv 8 3x3 valid sigmoid", (3, 9, 9), lambda: [C2(3, 8, 3), nn.Sigmoid()]),
    ("conv 16 11x11 /4 valid relu", (3, 67, 67), lambda: [C2(3, 16, 11, 4), nn.ReLU()]),
    ("conv 8 1x1", (3, 1, 1), lambda: [C2(3, 8, 1)]),
    ("conv 8 3x3 valid", (3, 3, 3), lambda: [C2(3, 8, 3)]),  # a kernel exactly the input's size
    # sepconv: depthwise kxk (no bias), then pointwise 1x1 with the layer's bias (default off)
    ("sepconv 16 3x3", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    ("sepconv 16 3x3 bias=true", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1))]),
    ("sepconv 16 3x3 nobias", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    ("sepconv 16 3x3 /2 valid", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, 2, groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    ("sepconv 16 3x3 same tanh", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), nn.Tanh()]),
    ("sepconv 16 3x3 bias=true sigmoid", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1)), nn.Sigmoid()]),
    ("sepconv 16 3x3 /2", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, 2, 1, groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    ("sepconv 16 5x5 dilation=2", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 5, padding=4, dilation=2, groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    ("sepconv: {filters: 16, kernel: 3, padding: [0, 2]}", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=(0, 2), groups=8, bias=False), C2(8, 16, 1, bias=False))]),
    (
        "sepconv 16 3x3 bn relu eps=0.001",
        (8, 9, 9),
        lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), C(16, eps=0.001), nn.ReLU()],
    ),
    ("sepconv 16 3x3 bn relu6", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), C(16), nn.ReLU6()]),
    ("sepconv 16 3x3 silu", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), nn.SiLU()]),
    ("sepconv 16 3x3 gelu", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), nn.GELU()]),
    ("sepconv 16 3x3 hardswish", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), nn.Hardswish()]),
    ("sepconv 16 3x3 hardsigmoid", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C2(8, 16, 1, bias=False)), nn.Hardsigmoid()]),
    # sepconv with a batch norm and/or an activation between its parts
    (
        "sepconv 16 3x3 mid_bn=true mid_act=relu",
        (8, 9, 9),
        lambda: [nn.Sequential(C2(8, 8, 3, padding=1, groups=8, bias=False), C(8), nn.ReLU(), C2(8, 16, 1, bias=False))],
    ),
    (
        "sepconv 16 3x3 /2 mid_bn=true eps=0.001 bn relu6",
        (8, 9, 9),
        lambda: [nn.Sequential(C2(8, 8, 3, 2, 1, groups=8, bias=False), C(8, eps=0.001), C2(8, 16, 1, bias=False)), C(16, eps=0.001), nn.ReLU6()],
    ),
    ("sepconv: {filters: 4, kernel: 5, mid_act: hardswish}", (8, 9, 9), lambda: [nn.Sequential(C2(8, 8, 5, padding=2, groups=8, bias=False), nn.Hardswish(), C2(8, 4, 1, bias=False))]),
    # dwconv: groups = input channels, output = input channels x multiplier
    ("dwconv 3x3", (8, 9, 9), lambda: [C2(8, 8, 3, padding=1, groups=8)]),
    ("dwconv 3 /2", (8, 9, 9), lambda: [C2(8, 8, 3, 2, 1, groups=8)]),
    ("dwconv 5x5 stride=2 nobias bn relu6", (6, 11, 11), lambda: [C2(6, 6, 5, 2, 2, groups=6, bias=False), C(6), nn.ReLU6()]),
    ("dwconv 3x3 multiplier=2", (4, 7, 7), lambda: [C2(4, 8, 3, padding=1, groups=4)]),
    ("dwconv 3x3 multiplier=3 valid /2 bias=false", (4, 8, 8), lambda: [C2(4, 12, 3, 2, groups=4, bias=False)]),
    ("dwconv 3x3 dilation=2", (4, 9, 9), lambda: [C2(4, 4, 3, padding=2, dilation=2, groups=4)]),
    ("dwconv 4x4 /2 same", (4, 9, 9), lambda: [C2(4, 4, 4, 2, 1, groups=4)]),
    ("dwconv: {kernel: 1x7, padding: [0, 3]}", (4, 9, 9), lambda: [C2(4, 4, (1, 7), padding=(0, 3), groups=4)]),
    ("dwconv 7x7 padding=2 bn eps=0.01 silu", (3, 5, 5), lambda: [C2(3, 3, 7, padding=2, groups=3), C(3, eps=0.01), nn.SiLU()]),
    ("dwconv 3 tanh", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.Tanh()]),
    ("dwconv 3 sigmoid", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.Sigmoid()]),
    ("dwconv 3 relu", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.ReLU()]),
    ("dwconv 3 gelu", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.GELU()]),
    ("dwconv 3 hardswish", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.Hardswish()]),
    ("dwconv 3 hardsigmoid act=hardsigmoid", (3, 5, 5), lambda: [C2(3, 3, 3, padding=1, groups=3), nn.Hardsigmoid()]),
    # bn on an image and on a vector
    ("bn", (4, 5, 5), lambda: [C(4)]),
    ("bn eps=0.001", (4, 5, 5), lambda: [C(4, eps=0.001)]),
    ("bn eps=0.5", (6,), lambda: [nn.BatchNorm1d(6, eps=0.5)]),
    # layernorm over the channels at each position (ConvNeXt) or over a vector's features; groupnorm; layer scale
    ("layernorm", (8, 5, 7), lambda: [ChannelNorm(8)]),
    ("layernorm eps=1e-6", (8, 5, 7), lambda: [ChannelNorm(8, eps=1e-6)]),
    ("layernorm eps=0.001", (6,), lambda: [nn.LayerNorm(6, eps=0.001)]),
    ("layernorm", (3, 1, 1), lambda: [ChannelNorm(3)]),
    ("groupnorm 2", (8, 5, 5), lambda: [nn.GroupNorm(2, 8)]),
    ("groupnorm 8 eps=0.01", (8, 3, 5), lambda: [nn.GroupNorm(8, 8, eps=0.01)]),
    ("groupnorm groups=1", (6, 4, 4), lambda: [nn.GroupNorm(1, 6)]),
    ("groupnorm 3", (6,), lambda: [nn.GroupNorm(3, 6)]),
    ("layerscale", (8, 5, 5), lambda: [Gamma(8)]),
    ("layerscale 0.1", (8, 5, 5), lambda: [Gamma(8, 0.1)]),
    ("layerscale init=1e-5", (6,), lambda: [Gamma(6, 1e-5)]),
    # tconv: out = (n - 1) * stride - 2 * padding + kernel + output_padding
    ("tconv 8 2x2 /2", (4, 5, 5), lambda: [nn.ConvTranspose2d(4, 8, 2, 2)]),
    ("tconv 8 3x3 /2 padding=1 output_padding=1", (4, 5, 7), lambda: [nn.ConvTranspose2d(4, 8, 3, 2, 1, 1)]),
    ("tconv 8 3x3", (4, 5, 5), lambda: [nn.ConvTranspose2d(4, 8, 3)]),
    ("tconv 8 3x3 padding=1", (4, 5, 5), lambda: [nn.ConvTranspose2d(4, 8, 3, padding=1)]),
    ("tconv 8 4x4 /2 padding=1 nobias bn relu", (4, 7, 7), lambda: [nn.ConvTranspose2d(4, 8, 4, 2, 1, bias=False), C(8), nn.ReLU()]),
    ("tconv 6 1x3 stride=3x2 output_padding=2x1", (2, 3, 4), lambda: [nn.ConvTranspose2d(2, 6, (1, 3), (3, 2), output_padding=(2, 1))]),
    ("tconv: {filters: 4, kernel: 5, stride: 3, padding: [2, 1], bias: false}", (3, 4, 5), lambda: [nn.ConvTranspose2d(3, 4, 5, 3, (2, 1), bias=False)]),
    ("tconv 4 2 /2 bn eps=0.01 tanh", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), C(4, eps=0.01), nn.Tanh()]),
    ("tconv 4 2 /2 sigmoid", (3, 1, 1), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.Sigmoid()]),
    ("tconv 4 2 /2 relu6", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.ReLU6()]),
    ("tconv 4 2 /2 silu", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.SiLU()]),
    ("tconv 4 2 /2 gelu", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.GELU()]),
    ("tconv 4 2 /2 hardswish", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.Hardswish()]),
    ("tconv 4 2 /2 hardsigmoid act=hardsigmoid", (3, 4, 4), lambda: [nn.ConvTranspose2d(3, 4, 2, 2), nn.Hardsigmoid()]),
    # upsample: a whole-number scale (n or HxW) or a size; nearest or bilinear
    ("upsample 2", (3, 4, 5), lambda: [nn.Upsample(scale_factor=2)]),
    ("upsample 2x3", (3, 4, 5), lambda: [nn.Upsample(scale_factor=(2, 3))]),
    ("upsample 3 nearest", (3, 1, 1), lambda: [nn.Upsample(scale_factor=3)]),
    ("upsample 2 bilinear", (3, 5, 5), lambda: [nn.Upsample(scale_factor=2, mode="bilinear")]),
    ("upsample 2 bilinear align_corners=true", (3, 5, 5), lambda: [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)]),
    ("upsample: {size: [7, 9]}", (3, 4, 5), lambda: [nn.Upsample(size=(7, 9))]),
    ("upsample: {size: 11, mode: bilinear}", (3, 4, 5), lambda: [nn.Upsample(size=(11, 11), mode="bilinear")]),
    ("upsample: {size: [3, 2], mode: bilinear, align_corners: true}", (3, 4, 5), lambda: [nn.Upsample(size=(3, 2), mode="bilinear", align_corners=True)]),
    ("upsample scale=1x2 mode=nearest", (3, 4, 5), lambda: [nn.Upsample(scale_factor=(1, 2))]),
    # droppath (the identity in evaluation; training is tested below), shuffle
    ("droppath 0.2", (4, 5, 5), lambda: [NoDrop(0.2)]),
    ("droppath p=0.5", (6,), lambda: [NoDrop(0.5)]),
    ("shuffle 2", (6, 3, 3), lambda: [Shuffle(2)]),
    ("shuffle groups=3", (6, 2, 5), lambda: [Shuffle(3)]),
    ("shuffle 4", (4, 1, 1), lambda: [Shuffle(4)]),
    # custom: exactly its declared parameters, its declared output (default: the input's shape)
    ("custom: {label: Attention, params: 1234}", (8, 5, 5), lambda: [Opaque("Attention", 1234, (8, 5, 5))]),
    ("custom: {label: Pool to 2x2, output: [16, 2, 2]}", (8, 5, 5), lambda: [Opaque("Pool to 2x2", 0, (16, 2, 2))]),
    ("custom Head params=10 output=10", (8, 5, 5), lambda: [Opaque("Head", 10, (10,))]),
    ("custom Block output=4x3x7", (6,), lambda: [Opaque("Block", 0, (4, 3, 7))]),
    ("custom: {label: 'Squeeze (SE)', params: 0, output: 8x1x1}", (8, 5, 5), lambda: [Opaque("Squeeze (SE)", 0, (8, 1, 1))]),
    # activations, on an image and on a vector
    ("relu", (4, 5, 5), lambda: [nn.ReLU()]),
    ("tanh", (6,), lambda: [nn.Tanh()]),
    ("sigmoid", (4, 5, 5), lambda: [nn.Sigmoid()]),
    ("softmax", (6,), lambda: [nn.Softmax(dim=1)]),
    ("softmax", (4, 5, 5), lambda: [nn.Softmax(dim=1)]),
    ("relu6", (4, 5, 5), lambda: [nn.ReLU6()]),
    ("relu6", (6,), lambda: [nn.ReLU6()]),
    ("silu", (4, 5, 5), lambda: [nn.SiLU()]),
    ("gelu", (6,), lambda: [nn.GELU()]),
    ("gelu", (4, 5, 5), lambda: [nn.GELU()]),
    ("hardswish", (4, 5, 5), lambda: [nn.Hardswish()]),
    ("hardsigmoid", (6,), lambda: [nn.Hardsigmoid()]),
    # maxpool: stride defaults to the window; padding valid, same, n, [h, w]; ceil mode
    ("maxpool 2", (3, 8, 8), lambda: [nn.MaxPool2d(2)]),
    ("maxpool 2", (3, 9, 9), lambda: [nn.MaxPool2d(2)]),
    ("maxpool 2 ceil", (3, 9, 9), lambda: [nn.MaxPool2d(2, ceil_mode=True)]),
    ("maxpool 3x3 /2", (3, 112, 112), lambda: [nn.MaxPool2d(3, 2)]),
    ("maxpool 3x3 /2 ceil", (3, 112, 112), lambda: [nn.MaxPool2d(3, 2, ceil_mode=True)]),
    ("maxpool 3x3 /2 padding=1", (3, 112, 112), lambda: [nn.MaxPool2d(3, 2, 1)]),
    ("maxpool 3x3 /1 same", (3, 7, 7), lambda: [nn.MaxPool2d(3, 1, 1)]),
    ("maxpool 3x3 /2 same", (3, 8, 8), lambda: [nn.MaxPool2d(3, 2, 1)]),
    ("maxpool 3 valid", (3, 7, 7), lambda: [nn.MaxPool2d(3)]),
    ("maxpool 2x3", (3, 8, 9), lambda: [nn.MaxPool2d((2, 3))]),
    ("maxpool: {kernel: 3, stride: 1x2, padding: [1, 0]}", (3, 8, 9), lambda: [nn.MaxPool2d(3, (1, 2), (1, 0))]),
    ("maxpool 3", (3, 3, 3), lambda: [nn.MaxPool2d(3)]),  # a window exactly the input's size
    # ceil mode: a window may hang over the end, but the last one must start inside the input (or its left padding)
    ("maxpool 3 /3 padding=1 ceil", (3, 5, 5), lambda: [nn.MaxPool2d(3, 3, 1, ceil_mode=True)]),  # 2×2: a third window would start in the padding
    ("maxpool 2 /3 padding=1 ceil", (3, 7, 7), lambda: [nn.MaxPool2d(2, 3, 1, ceil_mode=True)]),  # 3×3, not 4×4
    ("maxpool 1 /3 ceil", (3, 5, 5), lambda: [nn.MaxPool2d(1, 3, ceil_mode=True)]),  # 2×2: a window past the end is dropped
    ("maxpool 3 /2 padding=1 ceil", (3, 6, 6), lambda: [nn.MaxPool2d(3, 2, 1, ceil_mode=True)]),  # 4×4: the last starts inside
    ("maxpool 3 /2 ceil", (3, 6, 6), lambda: [nn.MaxPool2d(3, 2, ceil_mode=True)]),  # 3×3: hangs over by one
    ("maxpool 3 /2 ceil", (3, 7, 7), lambda: [nn.MaxPool2d(3, 2, ceil_mode=True)]),  # 3×3: exact, ceil changes nothing
    ("maxpool 2 /2 padding=1 ceil", (3, 4, 4), lambda: [nn.MaxPool2d(2, 2, 1, ceil_mode=True)]),  # 3×3
    ("maxpool 3x2 /2 padding=1x0 ceil", (3, 5, 6), lambda: [nn.MaxPool2d((3, 2), 2, (1, 0), ceil_mode=True)]),
    # avgpool: the same, and count_pad (padded zeros in the average)
    ("avgpool 2", (3, 8, 8), lambda: [nn.AvgPool2d(2)]),
    ("avgpool 5x5 /3", (3, 14, 14), lambda: [nn.AvgPool2d(5, 3)]),
    ("avgpool 3x3 /1 same", (3, 7, 7), lambda: [nn.AvgPool2d(3, 1, 1)]),
    ("avgpool 3x3 /1 same count_pad=false", (3, 7, 7), lambda: [nn.AvgPool2d(3, 1, 1, count_include_pad=False)]),
    ("avgpool 3 /2 padding=1 count_pad=true", (3, 8, 8), lambda: [nn.AvgPool2d(3, 2, 1, count_include_pad=True)]),
    ("avgpool 3 /2 ceil", (3, 6, 6), lambda: [nn.AvgPool2d(3, 2, ceil_mode=True)]),
    ("avgpool 3 /3 padding=1 ceil", (3, 5, 5), lambda: [nn.AvgPool2d(3, 3, 1, ceil_mode=True)]),
    ("avgpool 3 /3 padding=1 ceil count_pad=false", (3, 5, 5), lambda: [nn.AvgPool2d(3, 3, 1, ceil_mode=True, count_include_pad=False)]),
    ("avgpool 2 /2 padding=1 ceil count_pad=false", (3, 5, 5), lambda: [nn.AvgPool2d(2, 2, 1, ceil_mode=True, count_include_pad=False)]),
    ("avgpool 1x3 stride=2x1 valid", (3, 5, 5), lambda: [nn.AvgPool2d((1, 3), (2, 1))]),
    # the rest
    ("gap", (8, 5, 5), lambda: [nn.Sequential(nn.AdaptiveAvgPool2d(1), F())]),
    ("gap", (8, 1, 1), lambda: [nn.Sequential(nn.AdaptiveAvgPool2d(1), F())]),
    ("gap keep", (8, 5, 5), lambda: [nn.AdaptiveAvgPool2d(1)]),
    ("gap keep=false", (8, 3, 4), lambda: [nn.Sequential(nn.AdaptiveAvgPool2d(1), F())]),
    ("gap: {keep: true}", (8, 3, 4), lambda: [nn.AdaptiveAvgPool2d(1)]),
    ("lrn", (8, 5, 5), lambda: [nn.LocalResponseNorm(5)]),
    ("lrn 3", (8, 5, 5), lambda: [nn.LocalResponseNorm(3)]),
    ("lrn size=5 alpha=0.001 beta=0.5 k=2", (8, 5, 5), lambda: [nn.LocalResponseNorm(5, 0.001, 0.5, 2.0)]),
    ("lrn 7 alpha=1e-4 beta=0.75 k=1", (8, 5, 5), lambda: [nn.LocalResponseNorm(7, 1e-4, 0.75, 1.0)]),
    ("dropout", (4, 5, 5), lambda: [nn.Dropout(0.5)]),
    ("dropout 0.3", (6,), lambda: [nn.Dropout(0.3)]),
    ("dropout p=0.1", (6,), lambda: [nn.Dropout(0.1)]),
    ("flatten", (4, 3, 5), lambda: [F()]),
    ("flatten", (6,), lambda: [F()]),
    ("dense 10", (36,), lambda: [nn.Linear(36, 10)]),
    ("dense 10 nobias", (36,), lambda: [nn.Linear(36, 10, bias=False)]),
    ("dense 10 bias=false relu", (36,), lambda: [nn.Linear(36, 10, bias=False), nn.ReLU()]),
    ("dense 10 tanh", (36,), lambda: [nn.Linear(36, 10), nn.Tanh()]),
    ("dense 10 sigmoid", (36,), lambda: [nn.Linear(36, 10), nn.Sigmoid()]),
    ("dense 10 softmax", (36,), lambda: [nn.Linear(36, 10), nn.Softmax(dim=1)]),
    ("dense 1 act=relu", (1,), lambda: [nn.Linear(1, 1), nn.ReLU()]),
    ("dense 10 relu6", (36,), lambda: [nn.Linear(36, 10), nn.ReLU6()]),
    ("dense 10 silu", (36,), lambda: [nn.Linear(36, 10), nn.SiLU()]),
    ("dense 10 gelu nobias", (36,), lambda: [nn.Linear(36, 10, bias=False), nn.GELU()]),
    ("dense 10 hardswish", (36,), lambda: [nn.Linear(36, 10), nn.Hardswish()]),
    ("dense 10 act=hardsigmoid", (36,), lambda: [nn.Linear(36, 10), nn.Hardsigmoid()]),
    ("dense 10 hardsigmoid", (36,), lambda: [nn.Linear(36, 10), nn.Hardsigmoid()]),
    ("zeropad 1", (3, 4, 4), lambda: [nn.ZeroPad2d(1)]),
    ("zeropad 1x2", (3, 4, 4), lambda: [nn.ZeroPad2d((2, 2, 1, 1))]),
    ("zeropad: {padding: [2, 0]}", (3, 4, 4), lambda: [nn.ZeroPad2d((0, 0, 2, 2))]),
    ("zeropad: {padding: [0, 1, 2, 3]}", (3, 4, 4), lambda: [nn.ZeroPad2d((2, 3, 0, 1))]),  # [top, bottom, left, right]
    ("zeropad 0", (3, 4, 4), lambda: [nn.ZeroPad2d(0)]),
    ("scale 0.17", (4, 5, 5), lambda: [Mul(0.17)]),
    ("scale factor=-2", (6,), lambda: [Mul(-2.0)]),
    ("identity", (4, 5, 5), lambda: [nn.Identity()]),
]


def _sets(lt, rows: list[str], field: str) -> bool:
    """Whether some row sets ``field``: by key, by a flag, by /stride or by position."""
    by_flag = [flag for flag, (target, _) in lt.flags.items() if target == field]
    return any(
        re.search(rf"\b{field}[=:]", row)
        or (field in lt.positional and len(row.split()) > 1 and "=" not in row.split()[1])
        or (field == "stride" and re.search(r"\s/\d", row))
        or any(flag in row.split() for flag in by_flag)
        for row in rows
    )


def test_every_layer_type_and_option_is_in_the_table():
    """The table sets every field of every layer type and uses every flag."""
    for name, lt in LAYERS.items():
        rows = [line for line, _, _ in LINES if re.split(r"[\s:]", line)[0] == name]
        assert rows, f"no row for layer type '{name}'"
        for f in lt.fields:
            assert _sets(lt, rows, f.name), f"no row sets '{f.name}' of '{name}'"
        for flag in lt.flags:
            assert any(flag in row.split() for row in rows), f"no row uses the flag '{flag}' of '{name}'"


def _pair(key: str, v: object) -> object:
    return (v, v) if key in ("kernel_size", "stride", "padding", "dilation") and isinstance(v, int) else v


def settings(module: nn.Module) -> list[tuple[str, dict, list, list]]:
    """Every leaf module's class, public settings, and parameter and buffer shapes."""
    out = []
    for m in module.modules():
        if list(m.children()):
            continue
        public = {k: _pair(k, v) for k, v in vars(m).items() if not k.startswith("_") and k != "training"}
        params = [(n, tuple(p.shape)) for n, p in m.named_parameters(recurse=False)]
        buffers = [(n, tuple(b.shape)) for n, b in m.named_buffers(recurse=False)]
        out.append((type(m).__name__, public, params, buffers))
    return out


def randomise(modules: list[nn.Module]) -> None:
    """Weights and batch-norm statistics away from their defaults, so that a setting ignored shows."""
    with torch.no_grad():
        for m in modules:
            for t in (*m.parameters(), *m.buffers()):
                if t.is_floating_point():
                    t.copy_(torch.rand_like(t) + 0.5 if t.dim() == 1 else torch.randn_like(t))


@pytest.mark.parametrize("line, shape, hand", LINES, ids=[f"{ln} on {'x'.join(map(str, s))}" for ln, s, _ in LINES])
def test_layer_matches_the_torch_modules_it_means(tmp_path, line, shape, hand):
    torch.manual_seed(0)
    net = network(tmp_path, shape, line)
    (item,) = net.top
    nodes = [item, *net.folds.get(item, ())]
    stages: list[nn.Module] = hand()
    assert len(stages) == len(nodes), f"{line}: nodes {[str(n) for n in nodes]}"
    randomise(stages)

    # shapes and counts: infer (with torch's meta forward as well) against the hand-built modules on a real tensor
    r = infer(net, verify=True)
    x = torch.randn(2, *shape)
    y = x
    with torch.no_grad():
        for node, stage in zip(nodes, stages):
            y = stage.eval()(y)
            assert r.shapes[node] == tuple(y.shape[1:]), f"{node}: shape"
            assert r.params.get(node, 0) == sum(p.numel() for p in stage.parameters()), f"{node}: params"
    assert r.total == sum(p.numel() for s in stages for p in s.parameters())
    assert r.output_of(net) == tuple(y.shape[1:])

    # the built model: the same settings and parameter shapes, and with the same weights the same numbers
    model = build_model(net).eval()
    built = [model.get_submodule(str(n)) for n in nodes]
    for node, b, stage in zip(nodes, built, stages):
        assert same_setup(b, stage), f"{node}: settings"
        b.load_state_dict(stage.state_dict())
    with torch.no_grad():
        assert torch.allclose(model(x), y, atol=1e-6), line


# -- towers: one grouped layer for N towers, against N towers built by hand -----------------------

# (towers item, input shape, towers, split, one tower's modules, one per layer node)
TOWERS: list[tuple[str, tuple[int, ...], int, bool, object]] = [
    ("towers: {count: 4, layers: [conv 8 3x3]}", (16, 8, 8), 4, False, lambda: [C2(16, 8, 3, padding=1)]),
    ("towers: {count: 2, input: split, layers: [conv 8 3x3]}", (6, 8, 8), 2, True, lambda: [C2(3, 8, 3, padding=1)]),
    (
        "towers: {count: 2, input: split, layers: [conv 8 3x3 /2 bn relu, conv 4 1x1 nobias]}",
        (6, 8, 8),
        2,
        True,
        lambda: [C2(3, 8, 3, 2, 1), C(8), nn.ReLU(), C2(8, 4, 1, bias=False)],
    ),
    ("towers: {count: 3, layers: [conv 4 3x3 valid bn eps=0.01 tanh, conv 4 1x1]}", (5, 8, 8), 3, False, lambda: [C2(5, 4, 3), C(4, eps=0.01), nn.Tanh(), C2(4, 4, 1)]),
    (
        "towers: {count: 2, layers: [conv 4 1x1 dilation=2, maxpool 3 /2 ceil, avgpool 2 count_pad=false]}",
        (3, 9, 9),
        2,
        False,
        lambda: [C2(3, 4, 1, dilation=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.AvgPool2d(2, count_include_pad=False)],
    ),
    (
        "towers: {count: 2, input: split, layers: [zeropad 1, conv 2 3x3 valid, dropout, scale 0.5, identity, sigmoid]}",
        (4, 6, 6),
        2,
        True,
        lambda: [nn.ZeroPad2d(1), C2(2, 2, 3), nn.Dropout(), Mul(0.5), nn.Identity(), nn.Sigmoid()],
    ),
    # a shared input read first by a layer that is not a conv: each tower still sees the whole input
    ("towers: {count: 2, layers: [maxpool 2, conv 8 1x1]}", (3, 8, 8), 2, False, lambda: [nn.MaxPool2d(2), C2(3, 8, 1)]),
    ("towers: {count: 2, layers: [bn, conv 4 1x1 nobias]}", (3, 8, 8), 2, False, lambda: [C(3), C2(3, 4, 1, bias=False)]),
    ("towers: {count: 3, layers: [relu]}", (4, 5, 5), 3, False, lambda: [nn.ReLU()]),
    ("towers: {count: 2, layers: [conv 4 1x1, layerscale 0.5]}", (3, 5, 5), 2, False, lambda: [C2(3, 4, 1), Gamma(4, 0.5)]),
    ("towers: {count: 3, layers: [layerscale]}", (2, 5, 5), 3, False, lambda: [Gamma(2)]),
    (
        "towers: {count: 2, layers: [conv 4 1x1 bn relu6, silu, gelu, hardswish, hardsigmoid]}",
        (3, 5, 5),
        2,
        False,
        lambda: [C2(3, 4, 1), C(4), nn.ReLU6(), nn.SiLU(), nn.GELU(), nn.Hardswish(), nn.Hardsigmoid()],
    ),
    ("towers: {count: 2, layers: [zeropad: {padding: [0, 1, 0, 1]}, conv 2 2x2 valid]}", (3, 4, 4), 2, False, lambda: [nn.ZeroPad2d((0, 1, 0, 1)), C2(3, 2, 2)]),
    ("towers: {count: 2, input: split, layers: [bn eps=0.1, relu]}", (6,), 2, True, lambda: [nn.BatchNorm1d(3, eps=0.1), nn.ReLU()]),
]


def leaves_with_state(modules: list[nn.Module]) -> list[nn.Module]:
    return [m for s in modules for m in s.modules() if not list(m.children()) and not isinstance(m, Tile) and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]


@pytest.mark.parametrize("item, shape, count, split, tower", TOWERS, ids=[t[0] for t in TOWERS])
def test_towers_match_separate_towers_built_by_hand(tmp_path, item, shape, count, split, tower):
    torch.manual_seed(0)
    net = network(tmp_path, shape, item)
    (block,) = net.top
    hands: list[list[nn.Module]] = [tower() for _ in range(count)]
    for stages in hands:
        randomise(stages)
    x = torch.randn(2, *shape)
    slices = torch.chunk(x, count, dim=1) if split else [x] * count
    with torch.no_grad():
        outs = []
        for stages, xi in zip(hands, slices):
            for stage in stages:
                xi = stage.eval()(xi)
            outs.append(xi)
        y = torch.cat(outs, dim=1)

    r = infer(net, verify=True)
    assert r.blocks[block] == sum(p.numel() for stages in hands for p in nn.ModuleList(stages).parameters())
    assert r.shapes[net.blocks[block].exit] == tuple(y.shape[1:])

    # the grouped model, loaded with the hand-built towers' weights (tower t is the t-th slice along dim 0), computes the same
    model = build_model(net).eval()
    layers = [model.get_submodule(str(p)) for p, n in net.nodes.items() if n.kind == "layer"]
    built = leaves_with_state(layers)
    per_tower = [leaves_with_state(stages) for stages in hands]
    assert all(len(ms) == len(built) for ms in per_tower)
    with torch.no_grad():
        for i, b in enumerate(built):
            for name, t in b.state_dict().items():
                if t.dim():
                    t.copy_(torch.cat([ms[i].state_dict()[name] for ms in per_tower], dim=0))
        assert torch.allclose(model(x), y, atol=1e-6)


# -- every layer type: built for any input it accepts, or refused with a located error ---------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

SIZE = st.integers(1, 4).map(str) | st.tuples(st.integers(1, 4), st.integers(1, 4)).map(lambda t: f"{t[0]}x{t[1]}")
STRIDE = st.sampled_from(["", "/2", "/3", "stride=1x2"])
PAD = st.sampled_from(["", "same", "valid", "padding=1", "padding=2", "padding=0x1"])
ACT = st.sampled_from(["", "relu", "tanh", "sigmoid", "relu6", "silu", "gelu", "hardswish", "hardsigmoid", "act=none"])
BN = st.sampled_from(["", "bn", "bn eps=0.1"])
OPT = st.lists(st.sampled_from(["nobias", "bias=true", "dilation=2", "dilation=1x2", "groups=2", "groups=3", "ceil", "count_pad=false"]), max_size=2, unique=True)


def _line(kind, *parts):
    return " ".join(str(p) for p in (kind, *parts) if p != "")


LINE = st.one_of(
    st.builds(lambda f, k, s, p, o, b, a: _line("conv", f, k, s, p, *[x for x in o if x not in ("ceil", "count_pad=false")], b, a), st.integers(1, 6), SIZE, STRIDE, PAD, OPT, BN, ACT),
    st.builds(lambda f, k, s, p, o, b, a: _line("sepconv", f, k, s, p, *[x for x in o if x in ("nobias", "bias=true", "dilation=2")], b, a), st.integers(1, 6), SIZE, STRIDE, PAD, OPT, BN, ACT),
    st.builds(lambda t, k, s, p, o: _line(t, k, s, p, *[x for x in o if x == "ceil" or (x == "count_pad=false" and t == "avgpool")]), st.sampled_from(["maxpool", "avgpool"]), SIZE, STRIDE, PAD, OPT),
    st.builds(lambda k, s, p, m, b, a: _line("dwconv", k, s, p, m, b, a), SIZE, STRIDE, PAD, st.sampled_from(["", "multiplier=2", "nobias", "dilation=2"]), BN, ACT),
    st.builds(lambda f, k, m, a: _line("sepconv", f, k, m, a), st.integers(1, 6), SIZE, st.sampled_from(["mid_bn=true", "mid_act=relu6", "mid_bn=true mid_act=silu"]), ACT),
    st.builds(lambda u, b, a: _line("dense", u, b, a), st.integers(1, 5), st.sampled_from(["", "nobias"]), ACT),
    st.sampled_from(["bn", "bn eps=0.2", "relu", "tanh", "sigmoid", "relu6", "silu", "gelu", "hardswish", "hardsigmoid", "softmax"]),
    st.sampled_from(["layernorm", "layernorm eps=0.1", "groupnorm 2", "groupnorm 3", "layerscale", "layerscale 2", "droppath 0.1", "shuffle 2", "shuffle 3"]),
    st.sampled_from(["tconv 3 2 /2", "tconv 2 3 /2 padding=1 output_padding=1", "tconv 2 3 padding=2", "upsample 2", "upsample 1x3 bilinear", "upsample: {size: 5}"]),
    st.sampled_from(["custom X params=3", "custom Y output=2x3x3", "custom Z output=4"]),
    st.sampled_from(["gap", "gap keep", "flatten", "identity", "scale 0.5", "dropout 0.2", "lrn 3", "lrn", "zeropad 1", "zeropad 0x2"]),
)


@hypothesis.settings(max_examples=80, deadline=None)
@hypothesis.given(
    shape=st.tuples(st.integers(1, 6), st.integers(1, 9), st.integers(1, 9)) | st.tuples(st.integers(1, 8)),
    lines=st.lists(LINE, min_size=1, max_size=4),
)
def test_any_stack_of_layers_builds_as_inferred_or_is_refused_with_a_located_error(shape, lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.yaml"
        path.write_text(f"name: t\ninput: {list(shape)}\nlayers:\n" + "".join(f"  - {ln}\n" for ln in lines), encoding="utf-8")
        net = build_network(load_spec(path))
        try:
            r = infer(net, verify=True)
        except ShapeError as exc:
            assert exc.problems and all(p.line >= 4 for p in exc.problems)
            return
        model = build_model(net).eval()
        with torch.no_grad():
            out = model(torch.randn(2, *shape))
        assert tuple(out.shape[1:]) == r.output_of(net)
        assert sum(p.numel() for p in model.parameters()) == r.total


def test_module_names_that_torch_already_uses_get_a_mark(tmp_path):
    # nn.Module has attributes called training, float, forward...: such a name gets a '#', which no spec name contains
    net = network(tmp_path, (3, 8, 8), "add: [[conv 3 3x3 @float, relu @forward], identity]\n    name: training")
    model = build_model(net).eval()
    names = {n for n, _ in model.named_modules()}
    assert {"training#", "training#.b1.float#", "training#.b1.forward#"} <= names
    assert isinstance(model.get_submodule("training#.b1.float#"), nn.Conv2d)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 3, 8, 8)


def test_droppath_in_training_drops_whole_samples_and_rescales_the_rest():
    torch.manual_seed(0)
    m = DropPath(0.25).train()
    rows = m(torch.ones(4000, 2, 3, 3)).flatten(1)
    kept = rows[:, 0] != 0
    assert torch.equal(rows, rows[:, :1].expand_as(rows))  # a sample is dropped whole or kept whole
    assert torch.allclose(rows[kept], torch.full_like(rows[kept], 1 / 0.75))
    assert abs((~kept).float().mean().item() - 0.25) < 0.03
    assert torch.equal(m.eval()(torch.ones(3, 2)), torch.ones(3, 2))
