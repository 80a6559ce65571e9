"""Shared pytest options."""


def pytest_addoption(parser):
    # tests/test_viz_golden.py: rewrite tests/golden/*.gv from the current drawings
    # (then review the diff with git before committing).
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden DOT files in tests/golden/ instead of comparing")
