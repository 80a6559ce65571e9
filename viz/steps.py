"""Backprop as a film: one picture per step of ``backward()``, nodes fixed in place.

Frame 0 shows the start: the root holds its seed gradient (1 after ``root.backward()``).
Frame k shows the state after step k: the op node processed at step k and the edges it
writes are red, every gradient received so far is filled in ("so far" while a node still
waits for other users), and the edges still to come are grey and dashed.

So that nodes do not jump between frames, the layout is computed once, by ``dot``, on
the last frame (the one with the most text), and every frame pins each node there
(``pos="x,y!"``) and is laid out by ``neato -n2``, which keeps given positions and only
routes the edges. Without Graphviz's ``dot`` the frames are still built, unpinned, with a
warning.

The frames come back as ``viz.stepper.Steps``: a list of pictures that a notebook shows as
the interactive stepper, and that ``save_html`` writes as a page (``save_backward_html``
does both steps at once).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

from engine import Value
from viz.draw import CORNERS, Picture, backward_note, chain_rule_term
from viz.flow import Flow, gradient_flow
from viz.graph import INSTALL_HINT, Graph, GraphvizNotFound
from viz.names import Params
from viz.stepper import Steps, check_interval
from viz.style import ClusterSpec, Options, make_options, op_text
from viz.trace import trace

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
    note = backward_note(flow)
    positions = None
    if pin_layout:
        positions = _layout(Picture(flow.trace, options, flow, after_step=last).draw(
            _heading(flow, options, last), note))
    frames = []
    for k in range(last + 1):
        picture = Picture(flow.trace, options, flow, after_step=k, positions=positions)
        frame = picture.draw(_heading(flow, options, k), note, caption=_caption(flow, options, k))
        if pin_layout and positions is None:
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


def _layout(graph: Graph) -> dict[str, str] | None:
    """Where ``dot`` puts each node ("x,y" in points) and each cluster (its bounding box).

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
    return places


def _name(flow: Flow, options: Options, value: Value) -> str:
    name = flow.trace.name(value)
    label = options.label_of(value)
    return f"{label} ({name})" if label else name


def _heading(flow: Flow, options: Options, k: int) -> str:
    last = len(flow.steps)
    if k == 0:
        return f"backward step 0 of {last}: start at the output, grad = {options.number(flow.seed)}"
    node = flow.steps[k - 1]
    operands = len(node.parents)
    return (f"backward step {k} of {last}: the {node.op} node {_name(flow, options, node)} "
            f"sends its grad to {operands} operand{'s' if operands > 1 else ''}")


def _caption(flow: Flow, options: Options, k: int) -> str:
    """What frame k shows, in one paragraph with the step's arithmetic."""
    number, last = options.number, len(flow.steps)
    root = flow.trace.root
    if k == 0:
        short = options.label_of(root) or flow.trace.name(root)
        return (f"Step 0 of {last}: backward starts at the output "
                f"{_name(flow, options, root)} with d {short} / d {short} = {number(flow.seed)}.")
    node = flow.steps[k - 1]
    sent = [m for m in flow.messages if m.step == k]
    terms = "; ".join(
        f"{_name(flow, options, m.edge.parent)} gets {chain_rule_term(m, options)}" for m in sent
    )
    made_by = op_text(node, options).replace("\n", ", ")
    return (f"Step {k} of {last}: {_name(flow, options, node)} was made by '{made_by}' and has "
            f"grad {number(node.grad)}, so each operand gets upstream × local = contribution: "
            f"{terms}.")
