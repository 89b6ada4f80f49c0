"""gallery/index.html in a real headless browser (Debian's chromium): no console errors,
every diagram displayed with a non-zero size that fits the page, and a screenshot.

Skipped only when no chromium binary exists; .ci/run installs it, so CI runs these."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cnnviz.gallery import catalogue

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

# Injected first in <head>: records script errors, failed resource loads and console.error.
CATCH = """<script>
window.__errors = [];
addEventListener("error", (e) => __errors.push(e.message || "failed to load " + ((e.target && (e.target.src || e.target.href)) || "?")), true);
addEventListener("unhandledrejection", (e) => __errors.push("unhandled rejection: " + e.reason));
const __error = console.error; console.error = (...a) => { __errors.push(a.join(" ")); __error.apply(console, a); };
</script>"""

# Injected last in <body>: once the page has loaded (failed images included), measures every
# diagram and writes the findings into the DOM, where --dump-dom shows them.
PROBE = """<script>
addEventListener("load", () => {
  const figures = [...document.querySelectorAll("article.card")].map((card) => {
    const svg = card.querySelector("figure svg"), box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const fig = card.querySelector("figure").getBoundingClientRect();
    return {id: card.id, title: card.querySelector("h2 a").getAttribute("href"), width: box.width, height: box.height, room: fig.width};
  });
  const findings = {errors: window.__errors, figures, overflow: document.documentElement.scrollWidth - innerWidth};
  const pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(findings);
  document.body.append(pre);
});
</script>"""


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile{len(list(tmp.glob('profile*')))}"
    profile.mkdir()
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180, check=False
    )


def probe(page: Path, tmp: Path, width: int) -> tuple[dict, list[str]]:
    """Load ``page`` with the probes injected: (findings, console lines chromium logged)."""
    text = page.read_text(encoding="utf-8")
    probed = page.with_name("probed.html")
    probed.write_text(text.replace("<head>", "<head>\n" + CATCH, 1).replace("</body>", PROBE + "\n</body>", 1), encoding="utf-8")
    proc = chromium(tmp, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", f"--window-size={width},3000", "--dump-dom", probed.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"the probe did not run (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(match[1].replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")), console


@pytest.fixture
def site(tmp_path) -> Path:
    """A copy of the committed gallery (the page links to the SVGs beside it)."""
    shutil.copytree(ROOT / "gallery", tmp_path / "gallery")
    return tmp_path / "gallery"


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")


@needs_chromium
@pytest.mark.parametrize("width", [1400, 420], ids=["desktop", "phone"])
def test_page_loads_clean_and_shows_every_diagram(site, tmp_path, width):
    findings, console = probe(site / "index.html", tmp_path, width)
    assert findings["errors"] == [] and console == []
    ids = catalogue()
    assert [f["id"] for f in findings["figures"]] == ids
    for f in findings["figures"]:
        assert f["width"] > 50 and f["height"] > 20, f  # displayed, with a real size
        assert f["width"] <= f["room"] + 0.5, f  # scaled to fit its card
        assert f["title"] == f"{f['id']}.svg" and (site / f["title"]).is_file()
    assert findings["overflow"] <= 0, "the page scrolls sideways"


@needs_chromium
def test_the_probe_can_fail(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><script>console.error("boom")</script></head><body>'
        '<article class="card" id="x"><h2><a href="x.svg">X</a></h2><figure><svg width="0" height="0"></svg></figure></article>'
        '<img src="missing.png"></body></html>',
        encoding="utf-8",
    )
    findings, console = probe(bad, tmp_path, 800)
    assert "boom" in findings["errors"] and any("missing.png" in e for e in findings["errors"])
    assert any("boom" in line for line in console)
    assert findings["figures"][0]["width"] == 0


@needs_chromium
def test_screenshot(site, tmp_path):
    shot = tmp_path / "gallery.png"
    proc = chromium(tmp_path, "--window-size=1400,3000", f"--screenshot={shot}", (site / "index.html").as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000  # a blank or unstyled page compresses to far less
