"""What each activation costs inside a fused neuron: ns per neuron node, forward + backward.

    python -m bench.activations              # 5 rounds
    python -m bench.activations --rounds 1

W1's model and data (an MLP 2-16-16-1 on 100 moons points, called on the batch), with the
hidden layers' activation set to each one nn offers; the loss is a plain sum of squares so
that every node gets a gradient. The activations take turns within each round, so a busy
spell of the machine falls on all of them; the best round of each is printed, with its
ratio to relu's. ELU, softplus and GELU recompute each neuron's w . x + b in backward (their
slope needs it), which is the price this table shows.
"""

from __future__ import annotations

import argparse
import time

from bench.moons import make_moons
from engine import vsum
from nn import MLP
from nn.activations import ACTIVATIONS


def ns_per_node(activation: str, xs: list[list[float]]) -> tuple[float, float]:
    """Forward and backward ns per hidden neuron node, the median of 10 steps."""
    model = MLP(2, [16, 16, 1], activation=activation, seed=0)
    nodes = len(xs) * (16 + 16 + 1)
    forward, backward = [], []
    for _ in range(12):
        t0 = time.perf_counter()
        scores = model(xs)
        loss = vsum([s * s for s in scores])
        t1 = time.perf_counter()
        model.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        forward.append(t1 - t0)
        backward.append(t2 - t1)
    return (sorted(forward[2:])[5] / nodes * 1e9, sorted(backward[2:])[5] / nodes * 1e9)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.activations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    xs, _ = make_moons()
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for activation in ACTIVATIONS:
            f, b = ns_per_node(activation, xs)
            if activation not in best or f + b < sum(best[activation]):
                best[activation] = (f, b)
    relu = sum(best["relu"])
    print(f"{'activation':<12} {'forward ns':>10} {'backward ns':>11} {'total':>7}  vs relu")
    for activation, (f, b) in best.items():
        print(f"{activation:<12} {f:>10.0f} {b:>11.0f} {f + b:>7.0f}  {(f + b) / relu:.2f}x")


if __name__ == "__main__":
    main()
