"""Long main lines and large networks.

The wrapping steps are linear now; they are checked here against their direct
(quadratic) definitions, and the path that lays a very long line out in chunks
against the one that lays it out whole.  A network of hundreds of blocks must
draw, compact and full: correctness only; speed is measured in benchmarks/
(``bench_scale.py``), never asserted.
"""

from __future__ import annotations

import math
import random
import re

import pytest

from cnnviz import build_network
from cnnviz.drawing import Diagram, compose, wrap
from cnnviz.drawing.view import build

# -- the direct definitions, as the wrapping code first wrote them ---------------------


def candidates_direct(v):
    spans: dict = {}
    clusters = v.graph.get("clusters", {})
    for _n, d in v.nodes(data=True):
        c, i = d.get("cluster"), d["order"]
        while c is not None:
            lo, hi = spans.get(c, (i, i))
            spans[c] = (min(lo, i), max(hi, i))
            c = clusters[c]["parent"]
    order = v.nodes(data="order")
    edges = [(order[s], order[t]) for s, t in v.edges]
    out = []
    for c, d in v.nodes(data=True):
        i = d["order"]
        if not d.get("spine") or d["kind"] == "port" or v.out_degree(c) == 0:
            continue
        if any(s < i + 1 <= t and s != i for s, t in edges):
            continue
        if any(lo <= i < hi for lo, hi in spans.values()):
            continue
        out.append(c)
    return out


def choose_direct(v, along, length, limit):
    if length <= limit:
        return []
    rows = math.ceil(length / limit)
    cands = candidates_direct(v)
    cuts, last = [], -math.inf
    for k in range(1, rows):
        target = k * length / rows
        options = [c for c in cands if along[c] > last]
        if not options:
            break
        best = min(options, key=lambda c: (abs(along[c] - target), v.nodes[c]["order"]))
        cuts.append(best)
        last = along[best]
    return cuts


@pytest.mark.parametrize(
    ("ident", "detail"),
    [("resnet50", "full"), ("inception_v1", "full"), ("inception_v4", "full"), ("resnext50", "full"), ("alexnet", "full"), ("inception_v3", "compact"), ("xception", "modules")],
)
def test_candidates_are_the_direct_definitions(ident, detail):
    v = build(build_network(ident), detail=detail).main.graph
    assert wrap.candidates(v) == candidates_direct(v)


def test_choose_is_the_direct_rule_ties_included():
    v = build(build_network("inception_v4"), detail="full").main.graph
    rng = random.Random(7)
    evenly = {n: 40.0 * i for i, n in enumerate(v)}
    coarse = {n: float(rng.randrange(0, 60)) * 250 for n in v}  # many candidates at one position
    jumbled = {n: rng.uniform(0, 20000) for n in v}  # positions out of the line's order
    same = dict.fromkeys(v, 1000.0)
    for along in (evenly, coarse, jumbled, same):
        for limit in (300.0, 1000.0, 2400.0, 7000.0):
            length = max(along.values()) + 20
            assert wrap.choose(v, along, length, limit) == choose_direct(v, along, length, limit)


def test_split_keeps_every_node_and_edge_once():
    v = build(build_network("resnet152"), detail="full").main.graph
    cuts = wrap.candidates(v)[3::7]
    rows = wrap.split(v, cuts)
    assert len(rows) == len(cuts) + 1
    drawn = [n for r in rows for n in r if not n.startswith("w_")]
    assert sorted(drawn) == sorted(v) and len(drawn) == len(v)
    assert sum(r.number_of_edges() for r in rows) == v.number_of_edges() + len(cuts)  # one more per cut: into w_out
    order = list(v.graph["clusters"])
    for r in rows:
        assert list(r.graph["clusters"]) == [c for c in order if c in r.graph["clusters"]]  # the line's order kept
        assert [n for n in r if not n.startswith("w_")] == [n for n in v if n in r]


def test_chunks_share_their_cut_nodes_and_stitch_back():
    v = build(build_network("resnet152"), detail="full").main.graph
    marks = wrap.chunks(v, 60)
    pieces = wrap.split(v, marks, overlap=True)
    assert len(pieces) == len(marks) + 1 > 5
    assert all(len(p) <= 60 + 30 for p in pieces)  # about the size asked (a block never splits)
    assert all(not n.startswith("w_") for p in pieces for n in p)  # no ports: pieces for measuring only
    for mark, nxt in zip(marks, pieces[1:]):
        assert next(iter(nxt)) == mark  # each piece starts with the node the previous one ends with
    # Positions along each piece, as an engine would give them: the whole line's, shifted.
    along = {n: 30.0 * i + 7 for i, n in enumerate(v)}
    shifted = []
    for k, p in enumerate(pieces):
        shift = along[next(iter(p))] - 5 if k else 0.0  # the first piece starts where the line does
        shifted.append(({n: along[n] - shift for n in p}, along[list(p)[-1]] - shift + 35))
    got, length = wrap.stitch(marks, shifted)
    assert got == pytest.approx(along) and length == pytest.approx(along[list(v)[-1]] + 35)


def test_batches_keep_the_order_and_stay_whole_when_small():
    assert compose._batches(["a" * 10] * 5, 4) == [["a" * 10] * 5]
    texts = [str(i) * (compose.BATCH // 3) for i in range(10)]
    batches = compose._batches(texts, 2)
    assert len(batches) == 2 and [t for b in batches for t in b] == texts
    assert abs(len(batches[0]) - len(batches[1])) <= 1


# -- through the layout engine ---------------------------------------------------------


class Spy:
    """compose.layout, recording the number of nodes of every graph laid out."""

    def __init__(self, monkeypatch):
        self.sizes: list[int] = []
        real = compose.layout

        def layout(dots, engine):
            self.sizes += [len(d.nodes) for d in dots]
            return real(dots, engine)

        monkeypatch.setattr(compose, "layout", layout)


@pytest.mark.dot
@pytest.mark.parametrize(("ident", "direction"), [("resnet152", "LR"), ("resnet152", "TB"), ("inception_v3", "LR")])
def test_chunked_wrapping_draws_the_same_picture(monkeypatch, ident, direction):
    """A line laid out in chunks is cut into the rows it is cut into when laid out whole."""
    whole = Diagram(ident, detail="full", direction=direction)
    line = len(whole.view.main.graph)
    expected = whole.dot()
    assert "_w_out" in expected  # the line wraps
    monkeypatch.setattr(wrap, "BIG", 100)
    monkeypatch.setattr(wrap, "CHUNK", 120)
    spy = Spy(monkeypatch)
    assert Diagram(ident, detail="full", direction=direction).dot() == expected
    assert max(spy.sizes) < line / 2  # the engine never saw the whole line


@pytest.mark.dot
def test_layout_in_batches_is_the_layout_in_one_run(monkeypatch):
    expected = Diagram("resnet50", detail="full").dot()
    monkeypatch.setattr(compose, "BATCH", 2000)
    assert Diagram("resnet50", detail="full").dot() == expected


def resnet_like(n: int) -> str:
    """A ResNet-like spec: ``n`` bottleneck blocks, one per line, in four stages."""
    head = (
        "name: ResNet-like\ninput: [3, 224, 224]\ndefaults:\n  conv: {bias: false, bn: true, act: relu}\nmodules:\n"
        "  down:\n    label: conv block\n    args: {width: null, stride: 1}\n    layers:\n"
        "      - add: [[conv $width 1x1, conv $width 3x3 /$stride, conv $(4*width) 1x1 act=none], conv $(4*width) 1x1 /$stride act=none]\n"
        "      - relu\n"
        "  same:\n    label: identity block\n    args: [width]\n    layers:\n"
        "      - add: [[conv $width 1x1, conv $width 3x3, conv $(4*width) 1x1 act=none], identity]\n"
        "      - relu\n"
        "layers:\n  - conv 64 7x7 /2\n  - maxpool 3x3 /2 padding=1\n"
    )
    lines = []
    for width, size in zip((64, 128, 256, 512), (n // 4, n // 4, n // 4, n - 3 * (n // 4))):
        lines.append(f"  - down {width}" + ("" if width == 64 else " /2"))
        lines += [f"  - same {width}"] * (size - 1)
    return head + "\n".join(lines) + "\n  - gap\n  - dense 1000\n"


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "resnet_like_300.yaml"
    path.write_text(resnet_like(300), encoding="utf-8")
    return str(path)


def test_a_network_of_300_blocks_folds_to_one_box_per_stage(large):
    view = build(build_network(large))
    assert [(d["title"], d["count"]) for _, d in view.main.graph.nodes(data=True) if d["kind"] == "module"] == [
        ("conv block", 1), ("identity block", 74), ("conv block", 1), ("identity block", 74),
        ("conv block", 1), ("identity block", 74), ("conv block", 1), ("identity block", 74),
    ]
    assert [p.title for p in view.panels] == ["conv block", "identity block"]


@pytest.mark.dot
def test_a_network_of_300_blocks_renders_compact(large):
    svg = Diagram(large).svg()
    assert svg.count("identity block") >= 5 and "×74" in svg


@pytest.mark.dot
def test_a_network_of_300_blocks_renders_full_in_rows(large, monkeypatch):
    d = Diagram(large, detail="full", legend=False, title=False)
    v = d.view.main.graph
    assert len(v) > wrap.BIG  # laid out in chunks
    spy = Spy(monkeypatch)
    composed = d._composed("graphviz-pure")
    assert max(spy.sizes) <= 2 * wrap.CHUNK
    names = [n for n, _, _ in composed.nodes]
    drawn = [m.group(1) for n in names if (m := re.fullmatch(r"p\d+_(n\d+)", n))]
    assert sorted(drawn) == sorted(v)  # every node of the line drawn once
    rows = sum(1 for n in names if n.endswith("_w_out")) + 1
    assert rows == len({n.split("_")[0] for n in names}) > 20
    width = float(composed.graph["bb"].split(",")[2])
    assert width < wrap.LIMIT * 1.3  # rows, not a strip
    svg = d.render("svg").decode()
    assert svg.count("<g id=\"node") >= len(v)
