"""``cnnviz diff`` on the command line: formats, golden outputs, --exit-code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "diff"
SMALL_A, SMALL_B = "tests/cases/diff/small_a.yaml", "tests/cases/diff/small_b.yaml"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # spec paths appear in the output as given


def run(*args):
    return CliRunner().invoke(cli, ["diff", *args])


@pytest.mark.parametrize(
    "a, b, name",
    [(SMALL_A, SMALL_B, "small"), ("vgg16", "vgg19", "vgg16-vgg19")],
)
def test_golden_json(golden, a, b, name):
    result = run(a, b, "--format", "json")
    assert result.exit_code == 0, result.output
    json.loads(result.output)
    golden(GOLDEN / f"{name}.json", result.output)


@pytest.mark.parametrize("detail", ["compact", "modules", "full"])
def test_golden_text_of_two_user_files(golden, detail):
    result = run(SMALL_A, SMALL_B, "--detail", detail)
    assert result.exit_code == 0, result.output
    golden(GOLDEN / f"small-{detail}.txt", result.output)


def test_golden_text_inception_v3_to_v4(golden):
    result = run("inception_v3", "inception_v4")
    golden(GOLDEN / "inception_v3-inception_v4.txt", result.output)


def test_json_schema_top_level_keys():
    out = json.loads(run(SMALL_A, SMALL_B, "--format", "json").output)
    assert list(out) == ["schema", "identical", "a", "b", "delta", "changes", "census", "stages"]
    assert out["schema"] == "cnnviz-diff/1"
    change = out["changes"][1]
    assert list(change) == ["status", "kind", "a", "b", "notes", "children"]
    assert list(change["b"]) == ["path", "paths", "kind", "type", "label", "count", "variants", "params", "output"]


def test_exit_code_is_1_when_they_differ_and_0_when_not():
    assert run("resnet50", "resnet101", "--exit-code").exit_code == 1
    assert run("resnet50", "resnet50", "--exit-code").exit_code == 0
    assert run(SMALL_A, SMALL_A, "--exit-code").exit_code == 0
    assert run("resnet50", "resnet101").exit_code == 0  # without the flag a difference is not an error


def test_spec_error_exits_2_with_exit_code_and_1_without():
    with_flag = run("resnet50", "nosuchnet", "--exit-code")
    assert with_flag.exit_code == 2
    assert "no such architecture or file" in with_flag.output
    assert run("resnet50", "nosuchnet").exit_code == 1


def test_same_spec_says_nothing_changed():
    out = run("vgg16", "vgg16").output
    assert "nothing: the two networks have the same structure" in out
    assert out.rstrip().endswith("Total: same params, same depth")


def test_output_file_has_no_colour(tmp_path):
    target = tmp_path / "d.txt"
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19", "-o", str(target)], color=True)
    assert result.exit_code == 0 and result.output == ""
    text = target.read_text()
    assert "\x1b[" not in text
    assert "block3: conv 256 3x3 ×3 → ×4 (+1)" in text


def test_terminal_gets_colour():
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19"], color=True)
    assert "\x1b[33m" in result.output  # changed lines in yellow
