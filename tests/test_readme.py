"""The README's promises: CI runs its test command, and its example spec is valid."""

from __future__ import annotations

import re
from pathlib import Path

from cnnviz.shapes import infer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_ci_runs_the_readme_test_command():
    setup = [b.strip() for b in blocks("sh") if "pytest" in b]
    assert len(setup) == 1
    assert setup[0] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_has_two_setup_commands():
    commands = [b.strip() for b in blocks("sh") if b.strip().startswith("python3 -m venv")]
    assert len(commands) == 2
    assert all("torch==2.13.0" in c for c in commands)


def test_readme_example_spec_validates(tmp_path):
    (spec,) = blocks("yaml")
    path = tmp_path / "my_net.yaml"
    path.write_text(spec, encoding="utf-8")
    assert infer(path).shapes  # raises SpecError if the example were wrong
