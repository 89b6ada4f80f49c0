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
        "from cnnviz.graph import build_graph\nfrom cnnviz.spec import load_spec\nbuild_graph(load_spec('resnet50'))",
    ],
    ids=["package", "cli", "help", "spec-and-graph"],
)
def test_no_torch_at_start_up(code):
    assert not imported_after(code) & set(HEAVY)


def test_shape_pass_does_import_torch():
    # the guard above must be able to fail: the shape stage really imports torch
    assert "torch" in imported_after("import cnnviz.shapes")
