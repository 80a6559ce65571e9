"""Experiment 1: the chain rule against numerical differentiation, as the model grows.

    python docs/experiments/chain_rule_vs_numerical.py               # widths 4 to 128
    python docs/experiments/chain_rule_vs_numerical.py --widths 2 4  # a quick look

The model is an MLP with 4 inputs, one hidden layer of width h (tanh) and one output, so it
has N = 6h + 1 parameters; the loss is its mean squared error on a fixed batch of 16 points.
Its gradient is computed two ways:

* numerically, by central differences: for each parameter, two forward passes with that
  parameter moved by +eps and -eps. That is 2N forward passes, and one forward pass costs
  time proportional to N (every weight is used once per point), so the time grows like N^2;
* by the chain rule: one forward pass and one ``backward()``, each costing time
  proportional to N, so the time grows like N.

Each row prints N, how many forward passes each method ran (counted, not assumed), both
times (the fastest of a few runs), how much slower the numerical one is, and the largest
difference between the two gradients: numerical derivatives are only approximate.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run from anywhere: find engine and nn in the repository
    sys.path.insert(0, str(ROOT))

from engine import Value, no_grad
from nn import MLP, losses


def numerical_gradient(loss_fn: Callable[[], Value], params: list[Value],
                       eps: float = 1e-6) -> list[float]:
    """(L(p + eps) - L(p - eps)) / (2 eps) for each parameter p in turn: 2N forward passes."""
    grads = []
    with no_grad():  # forward passes only: no graph is needed
        for p in params:
            original = p.data
            p.data = original + eps
            up = loss_fn().data
            p.data = original - eps
            down = loss_fn().data
            p.data = original
            grads.append((up - down) / (2 * eps))
    return grads


def chain_rule_gradient(loss_fn: Callable[[], Value], params: list[Value]) -> list[float]:
    """One forward pass and one backward(): every dL/dp at once."""
    for p in params:
        p.grad = 0.0
    loss_fn().backward()
    return [p.grad for p in params]


def fastest(run: Callable[[], object], repeats: int, budget: float = 1.0) -> float:
    """The shortest wall-clock time of up to ``repeats`` runs (the least disturbed by other
    work), stopping early once ``budget`` seconds have been spent."""
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget:
            break
    return best


def growth_exponent(sizes: list[int], seconds: list[float]) -> float:
    """k in time ~ N^k: the least-squares slope of log(time) against log(N)."""
    xs = [math.log(n) for n in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))


def measure(width: int, repeats: int = 3, seed: int = 0) -> dict:
    """Both gradients of an MLP 4-width-1 on 16 points: passes counted, times, difference."""
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(16)]
    y = [rng.uniform(-1, 1) for _ in range(16)]
    model = MLP(4, [width, 1], activation="tanh", seed=seed)
    params = model.parameters()
    passes = 0

    def loss_fn() -> Value:
        nonlocal passes
        passes += 1
        return losses.mse([model(x) for x in X], y)

    numeric = numerical_gradient(loss_fn, params)
    numeric_passes, passes = passes, 0
    exact = chain_rule_gradient(loss_fn, params)
    chain_passes = passes
    return {
        "N": len(params),
        "numeric_passes": numeric_passes,
        "chain_passes": chain_passes,
        "numeric_seconds": fastest(lambda: numerical_gradient(loss_fn, params), repeats),
        "chain_seconds": fastest(lambda: chain_rule_gradient(loss_fn, params), repeats),
        "max_difference": max(abs(a - b) for a, b in zip(numeric, exact)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chain rule vs numerical differentiation.")
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128],
                        help="hidden widths h to try (N = 6h + 1 parameters)")
    parser.add_argument("--repeats", type=int, default=3, help="timing runs per method")
    args = parser.parse_args(argv)
    print("     N  forward passes: numerical  chain rule  |  time: numerical  chain rule"
          "   ratio  |  max |difference|")
    rows = []
    for width in args.widths:
        row = measure(width, args.repeats)
        rows.append(row)
        ratio = row["numeric_seconds"] / row["chain_seconds"]
        print(f"{row['N']:6d}  {row['numeric_passes']:>26d}  {row['chain_passes']:>10d}"
              f"  |  {row['numeric_seconds']:>13.4f}s  {row['chain_seconds']:>9.4f}s"
              f"  {ratio:>6.0f}x  |  {row['max_difference']:.1e}")
    print("(chain rule: 1 forward pass, then 1 backward pass costing a small multiple of it, 1-3x)")
    large = rows[len(rows) // 2:]  # small models are dominated by fixed overheads
    if len(large) >= 2:
        sizes = [row["N"] for row in large]
        numeric = growth_exponent(sizes, [row["numeric_seconds"] for row in large])
        chain = growth_exponent(sizes, [row["chain_seconds"] for row in large])
        print(f"time grows like N^{numeric:.1f} (numerical) and N^{chain:.1f} (chain rule) "
              f"from N = {sizes[0]} to {sizes[-1]}")


if __name__ == "__main__":
    main()
