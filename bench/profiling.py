"""``python -m bench --profile W1``: where chainrule's time goes, function by function.

Runs in the calling process (no worker): builds W1's model (W1p's, W1m's: called per point,
in micrograd's demo code), runs the 2 warm-up steps unprofiled, then profiles the 10 timed
steps with cProfile and prints the functions with the most time of their own, then the most
time including what they call. ``--profile W2`` profiles one build and backward of W2's
random expression instead. cProfile adds overhead per call, so the split between functions
is what to read here, not the total.
"""

from __future__ import annotations

import cProfile
import pstats

from bench.engines import scalar_engine
from bench.moons import initial_weights, learning_rate, make_moons
from bench.w1_models import W1_MODELS
from bench.workloads import FULL, QUICK, SEED, random_program, run_program

TOP = 25


def profile(workload: str, quick: bool = False) -> pstats.Stats:
    """Profile chainrule on ``workload`` (W1, W1p, W1m, W2), print the top functions, return them."""
    sizes = QUICK if quick else FULL
    profiler = cProfile.Profile()
    if workload in W1_MODELS:
        xs, ys = make_moons()
        model = W1_MODELS[workload]["chainrule"](initial_weights(), xs, ys)
        print(f"chainrule {workload} model: {model.description}")
        for k in range(sizes.w1_warmup + sizes.w1_timed):
            if k == sizes.w1_warmup:
                profiler.enable()
            loss = model.forward()
            model.zero_grad()
            model.backward(loss)
            model.update(learning_rate(k))
        profiler.disable()
        print(f"profiled steps {sizes.w1_warmup}..{sizes.w1_warmup + sizes.w1_timed - 1}")
    elif workload == "W2":
        ops = scalar_engine("chainrule")
        program = random_program(sizes.w2_leaves, sizes.w2_ops, SEED, with_tanh=False)
        frontier = [ops.leaf(x) for x in program.frontier]
        scales = [ops.leaf(x) for x in program.scales]
        profiler.enable()
        root = run_program(program, frontier, scales)
        root.backward()
        profiler.disable()
        print(f"profiled one build and backward of {program.op_nodes:,} op nodes")
    else:
        raise ValueError(f"--profile takes W1, W1p, W1m or W2, not {workload!r}")
    stats = pstats.Stats(profiler)
    for order, title in (("tottime", "own time"), ("cumulative", "time including callees")):
        print(f"\n== top {TOP} functions by {title} ==")
        stats.sort_stats(order).print_stats(TOP)
    return stats
