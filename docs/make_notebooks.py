"""Write the course as Jupyter notebooks: docs/notebooks/NN-name.ipynb from each docs/NN-name.md.

    python docs/make_notebooks.py            # write every chapter's notebook
    python docs/make_notebooks.py --check    # only say which are out of date (exit 1 if any)

The page is the source and the notebook follows it: each ```python block becomes a code
cell, and the text between two code blocks one Markdown cell (so a ```text block showing
what the code prints stays right under it, as on the page). Links are rewritten for the
notebook's folder: a chapter ``02-losses.md`` becomes its notebook ``02-losses.ipynb``,
any other file gets ``../``. Notebooks are written without outputs, and the same page
always gives the same bytes, so running this again changes nothing unless a page changed.
``tests/test_notebooks.py`` fails when a page and its notebook disagree.

A chapter's solutions, folded on the page in ``<details>``, would come out as a ``<details>``
opened in one Markdown cell and closed in a later one, which Jupyter shows unfolded. So
the notebook moves them to its end, after the rest of the page, under a heading
``## Solutions`` that JupyterLab opens collapsed (the cell's ``jp-MarkdownHeadingCollapsed``
metadata): every exercise comes before its answer, folded or not, in any notebook viewer.

The conversion is written out here rather than taken from jupytext: it is this short,
installs nothing, and the pages use nothing but fenced code blocks and links.
``docs/notebooks/demo.ipynb`` is no chapter: it is its own source.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS / "notebooks"
FENCE = re.compile(r"```([\w-]*)\s*")  # as tests/test_docs.py reads the pages
LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)")
CHAPTER = re.compile(r"\d\d-[\w-]+\.md")
SOLUTIONS_OPEN, SOLUTIONS_CLOSE = "<details>\n<summary>Solutions</summary>", "</details>"
SOLUTIONS_HEADING = "## Solutions"


def chapters() -> list[Path]:
    """The course's pages, in order: docs/01-models.md, docs/02-losses.md, ..."""
    return sorted(DOCS.glob("[0-9][0-9]-*.md"))


def notebook_path(page: Path) -> Path:
    return NOTEBOOKS / f"{page.stem}.ipynb"


def cells(text: str) -> list[tuple[str, str]]:
    """The page as (kind, source) pairs: "code" for each ```python block, "markdown" between;
    its folded solutions, if any, last, under the heading ``SOLUTIONS_HEADING``."""
    if SOLUTIONS_OPEN not in text:
        return page_cells(text)
    before, _, rest = text.partition(SOLUTIONS_OPEN)
    solutions, closed, after = rest.partition(SOLUTIONS_CLOSE)
    if not closed:
        raise ValueError("the solutions' <details> is never closed")
    tail = page_cells(after)
    if any(kind == "code" for kind, _ in tail):
        raise ValueError("code after the solutions would run before them in the notebook")
    return [*page_cells(before), *tail, ("markdown", SOLUTIONS_HEADING),
            *page_cells(solutions)]


def page_cells(text: str) -> list[tuple[str, str]]:
    """``text`` as (kind, source) pairs, in page order."""
    found: list[tuple[str, str]] = []
    prose: list[str] = []
    code: list[str] | None = None  # the lines of the python block being read
    fenced = False  # inside a block of another language
    for line in text.split("\n"):
        fence = FENCE.fullmatch(line)
        if code is not None:
            if fence:
                found.append(("code", "\n".join(code)))
                code = None
            else:
                code.append(line)
        elif fence and not fenced and fence.group(1) == "python":
            found.append(("markdown", "\n".join(prose)))
            prose, code = [], []
        else:
            fenced ^= bool(fence)
            prose.append(line if fenced or fence else relinked(line))
    if code is not None:
        raise ValueError("a ```python block is never closed")
    found.append(("markdown", "\n".join(prose)))
    return [(kind, source.strip("\n")) for kind, source in found
            if kind == "code" or source.strip()]


def relinked(line: str) -> str:
    """``line`` with its relative links made relative to docs/notebooks/."""
    def move(match: re.Match[str]) -> str:
        target = match.group(2)
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        if CHAPTER.fullmatch(path):
            return f"{match.group(1)}{path[:-3]}.ipynb{hash_}{anchor}"
        return f"{match.group(1)}../{target}"
    return LINK.sub(move, line)


def notebook(sources: list[tuple[str, str]]) -> dict:
    """An nbformat 4.5 notebook of those cells, without outputs, for a Python 3 kernel."""
    def cell(k: int, kind: str, source: str) -> dict:
        lines = source.split("\n")
        folded = kind == "markdown" and source == SOLUTIONS_HEADING
        entry = {"cell_type": kind, "id": f"cell-{k}",
                 "metadata": {"jp-MarkdownHeadingCollapsed": True} if folded else {},
                 "source": [line + "\n" for line in lines[:-1]] + [lines[-1]]}
        if kind == "code":
            entry.update(execution_count=None, outputs=[])
        return entry

    return {
        "cells": [cell(k, kind, source) for k, (kind, source) in enumerate(sources)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def as_text(nb: dict) -> str:
    """The notebook file's text, laid out as Jupyter writes it (sorted keys, indent 1)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebook_text(page: Path) -> str:
    """What ``page``'s notebook file must hold."""
    header = (f"*This notebook is made from the page [{page.name}](../{page.name}) by "
              f"`python docs/make_notebooks.py`: edit the page, then run that again.*")
    return as_text(notebook([("markdown", header), *cells(page.read_text(encoding="utf-8"))]))


def out_of_date() -> list[Path]:
    """The chapters whose notebook is missing or differs from its page."""
    return [page for page in chapters()
            if not notebook_path(page).exists()
            or notebook_path(page).read_text(encoding="utf-8") != notebook_text(page)]


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print("usage: python docs/make_notebooks.py [--check]", file=sys.stderr)
        return 2
    stale = out_of_date()
    if argv == ["--check"]:
        for page in stale:
            print(f"{notebook_path(page).relative_to(DOCS.parent)} is out of date")
        return 1 if stale else 0
    NOTEBOOKS.mkdir(exist_ok=True)
    for page in stale:
        # Written whole through a temp file, so an interrupted run leaves no half notebook.
        path = notebook_path(page)
        temp = path.with_name(f".{path.name}.tmp")
        try:
            temp.write_text(notebook_text(page), encoding="utf-8")
            temp.replace(path)
        finally:
            temp.unlink(missing_ok=True)
        print(f"wrote {path.relative_to(DOCS.parent)}")
    print(f"{len(chapters())} notebooks, {len(stale)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
