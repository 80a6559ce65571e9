"""Reading the viz tests' pictures: the README's example graph, and nodes, edges and visible
text pulled out of DOT source."""

from __future__ import annotations

import html
import re
import shutil

import pytest

from engine import Value

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")

NODE = re.compile(r"^\t+(v\d+(?:_op)?) \[(.*)\]$", re.MULTILINE)
EDGE = re.compile(r"^\t+(v\d+(?:_op)?) -> (v\d+(?:_op)?)(?: \[(.*)\])?$", re.MULTILINE)


def readme_example(b_label: str = "b") -> tuple[Value, Value, Value]:
    """a, b and y = tanh(a*b + a**2) with a = 2, b = -3 (before backward)."""
    a = Value(2.0, label="a")
    b = Value(-3.0, label=b_label)
    y = (a * b + a**2).tanh()
    y.label = "y"
    return a, b, y


def nodes(graph) -> dict[str, str]:
    """{node name: its attribute text} from the DOT source."""
    return dict(NODE.findall(graph.source))


def edges(graph) -> list[tuple[str, str, str]]:
    """[(tail, head, attribute text)] from the DOT source, repeats kept."""
    return EDGE.findall(graph.source)


def visible(attributes: str) -> str:
    """The text a reader sees in a node's or edge's HTML-like label."""
    match = re.search(r"label=<(.*)>(?: [a-z]+=|$)", attributes)
    if not match:
        return ""
    text = re.sub(r"<[^>]+>", " ", match.group(1))
    return " ".join(html.unescape(text).split())


def label_of(graph, name: str) -> str:
    """The visible text of node ``name``."""
    return visible(nodes(graph)[name])


# ---- a stepper in the browser (tests.chromium) ---------------------------------------------


def visible_frames(browser, root: str = "body") -> list[int]:
    """The steps of the frames shown inside the element ``root`` (a CSS selector)."""
    return browser.js(
        f"Array.from(document.querySelector({root!r}).querySelectorAll('.frame'))"
        ".filter(function (f) { return getComputedStyle(f).display !== 'none'; })"
        ".map(function (f) { return Number(f.getAttribute('data-step')); })")


def counter(browser, root: str = "body") -> str:
    """What the step counter inside ``root`` says: ``step 2 of 4``."""
    return browser.js(f"document.querySelector({root!r}).querySelector('.counter').textContent")


def step_through_with_buttons(browser, root: str, last: int) -> None:
    """Click next through every frame and previous back to the first, checking each."""
    assert visible_frames(browser, root) == [0]
    assert counter(browser, root) == f"step 0 of {last}"
    for k in range(1, last + 1):
        browser.click(f"{root} .next")
        assert visible_frames(browser, root) == [k]
        assert counter(browser, root) == f"step {k} of {last}"
    assert browser.js(f"document.querySelector({(root + ' .next')!r}).disabled") is True
    for k in range(last - 1, -1, -1):
        browser.click(f"{root} .prev")
        assert visible_frames(browser, root) == [k]
    assert browser.js(f"document.querySelector({(root + ' .prev')!r}).disabled") is True
