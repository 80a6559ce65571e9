"""The examples in the docstrings of engine/ and nn/ run, and print what they say they print.

Each module is imported and its ``>>>`` examples are run by ``doctest`` (the same as
``python -m pytest --doctest-modules engine nn``), so an example that goes stale fails here.
"""

import doctest
import importlib
import pkgutil

import pytest

import engine
import nn

MODULES = sorted(
    f"{package.__name__}.{info.name}"
    for package in (engine, nn)
    for info in pkgutil.iter_modules(package.__path__)
)


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed"


def test_the_examples_are_found():
    # the count guards against a finder that silently finds nothing
    finder = doctest.DocTestFinder()
    examples = sum(len(test.examples) for name in MODULES
                   for test in finder.find(importlib.import_module(name), name))
    assert examples >= 5
