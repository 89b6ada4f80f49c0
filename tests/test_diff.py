"""cnnviz diff: the alignment on small specs, and the article's pairs with their facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz import shape_stage
from cnnviz.diff import compare, diff
from cnnviz.diff.align import Aligner, align_parts
from cnnviz.diff.jsonout import as_dict
from cnnviz.diff.parts import parts_of
from cnnviz.diff.phrases import branch_number, given_name
from cnnviz.diff.text import Line, as_text, lines
from cnnviz.diff.units import units
from cnnviz.errors import SpecError
from cnnviz.graph import build_network
from cnnviz.model import ROOT, Seg
from cnnviz.model import Path as NetPath
from cnnviz.registry import list_models
from cnnviz.spec import load_spec

CASES = Path(__file__).parent / "cases" / "diff"
SMALL_A, SMALL_B = str(CASES / "small_a.yaml"), str(CASES / "small_b.yaml")


def network(ref):
    return build_network(load_spec(ref))


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
    changes = align_parts(parts_of(network(SMALL_A)), parts_of(network(SMALL_B)))
    got = [(c.status, (c.b or c.a).label) for c in changes]
    assert got == [
        ("unchanged", "conv 16 3×3"),
        ("changed", "Block"),
        ("renamed", "Reduce"),
        ("removed", "conv 64 3×3"),
        ("removed", "lrn"),
        ("added", "4 towers"),
        ("changed", "Block"),
        ("unchanged", "Head"),
    ]


def test_small_pair_details_inside_the_module():
    stage1 = align_parts(parts_of(network(SMALL_A)), parts_of(network(SMALL_B)))[1]
    assert notes(stage1) == {"repeat": (2, 3)}
    (concat,) = stage1.children
    assert notes(concat) == {"branches": (2, 3)}
    assert [k.status for k in concat.children] == ["unchanged", "changed", "added"]
    kernel = [k for k in descendants(concat) if "kernel" in notes(k)]
    assert [notes(k)["kernel"] for k in kernel] == [((5, 5), (3, 3))]


def test_renamed_module_names_both_labels():
    renamed = align_parts(parts_of(network(SMALL_A)), parts_of(network(SMALL_B)))[2]
    assert notes(renamed) == {"module": ("down", "reduce"), "label": ("Down", "Reduce")}
    assert renamed.children == []


def test_consecutive_copies_with_other_arguments_form_one_unit_with_variants():
    (mixed_5,) = [u for u in units(parts_of(network("inception_v3"))) if u.label == "Inception-A"]
    assert (mixed_5.count, mixed_5.variants) == (3, 2)
    pool_conv = mixed_5.rep.body[0].body[3].body[1]
    assert pool_conv.settings["filters"] == (32, 64)
    assert pool_conv.label == "conv 32/64 1×1"


def test_similarity_is_one_for_equal_parts_and_zero_across_kinds():
    a = parts_of(network(SMALL_A))
    aligner = Aligner()
    ua = aligner.units(a)
    assert aligner.sim(ua[1], ua[1]) == 1.0
    assert aligner.sim(ua[1], ua[5]) < 1.0  # Block 16 ×2 vs Block 32: same module, other widths
    assert aligner.sim(ua[0], ua[2]) == 0.0  # a layer never pairs with a module


def test_parts_carry_typed_paths():
    net = network(SMALL_A)
    stem, stage1, *_ = parts_of(net)
    assert stem.path == ROOT.child("stem") and stem.path in net.nodes  # a layer: its node's path
    assert stage1.path == ROOT.child("stage1") and net.blocks[stage1.path].kind == "repeat"
    assert stage1.repeat == 2
    (concat,) = stage1.body  # the body is built from the first copy
    assert concat.path.parent == stage1.path.copy(1)
    assert [br.path.last for br in concat.body] == [Seg("branch", 1), Seg("branch", 2)]
    assert all(isinstance(p.path, NetPath) for p in concat.body)


def test_branch_numbers_and_given_names_come_from_path_segments():
    stem, stage1, down1, _, lrn, *_ = units(parts_of(network(SMALL_A)))
    (concat,) = stage1.rep.body
    assert [branch_number(u) for u in units(concat.body)] == [1, 2]
    assert (given_name(stem), given_name(stage1), given_name(down1)) == ("stem", "stage1", "down1")
    assert given_name(lrn) == ""  # an automatic name (lrn1) is not shown


def test_alignment_needs_no_torch():
    code = (
        "import sys\nfrom cnnviz.diff.align import align_parts\nfrom cnnviz.diff.parts import parts_of\n"
        "from cnnviz.graph import build_network\nfrom cnnviz.spec import load_spec\n"
        f"n = build_network(load_spec({SMALL_A!r}))\nalign_parts(parts_of(n), parts_of(n))\nprint('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


# -- a spec against itself --------------------------------------------------------------------


@pytest.mark.parametrize("ident", list_models())
def test_spec_against_itself_has_no_difference(ident):
    n1, n2 = network(ident), network(ident)
    shapes = shape_stage().infer(n1, check=False)
    d = compare(n1, shapes, n2, shapes)
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
    assert [str(c.b.members[0].path) for c in changed] == ["block3", "block4", "block5"]
    assert [notes(c) for c in changed] == [{"repeat": (3, 4)}] * 3
    assert all(c.a.label == c.b.label and c.a.label.startswith("conv ") for c in changed)
    assert len(top(d)) == len(changed) + len(top(d, "unchanged"))
    assert d.b.params - d.a.params == 5_309_696
    assert d.b.depth - d.a.depth == 3


def test_resnet50_to_resnet101_third_stage_grows_from_6_to_23_blocks(pairs):
    d = pairs("resnet50", "resnet101")
    (changed,) = top(d, "changed")
    assert str(changed.b.members[0].path) == "conv4"
    assert changed.b.label == "identity block"
    assert notes(changed) == {"repeat": (5, 22)}
    assert [(x.grid, x.modules, y.modules) for x, y in d.stages if x.modules != y.modules] == [("14×14", 6, 23)]
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
    assert (5, 5) in ca["kernels"] and (5, 5) not in cb["kernels"]
    text = as_text(d)
    for line in ("~ Stem", "Inception-A ×3 → ×4 (+1; uniform: 2 variants → 1)", "Inception-B ×4 → ×7 (+3; uniform: 3 variants → 1)", "conv 64 5×5 → conv 96 3×3"):
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
    assert set(ca["kernels"]) == {(11, 11), (5, 5), (3, 3)} and set(cb["kernels"]) == {(3, 3)}
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
    assert "conv 16 1×1 (act relu → tanh)" in kept


def test_a_spec_error_is_reported_before_torch_is_imported():
    code = (
        "import sys\nfrom cnnviz.diff import diff\nfrom cnnviz.errors import SpecError\n"
        "try:\n    diff('resnet50', 'nosuchnet')\nexcept SpecError as exc:\n    print('torch' in sys.modules, exc.lines()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("False ") and "nosuchnet" in out


def test_text_is_data_and_needs_no_click():
    code = "import sys\nimport cnnviz.diff.text\nprint('click' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
    d = diff(SMALL_A, SMALL_B)
    got = lines(d)
    assert all(isinstance(x, Line) for x in got)
    assert as_text(d) == "\n".join(map(str, got))
    assert got[0] == Line("Small-A → Small-B", "title")
    roles = {x.role for x in got}
    assert {"title", "heading", "changed", "added", "removed", "renamed", "dim", "plain"} <= roles
    (mix,) = [x for x in got if x.role == "added" and "towers" in x.text]
    assert (mix.indent, mix.tail) == (2, "  +27,840 params")
    assert "\x1b" not in as_text(d)


# -- JSON paths -----------------------------------------------------------------------------------


def test_json_paths_are_the_documented_serialisation(pairs):
    d = pairs("inception_v3", "inception_v4")
    out = as_dict(d)
    seen = []

    def walk(change):
        for side, net in (("a", d.a.network), ("b", d.b.network)):
            unit = change[side]
            if unit is not None:
                assert unit["path"] == unit["paths"][0]
                for text in unit["paths"]:
                    assert net.find(text) is not None, text  # the text names exactly one block or node
                    seen.append(text)
        for k in change["children"]:
            walk(k)

    for c in out["changes"]:
        walk(c)
    assert any(".b2" in t for t in seen) and "mixed_5b" in seen
    for s in out["stages"]:
        assert all(d.a.network.find(t) or d.b.network.find(t) for t in (s["a"] or s["b"])["paths"])


def test_json_texts_use_the_presentation_layer(pairs):
    out = as_dict(pairs("alexnet", "vgg16"))
    assert out["schema"] == "cnnviz-diff/2"
    assert out["census"]["kernels"] == {"11×11": [1, 0], "5×5": [1, 0], "3×3": [3, 13]}
    assert out["stages"][0]["a"]["grid"] == "55×55"
    assert out["a"]["input"] == [3, 227, 227]  # shapes stay lists


# -- renames ----------------------------------------------------------------------------------------


def _renamed_inside(tmp_path):
    """SMALL_A with a module inside Head, and the same network with that module renamed."""
    text = Path(SMALL_A).read_text().replace("      - gap\n      - dense 10", "      - pool\n      - dense 10")
    text = text.replace("  head:\n", "  pool:\n    label: Pool\n    layers:\n      - gap\n  head:\n")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(text)
    b.write_text(text.replace("  pool:\n    label: Pool", "  gpool:\n    label: Global pool").replace("      - pool\n", "      - gpool\n"))
    return str(a), str(b)


def test_a_rename_alone_is_a_difference(tmp_path):
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(Path(SMALL_A).read_text().replace("  down:\n    label: Down", "  reduce:\n    label: Reduce").replace("- down @down1", "- reduce @down1"))
    d = diff(SMALL_A, str(renamed))
    assert [c.status for c in d.changes if c.status != "unchanged"] == ["renamed"]
    assert not d.identical and as_dict(d)["identical"] is False
    assert "nothing" not in as_text(d)


def test_a_rename_inside_a_module_is_a_difference(tmp_path):
    a, b = _renamed_inside(tmp_path)
    assert diff(a, a).identical
    d = diff(a, b)
    assert not d.identical
    (head,) = [c for c in d.changes if c.status != "unchanged"]
    assert (head.status, head.a.label, head.notes) == ("renamed", "Head", [])
    (pool,) = [k for k in head.children if k.status != "unchanged"]
    assert (pool.status, notes(pool)) == ("renamed", {"module": ("pool", "gpool"), "label": ("Pool", "Global pool")})
    assert "> Head: >Pool → Global pool (same structure; module pool → gpool)" in as_text(d)
    assert as_dict(d)["changes"][-1]["children"][0]["status"] == "renamed"


def test_a_spec_error_is_a_spec_error():
    with pytest.raises(SpecError):
        diff(SMALL_A, "nosuchnet")


def _module(label: str, type_: str):
    from cnnviz.diff.parts import Part

    return Part("module", ROOT.child(type_), type_, label, {}, [])


@pytest.mark.parametrize(
    "label_a, label_b, related",
    [
        ("Inception-A", "Inception-ResNet-A", True),  # 0.76 alike: the residual version of the same module
        ("Inception-A", "Reduction-B", False),  # 0.55: different modules that share a word
        ("Inception-A", "Stem", False),
        ("conv block", "identity block", False),  # 0.58
    ],
)
def test_module_names_count_as_related_only_when_close(label_a, label_b, related):
    from cnnviz.diff.align import _name_sim

    sim = _name_sim(_module(label_a, "a"), _module(label_b, "b"))
    assert (sim > 0) is related
    assert _name_sim(_module(label_a, "a"), _module("anything", "a")) == 1.0  # the same module, relabelled


@pytest.mark.parametrize(
    "merge, a, b, same",
    [
        ("add", "[identity, [conv 8 3x3, conv 8 3x3]]", "[[conv 8 3x3, conv 8 3x3], identity]", True),
        ("mul", "[identity, [gap keep, conv 8 1x1 act=sigmoid]]", "[[gap keep, conv 8 1x1 act=sigmoid], identity]", True),
        ("concat", "[conv 4 1x1, conv 4 3x3]", "[conv 4 3x3, conv 4 1x1]", False),  # channel order: a real change
    ],
)
def test_the_order_of_branches_matters_only_where_it_changes_the_result(tmp_path, merge, a, b, same):
    for name, branches in (("a", a), ("b", b)):
        (tmp_path / f"{name}.yaml").write_text(f"name: t\ninput: [8, 8, 8]\nlayers:\n  - {merge}: {branches}\n  - gap\n")
    d = diff(str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert d.identical is same
    assert ({c.status for c in d.changes} == {"unchanged"}) is same


def test_a_matched_pair_named_differently_is_named_by_both(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3 @stem\n  - conv 16 3x3 @body\n  - gap\n")
    (tmp_path / "b.yaml").write_text("name: b\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3 @stem\n  - conv 32 3x3 @trunk\n  - gap\n")
    text = as_text(diff(str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")))
    assert "~ body → trunk: conv 16 3×3 → conv 32 3×3" in text, text
