"""Results are written atomically, and only over a regular file the user may replace."""

from __future__ import annotations

import os

import pytest

from cnnviz.errors import OutputError
from cnnviz.files import check_target, write_atomic


def _fifo(tmp):
    os.mkfifo(tmp / "pipe")
    return tmp / "pipe"


def _link(tmp):
    (tmp / "real.svg").write_text("keep")
    os.symlink(tmp / "real.svg", tmp / "link.svg")
    return tmp / "link.svg"


def _readonly(tmp):
    (tmp / "ro.svg").write_text("keep")
    os.chmod(tmp / "ro.svg", 0o444)
    return tmp / "ro.svg"


def _folder(tmp):
    (tmp / "sub").mkdir()
    return tmp / "sub"


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda tmp: "/dev/null", "is not a regular file"),
        (_fifo, "is not a regular file"),
        (_link, "is a symbolic link"),
        (_readonly, "is read-only"),
        (_folder, "is a folder"),
        (lambda tmp: f"{tmp}/newdir/", "no such folder"),
        (lambda tmp: tmp / "missing" / "x.svg", "does not exist"),
    ],
    ids=["device", "fifo", "symlink", "read-only", "folder", "trailing-slash", "missing-folder"],
)
def test_refused_targets(tmp_path, make, says):
    target = make(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OutputError, match=says):
        write_atomic(target, b"new")
    assert sorted(os.listdir(tmp_path)) == before  # no temporary file left behind
    if os.path.islink(target):
        assert (tmp_path / "real.svg").read_text() == "keep"


def test_the_input_spec_is_protected(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("name: x")
    with pytest.raises(OutputError, match="is the input spec"):
        write_atomic(spec, b"<svg/>", protect=[spec])
    assert spec.read_text() == "name: x"


def test_writes_a_new_file_and_keeps_an_old_files_mode(tmp_path):
    new = tmp_path / "a.svg"
    write_atomic(new, b"one")
    assert new.read_bytes() == b"one"
    os.chmod(new, 0o640)
    write_atomic(new, b"two")
    assert new.read_bytes() == b"two"
    assert new.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["a.svg"]


def test_check_target_accepts_a_new_path(tmp_path):
    assert check_target(tmp_path / "x.png") == tmp_path / "x.png"
