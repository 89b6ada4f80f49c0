"""The body of ``cnnviz gallery``: build in memory, then write or check.

Every message goes through :func:`cnnviz.terminal.echo`: the folder and the file
names in it are the user's, and may hold any character."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from ..terminal import echo
from . import build, catalogue, check, default_out, engine_label, write


def shown(path: Path) -> str:
    """The folder as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def run(out: Path | None, check_only: bool, jobs: int | None) -> None:
    out = Path(out) if out is not None else default_out()
    where = shown(out)
    ids = catalogue()
    bar = click.progressbar(length=len(ids), label="drawing", file=sys.stderr, show_pos=True) if sys.stderr.isatty() else nullcontext()
    with bar as progress:
        files = build(jobs, done=(lambda _id: progress.update(1)) if progress is not None else None, ids=ids)

    def waiting() -> None:
        echo(f"{where}/: waiting for another 'cnnviz gallery' to finish with it", err=True)

    if check_only:
        report = check(files, out, waiting)
        if report.clean:
            echo(f"{where}/ is up to date ({len(files)} files)", err=True)
            return
        for line in report.lines(where):
            echo(line, err=True)
        n = len(report.lines())
        echo(
            f"{where}/ is out of date ({n} file{'s' if n != 1 else ''}): it is not what the specs and the renderer "
            f"draw now with {engine_label()}; run 'cnnviz gallery' and commit the result",
            err=True,
        )
        sys.exit(1)
    report, kept = write(files, out, waiting)
    changed = len(report.stale) + len(report.missing)
    removed = len(report.extra) - len(kept)
    echo(f"{where}/: {len(files)} files, {changed} written, {removed} removed", err=True)
    for rel in kept:
        echo(f"warning: {where}/{rel} is not part of the gallery; remove it by hand", err=True)
