"""Do threads disturb each other's gradients? Two experiments, each counting wrong answers.

    python -m bench.threads

1. no_grad in one thread, training in another: a thread evaluates under ``no_grad()`` in a
   loop while the main thread runs ``y = (w*3 + 1).tanh() * w; y.backward()`` 2,000 times
   and compares ``w.grad`` with the single-threaded answer.
2. Four threads, each building and backpropagating 300 small graphs of its own with the
   interpreter switching threads every 10 microseconds; each gradient is compared with the
   same graph backpropagated alone.

Both counts must be 0. This is a diagnostic, not a benchmark: it prints counts, not times.
"""

from __future__ import annotations

import sys
import threading

from engine import Value, no_grad


def _one_step() -> float:
    w = Value(0.5)
    y = (w * 3 + 1).tanh() * w
    y.backward()
    return w.grad


def no_grad_leaks(steps: int = 2000) -> int:
    """How many of ``steps`` backward passes gave a wrong gradient while a thread evaluated."""
    expected = _one_step()
    stop = threading.Event()

    def evaluate() -> None:
        x = Value(1.0)
        while not stop.is_set():
            with no_grad():
                for _ in range(50):
                    x * 2 + 1

    worker = threading.Thread(target=evaluate)
    worker.start()
    try:
        wrong = sum(_one_step() != expected for _ in range(steps))
    finally:
        stop.set()
        worker.join()
    return wrong


def _small_graph(seed: int) -> tuple[list[Value], Value]:
    a, b, c = Value(seed * 0.01 + 0.3), Value(-0.7), Value(1.1 + seed * 0.001)
    h = (a * b + c).tanh()
    y = (h * a + (b * c).sigmoid() * h - a / c) ** 2
    return [a, b, c], y


def _gradients(seed: int) -> list[float]:
    leaves, y = _small_graph(seed)
    y.backward()
    return [leaf.grad for leaf in leaves]


def tape_mixes(threads: int = 4, graphs: int = 300) -> int:
    """How many of ``threads * graphs`` backward passes differ from the single-threaded run."""
    expected = {seed: _gradients(seed) for seed in range(graphs)}
    wrong = [0] * threads

    def work(t: int) -> None:
        for seed in range(graphs):
            if _gradients(seed) != expected[seed]:
                wrong[t] += 1

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(previous)
    return sum(wrong)


def main() -> None:
    print(f"no_grad in another thread: {no_grad_leaks()} of 2000 backward passes wrong")
    print(f"four threads backpropagating: {tape_mixes()} of 1200 backward passes wrong")


if __name__ == "__main__":
    main()
