"""The layer vocabulary: every layer type a spec may use, with its fields.

This table is the single source of truth for the spec parser, the JSON Schema
(``cnnviz schema``), the shape pass and the renderer's colours and labels.
Adding a layer type means adding one entry here, its shape rule in
``cnnviz/rules.py``, its builder in ``cnnviz/torch_layers.py`` and its colour in
``cnnviz/drawing/style.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .values import PAIR, BadValue, Converter, Schema, boolean, enum, integer, number, optional, pair, shape, text, with_schema

__all__ = [
    "ACTIVATIONS",
    "LAYERS",
    "MAX_CHANNELS",
    "MAX_KERNEL",
    "NAME_TOKEN",
    "REPEAT_TOKEN",
    "REQUIRED",
    "STRIDE_TOKEN",
    "BadValue",
    "Converter",
    "Field",
    "LayerType",
    "Schema",
]

REQUIRED = object()
MAX_CHANNELS = 1 << 16
MAX_KERNEL = 1 << 12
ACTIVATIONS = ("relu", "tanh", "sigmoid", "relu6", "silu", "gelu", "hardswish", "hardsigmoid", "softmax")
# Activations that are also bare flags of the layers with an ``act`` field (softmax only of dense).
ACT_FLAG_WORDS = ACTIVATIONS[:-1]


@with_schema({"oneOf": [{"enum": ["same", "valid"]}, pair(0, MAX_KERNEL).schema]})
def _padding(v: Any) -> str | tuple[int, int]:
    """'same' (half the kernel on each side, any stride), 'valid' (none), n or [h, w]."""
    if isinstance(v, str) and v in ("same", "valid"):  # (only text equals these words)
        return v
    if isinstance(v, str) and not PAIR.match(v.strip()):
        raise BadValue(f"expected same, valid, a size like 1 or 0x3, or [h, w], got {v!r}")
    return pair(0, MAX_KERNEL)(v)


@with_schema({"oneOf": [pair(0, MAX_KERNEL).schema, {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4}]})
def _zeropad(v: Any) -> tuple[int, ...]:
    """n, [h, w] or [top, bottom, left, right]; kept as (top, bottom, left, right)."""
    if isinstance(v, list) and len(v) == 4:
        one = integer(0, MAX_KERNEL)
        return tuple(one(x) for x in v)
    h, w = pair(0, MAX_KERNEL)(v)
    return (h, h, w, w)


_ACT_NAMES = {"swish": "silu", "hswish": "hardswish", "hard_swish": "hardswish", "hsigmoid": "hardsigmoid", "hard_sigmoid": "hardsigmoid"}  # other names, said in errors


@with_schema({"enum": ["none", *ACTIVATIONS]})
def _act(v: Any) -> str:
    if v is None or v == "none":
        return "none"
    if isinstance(v, str) and v in ACTIVATIONS:  # (only text equals these words)
        return v
    from .words import suggest  # here: words imports this module

    hint = "" if not isinstance(v, str) else f" (did you mean '{_ACT_NAMES[v]}'?)" if v in _ACT_NAMES else suggest(v, ACTIVATIONS)
    raise BadValue(f"unknown activation {v!r}{hint} (choose from none, {', '.join(ACTIVATIONS)})")


@dataclass(frozen=True)
class Field:
    name: str
    convert: Converter[Any]
    default: Any = REQUIRED
    doc: str = ""


@dataclass(frozen=True)
class LayerType:
    name: str
    doc: str
    fields: tuple[Field, ...] = ()
    positional: tuple[str, ...] = ()  # field names filled by bare values in the short form, in order
    flags: dict[str, tuple[str, Any]] = field(default_factory=dict)  # bare word -> (field, value)
    category: str = ""  # colour family in the pictures
    usage: str = ""  # a hint for a short form that gives a value too many
    check: Callable[[dict[str, Any]], str | None] | None = None  # why settings that each fit do not fit together

    def problem(self, params: dict[str, Any]) -> str | None:
        """Why these settings (each already converted) do not go together, or None."""
        return self.check(params) if self.check else None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


_CHANNELS = integer(1, MAX_CHANNELS)
_SIZE_FIELD = pair(1, 1 << 16)
_KERNEL = pair(1, MAX_KERNEL)
_STRIDE = pair(1, MAX_KERNEL)
_ACT_FLAGS = {a: ("act", a) for a in ACT_FLAG_WORDS}
_PAD_FLAGS = {"same": ("padding", "same"), "valid": ("padding", "valid")}
_CONV_FLAGS = {**_PAD_FLAGS, **_ACT_FLAGS, "bn": ("bn", True), "nobias": ("bias", False)}


def _conv_fields(*, bias: bool, groups: bool, depthwise: bool = False) -> tuple[Field, ...]:
    out = [] if depthwise else [Field("filters", _CHANNELS, doc="output channels")]
    out += [
        Field("kernel", _KERNEL, doc="kernel size: 3, 3x3 or 1x7"),
        Field("stride", _STRIDE, (1, 1), "stride, also written /2"),
        Field("padding", _padding, "same", "same (kernel//2 each side), valid, n or [h, w]"),
        Field("dilation", pair(1, 64), (1, 1), "dilation"),
    ]
    if groups:
        out.append(Field("groups", integer(1, MAX_CHANNELS), 1, "grouped convolution"))
    if depthwise:
        out.append(Field("multiplier", integer(1, MAX_CHANNELS), 1, "output channels per input channel"))
    out += [
        Field("bias", boolean, bias, "learnable bias"),
        Field("bn", boolean, False, "batch norm after the convolution (also the flag 'bn')"),
        Field("eps", number(0.0, 1.0), 1e-5, "batch norm epsilon when bn is on"),
        Field("act", _act, "none", f"activation after conv (and bn): none, {', '.join(ACT_FLAG_WORDS)}"),
    ]
    return tuple(out)


def _upsample_problem(p: dict[str, Any]) -> str | None:
    if p["scale"] is None and p["size"] is None:
        return "needs a scale (upsample 2) or a size (size=28x28)"
    if p["scale"] is not None and p["size"] is not None:
        return "give a scale or a size, not both"
    if p["align_corners"] and p["mode"] != "bilinear":
        return "align_corners needs mode bilinear"
    return None


def _pool(kind: str) -> LayerType:
    return LayerType(
        kind,
        f"{'max' if kind == 'maxpool' else 'average'} pooling",
        (
            Field("kernel", _KERNEL, doc="window size"),
            Field("stride", _STRIDE, None, "stride (default: the window size)"),
            Field("padding", _padding, "valid", "valid (default), same, n or [h, w]"),
            Field("ceil", boolean, False, "round the output size up (Caffe style)"),
            *([Field("count_pad", boolean, True, "count padded zeros in the average")] if kind == "avgpool" else []),
        ),
        positional=("kernel",),
        flags={**_PAD_FLAGS, "ceil": ("ceil", True)},
        category="pool",
    )


LAYERS: dict[str, LayerType] = {
    t.name: t
    for t in [
        LayerType("conv", "2-D convolution", _conv_fields(bias=True, groups=True), ("filters", "kernel"), _CONV_FLAGS, "conv"),
        LayerType(
            "sepconv",
            "depthwise-separable convolution: depthwise kxk, then pointwise 1x1",
            (
                *_conv_fields(bias=False, groups=False),
                Field("mid_bn", boolean, False, "batch norm between the depthwise and pointwise parts"),
                Field("mid_act", _act, "none", "activation between the depthwise and pointwise parts (after mid_bn)"),
            ),
            ("filters", "kernel"),
            _CONV_FLAGS,
            "sepconv",
        ),
        LayerType(
            "dwconv",
            "depthwise convolution: one kxk filter per input channel (groups = input channels), times multiplier",
            _conv_fields(bias=True, groups=False, depthwise=True),
            ("kernel",),
            _CONV_FLAGS,
            "dwconv",
            usage="dwconv takes a kernel only: its output has the input's channels, times multiplier",
        ),
        LayerType("bn", "batch normalisation", (Field("eps", number(0.0, 1.0), 1e-5, "epsilon"),), category="norm"),
        LayerType(
            "layernorm",
            "layer normalisation: over the channels at each position of an image (ConvNeXt), over the features of a vector",
            (Field("eps", number(0.0, 1.0), 1e-5, "epsilon"),),
            category="norm",
        ),
        LayerType(
            "groupnorm",
            "group normalisation: over each group of channels (and all positions)",
            (Field("groups", _CHANNELS, doc="channel groups, dividing the channels"), Field("eps", number(0.0, 1.0), 1e-5, "epsilon")),
            ("groups",),
            category="norm",
        ),
        LayerType(
            "layerscale",
            "a learned scale per channel (ConvNeXt's layer scale)",
            (Field("init", number(-1e6, 1e6), 1e-6, "the scales' initial value"),),
            ("init",),
            category="layerscale",
        ),
        LayerType(
            "tconv",
            "transposed convolution (up-sampling by a learned kernel)",
            (
                Field("filters", _CHANNELS, doc="output channels"),
                Field("kernel", _KERNEL, doc="kernel size: 2, 2x2 or 1x7"),
                Field("stride", _STRIDE, (1, 1), "stride, also written /2"),
                Field("padding", pair(0, MAX_KERNEL), (0, 0), "n or [h, w] rows and columns taken off each side"),
                Field("output_padding", pair(0, MAX_KERNEL), (0, 0), "n or [h, w] added to one side of the output (less than the stride)"),
                Field("bias", boolean, True, "learnable bias"),
                Field("bn", boolean, False, "batch norm after the convolution (also the flag 'bn')"),
                Field("eps", number(0.0, 1.0), 1e-5, "batch norm epsilon when bn is on"),
                Field("act", _act, "none", f"activation after it (and bn): none, {', '.join(ACT_FLAG_WORDS)}"),
            ),
            ("filters", "kernel"),
            {**_ACT_FLAGS, "bn": ("bn", True), "nobias": ("bias", False)},
            "tconv",
            usage="tconv takes filters and a kernel; its padding is n or [h, w], never same or valid",
        ),
        LayerType(
            "upsample",
            "up-sampling by a whole-number scale or to a size (nearest or bilinear)",
            (
                Field("scale", optional(pair(1, 1 << 10)), None, "whole-number factor: 2 or 2x3 (or give size)"),
                Field("size", optional(_SIZE_FIELD), None, "output [height, width] (or give scale)"),
                Field("mode", enum("nearest", "bilinear"), "nearest", "nearest or bilinear"),
                Field("align_corners", boolean, False, "bilinear only: align the corner pixels"),
            ),
            ("scale",),
            {"nearest": ("mode", "nearest"), "bilinear": ("mode", "bilinear")},
            "upsample",
            check=_upsample_problem,
        ),
        LayerType("droppath", "drop path, stochastic depth: drops the whole input of a sample (training only)", (Field("p", number(0.0, 1.0), doc="drop probability"),), ("p",), category="droppath"),
        LayerType(
            "shuffle",
            "channel shuffle (ShuffleNet): interleave the channels of the groups",
            (Field("groups", _CHANNELS, doc="channel groups, dividing the channels"),),
            ("groups",),
            category="shuffle",
        ),
        LayerType(
            "custom",
            "a box cnnviz cannot look inside: a label, its parameter count, its output shape",
            (
                Field("label", text(200), doc="what the box says"),
                Field("params", integer(0, 1 << 48), 0, "its parameter count"),
                Field("output", optional(shape(1 << 24)), None, "its output shape (default: its input's)"),
            ),
            ("label",),
            category="custom",
        ),
        LayerType("relu", "ReLU activation", category="act"),
        LayerType("tanh", "tanh activation", category="act"),
        LayerType("sigmoid", "sigmoid activation", category="act"),
        LayerType("relu6", "ReLU clipped at 6 (MobileNet)", category="act"),
        LayerType("silu", "SiLU (swish): x * sigmoid(x)", category="act"),
        LayerType("gelu", "GELU (exact, erf form)", category="act"),
        LayerType("hardswish", "hard swish (MobileNetV3)", category="act"),
        LayerType("hardsigmoid", "hard sigmoid (MobileNetV3)", category="act"),
        LayerType("softmax", "softmax over channels", category="softmax"),
        _pool("maxpool"),
        _pool("avgpool"),
        LayerType(
            "gap",
            "global average pooling to a vector (keep: to [channels, 1, 1])",
            (Field("keep", boolean, False, "keep the result as an image of 1x1, [channels, 1, 1] (also the flag 'keep')"),),
            flags={"keep": ("keep", True)},
            category="pool",
        ),
        LayerType(
            "lrn",
            "local response normalisation",
            (
                Field("size", integer(1, 64), 5, "neighbouring channels"),
                Field("alpha", number(0.0, 10.0), 1e-4),
                Field("beta", number(0.0, 10.0), 0.75),
                Field("k", number(0.0, 100.0), 1.0),
            ),
            ("size",),
            category="norm",
        ),
        LayerType("dropout", "dropout", (Field("p", number(0.0, 1.0), 0.5, "drop probability"),), ("p",), category="dropout"),
        LayerType("flatten", "flatten to a vector", category="flatten"),
        LayerType(
            "dense",
            "fully connected layer",
            (
                Field("units", _CHANNELS, doc="output features"),
                Field("bias", boolean, True, "learnable bias"),
                Field("act", _act, "none", "activation after the layer"),
            ),
            ("units",),
            {**_ACT_FLAGS, "nobias": ("bias", False), "softmax": ("act", "softmax")},
            "dense",
        ),
        LayerType(
            "zeropad",
            "zero padding",
            (Field("padding", _zeropad, doc="n, [h, w] or [top, bottom, left, right]"),),
            ("padding",),
            category="pad",
        ),
        LayerType("scale", "multiply by a constant (residual scaling)", (Field("factor", number(-1e6, 1e6)),), ("factor",), category="scale"),
        LayerType("identity", "pass the input through", category="identity"),
    ]
}

# Short-form tokens that are not field values.
STRIDE_TOKEN = re.compile(r"^/(\d+)$")
REPEAT_TOKEN = re.compile(r"^[x×*](\d+)$")
NAME_TOKEN = re.compile(r"^@(\S+)$")  # checked by items.name_problem
