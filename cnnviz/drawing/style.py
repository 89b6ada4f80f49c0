"""Colours, names and sizes as data: one table, used by every diagram.

A box's colour comes from its layer type's ``category`` in
:mod:`cnnviz.spec.layers` (or from the view's own kinds: module, add, concat,
input).  There is no fallback: a category missing here is an error, so adding a
layer type to the registry without a colour fails loudly (and a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.layers import LAYERS


class StyleError(LookupError):
    """A layer type or category the style tables do not know."""


@dataclass(frozen=True)
class Swatch:
    fill: str
    stroke: str
    legend: str  # the name in the legend
    text: str = "#1f2933"


@dataclass(frozen=True)
class Paint:
    """Colours a ``paint`` hook gives one drawn element instead of its usual ones
    (:class:`cnnviz.drawing.Diagram`); ``None`` keeps the usual fill or stroke."""

    fill: str | None = None
    stroke: str | None = None


FONT = "Helvetica"
TEXT = "#1f2933"
MUTED = "#52606d"
COUNT = "#8a6a3a"  # the "×N" of a folded run
EDGE = "#52606d"
AUX_EDGE = "#9aa5b1"
PANEL_FILL = "#fbfaf7"
PANEL_STROKE = "#b8ab93"
TOWERS_FILL = "#f1f3f5"
TOWERS_STROKE = "#9aa5b1"
AUX_STROKE = "#9aa5b1"

# Order here is the legend's order.
CATEGORIES: dict[str, Swatch] = {
    "input": Swatch("#ffffff", "#7b8794", "Input"),
    "output": Swatch("#ffffff", "#3e4c59", "Output"),
    "module": Swatch("#f3e6cf", "#a98c5f", "Module (see its panel)"),
    "conv": Swatch("#c4dcf0", "#5b8db8", "Convolution"),
    "sepconv": Swatch("#bfe5d8", "#4e9a84", "Separable convolution"),
    "dwconv": Swatch("#c8cdf2", "#5561b3", "Depthwise convolution"),
    "tconv": Swatch("#b8e6ee", "#2f8ea3", "Transposed convolution"),
    "upsample": Swatch("#e0f4f7", "#5aa9b8", "Up-sampling"),
    "pool": Swatch("#fadcb0", "#cf8a2e", "Pooling"),
    "norm": Swatch("#dbecd3", "#76a266", "Normalisation"),
    "act": Swatch("#f6d3d3", "#c07272", "Activation"),
    "scale": Swatch("#f7d6e8", "#bf6f9a", "Residual scaling"),
    "layerscale": Swatch("#eccbe9", "#a05a9a", "Layer scale (learned)"),
    "pad": Swatch("#eeeeee", "#a0a0a0", "Zero padding"),
    "dropout": Swatch("#e9e9e9", "#9a9a9a", "Dropout"),
    "droppath": Swatch("#e9e9e9", "#6f6f6f", "Drop path (training only)"),
    "shuffle": Swatch("#e6d2c3", "#8b5e3c", "Channel shuffle"),
    "flatten": Swatch("#efefef", "#a0a0a0", "Flatten"),
    "identity": Swatch("#ffffff", "#a0a0a0", "Identity"),
    "custom": Swatch("#e9eef2", "#3e4c59", "Custom (not looked inside)"),
    "dense": Swatch("#dccdec", "#8a6bb1", "Fully connected"),
    "softmax": Swatch("#f7eaa6", "#c2a21e", "Softmax"),
    "add": Swatch("#ffffff", "#52606d", "Addition"),
    "mul": Swatch("#ffffff", "#8a4f7d", "Multiplication (element-wise)"),
    "split": Swatch("#f5ece4", "#a07a5a", "Channel split"),
    "concat": Swatch("#e4e7eb", "#7b8794", "Concatenation"),
}

# What a box says for each layer type (the legend says the category's name).
TITLES: dict[str, str] = {
    "conv": "Conv",
    "sepconv": "Sep conv",
    "dwconv": "DW conv",
    "bn": "Batch norm",
    "relu": "ReLU",
    "tanh": "tanh",
    "sigmoid": "Sigmoid",
    "relu6": "ReLU6",
    "silu": "SiLU",
    "gelu": "GELU",
    "hardswish": "Hard swish",
    "hardsigmoid": "Hard sigmoid",
    "softmax": "Softmax",
    "maxpool": "Max pool",
    "avgpool": "Avg pool",
    "gap": "Avg pool",
    "lrn": "LRN",
    "layernorm": "Layer norm",
    "groupnorm": "Group norm",
    "layerscale": "Layer scale",
    "tconv": "Transposed conv",
    "upsample": "Upsample",
    "droppath": "Drop path",
    "shuffle": "Shuffle",
    "split": "Split",
    "custom": "Custom",
    "dropout": "Dropout",
    "flatten": "Flatten",
    "dense": "FC",
    "zeropad": "Zero pad",
    "scale": "Scale",
    "identity": "Identity",
}

# Layer types hidden outside --detail full, as the article hides them:
# dropout, flatten, padding, residual scaling and identities are left out.
# Normalisations and activations are never hidden: written on a conv they fold
# into its box, written on their own they are drawn as small boxes (SMALL).
CLUTTER = frozenset({"dropout", "flatten", "zeropad", "scale", "identity"})
SMALL = frozenset({"norm", "act"})  # categories drawn as small boxes, title only

# Point sizes.
TITLE_SIZE = 18
SUBTITLE_SIZE = 11
BOX_SIZE = 11
DETAIL_SIZE = 9
SMALL_SIZE = 9
TAG_SIZE = 8
PANEL_TITLE_SIZE = 12
CLUSTER_SIZE = 10
LEGEND_SIZE = 10
EDGE_LABEL_SIZE = 8


# Node types that are not layer types of the spec: the multiplying merge, and the part of a split's input each branch reads.
NOT_LAYERS = ("mul", "split")


def category(type_: str) -> str:
    """The colour family of a layer type, or of a merge/view kind."""
    if type_ in ("add", "concat", "module", "input", "output") or type_ in NOT_LAYERS:
        return type_
    lt = LAYERS.get(type_)
    if lt is None:
        raise StyleError(f"no style for layer type '{type_}'")
    if lt.category not in CATEGORIES:
        raise StyleError(f"layer type '{type_}' has category '{lt.category}', which has no colour")
    return lt.category


def swatch(cat: str) -> Swatch:
    try:
        return CATEGORIES[cat]
    except KeyError:
        raise StyleError(f"no colour for category '{cat}'") from None


def title(type_: str) -> str:
    try:
        return TITLES[type_]
    except KeyError:
        raise StyleError(f"no box title for layer type '{type_}'") from None


def legend_order(cats) -> list[str]:
    """The categories present, in the table's order."""
    present = set(cats)
    unknown = present - set(CATEGORIES)
    if unknown:
        raise StyleError(f"no colour for categories {sorted(unknown)}")
    return [c for c in CATEGORIES if c in present]
