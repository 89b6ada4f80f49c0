"""Shared test fixtures.  ``pytest --overwrite`` regenerates every golden file instead of comparing.

Every property test (hypothesis) draws the same examples on every run, so that CI passes or
fails on the code alone; ``CNNVIZ_FUZZ_SEED=random pytest`` explores new inputs instead (a
case found that way is then pinned with ``@hypothesis.example``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

try:
    import hypothesis
except ImportError:  # the property tests skip themselves
    pass
else:
    hypothesis.settings.register_profile("cnnviz", derandomize=os.environ.get("CNNVIZ_FUZZ_SEED") != "random")
    hypothesis.settings.load_profile("cnnviz")


def pytest_addoption(parser):
    parser.addoption("--overwrite", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture
def golden(request):
    """``golden(path, text)``: compare ``text`` with the file at ``path`` (or rewrite it with --overwrite)."""
    overwrite = request.config.getoption("--overwrite")

    def check(path: Path, text: str) -> None:
        if overwrite or not path.exists():
            if not overwrite:
                pytest.fail(f"missing golden file {path.relative_to(ROOT)}; run pytest --overwrite to create it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert text == path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} differs; run pytest --overwrite if the change is intended"

    return check
