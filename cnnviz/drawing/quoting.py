r"""The one place where text meets DOT syntax.

Every label, tooltip and attribute value the renderer writes goes through this
module (the idea of xflr6/graphviz's ``quoting.py``):

* :func:`escape` turns user text into :class:`Html` safe to put inside an
  HTML-like label: ``& < > " '`` become entities, and so do braces and bars.
  A backslash is followed by a zero-width space: graphviz-pure expands
  ``\N``, ``\G``, ``\\``... even in HTML labels (system Graphviz does not),
  and the invisible space keeps the text as written on both.  Control
  characters, which XML (and so SVG) cannot hold, become U+FFFD.
* :func:`tag` and :func:`join` build markup from parts; any part that is a
  plain ``str`` is escaped on the way in, only :class:`Html` passes as is.
* :func:`attr` writes one attribute value: :class:`Html` as ``<...>``, numbers
  bare, and anything else as a quoted escString (``\\`` → ``\\\\``, ``"`` →
  ``\\"``, ``& < >`` → entities, so ``\\N`` or ``&lt;`` in user text stay literal).

Nothing else in ``cnnviz.drawing`` writes quotes or angle brackets around a value.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_HTML = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "\\": "&#92;&#8203;",
    "{": "&#123;",
    "}": "&#125;",
    "|": "&#124;",
    "\n": " ",
    "\t": " ",
}
_HTML_RE = re.compile("[" + re.escape("".join(_HTML)) + "]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAGS = {"b", "i", "font", "br", "sub", "sup", "table", "tr", "td"}
_ATTR_NAME = re.compile(r"^[a-z-]+$")


class Html(str):
    """Markup that is already safe to place inside ``<...>`` as an HTML-like label."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Html({str.__repr__(self)})"


def _clean(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


def escape(text) -> Html:
    """User (or any) text → markup that renders as exactly that text."""
    if isinstance(text, Html):
        return text
    return Html(_HTML_RE.sub(lambda m: _HTML[m.group(0)], _clean(str(text))))


def join(*parts, sep="") -> Html:
    """Concatenate parts, escaping each plain ``str``."""
    return Html(escape(sep).join(escape(p) for p in parts if p is not None and p != ""))


def tag(name: str, *content, **attrs) -> Html:
    """``<name a="v">content</name>``; attribute values are escaped, content parts too.

    ``tag("br")`` with no content gives the empty element ``<br/>``."""
    if name not in _TAGS:
        raise ValueError(f"tag {name!r} is not one of {sorted(_TAGS)}")
    bits = [name]
    for key in sorted(attrs):
        value = attrs[key]
        if value is None:
            continue
        key = key.rstrip("_").replace("_", "-")
        if not _ATTR_NAME.match(key):
            raise ValueError(f"bad attribute name {key!r}")
        bits.append(f'{key}="{escape(value)}"')
    head = " ".join(bits)
    if not content and name == "br":
        return Html(f"<{head}/>")
    return Html(f"<{head}>{join(*content)}</{name}>")


def quote(text) -> str:
    """A DOT double-quoted string for an escString attribute (tooltip, id, ...)."""
    s = _clean(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\\u200b").replace('"', '\\"')  # zero-width space: see escape()
    return '"' + s.replace("\n", "\\n").replace("\r", "") + '"'


def ident(name: str) -> str:
    """A node or graph id: bare when it is a plain identifier, else quoted."""
    return name if _NAME.match(name) else quote(name)


def attr(value) -> str:
    """One attribute value in DOT syntax."""
    if isinstance(value, Html):
        return f"<{value}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return num(value)
    return quote(value)


def num(x: float) -> str:
    """A float written the same way on every platform: at most 3 decimals, no trailing zeros."""
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def attrs(mapping: dict) -> str:
    """``[k=v, ...]`` in sorted key order (deterministic output), or '' when empty."""
    items = [f"{k}={attr(v)}" for k, v in sorted(mapping.items()) if v is not None]
    return f" [{', '.join(items)}]" if items else ""
