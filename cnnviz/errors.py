"""One exception family for everything a user can get wrong.

:class:`CnnvizError` is the root; library code raises its subclasses and never
prints.  The command line alone turns them into output and exit codes
(:mod:`cnnviz.cli`).

* :class:`SpecError`: one or more located :class:`Problem` lines
  (``path:line:col: message``) about a spec: syntax, names, settings;
  :class:`ShapeError` when the shapes do not fit or a declared fact is wrong.
* :class:`EngineError`: the layout binary is missing, cannot make a format, or failed.
* :class:`OutputError`: a result cannot be written where the user asked.
* :class:`GalleryError`: one or more architectures of the gallery could not be drawn.
* :class:`MissingDependency`: an optional package (torch) is needed and absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Loc = tuple[str, int, int]


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int  # 1-based; 0 when the problem is about the file as a whole
    col: int  # 1-based; 0 when unknown
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col}: {self.message}"
        return f"{self.path}: {self.message}"


class CnnvizError(Exception):
    """The root of every error a user can cause; ``lines()`` is what to show them."""

    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]


class SpecError(CnnvizError):
    """A bad spec: every problem found, each located."""

    def __init__(self, problems: Iterable[Problem] | Problem | str):
        many: Iterable[Problem | str] = [problems] if isinstance(problems, (Problem, str)) else problems
        self.problems = [p if isinstance(p, Problem) else Problem("cnnviz", 0, 0, p) for p in many]
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ShapeError(SpecError):
    """Shapes that do not fit, or declared facts (``expect:``) the network does not have."""


class EngineError(CnnvizError):
    """The layout binary is missing, cannot make a format, or failed."""


class OutputError(CnnvizError):
    """A result cannot be written where the user asked."""


class GalleryError(CnnvizError):
    """One or more architectures could not be drawn into the gallery."""


class MissingDependency(CnnvizError):
    """An optional package is needed for this and is not installed."""

    @classmethod
    def torch(cls, purpose: str, missing: str) -> MissingDependency:
        """torch (or a part of it, ``missing``) is needed for ``purpose``: say how to install it."""
        return cls(
            f"{purpose} need torch ({missing} is not installed): "
            "pip install torch==2.13.0, then pip install 'cnnviz[shapes]' (pin torch first, or pip takes a CUDA build of several GB)"
        )


class Collector:
    """Gathers problems so that every error in a spec is reported at once."""

    def __init__(self, path: str, error: type[SpecError] = SpecError):
        self.path = path
        self.error = error
        self.problems: list[Problem] = []

    def add(self, loc: Loc | None, message: str) -> None:
        """Record a problem at ``loc`` = (file, line, col); ``None`` means the whole file."""
        path, line, col = loc or (self.path, 0, 0)
        self.problems.append(Problem(path or self.path, line, col, message))

    def raise_if_any(self) -> None:
        if self.problems:
            # Order by position; keep each distinct message once.
            raise self.error(sorted(set(self.problems)))
