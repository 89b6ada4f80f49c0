"""The catalogue: the specs shipped in ``arch_specs/``, found by id or alias."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..errors import Problem, SpecError
from .loader import LocDict, load_text, read_text

_HERE = Path(__file__).resolve().parent.parent


def spec_dir() -> Path:
    """``cnnviz/arch_specs`` in an installed wheel; ``arch_specs/`` beside the package in a checkout."""
    for candidate in (_HERE / "arch_specs", _HERE.parent / "arch_specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError(Problem("cnnviz", 0, 0, "the catalogue folder arch_specs/ is missing from this installation"))


def is_catalogue(path: Path) -> bool:
    """Whether ``path`` is one of the shipped specs."""
    try:
        return path.resolve().parent == spec_dir().resolve()
    except SpecError:
        return False


def ids() -> list[str]:
    return sorted(p.stem for p in spec_dir().glob("*.yaml"))


@lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """alias -> id, read from each catalogue spec's ``aliases:``."""
    out: dict[str, str] = {}
    for ident in ids():
        path = spec_dir() / f"{ident}.yaml"
        try:
            doc = load_text(read_text(path), str(path))
        except SpecError:
            continue  # a broken spec is reported when it is used, not here
        if isinstance(doc, LocDict) and isinstance(doc.get("aliases"), list):
            for alias in doc["aliases"]:
                out[str(alias)] = ident
    return out


def looks_like_path(ref: str) -> bool:
    """The rule that tells a file from a catalogue entry, by the text alone: a path has a
    folder separator (``./resnet50``, ``specs/net``) or ends in ``.yaml``/``.yml``.  Anything
    else is a catalogue id or alias, whatever files the working folder holds."""
    seps = [sep for sep in ("/", os.sep, os.altsep) if sep]
    return any(sep in ref for sep in seps) or ref.lower().endswith((".yaml", ".yml"))


def resolve(ref: str | os.PathLike[str], relative_to: Path | None = None) -> Path:
    """A catalogue id, an alias or a file path → the spec file's path (see :func:`looks_like_path`)."""
    text = os.fspath(ref)
    if looks_like_path(text):
        path = Path(text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return path
    path = spec_dir() / f"{text}.yaml"
    if text and path.is_file():
        return path
    if text in aliases():
        return spec_dir() / f"{aliases()[text]}.yaml"
    local = (relative_to or Path()) / text
    if text and local.exists():
        raise SpecError(Problem(text, 0, 0, f"not a catalogue id or alias; to read the file of that name, write ./{text}"))
    if ":" in text:  # a model reference (cnnviz.capture): the command line resolves those, never the spec stage
        raise SpecError(Problem(text, 0, 0, "a model reference, not a spec: read it with cnnviz.capture.model_spec(cnnviz.capture.ModelRef(...))"))
    import difflib

    close = difflib.get_close_matches(text, [*ids(), *aliases()], n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise SpecError(Problem(text, 0, 0, f"no such architecture or file{hint}; 'cnnviz list' shows the catalogue"))
