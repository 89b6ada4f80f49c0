"""The torch side of each layer type: the ``nn.Module`` a layer node becomes.

Part of the shape stage (:mod:`cnnviz.shapes` builds networks from these), so
like it this module imports torch and is imported only once a command needs
shapes.  :func:`make_layer` has a branch for every type of the layer table
(:mod:`cnnviz.spec.layers`; a test checks), plus ``split``, the node that gives
a branch of a split its part of the channels.  The small modules here stand in
for what torch has no class for: a constant scale, a learned per-channel scale,
a layer norm over channels, drop path, a channel part, and a custom box.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

with warnings.catch_warnings():  # torch warns when NumPy is absent; we never need NumPy
    warnings.simplefilter("ignore")
    import torch
    from torch import nn

from .model import Shape
from .rules import conv_groups, layer_input, padding

__all__ = ["ACTIVATIONS", "ChannelLayerNorm", "Custom", "DropPath", "LayerScale", "Part", "Scale", "Tile", "activation", "make_layer"]


class Scale(nn.Module):
    """Multiply by a constant: Inception-ResNet's residual scaling."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class Tile(nn.Module):
    """The input ``towers`` times side by side along channels: what each of N towers
    reading a shared input sees, for a layer that acts on each channel alone."""

    def __init__(self, towers: int):
        super().__init__()
        self.towers = towers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, self.towers, *([1] * (x.dim() - 2)))

    def extra_repr(self) -> str:
        return f"towers={self.towers}"


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels at each position of an image (ConvNeXt's
    LayerNorm2d): channels moved last, normalised by ``norm`` (an ``nn.LayerNorm``), moved back."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.norm(x.permute(0, 2, 3, 1))
        return out.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """A learned scale per channel (ConvNeXt): ``channels`` parameters, each set to ``init``."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(-1, *([1] * (x.dim() - 2)))


class Part(nn.Module):
    """The ``part``-th (from 1) of ``parts`` equal consecutive slices of the channels: what a branch of a split reads."""

    def __init__(self, part: int, parts: int):
        super().__init__()
        self.part, self.parts = part, parts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[1] // self.parts
        return x.narrow(1, (self.part - 1) * size, size)

    def extra_repr(self) -> str:
        return f"part={self.part}, parts={self.parts}"


class DropPath(nn.Module):
    """Stochastic depth: in training, each sample's whole input is zeroed with probability
    ``p`` and the rest scaled by 1 / (1 - p); in evaluation, the identity."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0], *([1] * (x.dim() - 1))), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep if keep > 0 else x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Custom(nn.Module):
    """A box cnnviz cannot look inside: one flat parameter of its declared count, and its
    declared output shape (zeros; the input itself when the shape does not change)."""

    def __init__(self, label: str, params: int, output: Shape):
        super().__init__()
        self.label, self.output = label, tuple(output)
        if params:
            self.weight = nn.Parameter(torch.zeros(params))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) == self.output:
            return x
        return x.new_zeros((x.shape[0], *self.output))

    def extra_repr(self) -> str:
        return f"label={self.label!r}, output={self.output}"


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
}


def activation(name: str) -> nn.Module:
    """The module of an activation: a layer type, or a value of ``act``/``mid_act``."""
    return nn.Softmax(dim=1) if name == "softmax" else ACTIVATIONS[name]()


def make_layer(type_: str, p: Mapping[str, Any], shape: Shape, towers: int = 1, split: bool = False) -> nn.Module:
    """One node's module, for an input of ``shape`` (no batch dimension).

    Inside ``towers`` identical towers the layer is built once for all of them:
    a conv whose output channels are the towers' (grouped by tower when ``split``,
    each tower reading only its own slice of the input channels); any other layer
    acts on each channel alone, so it is built for all the towers' channels, after
    a :class:`Tile` when the towers share their input."""
    if towers > 1 and type_ != "conv" and not split:
        return nn.Sequential(Tile(towers), make_layer(type_, p, layer_input(type_, shape, towers), towers, True))
    c = shape[0]
    flat = len(shape) == 1
    if type_ == "conv":
        pad = padding(p["padding"], p["kernel"], p["dilation"])
        return nn.Conv2d(c, p["filters"] * towers, p["kernel"], p["stride"], pad, p["dilation"], conv_groups(p, towers, split), p["bias"])
    if type_ == "sepconv":
        mid_act = p.get("mid_act", "none")
        mid = ([nn.BatchNorm2d(c, eps=p["eps"])] if p.get("mid_bn") else []) + ([activation(mid_act)] if mid_act != "none" else [])
        return nn.Sequential(
            nn.Conv2d(c, c, p["kernel"], p["stride"], padding(p["padding"], p["kernel"], p["dilation"]), p["dilation"], c, False),
            *mid,
            nn.Conv2d(c, p["filters"], 1, bias=p["bias"]),
        )
    if type_ == "dwconv":
        pad = padding(p["padding"], p["kernel"], p["dilation"])
        return nn.Conv2d(c, c * p["multiplier"], p["kernel"], p["stride"], pad, p["dilation"], c, p["bias"])
    if type_ == "bn":
        return (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c, eps=p["eps"])
    if type_ == "layernorm":
        if len(shape) not in (1, 3):  # a sequence of tokens: over the features of each
            return nn.LayerNorm(shape[-1], eps=p["eps"])
        return nn.LayerNorm(c, eps=p["eps"]) if flat else ChannelLayerNorm(c, p["eps"])
    if type_ == "groupnorm":
        return nn.GroupNorm(p["groups"], c, eps=p["eps"])
    if type_ == "layerscale":
        return LayerScale(c, p["init"])
    if type_ == "tconv":
        return nn.ConvTranspose2d(c, p["filters"], p["kernel"], p["stride"], p["padding"], p["output_padding"], bias=p["bias"])
    if type_ == "upsample":
        corners = True if p["align_corners"] else None  # None: torch's default (off), the only value nearest takes
        if p["size"]:
            return nn.Upsample(size=p["size"], mode=p["mode"], align_corners=corners)
        sh, sw = p["scale"]
        return nn.Upsample(scale_factor=sh if sh == sw else (sh, sw), mode=p["mode"], align_corners=corners)
    if type_ == "custom":
        return Custom(p["label"], p["params"], p["output"] or shape)
    if type_ == "droppath":
        return DropPath(p["p"])
    if type_ == "shuffle":
        return nn.ChannelShuffle(p["groups"])
    if type_ in ACTIVATIONS or type_ == "softmax":
        return activation(type_)
    if type_ == "maxpool":
        return nn.MaxPool2d(p["kernel"], p["stride"], padding(p["padding"], p["kernel"]), ceil_mode=p["ceil"])
    if type_ == "avgpool":
        return nn.AvgPool2d(p["kernel"], p["stride"], padding(p["padding"], p["kernel"]), ceil_mode=p["ceil"], count_include_pad=p["count_pad"])
    if type_ == "gap":
        return nn.AdaptiveAvgPool2d(1) if p.get("keep") else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if type_ == "split":
        return Part(p["part"], p["parts"])
    if type_ == "lrn":
        return nn.LocalResponseNorm(p["size"], p["alpha"], p["beta"], p["k"])
    if type_ == "dropout":
        return nn.Dropout(p["p"])
    if type_ == "flatten":
        return nn.Flatten()
    if type_ == "dense":
        return nn.Linear(c, p["units"], p["bias"])
    if type_ == "zeropad":
        top, bottom, left, right = p["padding"]
        return nn.ZeroPad2d((left, right, top, bottom))
    if type_ == "scale":
        return Scale(p["factor"])
    if type_ == "identity":
        return nn.Identity()
    raise ValueError(f"no builder for layer type '{type_}'")  # every LAYERS entry has one; a test checks
