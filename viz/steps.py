"""Backprop as a film: one picture per step of ``backward()``, nodes fixed in place.

Frame 0 shows the start: the root holds its seed gradient (1 after ``root.backward()``).
Frame k shows the state after step k: the op node processed at step k and the edges it
writes are red, every gradient received so far is filled in ("so far" while a node still
waits for other users), and the edges still to come are grey and dashed.

So that nodes do not jump between frames, the layout is computed once, by ``dot``, on
the last frame, and every frame is pinned to it (``Layout``, below: laid out one by one,
nodes would move as the text on them grows). Without Graphviz's ``dot`` the frames are
still built, unpinned, with a warning.

The frames come back as ``Steps``: a sequence of pictures (``steps[2]``, ``len(steps)``,
``for frame in steps``) that Jupyter (JupyterLab, classic Notebook, VS Code) displays as
the interactive stepper of ``viz.html``: previous / play / next buttons and the arrow keys,
inside the notebook, nothing fetched. Renderers that run no script (GitHub, nbconvert to
Markdown) pick the other parts of its display: the last frame as SVG, or a line of text
("backward of y in 4 steps"). ``Steps.save_html`` writes the stepper as a page of its own
(``save_backward_html`` does both steps at once).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from engine import Value
from viz import html
from viz.draw import Picture, backward_warning, chain_rule_term
from viz.files import write_atomic
from viz.graph import INSTALL_HINT, Graph, GraphvizNotFound
from viz.style import ClusterSpec, Options, Params, make_options, op_text
from viz.trace import Flow, gradient_flow, trace

CORNERS = ("corner_low", "corner_high")
MARGIN = 12  # points around the laid-out drawing, room for edges routed differently
UNPINNED = "layout not pinned: Graphviz's dot was not found, nodes may move between frames"


def backward_steps(
    root: Value,
    *,
    pin_layout: bool = True,
    rankdir: str = "LR",
    precision: int = 4,
    params: Params = None,
    clusters: ClusterSpec = None,
    max_nodes: int | None = 300,
    interval_ms: int = 1200,
) -> Steps:
    """One ``Graph`` per step of ``root.backward()``: frame 0 the seed, frame k after step k.

    At step k backward takes the k-th op node ``out`` of ``engine.backward_order(root)``,
    whose gradient g = d root / d out is complete, and sends each operand p its share
    ``g * d out / d p`` (chain rule), which p adds to its gradient. Call ``root.backward()``
    first: the frames replay it from the stored gradients. Each frame's ``caption`` says
    what happens in words. ``pin_layout=False`` skips the shared layout (no ``dot`` run).
    In a notebook the result shows as a stepper that plays one frame every
    ``interval_ms`` milliseconds. Other options as in ``draw_forward``.
    """
    check_interval(interval_ms)
    options = make_options(rankdir, precision, params, clusters, max_nodes)
    flow = gradient_flow(trace(root, options.max_nodes))
    last = len(flow.steps)
    warning = backward_warning(flow)
    layout = None
    if pin_layout:
        layout = read_layout(Picture(flow.trace, options, flow, after_step=last).draw(
            _heading(flow, options, last), warning))
    frames = []
    for k in range(last + 1):
        picture = Picture(flow.trace, options, flow, after_step=k, layout=layout)
        frame = picture.draw(_heading(flow, options, k), warning,
                             caption=_caption(flow, options, k))
        if pin_layout and layout is None:
            frame.comment = UNPINNED
        frames.append(frame)
    return Steps(frames, options.label_of(flow.trace.root) or "the output", interval_ms)


def save_backward_html(
    root: Value,
    path: str | os.PathLike[str],
    *,
    interval_ms: int = 1200,
    rankdir: str = "LR",
    precision: int = 4,
    params: Params = None,
    clusters: ClusterSpec = None,
    max_nodes: int | None = 300,
) -> Path:
    """Write a page stepping through ``root.backward()`` one node at a time; return its path.

    Frame k is ``backward_steps(root)[k]`` drawn as SVG (so Graphviz's ``dot`` must be
    installed), with its caption. ``interval_ms`` is the delay between frames when playing.
    The file is replaced atomically: a failed save leaves any old file as it was.
    Other options as in ``draw_forward``.
    """
    check_interval(interval_ms)
    if shutil.which("dot") is None:  # the frames are drawn by dot: say so before any work
        raise GraphvizNotFound()
    steps = backward_steps(root, rankdir=rankdir, precision=precision, params=params,
                           clusters=clusters, max_nodes=max_nodes, interval_ms=interval_ms)
    return steps.save_html(path)


def _label_and_name(flow: Flow, options: Options, value: Value) -> str:
    """What a caption calls ``value``: ``y (v5)`` when it has a label, else ``v5``."""
    name = flow.trace.name(value)
    label = options.label_of(value)
    return f"{label} ({name})" if label else name


def _heading(flow: Flow, options: Options, k: int) -> str:
    last = len(flow.steps)
    if k == 0:
        return f"backward step 0 of {last}: start at the output, grad = {options.number(flow.seed)}"
    node = flow.steps[k - 1]
    operands = len(node.parents)
    return (f"backward step {k} of {last}: the {node.op} node "
            f"{_label_and_name(flow, options, node)} "
            f"sends its grad to {operands} operand{'s' if operands > 1 else ''}")


def _caption(flow: Flow, options: Options, k: int) -> str:
    """What frame k shows, in one paragraph with the step's arithmetic."""
    number, last = options.number, len(flow.steps)
    root = flow.trace.root
    if k == 0:
        short = options.label_of(root) or flow.trace.name(root)
        return (f"Step 0 of {last}: backward starts at the output "
                f"{_label_and_name(flow, options, root)} "
                f"with d {short} / d {short} = {number(flow.seed)}.")
    node = flow.steps[k - 1]
    sent = [m for m in flow.messages if m.step == k]
    terms = "; ".join(
        f"{_label_and_name(flow, options, m.edge.parent)} gets {chain_rule_term(m, options)}"
        for m in sent
    )
    made_by = op_text(node, options).replace("\n", ", ")
    return (f"Step {k} of {last}: {_label_and_name(flow, options, node)} was made by "
            f"'{made_by}' and has grad {number(node.grad)}, so each operand gets "
            f"upstream × local = contribution: {terms}.")


# ---- frames that do not move: one layout, every frame pinned to it --------------------------

@dataclass(frozen=True)
class Layout:
    """Where each node ("x,y" in points) and each cluster (its box) of a picture sits.

    The last frame (the one with the most text) is laid out once by ``dot``; ``read_layout``
    reads back where it put each node and each cluster, and every frame is drawn with that
    layout: each node pinned at its point (DOT's ``pos="x,y!"``), each cluster given its box
    (``bb``: ``neato -n2`` draws a cluster only when told its box), and two invisible points
    at the corners of the drawing, so that every frame has the same bounding box.
    ``neato -n2`` keeps the given positions and only routes the edges.
    """

    places: Mapping[str, str]

    def pin(self, name: str, attrs: dict[str, str]) -> dict[str, str]:
        """A node's attributes, with its place (when the layout has one) added."""
        position = self.places.get(name)
        return {**attrs, "pos": f"{position}!"} if position else attrs

    def cluster_box(self, name: str) -> dict[str, str]:
        """``bb`` for the cluster ``name`` (``cluster_0``, ...) when the layout has it."""
        box = self.places.get(name)
        return {"bb": box} if box else {}

    def corner_points(self) -> list[tuple[str, dict[str, str]]]:
        """The invisible points that hold the drawing's corners, each with its attributes."""
        return [(corner, {"pos": f"{self.places[corner]}!", "style": "invis",
                          "shape": "point", "width": "0", "height": "0"})
                for corner in CORNERS if corner in self.places]


def read_layout(graph: Graph) -> Layout | None:
    """Where ``dot`` puts each node and each cluster of ``graph``, and its drawing's corners.

    None, with a warning, when ``dot`` is not installed.
    """
    try:
        laid_out = json.loads(graph.pipe(format="json", encoding="utf-8"))
    except GraphvizNotFound:
        warnings.warn(f"backward_steps: {UNPINNED}. {INSTALL_HINT}", stacklevel=3)
        return None
    places = {}
    for obj in laid_out.get("objects", []):
        if "pos" in obj:
            places[obj["name"]] = obj["pos"]
        elif obj["name"].startswith("cluster_") and "bb" in obj:
            places[obj["name"]] = obj["bb"]
    # The drawing's box is dot's bounding box without the title above it (lheight inches),
    # widened by a margin for edges that neato routes a little differently.
    x0, y0, x1, y1 = (float(c) for c in laid_out["bb"].split(","))
    top = y1 - 72 * float(laid_out.get("lheight", 0))
    places[CORNERS[0]] = f"{x0 - MARGIN:g},{y0 - MARGIN:g}"
    places[CORNERS[1]] = f"{x1 + MARGIN:g},{top + MARGIN:g}"
    return Layout(places)


# ---- the frames in a notebook, and as a page ------------------------------------------------

def check_interval(interval_ms: Any) -> int:
    """``interval_ms`` if it is a positive int (milliseconds between frames when playing)."""
    if type(interval_ms) is not int or interval_ms < 1:
        raise ValueError(f"interval_ms must be a positive int, not {interval_ms!r}")
    return interval_ms


class Steps(Sequence[Graph]):
    """The frames of a backward pass: frame 0 the start, frame k the state after step k.

    ``name`` is what the output is called (its label, or its node name); ``interval_ms``
    the delay between frames when the stepper plays. The SVG of each frame is drawn once,
    when first needed, and reused by every display and save.
    """

    def __init__(self, frames: Sequence[Graph], name: str, interval_ms: int = 1200) -> None:
        self.frames = list(frames)
        self.name = name
        self.interval_ms = check_interval(interval_ms)
        self._svgs: list[str] | None = None

    @overload
    def __getitem__(self, index: int) -> Graph: ...

    @overload
    def __getitem__(self, index: slice) -> list[Graph]: ...

    def __getitem__(self, index: int | slice) -> Graph | list[Graph]:
        return self.frames[index]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def summary(self) -> str:
        """One line: ``backward of y in 4 steps`` (frames: that many, plus the start)."""
        steps = len(self.frames) - 1
        return f"backward of {self.name} in {steps} step{'' if steps == 1 else 's'}"

    def __repr__(self) -> str:
        return f"<Steps: {self.summary}, {len(self.frames)} frames>"

    def svgs(self) -> list[str]:
        """Every frame as inline SVG, all of one size (needs Graphviz's ``dot``)."""
        if self._svgs is None:
            if shutil.which("dot") is None:  # the frames are drawn by dot: say so at once
                raise GraphvizNotFound()
            self._svgs = html.frame_svgs(self.frames)
        return self._svgs

    def html(self) -> str:
        """The stepper as a piece of HTML for a notebook (a new id on every call)."""
        return html.fragment(self.frames, self.svgs(), self.interval_ms)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the stepper as a page of its own, to open offline in any browser.

        The file is replaced atomically: a failed save leaves any old file as it was.
        """
        page = html.page(self.frames, self.svgs(), self.name, self.interval_ms)
        return write_atomic(Path(path), page)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        """In a notebook: the stepper, the last frame as SVG, and a line of text.

        Without Graphviz, the line of text and how to install it.
        """
        try:
            svgs = self.svgs()
        except GraphvizNotFound:
            return {"text/plain": f"{self.summary}\n{INSTALL_HINT}"}
        return {"text/html": html.fragment(self.frames, svgs, self.interval_ms),
                "image/svg+xml": svgs[-1],
                "text/plain": self.summary}
