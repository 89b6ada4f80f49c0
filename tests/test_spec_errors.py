"""Every bad spec gets located one-line errors, all at once, and no traceback.

One case per file in tests/cases/invalid/: the spec and, in its leading
``# error:`` comments, the exact lines ``cnnviz validate`` must print.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "cases" / "invalid").glob("*.yaml"))
LOCATED = re.compile(r"^\d+:\d+: ")


def expected_lines(case: Path) -> list[str]:
    rel = case.relative_to(ROOT).as_posix()
    out = []
    for line in case.read_text(encoding="utf-8").splitlines():
        if line.startswith("# error: "):
            msg = line[len("# error: ") :]
            out.append(f"{rel}:{msg}" if LOCATED.match(msg) else f"{rel}: {msg}")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_spec_reports_exact_lines(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    want = expected_lines(case)
    assert want, f"{case.name} declares no '# error:' line"
    result = CliRunner().invoke(cli, ["validate", case.relative_to(ROOT).as_posix()])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert sorted(result.output.splitlines()) == sorted(want)
