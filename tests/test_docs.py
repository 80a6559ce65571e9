"""The course in docs/ works as printed: its code runs, its outputs match, its links and figures exist.

How the pages are checked (docs/README.md tells readers the same):

* Every ```python block runs, in page order. The blocks of one page share one namespace
  (a fresh one per page), and run in a temporary working directory, so a block that writes
  a file leaves nothing behind.
* A ```text block that follows a ```python block with only blank lines between is what
  that block prints: the test compares it exactly (trailing spaces aside). A block that
  prints something must show it, so a page never hides output from its reader.
* A ```sh block holding one command ``python docs/experiments/NAME.py ...`` and followed by
  a ```text block is run the same way, and its output compared. A ```console block is a
  transcript from one machine (it holds timings) and is not compared; the experiment it
  shows is run by its own test below.
* Every relative link and image in docs/ and README.md points at a file that exists (and,
  with ``#anchor``, at a heading of that page).
* ``python docs/make_figures.py --small`` writes every committed figure, each a real image.

When the library changes a number on purpose, rewrite the outputs from a run and review
the diff before committing:

    python tests/test_docs.py --update

The printed outputs are regression pins written by chainrule itself: they catch a change,
not a wrong number. The oracle tests that make the numbers right are listed in
docs/README.md ("Checked by the tests").
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
PAGES = sorted(DOCS.glob("[0-9][0-9]-*.md"))
EXPERIMENT = re.compile(r"^python (docs/experiments/[\w-]+\.py)((?: \S+)*)$")


# ---- reading a page -----------------------------------------------------------------------


@dataclass
class Block:
    """A fenced code block: its language, its text, and the page lines of its two fences."""

    lang: str
    code: str
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line


def fenced_blocks(text: str) -> list[Block]:
    lines = text.split("\n")
    blocks, opening = [], None
    for i, line in enumerate(lines):
        match = re.fullmatch(r"```([\w-]*)\s*", line)
        if not match:
            continue
        if opening is None:
            opening = (i, match.group(1))
        else:
            start, lang = opening
            blocks.append(Block(lang, "\n".join(lines[start + 1:i]), start, i))
            opening = None
    if opening is not None:
        raise AssertionError(f"a code fence opened on line {opening[0] + 1} is never closed")
    return blocks


def examples(text: str) -> list[tuple[Block, Block | None]]:
    """Each runnable block (python, or sh running an experiment) with its shown output."""
    lines = text.split("\n")
    blocks = fenced_blocks(text)
    pairs = []
    for k, block in enumerate(blocks):
        if block.lang not in ("python", "sh"):
            continue
        if block.lang == "sh" and not EXPERIMENT.match(block.code.strip()):
            continue
        after = blocks[k + 1] if k + 1 < len(blocks) else None
        shown = None
        if (after is not None and after.lang == "text"
                and all(not line.strip() for line in lines[block.end + 1:after.start])):
            shown = after
        pairs.append((block, shown))
    return pairs


# ---- running it ---------------------------------------------------------------------------


def run_python(block: Block, namespace: dict, page: Path) -> str:
    """Run one block in the page's namespace; return what it printed."""
    # Leading newlines make a traceback's line numbers those of the page.
    source = "\n" * (block.start + 1) + block.code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(page), "exec"), namespace)  # noqa: S102 (the docs' own code)
    return out.getvalue()


def run_experiment(block: Block) -> str:
    script, args = EXPERIMENT.match(block.code.strip()).groups()
    done = subprocess.run([sys.executable, str(ROOT / script), *shlex.split(args)],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, f"{block.code.strip()} failed:\n{done.stderr}"
    return done.stdout


def run_page(page: Path) -> list[tuple[Block, Block | None, str]]:
    """Every example of the page with what it printed, in order, in one namespace."""
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    results = []
    for block, shown in examples(page.read_text()):
        if block.lang == "python":
            printed = run_python(block, namespace, page)
        else:
            printed = run_experiment(block)
        results.append((block, shown, printed))
    return results


def normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


# ---- the tests ----------------------------------------------------------------------------


def test_the_chapters_are_numbered_from_01_without_gaps():
    assert len(PAGES) >= 9, PAGES
    assert [page.name[:2] for page in PAGES] == [f"{k:02d}" for k in range(1, len(PAGES) + 1)]


def run_page_or_skip(page: Path) -> list[tuple[Block, Block | None, str]]:
    """``run_page``, skipped (saying why) only when Graphviz's ``dot`` is truly missing."""
    from viz import GraphvizNotFound

    try:
        return run_page(page)
    except GraphvizNotFound:
        if shutil.which("dot") is not None:
            raise
        pytest.skip(f"{page.name} draws graphs with Graphviz's dot, which is not installed")


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_block_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = []
    for block, shown, printed in run_page_or_skip(page):
        where = f"{page.name} line {block.start + 1}"
        if shown is None:
            if printed.strip():
                problems.append(f"{where}: prints output the page does not show:\n{printed}")
        elif normalized(printed) != normalized(shown.code):
            problems.append(f"{where}: the page shows\n{shown.code}\nbut the block printed\n"
                            f"{printed}")
    assert not problems, "\n\n".join(problems)


def test_the_pages_run_blocks_and_show_outputs():
    """The convention is in use: most pages print something a reader can check."""
    shown = sum(1 for page in PAGES for _, out in examples(page.read_text()) if out is not None)
    assert shown >= 2 * len(PAGES)


def test_chain_rule_experiment_counts_forward_passes():
    """Experiment 1 (its timings vary, so the page shows a transcript): 2N passes vs 1."""
    done = subprocess.run(
        [sys.executable, str(DOCS / "experiments" / "chain_rule_vs_numerical.py"),
         "--widths", "2", "3", "--repeats", "1"],
        check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line[:6].strip().isdigit()]
    assert [row[:3] for row in rows] == [["13", "26", "1"], ["19", "38", "1"]]  # N = 6h + 1
    for row in rows:
        assert float(row[-1]) < 1e-6  # central differences: close, not equal


def test_chain_rule_transcript_shows_the_counts_of_the_default_run():
    """The timings on page 08 come from one machine; its sizes and pass counts must not."""
    page = DOCS / "08-backpropagation.md"
    transcript = [b for b in fenced_blocks(page.read_text()) if b.lang == "console"]
    assert len(transcript) == 1
    command, *output = transcript[0].code.split("\n")
    assert command == "$ python docs/experiments/chain_rule_vs_numerical.py"
    rows = [line.split() for line in output if line[:6].strip().isdigit()]
    assert [int(row[0]) for row in rows] == [6 * h + 1 for h in (4, 8, 16, 32, 64, 128)]
    assert all(int(row[1]) == 2 * int(row[0]) and row[2] == "1" for row in rows)


# ---- links ----------------------------------------------------------------------------------


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text()
    fenced = {i for b in fenced_blocks(text) for i in range(b.start, b.end + 1)}
    return {github_anchor(line.lstrip("#")) for i, line in enumerate(text.split("\n"))
            if line.startswith("#") and i not in fenced}


def links(page: Path) -> list[str]:
    text = page.read_text()
    lines = text.split("\n")
    fenced = {i for b in fenced_blocks(text) for i in range(b.start, b.end + 1)}
    prose = "\n".join(line for i, line in enumerate(lines) if i not in fenced)
    return LINK.findall(prose)


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target} (in {page.name}: no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {destination.name})")
    return broken


BACK_MATTER = [DOCS / "formulas.md", DOCS / "glossary.md", DOCS / "names.md"]
MARKDOWN = [DOCS / "README.md", *PAGES, *BACK_MATTER, ROOT / "README.md"]


@pytest.mark.parametrize("page", MARKDOWN, ids=[str(p.relative_to(ROOT)) for p in MARKDOWN])
def test_relative_links_point_at_files_and_headings(page):
    assert not broken_links(page)


def test_a_broken_link_is_caught(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md#a-heading) [gone](missing.md) [bad](there.md#nowhere)\n"
                    "```python\n[not a link](inside/code.md)\n```\n")
    assert [entry.split(" ")[0] for entry in broken_links(page)] == [
        "missing.md", "there.md#nowhere"]


def test_the_table_of_contents_lists_every_chapter_in_order():
    toc = [target for target in links(DOCS / "README.md") if re.fullmatch(r"\d\d-[\w-]+\.md", target)]
    assert toc == [page.name for page in PAGES]


def test_the_back_matter_is_linked_from_the_contents_and_the_glossary_from_every_chapter():
    contents = links(DOCS / "README.md")
    assert all(page.name in contents for page in BACK_MATTER)
    glossary = (DOCS / "glossary.md").read_text()
    terms = re.findall(r"^\* \*\*(.+?)\*\*: .+ \[\d+\]\((\d\d-[\w-]+\.md)\)", glossary, re.MULTILINE)
    assert len(terms) > 50
    assert {page for _, page in terms} == {page.name for page in PAGES}
    names = [term.lower() for term, _ in terms]
    assert names == sorted(names), "the glossary is alphabetical"


def test_every_chapter_links_to_the_next():
    for page, after in pairwise(PAGES):
        assert after.name in links(page), f"{page.name} does not link to {after.name}"


# ---- what the prose claims about the printed numbers ------------------------------------------


def output_of(name: str, code: str) -> str:
    """What the page shows under the one block whose code contains ``code``."""
    found = [shown.code for block, shown in examples((DOCS / name).read_text())
             if shown is not None and code in block.code]
    assert len(found) == 1, f"{len(found)} blocks of {name} contain {code!r}"
    return found[0]


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def test_cross_entropy_pushes_28_times_harder_than_l2_by_2p_1_minus_p():
    """02: the L2 push is the cross-entropy push times 2 p (1 - p), L2's 2 included."""
    from engine import Value
    from nn import losses

    bce_push, l2_push = numbers(output_of("02-losses.md", "print(round(z.grad, 4), round(z2.grad, 4))"))
    p = Value(-4.0).sigmoid().data
    assert l2_push == pytest.approx(bce_push * 2 * p * (1 - p), abs=1e-4)
    assert round(bce_push / l2_push) == 28
    z = Value(-4.0)
    losses.mse(z.sigmoid(), 1.0).backward()
    assert z.grad == pytest.approx((p - 1) * 2 * p * (1 - p), rel=1e-12)


def test_logistic_regression_reaches_the_best_line_and_raw_inputs_do_not():
    """04: trained on standardized inputs it scores what the best of all lines scores (0.92);
    the same 100 steps on the raw inputs stop at 0.87, short of it (the page's old claim)."""
    from nn import LogisticRegression, data, losses, metrics, optim

    trained = output_of("04-logistic-regression.md", 'print("boundary:"')
    best_line = output_of("04-logistic-regression.md", "print(best_line_accuracy(X, y))")
    assert numbers(trained)[1] == numbers(best_line)[0] == 0.92
    X, y = data.make_moons(100, noise=0.1, seed=0)
    model = LogisticRegression(2, seed=0)
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(100):
        loss = losses.binary_cross_entropy([model(x) for x in X], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert metrics.accuracy(y, [int(model(x).data > 0.5) for x in X]) == 0.87


def test_roc_auc_ignores_imbalance_and_pr_auc_chance_is_the_prevalence():
    """06: with 10,000 negatives the comparison is clean: ROC-AUC moves by less than 0.01,
    PR-AUC falls by more than half, and a random scorer's PR-AUC is the share of positives."""
    shown = output_of("06-metrics.md", "guess = scores(")
    balanced, rare = (numbers(line) for line in shown.split("\n"))
    positives, roc, pr, chance_roc, chance_pr = balanced
    assert positives == 10_000 and rare[0] == 100
    assert abs(roc - rare[1]) < 0.01 and rare[2] < pr / 2
    assert chance_roc == pytest.approx(0.5, abs=0.01) and rare[3] == pytest.approx(0.5, abs=0.01)
    assert chance_pr == pytest.approx(0.5, abs=0.01)
    assert rare[4] == pytest.approx(100 / 10_100, abs=0.005)


def test_the_classifier_figures_draw_the_models_the_pages_print():
    """06 and 07: confusion_matrix.png comes from the very models whose matrices they print."""
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.remove(str(DOCS))
    from nn import metrics

    X_train, y_train, X_val, y_val, X_test, y_test = make_figures.moons_splits()
    logistic = make_figures.chapter6_logistic_regression(X_train, y_train, steps=100)
    shown_06 = output_of("06-metrics.md", "print(metrics.confusion_matrix(y_test, y_pred))").split(
        "\n")[0]
    assert str(metrics.confusion_matrix(y_test, [int(logistic(x).data > 0.5) for x in X_test])
               ) == shown_06 == "[[20, 2], [2, 21]]"
    mlp = make_figures.chapter7_mlp(X_train, y_train, X_val, y_val, epochs=15)
    shown_07 = output_of("07-deep-learning.md", 'print("best validation loss"').split("\n")[-1]
    y_pred = [int(mlp(x).data > 0) for x in X_test]
    assert f"{metrics.confusion_matrix(y_test, y_pred)} {metrics.accuracy(y_test, y_pred)}" == (
        shown_07)
    assert "41 of the 45" in (DOCS / "06-metrics.md").read_text()
    assert "logistic regression got 41" in (DOCS / "07-deep-learning.md").read_text()


def test_the_regression_figure_draws_the_fits_the_page_prints():
    """05: regression.png comes from the very fits whose R2 the page prints; the line
    underfits, the MLP reaches the noise floor, and the outliers cost L2 and not L1."""
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.remove(str(DOCS))
    from nn import training

    split, fits = make_figures.sine_fits(epochs=60)
    r2 = {name: round(training.evaluate(model, split.X_test, split.y_test, "mse")["r2"], 3)
          for name, model in fits.items()}
    fitted = output_of("05-data.md", 'print(f"{name:13}  test mse').split("\n")
    bent = output_of("05-data.md", 'for loss in ("mse", "l1"):').split("\n")
    assert [numbers(line)[-1] for line in fitted] == [r2["line"], r2["MLP"]]
    assert [numbers(line)[-1] for line in bent[:2]] == [r2["mse"], r2["l1"]]
    assert r2["line"] < 0.7 and r2["MLP"] > 0.95 and r2["mse"] < r2["l1"] - 0.03
    at_outliers = {loss: fits[loss]([1.2]).data for loss in ("mse", "l1")}
    assert abs(at_outliers["l1"] - math.sin(1.2)) < 0.05  # L1 stays on the sine
    assert math.sin(1.2) - at_outliers["mse"] > 0.3  # L2 bends towards the outliers
    mse = float(re.search(r"test mse ([\d.]+)", fitted[1]).group(1))
    assert mse == pytest.approx(0.1**2, abs=0.001)  # the variance of the noise


def test_the_hand_worked_backward_pass_has_a_line_for_every_node_backward_visits():
    """08: every node in the printed backward_order (the neg node too) is worked by hand."""
    text = (DOCS / "08-backpropagation.md").read_text()
    by_hand = text[text.index("Backward, right to left"):text.index("The engine does the same")]
    order = output_of("08-backpropagation.md", "for node in backward_order(loss):")
    labels = [line.split(" = ")[0].strip() for line in order.split("\n")]
    assert labels == ["loss", "log p", "p", "z", "w*x"]
    written = {"loss": "∂L/∂L", "log p": "∂L/∂(log p)", "p": "∂L/∂p ", "z": "∂L/∂z ",
               "w*x": "∂L/∂(w·x)"}
    for label in labels:
        assert f"\n    {written[label]}" in by_hand, label


def test_wider_hidden_layers_fit_closer_and_clipping_tames_the_explosion():
    """07: the error falls with the width (1, 4, 32 units); clipped training goes down while
    the same run unclipped explodes past 1e40."""
    widths = output_of("07-deep-learning.md", "for hidden in (1, 4, 32):")
    errors = [numbers(line)[-1] for line in widths.split("\n")]
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0] / 100
    runs = output_of("07-deep-learning.md", 'print("without clipping:", train_deep())')
    unclipped, clipped = (numbers(line.split(":", 1)[1]) for line in runs.split("\n")[1:])
    assert max(unclipped) > 1e40 and clipped == sorted(clipped, reverse=True)
    assert clipped[-1] < clipped[0] / 100


def make_figures_module():
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.remove(str(DOCS))
    return make_figures


def test_the_overfitting_page_and_figure_share_one_convention_and_the_noise_floor():
    """05: both losses are those after each epoch's step, as in overfitting.png (whose run
    gives the very numbers the page prints); the truth's validation loss is the floor the
    best epoch comes near; the truth beats the MLP on the test points it is compared on."""
    run = make_figures_module().overfitting_run(300, grid=[0.0])
    shown = output_of("05-data.md", "best = (val, epoch, model.state_dict())").split("\n")
    for line in shown[:5]:
        epoch, train, val = numbers(line)
        assert (train, val) == (round(run["train"][int(epoch) - 1], 4),
                                round(run["validation"][int(epoch) - 1], 4))
    best = numbers(shown[5])
    assert best[1:] == [round(run["best"][0], 4), run["best"][1]]
    floor = numbers(output_of("05-data.md", "print(round(losses.mse([math.sin(3.0 * x)"))[0]
    assert floor < best[1] < 1.25 * floor
    truth = output_of("05-data.md", "truth = [math.sin(x) for (x,) in X_test]")
    mlp = output_of("05-data.md", 'print(f"{name:13}  test mse').split("\n")[1]
    assert numbers(truth)[0] < numbers(mlp)[-2] / 1.5
    assert "0.01, which no model can beat" not in (DOCS / "05-data.md").read_text()


def test_r2_does_not_compare_across_data_sets():
    """06: the same perfect model and noise score about the same MSE and very different R2."""
    wide, narrow = ([float(x) for x in re.search(r"MSE ([\d.]+)  R2 ([\d.]+)", line).groups()]
                    for line in output_of("06-metrics.md", "for low, high in").split("\n"))
    assert 0.5 < wide[0] / narrow[0] < 2 and wide[1] - narrow[1] > 0.05
    assert "so it compares across" not in (DOCS / "06-metrics.md").read_text()


def test_exploding_gradients_grow_layer_by_layer_only_past_he_scale():
    """07: ||dL/dh|| per hidden layer shrinks backward as initialized and grows at x3; the
    median backward gain per layer crosses 1 at sqrt(6), where the weights' variance is He's."""
    default, tripled = (numbers(line.split("layer", 1)[1]) for line in
                        output_of("07-deep-learning.md", "hidden_gradient_norms(deep_net(scale))"
                                  "\n    print(f\"weights x {scale}").split("\n"))
    assert default == sorted(default) and default[-1] / default[0] > 100
    assert tripled == sorted(tripled, reverse=True) and tripled[0] / tripled[-1] > 3
    gains = [numbers(line)[-1] for line in
             output_of("07-deep-learning.md", "statistics.median(gains)").split("\n")]
    assert gains == sorted(gains) and gains[1] < 1 < gains[3] and abs(gains[2] - 1) < 0.05
    text = (DOCS / "07-deep-learning.md").read_text()
    assert f"from the last hidden layer ({default[-1]}) to\nthe first ({default[0]})" in text


def test_radams_rectifier_is_the_warm_up_that_slows_both_races():
    """09: the page's r_t is the step optim.RAdam takes; taken away, RAdam wins back both
    races (the numbers the prose quotes)."""
    table = output_of("09-optimizers.md", "def rectifier(").split("\n")
    for line in table:
        step, *rest = numbers(line)
        if step <= 5:
            assert "r_t     -" in line and rest == [1.0]
        else:
            assert rest[0] == rest[1] < 1
    assert [numbers(line)[1] for line in table if numbers(line)[0] in (6, 500)] == [0.026, 0.476]
    race = {line.split()[0]: numbers(line) for line in
            output_of("09-optimizers.md", "def steps_to_bottom(").split("\n")[1:]}
    moons = {line.split()[0]: numbers(line) for line in
             output_of("09-optimizers.md", "def train_moons(").split("\n")[1:]}
    valley, without = output_of("09-optimizers.md", "class RAdamWithoutRectifier").split("\n")
    with_r, without_r = numbers(valley)[1:]
    assert with_r == race["RAdam"][1] and without_r < race["Adam"][1]
    curve = numbers(without.split(":")[1])
    assert curve[-1] < moons["RAdam"][-1] and curve[1] < moons["Adam"][1]
    text = (DOCS / "09-optimizers.md").read_text()
    assert f"in {int(without_r)} steps instead of {int(with_r)}" in text
    assert "its first plain-momentum steps" not in text and "half a percent" not in text


def test_the_engine_built_by_hand_agrees_and_the_forgetful_one_does_not():
    """11: the forty-line Scalar matches chainrule on chapter 8's network and on every random
    expression; with = instead of +=, x * x gets 3 instead of 6 and random checks catch it."""
    mine, theirs = output_of("11-build-your-engine.md", "mine, my_leaves = tiny_network(Scalar)\n"
                             "theirs").split("\n")
    assert numbers(mine) == numbers(theirs)
    assert output_of("11-build-your-engine.md", "forgetful_mul(x, x).backward()") == (
        "x * x at 3: with = 3.0  with += 6.0  d(x²)/dx = 2x = 6.0")
    assert output_of("11-build-your-engine.md", "of 500 random expressions agree") == (
        "500 of 500 random expressions agree")
    survivors = numbers(output_of("11-build-your-engine.md", "Scalar.__mul__ = lambda"))[0]
    assert 0 < survivors < 400


def test_the_matrix_formulas_are_chainrules_gradients_and_the_gates_behave():
    """12: Xᵀ G, G Wᵀ and the column sums equal the per-scalar gradients; add copies the
    upstream 5, multiply swaps (-10, 15), max routes (5, 0)."""
    checks = output_of("12-matrix-backward.md", "dW = matmul(transpose(X_), G)").split("\n")
    assert checks[1] == "dW: True  dX: True  db: True"
    assert numbers(checks[0]) == [3, 2, 4, 3, 2]
    gates = [numbers(line.split("=", 1)[1]) for line in
             output_of("12-matrix-backward.md", "for name, f in").split("\n")]
    assert gates == [[1.0, 5.0, 5.0], [-6.0, -10.0, 15.0], [3.0, 5.0, 0.0]]


def test_he_keeps_the_signal_and_trains_where_the_default_does_not():
    """13: through ten ReLU layers He's variance keeps the size within a factor 2, Xavier's
    loses a factor over 10; trained side by side, He's loss at step 100 is a fifth of the
    default's, which hardly moves."""
    sizes = {line[:10].strip(): numbers(line[10:]) for line in
             output_of("13-initialization.md", "for name, init in inits.items():").split("\n")}
    assert sizes["He 2/n"][0] / sizes["He 2/n"][-1] < 2
    assert sizes["Xavier 1/n"][0] / sizes["Xavier 1/n"][-1] > 10
    assert sizes["default"][1] < 0.5 * sizes["default"][0]
    default, he = (numbers(line) for line in output_of(
        "13-initialization.md", "def train(net, steps=100").split("\n")[1:])
    assert default[-1] > 0.9 * default[0] and he[-1] < default[-1] / 4


def test_weight_decay_beats_early_stopping_and_dropout_helps_on_chapter_5s_run():
    """14: the penalty by hand and weight_decay= agree; at 0.003 the last epoch beats chapter
    5's best (early stopping); too much decay underfits; dropout lowers the final loss."""
    first = output_of("14-regularization.md", 'print("no regularization:"').split("\n")
    none, truth = (numbers(line.split(":")[1])[0] for line in first)
    assert none == numbers(output_of("05-data.md", "best = (val, epoch, model.state_dict())"
                                     ).split("\n")[4])[-1]
    assert truth == numbers(output_of("05-data.md", "print(round(losses.mse([math.sin(3.0 * x)"))[0]
    decays = {numbers(line)[0]: numbers(line)[-1] for line in
              output_of("14-regularization.md", "for lam in (0.001, 0.003").split("\n")}
    early_stopping = numbers(output_of("05-data.md", "best = (val, epoch, model.state_dict())"
                                       ).split("\n")[5])[1]
    assert min(decays, key=decays.get) == 0.003 and decays[0.003] < early_stopping
    assert decays[0.03] > decays[0.003] + 0.05 and decays[0.001] > decays[0.003] + 0.05
    assert output_of("14-regularization.md", "def penalized_steps(").endswith("True")
    dropout = output_of("14-regularization.md", "dropped = Sequential(").split("\n")
    assert truth < numbers(dropout[-2])[-1] < none and dropout[-1].endswith("True")


def test_least_squares_gradient_descent_and_the_ceo():
    """15: gradient descent lands on the normal equations' answer; with the CEO, L2's weights
    go far from the rule and L1's stay near it; the CEO multiplies RMSE far more than MAE."""
    rows = {line[:22].strip(): numbers(line[22:]) for page_block in (
        "show(\"least squares\"", "show(\"gradient descent\"", "show(\"L2, with the CEO\"")
        for line in output_of("15-salary.md", page_block).split("\n") if "b =" in line}
    assert rows["gradient descent"] == rows["least squares"]
    rule = [30, 2.5, 4, 0.5]
    l2_far = max(abs(a - b) for a, b in zip(rows["L2, with the CEO"], rule))
    l1_far = max(abs(a - b) for a, b in zip(rows["L1, with the CEO"], rule))
    assert l2_far > 100 and l1_far < 15
    clean, ceo = (numbers(line) for line in
                  output_of("15-salary.md", "clean = predict(").split("\n"))
    assert ceo[1] / clean[1] > 3 * ceo[0] / clean[0]   # RMSE grows far more than MAE


def test_the_checklist_catches_what_it_says():
    """16: the loss at initialization is near ln 2 and far from it with inputs in the wrong
    unit; a stale optimizer never moves the loss; more units die at fifty times the rate."""
    first, initialized, wrong_unit = output_of("16-when-training-goes-wrong.md",
                                               'print("ln 2 ="').split("\n")
    ln2, fresh, wrong = numbers(first)[1], numbers(initialized)[-1], numbers(wrong_unit)[-1]
    assert abs(fresh - ln2) < 0.05 and wrong > 5 * ln2
    right, stale = (numbers(line.split(":", 1)[1]) for line in output_of(
        "16-when-training-goes-wrong.md", 'print("a stale optimizer:').split("\n")[1:])
    assert right[-1] < 0.01 and len(set(stale)) == 1
    slow, fast = (numbers(line.split("layer", 1)[1]) for line in output_of(
        "16-when-training-goes-wrong.md", "dead_units(model, X)").split("\n"))
    assert sum(fast[:2]) > 2 * sum(slow[:2]) and fast[-1] > ln2


def test_the_optimizer_figure_uses_the_learning_rates_the_page_found_best():
    """09: the figure's paths run at the best learning rate of the page's grid."""
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.remove(str(DOCS))
    race = output_of("09-optimizers.md", "def steps_to_bottom(").split("\n")[1:]
    found = {line.split()[0]: float(line.split()[3]) for line in race}
    assert found == make_figures.VALLEY_LR


def test_dead_relus_stay_dead_and_leaky_ones_come_back():
    """07: the page's counts are the figure's; with ReLU the count only grows (24 of 32 by
    epoch 3, for good), with leaky ReLU it reaches 21 and falls again."""
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.remove(str(DOCS))
    shown = output_of("07-deep-learning.md", "def negative_everywhere(").split("\n")
    relu, leaky = (numbers(line.split(" ", 1)[1]) for line in shown)
    assert relu == make_figures.dead_neurons_per_epoch("relu", 20)
    assert leaky == make_figures.dead_neurons_per_epoch("leaky_relu", 20)
    assert relu == sorted(relu) and relu.index(24) == 3 and relu[-1] == 24
    assert max(leaky) == 21 and any(after < before for before, after in pairwise(leaky))
    text = (DOCS / "07-deep-learning.md").read_text()
    assert "24 of the 32 hidden neurons are dead by epoch 3" in text
    assert "as many as 21 at once" in text


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_chapter_ends_with_exercises_whose_solutions_print_checked_answers(page):
    """Two or three exercises, then their solutions folded in <details>: code with output."""
    text = page.read_text()
    assert text.count("\n## Exercises\n") == 1, page.name
    section = text[text.index("\n## Exercises\n"):]
    questions = section[:section.index("<details>")]
    count = len(re.findall(r"^(\d)\. ", questions, flags=re.MULTILINE))
    assert 2 <= count <= 3, f"{page.name} has {count} exercises"
    solutions = section[section.index("<details>"):section.index("</details>")]
    assert "<summary>Solutions</summary>" in solutions
    answered = [shown for block, shown in examples(solutions) if block.lang == "python"]
    assert answered and all(shown is not None for shown in answered), page.name


def test_the_backward_graph_fits_a_page():
    """08: the tiny network's backward graph is laid out top to bottom, not 2,662 pt wide."""
    svg = ElementTree.parse(FIGURES / "tiny_net_backward.svg").getroot()
    assert float(svg.get("width").removesuffix("pt")) < 1000


# ---- figures -----------------------------------------------------------------------------


def is_image(path: Path) -> bool:
    content = path.read_bytes()
    if path.suffix == ".png":
        return content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 1000
    if path.suffix == ".svg":
        return ElementTree.fromstring(content).tag == "{http://www.w3.org/2000/svg}svg"
    if path.suffix == ".html":
        return content.startswith(b"<!DOCTYPE html>") and content.count(b"<svg") >= 2
    return False


def test_figure_script_writes_every_figure_as_an_image(tmp_path):
    pytest.importorskip("matplotlib", reason="the figures are drawn with matplotlib")
    if shutil.which("dot") is None:
        pytest.skip("the graph figures need Graphviz's dot, which is not installed")
    done = subprocess.run([sys.executable, str(DOCS / "make_figures.py"), "--small",
                           "--out", str(tmp_path)],
                          check=False, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert written == sorted(p.name for p in FIGURES.iterdir())
    for name in written:
        assert is_image(tmp_path / name), name


def test_committed_figures_are_small_images_used_by_a_page():
    used = {(page.parent / target).resolve() for page in MARKDOWN for target in links(page)}
    for figure in FIGURES.iterdir():
        assert is_image(figure), figure.name
        limit = 150_000 if figure.suffix == ".html" else 80_000
        assert figure.stat().st_size < limit, f"{figure.name} is {figure.stat().st_size} bytes"
        assert figure.resolve() in used, f"no page shows {figure.name}"


# ---- rewriting the outputs ---------------------------------------------------------------------


def update(page: Path) -> bool:
    """Rewrite the page's ```text outputs from a run (adding missing ones); True if changed."""
    text = page.read_text()
    lines = text.split("\n")
    edits = []  # (first line, last line, new lines), applied bottom-up
    for block, shown, printed in run_page(page):
        body = normalized(printed).split("\n") if printed.strip() else None
        if shown is not None and body is not None:
            edits.append((shown.start + 1, shown.end, body))
        elif shown is None and body is not None:
            edits.append((block.end + 1, block.end + 1, ["", "```text", *body, "```"]))
    for first, last, body in sorted(edits, reverse=True):
        lines[first:last] = body
    new = "\n".join(lines)
    if new != text:
        page.write_text(new)
    return new != text


if __name__ == "__main__":
    if sys.argv[1:2] != ["--update"]:
        sys.exit("usage: python tests/test_docs.py --update [docs/NN-page.md ...]")
    sys.path.insert(0, str(ROOT))
    chosen = [Path(p).resolve() for p in sys.argv[2:]] or PAGES
    with tempfile.TemporaryDirectory() as folder:
        here = os.getcwd()
        os.chdir(folder)
        try:
            for page in chosen:
                print(f"{page.relative_to(ROOT)}: {'updated' if update(page) else 'unchanged'}")
        finally:
            os.chdir(here)


def test_the_names_page_lists_exactly_the_registry(monkeypatch):
    from nn import optim, registry

    rewrite = ("python -c \"from nn import registry; print(registry.names_page(), end='')\" "
               "> docs/names.md")
    assert (DOCS / "names.md").read_text(encoding="utf-8") == registry.names_page(), rewrite
    # A name added to the registry alone is on the page (and in demo and the playground,
    # tests/test_registry.py): the page has no list of its own to forget.
    monkeypatch.setitem(registry.OPTIMIZERS, "nesterov", registry.OptimizerEntry(
        optim.SGD, {"momentum": 0.9, "nesterov": True}, "SGD with Nesterov momentum"))
    assert "| `nesterov` | SGD with Nesterov momentum |" in registry.names_page()
