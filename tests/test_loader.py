"""Hostile and broken inputs fail fast with one clear line, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.errors import SpecError
from cnnviz.spec import load_spec
from cnnviz.spec.loader import load_text

ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    "text, message",
    [
        (ALIAS_BOMB, "the document expands to more than 200000 values (an alias bomb?)"),
        ("[" * 5000 + "]" * 5000, "nesting deeper than 64 levels"),
        ("a: " + "[" * 70 + "]" * 70, "nesting deeper than 64 levels"),
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("<<: {a: 1}\n", "YAML merge keys ('<<') are not supported; use 'extends' or a module"),
        ("x: !!binary aGVsbG8=\n", "tag 'tag:yaml.org,2002:binary' is not allowed in a spec"),
    ],
    ids=["alias-bomb", "deep-flow", "deep-value", "empty", "comment-only", "duplicate-key", "merge-key", "binary-tag"],
)
def test_hostile_yaml(text, message):
    with pytest.raises(SpecError) as info:
        load_text(text, "t.yaml")
    assert [p.message for p in info.value.problems] == [message]


def test_binary_file(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    with pytest.raises(SpecError, match="is a binary file, not a YAML spec"):
        load_spec(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="is not UTF-8 text"):
        load_spec(path)


def test_directory(tmp_path):
    with pytest.raises(SpecError, match="is a directory, not a spec file"):
        load_spec(str(tmp_path) + "/")


def test_missing_path(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.yaml")


def test_unknown_id_suggests():
    with pytest.raises(SpecError, match=r"no such architecture or file \(did you mean 'resnet50'\?\)"):
        load_spec("resnet05")


@pytest.mark.parametrize("args", [["validate", "/nonexistent/x.yaml"], ["summary", "nosuchnet"], ["validate", "."]])
def test_cli_user_errors_have_no_traceback(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: A\ninput: [3, 8, 8]\nlayers: [gap]\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: B\ninput: [3, 8, 8]\nlayers: [gap]\n")
    with pytest.raises(SpecError, match="extends this spec again"):
        load_spec(tmp_path / "a.yaml")


@pytest.mark.parametrize(
    "text, problems",
    [
        ("a: 9223372036854775807\n", []),
        ("a: -9223372036854775807\n", []),
        ("a: 9223372036854775808\n", ["t.yaml:1:4: whole number too large (the limit is 2**63 - 1)"]),
        ("a: 0x" + "F" * 4400 + "\n", ["t.yaml:1:4: whole number too large (the limit is 2**63 - 1)"]),
        ("a: " + "9" * 4400 + "\n", ["t.yaml:1:4: whole number too large (the limit is 2**63 - 1)"]),
        ("a: [1, 99999999999999999999]\nb: 0b" + "1" * 70 + "\n", ["t.yaml:1:8: whole number too large (the limit is 2**63 - 1)", "t.yaml:2:4: whole number too large (the limit is 2**63 - 1)"]),
        ('a: "\\e[31m"\n', ["t.yaml:1:4: text with the control character U+001B; leave it out"]),
        ('a: "x\\0y"\nb: "\\x9b"\n', ["t.yaml:1:4: text with the control character U+0000; leave it out", "t.yaml:2:4: text with the control character U+009B; leave it out"]),
        ('"\\a": 1\n', ["t.yaml:1:1: text with the control character U+0007; leave it out", "t.yaml:1:1: mapping keys must be plain words"]),
        ('a: "tab\\tand\\nnewline"\n', []),
    ],
    ids=["largest", "smallest", "2**63", "hex-4400-digits", "4400-digits", "all-at-once", "escape", "nul-and-c1", "key", "tab-newline"],
)
def test_values_refused_where_written(text, problems):
    if not problems:
        load_text(text, "t.yaml")
        return
    with pytest.raises(SpecError) as info:
        load_text(text, "t.yaml")
    assert [str(p) for p in info.value.problems] == problems


def test_nesting_is_measured_before_composing():
    # 100 kB of brackets: composing recursed in C and crashed the process; now the first
    # bracket too deep is reported, located
    with pytest.raises(SpecError) as info:
        load_text("a: " + "[" * 50_000 + "]" * 50_000, "t.yaml")
    assert [str(p) for p in info.value.problems] == ["t.yaml:1:67: nesting deeper than 64 levels"]


def test_only_regular_files_are_read(tmp_path):
    from cnnviz.spec.loader import read_text

    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")
        with pytest.raises(SpecError, match="is a named pipe, not a spec file; only regular files are read"):
            read_text(tmp_path / "pipe.yaml")  # would block forever if opened for reading
    if os.path.exists("/dev/zero"):
        with pytest.raises(SpecError, match="is a device, not a spec file"):
            read_text(Path("/dev/zero"))  # would never end


@pytest.mark.parametrize("ref", ["a" * 256, "x/" + "a" * 300 + ".yaml", "a/" * 2100 + "b.yaml"])
def test_names_too_long_are_refused_before_the_system_sees_them(ref):
    with pytest.raises(SpecError, match="file name too long"):
        load_spec(ref)
