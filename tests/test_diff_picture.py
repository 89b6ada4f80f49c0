"""The diff picture: which boxes get which colour, and the SVG/PNG it makes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.diff import diff
from cnnviz.diff.picture import PALETTE, Painter, Picture

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
def test_painter_status_of_graph_paths(small, which, path, status):
    side = small.a if which == "a" else small.b
    assert Painter(side.graph, small.changes, which).status(path) == status


def test_painter_mixed_members_read_as_changed(small):
    painter = Painter(small.b.graph, small.changes, "b")
    assert painter.of(["stage1.1.concat1.b2.conv1", "stage1.1.concat1.b3.conv1"]) == "changed"
    assert painter.of(["stage1.1", "stage1.2", "stage1.3"]) == "changed"
    assert painter.of(["input"]) is None


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
        painted = {view.nodes[n]["members"][0].split(".")[0] for n, a, _ in p.mains[w].nodes if a.get("fillcolor") == fill}
        assert painted == {"block3", "block4", "block5"}


@pytest.mark.dot
def test_cli_svg_to_stdout():
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19", "--format", "svg", "--detail", "compact"])
    assert result.exit_code == 0
    assert result.output.startswith("<?xml")
    assert PALETTE["changed"][0] in result.output
