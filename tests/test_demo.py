"""demo.py, run the way a newcomer runs it: as a program, in a fresh process."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo.py"


def run_demo(*args: str, out: Path, env: dict | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """Run ``python demo.py ARGS --out OUT`` from the repository root and return the result.

    ``prelude`` is Python run first in the same process (e.g. to hide matplotlib).
    """
    argv = [str(DEMO), *args, "--out", str(out)]
    if prelude:
        code = (f"{prelude}\nimport runpy, sys\nsys.argv = {argv!r}\n"
                f"runpy.run_path({str(DEMO)!r}, run_name='__main__')")
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, *argv]
    return subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def without_timings(text: str) -> str:
    """The output with wall-clock times removed: everything else must repeat exactly."""
    text = re.sub(r"\[\s*[\d.]+s\]", "[time]", text)
    return re.sub(r"done in [\d.]+s", "done in [time]", text)


def test_a_short_run_prints_every_stage_and_writes_its_files(tmp_path):
    result = run_demo("--epochs", "3", out=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "data: moons, 300 points, 2 classes -> train 210, validation 45, test 45" in out
    assert "model: MLP(2 -> 16 -> 16 -> 1, relu), 337 parameters" in out
    assert "optimizer: Adam(" in out
    assert len(re.findall(r"^epoch +\d+ +train loss [\d.]+ +val loss [\d.]+ +train acc [\d.]+ "
                          r"+val acc [\d.]+ +\[ *[\d.]+s\]$", out, flags=re.MULTILINE)) == 3
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"):
        assert re.search(rf"^{name} +[01]\.\d{{4}}", out, flags=re.MULTILINE), name
    assert "confusion matrix" in out and "decision boundary" in out
    files = set(os.listdir(tmp_path))
    assert {"model.json", "history.csv", "neuron_forward.dot", "neuron_backward.dot"} <= files
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert "digraph" in (tmp_path / "neuron_backward.dot").read_text()


def test_the_saved_model_loads_and_reproduces_the_reported_test_accuracy(tmp_path):
    from nn import MLP, data, metrics

    result = run_demo("--epochs", "3", "--quiet", out=tmp_path)
    assert result.returncode == 0, result.stderr
    reported = float(re.search(r"^accuracy +([\d.]+)", result.stdout, flags=re.MULTILINE).group(1))
    model = MLP.load(str(tmp_path / "model.json"))
    X, y = data.make_moons(300, noise=0.1, seed=0)
    X_train, _, _, _, X_test, y_test = data.train_val_test_split(X, y, seed=0)
    scaler = data.Standardizer().fit(X_train)
    predictions = [int(model(x).data > 0) for x in scaler.transform(X_test)]
    assert metrics.accuracy(y_test, predictions) == pytest.approx(reported, abs=5e-5)


def test_the_same_seed_prints_the_same_numbers_twice(tmp_path):
    first = run_demo("--epochs", "2", out=tmp_path / "a")
    second = run_demo("--epochs", "2", out=tmp_path / "b")
    assert first.returncode == second.returncode == 0
    assert without_timings(first.stdout).replace("/a/", "/b/") == without_timings(second.stdout)
    other_seed = run_demo("--epochs", "2", "--seed", "1", out=tmp_path / "c")
    assert without_timings(other_seed.stdout).replace("/c/", "/b/") != without_timings(
        second.stdout)


@pytest.mark.parametrize("dataset", ["circles", "xor", "blobs", "spiral"])
def test_every_dataset_trains_with_its_own_defaults(tmp_path, dataset):
    result = run_demo("--dataset", dataset, "--epochs", "2", "--quiet", out=tmp_path)
    assert result.returncode == 0, result.stderr
    macro = dataset in ("blobs", "spiral")
    assert ("(macro average over classes)" in result.stdout) == macro
    assert "3 classes" not in result.stdout  # --quiet prints only the report
    assert re.search(r"^roc_auc +[01]\.\d{4}", result.stdout, flags=re.MULTILINE)


@pytest.mark.parametrize("options", [["--model", "logreg"], ["--loss", "bce"],
                                     ["--optimizer", "sgd"], ["--optimizer", "momentum"],
                                     ["--optimizer", "radam"], ["--activation", "tanh"],
                                     ["--hidden", "8", "--batch-size", "32"]])
def test_the_flags_change_the_run(tmp_path, options):
    result = run_demo(*options, "--epochs", "2", out=tmp_path)
    assert result.returncode == 0, result.stderr
    if options[:2] == ["--model", "logreg"]:
        assert "LogisticRegression(2 -> 1, sigmoid), 3 parameters" in result.stdout
    if options[0] == "--hidden":
        assert "MLP(2 -> 8 -> 1, relu), 33 parameters" in result.stdout


@pytest.mark.parametrize("options, complaint", [
    (["--lr", "-1"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--hidden", "16,x"], "--hidden"),
    (["--dataset", "mnist"], "--dataset"),
    (["--dataset", "spiral", "--loss", "hinge"], "cross-entropy"),
    (["--dataset", "moons", "--loss", "cross-entropy"], "2 classes"),
    (["--dataset", "blobs", "--model", "logreg"], "binary"),
])
def test_bad_flags_give_a_usage_error_not_a_traceback(tmp_path, options, complaint):
    result = run_demo(*options, out=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr and complaint in result.stderr


def test_help_explains_every_flag(tmp_path):
    result = run_demo("--help", out=tmp_path)
    assert result.returncode == 0
    for flag in ("--dataset", "--model", "--hidden", "--activation", "--loss", "--optimizer",
                 "--lr", "--epochs", "--batch-size", "--seed", "--out", "--quiet"):
        assert flag in result.stdout


def test_with_python_alone_it_writes_the_dot_text_and_names_what_it_could_not_draw(tmp_path):
    env = dict(os.environ, PATH="")  # no `dot` on the PATH
    bare_python = "import sys; sys.modules['matplotlib'] = sys.modules['graphviz'] = None"
    result = run_demo("--epochs", "1", "--quiet", out=tmp_path, env=env, prelude=bare_python)
    assert result.returncode == 0, result.stderr
    assert "apt-get install graphviz" in result.stdout
    assert "pip install matplotlib" in result.stdout
    files = set(os.listdir(tmp_path))
    assert {"neuron_forward.dot", "neuron_backward.dot", "model.json", "history.csv"} <= files
    assert (tmp_path / "neuron_backward.dot").read_text().startswith("digraph {")
    assert not {f for f in files if f.endswith((".png", ".svg"))}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_with_graphviz_the_neuron_graphs_are_rendered_to_svg(tmp_path):
    result = run_demo("--epochs", "1", "--quiet", out=tmp_path)
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "neuron_backward.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_the_default_run_reaches_97_percent_and_prints_the_readme_excerpt(tmp_path):
    result = run_demo(out=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"^accuracy +([\d.]+)", result.stdout, flags=re.MULTILINE).group(1))
    assert accuracy >= 0.97, result.stdout
    readme = (ROOT / "README.md").read_text()
    excerpt = re.search(r"```text\n(.*?)```", readme, flags=re.DOTALL).group(1)
    printed = without_timings(result.stdout).splitlines()
    for line in excerpt.splitlines():
        if line.strip() and line != "...":
            assert without_timings(line) in printed, line
