"""Golden DOT files: each drawing's ``.source`` must equal, character for character, a
reviewed copy in tests/golden/. Any change to what a picture says shows up as a diff.

After an intended change, regenerate them and review the diff before committing:

    python -m pytest tests/test_viz_golden.py --update-golden
    git diff tests/golden/
"""

from pathlib import Path

import pytest

from engine import Value, linear
from nn import MLP
from viz import backward_steps, by_label_prefix, draw_backward, draw_forward

GOLDEN = Path(__file__).parent / "golden"


def readme_example():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    y = (a * b + a**2).tanh()
    y.label = "y"
    y.backward()
    return y


def two_neurons():
    """One tanh neuron of two inputs feeding one linear neuron, with a squared error."""
    w = [Value(0.5, label="l0.n0.w0"), Value(-0.25, label="l0.n0.w1")]
    b = Value(0.1, label="l0.n0.b")
    (h,) = linear([w], [b], [1.0, -2.0], activation="tanh")
    h.label = "l0.n0.out"
    v, c = Value(0.8, label="l1.n0.w0"), Value(-0.3, label="l1.n0.b")
    (out,) = linear([[v]], [c], [h])
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, [*w, b, v, c]


def small_mlp():
    """A real model, MLP(2 -> 3 -> 1), and the squared error of one point (every ReLU on)."""
    model = MLP(2, [3, 1], seed=1)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, model


def drawing(case):
    if case == "readme_forward":
        return draw_forward(readme_example())
    if case == "readme_backward":
        return draw_backward(readme_example())
    if case == "readme_backward_tb":
        return draw_backward(readme_example(), rankdir="TB", precision=3)
    if case == "readme_step2":
        return backward_steps(readme_example(), pin_layout=False)[2]
    if case == "mlp_named_backward":
        loss, model = small_mlp()
        return draw_backward(loss, params=dict(model.named_parameters()))
    loss, params = two_neurons()
    if case == "neurons_forward_clusters":
        return draw_forward(loss, params=params, clusters=by_label_prefix)
    return draw_backward(loss, params=params, clusters=by_label_prefix)


CASES = ["readme_forward", "readme_backward", "readme_backward_tb", "readme_step2",
         "neurons_forward_clusters", "neurons_backward_clusters", "mlp_named_backward"]


@pytest.mark.parametrize("case", CASES)
def test_the_dot_source_matches_its_golden_file(case, request):
    source = drawing(case).source
    golden = GOLDEN / f"{case}.gv"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run pytest with --update-golden"
    assert source == golden.read_text(encoding="utf-8")


def test_drawing_twice_gives_the_same_text():
    assert drawing("neurons_backward_clusters").source == drawing(
        "neurons_backward_clusters").source
