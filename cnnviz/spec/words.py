"""Words of the short form: a token's value, and a suggestion for a misspelt word."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sized
from functools import lru_cache
from itertools import islice

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
