"""The numbers in the golden pictures (tests/golden/) are PyTorch's, not only chainrule's.

The golden DOT files are regression pins: ``--update-golden`` writes them from chainrule's
own drawings, so test_viz_golden.py catches a change, not a wrong number. Here every
labelled node's ``data`` and ``grad`` in a golden file is checked against the same graph
run on PyTorch float64 tensors, printed at the picture's precision.
"""

import math
import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"

# A labelled node's table: <B>label</B> ... data X ... grad Y (grad only on backward pictures)
NODE = re.compile(r"<B>([^<]+)</B> <FONT[^>]*>v\d+</FONT></TD></TR>"
                  r"<TR><TD>(?:<FONT[^>]*>)?data ([^<]+)(?:</FONT>)?</TD></TR>"
                  r"(?:<TR><TD><B>grad ([^<]+)</B>)?")


def shown(path):
    """{label: (data, grad or None)} as the golden picture prints them."""
    return {label: (data, grad) for label, data, grad in NODE.findall(path.read_text())}


def as_printed(x, digits):
    return f"{x:.{digits}g}"


def readme_example(torch):
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    y = (a * b + a**2).tanh()
    y.backward()
    return {"a": (a, a.grad), "b": (b, b.grad), "y": (y, 1.0)}


def two_neurons(torch):
    def leaf(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    w0, w1, b, v, c = leaf(0.5), leaf(-0.25), leaf(0.1), leaf(0.8), leaf(-0.3)
    h = (w0 * 1.0 + w1 * -2.0 + b).tanh()
    h.retain_grad()
    out = v * h + c
    loss = (out - 1.0) ** 2
    loss.backward()
    return {"l0.n0.w0": (w0, w0.grad), "l0.n0.w1": (w1, w1.grad), "l0.n0.b": (b, b.grad),
            "l0.n0.out": (h, h.grad), "l1.n0.w0": (v, v.grad), "l1.n0.b": (c, c.grad),
            "loss": (loss, 1.0)}


CASES = [  # (golden file, graph in torch, significant digits printed, has gradients)
    ("readme_forward.gv", readme_example, 4, False),
    ("readme_backward.gv", readme_example, 4, True),
    ("readme_backward_tb.gv", readme_example, 3, True),
    ("neurons_forward_clusters.gv", two_neurons, 4, False),
    ("neurons_backward_clusters.gv", two_neurons, 4, True),
]


@pytest.mark.parametrize(("name", "graph", "digits", "backward"), CASES,
                         ids=[case[0] for case in CASES])
def test_the_golden_pictures_numbers_are_torchs(name, graph, digits, backward, torch):
    printed = shown(GOLDEN / name)
    expected = graph(torch)
    assert set(printed) == set(expected), f"{name} labels {sorted(printed)}"
    for label, (value, gradient) in expected.items():
        data, grad = printed[label]
        value, gradient = value.item(), float(gradient)
        assert data == as_printed(value, digits), (label, data, value)
        if backward:
            assert grad == as_printed(gradient, digits), (label, grad, gradient)
        else:
            assert grad == ""


def test_the_pattern_finds_the_nodes_it_should():
    # guards the regular expression: a file with no labelled node would check nothing
    assert len(shown(GOLDEN / "readme_backward.gv")) == 3
    assert math.isfinite(float(shown(GOLDEN / "neurons_backward_clusters.gv")["loss"][0]))

