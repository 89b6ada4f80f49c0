"""Golden DOT: the layout input of every catalogue spec at every detail level, compared as text.

``pytest --overwrite tests/test_render_golden.py`` rewrites tests/golden/render/
after an intended change; review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.drawing import Diagram
from cnnviz.registry import list_models

GOLDEN = Path(__file__).parent / "golden" / "render"


@pytest.mark.parametrize("detail", ["compact", "modules", "full"])
@pytest.mark.parametrize("ident", list_models())
def test_golden_dot(golden, ident, detail):
    golden(GOLDEN / f"{ident}.{detail}.gv", Diagram(ident, detail=detail).source())


@pytest.mark.parametrize("options", [{"direction": "TB"}, {"aux": False}, {"legend": False, "title": False}], ids=["tb", "no-aux", "bare"])
def test_golden_dot_options(golden, options):
    name = "-".join(f"{k}={v}" for k, v in sorted(options.items()))
    golden(GOLDEN / f"inception_v1.{name}.gv", Diagram("inception_v1", **options).source())


def test_source_is_deterministic_across_processes():
    import subprocess
    import sys

    code = "import cnnviz.drawing as r, sys; sys.stdout.write(r.Diagram('inception_resnet_v2', detail='modules').source())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    assert len(outs) == 1


@pytest.mark.parametrize("detail", ["compact", "full"])
def test_golden_dot_of_the_newer_vocabulary(golden, detail):
    # every newer layer type and merge (tests/cases/valid/modern_blocks.yaml), with its colour, legend and label
    spec = Path(__file__).parent / "cases" / "valid" / "modern_blocks.yaml"
    golden(GOLDEN / f"modern_blocks.{detail}.gv", Diagram(str(spec), detail=detail).source())


@pytest.mark.parametrize(
    "case, options",
    [
        ("fpn_outputs", {}),  # a U drawn upright, P3-P5 hanging off the top-down line
        ("fpn_outputs", {"direction": "LR"}),
        ("multitask_outputs", {}),
        ("multitask_outputs", {"detail": "modules"}),
        ("multitask_outputs", {"detail": "full"}),
        ("multitask_outputs", {"aux": False}),
    ],
)
def test_golden_dot_of_several_outputs(golden, case, options):
    spec = Path(__file__).parent / "cases" / "valid" / f"{case}.yaml"
    name = "-".join(f"{k}={v}" for k, v in sorted(options.items())) or "compact"
    golden(GOLDEN / f"{case}.{name}.gv", Diagram(str(spec), **options).source())
