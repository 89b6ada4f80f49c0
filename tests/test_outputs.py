"""Networks with several outputs (``output:``): parsed, counted, built, summarised.

The misuses are in tests/cases/invalid (output_misplaced, output_refs); the FPN of
docs/spec-format.md is tests/cases/valid/fpn_outputs.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cnnviz.graph import as_network, build_network
from cnnviz.shapes import build_model, infer
from cnnviz.spec.loader import load_text
from cnnviz.spec.model import Aux
from cnnviz.spec.parse import _build
from cnnviz.summary import as_json, table

ROOT = Path(__file__).resolve().parent.parent
FPN = ROOT / "tests" / "cases" / "valid" / "fpn_outputs.yaml"


def parse(layers: str):
    return _build(load_text(f"name: t\ninput: [3, 16, 16]\nlayers:\n  - conv 8 3x3 @c1\n{layers}\n  - gap\n  - dense 10\n", "t.yaml"), Path("t.yaml"))


@pytest.mark.parametrize(
    "layers, expected",
    [
        ("  - output: [conv 8 3x3]\n    name: P4", ("P4", "output", 1)),
        ("  - output: identity\n    name: P4", ("P4", "output", 0)),
        ("  - output: []", ("output1", "output", 0)),
        ("  - output @P4", ("P4", "output", 0)),
        ("  - output", ("output1", "output", 0)),
        ("  - output: {layers: [conv 8 1x1, relu]}\n    name: o", ("o", "output", 2)),
        ("  - aux: [gap, dense 10]", ("aux1", "aux", 2)),
    ],
)
def test_a_head_is_parsed_with_its_role(layers, expected):
    (head,) = [i for i in parse(layers).body if isinstance(i, Aux)]
    assert (head.name, head.role, len(head.body)) == expected



def network(layers: str):
    return build_network(_build(load_text(f"name: t\ninput: [3, 16, 16]\nlayers:\n{layers}\n", "t.yaml"), Path("t.yaml")))


@pytest.mark.parametrize(
    "layers, expected",
    [
        # the main output first, as 'out'; then each output by its path text → the node that gives it
        ("  - conv 8 3x3\n  - output @P3\n  - conv 8 3x3 /2", {"out": "conv2", "P3": "conv1"}),
        ("  - conv 8 3x3\n  - output: [conv 4 1x1]\n  - output: []\n  - conv 8 3x3 /2 @last", {"out": "last", "output1": "output1.conv1", "output2": "conv1"}),
        ("  - conv 8 3x3\n  - add: [identity, [conv 8 3x3, output @inner]]\n  - conv 8 1x1", {"out": "conv2", "add1.b2.inner": "add1.b2.conv1"}),
        ("  - conv 8 3x3 @c\n  - aux: [gap, dense 10]", {"out": "c"}),  # an aux head is no output
    ],
)
def test_outputs_are_named_main_first(layers, expected):
    net = network(layers)
    assert {k: str(p) for k, p in net.outputs.items()} == expected


@pytest.mark.parametrize(
    "head, total, aux",
    [
        # conv 8 3x3 on 3 channels: 224; the head's conv 4 1x1 on 8: 36 — in the total as an output, apart as an aux head
        ("output", 224 + 36, 0),
        ("aux", 224, 36),
    ],
)
def test_an_outputs_parameters_are_in_the_total(head, total, aux):
    r = infer(network(f"  - conv 8 3x3\n  - {head}: [conv 4 1x1]\n  - maxpool 2"))
    assert (r.total, r.aux) == (total, aux)


def test_a_reference_to_an_output_reads_what_it_outputs():
    net = network("  - conv 8 3x3\n  - output: [conv 8 1x1 @inside]\n    name: P1\n  - add: [identity, from P1]")
    (ref,) = net.refs.values()
    assert str(ref.source) == "P1.inside" == str(net.outputs["P1"])


def test_the_fpn_counts_and_its_built_model_agree_on_a_real_forward():
    net = as_network(str(FPN))
    r = infer(net)
    model = build_model(net).eval()
    assert sum(p.numel() for p in model.parameters()) == r.total == net.expect["params"]
    with torch.no_grad():
        out = model(torch.randn(2, *net.input))
    assert list(out) == ["out", "P5", "P4", "P3"]
    assert {k: tuple(v.shape[1:]) for k, v in out.items()} == r.outputs_of(net) == {"out": (128, 32, 32), "P5": (128, 4, 4), "P4": (128, 8, 8), "P3": (128, 16, 16)}


@pytest.mark.parametrize(
    "layers, training, expected",
    [
        ("  - conv 8 3x3\n  - gap\n  - dense 10", False, "Tensor"),  # one output: a tensor, as before
        ("  - conv 8 3x3\n  - output @f\n  - gap\n  - dense 10", False, "dict out f"),
        ("  - conv 8 3x3\n  - output @f\n  - aux: [gap, dense 5]\n  - gap\n  - dense 10", True, "tuple (dict out f, list 1)"),
        ("  - conv 8 3x3\n  - output @f\n  - aux: [gap, dense 5]\n  - gap\n  - dense 10", False, "dict out f"),  # aux heads run in training only
    ],
)
def test_what_a_built_model_returns(layers, training, expected):
    model = build_model(network(layers)).train(training)

    def kind(v) -> str:
        if isinstance(v, dict):
            return " ".join(["dict", *v])
        if isinstance(v, tuple):
            return f"tuple ({', '.join(map(kind, v))})"
        if isinstance(v, list):
            return f"list {len(v)}"
        return type(v).__name__

    assert kind(model(torch.randn(2, 3, 16, 16))) == expected


def test_the_summary_lists_every_output():
    net = as_network(str(FPN))
    r = infer(net)
    assert "Outputs: out 128×32×32, P5 128×4×4, P4 128×8×8, P3 128×16×16" in table(net, r).splitlines()
    obj = json.loads(as_json(net, r))
    assert obj["outputs"] == {"out": [128, 32, 32], "P5": [128, 4, 4], "P4": [128, 8, 8], "P3": [128, 16, 16]}
    assert obj["params"] == 2284288 and obj["params_aux"] == 0


MULTI = ROOT / "tests" / "cases" / "valid" / "multitask_outputs.yaml"
SEG = ROOT / "tests" / "golden" / "import" / "SegTiny-strict.yaml"


@pytest.mark.parametrize(
    "spec, options, main, panels, marks",
    [
        # the output boxes of the main line and of the panels (by the name inside the module), and the legend's marks
        (FPN, {}, ["P5", "P4", "P3", "out"], [], ()),
        (MULTI, {}, ["s1.depth", "s2.depth", "features", "output1", "out"], ["depth"], ("aux",)),
        (MULTI, {"detail": "modules"}, ["s1.depth", "s2.depth", "features", "output1", "out"], [], ("aux",)),
        (MULTI, {"detail": "full"}, ["s1.depth", "s2.depth", "features", "output1", "out"], [], ("aux",)),
        (MULTI, {"aux": False}, ["s1.depth", "s2.depth", "features", "output1", "out"], ["depth"], ()),  # --no-aux keeps them
        (SEG, {}, ["aux", "out"], [], ()),  # two outputs at one point (an imported fcn's): a box each
    ],
)
def test_outputs_are_drawn_solid_and_named(spec, options, main, panels, marks):
    from cnnviz.drawing.view import build

    view = build(as_network(str(spec)), **options)
    drawn = [[d["title"] for _, d in p.graph.nodes(data=True) if d["kind"] == "output"] for p in view.parts]
    assert (sorted(drawn[0]), sorted(t for ts in drawn[1:] for t in ts)) == (sorted(main), sorted(panels))
    for part in view.parts:
        g = part.graph
        ends = [n for n, d in g.nodes(data=True) if d["kind"] == "output"]
        assert not any(g.nodes[n]["aux"] or any(g.edges[e]["aux"] for e in g.in_edges(n)) for n in ends)
    assert view.marks == marks and "output" not in view.legend
    assert view.parts[0].graph.graph.get("u", False) is (spec == FPN)  # the FPN's pyramid is still drawn as a U


# -- diff: an output added, removed, renamed or changed is a part of its own ----------------------

BASE = "  - conv 8 3x3\n  - output: [conv 4 1x1]\n    name: P1\n  - conv 8 3x3 /2\n  - gap\n  - dense 10"


@pytest.mark.parametrize(
    "b, expected",
    [
        (BASE, []),
        (BASE.replace("  - output: [conv 4 1x1]\n    name: P1\n", ""), [("removed", "output", "output P1 [conv 4 1×1]", -36)]),
        (BASE + "\n  - output @P2", [("added", "output", "output P2", 0)]),
        (BASE.replace("name: P1", "name: Q1"), [("changed", "output", "output P1 [conv 4 1×1] → output Q1 [conv 4 1×1]", 0)]),
        (BASE.replace("conv 4 1x1", "conv 6 1x1"), [("changed", "output", "output P1 [conv 4 1×1] → output P1 [conv 6 1×1]", 18)]),
        (BASE.replace("output:", "aux:"), [("removed", "output", "output P1 [conv 4 1×1]", -36), ("added", "aux", "auxiliary classifier [conv 4 1×1]", 36)]),
    ],
)
def test_diff_reports_outputs(b, expected):
    from cnnviz.diff import compare
    from cnnviz.diff.phrases import unit_text

    na, nb = network(BASE), network(b)
    d = compare(na, infer(na), nb, infer(nb))
    got = []
    for c in d.changes:
        if c.status == "unchanged":
            continue
        texts = [unit_text(u) for u in (c.a, c.b) if u is not None]
        pa, pb = (c.a.params if c.a else 0), (c.b.params if c.b else 0)
        got.append((c.status, c.kind, " → ".join(dict.fromkeys(texts)), pb - pa))
    assert got == expected


def test_the_docs_fpn_is_the_valid_cases_text():
    # docs/spec-format.md "Several outputs" shows tests/cases/valid/fpn_outputs.yaml's layers word for word
    import re

    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    section = docs.split("\n### Several outputs\n", 1)[1].split("\n## ", 1)[0]
    (source, snippet), *rest = re.findall(r"<!-- from ([\w/.]+\.yaml) -->\n```yaml\n(.*?)```", section, re.DOTALL)
    assert not rest and ROOT / source == FPN
    text = FPN.read_text(encoding="utf-8")
    assert snippet.startswith("layers:\n") and snippet in text
