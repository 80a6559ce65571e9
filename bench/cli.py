"""``python -m bench``: run every (engine, workload) pair in its own process, print one table,
write the JSON.

Pairs run workload by workload, engine after engine, and the whole matrix ``--repeat``
times, so that a slow spell of a shared machine falls on all engines alike. Each worker
gets ``--timeout`` seconds; a pair that times out, crashes or is not installed shows so in
its cell, and the run goes on.

Exit status: 0 when the run is complete and chainrule's results are correct; 1 when a
chainrule pair produced no result or the gradients of one of chainrule's W1 rows (W1, W1p,
W1m) disagree with torch-batched.
Timings never change the exit status: the table's PASS/FAIL lines are the verdict.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.engines import ENGINES, W1_ONLY, is_installed
from bench.report import evaluate_targets, format_table, summarize
from bench.w1_models import W1_MODELS
from bench.workloads import WORKLOADS

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "results" / "latest.json"
WORKLOAD_ORDER = tuple(WORKLOADS)  # W1, W1p, W1m, W2, W2t, W3, W4


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="chainrule against micrograd and PyTorch (issue 6). See bench/README.md.",
    )
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {', '.join(ENGINES)} (default: all)")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_ORDER),
                        help=f"comma-separated, from {', '.join(WORKLOAD_ORDER)} (default: all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the whole matrix this many times; cells show medians "
                             "(default 1; use 3 for a measurement worth quoting)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, for a smoke run (numbers mean nothing)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where to write the JSON (default: bench/results/latest.json)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds allowed to each (engine, workload) process (default 900)")
    parser.add_argument("--profile", choices=("W1", "W1p", "W1m", "W2"),
                        help="instead of the benchmark: cProfile chainrule on this workload")
    args = parser.parse_args(argv)
    args.engines = _choose(parser, "--engines", args.engines, ENGINES)
    args.workloads = _choose(parser, "--workloads", args.workloads, WORKLOAD_ORDER)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    return args


def _choose(parser: argparse.ArgumentParser, option: str, text: str,
            known: tuple[str, ...]) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        parser.error(f"{option}: unknown {unknown or text!r}; choose from {', '.join(known)}")
    return [name for name in known if name in chosen]


def unmeasured_status(engine: str, workload: str) -> str | None:
    """Why a pair is not run ("n/a", "no tanh", "not installed"), None if it runs."""
    if workload in W1_MODELS and engine not in W1_MODELS[workload]:
        return "n/a"  # W1p and W1m are chainrule's alone
    if engine in W1_ONLY and workload not in W1_MODELS:
        return "n/a"
    if engine == "micrograd" and workload == "W2t":
        return "no tanh"
    if not is_installed(engine):
        return "not installed"
    return None


def run_worker(engine: str, workload: str, quick: bool, timeout: float) -> dict[str, Any]:
    """Run one pair in a fresh ``python -m bench.worker`` process and return its record."""
    command = [sys.executable, "-m", "bench.worker", engine, workload]
    if quick:
        command.append("--quick")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    base = {"engine": engine, "workload": workload}
    try:
        done = subprocess.run(command, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**base, "status": "timeout", "error": f"no result within {timeout:g} s"}
    # A worker that raised prints no JSON: its traceback's last lines say why.
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = " | ".join(done.stderr.strip().splitlines()[-3:])
    return {**base, "status": f"crashed (exit {done.returncode})", "error": tail}


def run_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    pairs = [(w, e) for w in args.workloads for e in args.engines]
    runnable = [(w, e) for w, e in pairs if unmeasured_status(e, w) is None]
    for w, e in pairs:
        status = unmeasured_status(e, w)
        if status is not None:
            records.append({"engine": e, "workload": w, "status": status})
    total = len(runnable) * args.repeat
    done = 0
    for repeat in range(args.repeat):
        for workload, engine in runnable:
            done += 1
            print(f"[{done}/{total}] {workload} {engine} ...", end=" ", file=sys.stderr,
                  flush=True)
            started = perf_counter()
            record = run_worker(engine, workload, args.quick, args.timeout)
            record["repeat"] = repeat
            records.append(record)
            print(f"{record['status']} ({perf_counter() - started:.1f} s)", file=sys.stderr,
                  flush=True)
    return records


def describe_run(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    """Where and how the run was made: enough to tell two result files apart."""

    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def git(*command: str) -> str | None:
        try:
            return subprocess.run(["git", *command], check=False, cwd=REPO_ROOT,
                                  capture_output=True, text=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no", "--",
                                            "engine", "nn", "bench")),
        "versions": {"micrograd": version("micrograd"), "torch": version("torch")},
        "engines": args.engines,
        "workloads": args.workloads,
        "repeat": args.repeat,
        "quick": args.quick,
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically: a temporary file beside the target, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        from bench.profiling import profile

        profile(args.profile, quick=args.quick)
        return 0
    meta = describe_run(args, argv)
    records = run_matrix(args)
    meta["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    summary = summarize(records)
    targets = evaluate_targets(summary)
    header = (f"chainrule benchmark, {meta['date']}, commit {meta['commit']}"
              f"{' (with uncommitted changes)' if meta['uncommitted_changes'] else ''}, "
              f"Python {meta['python']}, {meta['cpus']} CPUs, repeat {args.repeat}"
              f"{', QUICK sizes: numbers mean nothing' if args.quick else ''}")
    table = format_table(summary, args.engines, args.workloads, targets, header)
    print(table)
    write_json(args.out, {"meta": meta, "table": table, "targets": targets,
                          "summary": summary, "runs": records})
    print(f"\nJSON written to {args.out}", file=sys.stderr)
    return 1 if _chainrule_failed(summary, targets, args) else 0


def _chainrule_failed(summary: dict[str, Any], targets: list[dict[str, Any]],
                      args: argparse.Namespace) -> bool:
    if "chainrule" in args.engines:
        for workload in args.workloads:
            if summary.get(workload, {}).get("chainrule", {}).get("status") != "ok":
                return True
    return any(t.get("correctness") and t["verdict"] == "FAIL" for t in targets)
