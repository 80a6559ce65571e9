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


def test_the_by_hand_floor_runs_fewer_instructions_per_step_than_the_engine():
    def per_step(workload: str) -> int:
        return count(REPO_ROOT, workload, 2) - count(REPO_ROOT, workload, 1)

    by_hand, engine = per_step("W1h"), per_step("W1")
    assert 5_000_000 < by_hand < engine, (by_hand, engine)  # a step's dot products alone are millions
