"""The mutation check's list stays honest: every mutant still applies to the code.

Running the mutants takes minutes (``python -m tests.mutants``), so the suite only checks
that each one still names text found exactly once in its file and test files that exist.
When a refactor changes a line a mutant rewrites, this fails until the mutant is updated,
so the check never silently stops mutating anything.
"""

import pytest

from tests.mutants import MUTANTS, Mutant, run_mutant, stale_reason


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_mutant_still_applies(mutant):
    assert stale_reason(mutant) is None, stale_reason(mutant)


def test_mutant_names_are_unique():
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))


def test_a_mutant_whose_text_is_gone_is_stale_and_the_file_is_left_alone(tmp_path):
    (tmp_path / "engine").mkdir()
    source = tmp_path / "engine" / "value.py"
    source.write_text("x = 1\n")
    gone = Mutant("gone", "engine/value.py", "y = 2", "y = 3", ())
    why = "the old text occurs 0 times in engine/value.py, not once"
    assert run_mutant(gone, tmp_path) == ("STALE", why)
    assert source.read_text() == "x = 1\n"


def test_a_mutant_is_run_on_the_copy_and_undone(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "module.py").write_text("ANSWER = 42\n")
    (tmp_path / "tests" / "test_answer.py").write_text(
        "from module import ANSWER\n\n\ndef test_answer():\n    assert ANSWER == 42\n")
    wrong = Mutant("wrong answer", "module.py", "42", "43", ("tests/test_answer.py",))
    verdict, _ = run_mutant(wrong, tmp_path)
    assert verdict == "killed"
    assert (tmp_path / "module.py").read_text() == "ANSWER = 42\n"
    harmless = Mutant("same answer", "module.py", "ANSWER = 42", "ANSWER = 6 * 7",
                      ("tests/test_answer.py",))
    assert run_mutant(harmless, tmp_path)[0] == "survived"
