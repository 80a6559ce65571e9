"""Shared pytest options and fixtures."""

import pytest

from tests.torch_oracle import import_torch


def pytest_addoption(parser):
    # tests/test_viz_golden.py: rewrite tests/golden/*.gv from the current drawings
    # (then review the diff with git before committing).
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden DOT files in tests/golden/ instead of comparing")


@pytest.fixture
def torch():
    """PyTorch, the float64 oracle; a test that takes it is skipped (saying why) without it."""
    return import_torch()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With --update-golden, a golden test compared a file with itself: report it as skipped.

    It rewrote tests/golden/ from the current drawings, so its comparison proves nothing;
    counting it as passed would hide that the drawings were not checked.
    """
    outcome = yield
    report = outcome.get_result()
    if (report.when == "call" and report.passed and "golden" in item.name
            and item.config.getoption("--update-golden")):
        report.outcome = "skipped"
        why = ("Skipped: --update-golden rewrote the golden file, so nothing was compared; "
               "review `git diff tests/golden/`")
        report.longrepr = (str(item.path), item.location[1] or 0, why)
