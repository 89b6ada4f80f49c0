"""One exception family for everything a user can get wrong.

A :class:`Problem` is one located message (``path:line:col: message``).
:class:`SpecError` carries one or more problems; the CLI prints each on its own
line and exits non-zero, without a traceback.  Library callers can catch
:class:`SpecError` and read ``.problems``.
"""

from __future__ import annotations

from dataclasses import dataclass

import click


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


class SpecError(click.ClickException):
    """A user error: a bad spec, a missing file, an impossible shape."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("cnnviz", 0, 0, p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:  # no "Error:" prefix: the lines are already located
        click.echo(self.format_message(), file=file, err=file is None)


class Collector:
    """Gathers problems so that every error in a spec is reported at once."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def add(self, loc: tuple[str, int, int] | None, message: str) -> None:
        """Record a problem at ``loc`` = (file, line, col); ``None`` means the whole file."""
        path, line, col = loc or (self.path, 0, 0)
        self.problems.append(Problem(path or self.path, line, col, message))

    def raise_if_any(self) -> None:
        if self.problems:
            # Order by position; keep each distinct message once.
            raise SpecError(sorted(set(self.problems)))
