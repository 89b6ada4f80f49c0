"""The command line, through click's CliRunner: exit codes and what a user reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.spec.schema import schema_text

VALID = Path(__file__).parent / "cases" / "valid"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_validate_ok_line():
    result = run("validate", "resnet50")
    assert result.exit_code == 0
    assert result.output.endswith(": ResNet-50, 25,557,032 params, output 1000\n")
    assert result.output.startswith("OK ")


def test_validate_several_reports_each_and_fails_if_any_fails():
    result = run("validate", "resnet50", str(VALID / "tiny_resnet.yaml"), "nosuchnet")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "no such architecture or file" in lines[0]  # every spec is read before the shape pass
    assert [line.split()[:2] for line in lines[1:]] == [["OK", "resnet50:"], ["OK", str(VALID / "tiny_resnet.yaml") + ":"]]


def test_summary_table_has_totals():
    result = run("summary", "resnet50", "--depth", "1")
    assert result.exit_code == 0
    assert "Total params: 25,557,032" in result.output
    assert "identity block" not in result.output.split("Total")[0].split("conv2 ")[0]


@pytest.mark.parametrize(("depth", "deepest"), [(1, 0), (2, 1), (3, 2), (64, 3)])
def test_summary_depth_is_the_levels_shown(depth, deepest):
    from cnnviz import build_network, infer
    from cnnviz.summary import rows

    net = build_network(str(VALID / "tiny_resnet.yaml"))
    got = rows(net, infer(net), depth)
    assert max(r.indent for r in got) == deepest
    assert [str(r.path) for r in got if r.indent == 0] == ["stem", "stage1", "aux1", "stage2", "grouped1", "gap1", "dense1"]


@pytest.mark.parametrize(
    ("arch", "path", "expected"),
    [
        (str(VALID / "tiny_resnet.yaml"), "stage1", "res block ×2"),  # a repeated module call: its label and the copies
        ("resnet50", "conv4", "identity block ×5"),  # the stage's other block (conv4_1) is not one of the copies
        ("vgg16", "block1", "conv 64 3×3 ×2"),  # a repeated layer: its line
    ],
)
def test_summary_repeat_rows_say_what_is_repeated(arch, path, expected):
    result = run("summary", arch, "--depth", "1")
    (row,) = [line for line in result.output.splitlines() if line.split()[:1] == [path]]
    assert expected in row


def test_summary_prints_the_table_then_the_broken_expectations():
    path = Path(__file__).parent / "cases" / "invalid" / "expect_mismatch.yaml"
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "Total params: 314" in out
    errors = [line for line in out.splitlines() if "expect:" in line]
    assert [e.split(":", 1)[1] for e in errors] == ["10:11: expect: params is 100 but the network has 314 (+214)", "11:11: expect: output is 20 but the network gives 10"]
    assert out.index("Total params: 314") < out.index(errors[0])


def test_summary_json_schema():
    result = run("summary", str(VALID / "tiny_resnet.yaml"), "--json")
    assert result.exit_code == 0
    obj = json.loads(result.output)
    assert {"name", "input", "output", "params", "params_aux", "layers"} <= set(obj)
    assert obj["input"] == [3, 32, 32] and obj["output"] == [10]
    assert obj["params_aux"] == 170
    assert sum(layer["params"] for layer in obj["layers"]) == obj["params"] + obj["params_aux"]
    first = obj["layers"][0]
    assert set(first) == {"path", "type", "output", "params"}
    assert first == {"path": "stem", "type": "conv", "output": [16, 32, 32], "params": 16 * 3 * 9}


def test_list_shows_every_spec():
    result = run("list")
    assert result.exit_code == 0
    assert "resnet50" in result.output and "25,557,032" in result.output


def test_schema_prints_the_shipped_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert result.output == schema_text(), "regenerate: python -m cnnviz.spec.schema > cnnviz/spec/cnnviz.schema.json"


def test_catalogue_specs_satisfy_the_schema():
    jsonschema = __import__("pytest").importorskip("jsonschema")
    import yaml

    schema = json.loads(schema_text())
    for path in sorted((Path(__file__).parent.parent / "arch_specs").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_the_valid_case_specs_satisfy_the_schema():
    # tests/cases/valid/ has the newer vocabulary (dwconv, tconv, upsample, mul, split, custom...) that the catalogue may not
    jsonschema = __import__("pytest").importorskip("jsonschema")
    import yaml

    schema = json.loads(schema_text())
    paths = sorted(VALID.glob("*.yaml"))
    assert any(p.name == "modern_blocks.yaml" for p in paths)
    for path in paths:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "cnnviz", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("cnnviz, version ")


def test_usage_error_exits_2():
    assert run("summary").exit_code == 2


def test_validate_writes_shapes_and_counts_the_present_way():
    result = run("validate", "inception_v3", str(VALID / "tiny_resnet.yaml"))
    assert result.exit_code == 0
    assert result.output.splitlines()[0].endswith(": Inception-v3, 23,834,568 params (+3,326,696 aux), output 1000")
    assert "output 10\n" in result.output


def test_validate_a_shape_error_exits_1_with_located_lines(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3\n  - dense 10\n", encoding="utf-8")
    result = run("validate", str(path), "lenet5")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:5:5: dense1: dense 10: needs a flat input, got [8×8×8]; put flatten or gap before it",
        "OK lenet5: LeNet-5, 61,706 params, output 10",
    ]


def test_summary_table_shapes_and_paths():
    result = run("summary", str(VALID / "tiny_resnet.yaml"), "--depth", "4")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:2] == ["Tiny ResNet (2026)", "input 3×32×32"]
    row = next(line for line in lines if line.strip().startswith("stage2.add1.b1.conv1 "))
    assert row.split()[1:] == ["conv", "32", "3×3", "/2", "·", "bn", "·", "relu", "32×16×16", "4,672"]
    assert any(line.split()[:2] == ["grouped1.towers1.conv2", "conv"] and "(×4 towers)" in line for line in lines)
    assert lines[-3:] == ["Auxiliary heads: 170 (not in the total; used in training only)", "Output: 10", "Depth: 11 weighted layers (conv + dense) on the longest path"]


def test_summary_json_paths_are_the_documented_text():
    obj = json.loads(run("summary", str(VALID / "tiny_resnet.yaml"), "--json").output)
    paths = [layer["path"] for layer in obj["layers"]]
    assert {"stage1.1.add1.b1.conv1", "stage1.1.add1.b1.conv1_bn", "stage1.1.add1.b1.conv1_relu", "aux1.dense1"} <= set(paths)
    assert len(paths) == len(set(paths))
    assert next(layer for layer in obj["layers"] if layer["path"] == "aux1.dense1")["aux"] is True
    assert (obj["id"], obj["depth"], obj["year"]) == ("tiny_resnet", 11, 2026)


WITHOUT_TORCH = "import sys\nsys.modules['torch'] = None  # as if torch were not installed\nfrom cnnviz.cli import main\nmain(sys.argv[1:])\n"


def without_torch(*args):
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], check=False, capture_output=True, text=True)


def test_without_torch_the_shape_commands_say_how_to_get_it():
    for args in (["validate", "resnet50", "lenet5"], ["summary", "resnet50"]):
        out = without_torch(*args)
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr.splitlines() == [
            "shapes and parameter counts need torch (torch is not installed): pip install torch==2.13.0, "
            "then pip install 'cnnviz[shapes]' (pin torch first, or pip takes a CUDA build of several GB)"
        ]


@pytest.mark.parametrize("command", ["render", "summary", "import"])
def test_without_torch_a_model_reference_says_how_to_get_it(command):
    out = without_torch(command, "tests/models/nets.py:Towers", *(["-o", "-"] if command != "summary" else []))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.splitlines() == [
        "PyTorch models need torch (torch is not installed): pip install torch==2.13.0, "
        "then pip install 'cnnviz[shapes]' (pin torch first, or pip takes a CUDA build of several GB)"
    ]


def test_without_torch_spec_errors_come_first():
    for args in (["nosuchnet", "resnet50"], ["resnet50", "nosuchnet"]):
        out = without_torch("validate", *args)
        assert out.returncode == 1
        lines = out.stderr.splitlines()
        assert len(lines) == 2 and "no such architecture or file" in lines[0] and "need torch" in lines[1]
        assert "Traceback" not in out.stderr


def test_list_json_and_table_agree():
    items = json.loads(run("list", "--json").output)
    table = run("list").output.splitlines()
    assert [line.split()[0] for line in table] == [e["id"] for e in items]
    resnet = next(line for line in table if line.startswith("resnet50 "))
    assert resnet.split()[-1] == "25,557,032"


# -- a catalogue id is never a file of the working folder ------------------------------------


def test_a_folder_or_file_named_like_an_id_does_not_hijack_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resnet50").mkdir()
    (tmp_path / "googlenet").write_text("not a spec", encoding="utf-8")
    for arch, ident in (("resnet50", "resnet50"), ("googlenet", "inception_v1")):
        result = run("render", arch, "--format", "json", "-o", "-")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["id"] == ident


def test_a_path_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (VALID / "tiny_resnet.yaml").read_text(encoding="utf-8")
    (tmp_path / "resnet50").write_text(text, encoding="utf-8")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mine").write_text(text, encoding="utf-8")
    (tmp_path / "Mine.YML").write_text(text, encoding="utf-8")
    for arch in ("./resnet50", "specs/mine", "Mine.YML", str(tmp_path / "resnet50")):
        result = run("render", arch, "--format", "json", "-o", "-")
        assert result.exit_code == 0, (arch, result.output)
        assert json.loads(result.output)["name"] == "Tiny ResNet", arch


def test_a_bare_word_naming_a_file_suggests_dot_slash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mynet").write_text((VALID / "tiny_resnet.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("render", "mynet", "-o", "-")
    assert result.exit_code == 1
    assert result.output.splitlines() == ["mynet: not a catalogue id or alias; to read the file of that name, write ./mynet"]
    assert run("render", "./mynet", "--format", "json", "-o", "-").exit_code == 0
    result = run("render", "nosuchnet", "-o", "-")
    assert "no such architecture or file" in result.output


def test_help_states_the_rule():
    text = " ".join(run("--help").output.split())
    assert "contains a '/' or ends in .yaml or .yml" in text and "./resnet50" in text


def test_commands_that_import_torch_print_nothing_on_stderr():
    # torch warns on import when numpy is missing (cnnviz does not need numpy): not a user's problem
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, "-c", "from cnnviz.cli import main; main(['validate', 'lenet5'])"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
