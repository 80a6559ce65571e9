"""The course as notebooks: each chapter's notebook agrees with its page, and every notebook
runs in a real Jupyter kernel.

* ``docs/notebooks/NN-name.ipynb`` is exactly what ``python docs/make_notebooks.py`` makes
  of ``docs/NN-name.md``; the notebooks are committed valid and without outputs.
* Each notebook runs top to bottom in a fresh IPython kernel (nbclient and ipykernel, the
  test extra), in a temporary folder: no cell may raise, and each chapter's cells print
  exactly what the page shows under the same code (read as ``tests/test_docs.py`` reads it).
* ``demo.ipynb`` trains the demo's model, plots inline, draws a backward graph as SVG and
  shows the backward stepper as HTML, which headless Chromium then steps through with its
  buttons.

Only a missing Graphviz ``dot`` skips a notebook that draws graphs, saying so.

Which Python runs the kernel: by default this one (the test extra's environment). With
``CHAINRULE_COURSE_PYTHON`` set to the interpreter of an environment made by the README's
course install alone (``python -m venv V && V/bin/pip install -e ".[docs]"``; CI makes one),
every notebook runs in a kernel of that Python instead, and a test checks that the kernel
is that environment and holds none of the test extra's packages: so "every chapter runs
after the course install" is tested, not assumed. The pages' printed numbers are compared
in that kernel just the same.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.chromium import chromium_fixture, needs_chromium
from tests.test_docs import PAGES, examples, normalized
from tests.viz_reading import needs_dot, step_through_with_buttons

nbformat = pytest.importorskip("nbformat", reason="notebooks are read with nbformat: "
                                                  "pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="notebooks run through nbclient and "
                                                  "ipykernel: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "docs" / "notebooks"
COURSE_PYTHON = os.environ.get("CHAINRULE_COURSE_PYTHON")
COURSE_KERNEL = "chainrule-course"
TEST_ONLY = ("pytest", "torch", "sklearn", "micrograd")   # the test extra's, not the course's
DEMO = NOTEBOOKS / "demo.ipynb"
REGENERATE = "run python docs/make_notebooks.py and commit the notebooks"


def load_make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks",
                                                  ROOT / "docs" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_notebooks = load_make_notebooks()


# ---- the notebooks as files ----------------------------------------------------------------


def test_every_chapter_notebook_is_made_from_its_page():
    stale = [make_notebooks.notebook_path(page).name for page in make_notebooks.out_of_date()]
    assert not stale, f"out of date with its page in docs/: {', '.join(stale)}: {REGENERATE}"
    made = {path.stem for path in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")}
    assert made == {page.stem for page in PAGES}, f"a notebook without its page: {REGENERATE}"


def test_a_page_edited_after_its_notebook_is_caught(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    page = tmp_path / "01-first.md"
    page.write_text("# One\n\n```python\nprint(1)\n```\n")
    monkeypatch.setattr(make_notebooks, "DOCS", tmp_path)
    monkeypatch.setattr(make_notebooks, "NOTEBOOKS", tmp_path / "notebooks")
    assert make_notebooks.out_of_date() == [page]   # no notebook yet
    assert make_notebooks.main([]) == 0
    assert make_notebooks.out_of_date() == [] and make_notebooks.main(["--check"]) == 0
    page.write_text("# One\n\n```python\nprint(2)\n```\n")
    assert make_notebooks.out_of_date() == [page] and make_notebooks.main(["--check"]) == 1


PAGE = """# Title

See [chapter 2](02-losses.md#l1), [a figure](figures/a.png), [the web](https://example.org).

```python
x = 1
print(x)
```

```text
1 [not a link](b.md)
```

```sh
python docs/experiments/e.py
```

```python
print(2)
```
"""


def test_a_page_becomes_code_cells_and_markdown_with_links_for_the_notebook_folder():
    links = ("# Title\n\nSee [chapter 2](02-losses.ipynb#l1), [a figure](../figures/a.png), "
             "[the web](https://example.org).")
    shown = "```text\n1 [not a link](b.md)\n```\n\n```sh\npython docs/experiments/e.py\n```"
    assert make_notebooks.cells(PAGE) == [
        ("markdown", links), ("code", "x = 1\nprint(x)"), ("markdown", shown), ("code", "print(2)"),
    ]


FOLDED = """# Title

## Exercises

1. Print one.

<details>
<summary>Solutions</summary>

1. Like this:

```python
print(1)
```

</details>

Next: [2. Losses](02-losses.md)
"""


def test_solutions_move_to_the_end_under_a_heading_jupyterlab_opens_folded():
    sources = make_notebooks.cells(FOLDED)
    assert sources == [
        ("markdown", "# Title\n\n## Exercises\n\n1. Print one."),
        ("markdown", "Next: [2. Losses](02-losses.ipynb)"),
        ("markdown", make_notebooks.SOLUTIONS_HEADING),
        ("markdown", "1. Like this:"),
        ("code", "print(1)"),
    ]
    heading = make_notebooks.notebook(sources)["cells"][2]
    assert heading["metadata"] == {"jp-MarkdownHeadingCollapsed": True}
    with pytest.raises(ValueError, match="code after the solutions"):
        make_notebooks.cells(FOLDED + "\n```python\nprint(2)\n```\n")


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_each_chapters_solutions_are_folded_after_everything_else(page):
    """No <details> split across cells (Jupyter would show it open); one folded heading,
    after the exercises, with no heading after it that would end the fold."""
    notebook = nbformat.read(make_notebooks.notebook_path(page), as_version=4)
    assert not any("<details>" in cell.source or "</details>" in cell.source
                   for cell in notebook.cells)
    (k,) = [k for k, cell in enumerate(notebook.cells)
            if cell.source == make_notebooks.SOLUTIONS_HEADING]
    assert notebook.cells[k].metadata == {"jp-MarkdownHeadingCollapsed": True}
    assert "## Exercises" in "\n".join(cell.source for cell in notebook.cells[:k])
    after = "\n".join(cell.source for cell in notebook.cells[k + 1:] if cell.cell_type == "markdown")
    assert not re.search(r"^#{1,2} ", after, flags=re.MULTILINE)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_the_notebooks_links_point_at_files_from_their_folder(path):
    notebook = nbformat.read(path, as_version=4)
    targets = [target for cell in notebook.cells if cell.cell_type == "markdown"
               for _, target in make_notebooks.LINK.findall(cell.source)
               if not re.match(r"^[a-z]+:|#", target)]
    assert targets, f"{path.name} links to nothing"   # each at least to its page or README
    missing = [t for t in targets if not (NOTEBOOKS / t.partition("#")[0]).exists()]
    assert not missing, f"{path.name} links to files that do not exist: {missing}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_the_committed_notebooks_are_valid_and_hold_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code), (
        f"{path.name} holds outputs: clear them before committing")


# ---- the notebooks in a kernel -------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def kernel_environment(tmp_path_factory):
    """The kernel imports chainrule from this checkout and draws plots inline; with
    CHAINRULE_COURSE_PYTHON, it is that Python, through a kernel spec of its own."""
    with pytest.MonkeyPatch.context() as patch:
        path = os.environ.get("PYTHONPATH")
        if COURSE_PYTHON:
            patch.setenv("PYTHONPATH", str(ROOT))   # this checkout, and nothing of ours else
            specs = tmp_path_factory.mktemp("jupyter")
            folder = specs / "kernels" / COURSE_KERNEL
            folder.mkdir(parents=True)
            (folder / "kernel.json").write_text(json.dumps({
                "argv": [COURSE_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "chainrule course install", "language": "python"}))
            patch.setenv("JUPYTER_PATH", str(specs))
        else:
            patch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + path if path else ""))
        patch.delenv("MPLBACKEND", raising=False)
        yield


def execute(path: Path, folder: Path):
    """Run the notebook at ``path`` in a fresh kernel working in ``folder``; return it run."""
    notebook = nbformat.read(path, as_version=4)
    kernel = COURSE_KERNEL if COURSE_PYTHON else "python3"
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name=kernel,
                                     resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        if "GraphvizNotFound" in str(error) and shutil.which("dot") is None:
            pytest.skip(f"{path.name} draws graphs with Graphviz's dot, which is not installed")
        raise
    return notebook


def printed(cell) -> str:
    return "".join(out.text for out in cell.outputs
                   if out.output_type == "stream" and out.name == "stdout")


def test_the_kernel_is_the_course_install_when_ci_names_one(tmp_path):
    if not COURSE_PYTHON:
        pytest.skip("CHAINRULE_COURSE_PYTHON is not set: the notebooks run in this Python's "
                    "kernel (CI sets it to a venv made by pip install -e '.[docs]' alone)")
    probe = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import importlib.util, sys\n"
        "print(sys.prefix)\n"
        f"print([name for name in {TEST_ONLY!r} if importlib.util.find_spec(name)])\n"
        "import engine.testing, matplotlib, nn, viz\n"
        "print(engine.__file__)")]), probe)
    lines = printed(execute(probe, tmp_path).cells[0]).split("\n")
    assert Path(lines[0]) == Path(COURSE_PYTHON).absolute().parent.parent   # the venv itself
    assert lines[1] == "[]", f"the course install holds test-only packages: {lines[1]}"
    assert Path(lines[2]).is_relative_to(ROOT)                                # this checkout


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_each_chapter_runs_in_a_kernel_and_prints_the_pages_numbers(page, tmp_path):
    path = make_notebooks.notebook_path(page)
    blocks = [(block, shown) for block, shown in examples(page.read_text())
              if block.lang == "python"]
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "code"]
    assert code == [block.code.strip("\n") for block, _ in blocks], (
        f"{path.name} does not hold the code of {page.name}: {REGENERATE}")
    notebook = execute(path, tmp_path)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    problems = []
    for cell, (block, shown) in zip(cells, blocks):
        where = f"{page.name} line {block.start + 1}"
        if shown is None and printed(cell).strip():
            problems.append(f"{where}: the kernel printed what the page does not show:\n"
                            f"{printed(cell)}")
        elif shown is not None and normalized(printed(cell)) != normalized(shown.code):
            problems.append(f"{where}: the page shows\n{shown.code}\nbut the kernel printed\n"
                            f"{printed(cell)}")
    assert not problems, "\n\n".join(problems)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return execute(DEMO, tmp_path_factory.mktemp("demo"))


def outputs_of(notebook, call: str) -> list:
    """The outputs of the one code cell whose last line calls ``call``."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"
             and cell.source.strip().split("\n")[-1].startswith(call)]
    assert len(cells) == 1, f"expected one cell ending in {call}, found {len(cells)}"
    return cells[0].outputs


def test_the_demo_uses_only_what_the_chapters_teach():
    """Binary cross-entropy on the MLP's logit (chapters 4 and 7), and the neuron opened up
    is logistic regression's own (sigmoid and cross-entropy on a hidden ReLU would be wrong)."""
    code = "\n".join(cell.source for cell in nbformat.read(DEMO, as_version=4).cells
                     if cell.cell_type == "code")
    assert "hinge" not in code
    assert "binary_cross_entropy_with_logits(model(X), y)" in code
    assert "neuron = LogisticRegression(2" in code and "neuron.linear.weight[0]" in code


def test_the_demo_trains_a_model_that_learns_and_plots_inline(demo):
    text = "".join(printed(cell) for cell in demo.cells if cell.cell_type == "code")
    assert "MLP(2 -> 16 -> 16 -> 1, relu), 337 parameters" in text
    backward, by_formula = re.search(r"dloss/dw1 = (-?[\d.]+), \(p - y\) x1 = (-?[\d.]+)",
                                     text).groups()
    assert backward == by_formula   # chapter 4's gradient, (p - y) x, from backward()
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", text).group(1))
    assert accuracy >= 0.95
    plots = [out for cell in demo.cells if cell.cell_type == "code" for out in cell.outputs
             if out.output_type == "display_data" and "image/png" in out.data]
    assert len(plots) == 3   # the data, the loss curve, the decision boundary


@needs_dot
def test_the_demo_shows_backward_graphs_as_svg(demo):
    for outputs in (outputs_of(demo, "draw_backward(neuron_loss"),
                    outputs_of(demo, "draw_backward(small_loss")):
        (result,) = outputs
        assert result.data["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    named = outputs_of(demo, "draw_backward(small_loss")[0].data["image/svg+xml"]
    assert ">layers.0<" in named and ">w[1,0]<" in named and ">neuron 1<" in named


@needs_dot
def test_the_demo_shows_the_backward_stepper_as_html(demo):
    (result,) = outputs_of(demo, "backward_steps(neuron_loss")
    assert result.data["text/plain"] == "backward of loss in 8 steps"
    stepper = result.data["text/html"]
    assert stepper.startswith('<div class="chainrule-stepper"') and stepper.count("<svg") == 9
    assert result.data["image/svg+xml"] in stepper


browser = chromium_fixture()


@needs_chromium
@needs_dot
def test_the_demo_stepper_steps_through_every_frame_in_chromium(demo, browser, tmp_path):
    (result,) = outputs_of(demo, "backward_steps(neuron_loss")
    stepper = result.data["text/html"]
    page = tmp_path / "output.html"
    page.write_text(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                    f"<title>output</title></head><body>{stepper}</body></html>",
                    encoding="utf-8")
    browser.open(page.as_uri())
    box = re.search(r'id="(chainrule-stepper-[0-9a-f]+)"', stepper).group(1)
    step_through_with_buttons(browser, f"#{box}", last=8)
    assert browser.errors() == []
