"""cnnviz diff: the alignment on small specs, and the article's pairs with their facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.diff import compare, diff
from cnnviz.diff.align import Aligner, align_parts, units
from cnnviz.diff.jsonout import as_dict
from cnnviz.diff.parts import parts_of
from cnnviz.diff.text import as_text
from cnnviz.graph import build_graph
from cnnviz.registry import list_models
from cnnviz.spec import load_spec

CASES = Path(__file__).parent / "cases" / "diff"
SMALL_A, SMALL_B = str(CASES / "small_a.yaml"), str(CASES / "small_b.yaml")


def graph(ref):
    return build_graph(load_spec(ref))


def top(d, status=None):
    return [c for c in d.changes if status is None or c.status == status]


def notes(c):
    return {n.what: (n.a, n.b) for n in c.notes}


def descendants(c):
    return [k for k in c.walk() if k is not c]


@pytest.fixture(scope="module")
def pairs():
    cache = {}

    def get(a, b):
        if (a, b) not in cache:
            cache[a, b] = diff(a, b)
        return cache[a, b]

    return get


# -- the alignment, without shapes (no torch) ------------------------------------------------


def test_small_pair_statuses_in_order():
    changes = align_parts(parts_of(graph(SMALL_A)), parts_of(graph(SMALL_B)))
    got = [(c.status, (c.b or c.a).label) for c in changes]
    assert got == [
        ("unchanged", "conv 16 3x3"),
        ("changed", "Block"),
        ("renamed", "Reduce"),
        ("removed", "conv 64 3x3"),
        ("removed", "lrn"),
        ("added", "4 towers"),
        ("changed", "Block"),
        ("unchanged", "Head"),
    ]


def test_small_pair_details_inside_the_module():
    stage1 = align_parts(parts_of(graph(SMALL_A)), parts_of(graph(SMALL_B)))[1]
    assert notes(stage1) == {"repeat": (2, 3)}
    (concat,) = stage1.children
    assert notes(concat) == {"branches": (2, 3)}
    assert [k.status for k in concat.children] == ["unchanged", "changed", "added"]
    kernel = [k for k in descendants(concat) if "kernel" in notes(k)]
    assert [notes(k)["kernel"] for k in kernel] == [((5, 5), (3, 3))]


def test_renamed_module_names_both_labels():
    renamed = align_parts(parts_of(graph(SMALL_A)), parts_of(graph(SMALL_B)))[2]
    assert notes(renamed) == {"module": ("down", "reduce"), "label": ("Down", "Reduce")}
    assert renamed.children == []


def test_consecutive_copies_with_other_arguments_form_one_unit_with_variants():
    (mixed_5,) = [u for u in units(parts_of(graph("inception_v3"))) if u.label == "Inception-A"]
    assert (mixed_5.count, mixed_5.variants) == (3, 2)
    pool_conv = mixed_5.rep.body[0].body[3].body[1]
    assert pool_conv.settings["filters"] == (32, 64)
    assert pool_conv.label == "conv 32/64 1x1"


def test_similarity_is_one_for_equal_parts_and_zero_across_kinds():
    a = parts_of(graph(SMALL_A))
    aligner = Aligner()
    ua = aligner.units(a)
    assert aligner.sim(ua[1], ua[1]) == 1.0
    assert aligner.sim(ua[1], ua[5]) < 1.0  # Block 16 ×2 vs Block 32: same module, other widths
    assert aligner.sim(ua[0], ua[2]) == 0.0  # a layer never pairs with a module


def test_alignment_needs_no_torch():
    code = (
        "import sys\nfrom cnnviz.diff.align import align_parts\nfrom cnnviz.diff.parts import parts_of\n"
        "from cnnviz.graph import build_graph\nfrom cnnviz.spec import load_spec\n"
        f"g = build_graph(load_spec({SMALL_A!r}))\nalign_parts(parts_of(g), parts_of(g))\nprint('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


# -- a spec against itself --------------------------------------------------------------------


@pytest.mark.parametrize("ident", list_models())
def test_spec_against_itself_has_no_difference(ident):
    from cnnviz.shapes import infer

    g1, g2 = graph(ident), graph(ident)
    shapes = infer(g1, check=False)
    d = compare(g1, shapes, g2, shapes)
    assert d.identical
    assert {c.status for c in d.changes} == {"unchanged"}
    assert all(x is not None and y is not None and x.params == y.params for x, y in d.stages)
    assert as_dict(d)["delta"] == {"params": 0, "params_pct": 0.0, "params_aux": 0, "depth": 0}


def test_other_input_size_is_a_difference(tmp_path):
    text = Path(SMALL_A).read_text().replace("input: [3, 32, 32]", "input: [3, 64, 64]")
    (tmp_path / "big.yaml").write_text(text)
    d = diff(SMALL_A, str(tmp_path / "big.yaml"))
    assert {c.status for c in d.changes} == {"unchanged"}
    assert not d.identical


# -- the article's pairs ------------------------------------------------------------------------


def test_vgg16_to_vgg19_adds_one_conv_in_each_of_the_last_three_blocks(pairs):
    d = pairs("vgg16", "vgg19")
    changed = top(d, "changed")
    assert [c.b.members[0].path for c in changed] == ["block3", "block4", "block5"]
    assert [notes(c) for c in changed] == [{"repeat": (3, 4)}] * 3
    assert all(c.a.label == c.b.label and c.a.label.startswith("conv ") for c in changed)
    assert len(top(d)) == len(changed) + len(top(d, "unchanged"))
    assert d.b.params - d.a.params == 5_309_696
    assert d.b.depth - d.a.depth == 3


def test_resnet50_to_resnet101_third_stage_grows_from_6_to_23_blocks(pairs):
    d = pairs("resnet50", "resnet101")
    (changed,) = top(d, "changed")
    assert changed.b.members[0].path == "conv4"
    assert changed.b.label == "identity block"
    assert notes(changed) == {"repeat": (5, 22)}
    assert [(x.grid, x.modules, y.modules) for x, y in d.stages if x.modules != y.modules] == [("14x14", 6, 23)]
    assert "conv4: identity block ×5 → ×22 (+17)" in as_text(d)


def test_resnet50_to_resnext50_every_bottleneck_gains_32_towers(pairs):
    d = pairs("resnet50", "resnext50")
    changed = top(d, "changed")
    assert [c.b.label for c in changed] == ["conv block", "identity block"] * 4
    for c in changed:
        added = [k for k in descendants(c) if k.status == "added"]
        assert [(k.kind, k.b.rep.settings["count"]) for k in added] == [("towers", 32)]
        assert [k.a.rep.type for k in descendants(c) if k.status == "removed"] == ["conv", "conv"]
    assert d.b.params - d.a.params == 25_028_904 - 25_557_032
    assert d.census[1]["towers"] == {"32-tower blocks": 16}


def test_inception_v3_to_v4_reads_like_the_articles_list(pairs):
    d = pairs("inception_v3", "inception_v4")
    by_label = {c.b.label: c for c in top(d) if c.b is not None}
    # 1. change in the Stem module: it now branches
    stem = by_label["Stem"]
    assert stem.status == "changed"
    assert [k.b.rep.type for k in stem.children if k.status == "added"] == ["concat"] * 3
    # 2. more Inception modules; 3. uniform choices (one filter setting per module type)
    assert notes(by_label["Inception-A"]) == {"repeat": (3, 4), "variants": (2, 1)}
    assert notes(by_label["Inception-B"]) == {"repeat": (4, 7), "variants": (3, 1)}
    assert notes(by_label["Inception-C"]) == {"repeat": (2, 3)}
    assert [c.a.kind for c in top(d, "removed")] == ["aux"]
    ca, cb = d.census
    assert "5x5" in ca["kernels"] and "5x5" not in cb["kernels"]
    text = as_text(d)
    for line in ("~ Stem", "Inception-A ×3 → ×4 (+1; uniform: 2 variants → 1)", "Inception-B ×4 → ×7 (+3; uniform: 3 variants → 1)", "conv 64 5x5 → conv 96 3x3"):
        assert line in text


def test_inception_v4_to_inception_resnet_v2_makes_the_modules_residual(pairs):
    d = pairs("inception_v4", "inception_resnet_v2")
    residual = [(c.a.label, c.b.label, c.a.count, c.b.count) for c in top(d, "changed") if notes(c).get("residual") == (False, True)]
    assert residual == [("Inception-A", "Inception-ResNet-A", 4, 10), ("Inception-B", "Inception-ResNet-B", 7, 20), ("Inception-C", "Inception-ResNet-C", 3, 10)]
    a_block = top(d, "changed")[1]
    (wrapped,) = [k for k in a_block.children if k.status == "changed"]
    assert (wrapped.a.rep.type, wrapped.b.rep.type) == ("concat", "add")  # the old concat now sits in a residual branch
    assert d.census[1]["merges"]["residual add"] == 40
    assert "wrapped in a residual add of 2 branches" in as_text(d)


def test_alexnet_to_vgg16_more_and_smaller_convolutions(pairs):
    d = pairs("alexnet", "vgg16")
    ca, cb = d.census
    assert (ca["layers"]["conv"], cb["layers"]["conv"]) == (5, 13)
    assert (ca["layers"]["lrn"], cb["layers"]["lrn"]) == (2, 0)
    assert set(ca["kernels"]) == {"11x11", "5x5", "3x3"} and set(cb["kernels"]) == {"3x3"}
    assert [c.a.label for c in top(d, "removed") if c.kind == "towers"] == ["2 towers (split input)"] * 3
    assert (d.a.depth, d.b.depth) == (8, 16)


def test_changes_made_throughout_are_said_once(pairs):
    # AlexNet's first novelty in the article: ReLU instead of tanh
    text = as_text(pairs("lenet5", "alexnet"))
    assert "~ every conv and dense: act tanh → relu" in text
    assert text.count("tanh") == 1
    # Inception-v3: batch norm after every convolution
    text = as_text(pairs("inception_v1", "inception_v3"))
    assert "~ every conv: bias on → off, bn off → on, eps 1e-05 → 0.001" in text
    assert text.count("bn off → on") == 1


def test_a_setting_kept_somewhere_is_not_said_to_change_throughout(tmp_path):
    text = Path(SMALL_B).read_text()
    (tmp_path / "b.yaml").write_text(text.replace("conv: {bn: true, act: relu}", "conv: {bn: true, act: tanh}"))
    (tmp_path / "c.yaml").write_text(text.replace("conv: {bn: true, act: relu}", "conv: {bn: true, act: tanh}").replace("conv 16 3x3 @stem", "conv 16 3x3 act=relu @stem"))
    assert "~ every conv: act relu → tanh" in as_text(diff(SMALL_B, str(tmp_path / "b.yaml")))
    kept = as_text(diff(SMALL_B, str(tmp_path / "c.yaml")))
    assert "every conv" not in kept
    assert "conv 16 1x1 (act relu → tanh)" in kept
