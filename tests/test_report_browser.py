"""``teer report`` in a real browser: headless Chromium (Debian's ``chromium`` package, which
``.ci/run`` installs) loads the page from disk, draws every file's timeline without a script
error, and takes a screenshot kept as an artefact of the run.

The page counts script errors in ``body[data-errors]`` (a ``window`` error listener set
before anything else runs), the timelines it drew in ``body[data-timelines]``, and sets
``body[data-ready]`` once its script has run to the end; ``--dump-dom`` shows them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from teer.cli import main

from .test_report import blocks, inputs  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--virtual-time-budget=5000"]


@pytest.fixture(scope="module")
def chromium() -> str:
    for path in (os.environ.get("TEER_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but Chromium is missing: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("Chromium not found (/usr/bin/chromium): apt-get install -y chromium to run the browser tests")


def browse(chromium: str, page: Path, tmp_path: Path, *flags: str, fragment: str = "") -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh one each run
    out = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *flags, page.resolve().as_uri() + fragment],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def body_of(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def test_every_timeline_renders_without_script_error(chromium, inputs, tmp_path):  # noqa: F811
    ref, hyp, uem = inputs
    page = tmp_path / "r.html"
    assert main(["report", str(ref), str(hyp), "--collar", "0.25", "--uem", str(uem), "-o", str(page)]) == 0
    names = blocks(page.read_text(encoding="utf-8"))["teer-data"]["timelines"]
    dom = browse(chromium, page, tmp_path, "--dump-dom", fragment="#all")
    body = body_of(dom)
    assert body["data-errors"] == "0" and "script-errors\" class=\"warning\" hidden" in dom
    assert body["data-ready"] == "1"
    assert body["data-timelines"] == str(len(names)) and len(names) == 6
    for name in names:
        svg = re.search(rf'<svg class="timeline" data-file="{re.escape(name)}"[^>]*>(.*?)</svg>', dom, re.S)
        assert svg, name
        drawn = svg.group(1)
        assert len(re.findall(r'<rect class="seg"', drawn)) > 0, name
    # the bands of the corpus's errors, the time outside the UEM and the collars are drawn
    for kind in ("b0", "b1", "b2", "b3", "g0", "g3"):
        assert f'class="{kind}"' in dom, kind

    # a link to one file draws that file only, and a link to a window of it that window
    dom = browse(chromium, page, tmp_path, "--dump-dom", fragment="#file=file2")
    assert body_of(dom)["data-errors"] == "0"
    assert re.findall(r'<svg class="timeline" data-file="([^"]*)"', dom) == ["file2"]
    whole = re.search(r'<svg class="timeline" data-file="file2"[^>]*data-window="([^"]*)"', dom).group(1)
    dom = browse(chromium, page, tmp_path, "--dump-dom", fragment="#file=file2&from=5&to=7.5")
    assert body_of(dom)["data-errors"] == "0"
    svg = re.search(r'<svg class="timeline" data-file="file2"[^>]*data-window="([^"]*)"[^>]*>(.*?)</svg>', dom, re.S)
    assert svg.group(1) == "5.000 7.500" != whole
    ticks = [float(t) for t in re.findall(r'<text x="[^"]*" y="13" text-anchor="middle">([^<]*)</text>', svg.group(2))]
    assert ticks and all(5 <= t <= 7.5 for t in ticks)
    line = blocks(page.read_text(encoding="utf-8"))[f"teer-file-{names.index('file2')}"]
    inside = sum(1 for lane in line["lanes"] for k in range(0, len(lane[3]), 3)
                 if lane[3][k + 1] > 5 and lane[3][k] < 7.5)
    assert len(re.findall(r'<rect class="seg"', svg.group(2))) == inside > 0  # only what is in the window


def test_a_script_error_is_caught(chromium, tmp_path):
    """The check above can fail: a page whose file data is broken reports the error."""
    page = tmp_path / "r.html"
    assert main(["report", str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"), "-o", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    broken = re.sub(r'(id="teer-file-1">\{.*?"lanes":)\[', r"\1 7,[", text, count=1)
    assert broken != text
    page.write_text(broken, encoding="utf-8")
    body = body_of(browse(chromium, page, tmp_path, "--dump-dom", fragment="#all"))
    assert body["data-errors"] != "0" and body["data-timelines"] == "1"


def test_screenshot(chromium, tmp_path):
    """The README's picture: the examples with a 0.25 s collar. Kept under
    $TEER_TEST_ARTIFACTS (``.ci/run`` sets it) or the test's temporary folder."""
    page = tmp_path / "report.html"
    assert main(["report", str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"), "--collar", "0.25",
                 "-o", str(page)]) == 0
    folder = Path(os.environ.get("TEER_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "teer-report.png"
    browse(chromium, page, tmp_path, f"--screenshot={shot}", "--window-size=1280,1100", fragment="#file=dialog1")
    print(f"screenshot: {shot}")
    from matplotlib.image import imread

    image = imread(shot)
    assert image.shape[:2] == (1100, 1280)
    rgb = np.round(image[..., :3] * 255).astype(int)
    # the timeline is drawn: pixels of the first emotion's colour (#4e79a7, neu) and of the missed band
    for colour in ((0x4e, 0x79, 0xa7), (0xc0, 0x39, 0x2b)):
        assert np.any(np.all(np.abs(rgb - colour) <= 2, axis=-1)), colour


def test_zoom_pan_hover_and_sort_with_real_input_events(chromium, tmp_path):
    """Mouse and wheel events as a user sends them (DevTools ``Input.dispatchMouseEvent``)."""
    from .cdp import Browser

    page = tmp_path / "r.html"
    assert main(["report", str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"), "--collar", "0.25",
                 "-o", str(page)]) == 0
    browser = Browser(chromium, tmp_path / "profile", [f for f in FLAGS if not f.startswith("--virtual")])
    try:
        browser.open(page.resolve().as_uri() + "#file=dialog1", "document.body.dataset.ready === '1'")
        svg = "document.querySelector('svg.timeline')"

        def window() -> tuple[float, float]:
            return tuple(map(float, browser.evaluate(f"{svg}.getAttribute('data-window')").split()))

        def point(t: float, selector: str = svg) -> tuple[float, float]:
            """The screen point of time t (by the axis' own mapping) in the middle of ``selector``."""
            box = browser.evaluate(f"(function(){{var r={selector}.getBoundingClientRect();"
                                   "return [r.left, r.top, r.width, r.height];})()")
            t0, t1 = window()
            return box[0] + 180 + (t - t0) / (t1 - t0) * (box[2] - 180 - 4), box[1] + box[3] / 2

        browser.evaluate("document.querySelector('.tl').scrollIntoView()")  # events land in the viewport
        whole = window()
        assert whole == (-0.25, 15.75)
        x, y = point(8.0)
        browser.mouse("mouseWheel", x, y, deltaX=0, deltaY=-400)  # zoom in around 8 s
        zoomed = window()
        assert zoomed[1] - zoomed[0] < 0.8 * (whole[1] - whole[0])  # one notch: x0.67
        assert zoomed[0] < 8.0 < zoomed[1]
        browser.mouse("mouseMoved", x, y)
        browser.mouse("mousePressed", x, y, button="left", buttons=1, clickCount=1)
        browser.mouse("mouseMoved", x + 150, y, button="left", buttons=1)
        browser.mouse("mouseReleased", x + 150, y, button="left", buttons=0, clickCount=1)
        panned = window()
        assert panned[0] < zoomed[0] and panned[1] - panned[0] == pytest.approx(zoomed[1] - zoomed[0], abs=1e-3)
        # the address follows the window, so that a link shows the same
        time.sleep(0.5)
        assert browser.evaluate("location.hash").startswith("#file=dialog1&from=")

        # hover over a segment: its details
        rect = browser.evaluate("(function(){var r=document.querySelector('rect.seg').getBoundingClientRect();"
                                "return [r.left + r.width / 2, r.top + r.height / 2];})()")
        browser.mouse("mouseMoved", *rect)
        tip = browser.evaluate("[document.getElementById('tooltip').hidden, "
                               "document.getElementById('tooltip').textContent]")
        assert tip[0] is False and "emotion:" in tip[1] and "start" in tip[1], tip

        # the whole-file button, then a click on the overview centres the window there
        browser.evaluate("document.querySelector('button[data-act=fit]').click()")
        assert window() == whole
        browser.evaluate("document.querySelector('button[data-act=in]').click()")
        half = window()
        box = browser.evaluate("(function(){var r=document.querySelector('svg.overview').getBoundingClientRect();"
                               "return [r.left, r.top, r.width, r.height];})()")
        x = box[0] + 180 + (13.0 - whole[0]) / (whole[1] - whole[0]) * (box[2] - 180 - 4)
        browser.mouse("mousePressed", x, box[1] + box[3] / 2, button="left", buttons=1, clickCount=1)
        browser.mouse("mouseReleased", x, box[1] + box[3] / 2, button="left", buttons=0, clickCount=1)
        moved = window()
        assert moved != half and moved[0] < 13.0 < moved[1]

        # sorting the file table by TEER, descending on the second click
        order = "Array.from(document.querySelectorAll('#file-table tbody tr')).map(r => r.dataset.file)"
        browser.evaluate("document.querySelectorAll('#file-table thead th')[1].click()")
        assert browser.evaluate(order) == ["dialog1", "dialog2"]
        browser.evaluate("document.querySelectorAll('#file-table thead th')[1].click()")
        assert browser.evaluate(order) == ["dialog2", "dialog1"]
        assert browser.evaluate("document.body.dataset.errors") == "0"
    finally:
        browser.close()


def test_many_files_are_drawn_as_they_scroll_into_view(chromium, tmp_path):
    """Beyond 40 files, ``#all`` draws each timeline as it comes near the screen: all of them
    once scrolled through, with no script error."""
    from .cdp import Browser
    from .test_report import write_json, write_rttm

    rows = [dict(file=f"f{k:02d}", start=float(s), end=float(s) + 1.5, speaker=spk, emotion=emotion)
            for k in range(45) for s, spk, emotion in ((0, "a", "neu"), (2, "b", "hap"), (4, "a", "ang"))]
    ref = write_rttm(tmp_path / "ref.rttm", rows)
    hyp = write_json(tmp_path / "hyp.json", [dict(r, start=r["start"] + 0.2, emotion="neu") for r in rows])
    page = tmp_path / "r.html"
    assert main(["report", str(ref), str(hyp), "-o", str(page)]) == 0
    browser = Browser(chromium, tmp_path / "profile", [f for f in FLAGS if not f.startswith("--virtual")])
    try:
        browser.open(page.resolve().as_uri() + "#all", "document.body.dataset.ready === '1'")
        # the first screenful is drawn by the observer, which a loaded machine may run late
        browser.wait_until("+document.body.dataset.timelines > 0")
        assert int(browser.evaluate("document.body.dataset.timelines")) < 45
        deadline = time.monotonic() + 120
        while int(browser.evaluate("document.body.dataset.timelines")) < 45 and time.monotonic() < deadline:
            browser.evaluate("window.scrollBy(0, 600)")
            time.sleep(0.02)
        assert int(browser.evaluate("document.body.dataset.timelines")) == 45
        assert browser.evaluate("document.querySelectorAll('svg.timeline').length") == 45
        assert browser.evaluate("document.querySelectorAll('.tl-wait').length") == 0
        assert browser.evaluate("document.body.dataset.errors") == "0"
    finally:
        browser.close()
