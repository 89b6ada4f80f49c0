"""The gallery: built in memory, checked against the committed folder, byte-stable, escaped."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnviz.cli import cli
from cnnviz.gallery import Card, build, catalogue, compare, files_of, write
from cnnviz.gallery.page import page
from cnnviz.gallery.readme import readme
from cnnviz.gallery.text import html, md, url
from cnnviz.present import exact, rounded, shape
from cnnviz.registry import ARTICLE_ORDER

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "gallery"
IDS = catalogue()  # the article's networks, then those beyond it


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return build(jobs=2)


def gallery(*args: str):
    return CliRunner().invoke(cli, ["gallery", *args], catch_exceptions=False)


@pytest.fixture
def copy(tmp_path, files) -> Path:
    """A fresh, up-to-date gallery folder to spoil."""
    out = tmp_path / "gallery"
    out.mkdir()
    write(files, out)
    return out


# -- the committed gallery --------------------------------------------------


def test_committed_gallery_is_up_to_date():
    result = gallery("--check", "--out", str(GALLERY))
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_built_files_are_the_committed_ones(files):
    assert compare(files, GALLERY).clean
    assert set(files) == {f"{i}.svg" for i in IDS} | {"README.md", "index.html", ".gitattributes"}


# -- --check: stale, missing, extra -----------------------------------------


def spoil_stale(out: Path) -> str:
    path = out / "resnet50.svg"
    path.write_bytes(path.read_bytes().replace(b"</svg>", b"<g/></svg>"))
    return "stale    {out}/resnet50.svg"


def spoil_missing(out: Path) -> str:
    (out / "lenet5.svg").unlink()
    return "missing  {out}/lenet5.svg"


def spoil_extra(out: Path) -> str:
    (out / "alexnet_old.svg").write_text("<svg/>", encoding="utf-8")
    return "extra    {out}/alexnet_old.svg"


@pytest.mark.parametrize("spoil", [spoil_stale, spoil_missing, spoil_extra], ids=["stale", "missing", "extra"])
def test_check_fails_and_names_the_file(copy, spoil):
    expected = spoil(copy).format(out=copy)
    result = gallery("--check", "--out", str(copy), "--jobs", "2")
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith(("stale", "missing", "extra"))]
    assert problems == [expected]
    assert "run 'cnnviz gallery'" in result.output


def test_check_lists_every_problem_and_writes_nothing(copy):
    lines = sorted(spoil(copy).format(out=copy) for spoil in (spoil_stale, spoil_missing, spoil_extra))
    (copy / "README.md").write_bytes(b"edited by hand\n")
    before = {p: p.read_bytes() for p in copy.iterdir()}
    result = gallery("--check", "--out", str(copy), "--jobs", "1")
    assert result.exit_code == 1
    listed = sorted(line for line in result.output.splitlines() if line.startswith(("stale", "missing", "extra")))
    assert listed == sorted([*lines, f"stale    {copy}/README.md"])
    assert {p: p.read_bytes() for p in copy.iterdir()} == before


def test_check_on_a_missing_folder_lists_every_file(tmp_path, files):
    report = compare(files, tmp_path / "nowhere")
    assert report.missing == sorted(files) and not report.stale and not report.extra


def test_a_spec_change_makes_the_committed_gallery_stale(tmp_path, monkeypatch):
    specs = tmp_path / "arch_specs"
    shutil.copytree(ROOT / "arch_specs", specs)
    lenet = specs / "lenet5.yaml"
    lenet.write_text(lenet.read_text(encoding="utf-8").replace("conv 16 5x5 @C3", "conv 16 3x3 @C3"), encoding="utf-8")
    monkeypatch.setattr("cnnviz.spec.catalogue.spec_dir", lambda: specs)
    report = compare(build(jobs=1), GALLERY)
    assert report.stale == ["index.html", "lenet5.svg"]
    assert not report.missing and not report.extra


# -- writing ------------------------------------------------------------------


def test_regenerating_repairs_the_folder(copy, files):
    spoil_stale(copy), spoil_missing(copy), spoil_extra(copy)
    (copy / "notes.txt").write_text("mine", encoding="utf-8")
    result = gallery("--out", str(copy), "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert "2 written, 1 removed" in result.output  # the stale and the missing file; the orphan SVG
    assert f"warning: {copy}/notes.txt is not part of the gallery" in result.output
    report = compare(files, copy)
    assert report.clean is False and report.extra == ["notes.txt"] and not report.stale and not report.missing


def test_extra_files_survive_in_a_folder_the_gallery_did_not_write(tmp_path, files):
    (tmp_path / "keep.svg").write_text("<svg/>", encoding="utf-8")
    write(files, tmp_path)
    assert (tmp_path / "keep.svg").exists()  # no README.md marker before the write: not ours to delete


def test_two_runs_give_the_same_bytes(tmp_path, files):
    a, b = tmp_path / "a", tmp_path / "b"
    assert gallery("--out", str(a), "--jobs", "1").exit_code == 0
    assert gallery("--out", str(b), "--jobs", "2").exit_code == 0
    for rel, data in files.items():
        assert (a / rel).read_bytes() == data == (b / rel).read_bytes(), rel


def test_no_machine_or_run_in_the_bytes(files):
    for rel, data in files.items():
        text = data.decode("utf-8")
        assert str(ROOT) not in text and "/tmp/" not in text and "\r" not in text, rel
        assert not re.search(r"20\d\d-\d\d-\d\d[T ]\d\d:\d\d", text), rel  # no timestamps


# -- the files' content ------------------------------------------------------


def test_every_svg_is_well_formed_xml(files):
    for rel, data in files.items():
        if rel.endswith(".svg"):
            assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg", rel


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.title_links: list[str] = []  # the href of every card title
        self.anchors: list[str] = []
        self.resources: list[tuple[str, str]] = []
        self.svgs: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "h2":
            self._in_h2 = True
        if tag == "a" and self._in_h2:
            self.title_links.append(a["href"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.anchors.append(a["href"][1:])
        if tag in ("img", "script", "iframe", "link", "source", "video", "audio", "object", "embed"):
            self.resources.append((tag, a.get("src") or a.get("href") or ""))
        if tag == "svg":
            self.svgs.append(a.get("aria-label", ""))

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False


def test_page_links_and_inlines_every_svg(files):
    p = Page()
    p.feed(files["index.html"].decode("utf-8"))
    p.close()
    assert p.title_links == [f"{i}.svg" for i in IDS]
    assert len(p.svgs) == len(IDS)
    assert len(p.ids) == len(set(p.ids)), "an id is used twice on the page"
    assert set(IDS) <= set(p.ids) and set(p.anchors) <= set(p.ids)
    assert p.resources == [("link", "data:,")]  # self-contained: no script, no fetched resource
    assert "http" not in "".join(src for _, src in p.resources)


def test_readme_table_in_the_articles_order(files):
    text = files["README.md"].decode("utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| <a href=")]
    assert [re.search(r'href="([^"]+)\.svg"', r)[1] for r in rows] == IDS
    header = next(line for line in text.splitlines() if line.startswith("| Diagram"))
    assert all(cells(r) == cells(header) for r in rows)
    resnet = next(r for r in rows if "[ResNet-50](resnet50.svg)" in r)
    assert "| 25,557,032 | 26M | 50 | 3×224×224 |" in resnet
    vgg19 = next(r for r in rows if "[VGG-19]" in r)
    assert "| ≈144M |" in vgg19  # the article gives no figure for VGG-19


def cells(row: str) -> int:
    """Table cells as GitHub splits them: on every '|' without a backslash before it."""
    return len(re.split(r"(?<!\\)\|", row))


# -- escaping: user text reaches HTML and Markdown only through text.py -------

HOSTILE = Card(
    id="evil",
    name='Net|Work <script>alert("x")</script> & co',
    year=2020,
    params=1234,
    params_aux=0,
    article_params="1K | <b>",
    depth=3,
    input=(3, 8, 8),
    novel="first line\nsecond | line with [a link](javascript:alert(1)) and *stars*",
    paper_title="<img src=x onerror=alert(1)>",
    paper_url="javascript:alert(1)",
    svg=b'<svg width="10pt" height="10pt" viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><g id="graph0"><title>cnnviz</title></g></svg>',
)


def test_hostile_text_stays_text_in_the_readme():
    text = readme([HOSTILE, replace(HOSTILE, id="evil2")], "graphviz-pure 0")
    row = next(line for line in text.splitlines() if line.startswith("| <a href=\"evil.svg\""))
    header = next(line for line in text.splitlines() if line.startswith("| Diagram"))
    assert cells(row) == cells(header)
    assert "<script>" not in text and "\nsecond" not in text
    assert not re.search(r"(?<!\\)\]\(javascript", text)  # the brackets are escaped: no link


def test_hostile_text_stays_text_in_the_page():
    text = page([HOSTILE], "graphviz-pure 0")
    assert "<script" not in text and "<img" not in text and 'href="javascript' not in text and "<b>" not in text
    assert "Net|Work &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("a|b", r"a\|b"),
        ("two\nlines", "two lines"),
        ("<b>*x*</b>", r"\<b\>\*x\*\</b\>"),
        ("[t](u)", r"\[t\](u)"),
        ("back\\slash", r"back\\slash"),
        ("bell\x07", "bell\ufffd"),
    ],
)
def test_md(text, expected):
    assert md(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ('say "hi" \'there\'', "say &quot;hi&quot; &#x27;there&#x27;"),
        ("line\r\nbreak", "line break"),
    ],
)
def test_html(text, expected):
    assert html(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://arxiv.org/abs/1512.03385", "https://arxiv.org/abs/1512.03385"),
        ("http://x.org/a b(c)", "http://x.org/a%20b%28c%29"),
        ('https://x.org/"><script>', "https://x.org/%22%3E%3Cscript%3E"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("", None),
        (None, None),
    ],
)
def test_url(text, expected):
    assert url(text) == expected


@pytest.mark.parametrize(("n", "expected"), [(61706, "62K"), (999_499, "999K"), (999_500, "1M"), (143_667_240, "144M"), (44_549_160, "45M"), (7_595_176, "8M"), (12, "12")])
def test_rounded(n, expected):
    assert rounded(n) == expected


def test_figures_come_from_present_alone():
    import importlib

    # (cnnviz.gallery's own page() and readme() hide the modules' names as attributes)
    page_module, readme_module, text_module = (importlib.import_module(f"cnnviz.gallery.{m}") for m in ("page", "readme", "text"))

    # one way to write a figure: the gallery keeps no copy of its own
    assert not {"exact", "rounded", "shape"} & set(vars(text_module))
    for module in (page_module, readme_module):
        assert (module.exact, module.rounded, module.shape) == (exact, rounded, shape)
    assert (exact(25_557_032), exact(None), shape((3, 224, 224))) == ("25,557,032", "?", "3×224×224")


def test_a_card_is_the_networks():
    from cnnviz.gallery.cards import draw

    card = draw("resnext50")
    assert not isinstance(card, str), card
    assert (card.name, card.year, card.params, card.params_aux, card.depth, card.input) == ("ResNeXt-50", 2017, 25_028_904, 0, 50, (3, 224, 224))
    assert card.svg.startswith(b"<?xml") and b"</svg>" in card.svg


def test_files_of_is_sorted_and_pure():
    a = files_of([HOSTILE], "e")
    assert list(a) == sorted(a) and a == files_of([HOSTILE], "e")


# -- a hostile catalogue: every user-text path of every gallery file -------------------

EVIL_ID = 'evil" onerror="alert(1)'  # a spec file named `evil" onerror="alert(1).yaml`
EVIL_SPEC = """\
name: 'Evil" onmouseover="alert(2) <script>alert(3)</script> | `code` [x](javascript:alert(4)) *b* _i_ ~s~ \\\\'
year: 2020
novel: "<img src=x onerror=alert(5)> | ![i](javascript:alert(6)) &amp; \\r\\n# heading\\n| fake | row |\\u202e"
article_params: '1K" onclick="alert(7) | <b>'
paper:
  title: '</a><script>alert(8)</script>'
  url: 'https://x.org/"><script>alert(9)</script>(a) [b] |c| `d`'
input: [3, 8, 8]
modules:
  blk:
    label: '<b onclick="alert(10)">blk</b> & "q"'
    layers: [conv 4 3x3]
layers:
  - conv 8 3x3
  - blk
  - gap
  - dense 10
expect:
  params: 566
"""
ALLOWED = {  # every tag and attribute the gallery writes itself
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "width"},
    "br": set(),
}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))


def tags_of(text: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(text)
    p.close()
    return p.seen


@pytest.fixture(scope="module")
def evil_files(tmp_path_factory) -> dict[str, bytes]:
    specs = tmp_path_factory.mktemp("arch_specs")
    (specs / f"{EVIL_ID}.yaml").write_text(EVIL_SPEC, encoding="utf-8")
    shutil.copy(ROOT / "arch_specs" / "lenet5.yaml", specs / "lenet5.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("cnnviz.spec.catalogue.spec_dir", lambda: specs)
        return build(jobs=1, ids=["lenet5", EVIL_ID])


def test_a_hostile_spec_stays_text_in_the_readme(evil_files):
    text = evil_files["README.md"].decode("utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| Diagram"))
    rows = [line for line in text.splitlines() if line.startswith("| <a href=")]
    assert len(rows) == 2 and all(cells(r) == cells(header) for r in rows)
    for tag, attrs in tags_of(re.sub(r"\\.", "", text)):  # the raw HTML Markdown sees: escaped characters are text
        assert tag in ALLOWED and set(attrs) <= ALLOWED[tag], (tag, attrs)
        for name in ("href", "src"):
            assert attrs.get(name) in (None, "lenet5.svg", "evil%22%20onerror%3D%22alert%281%29.svg"), attrs
    evil = rows[1]
    assert '[Evil" onmouseover' in evil and "(evil%22%20onerror%3D%22alert%281%29.svg)" in evil
    assert "[paper](https://x.org/%22%3E%3Cscript%3Ealert%289%29%3C/script%3E%28a%29%20%5Bb%5D%20%7Cc%7C%20%60d%60)" in evil
    assert not re.search(r"(?<!\\)[\[\]`*_~<>]", evil.split("[paper]")[1].split(")", 1)[1])  # no live markup after the link
    markdown = re.sub(r' alt="[^"]*"', "", text)  # (an attribute's value is text: Markdown does not read it)
    assert "javascript" not in markdown.replace("javascript:alert(4)", "").replace("javascript:alert(6)", "")
    assert not re.search(r"(?<!\\)\]\(javascript", markdown)


def test_a_hostile_spec_stays_text_in_the_page(evil_files):
    text = evil_files["index.html"].decode("utf-8")
    scripts = [tag for tag, _ in tags_of(text) if tag in ("script", "img", "iframe", "b")]
    assert scripts == []
    for tag, attrs in tags_of(text):
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if tag == "a" and "href" in attrs:
            href = attrs["href"]
            assert href.startswith(("#", "https://x.org/%22%3E", "https://doi.org/")) or href in ("lenet5.svg", "evil%22%20onerror%3D%22alert%281%29.svg"), href
    p = Page()
    p.feed(text)
    assert len(p.ids) == len(set(p.ids)) and set(p.anchors) <= set(p.ids)
    assert "_evil_22_20onerror_3D_22alert_281_29" in p.ids


def test_a_hostile_spec_makes_a_well_formed_svg(evil_files):
    root = ET.fromstring(evil_files[f"{EVIL_ID}.svg"])
    for el in root.iter():
        assert not any(a.lower().startswith("on") for a in el.attrib), el.attrib
        assert not el.tag.endswith("script")


# -- two runs, killed runs ------------------------------------------------------------------


def _write_into(files, out, q):
    try:
        q.put(write(files, out)[1])
    except BaseException as exc:  # noqa: BLE001 (reported to the parent)
        q.put(repr(exc))


def test_two_runs_at_once_take_turns(tmp_path, files):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for i in range(8):
        out = tmp_path / f"g{i}"
        q = ctx.Queue()
        procs = [ctx.Process(target=_write_into, args=(files, out, q)) for _ in range(2)]
        for p in procs:
            p.start()
        results = [q.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
        assert results == [[], []]  # no error, and no warning about the other's temporary files
        assert compare(files, out).clean


def test_temporary_files_are_never_extra_and_stale_ones_are_swept(copy, files):
    import os
    import time

    live = copy / ".resnet50.svg.abcdefgh.tmp"  # a write under way
    live.write_bytes(b"half")
    dead = copy / ".lenet5.svg.ijklmnop.tmp"  # left by a run killed with SIGKILL
    dead.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(dead, (old, old))
    assert compare(files, copy).clean
    assert gallery("--check", "--out", str(copy), "--jobs", "2").exit_code == 0
    result = gallery("--out", str(copy), "--jobs", "2")
    assert "warning" not in result.output and "0 removed" in result.output
    assert live.exists() and not dead.exists()


def test_an_unwritable_gallery_folder_is_a_clean_error(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = gallery("--out", str(tmp_path / "file" / "sub"), "--jobs", "2")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"{tmp_path / 'file' / 'sub'}: cannot make the folder: Not a directory"


def test_a_spec_that_cannot_be_drawn_is_one_line_per_problem(tmp_path, monkeypatch, capsys):
    from cnnviz.cli import report
    from cnnviz.gallery.cards import DrawError

    (tmp_path / "bad.yaml").write_text('name: t\ninput: [3, 8, 8]\nlayers: [conv 8 3x3]\n"odd\\nkey": 1\nother: 2\n', encoding="utf-8")
    monkeypatch.setattr("cnnviz.spec.catalogue.spec_dir", lambda: tmp_path)
    with pytest.raises(DrawError) as info:
        build(jobs=1, ids=["bad"])
    lines = info.value.lines()
    assert lines[0] == "cannot draw the gallery:" and len(lines) == 3
    assert all(line.startswith("bad: ") for line in lines[1:]) and "odd\nkey" in lines[1]
    report(info.value)
    assert capsys.readouterr().err.splitlines() == [line.replace("\n", "\\n") for line in lines]


# -- sections: the article's networks, then those beyond it -------------------


def test_the_articles_networks_come_first_then_those_beyond_it(files):
    assert IDS[: len(ARTICLE_ORDER)] == [i for i in IDS if i in ARTICLE_ORDER]
    text = files["README.md"].decode("utf-8")
    head, _, tail = text.partition("\n## Beyond the article\n")
    assert tail, "no section beyond the article"
    beyond = [i for i in IDS if i not in ARTICLE_ORDER]
    assert re.findall(r'<a href="([^"]+)\.svg"><img', tail) == beyond
    assert all(f'href="{i}.svg"><img' not in tail for i in ARTICLE_ORDER)
    page_text = files["index.html"].decode("utf-8")
    heading = page_text.index('<h2 class="part" id="beyond">')
    assert all(page_text.index(f'id="{i}"') < heading for i in ARTICLE_ORDER)
    assert all(page_text.index(f'id="{i}"') > heading for i in beyond)


@pytest.mark.parametrize(
    ("article", "expected"),
    [(True, "≈12M"), (False, "—")],  # the article gives no figure: rounded here, or not in the article at all
)
def test_article_cell_without_a_figure(article, expected):
    from cnnviz.gallery.readme import article_cell

    assert article_cell(replace(HOSTILE, article_params=None, params=11_689_512, article=article)) == expected
