"""``python -m bench.instructions``: valgrind's count grows with the work the engine does."""

from __future__ import annotations

import shutil

import pytest

from bench.ab import REPO_ROOT
from bench.instructions import count

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None,
                                reason="valgrind is not installed (it counts the instructions)")


def test_twice_the_ops_cost_more_instructions_than_once_and_less_than_four_times():
    once, twice = count(REPO_ROOT, "W2", 300), count(REPO_ROOT, "W2", 600)
    per_op = (twice - once) / 300  # start-up and imports cancel out
    assert 2_000 < per_op < 200_000, per_op  # an op node costs thousands, not millions
