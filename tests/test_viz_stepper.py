"""``backward_steps(y)`` in a notebook: a sequence of frames whose rich display is the stepper.

The first tests read the display's parts (what Jupyter's ``_repr_mimebundle_`` hands the
notebook); the browser tests put two steppers in one page, as a notebook holds them, one
written in the page and one inserted the way JupyterLab inserts an output, and click and
type through them in headless Chromium (``tests/chromium.py``).
"""

import re
import time
from collections.abc import Sequence

import pytest

from nn import MLP
from tests.chromium import chromium_fixture, needs_chromium
from tests.viz_reading import (
    counter,
    needs_dot,
    readme_example,
    step_through_with_buttons,
    visible_frames,
)
from viz import Graph, Steps, backward_steps, save_backward_html

STEPPER_ID = re.compile(r'<div class="chainrule-stepper" id="(chainrule-stepper-[0-9a-f]{32})"')


def readme_steps(**options):
    _, _, y = readme_example()
    y.backward()
    return backward_steps(y, **options)


def test_the_steps_are_a_sequence_of_frames():
    steps = readme_steps(pin_layout=False)
    assert isinstance(steps, Steps) and isinstance(steps, Sequence)
    assert len(steps) == 5 and all(isinstance(frame, Graph) for frame in steps)
    assert steps[-1] is steps.frames[4] and steps[1:3] == steps.frames[1:3]
    assert [frame.caption[:6] for frame in steps] == [f"Step {k}" for k in range(5)]
    assert steps.summary == "backward of y in 4 steps"
    assert repr(steps) == "<Steps: backward of y in 4 steps, 5 frames>"


@needs_dot
def test_the_display_is_the_stepper_the_last_frame_and_a_line_of_text():
    steps = readme_steps()
    bundle = steps._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    assert bundle["text/plain"] == "backward of y in 4 steps"
    assert bundle["image/svg+xml"].startswith("<svg") and "step 4 of 4" in bundle["image/svg+xml"]
    stepper = bundle["text/html"]
    assert len(STEPPER_ID.findall(stepper)) == 1
    assert re.findall(r'<section class="frame" data-step="(\d+)"', stepper) == list("01234")
    assert stepper.count("<svg") == 5 and stepper.count("<script>") == 1
    assert bundle["image/svg+xml"] in stepper   # the fallback is the stepper's own last frame
    assert not re.search(r"<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import", stepper)
    assert 'id="frame-' not in stepper and 'id="next"' not in stepper   # no page-wide ids


@needs_dot
def test_each_display_has_an_id_of_its_own():
    steps = readme_steps()
    ids = {STEPPER_ID.search(steps._repr_mimebundle_()["text/html"]).group(1) for _ in range(3)}
    assert len(ids) == 3


@needs_dot
def test_save_html_writes_the_same_page_as_save_backward_html(tmp_path):
    _, _, y = readme_example()
    y.backward()
    one = backward_steps(y, interval_ms=300).save_html(tmp_path / "one.html").read_text()
    two = save_backward_html(y, tmp_path / "two.html", interval_ms=300).read_text()
    assert one == two and one.startswith("<!DOCTYPE html>") and 'data-interval="300"' in one
    inline = backward_steps(y).html()   # the notebook's stepper: the same frames and captions

    def frames(page):
        return re.findall(r'<div class="picture">(.*?)</div>\n<p class="caption">(.*?)</p>',
                          page, re.DOTALL)

    assert len(frames(one)) == 5 and frames(inline) == frames(one)


@needs_dot
def test_the_page_names_a_real_models_parameters_and_neurons(tmp_path):
    model = MLP(2, [3, 1], seed=1)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    page = save_backward_html(loss, tmp_path / "mlp.html",
                              params=dict(model.named_parameters())).read_text()
    assert "Step 5 of 6: layers.0 neuron 1 (v14) was made by" in page
    assert ">w[1,0]<" in page and ">layers.0<" in page and ">layers.2<" in page


def test_without_dot_the_display_says_what_to_install(monkeypatch):
    steps = readme_steps(pin_layout=False)
    monkeypatch.setenv("PATH", "")
    bundle = steps._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith("backward of y in 4 steps\n")
    assert "apt-get install graphviz" in bundle["text/plain"]


def test_one_step_is_said_in_the_singular():
    neuron = MLP(1, [1], seed=0)([1.0])   # one fused node: one backward step
    neuron.label = "n"
    neuron.backward()
    assert backward_steps(neuron, pin_layout=False).summary == "backward of n in 1 step"


@pytest.mark.parametrize("interval", [0, -5, 1.5, "fast"])
def test_the_play_interval_must_be_a_positive_int(interval):
    with pytest.raises(ValueError, match=re.escape(repr(interval))):
        readme_steps(pin_layout=False, interval_ms=interval)


# ---- in a browser, two steppers in one notebook-like page ----------------------------------

browser = chromium_fixture()

# JupyterLab sets an output's HTML as innerHTML, where scripts do not run, then replaces each
# script by a new one, which runs: the second stepper arrives that way. Like JupyterLab, a
# mouse press in a cell gives the focus to the cell, not to what was clicked.
NOTEBOOK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>notebook</title></head><body>
<div class="cell" id="cell-1" tabindex="-1">{first}</div>
<p>text between two cells</p>
<div class="cell" id="cell-2" tabindex="-1"></div>
<template id="second">{second}</template>
<script>
document.addEventListener("mousedown", function (event) {{
  var cell = event.target.closest(".cell");
  if (cell !== null && event.target.tagName !== "BUTTON") {{
    event.preventDefault();
    cell.focus();
  }}
}});
var output = document.getElementById("cell-2");
output.innerHTML = document.getElementById("second").innerHTML;
output.querySelectorAll("script").forEach(function (old) {{
  var fresh = document.createElement("script");
  fresh.textContent = old.textContent;
  old.replaceWith(fresh);
}});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def notebook_page(tmp_path_factory, browser):
    steps = readme_steps(interval_ms=40)
    first, second = steps.html(), steps.html()
    path = tmp_path_factory.mktemp("notebook") / "notebook.html"
    path.write_text(NOTEBOOK.format(first=first, second=second), encoding="utf-8")
    ids = [STEPPER_ID.search(html).group(1) for html in (first, second)]
    return path.as_uri(), [f"#{box}" for box in ids]


@needs_chromium
def test_each_stepper_steps_through_every_frame_with_its_buttons(browser, notebook_page):
    url, (one, two) = notebook_page
    browser.open(url)
    step_through_with_buttons(browser, one, last=4)
    step_through_with_buttons(browser, two, last=4)
    assert browser.errors() == []


@needs_chromium
def test_the_steppers_move_independently(browser, notebook_page):
    url, (one, two) = notebook_page
    browser.open(url)
    browser.click(f"{two} .next")
    browser.click(f"{two} .next")
    assert visible_frames(browser, one) == [0] and visible_frames(browser, two) == [2]
    assert counter(browser, one) == "step 0 of 4" and counter(browser, two) == "step 2 of 4"


@needs_chromium
def test_the_keys_move_the_stepper_that_has_the_focus_and_leave_the_address(browser,
                                                                            notebook_page):
    url, (one, two) = notebook_page
    browser.open(url)
    browser.press("ArrowRight", 39)   # nothing focused: no stepper moves
    assert visible_frames(browser, one) == [0] and visible_frames(browser, two) == [0]
    browser.click(f"{one} .picture")   # a click on the picture gives the stepper the keys
    for _ in range(3):
        browser.press("ArrowRight", 39)
    assert visible_frames(browser, one) == [3] and visible_frames(browser, two) == [0]
    browser.press("End", 35)
    assert visible_frames(browser, one) == [4]
    browser.press("Home", 36)
    assert visible_frames(browser, one) == [0]
    assert browser.js("location.hash") == ""


@needs_chromium
def test_play_runs_one_stepper_to_its_last_frame(browser, notebook_page):
    url, (one, two) = notebook_page
    browser.open(url)
    browser.click(f"{two} .play")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and visible_frames(browser, two) != [4]:
        time.sleep(0.02)
    assert visible_frames(browser, two) == [4] and visible_frames(browser, one) == [0]
    requested = [e["params"]["request"]["url"]
                 for e in browser.events_named("Network.requestWillBeSent")]
    assert requested == [url]
