"""``gallery/index.html``: one self-contained page (no script, no network), every diagram inline."""

from __future__ import annotations

import re
from itertools import groupby

from ..present import exact, rounded, shape
from .cards import Card, sections, span
from .text import file_link, fragment, html, url

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)  # XML declaration, DOCTYPE, generator comment
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
_ID = re.compile(r'(\sid=")')
_REF = re.compile(r'((?:xlink:)?href="#|url\(#)')
_GRAPH_TITLE = re.compile(r"<title>[^<]*</title>")
_ROOT = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def inline_svg(card: Card) -> str:
    """The card's SVG as an element of the page: prologue and comments dropped, every id
    prefixed with the card's id (so that fourteen diagrams on one page never share one),
    the drawing's tooltip set to the network's name.  Its size loses the unit (1pt
    becomes 1px): at that scale the diagrams share one text size, and CSS shrinks
    the few wider than the page."""
    text = card.svg.decode("utf-8")
    text = _COMMENT.sub("", _PROLOGUE.sub("", text, count=1)).strip()
    prefix = fragment(card.id) + "-"
    text = _ID.sub(lambda m: m.group(1) + prefix, text)
    text = _REF.sub(lambda m: m.group(1) + prefix, text)
    text = _GRAPH_TITLE.sub(f"<title>{html(card.name)}</title>", text, count=1)
    label = html(card.name)
    return _ROOT.sub(lambda m: f'<svg width="{m[1]}" height="{m[2]}" role="img" aria-label="{label}: compact diagram"', text, count=1)


def svg_href(card: Card) -> str:
    return html(file_link(f"{card.id}.svg"))


def anchor(card: Card) -> str:
    return fragment(card.id)


def facts(card: Card) -> str:
    params = exact(card.params)
    if card.params_aux:
        params += f' <span class="muted">+ {exact(card.params_aux)} aux</span>'
    if card.article_params:
        article = f"(article: {html(card.article_params)})"
    elif card.params is not None and card.article:
        article = f'(<abbr title="the article gives no figure; rounded here">≈ {rounded(card.params)}</abbr>)'
    else:
        article = ""
    rows = [
        ("Parameters", f'{params}<span class="muted note">{article}</span>'),
        ("Depth", f'{card.depth} <span class="muted">weighted layers</span>'),
        ("Input", html(shape(card.input))),
    ]
    link = url(card.paper_url)
    if card.paper_title:
        title = html(card.paper_title)
        rows.append(("Paper", f'<a href="{html(link)}">{title}</a>' if link else title))
    return "\n".join(f'<div><dt>{k}</dt><dd>{v}</dd></div>' for k, v in rows)


def card_html(card: Card) -> str:
    year = f'<span class="year">{html(card.year)}</span>' if card.year else ""
    return f"""<article class="card" id="{anchor(card)}">
<header><h2><a href="{svg_href(card)}" title="Open the SVG">{html(card.name)}</a></h2>{year}<a class="up" href="#top" title="Back to the contents">↑ contents</a></header>
<p class="novel">{html(card.novel)}</p>
<dl class="facts">
{facts(card)}
</dl>
<figure>
{inline_svg(card)}
</figure>
</article>"""


def toc(cards: list[Card]) -> str:
    rows = []
    for year, group in groupby(cards, key=lambda c: c.year):
        links = " ".join(f'<a href="#{anchor(c)}">{html(c.name)}</a>' for c in group)
        rows.append(f'<li><span class="year">{html(year or "—")}</span><span class="names">{links}</span></li>')
    return "\n".join(rows)


CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #6b7280; --paper: #f4f2ec; --card: #ffffff;
  --line: #e2dccf; --accent: #2f5d8a; --pill: #efe9dc; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.wrap { max-width: 1320px; margin: 0 auto; padding: 0 24px; }
.top { padding: 40px 0 8px; }
.top h1 { font-size: 30px; line-height: 1.2; margin: 0 0 8px; letter-spacing: -0.01em; }
.lede { max-width: 62em; margin: 0 0 20px; color: #3d4752; }
.toc { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 20px; margin-bottom: 28px; }
.toc ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
.toc li { display: flex; gap: 14px; align-items: baseline; }
.toc .part { margin: 10px 0 6px; font-size: 13px; font-weight: 600; color: var(--muted); }
h2.part { font-size: 24px; margin: 12px 0 -12px; }
.toc .names { display: flex; flex-wrap: wrap; gap: 4px 18px; }
.year { display: inline-block; font-size: 13px; font-variant-numeric: tabular-nums; font-weight: 600;
  color: #5b4f37; background: var(--pill); border-radius: 999px; padding: 1px 10px; }
main { display: grid; gap: 28px; padding-bottom: 32px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 14px; padding: 20px 24px 16px;
  box-shadow: 0 1px 2px rgba(31, 41, 51, 0.05); scroll-margin-top: 16px; }
.card header { display: flex; align-items: baseline; gap: 12px; }
.card h2 { font-size: 22px; margin: 0; }
.card h2 a { color: var(--ink); }
.card h2 a:hover { color: var(--accent); }
.card .up { margin-left: auto; font-size: 13px; color: var(--muted); }
.novel { margin: 8px 0 12px; max-width: 62em; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 32px; margin: 0 0 14px; font-size: 14px; }
.facts div { display: flex; gap: 8px; align-items: baseline; }
.facts dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.note { margin-left: 8px; }
abbr { text-decoration: none; border-bottom: 1px dotted var(--muted); cursor: help; }
figure { margin: 0; padding: 12px; border-top: 1px solid var(--line); overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.site { color: var(--muted); font-size: 13px; padding: 8px 0 40px; }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--pill);
  padding: 0 4px; border-radius: 4px; }
@media (max-width: 700px) { .wrap { padding: 0 12px; } .card { padding: 16px 14px; } .top h1 { font-size: 24px; } }
""".strip()


def lede(article: list[Card], later: list[Card]) -> str:
    order = "in the order of the article\n<cite>Illustrated: 10 CNN Architectures</cite>"
    if not article:
        return f"{len(later)} networks from {span(later, html)}, by year."
    text = f"{len(article)} networks from {span(article, html)}, {order}"
    return text + (f', then <a href="#beyond">{len(later)} beyond it</a>.' if later else ".")


def contents(article: list[Card], later: list[Card]) -> str:
    """The table of contents: the article's networks by year, then those beyond it."""
    parts = [f"<ol>\n{toc(article or later)}\n</ol>"]
    if article and later:
        parts.append(f'<p class="part"><a href="#beyond">Beyond the article</a></p>\n<ol>\n{toc(later)}\n</ol>')
    return "\n".join(parts)


def body(article: list[Card], later: list[Card]) -> str:
    """Every card; the ones beyond the article after a heading of their own."""
    out = [card_html(c) for c in (article or later)]
    if article and later:
        out.append(
            '<h2 class="part" id="beyond">Beyond the article</h2>\n'
            '<p class="lede">Networks the article does not draw, by year; each spec is exact to the implementation it names.</p>'
        )
        out += [card_html(c) for c in later]
    return "\n".join(out)


def page(cards: list[Card], engine: str) -> str:
    article, later = sections(cards)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cnnviz gallery">
<title>cnnviz gallery: {len(cards)} CNN architectures</title>
<link rel="icon" href="data:,">
<style>
{CSS}
</style>
</head>
<body>
<div class="wrap">
<header class="top" id="top">
<h1>CNN architectures, drawn by cnnviz</h1>
<p class="lede">{lede(article, later)} Each is drawn from its YAML spec in <code>arch_specs/</code>:
one box per module on the main line, each module’s inside drawn once beside it, one colour per layer type.
Click a name for its SVG.</p>
<nav class="toc" aria-label="Contents">
{contents(article, later)}
</nav>
</header>
<main>
{body(article, later)}
</main>
<footer class="site">Generated by <code>cnnviz gallery</code> from <code>arch_specs/</code>; do not edit by hand.
Laid out by {html(engine)}. Depth counts convolutions and dense layers on the longest path; auxiliary classifiers are drawn dashed and not counted.</footer>
</div>
</body>
</html>
"""
