"""W1 for chainrule two ways in one process: the model called once per point, and once on
the whole batch (what ``python -m bench`` measures). Both build the same graph.

    python -m bench.per_point
"""

from __future__ import annotations

import statistics
import time

from bench.moons import REG, initial_weights, learning_rate, make_moons
from bench.w1_models import ChainruleMoons


def step_ms(per_point: bool) -> float:
    """Median ms of steps 2-11 of one W1 training run."""
    xs, ys = make_moons()
    run = ChainruleMoons(initial_weights(), xs, ys)
    model = run.model
    times = []
    for k in range(12):
        start = time.perf_counter()
        if per_point:
            scores = [model(x) for x in xs]
            hinge = [(1.0 - y * s).relu() for y, s in zip(ys, scores)]
            loss = run._vsum(hinge) * (1.0 / len(hinge)) + REG * run._vsum(
                [p * p for p in run.params])
        else:
            loss = run.forward()
        run.zero_grad()
        run.backward(loss)
        run.update(learning_rate(k))
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1e3


def main() -> None:
    per_point, batch = [], []
    for _ in range(5):  # alternate, so that both see the same machine
        per_point.append(step_ms(True))
        batch.append(step_ms(False))
    print(f"chainrule W1: model called per point {min(per_point):.2f} ms, on the batch "
          f"{min(batch):.2f} ms (best of 5 runs, each the median of steps 2-11)")


if __name__ == "__main__":
    main()
