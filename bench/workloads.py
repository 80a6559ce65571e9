"""The four workloads of issue 6, each a function ``measure_wN(engine, sizes) -> dict``.

* W1 training step: micrograd's demo step (see ``w1_models.py``), timed as steps 2-11 of a
  training run, rounds repeated from the same initial weights until at least 1 s is timed.
  W1p and W1m: the same step with chainrule's model called once per point, and written as
  micrograd's demo is.
* W2 per-node cost: a random expression of +, *, relu (and tanh in W2t), then backward.
* W3 depth: x -> x*1.0001 + 0.001 repeated N times, then backward.
* W4 memory: bytes per node of a W2-style graph, with tracemalloc.

Times come from ``time.perf_counter`` inside the process. Python's garbage collector stays
on, as users run it. Every result is a plain dict of numbers and strings (it becomes JSON).
"""

from __future__ import annotations

import gc
import math
import os
import random
import statistics
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Self

from bench.engines import ScalarEngine, scalar_engine
from bench.moons import initial_weights, learning_rate, make_moons
from bench.w1_models import W1_MODELS


@dataclass(frozen=True)
class Sizes:
    """How big each workload is: ``FULL`` for a measurement, ``QUICK`` for a smoke run."""

    w1_warmup: int = 2
    w1_timed: int = 10
    w1_min_seconds: float = 1.0
    w2_leaves: int = 4096
    w2_ops: int = 200_000
    w2_builds: int = 3
    w3_depths: tuple[int, ...] = (10**3, 10**4, 10**5, 10**6)
    w3_time_limit: float = 120.0
    w4_leaves: int = 1024
    w4_nodes: int = 100_000


FULL = Sizes()
QUICK = Sizes(w1_timed=3, w1_min_seconds=0.0, w2_leaves=256, w2_ops=5000, w2_builds=1,
              w3_depths=(10**3, 10**4), w4_leaves=256, w4_nodes=5000)

SEED = 2024


class GcClock:
    """Seconds spent in Python's cyclic garbage collector while inside ``with GcClock()``.

    The collector runs on its own whenever enough objects have been allocated, inside
    whatever code is timed; ``gc.callbacks`` tells when each collection starts and stops.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = perf_counter()
        else:
            self.seconds += perf_counter() - self._started

    def __enter__(self) -> Self:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


# ---- W1: training step ------------------------------------------------------------------


def measure_w1(engine: str, sizes: Sizes = FULL, workload: str = "W1") -> dict[str, Any]:
    """Median seconds per training step (and its forward and backward parts), graph nodes
    per step, the losses of one run, and the step-1 gradients compared with torch-batched.

    ``workload`` says how the model is called: "W1" in each engine's fastest idiom, "W1p"
    (chainrule) once per point, "W1m" (chainrule) as micrograd's demo is written.
    """
    xs, ys = make_moons()
    layers = initial_weights()
    make_model = W1_MODELS[workload][engine]
    n_steps = sizes.w1_warmup + sizes.w1_timed

    # An untimed run first: the loss at each step and the size of each step's graph.
    model = make_model(layers, xs, ys)
    losses, nodes = [], []
    for k in range(n_steps):
        loss = model.forward()
        losses.append(model.loss_value(loss))
        nodes.append(model.count_nodes(loss))
        model.zero_grad()
        model.backward(loss)
        model.update(learning_rate(k))
    description = model.description
    del model, loss

    timed = time_w1_steps(make_model, sizes)
    timed_nodes = [n for n in nodes[sizes.w1_warmup:] if n is not None]
    result = {
        "model": description,
        "seconds_per_step": statistics.median(timed["step"]),
        "forward_seconds": statistics.median(timed["forward"]),
        "backward_seconds": statistics.median(timed["backward"]),
        "gc_share": sum(timed["gc"]) / sum(timed["step"]),
        "steps_timed": len(timed["step"]),
        "rounds": timed["rounds"],
        "nodes_per_step": statistics.mean(timed_nodes) if timed_nodes else None,
        "nodes_by_step": nodes,
        "losses": losses,
    }
    if engine != "torch-batched":
        result["check"] = compare_with_torch_batched(make_model, layers, xs, ys)
    return result


def time_w1_steps(make_model: Callable[..., Any], sizes: Sizes = FULL) -> dict[str, Any]:
    """Seconds of every timed step, with its forward, backward and garbage-collector parts.

    The timed steps are always steps 2..11 of a run from the initial weights: later steps
    are cheaper for an engine that prunes dead ReLUs, so timing "as many steps as fit" would
    ease its workload. Runs are repeated until ``sizes.w1_min_seconds`` have been timed.
    """
    xs, ys = make_moons()
    layers = initial_weights()
    times: dict[str, Any] = {"step": [], "forward": [], "backward": [], "gc": [], "rounds": 0}
    with GcClock() as collector:
        while times["rounds"] == 0 or (sum(times["step"]) < sizes.w1_min_seconds
                                       and times["rounds"] < 1000):
            model = make_model(layers, xs, ys)
            for k in range(sizes.w1_warmup + sizes.w1_timed):
                # Rebinding ``loss`` frees the previous step's graph inside the timed
                # forward: freeing is part of what a training step costs.
                gc_before = collector.seconds
                t0 = perf_counter()
                loss = model.forward()
                t1 = perf_counter()
                model.zero_grad()
                model.backward(loss)
                t2 = perf_counter()
                model.update(learning_rate(k))
                t3 = perf_counter()
                if k >= sizes.w1_warmup:
                    times["step"].append(t3 - t0)
                    times["forward"].append(t1 - t0)
                    times["backward"].append(t2 - t1)
                    times["gc"].append(collector.seconds - gc_before)
            del model, loss
            times["rounds"] += 1
    return times


def compare_with_torch_batched(make_model: Callable[..., Any], layers: list[Any],
                               xs: list[list[float]], ys: list[float]) -> dict[str, Any]:
    """Loss and all gradients of step 1, ``make_model``'s against torch-batched (float64).

    Runs after the timing: importing torch earlier would change what the garbage collector
    walks during the timed steps.
    """
    model = make_model(layers, xs, ys)
    loss = model.forward()
    model.zero_grad()
    model.backward(loss)
    ours = [model.loss_value(loss), *model.gradients()]
    try:
        reference = W1_MODELS["W1"]["torch-batched"](layers, xs, ys)
    except ImportError:
        return {"status": "torch not installed"}
    loss = reference.forward()
    reference.zero_grad()
    reference.backward(loss)
    theirs = [reference.loss_value(loss), *reference.gradients()]
    return {
        "status": "ok",
        "gradients": len(ours) - 1,
        "max_abs_diff": max(abs(a - b) for a, b in zip(ours, theirs, strict=True)),
    }


# ---- W2: per-node cost ------------------------------------------------------------------

ADD, MUL, RELU, TANH = range(4)


@dataclass(frozen=True)
class Program:
    """A random expression as data: leaf values and a list of (op, i, j) steps."""

    frontier: list[float]
    scales: list[float]
    ops: list[tuple[int, int, int]]

    @property
    def op_nodes(self) -> int:
        """Op nodes the program creates: its ops plus the adds of the final tree sum."""
        return len(self.ops) + len(self.frontier) - 1


def random_program(n_leaves: int, n_ops: int, seed: int, with_tanh: bool) -> Program:
    """The baseline's random expression: n_leaves frontier leaves f and scale leaves s, then
    n_ops steps: 40% f[i] = f[i] + f[j], 40% f[i] = f[i] * s[k] (0.5 <= |s| <= 1), 20%
    f[i] = relu(f[i]) (with ``with_tanh``: 10% relu, 10% tanh). Drawn before timing."""
    rng = random.Random(seed)
    frontier = [rng.uniform(-1.0, 1.0) for _ in range(n_leaves)]
    scales = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.0) for _ in range(n_leaves)]
    ops = []
    for _ in range(n_ops):
        r = rng.random()
        i = rng.randrange(n_leaves)
        if r < 0.4:
            ops.append((ADD, i, rng.randrange(n_leaves)))
        elif r < 0.8:
            ops.append((MUL, i, rng.randrange(n_leaves)))
        elif with_tanh and r >= 0.9:
            ops.append((TANH, i, 0))
        else:
            ops.append((RELU, i, 0))
    return Program(frontier, scales, ops)


def run_program(program: Program, frontier: list[Any], scales: list[Any]) -> Any:
    """Apply the program's steps to the leaves, then sum the frontier as a balanced tree."""
    f = list(frontier)
    for op, i, j in program.ops:
        if op == ADD:
            f[i] = f[i] + f[j]
        elif op == MUL:
            f[i] = f[i] * scales[j]
        elif op == RELU:
            f[i] = f[i].relu()
        else:
            f[i] = f[i].tanh()
    while len(f) > 1:
        pairs = [f[k] + f[k + 1] for k in range(0, len(f) - 1, 2)]
        f = [*pairs, f[-1]] if len(f) % 2 else pairs
    return f[0]


def measure_w2(engine: str, sizes: Sizes = FULL, with_tanh: bool = False) -> dict[str, Any]:
    """Nanoseconds per op node, forward and backward, median over ``sizes.w2_builds`` builds.

    Leaves are made before the clock starts; the forward time covers the program's ops and
    the tree sum, so it includes the interpreter's loop over the program (about 60 ns per
    op on plain floats, the same for every engine).
    """
    ops = scalar_engine(engine)
    if with_tanh and not ops.has_tanh:
        return {"status": f"{engine} has no tanh"}
    program = random_program(sizes.w2_leaves, sizes.w2_ops, SEED, with_tanh)
    forward_ns, backward_ns, gc_share = [], [], []
    for _ in range(sizes.w2_builds):
        gc.collect()
        frontier = [ops.leaf(x) for x in program.frontier]
        scales = [ops.leaf(x) for x in program.scales]
        with GcClock() as collector:
            t0 = perf_counter()
            root = run_program(program, frontier, scales)
            t1 = perf_counter()
            root.backward()
            t2 = perf_counter()
        forward_ns.append((t1 - t0) * 1e9 / program.op_nodes)
        backward_ns.append((t2 - t1) * 1e9 / program.op_nodes)
        gc_share.append(collector.seconds / (t2 - t0))
        grads = [ops.grad_of(v) for v in frontier + scales]
        root_value = ops.value_of(root)
        del root, frontier, scales
    return {
        "op_nodes": program.op_nodes,
        "builds": sizes.w2_builds,
        "forward_ns_per_node": statistics.median(forward_ns),
        "backward_ns_per_node": statistics.median(backward_ns),
        "gc_share": statistics.median(gc_share),
        "root": root_value,
        "leaf_grad_sum": math.fsum(grads),
        "nonzero_leaf_grads": sum(g != 0.0 for g in grads) / len(grads),
    }


# ---- W3: depth --------------------------------------------------------------------------

GROWTH = 1.0001


def measure_w3(engine: str, sizes: Sizes = FULL) -> dict[str, Any]:
    """For each depth N: x -> x*1.0001 + 0.001 N times, then backward; dy/dx = 1.0001**N.

    Depths stop growing once one fails, or once ten times the last depth's time would pass
    ``sizes.w3_time_limit`` or ten times its memory would pass half of the available RAM.
    """
    ops = scalar_engine(engine)
    depths: list[dict[str, Any]] = []
    stop_reason = ""
    for n in sizes.w3_depths:
        if stop_reason:
            depths.append({"n": n, "status": stop_reason})
            continue
        row = _chain(ops, n)
        depths.append(row)
        if row["status"] != "ok":
            stop_reason = f"not run ({row['status']} at N={short_count(n)})"
            continue
        projected_s = 10 * (row["forward_seconds"] + row["backward_seconds"])
        projected_bytes = 10 * row["rss_growth_bytes"] if row["rss_growth_bytes"] else 0
        available = _available_memory()
        if projected_s > sizes.w3_time_limit:
            stop_reason = f"skipped (projected {projected_s:.0f} s > {sizes.w3_time_limit:.0f} s)"
        elif available and projected_bytes > available / 2:
            stop_reason = (f"skipped (projected {projected_bytes / 1e9:.1f} GB > half of "
                           f"{available / 1e9:.1f} GB available)")
    return {"depths": depths}


def short_count(n: int) -> str:
    """1000 -> "1e3"; numbers that are not powers of ten keep their digits."""
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"1e{exponent}" if 10**exponent == n else f"{n:,}"


def _chain(ops: ScalarEngine, n: int) -> dict[str, Any]:
    gc.collect()
    x = ops.leaf(1.0)
    rss_before = _rss()
    t0 = perf_counter()
    y = x
    for _ in range(n):
        y = y * GROWTH + 0.001
    t1 = perf_counter()
    rss_growth = _rss() - rss_before if rss_before else None
    try:
        y.backward()
    except RecursionError:
        del y
        gc.collect()
        return {"n": n, "status": "RecursionError", "forward_seconds": t1 - t0}
    t2 = perf_counter()
    expected = GROWTH**n
    relative_error = abs(ops.grad_of(x) - expected) / expected
    del y
    gc.collect()
    return {
        "n": n,
        "status": "ok" if relative_error < 1e-6 else "wrong gradient",
        "forward_seconds": t1 - t0,
        "backward_seconds": t2 - t1,
        "relative_error": relative_error,
        "rss_growth_bytes": rss_growth,
    }


def _rss() -> int | None:
    """Resident memory of this process in bytes (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (Linux only; None elsewhere)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


# ---- W4: memory -------------------------------------------------------------------------


def measure_w4(engine: str, sizes: Sizes = FULL) -> dict[str, Any]:
    """Bytes per node of a W2-style graph of ``sizes.w4_nodes`` nodes (leaves included).

    tracemalloc counts what Python allocates: what the graph retains after forward, and the
    peak while backward runs (graph plus backward's working memory). torch keeps its graph
    in C++, out of tracemalloc's sight; the resident-memory growth (RSS, measured first, in
    a build of its own) sees it, coarsely.
    """
    ops = scalar_engine(engine)
    n_leaves = sizes.w4_leaves
    n_ops = sizes.w4_nodes - 2 * n_leaves - (n_leaves - 1)
    program = random_program(n_leaves, n_ops, SEED, with_tanh=False)
    nodes = 2 * n_leaves + program.op_nodes

    gc.collect()
    rss_before = _rss()
    root = run_program(program, [ops.leaf(x) for x in program.frontier],
                       [ops.leaf(x) for x in program.scales])
    rss_growth = _rss() - rss_before if rss_before else None
    root.backward()  # chainrule's tape keeps a graph until a backward (or its size limit)
    del root
    gc.collect()

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = run_program(program, [ops.leaf(x) for x in program.frontier],
                       [ops.leaf(x) for x in program.scales])
    after_forward = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    root.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "nodes": nodes,
        "retained_bytes_per_node": (after_forward - before) / nodes,
        "backward_peak_bytes_per_node": (peak - before) / nodes,
        "rss_bytes_per_node": rss_growth / nodes if rss_growth is not None else None,
        "python_side_only": engine == "torch-scalar",
    }


WORKLOADS = {
    "W1": measure_w1,
    "W1p": lambda engine, sizes=FULL: measure_w1(engine, sizes, workload="W1p"),
    "W1m": lambda engine, sizes=FULL: measure_w1(engine, sizes, workload="W1m"),
    "W1c": lambda engine, sizes=FULL: measure_w1(engine, sizes, workload="W1c"),
    "W1cp": lambda engine, sizes=FULL: measure_w1(engine, sizes, workload="W1cp"),
    "W2": measure_w2,
    "W2t": lambda engine, sizes=FULL: measure_w2(engine, sizes, with_tanh=True),
    "W3": measure_w3,
    "W4": measure_w4,
}
