"""demo.py, run the way a newcomer runs it: as a program, in a fresh process."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from nn import LogisticRegression, optim, training

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


# --- what each option builds: demo.main run in this process, nn.training.train_epoch spied on


def load_demo():
    spec = importlib.util.spec_from_file_location("demo_under_test", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Run(NamedTuple):
    """What demo.main handed to train_epoch, epoch by epoch, and what it printed."""

    model: object
    optimizer: object
    losses: list       # the loss name of each epoch
    batch_sizes: list
    seeds: list
    steps: list        # optimizer steps taken in each epoch
    stdout: str


def run_in_process(monkeypatch, capsys, tmp_path, *options: str) -> Run:
    calls = []
    real = training.train_epoch

    def spy(model, optimizer, X, y, loss, *, batch_size, seed, l2=0.0, compile=False):
        before = optimizer.step_count
        mean = real(model, optimizer, X, y, loss, batch_size=batch_size, seed=seed, l2=l2,
                    compile=compile)
        calls.append((model, optimizer, loss, batch_size, seed, optimizer.step_count - before))
        return mean

    monkeypatch.setattr(training, "train_epoch", spy)
    demo = load_demo()
    assert demo.main([*options, "--quiet", "--out", str(tmp_path)]) == 0
    model, optimizer = calls[0][:2]
    assert all(c[0] is model and c[1] is optimizer for c in calls)
    columns = list(zip(*calls))
    return Run(model, optimizer, list(columns[2]), list(columns[3]), list(columns[4]),
               list(columns[5]), capsys.readouterr().out)


def layer_types(model):
    return [type(m).__name__ for m in model.layers]


def test_by_default_an_mlp_with_relu_trains_with_adam_on_the_hinge_loss(monkeypatch, capsys,
                                                                          tmp_path):
    run = run_in_process(monkeypatch, capsys, tmp_path, "--epochs", "2")
    assert type(run.optimizer) is optim.Adam and run.optimizer.lr == 0.02
    assert layer_types(run.model) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert run.model.nouts == [16, 16, 1]
    assert run.losses == ["hinge", "hinge"]
    assert run.batch_sizes == [16, 16] and run.steps == [14, 14]  # 210 rows in 14 batches
    assert run.seeds == [1, 2]  # a fresh order each epoch: seed + epoch


@pytest.mark.parametrize("options, check", [
    (["--optimizer", "sgd"],
     lambda run: type(run.optimizer) is optim.SGD and run.optimizer.momentum == 0.0),
    (["--optimizer", "momentum"],
     lambda run: type(run.optimizer) is optim.SGD and run.optimizer.momentum == 0.9),
    (["--optimizer", "radam"], lambda run: type(run.optimizer) is optim.RAdam),
    (["--optimizer", "adam", "--lr", "0.003"],
     lambda run: type(run.optimizer) is optim.Adam and run.optimizer.lr == 0.003),
    (["--loss", "bce"], lambda run: run.losses == ["bce"]),
    (["--model", "logreg"],
     lambda run: type(run.model) is LogisticRegression and run.losses == ["bce-probabilities"]),
    (["--activation", "tanh"],
     lambda run: layer_types(run.model) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]),
    (["--activation", "sigmoid", "--hidden", "5"],
     lambda run: layer_types(run.model) == ["Linear", "Sigmoid", "Linear"]),
    (["--activation", "gelu", "--hidden", "5"],
     lambda run: layer_types(run.model) == ["Linear", "GELU", "Linear"]),
    (["--activation", "leaky_relu", "--hidden", "5"],
     lambda run: layer_types(run.model) == ["Linear", "LeakyReLU", "Linear"]),
    (["--hidden", "8", "--batch-size", "32"],
     lambda run: run.model.nouts == [8, 1] and run.batch_sizes == [32] and run.steps == [7]),
    (["--samples", "100"], lambda run: run.steps == [5]),  # 70 training rows, batches of 16
    (["--seed", "5"], lambda run: run.seeds == [6]),
    (["--dataset", "spiral"],
     lambda run: run.model.nouts == [32, 32, 3] and run.losses == ["cross-entropy"]),
    (["--dataset", "sine"],
     lambda run: run.model.nin == 1 and run.model.nouts == [16, 16, 1]
     and run.model.output_activation is None and run.losses == ["mse"]),
    (["--dataset", "sine", "--loss", "l1"], lambda run: run.losses == ["l1"]),
    (["--dataset", "linear"],
     lambda run: run.model.nin == 3 and run.model.nouts == [1] and run.losses == ["mse"]),
    (["--dataset", "linear", "--model", "mlp", "--hidden", "4"],
     lambda run: run.model.nouts == [4, 1]),
    (["--dataset", "friedman1"],
     lambda run: run.model.nin == 10 and run.model.nouts == [32, 1]
     and run.model.output_activation is None and run.steps == [27]),  # 420 rows / 16
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_each_option_builds_what_it_names(monkeypatch, capsys, tmp_path, options, check):
    run = run_in_process(monkeypatch, capsys, tmp_path, *options, "--epochs", "1")
    assert check(run), run


@pytest.mark.parametrize("options, complaint", [
    (["--lr", "-1"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--hidden", "16,x"], "--hidden"),
    (["--dataset", "mnist"], "--dataset"),
    (["--dataset", "spiral", "--loss", "hinge"], "cross-entropy"),
    (["--dataset", "moons", "--loss", "cross-entropy"], "2 classes"),
    (["--dataset", "blobs", "--model", "logreg"], "binary"),
    (["--dataset", "sine", "--loss", "hinge"], "real-valued targets: use --loss mse or l1"),
    (["--dataset", "friedman1", "--loss", "cross-entropy"], "use --loss mse or l1"),
    (["--dataset", "linear", "--loss", "bce"], "use --loss mse or l1"),
    (["--dataset", "moons", "--loss", "mse"], "--loss mse is for real-valued targets"),
    (["--dataset", "spiral", "--loss", "l1"], "--loss l1 is for real-valued targets"),
    (["--dataset", "sine", "--model", "logreg"], "--model logreg is a classifier"),
    (["--dataset", "moons", "--model", "linear"], "--model linear is linear regression"),
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


# --- regression ------------------------------------------------------------------------------

REGRESSION_REPORT = r"^mae +[\d.]+\nmse +[\d.]+\nrmse +[\d.]+\nr2 +-?[\d.]+$"


def reported(stdout: str, name: str) -> float:
    return float(re.search(rf"^{name} +(-?[\d.]+)$", stdout, flags=re.MULTILINE).group(1))


@pytest.mark.parametrize("dataset, r2", [("sine", 0.95), ("linear", 0.98), ("friedman1", 0.8)])
def test_each_regression_set_is_learned_with_its_defaults(tmp_path, dataset, r2):
    result = run_demo("--dataset", dataset, out=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(REGRESSION_REPORT, out, flags=re.MULTILINE), out
    assert reported(out, "r2") >= r2, out
    rmse, mse = reported(out, "rmse"), reported(out, "mse")
    assert rmse**2 == pytest.approx(mse, abs=5e-5 + 2 * rmse * 5e-5)  # both rounded to 4 places
    assert "real-valued targets" in out and "accuracy" not in out
    assert re.search(r"keeping the weights of epoch \d+ \(validation loss [\d.]+, r2", out)
    picture = "fitted curve" if dataset == "sine" else "predicted (up) against true"
    assert picture in out and "test points 'o'" in out
    files = set(os.listdir(tmp_path))
    assert {"model.json", "history.csv", "neuron_forward.dot", "neuron_backward.dot"} <= files
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"epoch", "train_loss", "val_loss", "train_r2", "val_r2"}
    # the kept epoch is the one with the lowest validation loss
    kept = int(re.search(r"model from epoch (\d+)", out).group(1))
    assert int(min(rows, key=lambda r: float(r["val_loss"]))["epoch"]) == kept
    if importlib.util.find_spec("matplotlib"):
        assert {"fit.png", "loss.png"} <= files


def test_the_saved_regressor_reloads_to_the_reported_test_metrics(tmp_path):
    from nn import MLP, data, metrics

    result = run_demo("--dataset", "sine", "--epochs", "3", "--quiet", out=tmp_path)
    assert result.returncode == 0, result.stderr
    model = MLP.load(str(tmp_path / "model.json"))
    X, y = data.make_sine(300, noise=0.1, seed=0)
    X_train, y_train, _, _, X_test, y_test = data.train_val_test_split(X, y, seed=0)
    inputs, targets = data.Standardizer().fit(X_train), data.Standardizer().fit(y_train)
    predicted = targets.inverse_transform([model(x).data for x in inputs.transform(X_test)])
    for name, metric in [("mae", metrics.mean_absolute_error), ("mse", metrics.mean_squared_error),
                         ("rmse", metrics.root_mean_squared_error), ("r2", metrics.r2_score)]:
        assert metric(y_test, predicted) == pytest.approx(reported(result.stdout, name), abs=5e-5)


def test_the_linear_model_learns_the_true_coefficients(tmp_path):
    from nn import MLP, data

    result = run_demo("--dataset", "linear", "--quiet", out=tmp_path)
    assert result.returncode == 0, result.stderr
    model = MLP.load(str(tmp_path / "model.json"))
    X, y, w, b = data.make_linear(300, features=3, noise=0.1, seed=0)
    X_train, y_train, *_ = data.train_val_test_split(X, y, seed=0)
    inputs, targets = data.Standardizer().fit(X_train), data.Standardizer().fit(y_train)

    def fitted(rows):
        return targets.inverse_transform([model(x).data for x in inputs.transform(rows)])

    learned = load_demo().linear_coefficients(fitted, 3)
    assert learned == pytest.approx([*w, b], abs=0.05)


def test_linear_coefficients_are_read_off_a_linear_function():
    demo = load_demo()
    assert demo.linear_coefficients(lambda rows: [2 * r[0] - r[1] + 0.5 for r in rows], 2) == [
        2.0, -1.0, 0.5]


def test_a_regression_run_repeats_itself_and_quiet_prints_only_the_report(tmp_path):
    first = run_demo("--dataset", "sine", "--epochs", "2", out=tmp_path / "a")
    second = run_demo("--dataset", "sine", "--epochs", "2", out=tmp_path / "b")
    assert first.returncode == second.returncode == 0
    assert without_timings(first.stdout).replace("/a/", "/b/") == without_timings(second.stdout)
    quiet = run_demo("--dataset", "sine", "--epochs", "2", "--quiet", out=tmp_path / "c")
    assert "epoch   1" not in quiet.stdout and "fitted curve" not in quiet.stdout
    assert re.search(REGRESSION_REPORT, quiet.stdout, flags=re.MULTILINE)
    assert reported(quiet.stdout, "r2") == reported(second.stdout, "r2")


def test_a_regression_run_with_python_alone_names_the_pictures_it_could_not_draw(tmp_path):
    env = dict(os.environ, PATH="")
    bare_python = "import sys; sys.modules['matplotlib'] = sys.modules['graphviz'] = None"
    result = run_demo("--dataset", "friedman1", "--epochs", "1", "--quiet", out=tmp_path,
                      env=env, prelude=bare_python)
    assert result.returncode == 0, result.stderr
    assert "fit.png, loss.png: need matplotlib" in result.stdout
    files = set(os.listdir(tmp_path))
    assert {"neuron_forward.dot", "neuron_backward.dot", "model.json", "history.csv"} <= files
    assert not {f for f in files if f.endswith((".png", ".svg"))}


# --- bad input is refused up front, in one line, with exit status 2


def run_raw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEMO), *args], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def refused_in_one_line(result: subprocess.CompletedProcess, complaint: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert complaint in result.stderr and "epoch" not in result.stdout


@pytest.mark.parametrize("samples", ["1", "5", "10", "19"])
def test_too_few_samples_are_refused_naming_the_minimum(tmp_path, samples):
    refused_in_one_line(run_raw("--samples", samples, "--out", str(tmp_path)),
                        "--samples must be at least 20")


@pytest.mark.parametrize("options, complaint", [
    (["--samples", "100000000"], "--samples must be at most 100,000"),
    (["--hidden", "10000,10000"], "100,050,001 parameters; at most 100,000"),
    (["--dataset", "friedman1", "--hidden", "400,400"], "at most 100,000 are allowed"),
])
def test_sizes_that_cannot_fit_are_refused_naming_the_limit(tmp_path, options, complaint):
    refused_in_one_line(run_raw(*options, "--out", str(tmp_path)), complaint)


def out_cases(tmp_path):
    existing = tmp_path / "a_file"
    existing.write_text("keep me")
    return {
        "an existing file": (str(existing), "is a file, not a folder"),
        "empty": ("", "--out is empty"),
        "a 300-character name": (str(tmp_path / ("x" * 300)), "cannot write there"),
        "inside /dev/null": ("/dev/null/x", "is a file, not a folder"
                             if os.path.isfile("/dev/null/x") else "cannot write there"),
        "a folder that cannot be made": ("/proc/chainrule-out", "cannot write there"),
    }


@pytest.mark.parametrize("case", ["an existing file", "empty", "a 300-character name",
                                  "inside /dev/null", "a folder that cannot be made"])
def test_a_bad_out_folder_is_refused_before_training(tmp_path, case):
    out, complaint = out_cases(tmp_path)[case]
    refused_in_one_line(run_raw("--out", out), complaint)
    assert (tmp_path / "a_file").read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="the superuser may write into any folder, whatever its mode")
def test_an_unwritable_folder_is_refused_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    refused_in_one_line(run_raw("--out", str(locked)), "cannot write there")


def test_an_existing_folder_is_written_into(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_raw("--epochs", "1", "--quiet", "--samples", "20", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "model.json").exists()


@pytest.mark.parametrize("dataset", sorted(["moons", "circles", "xor", "blobs", "spiral", "sine",
                                            "linear", "friedman1"]))
def test_the_smallest_run_allowed_works_for_every_data_set(tmp_path, dataset):
    result = run_raw("--dataset", dataset, "--samples", "20", "--epochs", "1", "--quiet",
                     "--out", str(tmp_path))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("options", [
    ["--dataset", "sine", "--optimizer", "sgd", "--lr", "0.5"],
    ["--dataset", "sine", "--optimizer", "sgd", "--lr", "3"],
    ["--dataset", "friedman1", "--optimizer", "sgd", "--lr", "1"],
    ["--lr", "1e300"],
], ids=" ".join)
def test_a_diverging_run_stops_with_one_line_naming_the_epoch(tmp_path, options):
    result = run_raw(*options, "--out", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    assert re.fullmatch(r"demo\.py: training diverged at epoch \d+ \(.+\): lower the learning "
                        r"rate \(--lr [^)]+\)\n", result.stderr), result.stderr
    losses = re.findall(r"loss (\S+)", result.stdout)
    assert all(len(number) < 20 for number in losses)  # no loss hundreds of digits long


def test_serve_on_a_port_in_use_is_one_line_and_exit_2():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_raw("--serve", "--port", str(port), "--no-browser")
    refused_in_one_line(result, f"cannot listen on 127.0.0.1:{port}")
