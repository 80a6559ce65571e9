"""Model files from someone else: every malformed file is a ValueError, found before any large
allocation, and saves neither leave debris behind nor write over a read-only file.

test_serialization.py pins the format and the round trip; this file is the hostile side:
files written by hand to make the loader allocate, recurse, overflow or echo megabytes.
"""

import json
import os
import stat
import subprocess
import sys
import time
import tracemalloc

import pytest

from nn import MLP, Module, serialization


def write(path, class_name="MLP", config=None, state=None):
    document = {"format": "chainrule.model", "version": 1, "class": class_name,
                "config": {"nin": 2, "nouts": [1]} if config is None else config,
                "state": {} if state is None else state}
    path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return path


def test_a_tiny_file_asking_for_a_huge_model_fails_at_once_without_allocating(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text('{"format":"chainrule.model","version":1,"class":"MLP",'
                    '"config":{"nin":100000,"nouts":[100000,1]},"state":{}}')
    assert path.stat().st_size == 108  # 10^10 weights asked for in 108 bytes
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValueError, match="far more parameters than the 0 numbers"):
            Module.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # bytes: nothing of the 10^10 weights was made
    assert time.perf_counter() - started < 5


def test_a_file_holding_fewer_numbers_than_its_config_still_names_the_missing_tensor(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [16, 16, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    del document["state"]["layers.2.weight"]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="missing layers.2.weight"):
        MLP.load(path)


def deep_config(path, depth=5000):
    path.write_text('{"format":"chainrule.model","version":1,"class":"MLP","config":'
                    + "[" * depth + "]" * depth + ',"state":{}}')


def long_integer_in_config(path):
    write(path)
    path.write_text(path.read_text().replace('"nin":2', '"nin":' + "9" * 400))


def long_integer_in_state(path):
    write(path, state={"layers.0.weight": [[1, 1]], "layers.0.bias": [0]})
    path.write_text(path.read_text().replace("[[1,1]]", "[[1," + "9" * 400 + "]]"))


def sequential_of(class_name):
    def damage(path):
        write(path, "Sequential", {"modules": [{"class": class_name, "config": {}}]})
    return damage


@pytest.mark.parametrize(("damage", "message"), [
    (deep_config, "nested too deeply"),
    (long_integer_in_config, "does not build MLP"),
    (long_integer_in_state, r"layers.0.weight\[0\]\[1\]: expected a finite number"),
    (lambda p: write(p, "_WithSettings", {}), "unknown model class '_WithSettings'"),
    (lambda p: write(p, "_Elementwise", {}), "unknown model class '_Elementwise'"),
    (sequential_of("_Elementwise"), "unknown class '_Elementwise'"),
    (lambda p: write(p, "MLP", {"nin": 2, "nouts": [[1]]}), "does not build MLP"),
    (lambda p: write(p, "MLP", {"nin": None, "nouts": [1]}), "does not build MLP"),
    (lambda p: write(p, "Sequential", {"modules": 5}), "does not build Sequential"),
    (lambda p: write(p, "Sequential", {"modules": [{"config": {}}]}), "does not build"),
], ids=["json nested 5000 deep", "400-digit int in config", "400-digit int in state",
        "_WithSettings", "_Elementwise", "_Elementwise inside Sequential", "nouts of lists",
        "nin null", "modules not a list", "module without class"])
def test_every_malformed_file_is_a_value_error(tmp_path, damage, message):
    path = tmp_path / "bad.json"
    damage(path)
    with pytest.raises(ValueError, match=message) as raised:
        Module.load(path)
    assert str(path) in str(raised.value)


def test_an_error_never_echoes_a_name_of_megabytes(tmp_path):
    path = write(tmp_path / "long.json", "A" * 10_000_000)
    with pytest.raises(ValueError, match="unknown model class 'AAA") as raised:
        Module.load(path)
    assert len(str(raised.value)) < 200
    write(path, "MLP", {"nin": 2, "nouts": [1], "x" * 10_000_000: 1})
    with pytest.raises(ValueError, match="does not build MLP") as raised:
        Module.load(path)
    assert len(str(raised.value)) < 500


def test_saving_over_a_read_only_file_is_refused_and_leaves_it(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [1], seed=0).save(path)
    before = path.read_bytes()
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="read-only"):
        MLP(2, [1], seed=1).save(path)  # refused even for the superuser, who could write it
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


KILLED_SAVE = """
import os, sys
from nn import MLP
from nn import serialization

def stop_here(*args):
    os.kill(os.getpid(), 9)  # as if killed with kill -9 half-way through the save

serialization.os.fsync = stop_here
MLP(2, [64, 64, 1], seed=0).save(sys.argv[1])
"""


def test_a_save_removes_the_temporaries_of_earlier_killed_saves(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [1], seed=0).save(path)
    for _ in range(3):  # each killed save first removes the one killed before it
        killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], check=False,
                                cwd=os.path.dirname(os.path.dirname(__file__)),
                                capture_output=True, timeout=120)
        assert killed.returncode == -9, killed.stderr
        left = sorted(os.listdir(tmp_path))
        assert len(left) == 2 and left[0].startswith(".model.json."), left
    other = tmp_path / ".other.json.1.abcdefgh.tmp"  # another file's temporary: not ours
    other.write_text("{}")
    MLP(2, [1], seed=1).save(path)
    assert sorted(os.listdir(tmp_path)) == [other.name, "model.json"]
    assert MLP.load(path).state_dict() == MLP(2, [1], seed=1).state_dict()


def test_a_temporary_of_a_save_still_running_is_left_alone(tmp_path):
    # A process that lives (this one) may be writing it right now.
    mine = tmp_path / f".model.json.{os.getpid()}.abcdefgh.tmp"
    mine.write_text("{")
    MLP(2, [1], seed=0).save(tmp_path / "model.json")
    assert mine.exists()
    serialization.remove_stale_temporaries(str(tmp_path), ".model.json.")
    assert mine.exists()
