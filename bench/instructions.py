"""Instructions per unit of work, counted by valgrind: a measure a wavering machine cannot move.

On a machine whose speed changes from one moment to the next (bench/README.md, "Comparing
two revisions"), timings of two revisions disagree by more than the change between them.
callgrind counts the instructions Python executes instead, which repeat exactly. Each
count runs the workload twice in fresh processes, with n and with 2n units of work, so
that start-up and imports cancel:

    python -m bench.instructions 1d42cf0 HEAD                 # W1, per training step
    python -m bench.instructions HEAD --workload W2           # W2, per 10,000 ops

W1, W1p and W1m run the training step of ``bench/w1_models.py`` (n = 5 steps after 2);
W1h runs the same step by hand in plain floats (``w1_by_hand.py``: no engine, the floor
the others are measured against); W1c the step compiled (``nn.compiled``); W1cp the step
through a compiled per-point function (``engine.trace(..., params=)``); W1c32, W1h32,
W1c64 and W1h64 the compiled and by-hand steps with hidden layers of 32 and 64; W2 runs W2's random program (n = 10,000 ops, with
their tree sum). It needs valgrind (Debian's package ``valgrind``). Cache misses are not counted: a smaller node shows in
the timings only, and so does the cycle collector's share of them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.ab import REPO_ROOT, export

UNITS = {"W1": 5, "W1p": 5, "W1m": 5, "W1h": 5, "W1c": 5, "W1cp": 5, "W2": 10_000,
         **{f"{w}{width}": 5 for w in ("W1c", "W1h") for width in (32, 64)}}

_RUN = """
import sys
sys.path[:0] = [{folder!r}, {root!r}]
workload, units = {workload!r}, {units}
if workload == "W2":
    from bench.workloads import SEED, random_program, run_program, scalar_engine
    ops = scalar_engine("chainrule")
    program = random_program(1024, units, SEED, False)
    frontier = [ops.leaf(x) for x in program.frontier]
    scales = [ops.leaf(x) for x in program.scales]
    run_program(program, frontier, scales).backward()
else:
    from bench import w1_models
    from bench.moons import initial_weights, learning_rate, make_moons
    model = {{"W1": w1_models.ChainruleBatched, "W1p": w1_models.ChainrulePerPoint,
             "W1m": w1_models.ChainruleMicrogradStyle, "W1h": w1_models.ByHandMoons,
             "W1c": w1_models.ChainruleCompiled,
             "W1cp": w1_models.ChainruleCompiledPerPoint}}[workload[:2] + workload[2:].rstrip("0123456789")]
    width = workload[2:].lstrip("chmp")  # W1c32: hidden layers of 32
    xs, ys = make_moons()
    steps = model(initial_weights((2, int(width), int(width), 1)) if width else
                  initial_weights(), xs, ys)
    for k in range(2 + units):
        loss = steps.forward()
        steps.zero_grad()
        steps.backward(loss)
        steps.update(learning_rate(k))
"""


def count(folder: Path, workload: str, units: int) -> int:
    """Instructions of one process running ``units`` of the workload on the engine in folder."""
    code = _RUN.format(folder=str(folder), root=str(REPO_ROOT), workload=workload, units=units)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, "-c", code],
            capture_output=True, text=True, check=True, cwd=folder)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_unit(revision: str, workload: str) -> float:
    """Instructions per unit of work (a W1 step, or 10,000 W2 ops) at a git revision."""
    units = UNITS[workload]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export(revision, folder)
        once, twice = count(folder, workload, units), count(folder, workload, 2 * units)
    return (twice - once) / (units if workload != "W2" else 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revisions", nargs="+", help="git revisions (e.g. 1d42cf0 HEAD)")
    parser.add_argument("--workload", choices=tuple(UNITS), default="W1")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install -y valgrind)")
    unit = "10,000 ops" if args.workload == "W2" else "step"
    first = None
    for revision in args.revisions:
        n = per_unit(revision, args.workload)
        first = n if first is None else first
        print(f"{revision}: {n / 1e6:,.1f} M instructions per {unit} ({n / first:.3f}x)")


if __name__ == "__main__":
    main()
