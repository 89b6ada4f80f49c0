"""The collapsed view: structure, folding, panels, clusters, counts (no layout binary needed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from cnnviz import build_network
from cnnviz.drawing import style
from cnnviz.drawing.collapse import collapse, runs
from cnnviz.drawing.view import build
from cnnviz.model import Path
from cnnviz.registry import list_models
from cnnviz.spec.layers import LAYERS


def boxes(v):
    return [(d["title"], d["count"]) for _, d in v.nodes(data=True) if d["kind"] == "module"]


def titles(v):
    return [d["title"] for _, d in v.nodes(data=True) if d["kind"] != "port"]


# ResNet-50's stage modules as the article draws them: (label, ×N)
RESNET50_STAGES = [("conv block", 1), ("identity block", 2), ("conv block", 1), ("identity block", 3),
                   ("conv block", 1), ("identity block", 5), ("conv block", 1), ("identity block", 2)]


def test_resnet50_compact_one_box_per_stage_module():
    view = build(build_network("resnet50"))
    assert boxes(view.main.graph) == RESNET50_STAGES
    assert titles(view.main.graph) == ["Input", "Conv", "Max pool"] + [t for t, _ in boxes(view.main.graph)] + ["Avg pool", "FC", "Softmax"]
    # the main line is one straight chain
    v = view.main.graph
    assert all(v.out_degree(n) <= 1 and v.in_degree(n) <= 1 for n in v)


def test_resnet50_panels_drawn_once():
    view = build(build_network("resnet50"))
    assert [p.title for p in view.panels] == ["conv block", "identity block"]
    conv, ident = (p.graph for p in view.panels)
    assert titles(conv) == ["Conv", "Conv", "Conv", "Conv", "+", "ReLU"]  # three on the path, one on the shortcut, the ReLU after the sum
    assert titles(ident) == ["Conv", "Conv", "Conv", "+", "ReLU"]
    assert [d["detail"] for _, d in ident.nodes(data=True) if d["kind"] == "layer"] == ["1×1", "3×3", "1×1 · linear", ""]
    # the identity shortcut is an edge from the panel's input to the addition
    (port_in,) = [n for n, d in ident.nodes(data=True) if d["type"] == "in"]
    (add,) = [n for n, d in ident.nodes(data=True) if d["type"] == "add"]
    assert ident.has_edge(port_in, add)


@pytest.mark.parametrize("deeper", ["resnet101", "resnet152"])
def test_deeper_resnets_draw_as_many_nodes_as_resnet50(deeper):
    base = build(build_network("resnet50"))
    other = build(build_network(deeper))
    assert len(other.main.graph) == len(base.main.graph)
    assert [len(p.graph) for p in other.panels] == [len(p.graph) for p in base.panels]
    assert [c for _, c in boxes(other.main.graph)] != [c for _, c in boxes(base.main.graph)]


def test_resnet152_counts():
    counts = [c for t, c in boxes(build(build_network("resnet152")).main.graph) if t == "identity block"]
    assert counts == [2, 7, 35, 2]


SPELLED = """
name: Spelled
input: [3, 32, 32]
modules:
  blk:
    label: my block
    args: [width]
    layers:
      - add: [[conv $width 3x3, conv $width 3x3], identity]
      - relu
layers:
  - conv 16 3x3
  - {LAYERS}
  - gap
  - dense 10
"""


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ("blk 16 x3", [("my block", 3)]),
        ("blk 16\n  - blk 16\n  - blk 16", [("my block", 3)]),
        ("blk 16 x2\n  - blk 16", [("my block", 3)]),
        ("blk 16\n  - blk 32\n  - blk 32", [("my block", 1), ("my block", 2)]),
        ("blk 16 x2\n  - maxpool 2\n  - blk 16 x2", [("my block", 2), ("my block", 2)]),
    ],
    ids=["repeat", "spelled-out", "mixed", "args-differ", "interrupted"],
)
def test_consecutive_identical_instances_fold(tmp_path, layers, expected):
    path = tmp_path / "spelled.yaml"
    path.write_text(SPELLED.replace("{LAYERS}", layers), encoding="utf-8")
    view = build(build_network(str(path)))
    assert boxes(view.main.graph) == expected
    assert len(view.panels) == 1


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ("blk 16\n  - blk 16 x2", ["16-d"]),  # one run: nothing to tell apart
        ("blk 16\n  - maxpool 2\n  - blk 16 x2", ["16-d", "16-d"]),  # same arguments: the same text
        ("blk 16 x2\n  - conv 32 1x1\n  - blk 32", ["16-d", "32-d"]),  # the widths tell them apart
    ],
    ids=["run", "same-args", "widths"],
)
def test_module_boxes_say_their_output_width(layers, expected):
    g = build_network_text(SPELLED.replace("{LAYERS}", layers))
    v = build(g).main.graph
    assert [d["detail"] for _, d in v.nodes(data=True) if d["kind"] == "module"] == expected


def build_network_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        return build_network(str(path))


def test_identical_leaf_layers_fold_on_the_main_line_but_not_in_branches():
    vgg = build(build_network("vgg16")).main.graph
    convs = [(d["title"], d["count"]) for _, d in vgg.nodes(data=True) if d["type"] == "conv"]
    assert convs == [("Conv", 2), ("Conv", 2), ("Conv", 3), ("Conv", 3), ("Conv", 3)]
    (inception_a,) = [p for p in build(build_network("inception_v4")).panels if p.title == "Inception-A"]
    assert all(d["count"] == 1 for _, d in inception_a.graph.nodes(data=True))
    assert titles(inception_a.graph).count("Conv") == 7  # both 3×3 convs of the third branch


def test_towers_drawn_once_and_marked():
    view = build(build_network("resnext50"))
    conv_block = view.panels[0].graph
    (towers,) = [c for c in conv_block.graph["clusters"].values() if c["kind"] == "towers"]
    assert towers["label"] == "×32 towers"
    inside = [d["title"] for _, d in conv_block.nodes(data=True) if d.get("cluster") and conv_block.graph["clusters"][d["cluster"]]["kind"] == "towers"]
    assert inside == ["Conv", "Conv"]  # one tower: 1×1 then 3×3
    concat = [d for _, d in conv_block.nodes(data=True) if d["type"] == "concat"]
    assert len(concat) == 1 and not concat[0].get("cluster")  # the concat sits outside the towers
    assert "towers" in view.marks


def test_alexnet_two_towers():
    view = build(build_network("alexnet"))
    labels = [c["label"] for c in view.main.graph.graph["clusters"].values()]
    assert labels and set(labels) == {"×2 towers"}


def test_clutter_hidden_and_bn_act_folded():
    g = build_network("alexnet")
    for detail, hidden in (("compact", True), ("full", False)):
        types = {d["type"] for _, d in collapse(g, detail=detail).nodes(data=True)}
        assert ({"dropout", "flatten"} & types == set()) is hidden
        assert "lrn" in types  # a standalone normalisation is never hidden
        assert ("relu" in types) is not hidden  # ReLUs written on the layers fold into them
    r50 = {d["type"] for _, d in collapse(build_network("resnet50"), detail="full").nodes(data=True)}
    assert {"bn", "relu"} <= r50


def test_aux_heads_dashed_or_left_out():
    g = build_network("inception_v1")
    with_aux = build(g)
    aux_nodes = [d for _, d in with_aux.main.graph.nodes(data=True) if d.get("aux")]
    assert aux_nodes and "aux" in with_aux.marks
    assert all(e["aux"] for s, t, e in with_aux.main.graph.edges(data=True) if with_aux.main.graph.nodes[t].get("aux"))
    without = build(g, aux=False)
    assert not [d for _, d in without.main.graph.nodes(data=True) if d.get("aux")]
    assert "aux" not in without.marks
    assert len(without.main.graph) == len(with_aux.main.graph) - len(aux_nodes)


def test_modules_detail_expands_one_level_and_folds_runs():
    view = build(build_network("resnet50"), detail="modules")
    clusters = list(view.main.graph.graph["clusters"].values())
    assert [(c["label"], c["count"]) for c in clusters] == RESNET50_STAGES
    assert not view.panels  # nothing nested deeper in ResNet
    x = build(build_network("xception"), detail="modules")
    assert [p.title for p in x.panels] == ["entry block", "middle block"]


def test_full_detail_draws_every_layer():
    g = build_network("resnet50")
    v = build(g, detail="full")
    assert not v.panels
    convs = sum(1 for _, d in v.main.graph.nodes(data=True) if d["type"] == "conv")
    assert convs == sum(1 for n in g.layers() if n.type == "conv") == 53


def test_runs_are_computed_across_spelled_out_and_repeated_calls():
    net = build_network("resnet50")
    r = runs(net)
    conv2 = net.find("conv2")
    assert r[conv2.copy(1)] == (conv2.copy(1), 1) and r[conv2.copy(2)] == (conv2.copy(1), 2)
    conv2_1 = net.find("conv2_1")
    assert r[conv2_1] == (conv2_1, 1)
    assert all(isinstance(b, Path) and isinstance(first, Path) for b, (first, _) in r.items())


def test_variants_of_one_module_get_tags_on_panel_and_box():
    view = build(build_network("nin"))
    panel_titles = [p.title for p in view.panels]
    assert len(panel_titles) == len(set(panel_titles)) > 1
    assert all(t.startswith("mlpconv · ") for t in panel_titles)
    for _, d in view.main.graph.nodes(data=True):
        if d["kind"] == "module":
            (key,) = d["panels"]
            (title,) = [p.title for p in view.panels if p.key == key]
            told = title.removeprefix("mlpconv · ")  # the box says which panel draws it: "filters 96" as its width, "96-d"
            assert told in d["detail"] or d["detail"].startswith(f"{told.split()[-1]}-d")


@pytest.mark.parametrize("ident", list_models())
@pytest.mark.parametrize("detail", ["compact", "modules", "full"])
def test_every_catalogue_spec_builds(ident, detail):
    net = build_network(ident)
    view = build(net, detail=detail)
    for part in view.parts:
        v = part.graph
        assert list(v) == [f"n{i}" for i in range(len(v))]  # deterministic ids
        assert [d["order"] for _, d in v.nodes(data=True)] == list(range(len(v)))  # the order, kept as data
        for _n, d in v.nodes(data=True):
            if d["kind"] != "port":
                style.swatch(d["category"])
            assert all(isinstance(m, Path) and (m in net.nodes or m in net.blocks) for m in d["members"])
        for s, t in v.edges:
            assert v.nodes[s]["order"] < v.nodes[t]["order"], "edges run forward in execution order"
            assert v.edges[s, t]["via"] in net.nodes
    json.dumps(__import__("cnnviz.drawing.view", fromlist=["as_json"]).as_json(view))


def test_every_layer_type_has_a_title_and_colour():
    for name, _lt in LAYERS.items():
        assert style.title(name)
        assert style.swatch(style.category(name))


def test_unknown_layer_type_is_an_error_not_a_fallback():
    with pytest.raises(style.StyleError):
        style.category("warpdrive")
    with pytest.raises(style.StyleError):
        style.title("warpdrive")


def test_compact_render_does_not_import_torch():
    code = (
        "import sys, cnnviz\n"
        "d = cnnviz.diagram('inception_v4')\n"
        "d.source(); d.json()\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_wrap_candidates_split_no_cluster_and_cross_nothing_else():
    from cnnviz.drawing import wrap

    v = build(build_network("resnet50"), detail="full").main.graph
    cands = wrap.candidates(v)
    assert cands  # between blocks, after each block's last ReLU
    clusters = v.graph["clusters"]
    order = v.nodes(data="order")
    for c in cands:
        i = order[c]
        assert all(s == c for s, t in v.edges if order[s] <= i < order[t])
    rows = wrap.split(v, cands[:2])
    assert len(rows) == 3
    assert sum(len(r) for r in rows) == len(v) + 4  # two ports per cut
    assert {c for r in rows for c in r.graph["clusters"]} == set(clusters)
    for r in rows:
        for s, t in r.edges:
            assert s in r and t in r


def test_wrap_choose_only_when_too_long():
    from cnnviz.drawing import wrap

    v = build(build_network("resnet50"), detail="full").main.graph
    along = {n: 100.0 * i for i, n in enumerate(v)}
    assert wrap.choose(v, along, 1000.0) == []
    cuts = wrap.choose(v, along, 100.0 * len(v))
    assert len(cuts) == math.ceil(100.0 * len(v) / wrap.LIMIT) - 1


# -- parameter counts: a box counts what `cnnviz summary` counts, once -------------------------


@pytest.fixture(scope="module")
def resnet50_measured():
    from cnnviz import shape_stage

    net = build_network("resnet50")
    return net, shape_stage().infer(net, check=False)


def test_conv_box_counts_its_batch_norm_once(resnet50_measured):
    from cnnviz.summary import rows

    net, shapes = resnet50_measured
    summary = {r.path: r.params for r in rows(net, shapes, depth=99)}
    view = build(net, shapes=shapes)
    (conv1,) = [d for _, d in view.main.graph.nodes(data=True) if d["type"] == "conv"]
    stem = conv1["members"][0]
    assert net.folds[stem]  # written as 'conv 64 7x7 /2' with bn and relu
    assert conv1["nparams"] == summary[stem] == 7 * 7 * 3 * 64 + 2 * 64 == 9536  # weights + bn scale and shift


@pytest.mark.parametrize("detail", ["compact", "modules", "full"])
def test_every_box_counts_what_the_summary_counts(resnet50_measured, detail):
    from cnnviz.summary import rows

    net, shapes = resnet50_measured
    summary = {r.path: r.params for r in rows(net, shapes, depth=99)}  # a layer's row includes its folded bn
    view = build(net, detail=detail, shapes=shapes)
    for part in view.parts:
        for _, d in part.graph.nodes(data=True):
            if d["kind"] in ("module", "layer") and "nparams" not in d:  # in a panel, where its calls differ
                assert part is not view.main and len({summary.get(m.rebase(part.block, c)) for c in part.calls for m in d["members"][:1]}) > 1
            elif d["kind"] == "module":
                assert d["nparams"] == sum(summary[b] for b in d["members"])
            elif d["kind"] == "layer" and detail != "full":
                assert d["nparams"] == sum(summary[m] for m in d["members"] if not m.is_fold)
            elif d["kind"] == "layer":  # the full view draws the batch norm as a box of its own
                assert d["nparams"] == sum(shapes.params.get(m, 0) for m in d["members"])
    main = view.main.graph.nodes(data=True)
    assert sum(d.get("nparams", 0) for _, d in main) == shapes.total  # the main line adds up, nothing twice
    if detail == "compact":  # identity block's panel stands for calls at 256 to 2048 channels: its convs say no count
        (identity,) = [p for p in view.panels if p.title == "identity block"]
        assert len(identity.calls) > 1 and not any("nparams" in d for _, d in identity.graph.nodes(data=True) if d["type"] == "conv")


# -- the paint hook ---------------------------------------------------------------------


def test_paint_hook_colours_boxes_and_clusters_as_the_dot_is_built():
    from cnnviz.drawing import Diagram, Paint

    net = build_network("resnet50")
    (fc,) = [n.path for n in net.layers() if n.type == "dense"]
    seen = []

    def paint(drawn):
        seen.append(drawn)
        if isinstance(drawn, Path):  # a cluster: the block drawn expanded
            return Paint(stroke="#010203") if drawn == net.find("conv2_1") else None
        return Paint("#0a0b0c", "#0d0e0f") if fc in drawn else None

    plain = Diagram(net, detail="modules").source()
    src = Diagram(net, detail="modules", paint=paint).source()
    assert seen and all(isinstance(x, Path) or (isinstance(x, tuple) and all(isinstance(m, Path) for m in x)) for x in seen)
    clusters = [str(x) for x in seen if isinstance(x, Path)]
    assert clusters == ["conv2_1", "conv2.1", "conv3_1", "conv3.1", "conv4_1", "conv4.1", "conv5_1", "conv5.1"]  # each cluster, by its block's path
    fc = [line for line in src.splitlines() if "#0a0b0c" in line]
    assert len(fc) == 1 and 'color="#0d0e0f"' in fc[0] and "FC" in fc[0]
    framed = [line for line in src.splitlines() if "#010203" in line]
    assert len(framed) == 1 and 'fillcolor="#fdf8ef"' in framed[0]  # a stroke alone keeps the cluster's fill
    changed = {a for a, b in zip(plain.splitlines(), src.splitlines()) if a != b}
    assert len(changed) == 2 and len(plain.splitlines()) == len(src.splitlines())  # nothing else moved


@pytest.mark.parametrize("ident", ["resnet50", "inception_v1", "resnext50"])
def test_paint_returning_none_keeps_the_golden_output(ident):
    from cnnviz.drawing import Diagram

    asked = []
    assert Diagram(ident, paint=lambda d: asked.append(d)).source() == Diagram(ident).source()
    assert asked


def test_panel_retitled_through_the_piece():
    from cnnviz.drawing import Diagram

    pieces = Diagram("resnet50").pieces()
    assert [p.role for p in pieces][:4] == ["title", "main", "panel", "panel"]
    panel = pieces[2]
    renamed = panel.retitled("conv block · before")
    assert renamed.part.title == "conv block · before" and panel.part.title == "conv block"
    assert renamed.part.graph is panel.part.graph and renamed.role == "panel"
    label = renamed.dot.clusters["panel"][0]["label"]
    assert "conv block · before" in label and "conv block · before" not in str(panel.dot.clusters["panel"][0]["label"])
    with pytest.raises(ValueError):
        pieces[0].retitled("no")  # a title line has no frame to retitle


def test_with_several_outputs_the_line_drawn_straight_ends_in_the_main_one(tmp_path):
    # a head longer than the main line's last step: the spine still ends in "out"
    (tmp_path / "t.yaml").write_text(
        "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 4 3x3\n  - output: [conv 4 3x3, conv 4 3x3, conv 4 3x3]\n    name: long\n  - conv 4 1x1\n"
    )
    v = build(build_network(str(tmp_path / "t.yaml"))).main.graph
    spine = [d.get("output") or d["title"] for _, d in v.nodes(data=True) if d.get("spine")]
    assert spine[-1] == "out" and "long" not in spine
