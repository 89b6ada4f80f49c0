"""The body of ``cnnviz render``: options → a diagram → a file or standard output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..files import check_target, write_atomic
from ..terminal import echo, safe_lines
from . import Diagram, format_of


def output_path(output: str | None, ident: str, fmt: str | None) -> tuple[Path | None, str]:
    """Where to write (None: stdout) and in which format."""
    if output == "-":
        return None, fmt or "svg"
    if output is None:
        fmt = fmt or "svg"
        return Path(f"{ident}.{fmt}"), fmt
    path = Path(output)
    if output.endswith(("/", os.sep)) and not path.is_dir():
        check_target(output)  # says there is no such folder
    if path.is_dir():
        fmt = fmt or "svg"
        return path / f"{ident}.{fmt}", fmt
    return path, agreed_format(output, fmt, format_of(path), "svg, png, pdf, dot or json") or "svg"


def agreed_format(output: str, fmt: str | None, implied: str | None, choices: str, known: str = "") -> str | None:
    """The format ``--format`` and the ``-o`` suffix agree on (``implied``: what the suffix says,
    None when it says nothing known); a usage error when they disagree, or when the suffix
    is unknown and ``--format`` is not given.  Shared by render and diff."""
    suffix = Path(output).suffix
    if fmt and implied and implied != fmt:
        raise click.UsageError(f"-o {output} says {implied} but --format says {fmt}; drop one of them")
    if not fmt and not implied and suffix:
        raise click.UsageError(f"cannot tell the format from '{suffix}'{known}; add --format ({choices})")
    return fmt or implied


def run(arch: str, output: str | None, fmt: str | None, **options) -> None:
    d = Diagram(arch, **options)
    path, fmt = output_path(output, d.view.id, fmt)
    protect = [d.network.source]  # never write over the spec the diagram was drawn from
    if path is not None:
        check_target(path, protect)  # before the layout: a bad -o fails fast
    data = d.render(fmt)
    if path is None:
        if sys.stdout.isatty():
            if fmt in ("png", "pdf"):
                raise click.UsageError(f"refusing to write {fmt.upper()} bytes to a terminal; redirect the output or use -o FILE")
            data = safe_lines(data.decode("utf-8", "replace")).encode("utf-8")  # SVG, DOT or JSON read on a screen
        stream = sys.stdout.buffer
        sys.stdout.flush()
        stream.write(data)
        stream.flush()
        return
    write_atomic(path, data, protect)
    echo(f"wrote {path} ({_size(len(data))})", err=True)


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.0f} kB"
