"""The README's promises: CI runs its test command, and its example spec is valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz.shapes import infer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.DOTALL)


def test_ci_runs_the_readme_test_command():
    setup = [b.strip() for b in blocks("sh") if "pytest" in b]
    assert len(setup) == 1
    assert setup[0] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_has_two_setup_commands():
    commands = [b.strip() for b in blocks("sh") if b.strip().startswith("python3 -m venv")]
    assert len(commands) == 2
    render, test = commands
    assert "cnnviz render" in render and "torch" not in render  # drawing needs no torch
    assert "torch==2.13.0" in test and ".[test]" in test


def test_readme_pins_torch_wherever_it_installs_it():
    installs = [m for b in blocks("sh") for m in re.findall(r"pip install ([^&\n]*)", b)]
    with_torch = [i for i in installs if re.search(r"\btorch\b", i)]
    assert with_torch, "the README no longer says how to install torch"
    assert all(re.search(r"\btorch==2\.13\.0\b", i) for i in with_torch), with_torch


def test_torch_is_an_optional_extra():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]]
    assert "torch" not in names and "graphviz" not in names  # graphviz-pure is run directly
    extras = project["optional-dependencies"]
    assert any(d.startswith("torch") for d in extras["shapes"])
    assert any(d.startswith("torch") for d in extras["test"])
    assert "'.[shapes]'" in README


def test_readme_example_spec_validates(tmp_path):
    (spec,) = blocks("yaml")
    path = tmp_path / "my_net.yaml"
    path.write_text(spec, encoding="utf-8")
    assert infer(path).shapes  # raises SpecError if the example were wrong
