"""Writing results: atomically, and only where a result belongs.

:func:`write_atomic` writes through a temporary file in the same folder and
renames it over the target, so a reader never sees half a file and a failure
(or Ctrl-C, or SIGTERM: the command line turns it into an exit) leaves the old
file as it was.  It replaces only a regular file or creates a new one: never a
device, a FIFO, a socket, a folder, the file a symbolic link points to (the
rename would replace the link itself), a read-only file, or one of the files the
result was made from (``protect``).  Every refusal and every OS error is an
:class:`~cnnviz.errors.OutputError` naming the file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputError

TMP_SUFFIX = ".tmp"


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
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
