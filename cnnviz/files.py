"""Writing results: atomically, and only where a result belongs.

:func:`write_atomic` writes through a temporary file in the same folder and
renames it over the target, so a reader never sees half a file and a failure
(or Ctrl-C, or SIGTERM: the command line turns it into an exit) leaves the old
file as it was.  It replaces only a regular file or creates a new one: never a
device, a FIFO, a socket, a folder, the file a symbolic link points to (the
rename would replace the link itself), a read-only file, or one of the files the
result was made from (``protect``).  Every refusal and every OS error is an
:class:`~cnnviz.errors.OutputError` naming the file, on one line.

The temporary file is ``.NAME.XXXXXXXX.tmp`` beside ``NAME`` (:func:`is_temp`),
locked while it is written.  Only SIGKILL or a crash leaves one behind; the next
write of the same name removes it once it is stale (:func:`remove_stale_temps`),
and a gallery run sweeps its whole folder.  :func:`lock_folder` keeps two runs
that rewrite one folder (``cnnviz gallery``) from interleaving.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale temporary files are judged by age alone
    fcntl = None  # type: ignore[assignment]

TMP_SUFFIX = ".tmp"
TEMP_NAME = re.compile(r"\A\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp\Z", re.DOTALL)  # tempfile.mkstemp's 8 random characters
STALE_AFTER = 60.0  # seconds: a temporary file this old, and not locked, belongs to a run that died


def check_target(path: str | os.PathLike[str], protect: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``path`` if a result may be written there, else an :class:`OutputError` saying why."""
    shown = os.fspath(path)
    path = Path(path)
    if shown.endswith(("/", os.sep)) or path.name in ("", ".", ".."):
        if not path.is_dir():
            raise OutputError(f"{shown}: no such folder")
        raise OutputError(f"{shown}: is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{shown}: folder {folder} does not exist")
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{shown}: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(f"{shown}: is a symbolic link; write to the file it points to, or to another path")
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{shown}: is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{shown}: is not a regular file (a device, FIFO or socket); refusing to replace it")
        if not os.access(path, os.W_OK) or not st.st_mode & 0o222:
            raise OutputError(f"{shown}: is read-only; refusing to replace it")
        for source in protect:
            try:
                if os.path.samefile(path, source):
                    raise OutputError(f"{shown}: is the input spec; refusing to overwrite it")
            except OSError:
                continue
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{shown}: cannot write in folder {folder} (permission denied)")
    return path


def write_atomic(path: str | os.PathLike[str], data: bytes, protect: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``:
    readers see the old file or the new one, never a partial one, and a failure leaves
    the old file untouched.  See :func:`check_target` for what is refused."""
    path = check_target(path, protect)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        try:
            _lock(fd, exclusive=True, wait=False)  # "being written": no sweep removes it (just made: never contended)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
    remove_stale_temps(path.parent, path.name)


def is_temp(name: str, of: str | None = None) -> bool:
    """Whether ``name`` is a temporary file of :func:`write_atomic` (of a write of ``of``, when given)."""
    m = TEMP_NAME.match(name)
    return m is not None and (of is None or m["name"] == of)


def remove_stale_temps(folder: str | os.PathLike[str], of: str | None = None) -> list[str]:
    """Remove the temporary files of :func:`write_atomic` in ``folder`` (only those of
    writes of ``of``, when given) that a run killed on the way left behind: older than
    :data:`STALE_AFTER` and locked by no one.  Best effort; returns the names removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if is_temp(entry.name, of) and _stale(entry.path):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(entry.name)
    return removed


def _stale(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < STALE_AFTER:
            return False
        return _lock(fd, exclusive=True, wait=False)  # a live writer holds it
    finally:
        os.close(fd)


def _lock(fd: int, exclusive: bool, wait: bool) -> bool:
    """flock ``fd``; False if ``wait`` is off and another process holds it.  A no-op where there is no flock."""
    if fcntl is None:
        return True
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, op)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):  # a file system without locks
            return True
        raise
    return True


@contextmanager
def lock_folder(folder: str | os.PathLike[str], exclusive: bool = True, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an advisory lock on ``folder`` itself (no lock file to leave behind): exclusive
    for a run that rewrites it, shared for one that only reads it.  Blocks while another
    run holds a conflicting lock, calling ``waiting()`` first.  An OS error is an
    :class:`OutputError`.  Where there is no flock (Windows) it locks nothing."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise OutputError(f"{os.fspath(folder)}: cannot open the folder: {exc.strerror or exc}") from None
    try:
        try:
            if not _lock(fd, exclusive, wait=False):
                if waiting is not None:
                    waiting()
                _lock(fd, exclusive, wait=True)
        except OSError as exc:
            raise OutputError(f"{os.fspath(folder)}: cannot lock the folder: {exc.strerror or exc}") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
