"""save_backward_html: a self-contained page that steps through backprop, tested in Chromium.

The first tests read the file: one inline script allowed by its hash, no address to fetch,
one frame per step, escaped labels, an atomic write. The browser tests open the page in a
real headless Chromium, driven through the DevTools protocol over a pipe (standard library
only: no selenium, no websocket package): the buttons and the arrow keys move through
every frame, play runs to the end, a screenshot shows the picture's colours, no request
leaves the page, and a label holding a script shows as text and runs nothing. The driver is
``tests/chromium.py``.
"""

import base64
import hashlib
import os
import re
import stat
import time

import pytest

from engine import Value, backward_order
from tests.chromium import chromium_fixture, needs_chromium, png_pixels
from tests.viz_reading import (
    counter,
    needs_dot,
    step_through_with_buttons,
    visible_frames,
)
from viz import GraphvizNotFound, save_backward_html

SCRIPT_LABEL = "<script>alert(1)</script>"
IMG_LABEL = '<img src=x onerror="alert(2)">'


def readme_example(b_label="b"):
    a = Value(2.0, label="a")
    b = Value(-3.0, label=b_label)
    y = (a * b + a**2).tanh()
    y.label = "y"
    y.backward()
    return y


# ---- the file ------------------------------------------------------------------------------


@needs_dot
def test_the_page_is_one_file_with_one_frame_per_step(tmp_path):
    y = readme_example()
    page = save_backward_html(y, tmp_path / "y.html").read_text(encoding="utf-8")
    frames = re.findall(r'<section class="frame" id="frame-(\d+)"', page)
    assert frames == [str(k) for k in range(len(backward_order(y)) + 1)]
    assert page.count("<svg") == len(frames)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    sizes = re.findall(r'<svg width="[^"]+" height="[^"]+"\s+viewBox="[^"]+"', page)
    assert len(sizes) == len(frames) and len(set(sizes)) == 1   # one size: none scaled apart


@needs_dot
def test_the_page_fetches_nothing_and_allows_only_its_own_script(tmp_path):
    page = save_backward_html(readme_example(), tmp_path / "y.html").read_text()
    assert not re.search(r"<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import", page)
    # The only addresses are XML namespace names, which browsers never fetch.
    assert set(re.findall(r"https?://[^\s\"']+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'" in page


@needs_dot
def test_labels_and_captions_are_escaped_in_the_page(tmp_path):
    path = save_backward_html(readme_example(SCRIPT_LABEL), tmp_path / "y.html")
    page = path.read_text()
    assert page.count("<script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@needs_dot
def test_saving_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = tmp_path / "y.html"
    path.write_text("old page")
    save_backward_html(readme_example(), path)
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 or os.name == "nt"

    path.write_text("old page")

    def broken_rename(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_rename)
    with pytest.raises(OSError, match="disk full"):
        save_backward_html(readme_example(), path)
    assert path.read_text() == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["y.html"]   # no temp file left


def test_without_dot_saving_says_how_to_install_and_leaves_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    path = tmp_path / "y.html"
    path.write_text("old page")
    with pytest.raises(GraphvizNotFound, match="apt-get install"):
        save_backward_html(readme_example(), path)
    assert path.read_text() == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["y.html"]


@pytest.mark.parametrize("interval", [0, -5, 1.5, "fast"])
def test_the_play_interval_must_be_a_positive_int(interval, tmp_path):
    with pytest.raises(ValueError, match=re.escape(repr(interval))):
        save_backward_html(readme_example(), tmp_path / "y.html", interval_ms=interval)


# ---- a real browser ------------------------------------------------------------------------


browser = chromium_fixture()


def page_url(tmp_path, y, **options):
    return save_backward_html(y, tmp_path / "page.html", **options).as_uri()


@pytest.fixture(scope="module")
def readme_page(tmp_path_factory, browser):
    """The README example's page, made once for the tests that only read and click."""
    return page_url(tmp_path_factory.mktemp("page"), readme_example())


def assert_no_errors(browser):
    assert browser.errors() == []


@needs_chromium
def test_the_page_opens_on_step_0_with_one_frame_shown(browser, readme_page):
    browser.open(readme_page)
    assert browser.js("document.title") == "Backpropagation of y, step by step"
    assert counter(browser) == "step 0 of 4"
    assert visible_frames(browser) == [0]
    assert browser.js("document.querySelectorAll('.frame svg').length") == 5
    assert_no_errors(browser)


@needs_chromium
def test_the_buttons_move_through_every_frame_and_back(browser, readme_page):
    browser.open(readme_page)
    step_through_with_buttons(browser, "body", last=4)
    assert_no_errors(browser)


@needs_chromium
def test_the_arrow_keys_home_and_end_move_through_the_frames(browser, readme_page):
    browser.open(readme_page)
    seen = [visible_frames(browser)]
    for _ in range(5):   # one more than needed: the last frame stays
        browser.press("ArrowRight", 39)
        seen.append(visible_frames(browser))
    assert seen == [[0], [1], [2], [3], [4], [4]]
    browser.press("Home", 36)
    assert visible_frames(browser) == [0]
    browser.press("ArrowLeft", 37)
    assert visible_frames(browser) == [0]
    browser.press("End", 35)
    assert visible_frames(browser) == [4]
    browser.press("ArrowLeft", 37)
    assert visible_frames(browser) == [3]


@needs_chromium
def test_nodes_stay_in_place_from_frame_to_frame(browser, readme_page):
    browser.open(readme_page)
    centres = []
    for _ in range(5):
        centres.append(browser.js(
            "(function () { var out = {}; document.querySelectorAll('.frame:not([hidden]) "
            "g.node').forEach(function (g) { var r = g.getBoundingClientRect(); "
            "out[g.querySelector('title').textContent] = [r.x + r.width / 2, "
            "r.y + r.height / 2]; }); return out; })()"))
        browser.press("ArrowRight", 39)
    assert len(centres[0]) == 10
    for frame in centres[1:]:
        assert frame.keys() == centres[0].keys()
        for name, (x, y) in frame.items():
            x0, y0 = centres[0][name]
            assert abs(x - x0) < 1.5 and abs(y - y0) < 1.5, name   # highlight borders: < 1px


@needs_chromium
def test_play_runs_through_to_the_last_frame_and_stops(browser, tmp_path):
    browser.open(page_url(tmp_path, readme_example(), interval_ms=40))
    browser.click("#play")
    seen = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen.update(visible_frames(browser))
        if browser.js("document.getElementById('play').textContent").endswith("play"):
            break
        time.sleep(0.02)
    assert visible_frames(browser) == [4]
    assert 4 in seen and counter(browser) == "step 4 of 4"


@needs_chromium
def test_an_address_ending_in_a_step_number_opens_that_step(browser, readme_page):
    browser.open(readme_page + "#3")
    assert visible_frames(browser) == [3]
    assert counter(browser) == "step 3 of 4"


@needs_chromium
def test_a_screenshot_shows_the_graph_in_its_colours(browser, readme_page):
    browser.open(readme_page + "#2")
    shot = browser.send("Page.captureScreenshot", {
        "format": "png", "clip": {"x": 0, "y": 0, "width": 1200, "height": 800, "scale": 0.5}})
    width, height, size, rows = png_pixels(base64.b64decode(shot["data"]))
    counts = {}
    for row in rows:
        for x in range(0, width * size, size):
            pixel = row[x:x + 3]
            counts[pixel] = counts.get(pixel, 0) + 1
    background = max(counts, key=counts.get)
    assert background == bytes((255, 255, 255))
    assert sum(counts.values()) - counts[background] > 0.02 * width * height
    for name, rgb in (("lightblue inputs", (173, 216, 230)), ("khaki output", (240, 230, 140)),
                      ("red current step", (255, 0, 0))):
        assert counts.get(bytes(rgb), 0) > 20, f"no {name} in the screenshot"


@needs_chromium
def test_no_request_leaves_the_page(browser, readme_page):
    browser.open(readme_page)
    browser.press("End", 35)
    requested = [e["params"]["request"]["url"]
                 for e in browser.events_named("Network.requestWillBeSent")]
    assert requested == [readme_page]


@needs_chromium
def test_a_script_in_a_label_shows_as_text_and_runs_nothing(browser, tmp_path):
    a = Value(2.0, label=SCRIPT_LABEL)
    b = Value(-3.0, label=IMG_LABEL)
    y = (a * b).tanh()
    y.label = "</title><script>alert(3)</script>"
    y.backward()
    browser.open(page_url(tmp_path, y))
    for _ in range(3):
        browser.press("ArrowRight", 39)
    assert browser.events_named("Page.javascriptDialogOpening") == []
    assert browser.js("document.scripts.length") == 1
    assert browser.js("document.querySelectorAll('.frame img, .frame script').length") == 0
    shown = browser.js("Array.from(document.querySelectorAll('.frame svg text'))"
                       ".map(function (t) { return t.textContent; })")
    assert SCRIPT_LABEL in shown and IMG_LABEL in shown
    assert browser.js("document.title") == ("Backpropagation of </title><script>alert(3)"
                                            "</script>, step by step")
    # The check above can fail: an alert that does run is seen.
    browser.js("setTimeout(function () { alert('seen'); }, 0)")
    dialog = browser.wait_for("Page.javascriptDialogOpening", timeout=10)
    assert dialog["params"]["message"] == "seen"
    browser.send("Page.handleJavaScriptDialog", {"accept": True})
