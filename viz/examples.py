"""The example pictures in docs/img: one neuron's forward and backward graphs.

Regenerate them (Graphviz's ``dot`` must be installed) with

    python -m viz.examples docs/img

The neuron is the one of Karpathy's micrograd lecture, o = tanh(x1*w1 + x2*w2 + b), with
b chosen so that n = 0.8814 and o = 0.7071: its gradients come out as round numbers
(do/dn = 0.5, do/dw1 = 1, do/dx1 = -1.5) that a student can check by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine import Value
from viz.draw import draw_backward, draw_forward
from viz.files import write_atomic


def neuron() -> tuple[Value, list[Value]]:
    """o = tanh(x1*w1 + x2*w2 + b) with every intermediate labelled, and its parameters."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    total = x1w1 + x2w2
    total.label = "x1*w1 + x2*w2"
    n = total + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [w1, w2, b]


def write_examples(folder: str | Path) -> list[Path]:
    """Write neuron_forward.svg and neuron_backward.svg into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    o, params = neuron()
    forward = draw_forward(o, params=params)
    o.backward()
    backward = draw_backward(o, params=params)
    return [
        write_atomic(folder / f"neuron_{name}.svg", graph.pipe(format="svg", encoding="utf-8"))
        for name, graph in (("forward", forward), ("backward", backward))
    ]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for path in write_examples(args[0] if args else "docs/img"):
        print(path)


if __name__ == "__main__":
    main()
