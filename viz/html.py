"""A single web page that steps through backprop: open it in any browser, offline.

The page holds every frame of ``backward_steps`` as inline SVG, one caption under each
(under, so that a caption longer than the last never pushes the picture down),
previous / play / next buttons and keyboard control (left and right arrows, Home, End,
space). Nothing is fetched: no network, no CDN, no external file. ``#5`` at the end of
the page's address opens step 5.

Safety: labels are escaped by ``viz.style.escape`` before Graphviz sees them, and
Graphviz escapes text again in the SVG it writes; captions are escaped here. On top of
that, the page's Content-Security-Policy allows exactly one script, the page's own (by
its SHA-256 hash), and no fetch of any kind, so even a label that slipped through could
not run code or reach the network.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path

from engine import Value
from viz.files import write_atomic
from viz.graph import GraphvizNotFound
from viz.steps import backward_steps
from viz.style import ClusterSpec

SCRIPT = """
(function () {
  "use strict";
  var frames = document.querySelectorAll(".frame");
  var last = frames.length - 1;
  var counter = document.getElementById("counter");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var play = document.getElementById("play");
  var interval = Number(document.body.getAttribute("data-interval")) || 1000;
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
    try {
      history.replaceState(null, "", "#" + current);
    } catch (e) {
      // some browsers refuse to change the address of a local file; stepping still works
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
  document.addEventListener("keydown", function (event) {
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
  });
  var start = parseInt(location.hash.slice(1), 10);
  show(isNaN(start) ? 0 : start);
})();
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


def save_backward_html(
    root: Value,
    path: str | os.PathLike[str],
    *,
    interval_ms: int = 1200,
    rankdir: str = "LR",
    precision: int = 4,
    params: Collection[Value] | None = None,
    clusters: ClusterSpec = None,
    max_nodes: int | None = 300,
) -> Path:
    """Write a page stepping through ``root.backward()`` one node at a time; return its path.

    Frame k is ``backward_steps(root)[k]`` drawn as SVG (so Graphviz's ``dot`` must be
    installed), with its caption. ``interval_ms`` is the delay between frames when playing.
    The file is replaced atomically: a failed save leaves any old file as it was.
    Other options as in ``draw_forward``.
    """
    if type(interval_ms) is not int or interval_ms < 1:
        raise ValueError(f"interval_ms must be a positive int, not {interval_ms!r}")
    if shutil.which("dot") is None:  # the frames are drawn by dot: say so before any work
        raise GraphvizNotFound()
    frames = backward_steps(root, rankdir=rankdir, precision=precision, params=params,
                            clusters=clusters, max_nodes=max_nodes)
    svgs = [frame.pipe(format="svg", encoding="utf-8") for frame in frames]
    # Inline SVG: drop the XML prolog and doctype; one size for all, so none is scaled apart.
    svgs = same_size([svg[svg.index("<svg"):] for svg in svgs])
    sections = []
    for k, (frame, svg) in enumerate(zip(frames, svgs)):
        sections.append(
            f'<section class="frame" id="frame-{k}"{"" if k == 0 else " hidden"}>\n'
            f'<div class="picture">{svg}</div>\n'
            f'<p class="caption">{html.escape(frame.caption)}</p>\n</section>'
        )
    name = html.escape(root.label or "the output")
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()
    page = f"""<!DOCTYPE html>
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
<nav>
<button id="prev" type="button">&#9664; previous</button>
<button id="play" type="button">&#9654; play</button>
<button id="next" type="button">next &#9654;</button>
<span id="counter" aria-live="polite">step 0 of {len(frames) - 1}</span>
</nav>
<p class="help">Keys: &larr; and &rarr; step back and forth, Home and End jump, space plays.
Each edge reads upstream &times; local = contribution; a node's grad is the sum of what it receives.</p>
<main>
{chr(10).join(sections)}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
    return write_atomic(Path(path), page)


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
