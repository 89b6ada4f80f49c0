"""Hostile and broken inputs fail fast with one clear line, never a traceback."""

from __future__ import annotations

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
