"""``cnnviz diff`` on the command line: formats, -o, golden outputs, --exit-code."""

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
    assert out["schema"] == "cnnviz-diff/2"
    change = out["changes"][1]
    assert list(change) == ["status", "kind", "a", "b", "notes", "children"]
    assert list(change["b"]) == ["path", "paths", "kind", "type", "label", "count", "variants", "params", "output"]


def test_exit_code_is_1_when_they_differ_and_0_when_not():
    assert run("resnet50", "resnet101", "--exit-code").exit_code == 1
    assert run("resnet50", "resnet50", "--exit-code").exit_code == 0
    assert run(SMALL_A, SMALL_A, "--exit-code").exit_code == 0
    assert run("resnet50", "resnet101").exit_code == 0  # without the flag a difference is not an error


BAD_SHAPES = "name: Bad\ninput: [3, 32, 32]\nlayers:\n  - concat: [[conv 8 3x3 /2], [conv 8 3x3]]\n"


@pytest.mark.parametrize(
    "a, b, message",
    [
        ("resnet50", "nosuchnet", "no such architecture or file"),  # the spec cannot be read
        (SMALL_A, "bad.yaml", "concat: the branches differ in size"),  # the shapes do not fit
    ],
)
def test_an_error_exits_2_with_exit_code_and_1_without(a, b, message, tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD_SHAPES)
    b = str(tmp_path / b) if b == "bad.yaml" else b
    with_flag = run(a, b, "--exit-code")
    assert with_flag.exit_code == 2, with_flag.output
    assert message in with_flag.output
    assert "Traceback" not in with_flag.output
    assert run(a, b).exit_code == 1


def test_an_output_error_exits_2_with_exit_code(tmp_path):
    target = str(tmp_path / "no" / "such" / "folder.txt")
    result = run("vgg16", "vgg19", "-o", target, "--exit-code")
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert run("vgg16", "vgg19", "-o", target).exit_code == 1


@pytest.mark.dot
def test_an_engine_error_exits_2_with_exit_code(tmp_path, monkeypatch):
    from cnnviz.drawing import engine
    from cnnviz.errors import EngineError

    def missing(name=engine.PURE):
        raise EngineError("the graphviz-pure binary was not found (test)")

    monkeypatch.setattr(engine, "find", missing)
    target = tmp_path / "d.svg"
    result = run("vgg16", "vgg19", "-o", str(target), "--exit-code")
    assert result.exit_code == 2
    assert "graphviz-pure binary was not found (test)" in result.output
    assert not target.exists()
    assert run("vgg16", "vgg19", "-o", str(target)).exit_code == 1


def test_missing_torch_exits_2_with_exit_code(monkeypatch):
    import cnnviz
    from cnnviz.errors import MissingDependency

    def no_torch():
        raise MissingDependency("shapes and parameter counts need torch (test)")

    monkeypatch.setattr(cnnviz, "shape_stage", no_torch)
    result = run("vgg16", "vgg19", "--exit-code")
    assert result.exit_code == 2 and "need torch (test)" in result.output
    assert run("vgg16", "vgg19").exit_code == 1
    assert run("vgg16", "nosuchnet", "--exit-code").output.startswith("nosuchnet")  # the spec is read first


def test_a_rename_alone_exits_1(tmp_path):
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text((ROOT / SMALL_A).read_text().replace("  down:\n    label: Down", "  reduce:\n    label: Reduce").replace("- down @down1", "- reduce @down1"))
    result = run(SMALL_A, str(renamed), "--exit-code")
    assert result.exit_code == 1
    assert "> down1: Down → Reduce (same structure; module down → reduce)" in result.output
    assert json.loads(run(SMALL_A, str(renamed), "--format", "json").output)["identical"] is False


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
    assert "block3: conv 256 3×3 ×3 → ×4 (+1)" in text


def test_terminal_gets_colour():
    result = CliRunner().invoke(cli, ["diff", "vgg16", "vgg19"], color=True)
    assert "\x1b[33m" in result.output  # changed lines in yellow


# -- -o: the format from the suffix ------------------------------------------------------------------


def test_o_txt_is_the_plain_text_report(tmp_path):
    target = tmp_path / "d.txt"
    assert run(SMALL_A, SMALL_B, "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == run(SMALL_A, SMALL_B).output


def test_o_json_is_the_json_report(tmp_path):
    target = tmp_path / "d.JSON"  # suffixes are read case-insensitively
    result = run(SMALL_A, SMALL_B, "-o", str(target))
    assert result.exit_code == 0 and result.output == ""
    assert target.read_text(encoding="utf-8") == run(SMALL_A, SMALL_B, "--format", "json").output


@pytest.mark.dot
def test_o_svg_is_the_picture(tmp_path):
    target = tmp_path / "d.svg"
    result = run(SMALL_A, SMALL_B, "-o", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "<svg" in text and text.rstrip().endswith("</svg>")


@pytest.mark.dot
def test_o_png_is_the_picture(tmp_path):
    target = tmp_path / "d.png"
    result = run(SMALL_A, SMALL_B, "-o", str(target), "--detail", "compact")
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_o_without_a_suffix_is_text_and_dash_is_standard_output(tmp_path):
    target = tmp_path / "report"
    assert run("vgg16", "vgg19", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("VGG-16 (2014) → VGG-19 (2014)")
    dash = run("vgg16", "vgg19", "-o", "-", "--format", "json")
    assert dash.exit_code == 0 and json.loads(dash.output)["schema"] == "cnnviz-diff/2"


def test_format_agrees_with_the_suffix_or_is_a_usage_error(tmp_path):
    unknown = run("vgg16", "vgg19", "-o", str(tmp_path / "d.html"))
    assert unknown.exit_code == 2 and "cannot tell the format from '.html'" in unknown.output
    conflict = run("vgg16", "vgg19", "-o", str(tmp_path / "d.svg"), "--format", "json")
    assert conflict.exit_code == 2 and "says svg but --format says json" in conflict.output
    assert not (tmp_path / "d.html").exists() and not (tmp_path / "d.svg").exists()
    forced = tmp_path / "d.out"
    assert run("vgg16", "vgg19", "-o", str(forced), "--format", "json").exit_code == 0
    assert json.loads(forced.read_text(encoding="utf-8"))["identical"] is False
    agree = tmp_path / "d.json"
    assert run("vgg16", "vgg19", "-o", str(agree), "--format", "json").exit_code == 0


def test_o_never_overwrites_an_input_spec(tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text((ROOT / SMALL_A).read_text())
    before = spec.read_text()
    result = run(str(spec), SMALL_B, "-o", str(spec), "--format", "text", "--exit-code")
    assert result.exit_code == 2 and "input spec" in result.output
    assert spec.read_text() == before


def test_the_documented_example_and_schema_match_the_code():
    from cnnviz.diff.jsonout import SCHEMA

    doc = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    example = doc.split("```console\n$ cnnviz diff inception_v3 inception_v4\n", 1)[1].split("\n  ...\n```", 1)[0]
    assert (GOLDEN / "inception_v3-inception_v4.txt").read_text(encoding="utf-8").startswith(example + "\n")
    assert f'"schema": "{SCHEMA}"' in doc


def test_errors_of_both_sides_come_together(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\ninput: [3, 8\n", encoding="utf-8")
    result = run(str(tmp_path / "a.yaml"), "nosuchnet")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2 and "YAML syntax error" in lines[0] and lines[1].startswith("nosuchnet: no such architecture or file")


def test_output_into_a_missing_folder_is_one_line():
    result = run("vgg16", "vgg19", "-o", "missing/dir/x")
    assert result.exit_code == 1
    assert result.output.splitlines() == ["missing/dir/x: folder missing/dir does not exist"]


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    target = tmp_path / "d.json"
    result = run(SMALL_A, SMALL_B, "-o", str(target))
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"{target}: cannot write: No space left on device"]
    assert list(tmp_path.iterdir()) == []
