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
        "import cnnviz.capture\nfrom cnnviz.archs import load_arch\nload_arch('resnet50')",
    ],
    ids=["package", "cli", "help", "spec-and-network", "graph-view", "summary-registry", "arch-resolution"],
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


SYNTAX_ERROR = "name: t\ninput: [3, 8\nlayers: [conv 8 3x3]\n"  # an unclosed [


@pytest.mark.parametrize(
    "args, bad",
    [
        (["validate", "{bad}", "{bad2}"], 2),
        (["summary", "{bad}"], 1),
        (["summary", "{bad}", "--json"], 1),
        (["diff", "{bad}", "resnet50"], 1),
        (["diff", "resnet50", "{bad}"], 1),
        (["diff", "{bad}", "{bad2}", "--format", "json"], 2),
        (["render", "{bad}", "--shapes", "-o", "-"], 1),
        (["render", "{bad}", "--params", "-o", "-"], 1),
    ],
    ids=["validate-several", "summary", "summary-json", "diff-a", "diff-b", "diff-both", "render-shapes", "render-params"],
)
def test_a_yaml_syntax_error_costs_no_torch_import(args, bad, tmp_path):
    paths = {"{bad}": tmp_path / "bad.yaml", "{bad2}": tmp_path / "bad2.yaml"}
    for path in paths.values():
        path.write_text(SYNTAX_ERROR, encoding="utf-8")
    argv = [str(paths.get(a, a)) for a in args]
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom cnnviz.cli import cli\n"
        f"result = CliRunner().invoke(cli, {argv!r})\n"
        "import json; print(json.dumps([result.exit_code, result.output, sorted(sys.modules)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    exit_code, output, modules = json.loads(out.splitlines()[-1])
    assert exit_code == 1
    lines = output.splitlines()
    assert len(lines) == bad and all(": YAML syntax error: " in line for line in lines), output
    assert [line.split(":")[0] for line in lines] == [str(p) for p in paths.values()][:bad]
    assert not set(modules) & set(HEAVY)
