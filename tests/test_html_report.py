"""`plan --format html --out plan.html` (issue 23): one self-contained page, opened in a real headless
Chromium (the system's `chromium` package; .ci/run installs it). It renders (the screenshot is not
blank), logs nothing to the console, fetches nothing, and fits a phone's width.

Without Chromium the browser tests skip on a workstation and fail under CI=true. Regenerate the
screenshot in the docs with `SCHEMASYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_html_report.py`.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "plan-report.png"
UPDATE = bool(os.environ.get("SCHEMASYNC_UPDATE_GOLDEN"))


def chromium() -> str:
    """The browser's path; a missing browser fails under CI (the test must run there), else skips."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "no chromium on PATH (apt-get install -y chromium chromium-driver; .ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run_chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on a local file, its console messages logged to stderr."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--enable-logging=stderr", "--v=0", f"--user-data-dir={page.parent / 'chromium-profile'}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    """What the page logged: Chromium prints each console message as an INFO:CONSOLE line."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB(A) PNG, unfiltered (no imaging library needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IDAT":
            idat += body
        chunks.setdefault(kind, body)
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    step = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * step, [], bytearray(width * step)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            line[i] = (line[i] + _predict(kind, left, up, corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    guess = left + up - corner
    distances = (abs(guess - left), abs(guess - up), abs(guess - corner))
    return (left, up, corner)[distances.index(min(distances))]


@pytest.fixture
def blog_report(sqlite_project) -> tuple[Path, str]:
    """The blog fixture's v1 -> v2 plan as an HTML page, and its plan hash."""
    v1 = sqlite_project.copy_fixture("blog/models.py")
    assert sqlite_project.cli("apply", "--yes", models=v1).exit_code == 0
    v2 = sqlite_project.copy_fixture("blog/models_v2.py")
    result = sqlite_project.cli("plan", "--format", "html", "--out", "plan.html", models=v2)
    assert result.exit_code == 0, result.output
    assert "Report written to plan.html" in result.stderr and result.stdout == ""
    plan_hash = re.search(r"sha256:[0-9a-f]{64}", sqlite_project.cli("plan", "-q", models=v2).stdout)
    assert plan_hash
    return sqlite_project.path / "plan.html", plan_hash[0]


def test_the_page_holds_everything_and_fetches_nothing(blog_report):
    page, plan_hash = blog_report
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert plan_hash in html
    assert "1 to add, 2 to change, 0 to destroy" in html
    for text in ("create table comments (5 columns)", "rebuild table articles (copy rows)", "create index ix_articles_title (title)",
                 "table-rewrite", "CREATE TABLE comments", "<svg", "erDiagram"):
        assert text in html, text
    # No network: no script, stylesheet, image or frame from anywhere; the only URL is the SVG namespace (never fetched).
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert re.findall(r"https?://[^\s\"'<]+", html) == ["http://www.w3.org/2000/svg"]


def test_chromium_renders_the_page_on_a_phone(blog_report, tmp_path):
    page, plan_hash = blog_report
    shot = tmp_path / "phone.png"
    result = run_chromium(page, "--window-size=390,1400", f"--screenshot={shot}")
    assert shot.exists(), result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (390, 1400)
    colours = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 21)}
    assert len(colours) > 20, "the screenshot is blank"
    # The document Chromium built from the file holds the hash and the diagram source.
    dom = run_chromium(page, "--window-size=390,1400", "--dump-dom")
    assert plan_hash in dom.stdout and "erDiagram" in dom.stdout
    assert console_messages(dom.stderr) == []
    if UPDATE:
        full = run_chromium(page, "--window-size=820,1100", f"--screenshot={SCREENSHOT}")
        assert SCREENSHOT.exists(), full.stderr[-2000:]
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size < 300_000, "docs/plan-report.png: regenerate with SCHEMASYNC_UPDATE_GOLDEN=1"


def test_chromium_reports_console_errors_so_a_silent_page_means_something(tmp_path):
    """The console check above can fail: a page that logs an error is seen as such."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom')</script></body></html>")
    messages = console_messages(run_chromium(page, "--dump-dom").stderr)
    assert any('"boom"' in line for line in messages), messages
