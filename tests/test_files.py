"""Results are written atomically, and only over a regular file the user may replace."""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest

from cnnviz.errors import OutputError
from cnnviz.files import check_target, is_temp, lock_folder, remove_stale_temps, write_atomic

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
needs_flock = pytest.mark.skipif(fcntl is None, reason="no flock here")


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


# -- OS errors: one clean line ------------------------------------------------------


def _no_space(fd, data):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_one_clean_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.svg"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "write", _no_space)
    with pytest.raises(OutputError) as info:
        write_atomic(target, b"new")
    assert info.value.lines() == [f"{target}: cannot write: No space left on device"]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.svg"]


def test_a_short_write_is_finished(tmp_path, monkeypatch):
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:3])))  # 3 bytes at a time
    write_atomic(tmp_path / "a.txt", b"0123456789")
    assert (tmp_path / "a.txt").read_bytes() == b"0123456789"


def test_a_folder_it_may_not_write_in(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real(p, mode))  # (root may write anywhere)
    with pytest.raises(OutputError, match=r"ro/x\.svg: cannot write in folder .*/ro \(permission denied\)$"):
        write_atomic(folder / "x.svg", b"x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            write_atomic(folder / "x.svg", b"x")
    finally:
        os.chmod(folder, 0o755)


def test_a_temporary_file_that_cannot_be_made(tmp_path, monkeypatch):
    def denied(**kw):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "x.svg", b"x")
    assert info.value.lines() == [f"{tmp_path / 'x.svg'}: cannot write: Permission denied"]


# -- temporary files: locked while written, swept when stale ------------------------------


@pytest.mark.parametrize(
    ("name", "of", "expected"),
    [
        (".x.svg.ab_9cde.tmp", None, False),  # 7 characters
        (".x.svg.ab_9cdef.tmp", None, True),
        (".x.svg.ab_9cdef.tmp", "x.svg", True),
        (".x.svg.ab_9cdef.tmp", "y.svg", False),
        (".README.md.k2l0xq1z.tmp", "README.md", True),
        ("x.svg.ab_9cdef.tmp", None, False),  # no leading dot
        (".x.svg.AB_9CDEF.tmp", None, False),  # mkstemp writes lower case
        ("notes.tmp", None, False),
    ],
)
def test_is_temp(name, of, expected):
    assert is_temp(name, of) is expected


def _aged(path: Path, seconds: float = 3600) -> Path:
    path.write_bytes(b"half")
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_the_next_write_removes_its_stale_temporary_files(tmp_path):
    stale = _aged(tmp_path / ".x.svg.abcdefgh.tmp")  # left by a run killed with SIGKILL
    fresh = _aged(tmp_path / ".x.svg.ijklmnop.tmp", seconds=1)  # may be a write under way
    other = _aged(tmp_path / ".y.svg.abcdefgh.tmp")  # another file's: not this write's business
    write_atomic(tmp_path / "x.svg", b"x")
    assert not stale.exists() and fresh.exists() and other.exists()
    assert remove_stale_temps(tmp_path) == [other.name]
    assert sorted(os.listdir(tmp_path)) == [fresh.name, "x.svg"]


@needs_flock
def test_a_locked_temporary_file_is_never_removed(tmp_path):
    old = _aged(tmp_path / ".x.svg.abcdefgh.tmp")
    fd = os.open(old, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer that is alive (a slow disk)
        assert remove_stale_temps(tmp_path) == []
    finally:
        os.close(fd)
    assert remove_stale_temps(tmp_path) == [old.name]


@needs_flock
def test_write_atomic_holds_a_lock_on_its_temporary_file(tmp_path, monkeypatch):
    real = os.write
    seen = []

    def write(fd, data):
        (tmp,) = (p for p in tmp_path.iterdir() if is_temp(p.name, "x.svg"))
        probe = os.open(tmp, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append(tmp.name)
        finally:
            os.close(probe)
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    write_atomic(tmp_path / "x.svg", b"x")
    assert seen and os.listdir(tmp_path) == ["x.svg"]


@needs_flock
def test_lock_folder_makes_a_second_run_wait(tmp_path):
    order = []

    def second():
        with lock_folder(tmp_path, waiting=lambda: order.append("waiting")):
            order.append("second")

    with lock_folder(tmp_path):
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(0.3)
        assert order == ["waiting"]  # blocked, and said so
        order.append("first done")
    worker.join(5)
    assert order == ["waiting", "first done", "second"]
    with lock_folder(tmp_path, exclusive=False), lock_folder(tmp_path, exclusive=False, waiting=lambda: order.append("x")):
        pass  # readers share
    assert "x" not in order
    assert os.listdir(tmp_path) == []  # no lock file left behind
