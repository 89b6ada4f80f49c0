"""Every limit of the spec stage in one place, and the budgets that enforce the work limits.

A spec is a page of text.  These bounds are far above any real network (the
catalogue's largest unrolls to under 1,000 items) and make a hostile spec fail
fast with one located line, instead of exhausting the stack, the memory or the
patience of whoever runs it.  ``docs/spec-format.md`` ("Limits") lists them for
users; a test checks that the two agree.

Two kinds of bound:

* sizes checked where a value is read (file size, nesting, whole numbers,
  expression length), each reported where it was written;
* budgets (:class:`Budget`) that count work as it happens: the items of the
  unrolled network, and the steps of every ``$`` substitution in the spec.
  Running out raises :class:`Limit`; the innermost item being expanded reports
  it, located, and expansion stops (:class:`Stop`).
"""

from __future__ import annotations

from ..errors import Collector, Loc

# -- reading ----------------------------------------------------------------------------
MAX_BYTES = 1 << 20  # a spec file: a page of text; a megabyte is already absurd
MAX_DEPTH = 64  # nested YAML collections (measured on the event stream, before composing)
MAX_NODES = 200_000  # YAML values after alias expansion (an alias bomb stops here)
MAX_INT_BITS = 63  # any whole number, written or computed: below 2**63 in size
TOO_LARGE = f"whole number too large (the limit is 2**{MAX_INT_BITS} - 1)"
MAX_INT_CHARS = 80  # a whole number written with more characters (0b and 63 digits fit) is refused unread
MAX_EXTENDS = 16  # specs in one ``extends:`` chain
MAX_NAME_BYTES = 255  # one component of a file name (NAME_MAX)
MAX_PATH_BYTES = 4096  # a whole file name (PATH_MAX)

# -- expanding the layers ------------------------------------------------------------------
MAX_CALL_DEPTH = 32  # module calls inside module calls
MAX_NESTING = 64  # items inside items: module calls, branches, towers, heads (aux, output)
MAX_ITEMS = 50_000  # items of the unrolled network (every copy of a repeat counted)
MAX_TOWERS = 1024  # towers of one ``towers:`` item (drawn once, built as groups)
MAX_PROBLEMS = 200  # distinct problems reported before the spec stage gives up
MAX_SUGGEST = 500  # "did you mean": only among at most this many choices, for words up to 64 characters

# -- expressions ---------------------------------------------------------------------------
MAX_EXPR_CHARS = 200  # the text of one ``$( )`` expression
MAX_EXPR_DEPTH = 32  # nesting of one expression's syntax tree
MAX_EXPR_STEPS = 1_000  # steps of one evaluation (operations, names, list elements)
MAX_EXPR_WORK = 250_000  # steps of every substitution in one spec together (the catalogue needs at most a few hundred)
MAX_TEXT = 4_096  # characters of one value after substitution


class Limit(Exception):
    """A budget or a depth was exceeded; the message says which.  Reported once, at
    the innermost item being expanded, then expansion stops."""


class Stop(Exception):
    """Stop expanding: the reason has been reported already."""


class Budget:
    """Work counted against a limit; :meth:`spend` raises :class:`Limit` once it is passed."""

    def __init__(self, limit: int, message: str) -> None:
        self.limit = limit
        self.message = message
        self.used = 0

    def spend(self, n: int = 1) -> None:
        self.used += n
        if self.used > self.limit:
            raise Limit(self.message)


def expression_budget() -> Budget:
    return Budget(MAX_EXPR_WORK, f"substituting the spec's $ references, module arguments and vars takes more than {MAX_EXPR_WORK:,} steps")


def network_budget() -> Budget:
    return Budget(MAX_ITEMS, f"the network unrolls to more than {MAX_ITEMS:,} items (layers, module calls, branches, each copy counted); check repeat counts")


class Problems(Collector):
    """A :class:`Collector` that gives up (raising :class:`Stop`) after :data:`MAX_PROBLEMS`
    distinct problems, so that a spec of nothing but errors costs no more than a valid one."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.distinct: set[tuple[Loc | None, str]] = set()

    def add(self, loc: Loc | None, message: str) -> None:
        super().add(loc, message)
        self.distinct.add((loc, message))
        if len(self.distinct) > MAX_PROBLEMS:
            super().add(None, f"more than {MAX_PROBLEMS} problems; stopped here")
            raise Stop
