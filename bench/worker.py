"""One (engine, workload) pair in a process of its own: ``python -m bench.worker E W``.

A fresh process per pair keeps the measurements apart: micrograd's time depends on every
object alive in the process (its garbage collector walks them all), so a graph left over by
another workload, or torch merely imported, would change its numbers.

The result is printed as one JSON line on stdout, then the process ends at once with
``os._exit``: tearing down large graphs at exit would only waste time, and a crash during
teardown (torch has had some) cannot lose a result that is already printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from time import perf_counter

from bench.engines import ENGINES
from bench.workloads import FULL, QUICK, WORKLOADS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__)
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args(argv)

    started = perf_counter()
    # An exception ends the process with its traceback on stderr and no JSON line: the
    # parent shows it as a crash, with the traceback's last lines.
    result = WORKLOADS[args.workload](args.engine, QUICK if args.quick else FULL)
    record = {"engine": args.engine, "workload": args.workload, "status": "ok", **result,
              "wall_seconds": perf_counter() - started}
    print(json.dumps(record), flush=True)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
