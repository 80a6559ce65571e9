"""The benchmark runs end to end: ``python -m bench --quick`` on chainrule alone.

A smoke run only: sizes are tiny and no time is asserted (the benchmark itself is the judge
of speed, and it is never run by the test suite). What is checked is that every workload
produces a result, that the JSON file is complete, and that chainrule's W1 gradients agree
with PyTorch's batched float64 computation, which the benchmark checks in every run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ["W1", "W2", "W3", "W4"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--engines", "chainrule",
         "--workloads", ",".join(WORKLOADS), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done, json.loads(out.read_text())


def test_every_workload_gives_a_result(smoke_run):
    _, results = smoke_run
    for workload in WORKLOADS:
        assert results["summary"][workload]["chainrule"]["status"] == "ok", workload
    assert {(r["engine"], r["workload"]) for r in results["runs"]} == {
        ("chainrule", w) for w in WORKLOADS
    }


def test_the_table_shows_the_engine_and_the_targets(smoke_run):
    done, results = smoke_run
    assert "chainrule" in done.stdout
    assert "Targets (issue 6)" in done.stdout
    assert results["table"] == done.stdout.rstrip("\n")
    assert results["meta"]["quick"] is True


def test_w1_gradients_agree_with_torch_batched(smoke_run):
    pytest.importorskip("torch")
    _, results = smoke_run
    w1 = results["summary"]["W1"]["chainrule"]
    assert w1["check"]["status"] == "ok"
    assert w1["check"]["gradients"] == 337
    assert w1["check"]["max_abs_diff"] < 1e-12
    verdicts = {t["name"]: t["verdict"] for t in results["targets"]}
    assert verdicts["W1 check: chainrule loss and grads vs torch-batched"] == "PASS"


def test_w3_gradients_are_right_at_every_depth_run(smoke_run):
    _, results = smoke_run
    depths = results["summary"]["W3"]["chainrule"]["depths"]
    assert [d["n"] for d in depths] == [10**3, 10**4]
    for depth in depths:
        assert depth["status"] == "ok", depth
        assert depth["relative_error"] < 1e-6


@pytest.mark.parametrize("workload", ["W1", "W2"])
def test_two_revisions_can_be_timed_in_turns(workload):
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("bench.ab exports revisions with git: this is not a git checkout")
    done = subprocess.run(
        [sys.executable, "-m", "bench.ab", "HEAD", "HEAD", "--workload", workload,
         "--pairs", "1", "--quick"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{workload}, " in done.stdout and "B / A = " in done.stdout
    assert "pair 1: A " in done.stderr


def test_an_unknown_revision_is_a_usage_error():
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("bench.ab exports revisions with git: this is not a git checkout")
    done = subprocess.run([sys.executable, "-m", "bench.ab", "HEAD", "no-such-revision"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "no-such-revision" in done.stderr and "Traceback" not in done.stderr
