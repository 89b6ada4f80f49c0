"""User text never reaches a terminal raw: every line the command line prints goes through
cnnviz.terminal.safe (escape sequences, carriage returns, line feeds inside a value, C1
controls and bidi overrides are shown escaped)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.terminal import safe, safe_lines

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "cases" / "valid" / "tiny_resnet.yaml"

# What must never reach a terminal (the line feed between lines aside).
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ESC_NAME = "net\x1b]0;pwned\x07\x1b[2J.yaml"  # an OSC title and a clear-screen in a file name

# The spec loader refuses ESC and the other C0 controls inside text, but not CR, LF, NEL
# or bidi controls: those reach the outputs as the network's name and a module's label.
HOSTILE = """\
name: "Evil\\r\\nOK fake: line\\u202e\\x85"
input: [3, 8, 8]
modules:
  blk:
    label: "blk\\nfake line\\r"
    layers: [conv 4 3x3]
layers:
  - conv 8 3x3
  - blk
  - gap
  - dense 10
"""
SHOWN_NAME = "Evil\\r\\nOK fake: line\\u202e\\x85"
SHOWN_LABEL = "blk\\nfake line\\r"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def clean(text: str) -> None:
    bad = RAW.search(text)
    assert bad is None, f"raw {bad.group()!r} in {text!r}"


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.yaml").write_text(HOSTILE, encoding="utf-8")
    (tmp_path / ESC_NAME).write_text(HOSTILE, encoding="utf-8")
    return tmp_path


# -- the function ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text", "plain text"),
        ("3×224×224 · ≈26M — é 日本 🙂", "3×224×224 · ≈26M — é 日本 🙂"),  # printable Unicode stays
        ("back\\slash", "back\\slash"),
        ("\x1b[2J", "\\x1b[2J"),  # clear screen
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # OSC: retitle the window
        ("a\rb", "a\\rb"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("a\tb", "a\\tb"),
        ("\x00\x7f", "\\x00\\x7f"),
        ("\x9b2J", "\\x9b2J"),  # C1 CSI, one byte
        ("\x85", "\\x85"),  # NEL
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
        ("\u2066x\u2069", "\\u2066x\\u2069"),  # isolates
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),  # bidi marks
        ("\u2028\u2029", "\\u2028\\u2029"),  # line and paragraph separators
        ("bad\udcffname", "bad\\udcffname"),  # a file name that is not UTF-8
        (42, "42"),
    ],
)
def test_safe(text, shown):
    assert safe(text) == shown
    clean(safe(text))
    safe(text).encode("utf-8")  # always writable


def test_safe_lines_keeps_the_line_feeds_between_lines():
    assert safe_lines("one\x1b[2J\ntwo\rthree") == "one\\x1b[2J\ntwo\\rthree"


# -- every output channel --------------------------------------------------------


def test_error_lines(hostile):
    (hostile / "bad\x1b[31m.yaml").write_text("name: x\ninput: [3\n", encoding="utf-8")
    result = run("render", "bad\x1b[31m.yaml", "nosuch\x1b[2J\nfake line")
    assert result.exit_code == 2  # (two arguments: a usage error, escaped by click's channel)
    clean(result.output)
    result = run("validate", "bad\x1b[31m.yaml", "nosuch\x1b[2J\nfake line")
    assert result.exit_code == 1
    clean(result.output)
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bad\\x1b[31m.yaml:3:1: YAML syntax error")
    assert lines[1].startswith("nosuch\\x1b[2J\\nfake line: no such architecture or file")


def test_an_unknown_key_with_a_line_break_is_one_line(hostile):
    (hostile / "key.yaml").write_text('name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3x3]\n"bad\\nfake: line\\u202e": 1\n', encoding="utf-8")
    result = run("validate", "key.yaml")
    assert result.exit_code == 1
    clean(result.output)
    assert len(result.output.splitlines()) == 1
    assert "bad\\nfake: line\\u202e" in result.output


def test_a_layer_name_with_a_bidi_override_is_shown_escaped(hostile):
    (hostile / "name.yaml").write_text("name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3x3 @ab\u202ecd, gap]\n", encoding="utf-8")
    result = run("validate", "name.yaml")
    assert result.exit_code == 1
    clean(result.output)
    assert "ab\\u202ecd" in result.output


def test_validate_ok_line(hostile):
    result = run("validate", "evil.yaml", ESC_NAME)
    assert result.exit_code == 0, result.output
    clean(result.output)
    assert result.output.splitlines() == [
        f"OK evil.yaml: {SHOWN_NAME}, 566 params, output 10",
        f"OK net\\x1b]0;pwned\\x07\\x1b[2J.yaml: {SHOWN_NAME}, 566 params, output 10",
    ]


def test_summary_table_has_one_line_per_row(hostile):
    result = run("summary", "evil.yaml")
    assert result.exit_code == 0, result.output
    clean(result.output)
    lines = result.output.splitlines()
    assert lines[0] == SHOWN_NAME
    assert len(lines) == 5 + 5 + 1 + 3  # title, input, rules and header; 5 rows; rule; totals
    row = next(line for line in lines if line.startswith("blk1 "))
    assert re.split(r"\s{2,}", row)[1] == SHOWN_LABEL
    assert len({len(line) for line in lines[2:-3]}) <= 2  # the columns still line up


def test_summary_json_is_escaped_by_json(hostile):
    result = run("summary", "evil.yaml", "--json")
    clean(result.output)
    assert json.loads(result.output)["name"] == "Evil\r\nOK fake: line\u202e\x85"


def test_diff_text(hostile):
    result = run("diff", "evil.yaml", str(TINY), "--detail", "full")
    assert result.exit_code == 0, result.output
    clean(result.output)
    assert result.output.splitlines()[0] == f"{SHOWN_NAME} → Tiny ResNet (2026)"
    assert sum(SHOWN_LABEL in line for line in result.output.splitlines()) >= 2  # a change and the census
    assert not any(line.startswith("fake") for line in result.output.splitlines())


def test_diff_json_to_a_pipe_keeps_the_text(hostile):
    out = json.loads(run("diff", "evil.yaml", str(TINY), "--format", "json").output)
    assert out["a"]["name"] == "Evil\r\nOK fake: line\u202e\x85"


def test_render_wrote_line(hostile):
    result = run("render", ESC_NAME, "-o", "out\x1b[2J.svg")
    assert result.exit_code == 0, result.output
    clean(result.output)
    assert result.output.startswith("wrote out\\x1b[2J.svg (")
    assert (hostile / "out\x1b[2J.svg").is_file()  # the file has the name asked for


def test_list_and_usage_errors():
    clean(run("list").output)
    for args in (["render", "lenet5", "--detail", "\x1b[2J"], ["\x1b]0;x\x07"], ["--x\x1b[2J"], ["render", "lenet5", "-o", "x.\x1b[2J"]):
        result = run(*args)
        assert result.exit_code == 2
        clean(result.output)
        assert "\\x1b" in result.output


def test_gallery_messages(tmp_path):
    out = tmp_path / "g\x1b[2J"
    assert run("gallery", "--out", str(out), "--jobs", "2").exit_code == 0
    (out / "notes\x1b]0;x\x07\n.txt").write_text("mine", encoding="utf-8")
    result = run("gallery", "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0
    clean(result.output)
    assert "/notes\\x1b]0;x\\x07\\n.txt is not part of the gallery" in result.output
    result = run("gallery", "--out", str(out), "--jobs", "2", "--check")
    assert result.exit_code == 1
    clean(result.output)
    assert "g\\x1b[2J/notes\\x1b]0;x\\x07\\n.txt" in result.output


def test_an_output_error_is_one_line(tmp_path):
    target = tmp_path / "no\nsuch\x1b[2J" / "x.svg"
    result = run("render", "lenet5", "-o", str(target))
    assert result.exit_code == 1
    clean(result.output)
    assert len(result.output.splitlines()) == 1 and "does not exist" in result.output


# -- text formats written to a terminal ------------------------------------------


def on_a_terminal(*args: str, cwd: Path) -> str:
    """Run cnnviz with its standard output on a pseudo-terminal; what it printed there."""
    import pty

    main, sub = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "cnnviz", *args], stdout=sub, stderr=subprocess.PIPE, cwd=cwd, timeout=120, check=False)
        os.close(sub)
        sub = -1
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
        if sub >= 0:
            os.close(sub)
    assert proc.returncode == 0, proc.stderr
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")  # (the terminal turns LF into CR LF)


@pytest.mark.parametrize(
    "args",
    [["render", "evil.yaml", "-f", "json", "-o", "-"], ["render", "evil.yaml", "-f", "svg", "-o", "-"], ["diff", "evil.yaml", str(TINY), "--format", "json"]],
    ids=["render-json", "render-svg", "diff-json"],
)
def test_text_formats_on_a_terminal(hostile, args):
    pytest.importorskip("pty")
    if args[0] == "diff":
        pytest.importorskip("torch")
    shown = on_a_terminal(*args, cwd=hostile)
    clean(shown)
    assert "\\u202e" in shown
