"""The README's examples run as written, and print what the README says they print."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_every_python_block_without_pictures_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples may write files (model.json)
    blocks = [b for b in python_blocks() if "from viz" not in b]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - running it is the test
    assert (tmp_path / "model.json").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_the_pictures_example_writes_its_svg_and_page(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    block = next(b for b in python_blocks() if "from viz" in b)
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - running it is the test
    assert (tmp_path / "y.svg").read_text().count("<svg") == 1
    assert "<script" in (tmp_path / "y.html").read_text()


def test_the_engine_example_prints_the_gradients_its_comment_shows():
    block = next(b for b in python_blocks() if "y.backward()" in b)
    printed = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - as above
    da, db = (float(v) for v in printed.getvalue().split())
    assert f"{da:.7f}"[:9] == "0.0706508" and f"{db:.7f}"[:9] == "0.1413016"
    assert namespace["dx"].data == 0.75 and namespace["d2x"].data == 3.0

