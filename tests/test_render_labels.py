"""What boxes and panels say: module boxes (width, their own call's arguments), variant
panels, depthwise and grouped convs, linear vs activated convs, standalone norms and
activations (no layout binary needed)."""

from __future__ import annotations

import re

import pytest

from cnnviz import build_network
from cnnviz.drawing import labels, naming, style
from cnnviz.drawing.view import build
from cnnviz.drawing.widths import measure
from cnnviz.registry import list_models
from cnnviz.spec.layers import LAYERS


def spec(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return build_network(str(path))


ACTIVATIONS = {style.title(t) for t, lt in LAYERS.items() if lt.category == "act"}


def module_boxes(view):
    for part in view.parts:
        for _, d in part.graph.nodes(data=True):
            if d["kind"] == "module":
                yield part, d


# A module called several times with different arguments, some calls repeated: the
# EfficientNet-B0 case where later stages were labelled with an earlier stage's settings.
MBCONV = """
name: MBConv-like
input: [3, 64, 64]
defaults:
  conv: {bias: false, bn: true, act: relu}
modules:
  mbconv:
    label: MBConv6
    args: [c, k, stride]
    layers:
      - conv $(c*2) 1x1
      - conv $(c*2) $k /$stride groups=$(c*2)
      - conv $c 1x1 act=none
layers:
  - conv 16 3x3 /2
  - mbconv 24 3 2
  - mbconv 24 3 1
  - mbconv 40 5 2
  - mbconv 40 5 1
  - mbconv 80 3 2
  - mbconv 80 3 1 x2
  - mbconv 112 5 1 x3
  - gap
  - dense 10
"""


# Two modules under one label, activations as arguments, depthwise convs and a
# squeeze-and-excitation module (a mul merge): variants are named by what they draw.
BNECK = """
name: MobileNetV3-like
input: [3, 224, 224]
defaults:
  conv: {bias: false, bn: true}
  dwconv: {bias: false, bn: true}
modules:
  se:
    label: SE
    args: [c, r]
    layers:
      - mul: [identity, [gap keep, conv $r 1x1 bias=true bn=false relu, conv $c 1x1 bias=true bn=false hardsigmoid]]
  bneck:
    label: bneck
    args: [e, c, k, stride, act]
    layers:
      - conv $e 1x1 act=$act
      - dwconv $k /$stride act=$act
      - conv $c 1x1
  bneck_se:
    label: bneck
    args: [e, c, k, stride, act]
    layers:
      - conv $e 1x1 act=$act
      - dwconv $k /$stride act=$act
      - se $e $(e // 4)
      - conv $c 1x1
layers:
  - conv 16 3x3 /2 hardswish
  - bneck 64 24 3 2 relu
  - bneck 72 24 3 1 relu
  - bneck_se 72 40 5 2 relu
  - bneck 240 80 3 2 hardswish
  - bneck 200 80 3 1 hardswish x2
  - bneck_se 480 112 3 1 hardswish
  - conv 960 1x1 hardswish
  - gap
  - dense 1280 hardswish
  - dropout 0.2
  - dense 1000
"""


def test_variants_drawing_other_activations_are_named_by_them(tmp_path):
    view = build(spec(tmp_path, BNECK))
    assert [p.title for p in view.panels] == [
        "bneck (bneck) · ReLU",
        "bneck (bneck_se) · ReLU",
        "bneck (bneck) · Hard swish",
        "bneck (bneck_se) · Hard swish",
        "SE",
    ]
    assert [d["detail"] for p, d in module_boxes(view) if p.key == "main"] == [
        "24-d · e64 /2 · ReLU",  # a stride other than 1 is always said: where the image shrinks
        "24-d · e72 · ReLU",
        "40-d · /2 · ReLU",
        "80-d · e240 /2 · Hard swish",
        "80-d · e200 · Hard swish",
        "112-d · Hard swish",
    ]
    (se,) = [p for p in view.panels if p.title == "SE"]
    assert [(d["title"], d["detail"]) for _, d in se.graph.nodes(data=True) if d["kind"] == "layer"] == [
        ("Avg pool", "global"),
        ("Conv", "1×1 · ReLU"),
        ("Conv", "1×1 · Hard sigmoid"),
    ]
    first = view.panels[0].graph
    assert [d["title"] for _, d in first.nodes(data=True) if d["kind"] == "layer"] == ["Conv", "DW conv", "Conv"]


def test_repeated_calls_say_their_own_arguments(tmp_path):
    view = build(spec(tmp_path, MBCONV))
    got = [(d["detail"], d["count"]) for _, d in module_boxes(view)]
    assert got == [
        ("24-d · k3 /2", 1),
        ("24-d · k3 /1", 1),
        ("40-d · k5 /2", 1),
        ("40-d · k5 /1", 1),
        ("80-d · k3 /2", 1),
        ("80-d · k3 /1", 2),
        ("112-d · k5 /1", 3),
    ]
    assert [p.title for p in view.panels] == ["MBConv6 · k3", "MBConv6 · k5"]
    assert [d["title"] for _, d in view.panels[0].graph.nodes(data=True) if d["kind"] == "layer"] == ["Conv", "DW conv", "Conv"]


def _pieces(detail: str) -> list[str]:
    """A module box's argument texts ('k3', '/2', 'pool 32'), after its width."""
    parts = [p for p in detail.split(labels.SEP) if p]
    if parts and re.fullmatch(r"[0-9]+-d", parts[0]):
        parts = parts[1:]
    parts = [p for p in parts if p not in ACTIVATIONS]  # the activation its panel draws
    assert len(parts) <= 1, detail
    return [p for chunk in parts for p in re.split(r", | (?=/)", chunk)]


OWN = {"mbconv": MBCONV, "bneck": BNECK}


@pytest.mark.parametrize("ident", [*list_models(), *OWN])
def test_each_folded_box_says_its_own_calls_arguments(tmp_path, ident):
    """Every module box of every part: every member of the run has the box's arguments, and
    each argument text on the box is one of those, in the module's declared order."""
    net = spec(tmp_path, OWN[ident]) if ident in OWN else build_network(ident)
    widths = measure(net)
    for _, d in module_boxes(build(net)):
        first = net.blocks[d["members"][0]]
        shrink = naming.shrink_text(widths[first.entry], widths[first.exit])  # measured, not an argument
        for b in d["members"]:
            own = net.blocks[b].args
            assert list(own.items()) == list(d["args"].items())
            declared = list(own)
            at = []
            pieces = _pieces(d["detail"])
            if shrink and "stride" not in declared:
                assert pieces[-1] == shrink, d["detail"]
                pieces = pieces[:-1]
            for piece in pieces:
                (key,) = [k for k in declared if naming.arg_text(k, own[k]) == piece]
                at.append(declared.index(key))
            assert at == sorted(at), d["detail"]


@pytest.mark.parametrize("ident", [*list_models(), *OWN])
def test_box_widths_are_the_shape_pass_channels(tmp_path, ident):
    shapes = pytest.importorskip("cnnviz.shapes")
    net = spec(tmp_path, OWN[ident]) if ident in OWN else build_network(ident)
    measured = shapes.infer(net, check=False)
    assert measure(net) == dict(measured.shapes)  # the torch-free walk agrees node by node
    view = build(net)
    for part, d in module_boxes(view):
        last = net.blocks[d["members"][-1]].exit
        shown = d["detail"].split(labels.SEP)[0]
        if part is view.main or shown.endswith("-d"):
            assert shown == f"{measured.shapes[last][0]}-d"
        else:  # in a panel, no width is claimed where the calls it stands for differ in it
            (panel,) = [p for p in view.panels if p is part]
            calls = [b for b in net.blocks if net.blocks[b].kind == "call" and net.blocks[b].module == net.blocks[panel.block].module]
            inner = [measured.shapes[last.rebase(panel.block, c)][0] for c in calls if last.within(panel.block) and last.rebase(panel.block, c) in measured.shapes]
            assert len(set(inner)) > 1, (panel.title, d["title"])


@pytest.mark.parametrize(
    ("type_", "params", "cin", "expected"),
    [
        ("conv", {"filters": 32, "kernel": (3, 3), "groups": 32}, 32, ("DW conv", "3×3")),
        ("conv", {"filters": 64, "kernel": (3, 3), "groups": 32}, 32, ("DW conv", "3×3")),
        ("conv", {"filters": 128, "kernel": (3, 3), "groups": 32}, 128, ("Conv", "3×3 · g32")),
        ("conv", {"filters": 128, "kernel": (1, 1), "groups": 1}, 128, ("Conv", "1×1")),
        ("conv", {"filters": 1, "kernel": (3, 3), "groups": 1}, 1, ("Conv", "3×3")),  # one channel: not "depthwise"
        ("conv", {"filters": 32, "kernel": (3, 3), "groups": 32}, None, ("Conv", "3×3 · g32")),  # input unknown
        ("dwconv", {"kernel": (5, 5), "multiplier": 1}, 32, ("DW conv", "5×5")),
        ("dwconv", {"kernel": (3, 3), "multiplier": 2}, None, ("DW conv", "3×3 · ×2")),
        ("dense", {"units": 1000, "bias": True}, 2048, ("FC", "1000")),  # its width, as a conv says its kernel
    ],
)
def test_depthwise_and_grouped_convs(type_, params, cin, expected):
    assert labels.layer(type_, params, "compact", cin) == expected


@pytest.mark.parametrize(
    ("type_", "params", "expected"),
    [  # where the image shrinks shows in every view: a stride other than 1, or than a pool's window
        ("conv", {"filters": 64, "kernel": (7, 7), "stride": (2, 2)}, ("Conv", "7×7 /2")),
        ("conv", {"filters": 64, "kernel": (3, 3), "stride": (1, 1)}, ("Conv", "3×3")),
        ("conv", {"filters": 64, "kernel": (1, 7), "stride": (1, 2)}, ("Conv", "1×7 /1×2")),
        ("dwconv", {"kernel": (3, 3), "stride": (2, 2), "multiplier": 1}, ("DW conv", "3×3 /2")),
        ("tconv", {"filters": 64, "kernel": (2, 2), "stride": (2, 2)}, ("Transposed conv", "2×2 ↑2")),  # it grows the image
        ("maxpool", {"kernel": (3, 3), "stride": (2, 2)}, ("Max pool", "3×3 /2")),
        ("maxpool", {"kernel": (2, 2), "stride": (2, 2)}, ("Max pool", "2×2")),  # a 2×2 window halves by itself
        ("avgpool", {"kernel": (3, 3), "stride": (1, 1)}, ("Avg pool", "3×3")),  # keeps the size (Inception's pool branch)
    ],
)
def test_strides_show_where_the_image_shrinks(type_, params, expected):
    assert labels.layer(type_, params, "compact") == expected


TAGS = """
name: Tags
input: [3, 16, 16]
layers:
  - conv 8 3x3 {A}
  - conv 16 3x3 {B}
  - conv 8 1x1
  - {AFTER}
  - gap
  - dense 10
"""


@pytest.mark.parametrize(
    ("a", "b", "after", "expected"),
    [
        ("relu", "relu", "identity", ["3×3", "3×3", "1×1 · linear"]),  # activated and linear: the linear one says so
        ("relu", "tanh", "identity", ["3×3 · ReLU", "3×3 · tanh", "1×1 · linear"]),  # mixed activations: each says its own
        ("relu", "relu", "relu", ["3×3", "3×3", "1×1"]),  # a conv followed by its activation's own box is not linear
        ("", "", "identity", ["3×3", "3×3", "1×1"]),  # all linear: nothing to tell apart
    ],
    ids=["linear", "mixed", "standalone", "all-linear"],
)
def test_linear_and_activated_convs(tmp_path, a, b, after, expected):
    net = spec(tmp_path, TAGS.format(A=a, B=b, AFTER=after))
    main = build(net).main.graph
    assert [d["detail"] for _, d in main.nodes(data=True) if d["type"] == "conv"] == expected


def test_standalone_norms_and_activations_are_small_boxes(tmp_path):
    net = spec(tmp_path, TAGS.format(A="", B="", AFTER="bn\n  - relu"))
    main = build(net).main.graph
    drawn = [(d["title"], bool(d.get("small"))) for _, d in main.nodes(data=True) if d["kind"] == "layer"]
    assert drawn == [("Conv", False), ("Conv", False), ("Conv", False), ("Batch norm", True), ("ReLU", True), ("Avg pool", False), ("FC", False)]
    full = build(net, detail="full").main.graph  # the full view draws them as any layer
    assert not any(d.get("small") for _, d in full.nodes(data=True))


@pytest.mark.parametrize("type_", sorted(t for t, lt in LAYERS.items() if lt.category in style.SMALL))
def test_no_norm_or_activation_type_is_hidden(type_):
    assert type_ not in style.CLUTTER


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([[{"k": 3, "s": 1}], [{"k": 5, "s": 1}]], ["m · k3", "m · k5"]),
        ([[{"k": 3, "s": 1}, {"k": 3, "s": 2}], [{"k": 5, "s": 2}]], ["m · k3", "m · k5"]),  # s is not constant within the first
        ([[{"k": 3, "s": 1}, {"k": 5, "s": 1}], [{"k": 3, "s": 2}]], ["m · s1", "m · s2"]),
        ([[{"k": 3, "s": 1}, {"k": 5, "s": 1}], [{"k": 3, "s": 1}]], ["m · variant 1", "m · variant 2"]),  # no argument alone
        ([[{"width": 64}], [{"width": 128}]], ["m · width 64", "m · width 128"]),
    ],
)
def test_variant_titles(groups, expected):
    assert naming.variant_titles("m", groups) == expected


@pytest.mark.parametrize(
    ("groups", "drawn", "expected"),
    [
        ([[{"k": 3, "a": "r"}], [{"k": 3, "a": "h"}]], ["ReLU", "Hard swish"], ["m · ReLU", "m · Hard swish"]),
        ([[{"k": 3}], [{"k": 5}], [{"k": 3}]], ["ReLU", "ReLU", "SiLU"], ["m · ReLU · k3", "m · ReLU · k5", "m · SiLU · k3"]),
        ([[{"k": 3}], [{"k": 5}]], ["ReLU", "ReLU"], ["m · k3", "m · k5"]),  # the same activation says nothing
    ],
)
def test_variant_titles_with_what_they_draw(groups, drawn, expected):
    assert naming.variant_titles("m", groups, drawn) == expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("k", 5, "k5"), ("stride", 2, "/2"), ("stride", (2, 1), "/2×1"), ("pool", 32, "pool 32"), ("kernel", "1x7", "kernel 1×7"), ("scale", 0.17, "scale 0.17"), ("se", True, "se on")],
)
def test_argument_texts(key, value, expected):
    assert naming.arg_text(key, value) == expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ((64, 56, 56), (128, 28, 28), "/2"),
        ((64, 56, 56), (64, 56, 56), ""),
        ((64, 56, 56), (64, 112, 112), ""),  # grown (up-sampling): not a stride
        ((64, 56, 56), (64, 28, 56), "/2×1"),
        ((64, 7, 7), (64, 4, 4), ""),  # not by a whole factor (a ceil-mode pool): nothing claimed
        ((64, 56, 56), (512,), ""),  # to a vector: not an image any more
        (None, (64, 28, 28), ""),
    ],
)
def test_a_module_box_says_how_much_it_shrinks_the_image(before, after, expected):
    assert naming.shrink_text(before, after) == expected


def test_a_stride_written_inside_a_module_shows_on_its_boxes(tmp_path):
    text = (
        "name: t\ninput: [3, 32, 32]\nmodules:\n  down:\n    args: [width]\n    layers: [conv $width 3x3 /2, conv $width 3x3]\n"
        "  keep:\n    args: [width]\n    layers: [conv $width 3x3]\nlayers: [down 8, keep 8, down 16, gap]\n"
    )
    view = build(spec(tmp_path, text))
    assert [d["detail"] for _, d in module_boxes(view)] == ["8-d · /2", "8-d", "16-d · /2"]


def test_a_panel_claims_no_width_its_calls_do_not_share(tmp_path):
    text = (
        "name: t\ninput: [8, 8, 8]\nmodules:\n  se:\n    args: [width]\n    layers:\n      - mul: [identity, [gap keep, conv $width 1x1 act=sigmoid]]\n"
        "  blk:\n    args: [width]\n    layers: [conv $width 3x3, se $width]\n  head:\n    layers: [se 8]\n"
        "layers: [blk 16, blk 8, head, gap]\n"
    )
    view = build(spec(tmp_path, text))
    inner = {(p.title, d["title"]): d["detail"] for p, d in module_boxes(view) if p is not view.main}
    assert inner == {("blk", "se"): "", ("head", "se"): "8-d"}  # blk's se is 8-d and 16-d; head's always 8-d


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"scale": (2, 2), "size": None, "mode": "nearest"}, ("Upsample", "×2")),  # what a reader assumes
        ({"scale": (2, 2), "size": None, "mode": "bilinear"}, ("Upsample", "×2 bilinear")),
        ({"scale": None, "size": (7, 7), "mode": "bilinear"}, ("Upsample", "to 7×7 bilinear")),
    ],
)
def test_upsampling_says_its_mode_unless_nearest(params, expected):
    assert labels.layer("upsample", params, "compact") == expected


@pytest.mark.parametrize(
    ("width", "args", "keys", "expected"),
    [
        (48, {"width": 48, "stride": 2}, ["width", "stride"], "48-d · /2"),  # "48-d" says width 48 already
        (48, {"width": 24, "stride": 2}, ["width", "stride"], "48-d · width 24 /2"),
        (None, {"width": 48}, ["width"], "width 48"),
    ],
)
def test_a_box_does_not_say_its_width_twice(width, args, keys, expected):
    assert naming.box_detail(width, args, keys) == expected
