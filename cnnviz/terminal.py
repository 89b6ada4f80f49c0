"""Text for a terminal: the one place where user text is made harmless to print.

A spec's name, a module's label, an unknown key, a file name or an argument can
hold any character.  Printed raw, an escape sequence clears the screen (``ESC[2J``),
retitles the window (``ESC]0;...BEL``) or hides what follows, a carriage return or
line feed fakes extra lines of output, and a bidi override (U+202E) reorders the
line as it is read.  :func:`safe` shows every such character escaped, the way
Python writes it (``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``), so the reader sees what
the text holds and nothing else happens.

The command line sends every line it prints through :func:`safe`: error lines
(:func:`cnnviz.cli.report`), messages and results (:func:`echo`), and the lines
of a diff before they are coloured.  JSON needs nothing more: ``json.dumps``
escapes control characters itself.
"""

from __future__ import annotations

import re

import click

# C0 controls (tab and line breaks included: inside one line they are not layout),
# DEL, C1 controls (0x9b is a one-byte CSI), the bidi marks, embeddings, overrides
# and isolates, the Unicode line and paragraph separators, and lone surrogates (a
# file name that is not UTF-8), which cannot be written at all.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``text`` as one line that is safe to print: control characters, bidi
    controls and line breaks shown escaped (``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``)."""
    return UNSAFE.sub(_escaped, str(text))


def safe_lines(text: str) -> str:
    """A block of text whose line feeds are its own (a table, a file shown on a
    terminal): each line made :func:`safe`, the line feeds kept."""
    return "\n".join(safe(line) for line in text.split("\n"))


def echo(line: object = "", err: bool = False) -> None:
    """Print one line (to standard error with ``err``), made :func:`safe`."""
    click.echo(safe(line), err=err)
