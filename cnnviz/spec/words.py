"""Words of the short form: a token's value, and a suggestion for a misspelt word."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .loader import Scalar


def suggest(word: str, choices: Iterable[object]) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def scalar(token: str) -> Scalar:
    """A short-form value: int, float, true/false, null, or the word itself
    (``none`` stays a word, as in YAML: it is how a setting or a layer is switched off)."""
    low = token.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low == "null":
        return None
    for cast in (int, float):
        try:
            return cast(token)
        except ValueError:
            pass
    return token
