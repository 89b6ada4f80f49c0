"""Captured leaf modules and functional ops → layers (torch-free: modules are read by class name and attributes).

Each leaf maps to a layer of the vocabulary with its settings, or to None; the caller
(:mod:`cnnviz.capture.lowering`) then writes a ``custom`` box labelled by its class,
with its exact parameter count and output shape: a model is never refused."""

from __future__ import annotations

from typing import Any

from ..spec.layers import LAYERS
from .items import Line
from .ops import Op

ACTS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU6": "relu6", "SiLU": "silu", "GELU": "gelu", "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid"}
FLAT_ACTS = ("relu", "tanh", "sigmoid")  # written as bare flags on conv and dense
INLINE = ("Sequential", "ModuleList", "ModuleDict")


class Unexpressible(Exception):
    """A construct the vocabulary (as installed) cannot write; the enclosing module becomes a custom box."""


def have(kind: str) -> bool:
    return kind in LAYERS


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _classes(module: Any) -> list[str]:
    return [c.__name__ for c in type(module).__mro__]


def custom(label: str, params: int, shape: tuple[int, ...], name: str = "") -> Line:
    if not have("custom"):
        raise Unexpressible(label)
    return Line("custom", {"label": label, "params": params, "output": list(shape)}, name)


def _conv(m: Any) -> Line | None:
    if getattr(m, "padding_mode", "zeros") != "zeros":
        return None
    k, s, d = _pair(m.kernel_size), _pair(m.stride), _pair(m.dilation)
    fields: dict[str, Any] = {}
    cin, cout, g = m.in_channels, m.out_channels, m.groups
    if g == cin and g > 1 and cout % cin == 0 and have("dwconv"):
        kind = "dwconv"
        fields["kernel"] = k
        if cout != cin:
            fields["multiplier"] = cout // cin
    else:
        kind = "conv"
        fields["filters"], fields["kernel"] = cout, k
        if g != 1:
            fields["groups"] = g
    if s != (1, 1):
        fields["stride"] = s
    pad = m.padding
    if pad == "valid" or (not isinstance(pad, str) and _pair(pad) == (0, 0) and k != (1, 1)):
        fields["padding"] = "valid"
    elif not isinstance(pad, str) and _pair(pad) != (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2):
        fields["padding"] = _pair(pad)
    if d != (1, 1):
        fields["dilation"] = d
    if m.bias is None:
        fields["bias"] = False
    return Line(kind, fields)


def _tconv(m: Any) -> Line | None:
    if m.groups != 1 or _pair(m.dilation) != (1, 1) or m.padding_mode != "zeros":
        return None
    fields: dict[str, Any] = {"filters": m.out_channels, "kernel": _pair(m.kernel_size)}
    for f, v in (("stride", _pair(m.stride)), ("padding", _pair(m.padding)), ("output_padding", _pair(m.output_padding))):
        if v != (1 if f == "stride" else 0,) * 2:
            fields[f] = v
    if m.bias is None:
        fields["bias"] = False
    return Line("tconv", fields)


def _upsample(m: Any, op: Op) -> Line | None:
    mode = m.mode
    if mode not in ("nearest", "bilinear"):
        return None
    fields: dict[str, Any] = {}
    if m.size is not None:
        fields["size"] = list(_pair(m.size))
    else:
        sf = m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else (m.scale_factor, m.scale_factor)
        if any(float(x) != int(x) for x in sf):
            return None
        fields["scale"] = (int(sf[0]), int(sf[1]))
    if mode != "nearest":
        fields["mode"] = mode
    if m.align_corners:
        fields["align_corners"] = True
    return Line("upsample", fields)


def _pool(m: Any, kind: str) -> Line | None:
    if getattr(m, "dilation", 1) not in (1, (1, 1)) or getattr(m, "divisor_override", None) is not None:
        return None
    k = _pair(m.kernel_size)
    fields: dict[str, Any] = {"kernel": k}
    if m.stride is not None and _pair(m.stride) != k:
        fields["stride"] = _pair(m.stride)
    if _pair(m.padding) != (0, 0):
        fields["padding"] = _pair(m.padding)
    if m.ceil_mode:
        fields["ceil"] = True
    if kind == "avgpool" and not m.count_include_pad:
        fields["count_pad"] = False
    return Line(kind, fields)


def leaf_line(op: Op) -> Line | None:
    """The layer of a leaf module call, or None when the vocabulary has none for it."""
    m = op.module
    names = _classes(m)
    cls = names[0]
    vec = len(op.in_shapes[0]) == 1 if op.in_shapes else False
    if cls == "Conv2d":
        return _conv(m)
    if cls == "ConvTranspose2d" and have("tconv"):
        return _tconv(m)
    if cls in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d") and have("upsample"):
        return _upsample(m, op)
    if cls in ("MaxPool2d", "AvgPool2d"):
        return _pool(m, cls[:3].lower() + "pool")
    if cls in ("BatchNorm2d", "BatchNorm1d") and m.affine and m.track_running_stats:
        return Line("bn", {} if m.eps == 1e-5 else {"eps": float(m.eps)})
    if cls in ACTS and have(ACTS[cls]) and (cls != "GELU" or getattr(m, "approximate", "none") == "none"):
        return Line(ACTS[cls], {})
    if cls == "Softmax" and vec:
        return Line("softmax", {})
    if cls == "Linear" and len(op.in_shapes[0]) == 3:  # on [H, W, C]: a 1x1 convolution between permutes
        return Line("conv", {"filters": m.out_features, "kernel": (1, 1), **({} if m.bias is not None else {"bias": False})}, channels_last=True)
    if cls == "Permute" and list(m.dims) in ([0, 2, 3, 1], [0, 3, 1, 2]):
        return Line("permute", {"dims": list(m.dims)})
    if cls == "AdaptiveAvgPool2d" and len(op.in_shapes[0]) == 3 and op.shape[1:] != (1, 1):
        return _adaptive(op.in_shapes[0], op.shape)
    if cls == "Linear" and vec:
        return Line("dense", {"units": m.out_features} if m.bias is not None else {"units": m.out_features, "bias": False})
    if cls in ("Dropout", "Dropout2d") and cls == "Dropout":
        return Line("dropout", {} if m.p == 0.5 else {"p": float(m.p)})
    if cls == "Flatten" and m.start_dim == 1 and len(op.shape) == 1:
        return Line("flatten", {})
    if cls == "Identity":
        return Line("identity", {})
    if cls == "AdaptiveAvgPool2d" and op.shape[1:] == (1, 1):
        return _gap(op.in_shapes[0])
    if "LayerNorm" in names and have("layernorm") and m.elementwise_affine and len(m.normalized_shape) == 1:
        last = cls == "LayerNorm" and len(op.shape) == 3  # torch's LayerNorm on [H, W, C]; LayerNorm2d normalises channels itself
        return Line("layernorm", {} if m.eps == 1e-5 else {"eps": float(m.eps)}, channels_last=last)
    if cls == "GroupNorm" and have("groupnorm") and m.affine:
        return Line("groupnorm", {"groups": m.num_groups, **({} if m.eps == 1e-5 else {"eps": float(m.eps)})})
    if cls == "StochasticDepth" and have("droppath") and m.mode == "row":
        return Line("droppath", {"p": float(m.p)})
    if cls == "ChannelShuffle" and have("shuffle"):
        return Line("shuffle", {"groups": int(m.groups)})
    return None


def _gap(ins: tuple[int, ...]) -> Line:
    """Global average pooling that keeps [C, 1, 1]: ``gap keep`` (tidy() drops keep when a
    flatten follows), or without that word an average pooling over the whole input."""
    if gap_keeps() or len(ins) != 3:
        return Line("gap", {"keep": True})
    return Line("avgpool", {"kernel": ins[1:]}, origin=("gap", 0, (ins[0], 1, 1)))


def gap_keeps() -> bool:
    return bool(have("gap") and LAYERS["gap"].field("keep"))


def fn_line(op: Op) -> Line | None:
    """The layer of a functional op with one tensor input, or None."""
    fn, shape = op.fn, op.shape
    ins = op.in_shapes[0] if op.in_shapes else ()
    if fn in FLAT_ACTS or (fn in ACTS.values() and have(fn)):
        return Line(fn, {})
    if fn in ("flatten", "view") and len(shape) == 1 and len(ins) > 1:
        return Line("flatten", {})
    if fn == "identity" or (fn in ("view", "dropout") and shape == ins):
        return Line("identity", {})
    if fn == "shuffle" and have("shuffle"):
        return Line("shuffle", {"groups": int(op.consts[0])})
    dims = list(op.consts[0]) if op.consts and isinstance(op.consts[0], (list, tuple)) else list(op.consts)  # permute([0, 2, 3, 1]) or permute(0, 2, 3, 1)
    if fn == "permute" and dims in ([0, 2, 3, 1], [0, 3, 1, 2]):
        return Line("permute", {"dims": dims})
    if fn == "adaptive_avg_pool2d" and len(ins) == 3 and shape[1:] != (1, 1):
        return _adaptive(ins, shape)
    if fn == "mean" and len(shape) == 1 and len(ins) == 3:
        return Line("gap", {})
    if fn == "mean" and len(ins) == 3 and shape == (ins[0], 1, 1):  # x.mean((2, 3), keepdim=True): timm's squeeze
        return _gap(ins)
    if fn == "batch_norm" and len(ins) in (1, 3) and op.params == 2 * ins[0]:  # F.batch_norm with weight and bias (timm's BatchNormAct2d)
        eps = next((c for c in reversed(op.consts) if isinstance(c, float)), 1e-5)
        return Line("bn", {} if eps == 1e-5 else {"eps": float(eps)})
    if fn == "adaptive_avg_pool2d" and shape[1:] == (1, 1):
        return _gap(ins)
    if fn in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices") and len(ins) == 3 and op.consts:
        return _fn_pool(op, "maxpool" if fn.startswith("max") else "avgpool")
    if fn in ("interpolate", "interpolate_bilinear") and len(ins) == 3 and len(shape) == 3 and shape[0] == ins[0] and have("upsample"):
        return _fn_upsample(op, ins, shape)
    if fn == "pad" and len(ins) == 3 and have("zeropad"):
        return _fn_pad(op)
    if fn == "mul" and op.params and op.params == shape[0] and have("layerscale"):
        return Line("layerscale", {})
    if fn == "mul" and not op.params and len(op.consts) == 1 and isinstance(op.consts[0], (int, float)) and not isinstance(op.consts[0], bool):
        return Line("scale", {"factor": float(op.consts[0])})
    return None


def _fn_upsample(op: Op, ins: tuple[int, ...], shape: tuple[int, ...]) -> Line | None:
    """F.interpolate: by the scale the sizes show (a whole number), else to the size; nearest or bilinear."""
    modes = [c for c in op.consts if isinstance(c, str)] or (["bilinear"] if op.fn == "interpolate_bilinear" else [])  # torch.export's op says it
    mode = modes[0] if modes else "nearest"
    if mode not in ("nearest", "bilinear"):
        return None
    (h, w), (oh, ow) = ins[1:], shape[1:]
    fields: dict[str, Any] = {"scale": (oh // h, ow // w)} if oh % h == 0 and ow % w == 0 else {"size": [oh, ow]}
    if mode != "nearest":
        fields["mode"] = mode
        if any(c is True for c in op.consts):
            fields["align_corners"] = True
    return Line("upsample", fields)


def _fn_pad(op: Op) -> Line | None:
    """F.pad(x, [left, right, top, bottom]) with zeros: nothing when it pads nothing, else a zeropad."""
    pads = op.consts[0] if op.consts and isinstance(op.consts[0], (list, tuple)) else None
    rest = op.consts[1:]
    if pads is None or len(pads) != 4 or any(not isinstance(p, int) or p < 0 for p in pads) or any(c not in ("constant", 0, 0.0, None) for c in rest):
        return None
    left, right, top, bottom = pads
    return Line("identity", {}) if not any(pads) else Line("zeropad", {"padding": [top, bottom, left, right]})


def _adaptive(ins: tuple[int, ...], shape: tuple[int, ...]) -> Line | None:
    """Adaptive average pooling to a size that divides the input: a plain average pooling (or nothing)."""
    (h, w), (oh, ow) = ins[1:], shape[1:]
    if h % oh or w % ow:
        return None
    if (h, w) == (oh, ow):
        return Line("identity", {})
    return Line("avgpool", {"kernel": (h // oh, w // ow)})


def _fn_pool(op: Op, kind: str) -> Line | None:
    """F.max_pool2d(x, k, stride, padding): kept only when the sizes it gives are the ones torch gave."""
    c = [x for x in op.consts if not isinstance(x, bool)] + [None, None]
    try:
        k = _pair(c[0][0] if isinstance(c[0], (list, tuple)) and len(c[0]) == 1 else c[0])
        s = _pair(c[1]) if c[1] not in (None, [], ()) else k
        p = _pair(c[2]) if c[2] not in (None, [], ()) else (0, 0)
    except (TypeError, ValueError, IndexError):
        return None
    h, w = op.in_shapes[0][1:]
    if op.shape[1:] != ((h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1):
        return None  # ceil mode, dilation or arguments read wrongly: a custom box says it exactly
    fields: dict[str, Any] = {"kernel": k}
    if s != k:
        fields["stride"] = s
    if p != (0, 0):
        fields["padding"] = p
    return Line(kind, fields)
