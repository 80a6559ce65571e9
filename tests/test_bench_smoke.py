"""The benchmark runs end to end: ``python -m bench --quick`` on chainrule alone.

A smoke run only: sizes are tiny and no time is asserted (the benchmark itself is the judge
of speed, and it is never run by the test suite). What is checked is that every workload
produces a result, that the JSON file is complete, that chainrule's W1 gradients agree
with PyTorch's batched float64 computation in all three ways of calling the model (on the
batch, per point, in micrograd's demo code), which the benchmark checks in every run, and
that each speed target reads the rows its name says.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ["W1", "W1p", "W1m", "W1c", "W1cp", "W2", "W3", "W4"]
W1_ROWS = ["W1", "W1p", "W1m", "W1c", "W1cp"]


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
    assert "Targets, chainrule against the baselines of this run:" in done.stdout
    assert results["table"] == done.stdout.rstrip("\n")
    assert results["meta"]["quick"] is True


def test_the_table_has_a_section_for_each_way_of_calling_the_model(smoke_run):
    done, results = smoke_run
    sections = [line for line in done.stdout.splitlines() if line.startswith("W1")]
    assert [line.split()[0] for line in sections] == W1_ROWS
    assert "called once per point" in sections[1] and "micrograd's demo code" in sections[2]
    models = {w: results["summary"][w]["chainrule"]["model"] for w in W1_ROWS}
    assert "on the batch" in models["W1"] and "once per point" in models["W1p"]
    assert "micrograd's demo code" in models["W1m"]
    assert "compiled" in models["W1c"]
    assert "ratio to W1 batched (time)" in done.stdout


@pytest.mark.parametrize("workload", W1_ROWS)
def test_w1_gradients_agree_with_torch_batched(smoke_run, workload):
    pytest.importorskip("torch")
    _, results = smoke_run
    w1 = results["summary"][workload]["chainrule"]
    assert w1["check"]["status"] == "ok"
    assert w1["check"]["gradients"] == 337
    assert w1["check"]["max_abs_diff"] < 1e-12
    checks = [t for t in results["targets"] if t.get("correctness")]
    assert [t["verdict"] for t in checks] == ["PASS"] * len(W1_ROWS)


def test_the_three_ways_of_calling_train_the_same(smoke_run):
    _, results = smoke_run
    losses = [results["summary"][w]["chainrule"]["losses"] for w in W1_ROWS]
    for other in losses[1:]:
        assert other == pytest.approx(losses[0], rel=1e-12, abs=1e-15)


def test_each_w1_target_reads_the_rows_its_name_says():
    from bench.report import evaluate_targets

    def w1(seconds):
        return {"status": "ok", "seconds_per_step": seconds}

    summary = {
        "W1": {"chainrule": w1(0.004), "micrograd": w1(1.5), "torch-batched": w1(0.0004)},
        "W1p": {"chainrule": w1(0.005)},
        "W1m": {"chainrule": w1(0.01)},
    }
    ratios = {t["name"]: (t["value"], t["verdict"]) for t in evaluate_targets(summary)}
    assert ratios["W1 per point / W1 batched, chainrule time"] == (pytest.approx(1.25), "PASS")
    assert ratios["W1 batched: chainrule time / torch-batched time"] == (pytest.approx(10),
                                                                         "PASS")
    assert ratios["W1 micrograd-style: micrograd / chainrule time"] == (pytest.approx(150),
                                                                        "FAIL")


def test_only_chainrule_runs_the_other_ways_of_calling():
    from bench.cli import unmeasured_status

    for workload in ("W1p", "W1m"):
        assert unmeasured_status("micrograd", workload) == "n/a"
    assert unmeasured_status("torch-batched", "W1") != "n/a"  # "not installed" without torch
    assert unmeasured_status("by-hand", "W1") is None  # plain floats: nothing to install
    for engine in ("torch-batched", "by-hand"):  # the training step W1 alone, on the batch
        for workload in ("W1p", "W1m", "W2", "W2t", "W3", "W4"):
            assert unmeasured_status(engine, workload) == "n/a", (engine, workload)


def test_the_three_ways_and_the_floor_can_be_timed_in_turns():
    done = subprocess.run([sys.executable, "-m", "bench.w1_styles", "--rounds", "1"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split(" ms ")[0].rsplit(None, 1) for line in done.stdout.splitlines()[1:]]
    assert [name.strip() for name, _ in rows] == ["W1 batched", "W1 per point",
                                                   "W1 micrograd-style", "W1 compiled",
                                                   "W1 compiled per point", "by-hand floats",
                                                   "W1c one-off"]
    assert all(float(ms) > 0 for _, ms in rows)
    assert "1.00x W1 batched" in done.stdout.splitlines()[1]


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


def test_the_activation_table_times_every_activation_nn_has(capsys):
    from bench import activations
    from nn.activations import ACTIVATIONS

    activations.main(["--rounds", "1"])
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == list(ACTIVATIONS)
    assert rows[0].endswith("1.00x")  # relu, the reference
