"""chainrule's W1 rows in one process, in turns: the model called on the batch (W1), once
per point (W1p), in micrograd's demo code (W1m), its step compiled (W1c, ``nn.compiled``)
and through a compiled per-point function (W1cp, ``engine.trace(..., params=)``), and the
by-hand floor (plain floats, the gradient derived on paper: ``w1_by_hand.py``); then the
one-off cost of W1c's compiled step and the number of steps that repay it against W1.

    python -m bench.w1_styles              # 5 rounds
    python -m bench.w1_styles --rounds 1

``python -m bench`` measures each row in a fresh process of its own; here the rows take
turns, so they meet the same spells of a busy machine and their ratios move less. A round
is one training run of each row, timed as ``python -m bench`` times W1 (the median of steps
2-11); the best round of each row is printed, with its ratio to W1 batched.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from time import perf_counter

from bench.moons import initial_weights, make_moons
from bench.w1_models import W1_MODELS, W1_ROWS
from bench.workloads import FULL, time_w1_steps

ONE_RUN = replace(FULL, w1_min_seconds=0.0)

ROWS: dict[str, type] = {
    **{name: W1_MODELS[workload]["chainrule"] for workload, name in W1_ROWS.items()},
    "by-hand floats": W1_MODELS["W1"]["by-hand"],
}
"""The rows that take turns, by the name printed, and the model each one trains."""


def median_step_ms(model: type) -> float:
    """Median ms of steps 2-11 of one training run of ``model`` (a class of ``W1_MODELS``)."""
    timed = time_w1_steps(model, ONE_RUN)
    return statistics.median(timed["step"]) * 1e3


def step_ms(workload: str = "W1") -> float:
    """``median_step_ms`` of chainrule's ``workload`` (W1, W1p, W1m)."""
    return median_step_ms(W1_MODELS[workload]["chainrule"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.w1_styles", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the rows (default 5)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    times: dict[str, list[float]] = {name: [] for name in ROWS}
    for _ in range(args.rounds):
        for name, runs in times.items():
            runs.append(median_step_ms(ROWS[name]))
    batched, floor = min(times[W1_ROWS["W1"]]), min(times["by-hand floats"])
    print(f"W1, ms per step (best of {args.rounds} rounds, each the median of steps 2-11):")
    for name, runs in times.items():
        print(f"  {name:<22} {min(runs):7.2f} ms   {min(runs) / batched:.2f}x W1 batched   "
              f"{min(runs) / floor:.2f}x by-hand")
    one_off, saved = one_off_ms(), batched - min(times[W1_ROWS["W1c"]])
    repaid = f"repaid after {one_off / saved:.0f} steps" if saved > 0 else "never repaid"
    print(f"  {'W1c one-off':<22} {one_off:7.2f} ms   trace + generate + compile, once per "
          f"model shape; {repaid} against W1 batched (eager)")


def one_off_ms() -> float:
    """ms to build W1's compiled step (W1c): trace, generate the source, compile it (best of 3)."""
    xs, ys = make_moons()
    layers = initial_weights()
    best = float("inf")
    for _ in range(3):
        start = perf_counter()
        W1_MODELS["W1c"]["chainrule"](layers, xs, ys)
        best = min(best, perf_counter() - start)
    return best * 1e3


if __name__ == "__main__":
    main()
