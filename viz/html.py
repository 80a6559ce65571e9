"""The stepper through backprop as HTML: a page of its own, or a piece of a notebook.

Both hold every frame of ``backward_steps`` as inline SVG, one caption under each
(under, so that a caption longer than the last never pushes the picture down),
previous / play / next buttons and keyboard control (left and right arrows, Home, End,
space), run by one script, ``STEPPER``. Nothing is fetched: no network, no CDN, no
external file.

* ``page``: a whole file to open in any browser, offline. The keys work anywhere on the
  page, and ``#5`` at the end of its address opens step 5.
* ``fragment``: what a notebook shows in a cell's output. Several can sit in one
  notebook, so each has an id of its own and finds its frames and buttons inside itself;
  the keys work once it has the focus (click it), and it leaves the notebook's address
  and shortcuts alone.

Safety: labels are escaped by ``viz.style.escape`` before Graphviz sees them, and
Graphviz escapes text again in the SVG it writes; captions are escaped here. On top of
that, the page's Content-Security-Policy allows exactly one script, the page's own (by
its SHA-256 hash), and no fetch of any kind, so even a label that slipped through could
not run code or reach the network. (A notebook sets its own policy for its outputs.)
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import uuid
from collections.abc import Sequence

from viz.graph import Graph

# The stepper: ``root`` holds the .frame sections and the .prev/.play/.next/.counter
# controls; ``keys`` is where key presses are listened for; ``useAddress`` keeps the step
# in the address (#3) and starts from it.
STEPPER = """
function chainruleStepper(root, keys, useAddress) {
  "use strict";
  var frames = root.querySelectorAll(".frame");
  var last = frames.length - 1;
  var counter = root.querySelector(".counter");
  var prev = root.querySelector(".prev");
  var next = root.querySelector(".next");
  var play = root.querySelector(".play");
  var interval = Number(root.getAttribute("data-interval")) || 1000;
  var current = 0;
  var timer = null;

  function show(k) {
    current = Math.max(0, Math.min(last, k));
    for (var i = 0; i < frames.length; i++) {
      frames[i].hidden = i !== current;
    }
    counter.textContent = "step " + current + " of " + last;
    prev.disabled = current === 0;
    next.disabled = current === last;
    if (useAddress) {
      try {
        history.replaceState(null, "", "#" + current);
      } catch (e) {
        // some browsers refuse to change the address of a local file; stepping still works
      }
    }
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "\\u25B6 play";
  }

  function toggle() {
    if (timer !== null) {
      stop();
      return;
    }
    if (current === last) {
      show(0);
    }
    play.textContent = "\\u23F8 pause";
    timer = setInterval(function () {
      if (current >= last) {
        stop();
      } else {
        show(current + 1);
      }
    }, interval);
  }

  prev.addEventListener("click", function () { stop(); show(current - 1); });
  next.addEventListener("click", function () { stop(); show(current + 1); });
  play.addEventListener("click", toggle);
  keys.addEventListener("keydown", function (event) {
    var moves = {ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: last};
    if (event.key in moves) {
      stop();
      show(moves[event.key]);
    } else if (event.key === " " && event.target.tagName !== "BUTTON") {
      toggle();  // on a focused button, space already clicks it
    } else {
      return;
    }
    event.preventDefault();
    if (!useAddress) {
      event.stopPropagation();  // in a notebook, the key was for the stepper, not the cells
    }
  });
  if (!useAddress) {
    // A click on the picture gives the stepper the keys (a notebook would keep the focus).
    root.addEventListener("click", function (event) {
      if (event.target.tagName !== "BUTTON") {
        root.focus({preventScroll: true});
      }
    });
  }
  var start = useAddress ? parseInt(location.hash.slice(1), 10) : NaN;
  show(isNaN(start) ? 0 : start);
}
"""

SCRIPT = f"""
(function () {{
{STEPPER}
chainruleStepper(document.body, document, true);
}})();
"""

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; color: #222; }
nav { display: flex; gap: 0.5em; align-items: center; margin: 0.5em 0; }
button { font-size: 1em; padding: 0.3em 0.8em; }
#counter { font-weight: bold; margin-left: 0.5em; }
.help { color: #666; font-size: 0.9em; margin: 0; }
.caption { font-size: 1.05em; max-width: 70em; }
.picture svg { max-width: 100%; height: auto; }
"""

# The same look inside a notebook, every rule kept inside the stepper's own box.
FRAGMENT_STYLE = """
.chainrule-stepper { font-family: Helvetica, Arial, sans-serif; color: #222; outline: none; }
.chainrule-stepper:focus-visible { outline: 2px solid #8ab4f8; }
.chainrule-stepper nav { display: flex; gap: 0.5em; align-items: center; margin: 0.5em 0; }
.chainrule-stepper button { font-size: 1em; padding: 0.3em 0.8em; }
.chainrule-stepper .counter { font-weight: bold; margin-left: 0.5em; }
.chainrule-stepper .help { color: #666; font-size: 0.9em; margin: 0; }
.chainrule-stepper .caption { font-size: 1.05em; max-width: 70em; }
.chainrule-stepper .picture svg { max-width: 100%; height: auto; }
.chainrule-stepper .frame[hidden] { display: none !important; }
"""

HELP = ("Each edge reads upstream &times; local = contribution; a node's grad is the sum of "
        "what it receives.")


def frame_svgs(frames: Sequence[Graph]) -> list[str]:
    """Each frame drawn as SVG for inline use (Graphviz's ``dot`` must be installed).

    The XML prolog and doctype are dropped, and every picture gets one size, so that none
    is scaled apart from the others.
    """
    svgs = [frame.pipe(format="svg", encoding="utf-8") for frame in frames]
    return same_size([svg[svg.index("<svg"):] for svg in svgs])


def _controls(last: int, ids: bool) -> str:
    """The buttons and the counter; with ``ids`` (a page has one stepper) also by id."""
    def attrs(name: str) -> str:
        return f'class="{name}"' + (f' id="{name}"' if ids else "")
    return (f"<nav>\n"
            f'<button {attrs("prev")} type="button">&#9664; previous</button>\n'
            f'<button {attrs("play")} type="button">&#9654; play</button>\n'
            f'<button {attrs("next")} type="button">next &#9654;</button>\n'
            f'<span {attrs("counter")} aria-live="polite">step 0 of {last}</span>\n'
            f"</nav>")


def _sections(frames: Sequence[Graph], svgs: Sequence[str], ids: bool) -> str:
    sections = []
    for k, (frame, svg) in enumerate(zip(frames, svgs)):
        frame_id = f' id="frame-{k}"' if ids else ""
        sections.append(
            f'<section class="frame"{frame_id} data-step="{k}"{"" if k == 0 else " hidden"}>\n'
            f'<div class="picture">{svg}</div>\n'
            f'<p class="caption">{html.escape(frame.caption)}</p>\n</section>'
        )
    return "\n".join(sections)


def page(frames: Sequence[Graph], svgs: Sequence[str], name: str, interval_ms: int) -> str:
    """A whole HTML file stepping through ``frames`` (drawn as ``svgs``), about ``name``."""
    name = html.escape(name)
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backpropagation of {name}, step by step</title>
<style>{STYLE}</style>
</head>
<body data-interval="{interval_ms}">
<h1>Backpropagation of {name}, step by step</h1>
{_controls(len(frames) - 1, ids=True)}
<p class="help">Keys: &larr; and &rarr; step back and forth, Home and End jump, space plays.
{HELP}</p>
<main>
{_sections(frames, svgs, ids=True)}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def fragment(frames: Sequence[Graph], svgs: Sequence[str], interval_ms: int) -> str:
    """The stepper as a piece of HTML for a notebook's output, with an id of its own.

    Each call makes a new id, so two displays of the same steps step independently.
    """
    box = f"chainrule-stepper-{uuid.uuid4().hex}"
    start = f"""
(function () {{
{STEPPER}
var root = document.getElementById("{box}");
if (root !== null && !root.hasAttribute("data-ready")) {{
  root.setAttribute("data-ready", "");
  chainruleStepper(root, root, false);
}}
}})();
"""
    # data-lm-suppress-shortcuts: JupyterLab leaves the keys pressed inside it to it.
    return f"""<div class="chainrule-stepper" id="{box}" tabindex="0"
data-interval="{interval_ms}" data-lm-suppress-shortcuts="true">
<style>{FRAGMENT_STYLE}</style>
{_controls(len(frames) - 1, ids=False)}
<p class="help">Click the stepper, then: &larr; and &rarr; step back and forth, Home and End
jump, space plays. {HELP}</p>
{_sections(frames, svgs, ids=False)}
<script>{start}</script>
</div>
"""


SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="0\.00 0\.00 '
                      r'([\d.]+) ([\d.]+)"')


def same_size(svgs: list[str]) -> list[str]:
    """Give every SVG picture the size of the largest, extending its canvas right and down.

    Frames share their layout, but a title wider than the graph widens its frame; in a
    page that scales pictures to fit, that frame would be scaled differently and its nodes
    would seem to move. (Left as they are if Graphviz writes sizes in another form.)
    """
    sizes = [SVG_SIZE.search(svg) for svg in svgs]
    if not all(sizes):
        return svgs
    width = max(float(size.group(3)) for size in sizes if size)
    height = max(float(size.group(4)) for size in sizes if size)
    return [SVG_SIZE.sub(f'<svg width="{width:.0f}pt" height="{height:.0f}pt" '
                         f'viewBox="0.00 0.00 {width:.2f} {height:.2f}"', svg, count=1)
            for svg in svgs]
