"""chainrule's three W1 rows in one process, in turns: the model called on the batch (W1),
once per point (W1p) and in micrograd's demo code (W1m).

    python -m bench.w1_styles              # 5 rounds
    python -m bench.w1_styles --rounds 1

``python -m bench`` measures each row in a fresh process of its own; here the three take
turns, so they meet the same spells of a busy machine and their ratios move less. A round
is one training run of each row, timed as ``python -m bench`` times W1 (the median of steps
2-11); the best round of each row is printed.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

from bench.w1_models import W1_MODELS, W1_ROWS
from bench.workloads import FULL, time_w1_steps

ONE_RUN = replace(FULL, w1_min_seconds=0.0)


def step_ms(workload: str = "W1") -> float:
    """Median ms of steps 2-11 of one chainrule training run of ``workload`` (W1, W1p, W1m)."""
    timed = time_w1_steps(W1_MODELS[workload]["chainrule"], ONE_RUN)
    return statistics.median(timed["step"]) * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.w1_styles", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the three (default 5)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    times: dict[str, list[float]] = {workload: [] for workload in W1_ROWS}
    for _ in range(args.rounds):
        for workload, runs in times.items():
            runs.append(step_ms(workload))
    batched = min(times["W1"])
    print(f"chainrule W1, ms per step (best of {args.rounds} rounds, each the median of "
          f"steps 2-11):")
    for workload, runs in times.items():
        print(f"  {W1_ROWS[workload]:<20} {min(runs):7.2f} ms   {min(runs) / batched:.2f}x batched")


if __name__ == "__main__":
    main()
