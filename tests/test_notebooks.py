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
"""

from __future__ import annotations

import importlib.util
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
def kernel_environment():
    """The kernel imports chainrule from this checkout and draws plots inline."""
    with pytest.MonkeyPatch.context() as patch:
        path = os.environ.get("PYTHONPATH")
        patch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + path if path else ""))
        patch.delenv("MPLBACKEND", raising=False)
        yield


def execute(path: Path, folder: Path):
    """Run the notebook at ``path`` in a fresh kernel working in ``folder``; return it run."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
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


def test_the_demo_trains_a_model_that_learns_and_plots_inline(demo):
    text = "".join(printed(cell) for cell in demo.cells if cell.cell_type == "code")
    assert "MLP(2 -> 16 -> 16 -> 1, relu), 337 parameters" in text
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
