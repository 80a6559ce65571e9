"""How much of chainrule's W2 forward pass is Python's cycle collector, three ways:

* as is (the collector on, as users run it);
* with a module-level list holding every new node (a "tape"): the collector then finds each
  node reachable at once instead of first taking it as garbage and moving it back;
* with the collector off (``gc.disable()``), for the floor.

Each way runs in its own process. This is a diagnostic for the tape decision (issue 6), not
a workload of the benchmark.

    python -m bench.gc_probe
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
from time import perf_counter

from bench.workloads import FULL, SEED, random_program, run_program

WAYS = ("as-is", "tape", "gc-off")


def forward_ns(way: str) -> float:
    """Median ns per op node of W2's forward pass over 3 builds, in this process."""
    from engine import value

    if way == "tape":
        tape: list = []
        make = value._node

        def logged(op, data, a, b):  # the same node, also appended to the tape
            out = make(op, data, a, b)
            tape.append(out)
            return out

        value._node = logged
    if way == "gc-off":
        gc.disable()
    program = random_program(FULL.w2_leaves, FULL.w2_ops, SEED, with_tanh=False)
    times = []
    for _ in range(3):
        frontier = [value.Value(x) for x in program.frontier]
        scales = [value.Value(x) for x in program.scales]
        start = perf_counter()
        run_program(program, frontier, scales)
        times.append((perf_counter() - start) * 1e9 / program.op_nodes)
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
