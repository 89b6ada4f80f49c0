"""Converters of the values written in a spec: each checks and normalises one value
(raising :class:`BadValue` with a message for the user) and carries the JSON Schema
of what it accepts, so that the layer table (:mod:`cnnviz.spec.layers`) can say
both what a field takes and how ``cnnviz schema`` describes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast


class BadValue(ValueError):
    """A field value that does not fit; the message is shown to the user."""


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Schema = dict[str, Any]  # a JSON Schema fragment


class Converter(Protocol[T_co]):
    """Checks and normalises a value written in a spec (raising :class:`BadValue`),
    and carries the JSON Schema of what it accepts (``cnnviz schema``)."""

    schema: Schema

    def __call__(self, v: Any, /) -> T_co: ...


def with_schema(schema: Schema) -> Callable[[Callable[[Any], T]], Converter[T]]:
    """Decorator: attach ``schema`` to a converter function."""

    def attach(func: Callable[[Any], T]) -> Converter[T]:
        # A function object takes attributes, but mypy rejects ``func.schema = ...`` on a
        # Callable; setattr adds it and the cast states what the function now is.
        setattr(func, "schema", schema)  # noqa: B010
        return cast("Converter[T]", func)

    return attach


def integer(lo: int, hi: int) -> Converter[int]:
    @with_schema({"type": "integer", "minimum": lo, "maximum": hi})
    def conv(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise BadValue(f"expected a whole number, got {v!r}")
        if not lo <= v <= hi:
            raise BadValue(f"{v} is out of range ({lo} to {hi})")
        return v

    return conv


def number(lo: float, hi: float) -> Converter[float]:
    @with_schema({"type": "number", "minimum": lo, "maximum": hi})
    def conv(v: Any) -> float:
        if isinstance(v, str):  # YAML 1.1 reads 1e-4 (no dot) as text
            try:
                v = float(v)
            except ValueError:
                pass
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise BadValue(f"expected a number, got {v!r}")
        if not lo <= v <= hi:
            raise BadValue(f"{v} is out of range ({lo} to {hi})")
        return float(v)

    return conv


@with_schema({"type": "boolean"})
def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadValue(f"expected true or false, got {v!r}")
    return v


PAIR = re.compile(r"^(\d+)[x×](\d+)$")


def pair(lo: int, hi: int) -> Converter[tuple[int, int]]:
    """A size written 3, '3x3', '1x7' or [1, 7]; kept as (height, width)."""
    one = integer(lo, hi)

    @with_schema(
        {
            "oneOf": [
                {"type": "integer", "minimum": lo},
                {"type": "string", "pattern": r"^\d+[x×]\d+$"},
                {"type": "array", "items": {"type": "integer", "minimum": lo}, "minItems": 2, "maxItems": 2},
            ]
        }
    )
    def conv(v: Any) -> tuple[int, int]:
        if isinstance(v, str):
            m = PAIR.match(v.strip())
            if not m:
                raise BadValue(f"expected a size like 3 or 3x3 or 1x7, got {v!r}")
            v = [int(m.group(1)), int(m.group(2))]
        if isinstance(v, list):
            if len(v) != 2:
                raise BadValue(f"expected [height, width], got {len(v)} numbers")
            return (one(v[0]), one(v[1]))
        n = one(v)
        return (n, n)

    return conv


def enum(*words: str) -> Converter[str]:
    @with_schema({"enum": list(words)})
    def conv(v: Any) -> str:
        if isinstance(v, str) and v in words:
            return v
        from .words import suggest  # here: words imports the layer table, which imports this module

        hint = suggest(v, words) if isinstance(v, str) else ""
        raise BadValue(f"unknown value {v!r}{hint} (choose from {', '.join(words)})")

    return conv


def optional(convert: Converter[T]) -> Converter[T | None]:
    """A converter that also takes null: a setting that is off unless given."""

    @with_schema({"anyOf": [convert.schema, {"type": "null"}]})
    def conv(v: Any) -> T | None:
        return None if v is None else convert(v)

    return conv


def text(longest: int) -> Converter[str]:
    """Non-empty text (a label), at most ``longest`` characters."""

    @with_schema({"type": "string", "minLength": 1, "maxLength": longest})
    def conv(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise BadValue(f"expected text, got {v!r}")
        out = str(v).strip()
        if not out or len(out) > longest:
            raise BadValue(f"expected text of 1 to {longest} characters, got {len(out)} characters")
        return out

    return conv


SHAPE = re.compile(r"^\d+(?:[x×]\d+)+$")
MAX_RANK = 6  # dimensions of a shape without the batch (a custom box's output may have any of 1 to 6)


def shape(largest: int) -> Converter[tuple[int, ...]]:
    """A tensor shape without the batch: [channels, height, width] (also written 64x56x56),
    [features], or any other rank up to MAX_RANK, such as a transformer's [tokens, features]."""
    one = integer(1, largest)

    @with_schema(
        {
            "oneOf": [
                {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": largest}, "minItems": 1, "maxItems": MAX_RANK},
                {"type": "string", "pattern": r"^\d+(?:[x×]\d+)+$"},
                {"type": "integer", "minimum": 1, "maximum": largest},
            ]
        }
    )
    def conv(v: Any) -> tuple[int, ...]:
        if isinstance(v, str) and SHAPE.match(v.strip()):
            v = [int(n) for n in re.split("[x×]", v.strip())]
        if isinstance(v, int) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, list) or not 1 <= len(v) <= MAX_RANK:
            raise BadValue(f"expected a shape such as [channels, height, width], [features] or [tokens, features], got {v!r}")
        return tuple(one(n) for n in v)

    return conv
