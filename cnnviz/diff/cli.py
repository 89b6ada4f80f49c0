"""The body of ``cnnviz diff``: options → a diff → text, JSON or a picture, on standard output or in a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import Problem, SpecError
from ..files import check_target, write_atomic
from ..terminal import safe, safe_lines

if TYPE_CHECKING:
    from ..model import Network
    from .text import Line

FORMATS = ("text", "json", "svg", "png")
SUFFIXES = {".txt": "text", ".json": "json", ".svg": "svg", ".png": "png"}
STYLES: dict[str, dict[str, Any]] = {  # a line's role (cnnviz.diff.text.Line) -> click.style keywords
    "added": {"fg": "green"},
    "removed": {"fg": "red"},
    "changed": {"fg": "yellow"},
    "renamed": {"fg": "cyan"},
    "unchanged": {"dim": True},
    "title": {"bold": True},
    "heading": {"bold": True},
    "dim": {"dim": True},
}


def output_format(output: str | None, fmt: str | None) -> str:
    """The format to write: --format, else the -o suffix, else text.  A suffix that says
    another format than --format, or that says none without --format, is a usage error."""
    if output is None or output == "-":
        return fmt or "text"
    from ..drawing.cli import agreed_format

    implied = SUFFIXES.get(Path(output).suffix.lower())
    return agreed_format(output, fmt, implied, ", ".join(FORMATS), f" (known: {', '.join(SUFFIXES)})") or "text"


def styled(line: Line) -> str:
    """A report line, terminal-safe, in its role's colour (click.echo drops colours when
    not writing to a terminal).  The text is made safe before it is coloured: the
    colour codes are the only escape sequences on the line."""
    style = STYLES.get(line.role)
    text = safe(line.text)
    return " " * line.indent + (click.style(text, **style) if style else text) + safe(line.tail)


def networks(arch_a: str, arch_b: str) -> list[Network]:
    """Both networks, read before the shape pass (no torch import for a spec error),
    with the errors of both specs reported together."""
    from ..graph import as_network

    nets: list[Network] = []
    problems: list[Problem] = []
    for ref in (arch_a, arch_b):
        try:
            nets.append(as_network(ref))
        except SpecError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise SpecError(problems)
    return nets


def run(arch_a, arch_b, output: str | None, fmt: str | None, detail: str) -> bool:
    """Write the diff of A and B where asked; returns whether the networks are identical."""
    fmt = output_format(output, fmt)
    target = None if output is None or output == "-" else output  # None: standard output
    if target is None and fmt == "png" and sys.stdout.isatty():
        raise click.UsageError("refusing to write PNG bytes to a terminal; redirect the output or use -o FILE")
    protect = [ref for ref in (arch_a, arch_b) if isinstance(ref, str) and os.path.isfile(ref)]  # never write over an input spec
    if target is not None:
        check_target(target, protect)  # before the shape pass: a bad -o costs no torch import
    from . import diff

    d = diff(*networks(arch_a, arch_b))
    protect += [side.network.source for side in (d.a, d.b)]  # a catalogue id's spec file too
    if fmt in ("svg", "png"):
        from .picture import Picture

        data = Picture(d, detail).render(fmt)
        if target is None:
            if sys.stdout.isatty():  # SVG read on a screen (PNG was refused above)
                data = safe_lines(data.decode("utf-8", "replace")).encode("utf-8")
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return d.identical
    elif fmt == "json":
        from .jsonout import as_json

        text = as_json(d)
        if target is None:
            click.echo(safe_lines(text) if sys.stdout.isatty() else text, nl=False)  # (non-ASCII is written as is)
            return d.identical
        data = text.encode("utf-8")
    else:
        from .text import as_text, lines

        if target is None:  # coloured by role; click.echo drops the colours when it is not a terminal
            click.echo("\n".join(styled(line) for line in lines(d, detail)))
            return d.identical
        data = (as_text(d, detail) + "\n").encode("utf-8")  # a file gets plain text
    write_atomic(target, data, protect)
    return d.identical
