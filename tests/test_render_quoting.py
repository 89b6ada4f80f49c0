"""Escaping: every label goes through cnnviz.drawing.quoting, and user text stays plain text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from cnnviz.drawing.quoting import Html, attr, attrs, escape, ident, join, num, quote, tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("conv block", "conv block"),
        ("Inception-A", "Inception-A"),
        ("a & b", "a &amp; b"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('say "hi"', "say &quot;hi&quot;"),
        ("it's", "it&#39;s"),
        ("back\\slash", "back&#92;&#8203;slash"),
        ("\\N \\G \\l", "&#92;&#8203;N &#92;&#8203;G &#92;&#8203;l"),
        ("{braces}", "&#123;braces&#125;"),
        ("a|b", "a&#124;b"),
        ("&amp;", "&amp;amp;"),
        ("two\nlines", "two lines"),
        ("bell\x07", "bell\ufffd"),
        ("3×3 ⊕ ü", "3×3 ⊕ ü"),
        ("", ""),
        (42, "42"),
    ],
)
def test_escape(text, expected):
    assert escape(text) == expected
    assert isinstance(escape(text), Html)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('q"uote', '"q\\"uote"'),
        ("back\\slash", '"back\\\\\u200bslash"'),
        ("\\N", '"\\\\\u200bN"'),
        ("a&b", '"a&amp;b"'),
        ("<b>", '"&lt;b&gt;"'),
        ("line\nbreak", '"line\\nbreak"'),
    ],
)
def test_quote(text, expected):
    assert quote(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("n0", "n0"), ("cluster_c1", "cluster_c1"), ("has space", '"has space"'), ("1abc", '"1abc"'), ('x"y', '"x\\"y"')],
)
def test_ident(name, expected):
    assert ident(name) == expected


def test_escape_is_idempotent_on_markup():
    once = escape("<b>")
    assert escape(once) == once  # Html passes through; it is never escaped twice


def test_join_escapes_plain_parts_only():
    assert join(tag("b", "<x>"), " & ", Html("<br/>")) == "<b>&lt;x&gt;</b> &amp; <br/>"


def test_tag_escapes_attribute_values_and_rejects_unknown_tags():
    assert tag("font", "x", color='"><script>') == '<font color="&quot;&gt;&lt;script&gt;">x</font>'
    assert tag("font", "x", point_size=9) == '<font point-size="9">x</font>'
    assert tag("br") == "<br/>"
    with pytest.raises(ValueError):
        tag("script", "alert(1)")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Html("<b>x</b>"), "<<b>x</b>>"), ("x", '"x"'), (True, "true"), (3, "3"), (0.5, "0.5"), (1 / 3, "0.333"), (-0.0001, "0")],
)
def test_attr(value, expected):
    assert attr(value) == expected


def test_attrs_sorted_and_skip_none():
    assert attrs({"b": 1, "a": "x", "c": None}) == ' [a="x", b=1]'
    assert attrs({}) == ""


@pytest.mark.parametrize(("x", "expected"), [(1.0, "1"), (2.5, "2.5"), (0.1234, "0.123"), (100, "100")])
def test_num(x, expected):
    assert num(x) == expected


EVIL = ['"><script>alert(1)</script>', "a\\b {c} <d> 'e' & \\N"]


def _spec(tmp_path, label, layer_name):
    path = tmp_path / "evil.yaml"
    path.write_text(
        f"""name: {json.dumps(label)}
input: [3, 32, 32]
modules:
  blk:
    label: {json.dumps(label)}
    layers:
      - conv 8 3x3
layers:
  - conv: {{filters: 8, kernel: 3}}
    name: {json.dumps(layer_name)}
  - blk x2
  - gap
  - dense 10
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("evil", EVIL)
def test_user_text_never_becomes_markup_in_dot(tmp_path, evil):
    from cnnviz.drawing import Diagram

    src = Diagram(_spec(tmp_path, evil, "stem")).source()
    assert "<script>" not in src
    assert "&lt;script&gt;" in src or "script" not in evil


@pytest.mark.dot
@pytest.mark.parametrize("evil", EVIL)
def test_user_text_renders_as_plain_text_in_svg(tmp_path, evil):
    from cnnviz.drawing import Diagram

    svg = Diagram(_spec(tmp_path, evil, "stem")).svg()
    root = ET.fromstring(svg.encode("utf-8"))  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert not list(root.iter(f"{ns}script"))
    texts = ["".join(t.itertext()).replace("\u200b", "") for t in root.iter(f"{ns}text")]
    assert any(evil in t for t in texts), texts  # the module label, exactly as written
    titles = [a.replace("\u200b", "") for e in root.iter() for k, a in e.attrib.items() if k.endswith("title")]
    assert any(evil in t for t in titles)  # the module's label, in its box's tooltip


@pytest.mark.parametrize("evil", EVIL)
def test_user_text_as_a_layer_name_is_refused_with_its_place(tmp_path, evil):
    """Names end up in paths, ids and tooltips; the spec stage accepts only plain names."""
    from cnnviz.drawing import Diagram
    from cnnviz.errors import SpecError

    with pytest.raises(SpecError) as info:
        Diagram(_spec(tmp_path, "fine", evil))
    (line,) = info.value.lines()
    assert line.startswith(f"{tmp_path / 'evil.yaml'}:9:") and "not a valid name" in line
