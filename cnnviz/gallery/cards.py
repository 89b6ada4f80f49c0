"""One card per architecture: its figures, its note and its diagram, drawn in worker processes.

:func:`draw` is the unit of work (a catalogue id → a :class:`Card`); it needs no
torch: the parameter count is the spec's declared ``expect.params``, which the
test-suite checks against the torch shape pass.  :func:`draw_all` spreads the
ids over processes and gives the cards back in the article's order.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

# Imported here, not in draw(): forked workers then inherit them instead of importing each.
from ..drawing import Diagram

# The gallery is always laid out by the pinned pure engine, whatever the user's
# default: system Graphviz differs between machines, graphviz-pure does not.
from ..drawing.engine import PURE
from ..errors import CnnvizError, GalleryError
from ..graph import build_network
from ..spec import load_spec

DETAIL = "compact"


@dataclass(frozen=True)
class Card:
    id: str
    name: str
    year: int | None
    params: int | None
    params_aux: int
    article_params: str | None
    depth: int
    input: tuple[int, ...]
    novel: str
    paper_title: str
    paper_url: str | None
    svg: bytes
    article: bool = True  # one of the article's networks (False: the section beyond it)


def in_article(ident: str) -> bool:
    """Is ``ident`` one of the networks of the article (the gallery's first section)?"""
    from ..registry import ARTICLE_ORDER

    return ident in ARTICLE_ORDER


def sections(cards: list[Card]) -> tuple[list[Card], list[Card]]:
    """The cards of the article's networks, and those beyond it, each in the given order."""
    return [c for c in cards if c.article], [c for c in cards if not c.article]


def span(cards: list[Card], escape: Callable[[object], str]) -> str:
    """'LeNet-5 (1998) to ResNeXt-50 (2017)': the first and last card, through ``escape``."""
    first, last = cards[0], cards[-1]
    return f"{escape(first.name)} ({escape(first.year)}) to {escape(last.name)} ({escape(last.year)})"


class DrawError(GalleryError):
    """Architectures that could not be drawn: one line per problem, each naming its id."""

    def __init__(self, problems: list[str]):
        self.problems = ["cannot draw the gallery:", *problems]
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        return list(self.problems)  # (a line may hold a line break of the spec's: it is one line still)


def draw(ident: str) -> Card | list[str]:
    """A catalogue id → its card; a user error (bad spec, missing engine) → its lines."""
    try:
        net = build_network(load_spec(ident))
        svg = Diagram(net, detail=DETAIL, engine=PURE).render("svg")
    except CnnvizError as exc:  # SpecError, EngineError: report them all, then stop
        return [f"{ident}: {line}" for line in exc.lines()]
    meta = net.meta
    paper = meta.get("paper") or {}
    return Card(
        id=ident,
        name=net.name,
        year=meta.get("year"),
        params=net.expect.get("params"),
        params_aux=net.expect.get("params_aux", 0) or 0,
        article_params=meta.get("article_params"),
        depth=net.depth,
        input=tuple(net.input),
        novel=meta.get("novel", ""),
        paper_title=str(paper.get("title", "")),
        paper_url=paper.get("url"),
        svg=svg,
        article=in_article(ident),
    )


def _context():
    # fork is cheap (the children inherit the imports); elsewhere spawn is the safe choice.
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _cost(ident: str) -> int:
    """A guess at how long an id takes to draw (its spec's size), to start the slow ones first."""
    from ..spec.catalogue import spec_dir

    try:
        return (spec_dir() / f"{ident}.yaml").stat().st_size
    except OSError:
        return 0


def draw_all(ids: list[str], jobs: int | None = None, done: Callable[[str], None] | None = None) -> list[Card]:
    """Draw every id (in ``jobs`` processes; default: one per CPU); the cards in the order of ``ids``.

    ``done(id)`` is called as each one finishes, in the order they finish.
    Raises :class:`GalleryError` listing every id that failed."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(ids)))
    work = sorted(ids, key=_cost, reverse=True)
    results: dict[str, Card | list[str]] = {}

    def collect(result: Card | list[str], ident: str) -> None:
        results[ident] = result
        if done:
            done(ident)

    if jobs == 1:
        for ident in work:
            collect(draw(ident), ident)
    else:
        # An executor, not a multiprocessing.Pool: a worker that dies (a crash, a kill) breaks
        # the executor, which says so at once, where a Pool would wait for its task forever.
        with ProcessPoolExecutor(jobs, mp_context=_context()) as pool:
            try:
                for future in as_completed([pool.submit(_draw_pair, ident) for ident in work]):
                    ident, result = future.result()
                    collect(result, ident)
            except BrokenProcessPool:
                raise GalleryError("a drawing process died before it finished; run 'cnnviz gallery -j 1' to see where") from None
    ordered = [results[i] for i in ids]
    errors = [line for r in ordered if isinstance(r, list) for line in r]
    if errors:
        raise DrawError(errors)
    return [r for r in ordered if isinstance(r, Card)]  # all of them, now


def _draw_pair(ident: str) -> tuple[str, Card | list[str]]:
    return ident, draw(ident)
