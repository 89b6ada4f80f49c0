"""Named references: a branch that starts ``from NAME`` reads an earlier item's output.

Resolved by the spec stage (scope, order, walls; the invalid cases are in
tests/cases/invalid/ref_*.yaml), carried by the typed model as a ``Ref`` on the
branch block and as an ordinary input of the branch's first nodes, and seen by
every stage after: the graph view, consumers, the shape pass and torch module,
the summary, the diff and the drawing.
"""

from __future__ import annotations

from pathlib import Path as FilePath

import pytest

from cnnviz.errors import SpecError
from cnnviz.graph import build_network
from cnnviz.model import ROOT
from cnnviz.spec import load_spec
from cnnviz.spec.loader import load_text
from cnnviz.spec.parse import _build

UNET = """\
name: Tiny U
input: [3, 32, 32]
defaults:
  conv: {act: relu}
layers:
  - conv 8 3x3 @enc1
  - maxpool 2
  - conv 16 3x3 @enc2
  - maxpool 2
  - conv 32 3x3 @bottom
  - conv 16 1x1
  - zeropad 4
  - concat: [from enc2, identity]
  - conv 8 3x3 @dec2
  - zeropad 8
  - concat: ['@enc1', identity]
  - conv 2 1x1 act=none
"""


def net_of(text: str):
    return build_network(_build(load_text(text, "t.yaml"), FilePath("t.yaml")))


def spec(*layers: str, modules: str = "") -> str:
    return "name: t\ninput: [8, 8, 8]\n" + modules + "layers:\n" + "".join(f"  - {line}\n" for line in layers)


M = "modules:\n  m:\n    layers:\n      - conv 8 1x1 @a\n      - add: [from a, identity]\n"


@pytest.mark.parametrize(
    "text, branch, target, source",
    [
        # the item before the merge, in the merge's own list
        (spec("conv 8 3x3 @c", "concat: [from c, identity]"), "concat1.b1", "c", "c"),
        # quoted @NAME, and a branch that goes on after the reference
        (spec("conv 8 3x3 @c", "relu", "add: [identity, ['@c', conv 8 1x1]]"), "add1.b2", "c", "c"),
        # the mapping form, block style
        (spec("conv 8 3x3 @c", "concat:\n      - - from: c\n        - conv 8 1x1\n      - identity"), "concat1.b1", "c", "c"),
        # a folded activation: the reference reads the layer's last part
        (spec("conv 8 3x3 relu @c", "concat: [from c, identity]"), "concat1.b1", "c", "c_relu"),
        # a repeated item: the output of its last copy
        (spec("conv 8 3x3 x3 @c", "concat: [from c, identity]"), "concat1.b1", "c", "c.3"),
        # a block: its exit (the merge of an add)
        (spec("add: [conv 8 3x3, identity]", "concat: [from r, identity]").replace("identity]\n", "identity]\n    name: r\n", 1), "concat1.b1", "r", "r.add"),
        # from a nested merge to an item of an enclosing list
        (spec("conv 8 3x3 @c", "add: [[concat: [from c, identity]], identity]"), "add1.b1.concat1.b1", "c", "c"),
        # inside a module: the instance's own item
        (spec("m", "m", modules=M), "m2.add1.b1", "m2.a", "m2.a"),
        # the nearest list that writes the name decides
        (spec("conv 8 3x3 @c", "add: [[conv 8 3x3 @c, concat: [from c, identity]], identity]"), "add1.b1.concat1.b1", "add1.b1.c", "add1.b1.c"),
    ],
    ids=["same-list", "quoted-then-layers", "mapping", "folded", "repeat", "block", "outer-list", "module", "nearest"],
)
def test_a_reference_names_the_item_and_reads_its_output(text, branch, target, source):
    net = net_of(text)
    (path,) = [p for p in net.refs if str(p) == branch]
    ref = net.refs[path]
    assert (str(ref.target), str(ref.source)) == (target, source)
    assert net.blocks[path].entry == ref.source  # the branch reads the item, not the merge's input
    edges = [(s, t) for (s, t), r in net.ref_edges.items() if r is ref]
    assert edges and all(s == ref.source for s, _ in edges)
    for s, t in edges:  # the skip edge is in every view of the graph
        assert s in net.nodes[t].inputs
        assert t in net.consumers[s]
        assert net.graph.edges[s, t]["ref"] is ref


def test_every_instance_of_a_module_reads_its_own_item():
    net = net_of(spec("m x2", modules=M))
    sources = sorted(str(r.source) for r in net.refs.values())
    assert sources == ["m1.1.a", "m1.2.a"]


def test_no_reference_no_skip_edges():
    net = net_of(spec("conv 8 3x3", "add: [conv 8 3x3, identity]"))
    assert not net.refs and not net.ref_edges
    assert all(e["ref"] is None for *_, e in net.graph.edges(data=True))


def test_merge_refs_are_parallel_to_the_merge_inputs():
    net = net_of(UNET)
    merge = net.find("concat2.concat")
    assert merge is not None
    refs = net.merge_refs(merge)
    assert [r.name if r else None for r in refs] == ["enc1", None]
    assert net.nodes[merge].inputs[0] == net.refs[ROOT.child("concat2").branch(1)].source


# -- the shape pass and the torch module see the skip ---------------------------------------------


def test_unet_like_shapes_params_and_forward_agree_with_torch():
    torch = pytest.importorskip("torch")
    from torch import nn

    from cnnviz.shapes import build_model, infer

    net = net_of(UNET)
    shapes = infer(net, verify=True)
    assert shapes.shapes[net.output] == (2, 32, 32)
    assert shapes.shapes[net.item_exit(ROOT.child("concat1"))] == (32, 16, 16)  # enc2 16 + up 16
    assert shapes.shapes[net.item_exit(ROOT.child("concat2"))] == (16, 32, 32)  # enc1 8 + up 8
    # the same network written by hand in torch
    ref = nn.ModuleDict(
        {
            "enc1": nn.Conv2d(3, 8, 3, padding=1),
            "enc2": nn.Conv2d(8, 16, 3, padding=1),
            "bottom": nn.Conv2d(16, 32, 3, padding=1),
            "lat": nn.Conv2d(32, 16, 1),
            "dec2": nn.Conv2d(32, 8, 3, padding=1),
            "head": nn.Conv2d(16, 2, 1),
        }
    )
    assert shapes.total == sum(p.numel() for p in ref.parameters())
    model = build_model(net).eval()
    torch.manual_seed(0)
    x = torch.randn(1, 3, 32, 32)
    for name, ours in [("enc1", "enc1"), ("enc2", "enc2"), ("bottom", "bottom"), ("lat", "conv1"), ("dec2", "dec2"), ("head", "conv2")]:
        ref[name].load_state_dict(model.get_submodule(ours).state_dict())
    relu, pool, pad = nn.functional.relu, nn.functional.max_pool2d, nn.functional.pad
    e1 = relu(ref["enc1"](x))
    e2 = relu(ref["enc2"](pool(e1, 2)))
    up = pad(relu(ref["lat"](relu(ref["bottom"](pool(e2, 2))))), (4, 4, 4, 4))
    d2 = pad(relu(ref["dec2"](torch.cat([e2, up], 1))), (8, 8, 8, 8))
    want = ref["head"](torch.cat([e1, d2], 1))
    with torch.no_grad():
        assert torch.equal(model(x), want)


# -- the summary and the diff say where a branch starts -------------------------------------------


def test_summary_and_diff_show_the_reference():
    pytest.importorskip("torch")
    from cnnviz.diff import compare
    from cnnviz.diff.text import as_text
    from cnnviz.shapes import infer
    from cnnviz.summary import as_json, table

    net = net_of(UNET)
    text = table(net, infer(net))
    assert "concat of 2 branches (b1 from enc1)" in text
    assert '"from": "enc2"' in as_json(net, infer(net))
    other = net_of(UNET.replace("['@enc1', identity]", "[identity, identity]"))
    changed = as_text(compare(net, infer(net), other, infer(other)))
    assert "branch 1 (starts from enc1 → the merge input)" in changed
    assert compare(net, infer(net), net_of(UNET), infer(net)).identical


# -- the drawing: the skip edge, and a long nested skip folds the line into a U -------------------


def _main(text: str, detail: str = "compact"):
    from cnnviz.drawing.view import build

    return build(net_of(text), detail).main.graph


def _skips_across(v) -> list[list[str]]:
    """The rank groups of a U that are skips going across (the others: its bottom row, its arms)."""
    return [g for g in v.graph["same_rank"] if v.has_edge(g[0], g[1]) and v.edges[g[0], g[1]].get("skip")]


def _titles(v, n) -> str:
    d = v.nodes[n]
    return f"{d['title']} {d['detail']}".strip()


@pytest.mark.parametrize("detail", ["compact", "full"])
def test_unet_is_drawn_as_a_u(detail):
    v = _main(UNET, detail)
    skips = [(s, t) for s, t, e in v.edges(data=True) if e.get("skip")]
    assert len(skips) == 2  # enc2 → concat1, enc1 → concat2
    groups = _skips_across(v)
    last = "ReLU" if detail == "full" else "Conv 3×3"  # full: the skip starts at the conv's folded relu
    assert [[_titles(v, n) for n in g] for g in groups] == [[last, "concat"], [last, "concat"]]
    order = dict(v.nodes(data="order"))
    (outer, inner) = groups
    assert order[outer[0]] < order[inner[0]] < order[inner[-1]] < order[outer[-1]]  # nested
    fold = (order[inner[0]] + order[inner[-1]] + 1) // 2
    for s, t, e in v.edges(data=True):  # down before the fold, back up after it
        assert bool(e.get("back")) == (order[s] >= fold and not e.get("skip")), (s, t)


def test_a_skip_through_a_hidden_layer_is_still_a_skip():
    # the branch starts with a dropout, which the compact view hides: the edge it bridges is the skip
    v = _main(UNET.replace("[from enc2, identity]", "[[from enc2, dropout], identity]"))
    assert len(_skips_across(v)) == 2


def test_unet_dot_pairs_ranks_and_draws_the_way_back_reversed():
    import json

    from cnnviz.drawing import Diagram
    from cnnviz.drawing.view import as_json, build

    edges = json.loads(json.dumps(as_json(build(net_of(UNET)))))["main"]["edges"]
    assert sum(1 for e in edges if e.get("skip")) == 2  # render --format json says which edges are skips
    dot = Diagram(net_of(UNET), legend=False, title=False).source()
    assert dot.count("rank=same") == 3  # the two skips across, and the boxes either side of the bottom
    assert dot.count('dir="back"') > 0
    assert dot == Diagram(net_of(UNET), legend=False, title=False).source()  # deterministic


@pytest.mark.parametrize(
    "text, asked, drawn",
    [(UNET, None, "TB"), (UNET, "LR", "LR"), (spec("conv 8 3x3", "gap"), None, "LR"), (spec("conv 8 3x3", "gap"), "tb", "TB")],
)
def test_a_u_is_drawn_upright_unless_a_direction_is_asked(text, asked, drawn):
    from cnnviz.drawing import Diagram

    assert Diagram(net_of(text), direction=asked).options["direction"] == drawn


@pytest.mark.parametrize(
    "layers",
    [
        ["conv 8 3x3 @c", "conv 8 3x3", "concat: [from c, identity]"],  # a short skip (DenseNet-style)
        ["conv 8 3x3", "add: [conv 8 3x3, identity]"],  # no reference at all
    ],
)
def test_short_skips_leave_the_line_straight(layers):
    v = _main(spec(*layers))
    assert "same_rank" not in v.graph
    assert not any(e.get("back") for *_, e in v.edges(data=True))


# -- the examples of docs/spec-format.md are real specs ----------------------------------------------

DOCS = FilePath(__file__).resolve().parent.parent / "docs" / "spec-format.md"


@pytest.mark.parametrize(
    "marker, head, output",
    [
        ("tconv 128 2 /2", "name: U\ninput: [1, 64, 64]\n", (2, 64, 64)),  # the U-Net of "References" (not the one of "Modern blocks")
        ("padded_conv", "name: M\ninput: [3, 16, 16]\nvars: {k: 2}\n", (32, 14, 20)),  # a module call in mapping form
    ],
)
def test_docs_examples_validate(marker, head, output):
    pytest.importorskip("torch")
    import re

    from cnnviz.shapes import infer

    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S) if marker in b]
    net = net_of(head + block)
    assert infer(net).output_of(net) == output


def test_a_u_out_of_expanded_modules_pairs_ranks_across_clusters():
    from cnnviz.drawing import Diagram

    modules = "modules:\n  two:\n    args: [w]\n    layers: [conv $w 3x3, conv $w 3x3]\n"
    down = ["two 8 @e1", "maxpool 2", "two 8 @e2", "maxpool 2", "two 8", "conv 8 1x1"]
    text = spec(*down, "zeropad 2", "concat: [from e2, identity]", "two 8", "zeropad 4", "concat: [from e1, identity]", modules=modules)
    compact, expanded = _main(text), _main(text, "modules")
    assert compact.graph["u"] and len(_skips_across(compact)) == 2  # module boxes: the pairs line up
    assert expanded.graph["u"] and len(_skips_across(expanded)) == 2  # out of expanded modules too
    assert any(e.get("back") for *_, e in expanded.edges(data=True))
    source = Diagram(net_of(text), detail="modules").source()
    assert "newrank=true" in source and "newrank" not in Diagram(net_of(text)).source()  # only where a pair spans clusters


# -- a valid case: a small U-Net with a lateral skip, its count from torch and its golden DOT ----------

SMALL_UNET = FilePath(__file__).resolve().parent / "cases" / "valid" / "unet_refs.yaml"
GOLDEN = FilePath(__file__).resolve().parent / "golden" / "render"


def test_small_unet_counts_as_its_torch_copy():
    torch = pytest.importorskip("torch")
    from torch import nn

    from cnnviz.shapes import build_model, infer

    def double(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1), nn.Conv2d(o, o, 3, padding=1)]

    copy = nn.ModuleList(
        [
            *double(1, 8), *double(8, 16), *double(16, 32), *double(32, 64),
            nn.Conv2d(32, 64, 1),  # the lateral
            nn.ConvTranspose2d(64, 32, 2, 2), *double(64, 32),
            nn.ConvTranspose2d(32, 16, 2, 2), *double(32, 16),
            nn.ConvTranspose2d(16, 8, 2, 2), *double(16, 8),
            nn.Conv2d(8, 2, 1),
        ]
    )  # fmt: skip
    r = infer(str(SMALL_UNET))  # its expect: (params, output, shapes) is checked too
    assert r.total == sum(p.numel() for p in copy.parameters()) == 122_802
    model = build_model(str(SMALL_UNET)).train()
    (model(torch.randn(2, 1, 64, 64)) ** 2).sum().backward()
    assert all(p.grad is not None for p in model.parameters())  # every layer, skips included, is on the path


@pytest.mark.parametrize("detail", ["compact", "full"])
def test_golden_dot_of_references(golden, detail):
    from cnnviz.drawing import Diagram

    golden(GOLDEN / f"unet_refs.{detail}.gv", Diagram(str(SMALL_UNET), detail=detail).source())


# -- property: random flat networks with references agree with an independent count and with torch ----

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@st.composite
def flat_net(draw):
    """A flat network of named convs and merges whose branches start from earlier items,
    with its output channels and parameter count worked out here, independently."""
    lines, channels, params = [], {}, 0
    c = 4  # the input's channels
    for k in range(draw(st.integers(1, 6))):
        named = [n for n in channels]
        if named and draw(st.booleans()):
            target = draw(st.sampled_from(named))
            op = "add" if channels[target] == c and draw(st.booleans()) else "concat"
            extra = draw(st.sampled_from(["", "conv 2 1x1"]))
            branch = f"[from {target}, {extra}]" if extra else f"from {target}"
            lines.append(f"{op}: [{branch}, identity]\n    name: m{k}")
            width = 2 if extra else channels[target]
            params += channels[target] * 2 + 2 if extra else 0
            if op == "add" and width != c:  # a lateral 1×1 that changes the width: make it a concat
                lines[-1] = lines[-1].replace("add:", "concat:", 1)
                op = "concat"
            c = c if op == "add" else c + width
        else:
            w = draw(st.sampled_from([2, 4]))
            lines.append(f"conv {w} 3x3 @l{k}")
            params += c * w * 9 + w
            c = w
        channels[f"l{k}" if lines[-1].startswith("conv") else f"m{k}"] = c
    text = "name: t\ninput: [4, 8, 8]\nlayers:\n" + "".join(f"  - {line}\n" for line in lines)
    return text, c, params


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(case=flat_net())
def test_random_references_agree_with_an_independent_count_and_torch(case):
    torch = pytest.importorskip("torch")
    from cnnviz.shapes import build_model, infer

    text, channels, params = case
    net = net_of(text)
    r = infer(net)
    assert r.output_of(net) == (channels, 8, 8)
    assert r.total == params
    model = build_model(net).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 4, 8, 8)).shape == (1, channels, 8, 8)
    order = {p: i for i, p in enumerate(net.nodes)}
    for s, t in net.ref_edges:  # every skip reads an item computed before it
        assert order[s] < order[t]


@pytest.mark.parametrize(
    "target, message",
    [
        ("inner", "'inner' is written inside module 'stage', and an item inside a module cannot be reached from outside it; name the call instead ('stage … @NAME') and start from that"),
        ("s1.inner", "no item named 's1.inner' written before this merge (a reference is a name written with @NAME or name:, not a path into a module)"),
    ],
)
def test_a_reference_into_a_module_says_why_it_cannot_be(tmp_path, target, message):
    text = (
        "name: t\ninput: [3, 8, 8]\nmodules:\n  stage:\n    layers: [conv 8 3x3 @inner, conv 8 3x3]\n"
        f"layers:\n  - stage @s1\n  - add: [identity, [from {target}]]\n"
    )
    (tmp_path / "t.yaml").write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "t.yaml")
    assert [p.message for p in info.value.problems] == [message]
