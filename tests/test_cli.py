"""The command line, through click's CliRunner: exit codes and what a user reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert [line.split()[0] for line in lines[:2]] == ["OK", "OK"]
    assert "no such architecture or file" in lines[2]


def test_summary_table_has_totals():
    result = run("summary", "resnet50", "--depth", "0")
    assert result.exit_code == 0
    assert "Total params: 25,557,032" in result.output
    assert "identity block" not in result.output.split("Total")[0].split("conv2 ")[0]


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


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "cnnviz", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("cnnviz, version ")


def test_usage_error_exits_2():
    assert run("summary").exit_code == 2
