"""`cnnviz render` and the Python API end to end: files, formats, atomic writes, same bytes twice."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnnviz
from cnnviz import files
from cnnviz.cli import cli
from cnnviz.drawing import Diagram, Figure, Paint, engine
from cnnviz.errors import OutputError
from cnnviz.registry import list_models

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args, **kw):
    return CliRunner().invoke(cli, list(args), **kw)


def parse_svg(text: str):
    return ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)


def test_help_says_what_pdf_needs():
    result = run("render", "--help")
    assert result.exit_code == 0
    assert "PDF" in result.output.upper() and "apt-get install graphviz" in result.output
    for option in ("--detail", "--direction", "--shapes", "--params", "--no-aux", "--engine", "--format"):
        assert option in result.output


def test_format_conflict_is_a_usage_error(tmp_path):
    result = run("render", "lenet5", "-o", str(tmp_path / "x.png"), "--format", "svg")
    assert result.exit_code == 2
    assert "says png" in result.output


def test_unknown_suffix_is_a_usage_error(tmp_path):
    result = run("render", "lenet5", "-o", str(tmp_path / "x.bmp"))
    assert result.exit_code == 2


def test_bad_spec_is_reported_and_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\ninput: [3, 8, 8]\nlayers:\n  - conv 8 3x3 bogus\n", encoding="utf-8")
    result = run("render", str(bad), "-o", str(tmp_path / "out.svg"))
    assert result.exit_code == 1
    assert "bad.yaml:4:" in result.output
    assert not (tmp_path / "out.svg").exists()


def test_json_needs_no_engine(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "find", lambda *a: pytest.fail("json must not run the engine"))
    result = run("render", "resnet50", "--format", "json", "-o", "-")
    assert result.exit_code == 0
    obj = json.loads(result.output)
    assert obj["id"] == "resnet50" and obj["detail"] == "compact"
    assert [p["title"] for p in obj["panels"]] == ["conv block", "identity block"]
    counts = [n.get("count", 1) for n in obj["main"]["nodes"] if n["kind"] == "module"]
    assert counts == [1, 2, 1, 3, 1, 5, 1, 2]
    assert {e["category"] for e in obj["legend"]} >= {"conv", "pool", "module"}


@pytest.mark.skipif(shutil.which("dot") is not None, reason="system Graphviz is installed")
def test_pdf_without_system_graphviz_says_how_to_get_it(tmp_path):
    result = run("render", "lenet5", "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.output
    assert not list(tmp_path.iterdir())


def test_missing_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(engine, "_script_dirs", lambda: ["/nonexistent"])
    monkeypatch.setenv("PATH", "")
    with pytest.raises(engine.EngineError, match="graphviz-pure"):
        engine.find(engine.PURE)


def test_finds_graphviz_pure_next_to_python():
    path = engine.find(engine.PURE)
    assert os.path.basename(path).startswith("graphviz-pure")


def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "d.svg"
    files.write_atomic(target, b"one")
    files.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["d.svg"]


def test_failed_write_keeps_the_good_file(tmp_path, monkeypatch):
    target = tmp_path / "d.svg"
    target.write_bytes(b"good")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(OutputError, match="disk full"):
        files.write_atomic(target, b"new")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["d.svg"]


@pytest.mark.dot
def test_engine_failure_never_clobbers_a_good_file(tmp_path, monkeypatch):
    target = tmp_path / "lenet5.svg"
    target.write_bytes(b"good")
    monkeypatch.setattr(engine, "find", lambda *a: shutil.which("false") or "/bin/false")
    result = run("render", "lenet5", "-o", str(target))
    assert result.exit_code == 1
    assert "failed" in result.output
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["lenet5.svg"]


@pytest.mark.dot
def test_default_output_is_id_svg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("render", "resnet50")
    assert result.exit_code == 0, result.output
    assert "wrote resnet50.svg" in result.output
    root = parse_svg((tmp_path / "resnet50.svg").read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")


@pytest.mark.dot
def test_output_folder_and_suffix(tmp_path):
    result = run("render", "lenet5", "-o", str(tmp_path))
    assert result.exit_code == 0
    assert (tmp_path / "lenet5.svg").exists()
    result = run("render", "lenet5", "-o", str(tmp_path / "l.png"))
    assert result.exit_code == 0
    assert (tmp_path / "l.png").read_bytes().startswith(PNG)


@pytest.mark.dot
def test_stdout_svg_and_dot():
    result = run("render", "lenet5", "-o", "-")
    assert result.exit_code == 0
    parse_svg(result.output)
    result = run("render", "lenet5", "-o", "-", "--format", "dot")
    assert result.exit_code == 0
    assert result.output.startswith("// cnnviz diagram")
    assert "pos=" in result.output and "neato -n2" in result.output


@pytest.mark.dot
@pytest.mark.parametrize("ident", list_models())
def test_every_catalogue_svg_parses_and_is_stable(ident):
    first = Diagram(ident).svg()
    root = parse_svg(first)
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert cnnviz.load_spec(ident).name in texts  # the title line
    assert Diagram(ident).svg() == first  # same spec, same engine: same bytes


@pytest.mark.dot
def test_png_twice_same_bytes():
    a = Diagram("inception_v4").png()
    assert a.startswith(PNG)
    assert Diagram("inception_v4").png() == a


@pytest.mark.dot
@pytest.mark.parametrize("detail", ["modules", "full"])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_other_levels_and_directions(detail, direction):
    parse_svg(Diagram("inception_v3", detail=detail, direction=direction).svg())


@pytest.mark.dot
def test_shapes_and_params_labels():
    d = Diagram("resnet50", shapes=True, params=True)
    text = " ".join("".join(t.itertext()) for t in parse_svg(d.svg()).iter("{http://www.w3.org/2000/svg}text"))
    assert "64×56×56" in text  # the max pool's output, on its edge
    assert "2048×7×7" in text
    assert "25.6M parameters" in text
    assert "8.9M" in text  # the last "identity block ×2": both instances
    assert "2M" in text  # the FC layer
    assert "9.5k" in text and "9.7k" not in text  # conv1: 9,408 weights + 128 of its batch norm, counted once


@pytest.mark.dot
def test_python_api_and_jupyter():
    svg = cnnviz.render("lenet5")
    assert svg._repr_svg_().startswith("<?xml")
    importlib.import_module("cnnviz.drawing")  # importing the drawing package leaves cnnviz.render the function

    assert cnnviz.render.__module__ == "cnnviz"
    assert cnnviz.render("lenet5") == svg
    d = cnnviz.diagram("lenet5")
    assert d._repr_svg_() == svg


@pytest.mark.dot
def test_save_picks_format_from_suffix(tmp_path):
    d = Diagram("lenet5")
    assert d.save(tmp_path / "a.png").read_bytes().startswith(PNG)
    assert json.loads(d.save(tmp_path / "a.json").read_text(encoding="utf-8"))["id"] == "lenet5"
    assert d.save(tmp_path / "a.gv").read_text(encoding="utf-8").startswith("// cnnviz")


@pytest.mark.dot
def test_engine_dot_uses_system_graphviz_from_path(tmp_path, monkeypatch):
    # a stand-in 'dot' on PATH that forwards to graphviz-pure (same command line)
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec '{engine.find(engine.PURE)}' \"$@\"\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert engine.find(engine.SYSTEM) == str(fake)
    svg = Diagram("lenet5", engine="dot").svg()
    assert svg == Diagram("lenet5").svg()  # same layout code, so the same picture
    result = run("render", "lenet5", "-o", str(tmp_path / "l.pdf"))  # pdf goes to 'dot', which cannot here
    assert result.exit_code == 1 and "dot failed" in result.output
    assert not (tmp_path / "l.pdf").exists()


@pytest.mark.dot
def test_a_very_long_main_line_wraps_into_rows():
    d = Diagram("resnet152", detail="full")
    composed = d._composed("graphviz-pure")
    width = float(composed.graph["bb"].split(",")[2])
    height = float(composed.graph["bb"].split(",")[3])
    ports = [n for n, _, _ in composed.nodes if n.endswith("_w_out")]
    assert len(ports) >= 5
    assert width < 3000 and height > width / 3  # a page, not a twenty-metre strip
    assert Diagram("resnet50").dot() == Diagram("resnet50").dot()
    assert "_w_out" not in Diagram("inception_v4").dot()  # a short line over tall panels does not wrap


def test_shapes_without_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cnnviz.shapes", None)  # import fails as if torch were missing
    monkeypatch.delattr(cnnviz, "shapes", raising=False)  # (once imported, the package holds it too)
    result = run("render", "lenet5", "--shapes", "-o", "-")
    assert result.exit_code == 1
    assert "pip install torch" in result.output


@pytest.mark.parametrize(
    ("declared", "shapes", "expected"),
    [
        (None, False, "61.7k parameters · input"),  # the catalogue's count, checked by the test-suite
        ("12345", False, "12.3k parameters (declared)"),  # a user's count, unchecked: marked as declared
        ("12345", True, "61.7k parameters · input"),  # the shape pass ran: its count, not the declared one
        ("", False, "input 1×32×32"),  # nothing known: no count at all
    ],
    ids=["catalogue", "declared", "computed", "unknown"],
)
def test_title_shows_the_computed_or_the_declared_parameter_count(tmp_path, declared, shapes, expected):
    from cnnviz.drawing.view import subtitle

    arch = "lenet5"
    if declared is not None:
        text = (Path(__file__).resolve().parent.parent / "arch_specs" / "lenet5.yaml").read_text(encoding="utf-8")
        assert "  params: 61706\n" in text
        arch = str(tmp_path / "lenet5.yaml")
        Path(arch).write_text(text.replace("  params: 61706\n", f"  params: {declared}\n" if declared else ""), encoding="utf-8")
    sub = subtitle(Diagram(arch, shapes=shapes).view)
    assert expected in sub
    assert ("parameters" in sub) is bool(declared is None or declared or shapes)


@pytest.mark.dot
def test_figure_puts_several_diagrams_in_rows():
    a, b = Diagram("vgg16", legend=False), Diagram("lenet5", legend=False, paint=lambda d: Paint("#0a0b0c", "#0d0e0f") if d else None)
    rows = [[p] for p in a.pieces()] + [b.pieces()]  # a's pieces one per row, b's side by side in one row
    figure = Figure(rows)

    def size(f):
        _, _, w, h = (float(x) for x in f.composed().graph["bb"].split(","))
        return w, h

    stacked = Figure([[p] for p in a.pieces()] + [[p] for p in b.pieces()])
    assert size(figure)[1] < size(stacked)[1]  # b's title and main line share a row
    assert size(figure)[0] >= size(Figure([b.pieces()]))[0] > max(size(Figure([[p]]))[0] for p in b.pieces())
    svg = figure.render("svg").decode()
    root = parse_svg(svg)
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "VGG-16" in texts and "LeNet-5" in texts
    assert "#0a0b0c" in svg and figure.render("svg") == Figure(rows).render("svg")
    assert figure.dot().startswith("// cnnviz diagram") and figure.render("png").startswith(PNG)


@pytest.mark.dot
def test_figure_wraps_a_long_main_line_as_render_does():
    d = Diagram("resnet152", detail="full", legend=False, title=False)
    own = [n for n, _, _ in d._composed("graphviz-pure").nodes if n.endswith("_w_out")]
    (main,) = d.pieces()
    composed = Figure([[main]]).composed()
    rows = [n for n, _, _ in composed.nodes if n.endswith("_w_out")]
    assert len(rows) == len(own) >= 5
    assert float(composed.graph["bb"].split(",")[2]) < 3000


ROOT_CASES = Path(__file__).parent / "cases" / "valid"


@pytest.mark.parametrize(
    "target, says",
    [
        ("/dev/null", "/dev/null: is not a regular file (a device, FIFO or socket); refusing to replace it"),
        ("nodir/", "nodir/: no such folder"),
        ("net.yaml", "net.yaml: is the input spec; refusing to overwrite it"),
    ],
    ids=["device", "missing-folder", "input-spec"],
)
def test_render_refuses_outputs_it_must_not_write(tmp_path, monkeypatch, target, says):
    monkeypatch.chdir(tmp_path)
    spec = ROOT_CASES / "tiny_resnet.yaml"
    shutil.copy(spec, tmp_path / "net.yaml")
    before = sorted(os.listdir(tmp_path))
    result = run("render", "net.yaml", "--format", "svg", "-o", target)
    assert result.exit_code == 1
    assert result.output.splitlines() == [says]
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "net.yaml").read_bytes() == spec.read_bytes()


def test_a_full_disk_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    import errno

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / "x.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "write", full)
    result = run("render", "lenet5", "-o", str(target))
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"{target}: cannot write: No space left on device"]
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.json"]


def test_a_folder_it_may_not_write_in_is_one_line(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
    else:  # root may write anywhere: make os.access say what it says to anyone else
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real(p, mode))
    try:
        result = run("render", "lenet5", "-o", str(folder / "x.json"))
    finally:
        os.chmod(folder, 0o755)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"{folder / 'x.json'}: cannot write in folder {folder} (permission denied)"]
    assert os.listdir(folder) == []


def test_a_killed_runs_temporary_file_is_removed_by_the_next(tmp_path):
    stale = tmp_path / ".lenet5.json.abcdefgh.tmp"  # what SIGKILL during a write leaves behind
    stale.write_bytes(b"half")
    old = os.path.getmtime(stale) - 3600
    os.utime(stale, (old, old))
    other = tmp_path / ".notes.txt.abcdefgh.tmp"
    other.write_bytes(b"not render's")
    os.utime(other, (old, old))
    result = run("render", "lenet5", "-o", str(tmp_path / "lenet5.json"))
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == [other.name, "lenet5.json"]
