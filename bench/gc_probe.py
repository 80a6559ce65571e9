"""How much of chainrule's W2 forward pass is Python's cycle collector, two ways:

* as is (the collector on, as users run it);
* with the collector off (``gc.disable()``), for the floor.

Each way runs in its own process. This is a diagnostic, not a workload of the benchmark.
(It once had a third way, a list holding every new node, which showed that such a list
makes the collector's work cheaper: the engine's tape, ``engine/tape.py``, is that list.)

    python -m bench.gc_probe
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
from time import perf_counter

from bench.workloads import FULL, SEED, random_program, run_program

WAYS = ("as-is", "gc-off")


def forward_ns(way: str) -> float:
    """Median ns per op node of W2's forward pass over 3 builds, in this process."""
    from engine import value

    if way == "gc-off":
        gc.disable()
    program = random_program(FULL.w2_leaves, FULL.w2_ops, SEED, with_tanh=False)
    times = []
    for _ in range(3):
        frontier = [value.Value(x) for x in program.frontier]
        scales = [value.Value(x) for x in program.scales]
        start = perf_counter()
        root = run_program(program, frontier, scales)
        times.append((perf_counter() - start) * 1e9 / program.op_nodes)
        root.backward()  # empties the tape, so that each build starts from the same state
        del root
    return statistics.median(times)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--way":
        print(forward_ns(sys.argv[2]))
        return
    for way in WAYS:
        result = subprocess.run([sys.executable, "-m", "bench.gc_probe", "--way", way],
                                check=True, capture_output=True, text=True)
        print(f"W2 forward, {way:>6}: {float(result.stdout):,.0f} ns per op node")


if __name__ == "__main__":
    main()
