"""backward_steps: one picture per backward step, with the layout pinned across frames.

Frame 0 is the seed; frame k shows the state after step k of ``engine.backward_order``.
Read from each frame's DOT text: which node is highlighted, which gradients are filled in,
which edges carry numbers. With ``dot`` installed, the frames must keep every node at the
same place when Graphviz lays them out.
"""

import json
import re
import warnings

import pytest

import tests.viz_reading
from engine import Value, backward_order
from tests.viz_reading import edges, needs_dot, nodes, visible
from viz import backward_steps, by_label_prefix, draw_backward


def readme_example():
    """The README's example after backward: a, b, y."""
    a, b, y = tests.viz_reading.readme_example()
    y.backward()
    return a, b, y


def highlighted(frame):
    """Names of the nodes and edges drawn in red in this frame."""
    red_nodes = sorted(name for name, attrs in nodes(frame).items()
                       if 'COLOR="red"' in attrs.split("<TR>")[0] or "color=red" in attrs)
    red_edges = [(t, h) for t, h, attrs in edges(frame) if "color=red" in attrs]
    return red_nodes, red_edges


def test_one_frame_for_the_seed_and_one_per_backward_step():
    _, _, y = readme_example()
    assert len(backward_steps(y, pin_layout=False)) == len(backward_order(y)) + 1 == 5
    a = Value(3.0)
    square = a * a
    square.backward()
    assert len(backward_steps(square, pin_layout=False)) == 2
    assert len(backward_steps(a, pin_layout=False)) == 1


def test_each_frame_highlights_the_node_of_its_step_and_the_edges_it_writes():
    _, _, y = readme_example()
    frames = backward_steps(y, pin_layout=False)
    assert highlighted(frames[0]) == ([], [])
    # Steps: 1 tanh (v5), 2 + (v4), 3 ** (v3), 4 * (v2).
    assert highlighted(frames[1]) == (["v5", "v5_op"], [("v4", "v5_op"), ("v5_op", "v5")])
    assert highlighted(frames[2]) == (["v4", "v4_op"],
                                      [("v2", "v4_op"), ("v3", "v4_op"), ("v4_op", "v4")])
    assert highlighted(frames[4]) == (["v2", "v2_op"],
                                      [("v0", "v2_op"), ("v1", "v2_op"), ("v2_op", "v2")])


def grads_shown(frame):
    return {name: re.search(r"grad (\S+)", visible(attrs)).group(1)
            for name, attrs in nodes(frame).items() if not name.endswith("_op")}


def test_grads_fill_in_step_by_step():
    _, _, y = readme_example()
    frames = backward_steps(y, pin_layout=False)
    assert grads_shown(frames[0]) == {"v0": "?", "v1": "?", "v2": "?", "v3": "?", "v4": "?",
                                      "v5": "1"}
    unknown = [sum(g == "?" for g in grads_shown(f).values()) for f in frames]
    assert unknown == [5, 4, 2, 1, 0]
    # a gets its first share at step 3 and its second at step 4.
    assert "so far" in visible(nodes(frames[3])["v0"])
    assert "so far" not in visible(nodes(frames[4])["v0"])


def test_edges_carry_their_numbers_once_their_step_has_run():
    _, _, y = readme_example()
    frames = backward_steps(y, pin_layout=False)
    for k, frame in enumerate(frames):
        numbered = [h for t, h, attrs in edges(frame) if "×" in attrs]
        # Step j (node v(6-j)) writes the edges into its op node; v3 ** 2 has one operand.
        expected = {1: 1, 2: 2, 3: 1, 4: 2}
        assert len(numbered) == sum(expected[j] for j in range(1, k + 1))
        assert all("style=dashed" in attrs for t, h, attrs in edges(frame)
                   if h.endswith("_op") and "×" not in attrs)


def test_the_last_frame_says_what_draw_backward_says():
    _, _, y = readme_example()
    last = backward_steps(y, pin_layout=False)[-1]
    full = draw_backward(y)
    values = [name for name in nodes(full) if not name.endswith("_op")]
    assert [visible(nodes(last)[n]) for n in values] == [visible(nodes(full)[n]) for n in values]


def test_captions_say_what_each_step_does_with_its_numbers():
    _, _, y = readme_example()
    frames = backward_steps(y, pin_layout=False)
    assert frames[0].caption == "Step 0 of 4: backward starts at the output y (v5) with d y / d y = 1."
    assert frames[3].caption.startswith("Step 3 of 4: v3 was made by '** 2' and has grad 0.07065")
    assert frames[3].caption.endswith("a (v0) gets 0.07065 × 4 = 0.2826.")


def test_frames_before_backward_say_so():
    y = Value(1.0, label="x").tanh()
    frames = backward_steps(y, pin_layout=False)
    assert all("backward() has not been called yet" in f.source for f in frames)


def test_max_nodes_applies_to_steps_too():
    x = Value(0.5)
    for _ in range(10):
        x = x.tanh()
    with pytest.raises(ValueError, match="max_nodes=5"):
        backward_steps(x, max_nodes=5, pin_layout=False)


# ---- a layout that stays put -----------------------------------------------------------------


def positions(frame):
    return {name: re.search(r'pos="([^"]+)!"', attrs).group(1)
            for name, attrs in nodes(frame).items()}


@needs_dot
def test_every_frame_pins_every_node_at_the_same_place():
    _, _, y = readme_example()
    frames = backward_steps(y)
    first = positions(frames[0])
    assert len(first) == 10
    assert all(positions(frame) == first for frame in frames)
    assert all(frame.engine == "neato" and frame.neato_no_op == 2 for frame in frames)


@needs_dot
def test_graphviz_keeps_the_pinned_places_when_laying_out_each_frame():
    loss = two_neurons()
    frames = backward_steps(loss, clusters=by_label_prefix)
    laid_out, boxes = [], []
    for frame in frames:
        drawing = json.loads(frame.pipe(format="json", encoding="utf-8"))
        laid_out.append({o["name"]: o["pos"] for o in drawing["objects"]
                         if o["name"].startswith("v")})
        boxes.append(drawing["bb"])
    assert all(places == laid_out[0] for places in laid_out)
    assert all(box == boxes[0] for box in boxes)   # same size: no frame shifts against another
    assert set(laid_out[0]) == set(nodes(frames[0]))
    # neato -n2 keeps coordinates as given, up to one shift of the whole picture.
    pinned = positions(frames[0])
    shifts = {tuple(round(float(a) - float(b), 1) for a, b in
                    zip(laid_out[0][n].split(","), pinned[n].split(",")))
              for n in pinned}
    assert len(shifts) == 1


def two_neurons():
    w = [Value(0.5, label="n0.w0"), Value(-0.25, label="n0.w1")]
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    h = (w[0] * x[0] + w[1] * x[1]).tanh()
    h.label = "n0.out"
    v = Value(0.8, label="n1.w0")
    out = v * h
    out.label = "n1.out"
    loss = (out - 1.0) ** 2
    loss.backward()
    return loss


@needs_dot
def test_frames_render_with_their_clusters():
    loss = two_neurons()
    frames = backward_steps(loss, clusters=by_label_prefix)
    svg = frames[2].pipe(format="svg", encoding="utf-8")
    assert svg.count('class="node"') == len(nodes(frames[2]))
    assert svg.count('class="cluster"') == 2   # n0 and n1


def test_without_dot_frames_build_unpinned_and_say_so(monkeypatch):
    monkeypatch.setenv("PATH", "")
    _, _, y = readme_example()
    with pytest.warns(UserWarning, match="layout not pinned.*apt-get install graphviz"):
        frames = backward_steps(y)
    assert len(frames) == 5
    assert all("pos=" not in f.source and "// layout not pinned" in f.source for f in frames)


def test_pin_layout_false_runs_no_program_and_warns_nothing(monkeypatch):
    monkeypatch.setenv("PATH", "")
    _, _, y = readme_example()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frames = backward_steps(y, pin_layout=False)
    assert all("pos=" not in f.source and "layout not pinned" not in f.source for f in frames)
