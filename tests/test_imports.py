"""Start-up stays light: the CLI and a plain render never import torch (like click's test_imports.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "numpy")


def imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import cnnviz",
        "import cnnviz.cli",
        "from cnnviz.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        "from cnnviz.graph import build_network\nfrom cnnviz.spec import load_spec\nbuild_network(load_spec('resnet50')).graph",
        "import cnnviz\ncnnviz.build_graph('inception_v4')",
        "import cnnviz.summary, cnnviz.present, cnnviz.registry\ncnnviz.registry.entries()",
    ],
    ids=["package", "cli", "help", "spec-and-network", "graph-view", "summary-registry"],
)
def test_no_torch_at_start_up(code):
    assert not imported_after(code) & set(HEAVY)


def test_shape_pass_does_import_torch():
    # the guard above must be able to fail: the shape stage really imports torch
    assert "torch" in imported_after("import cnnviz.shapes")


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_a_spec_error_costs_no_torch_import(command, tmp_path):
    # the spec is parsed before the shape stage is asked for, so a typo is reported at once
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3y3]\n", encoding="utf-8")
    code = (
        "from click.testing import CliRunner\nfrom cnnviz.cli import cli\n"
        f"result = CliRunner().invoke(cli, [{command!r}, {str(path)!r}])\n"
        "print(result.exit_code, result.output.strip())"
    )
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == f"1 {path}:3:10: conv: kernel: expected a size like 3 or 3x3 or 1x7, got '3y3'"
    assert not set(json.loads(out[-1])) & set(HEAVY)
