"""chainrule against chainrule: two git revisions of engine/ and nn/, timed in turns.

A change that saves 3% cannot be seen in two runs of ``python -m bench`` on a shared
machine: the runs themselves differ by more. Measured in alternating fresh processes (A, B,
A, B, ...), both revisions meet the same spells of a busy machine, and the medians can be
compared. This is how the engine's speed-ups were chosen (issue 6).

    python -m bench.ab HEAD~1 HEAD                  # W2, 6 pairs of processes
    python -m bench.ab HEAD~1 HEAD --workload W1 --pairs 5

Each revision's ``engine/`` and ``nn/`` are exported with ``git archive`` into a temporary
folder that goes first on the worker's import path; the workloads come from this checkout's
``bench/``. W2 reports ns per op node (forward + backward, median of 3 builds per process),
W1 ms per training step (median of steps 2-11, over 8 runs per process); ``--workload W1p``
or ``W1m`` times the step with the model called per point or in micrograd's demo code.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def export(revision: str, folder: Path) -> None:
    """Write ``revision``'s engine/ and nn/ into ``folder`` (ValueError if git cannot)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "engine", "nn"],
                             cwd=REPO_ROOT, capture_output=True, check=False)
    if archive.returncode != 0:
        raise ValueError(f"git archive {revision!r} failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")


def measure(workload: str, quick: bool = False) -> dict[str, float]:
    """The timing of one process, for the engine first on ``sys.path``."""
    if workload == "W2":
        from bench.workloads import FULL, QUICK, measure_w2

        result = measure_w2("chainrule", QUICK if quick else FULL)
        return {"forward": result["forward_ns_per_node"],
                "backward": result["backward_ns_per_node"]}
    from bench.w1_styles import step_ms

    return {"step": statistics.median(step_ms(workload) for _ in range(1 if quick else 8))}


def run_worker(folder: Path, workload: str, quick: bool) -> dict[str, float]:
    """One fresh process measuring the engine exported in ``folder``."""
    code = (f"import sys, json; sys.path[:0] = [{str(folder)!r}, {str(REPO_ROOT)!r}]; "
            f"import engine; assert engine.__file__.startswith({str(folder)!r}); "
            f"from bench.ab import measure; print(json.dumps(measure({workload!r}, {quick})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=folder)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the first revision (e.g. HEAD~1)")
    parser.add_argument("b", help="the second revision (e.g. HEAD)")
    parser.add_argument("--workload", choices=("W1", "W1p", "W1m", "W2"), default="W2")
    parser.add_argument("--pairs", type=int, default=6, help="A, B process pairs (default 6)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error(f"--pairs must be at least 1, not {args.pairs}")
    digits = 1 if args.workload == "W2" else 3
    with tempfile.TemporaryDirectory() as tmp:
        folders = {name: Path(tmp) / name for name in ("a", "b")}
        for name, folder in folders.items():
            try:
                export(getattr(args, name), folder)
            except ValueError as error:
                parser.error(str(error))
        runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
        for pair in range(1, args.pairs + 1):
            for name, folder in folders.items():
                runs[name].append(run_worker(folder, args.workload, args.quick))
            line = " | ".join(f"{name.upper()} " + " ".join(f"{k} {v:,.{digits}f}" for k, v in
                                                          runs[name][-1].items())
                              for name in runs)
            print(f"pair {pair}: {line}", file=sys.stderr)
    unit = "ns per op node" if args.workload == "W2" else "ms per step"
    print(f"{args.workload}, {unit}, medians of {args.pairs} processes each:")
    totals = {}
    for name, records in runs.items():
        medians = {k: statistics.median(r[k] for r in records) for k in records[0]}
        totals[name] = sum(medians.values())
        parts = " + ".join(f"{k} {v:,.{digits}f}" for k, v in medians.items())
        print(f"  {name.upper()} {getattr(args, name)}: {parts} = {totals[name]:,.{digits}f}")
    print(f"  B / A = {totals['b'] / totals['a']:.3f}")


if __name__ == "__main__":
    main()
