"""The HTML report laid out by a real browser: headless Chromium (Debian's `chromium`) at a phone's
width and a desktop's. Nothing may overflow the page sideways, and chart text must read at 11 px
or more. Screenshots are kept under test-artifacts/ (the test prints where)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

# Headless Chromium keeps its window at least 500 px wide, so the report is laid out in a frame of
# the width under test. Once loaded, the probe notes what overflows that frame sideways and the
# smallest chart text as drawn (font size times the SVG's scale).
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="%(page)s" style="width:%(width)dpx;height:2900px;border:0"></iframe>
<script>
window.addEventListener("load", () => {
  const doc = document.getElementById("page").contentDocument, root = doc.documentElement;
  const over = [...doc.querySelectorAll("body *")]
    .filter(e => !e.closest(".wide") && e.getBoundingClientRect().right > root.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase());
  const sizes = [...doc.querySelectorAll("svg text")]
    .map(t => t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize));
  document.body.setAttribute("data-layout", JSON.stringify({
    scroll: root.scrollWidth, client: root.clientWidth, over: over.slice(0, 10), texts: sizes.length,
    smallest: Math.min(...sizes)}));
});
</script></body></html>"""


def browse(browser: str, page: Path, profile: Path, *extra: str) -> str:
    done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--allow-file-access-from-files",
                           "--virtual-time-budget=10000", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    from tests.unit.review.conftest import review_app

    out = tmp_path_factory.mktemp("layout") / "report.html"
    result = CliRunner().invoke(review_app(), ["report", str(ROOT / "stacks" / "example.yaml"), "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("width", [375, 1400])
def test_report_fits_the_width_and_its_chart_text_reads(chromium, report_page, tmp_path, width):
    frame = report_page.parent / f"frame-{width}.html"
    frame.write_text(FRAME % {"page": report_page.name, "width": width}, encoding="utf-8")
    window = f"--window-size={max(width, 500)},1200"
    dom = browse(chromium, frame, tmp_path / "profile", window, "--dump-dom")
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found, dom[-2000:]
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["client"] == width
    assert layout["scroll"] <= layout["client"] and layout["over"] == [], layout
    assert layout["texts"] > 0 and layout["smallest"] >= 11, layout

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{width}px.png"
    browse(chromium, frame, tmp_path / "profile-shot", f"--window-size={max(width, 500)},3000", f"--screenshot={shot}")
    assert shot.stat().st_size > 1000
    print(f"screenshot of the report at {width} px: {shot}")
