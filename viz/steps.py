"""Backprop as a film: one picture per step of ``backward()``, nodes fixed in place.

Frame 0 shows the start: the root holds its seed gradient (1 after ``root.backward()``).
Frame k shows the state after step k: the op node processed at step k and the edges it
writes are red, every gradient received so far is filled in ("so far" while a node still
waits for other users), and the edges still to come are grey and dashed.

So that nodes do not jump between frames, the layout is computed once, by ``dot``, on
the last frame, and every frame is pinned to it (``viz.pinning``). Without Graphviz's
``dot`` the frames are still built, unpinned, with a warning.

The frames come back as ``viz.stepper.Steps``: a list of pictures that a notebook shows as
the interactive stepper, and that ``save_html`` writes as a page (``save_backward_html``
does both steps at once).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine import Value
from viz.draw import backward_warning
from viz.flow import Flow, gradient_flow
from viz.graph import GraphvizNotFound
from viz.names import Params
from viz.picture import Picture
from viz.pinning import UNPINNED, read_layout
from viz.stepper import Steps, check_interval
from viz.style import ClusterSpec, Options, make_options, op_text
from viz.terms import chain_rule_term
from viz.trace import trace


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
