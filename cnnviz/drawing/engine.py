"""Running the layout binary.

The default engine is ``graphviz-pure`` (a pure-Rust port of Graphviz shipped
as a wheel, so ``pip install`` is enough); ``dot`` is system Graphviz, needed
for PDF.  Both take the same command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..errors import EngineError

PURE, SYSTEM = "graphviz-pure", "dot"
ENGINES = (PURE, SYSTEM)
FORMATS = {PURE: ("svg", "png", "json0"), SYSTEM: ("svg", "png", "pdf", "json0")}
TIMEOUT = 120
# Harmless notes the layout binary prints for every non-ASCII label character (×).
_NOISE = re.compile(r"^(Warning: )*Warning: no value for width of non-ASCII character \d+\. Falling back to width of space character$")


def find(engine: str = PURE) -> str:
    """The path of the engine's binary: graphviz-pure next to this Python or in its scripts
    folder first, then on PATH; dot on PATH."""
    if engine not in ENGINES:
        raise EngineError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    if engine == PURE:
        exe = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"
        for folder in _script_dirs():
            here = Path(folder) / exe
            if here.is_file() and os.access(here, os.X_OK):
                return str(here)
        found = shutil.which("graphviz-pure")
        if found:
            return found
        raise EngineError("the graphviz-pure binary was not found next to Python or on PATH; reinstall with 'pip install graphviz-pure', or use --engine dot")
    found = shutil.which("dot")
    if found:
        return found
    raise EngineError("system Graphviz ('dot') was not found on PATH; install it (e.g. 'apt-get install graphviz' or 'brew install graphviz')")


def _script_dirs() -> list[str]:
    """Where pip puts the binary: beside this Python (a venv), then this interpreter's
    scripts folders (a system or --user install), in that order."""
    out = [str(Path(sys.executable).parent)]
    for scheme in (None, f"{os.name}_user"):
        try:
            path = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if path and path not in out:
            out.append(path)
    return out


def check_format(engine: str, fmt: str) -> None:
    if fmt not in FORMATS[engine]:
        if fmt == "pdf":
            raise EngineError("PDF needs system Graphviz: install it (e.g. 'apt-get install graphviz') and use --engine dot, or choose --format svg or png")
        raise EngineError(f"engine {engine} cannot write {fmt}")


def run(engine: str, source: str, args: list[str]) -> bytes:
    """Feed DOT ``source`` to the engine with ``args``; its stdout, or EngineError with its stderr."""
    exe = find(engine)
    try:
        proc = subprocess.run([exe, *args], input=source.encode("utf-8"), capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise EngineError(f"{engine} took longer than {TIMEOUT} s and was stopped") from None
    except OSError as exc:
        raise EngineError(f"could not run {exe}: {exc}") from None
    notes = [line for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip() and not _NOISE.match(line.strip())]
    if proc.returncode != 0 or not proc.stdout:
        detail = "\n".join(notes[:20]) or f"exit status {proc.returncode}"
        raise EngineError(f"{engine} failed: {detail}")
    return proc.stdout
