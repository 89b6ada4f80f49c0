"""The one place where gallery text meets HTML or Markdown.

User text (names, novel notes, paper titles, URLs, and the ids, which are the
specs' file names) reaches ``index.html`` and ``README.md`` only through
:func:`html`, :func:`md`, :func:`md_html`, :func:`url`, :func:`file_link` and
:func:`fragment`.  Figures
(counts, shapes) are written by :mod:`cnnviz.present`, as everywhere else.  The
renderer's :mod:`cnnviz.drawing.quoting` is made for Graphviz labels (it puts a
zero-width space after every backslash for graphviz-pure's sake), so the
gallery keeps its own, smaller set for plain HTML and GitHub Markdown.
"""

from __future__ import annotations

import re
from html import escape as _html_escape
from urllib.parse import quote as _quote
from urllib.parse import urlsplit

# Characters XML and HTML cannot hold (and lone surrogates, which UTF-8 cannot encode).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s*[\r\n]+\s*|\t")
# Punctuation that means something inline in GitHub Markdown; CommonMark lets any of it be backslash-escaped.
_MD = re.compile(r"([\\`*_\[\]<>|&~])")
_URL_SAFE = "/:?#@!$&*+,;=%~-._"
_FRAGMENT = re.compile(r"[A-Za-z0-9_-]+")


def clean(text) -> str:
    """One line of printable text: control characters become U+FFFD, line breaks and tabs a space."""
    return _SPACE.sub(" ", _CONTROL.sub("\ufffd", str(text))).strip()


def html(text) -> str:
    """Text for HTML content or a double-quoted attribute (``& < > " '`` as entities)."""
    return _html_escape(clean(text), quote=True)


def md(text) -> str:
    """Text for a GitHub Markdown table cell: one line, ``|`` and inline markup escaped."""
    return _MD.sub(r"\\\1", clean(text))


def md_html(text) -> str:
    """Text for raw HTML inside a Markdown table cell: :func:`html`, and ``|`` as an entity
    (GitHub splits table cells on ``|`` before it reads any HTML)."""
    return html(text).replace("|", "&#124;")


def url(text) -> str | None:
    """An http(s) URL, percent-encoded so that it cannot end a Markdown link or an
    attribute early; None for any other scheme (``javascript:``...) or no URL."""
    if not text:
        return None
    raw = clean(text)
    if urlsplit(raw).scheme.lower() not in ("http", "https"):
        return None
    return _quote(raw, safe=_URL_SAFE)


def file_link(name: str) -> str:
    """A file name as a relative link (``href``, ``src``, a Markdown link's target): every
    character but ``A-Z a-z 0-9 _ . - ~`` percent-encoded, so that it cannot end an
    attribute or a link, start a scheme (``javascript:``) or name another folder."""
    return _quote(str(name), safe="", errors="surrogateescape")


def fragment(ident: str) -> str:
    """An id as an HTML ``id``, a ``#`` link and an SVG id prefix: itself when it is made
    of ``A-Z a-z 0-9 _ -`` (every catalogue id), else percent-encoded with ``_`` for ``%``."""
    text = str(ident)
    return text if _FRAGMENT.fullmatch(text) else "_" + file_link(text).replace("%", "_")
