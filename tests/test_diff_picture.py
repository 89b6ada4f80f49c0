"""The diff picture: which boxes get which colour, and the SVG/PNG it makes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.diff import diff
from cnnviz.diff.picture import PALETTE, Painter, Picture
from cnnviz.drawing import Paint
from cnnviz.model import INPUT

CASES = Path(__file__).parent / "cases" / "diff"
SMALL_A, SMALL_B = str(CASES / "small_a.yaml"), str(CASES / "small_b.yaml")


@pytest.fixture(scope="module")
def small():
    return diff(SMALL_A, SMALL_B)


@pytest.mark.parametrize(
    "which, path, status",
    [
        ("b", "stem", "unchanged"),
        ("b", "stage1.3", "added"),  # a third copy where A has two
        ("b", "stage1.3.concat1.b2.conv2", "added"),
        ("b", "stage1.2.concat1.b3.conv1", "added"),  # the new branch, in every copy
        ("b", "stage1.2.concat1.b2.conv2", "changed"),  # 5x5 → 3x3
        ("b", "stage1.1.concat1.b2.conv1", "unchanged"),
        ("b", "stage1.1.concat1.b2.conv1_relu", "unchanged"),  # folded into its conv
        ("b", "down1.maxpool1", "renamed"),
        ("b", "mix.conv1", "added"),
        ("a", "lrn1", "removed"),
        ("a", "stage1.2.concat1.b2.conv2", "changed"),
        ("a", "head.dense1", "unchanged"),
    ],
)
def test_painter_status_of_paths(small, which, path, status):
    side = small.a if which == "a" else small.b
    found = side.network.find(path)
    assert found is not None, path
    assert Painter(side.network, small.changes, which).status(found) == status


def test_painter_mixed_members_read_as_changed(small):
    net = small.b.network
    painter = Painter(net, small.changes, "b")
    assert painter.of([net.find("stage1.1.concat1.b2.conv1"), net.find("stage1.1.concat1.b3.conv1")]) == "changed"
    assert painter.of([net.find(f"stage1.{i}") for i in (1, 2, 3)]) == "changed"
    assert painter.of([INPUT]) is None


def test_painter_as_paint_hook(small):
    net = small.b.network
    painter = Painter(net, small.changes, "b")
    fill, stroke, _ = PALETTE["added"]
    assert painter((net.find("mix.conv1"),)) == Paint(fill, stroke)  # a box: both colours
    assert painter(net.find("mix")) == Paint(None, stroke)  # a cluster (the towers): its frame only
    assert painter(()) is None and painter((INPUT,)) is None  # the input and merges keep their colours


def test_picture_imports_only_public_drawing_names():
    """The diff draws through the public drawing API: no private module or name."""
    root = Path(__file__).resolve().parent.parent / "cnnviz" / "diff"
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and "drawing" in node.module.split("."):
                assert not any(part.startswith("_") for part in node.module.split(".")), (path.name, node.module)
                for alias in node.names:
                    assert not alias.name.startswith("_"), (path.name, alias.name)
                    assert alias.name not in ("compose", "dot", "wrap", "passes", "collapse"), (path.name, alias.name)


@pytest.mark.dot
def test_svg_colours_each_kind_of_change_and_has_a_legend(small):
    svg = Picture(small).render("svg").decode()
    for status in ("added", "removed", "changed", "renamed", "unchanged"):
        fill, stroke, legend = PALETTE[status]
        assert fill in svg and stroke in svg
        assert legend in svg
    assert "Block · before" in svg and "Block · after" in svg


@pytest.mark.dot
def test_picture_is_deterministic(small):
    assert Picture(small, "compact").render("svg") == Picture(small, "compact").render("svg")


@pytest.mark.dot
def test_cli_writes_png(tmp_path):
    target = tmp_path / "d.png"
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19", "--format", "png", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_lines_colour_exactly_the_three_changed_vgg_blocks():
    p = Picture(diff("vgg16", "vgg19"), "compact")
    fill = PALETTE["changed"][0]
    for w in ("a", "b"):
        view = p.diagrams[w].view.main.graph
        painted = {view.nodes[n]["members"][0].names()[0] for n, a, _ in p.mains[w].nodes if a.get("fillcolor") == fill}
        assert painted == {"block3", "block4", "block5"}


@pytest.mark.dot
def test_a_long_main_line_wraps_as_in_render(small):
    p = Picture(small, "full")
    wrapped = [n for n, _, _ in p.figure.composed().nodes if n.endswith("_w_out")]
    assert len(wrapped) >= 2  # both main lines are cut into rows
    width = float(p.figure.composed().graph["bb"].split(",")[2])
    assert width < 2400 + 200
    changed = PALETTE["changed"][0]
    assert sum(1 for _, a, _ in p.figure.composed().nodes if a.get("fillcolor") == changed) >= 2  # the rows are painted too


@pytest.mark.dot
def test_cli_svg_to_stdout():
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19", "--format", "svg", "--detail", "compact"])
    assert result.exit_code == 0
    assert result.output.startswith("<?xml")
    assert PALETTE["changed"][0] in result.output
