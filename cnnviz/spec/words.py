"""Words of the short form: a token's value, and a suggestion for a misspelt word."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sized
from functools import lru_cache
from itertools import islice
from typing import Any

from .layers import BadValue
from .limits import MAX_INT_BITS, MAX_INT_CHARS, MAX_SUGGEST, TOO_LARGE
from .loader import Scalar

_DIGITS = re.compile(r"[+-]?\d[\d_]*")


def suggest(word: str, choices: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ''.  Bounded: a long word or
    a long list of choices (only a hostile spec has them) gets no suggestion."""
    text = str(word)
    if len(text) > 64 or (isinstance(choices, Sized) and len(choices) > MAX_SUGGEST):
        return ""
    options = tuple(str(c) for c in islice(choices, MAX_SUGGEST + 1))
    if len(options) > MAX_SUGGEST:
        return ""
    match = _closest(text, options)
    return f" (did you mean '{match}'?)" if match else ""


@lru_cache(maxsize=1024)
def _closest(word: str, options: tuple[str, ...]) -> str | None:
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None


def whole(digits: str) -> int:
    """The number written by the digits of a ``/2`` or ``x3`` token; BadValue if too large."""
    if len(digits) > MAX_INT_CHARS or int(digits).bit_length() > MAX_INT_BITS:
        raise BadValue(TOO_LARGE)
    return int(digits)


class BadLine(ValueError):
    """A short-form line that cannot be cut into words (an unclosed ``[``); the message is shown."""


def split_line(text: str) -> list[str]:
    """A short-form line cut into words at spaces, except inside ``[ ]``: ``size=[14, 14]`` is one word."""
    words: list[str] = []
    start, depth = None, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                raise BadLine(f"unmatched ']' in '{text}'")
            depth -= 1
        if ch.isspace() and depth == 0:
            if start is not None:
                words.append(text[start:i])
                start = None
        elif start is None:
            start = i
    if depth:
        raise BadLine(f"unclosed '[' in '{text}'; a list is written [a, b] on one line")
    if start is not None:
        words.append(text[start:])
    return words


def _items(inner: str) -> list[str]:
    """The comma-separated items of a list's inside, at its own level (``1, [2, 3]``)."""
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(inner):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            out.append(inner[start:i].strip())
            start = i + 1
    out.append(inner[start:].strip())
    return [] if out == [""] else out


MAX_LIST_DEPTH = 4  # lists in lists on one line: [[1, 2], [3, 4]] is 2


def short_value(token: str, depth: int = 1) -> Scalar | list[Any]:
    """A short-form value: a scalar (:func:`scalar`) or a list written ``[a, b]`` (of such values)."""
    if token.startswith("[") and token.endswith("]"):
        if depth > MAX_LIST_DEPTH:
            raise BadValue(f"lists nested more than {MAX_LIST_DEPTH} deep")
        parts = _items(token[1:-1])
        if any(p == "" for p in parts):
            raise BadValue(f"an empty item in the list {token}")
        return [short_value(p, depth + 1) for p in parts]
    return scalar(token)


def scalar(token: str) -> Scalar:
    """A short-form value: int, float, true/false, null, or the word itself
    (``none`` stays a word, as in YAML: it is how a setting or a layer is switched off).
    A whole number too large for the spec format raises :class:`BadValue`."""
    low = token.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low == "null":
        return None
    if len(token) > MAX_INT_CHARS:
        if _DIGITS.fullmatch(token):
            raise BadValue(TOO_LARGE)
    else:
        try:
            n = int(token)
        except ValueError:
            pass
        else:
            if n.bit_length() > MAX_INT_BITS:
                raise BadValue(TOO_LARGE)
            return n
    try:
        return float(token)
    except ValueError:
        return token
