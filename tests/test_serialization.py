"""Saving and loading models: JSON files, atomic writes, and loads that check everything.

A save that fails half-way must leave the old file byte for byte and no temporary file; a
load of a damaged file must be a ValueError that says what is wrong and where.
"""

import json
import math
import os
import re
import stat

import pytest

from nn import (
    MLP,
    Linear,
    LogisticRegression,
    Module,
    ReLU,
    Sequential,
    Tanh,
    serialization,
)


def files_in(folder):
    return sorted(os.listdir(folder))


# ---- round trips ---------------------------------------------------------------------------


def test_mlp_round_trip_keeps_every_number_to_the_last_bit(tmp_path):
    model = MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=3)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = MLP.load(path)
    assert repr(loaded) == repr(model) == "MLP(2 -> 16 -> 16 -> 1, tanh, output=sigmoid)"
    assert loaded.state_dict() == model.state_dict()
    x = [0.25, -1.75]
    assert loaded(x).data == model(x).data
    assert files_in(tmp_path) == ["model.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(3, seed=0),
        Linear(3, 2, bias=False, seed=0),
        Sequential(Linear(2, 3, seed=0), Tanh(), Linear(3, 1, seed=1), ReLU()),
    ],
    ids=repr,
)
def test_module_load_rebuilds_whatever_class_the_file_names(tmp_path, model):
    path = str(tmp_path / "m.json")  # str paths work as well as pathlib paths
    model.save(path)
    loaded = Module.load(path)
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()


def test_the_file_is_readable_json_with_format_version_class_config_and_state(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {
        "format": "chainrule.model",
        "version": 1,
        "class": "MLP",
        "config": {"nin": 2, "nouts": [3, 1], "activation": "relu", "output_activation": None},
        "state": model.state_dict(),
    }


def test_saving_again_replaces_the_file(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    newer = MLP(2, [4, 1], seed=1)
    newer.save(path)
    assert MLP.load(path).state_dict() == newer.state_dict()
    assert files_in(tmp_path) == ["model.json"]


def test_a_new_file_gets_the_usual_permissions_and_an_old_file_keeps_its_own(tmp_path):
    path = tmp_path / "model.json"
    umask = os.umask(0o022)
    try:
        MLP(2, [1], seed=0).save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # not mkstemp's 0o600
        os.chmod(path, 0o600)
        MLP(2, [1], seed=1).save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        os.umask(umask)


# ---- failed saves ------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A folder holding model.json from an earlier, successful save, and its bytes."""
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    return path, path.read_bytes()


def test_a_crash_half_way_through_writing_leaves_the_old_file_and_no_temporary(saved,
                                                                                 monkeypatch):
    path, old_bytes = saved
    written = []

    def dump_half_then_fail(obj, file, **kwargs):
        text = json.dumps(obj, **kwargs)
        file.write(text[: len(text) // 2])
        file.flush()
        written.append(os.path.getsize(file.name))  # the half really reached the temp file
        raise OSError("No space left on device")

    monkeypatch.setattr(serialization.json, "dump", dump_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        MLP(2, [3, 1], seed=9).save(path)
    assert written and written[0] > 0
    assert path.read_bytes() == old_bytes
    assert files_in(path.parent) == ["model.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_at_fsync_or_rename_also_leaves_the_old_file(saved, monkeypatch, failing):
    path, old_bytes = saved

    def fail(*args):
        raise OSError(f"{failing} failed")

    monkeypatch.setattr(serialization.os, failing, fail)
    with pytest.raises(OSError, match=f"{failing} failed"):
        MLP(2, [3, 1], seed=9).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert files_in(path.parent) == ["model.json"]


def test_a_model_holding_nan_is_refused_before_anything_is_written(saved):
    path, old_bytes = saved
    model = MLP(2, [3, 1], seed=0)
    model.layers[2].weight[0][1].data = math.nan
    with pytest.raises(ValueError, match="cannot save MLP: layers.2.weight\\[0\\]\\[1\\]: "
                                         "expected a finite number, found nan"):
        model.save(path)
    assert path.read_bytes() == old_bytes
    assert files_in(path.parent) == ["model.json"]


def test_saving_into_a_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP(2, [1], seed=0).save(tmp_path / "missing" / "model.json")
    assert files_in(tmp_path) == []


def test_a_module_without_config_cannot_be_saved(tmp_path):
    class Custom(Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="Custom does not define config"):
        Custom().save(tmp_path / "custom.json")
    assert files_in(tmp_path) == []


# ---- damaged files -----------------------------------------------------------------------------


def edit_document(change):
    """A damage function: load the saved JSON, change it, write it back."""
    def damage(path):
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")
    return damage


def first_number_of(name, token):
    """A damage function: write ``token`` in place of the first number of tensor ``name``."""
    def damage(path):
        text = path.read_text(encoding="utf-8")
        pattern = rf'("{re.escape(name)}": \[\s*(?:\[\s*)?)-?[0-9][-0-9.e+]*'
        changed, count = re.subn(pattern, lambda m: m.group(1) + token, text, count=1)
        assert count == 1
        path.write_text(changed, encoding="utf-8")
    return damage


def set_in(*keys_and_value):
    *keys, value = keys_and_value

    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text(p.read_text()[:200]), "not a valid JSON file"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), "not a valid JSON file"),
        (lambda p: p.write_text(""), "not a valid JSON file"),
        (lambda p: p.write_text("[1, 2]"), "expected a JSON object, found list"),
        (edit_document(set_in("format", "pickle")), "not a chainrule model file"),
        (edit_document(set_in("version", 2)), "unsupported format version 2"),
        (edit_document(lambda d: d.pop("config")), "fields missing \\['config'\\]"),
        (edit_document(set_in("comment", "hi")), "unexpected \\['comment'\\]"),
        (edit_document(set_in("class", "LogisticRegression")),
         "holds a model of class LogisticRegression, not MLP"),
        (edit_document(set_in("state", [1, 2])), "state must be a JSON object, found list"),
        (edit_document(set_in("config", "nouts", "abc")), "does not build MLP"),
        (edit_document(set_in("config", "activation", "swish")), "activation must be one of"),
        (edit_document(set_in("config", "colour", "red")), "does not build MLP"),
        (edit_document(lambda d: d["state"].pop("layers.2.bias")), "missing layers.2.bias"),
        (edit_document(set_in("state", "layers.3.bias", [0.0])), "unexpected layers.3.bias"),
        (edit_document(set_in("config", "nouts", [16, 15, 1])),
         "layers.2.weight: expected 15x16, found 16x16"),
        (edit_document(lambda d: [row.pop() for row in d["state"]["layers.2.weight"]]),
         "layers.2.weight: expected 16x16, found 16x15"),
        (first_number_of("layers.0.weight", "NaN"),
         "layers.0.weight\\[0\\]\\[0\\]: expected a finite number, found nan"),
        (first_number_of("layers.2.weight", "-Infinity"),
         "layers.2.weight\\[0\\]\\[0\\]: expected a finite number, found -inf"),
        (first_number_of("layers.4.bias", "1e999"),
         "layers.4.bias\\[0\\]: expected a finite number, found inf"),
        (first_number_of("layers.4.bias", "true"),
         "layers.4.bias\\[0\\]: expected a finite number, found True"),
        (edit_document(set_in("state", "layers.0.bias", [math.nan] * 16)),
         "layers.0.bias\\[0\\]: expected a finite number, found nan"),
        (edit_document(lambda d: d["state"]["layers.4.bias"].append(0.0)),
         "layers.4.bias: expected a list of 1, found a list of 2"),
        (edit_document(set_in("state", "layers.4.bias", ["0.5"])),
         "layers.4.bias\\[0\\]: expected a finite number, found '0.5'"),
        (edit_document(set_in("state", "layers.4.bias", [None])),
         "layers.4.bias\\[0\\]: expected a finite number, found None"),
    ],
)
def test_every_damaged_file_is_a_value_error_naming_the_file_and_the_problem(tmp_path, damage,
                                                                            message):
    path = tmp_path / "model.json"
    MLP(2, [16, 16, 1], seed=0).save(path)
    damage(path)
    with pytest.raises(ValueError, match=message) as raised:
        MLP.load(path)
    assert str(path) in str(raised.value)


def test_module_load_of_an_unknown_class_is_a_value_error(tmp_path):
    path = tmp_path / "m.json"
    Linear(1, 1, seed=0).save(path)
    edit_document(set_in("class", "Transformer"))(path)
    with pytest.raises(ValueError, match="unknown model class 'Transformer'"):
        Module.load(path)


def test_load_not_strict_skips_extra_names(tmp_path):
    path = tmp_path / "m.json"
    model = Linear(2, 1, seed=0)
    model.save(path)
    edit_document(set_in("state", "extra", [1.0]))(path)
    with pytest.raises(ValueError, match="unexpected extra"):
        Linear.load(path)
    assert Linear.load(path, strict=False).state_dict() == model.state_dict()


def test_a_missing_file_is_the_usual_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "nothing.json")


def test_a_class_of_ones_own_named_like_nns_never_stands_in_for_it(tmp_path):
    look_alike = type("MLP", (Module,), {  # a user's own class, also called MLP
        "forward": lambda self, x: x,
        "config": lambda self: {},
    })
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    assert type(Module.load(path)) is MLP
    assert type(MLP.load(path)) is MLP
    look_alike().save(tmp_path / "mine.json")
    assert json.loads((tmp_path / "mine.json").read_text())["class"] == (
        f"{__name__}.MLP")
    assert type(Module.load(tmp_path / "mine.json")) is look_alike


def test_a_save_fsyncs_the_file_then_renames_it_then_fsyncs_its_folder(tmp_path, monkeypatch):
    # A rename is durable only once the folder holding it is on disk too (POSIX).
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        info = os.fstat(descriptor)
        events.append(("fsync folder" if stat.S_ISDIR(info.st_mode) else "fsync file",
                       info.st_ino))
        real_fsync(descriptor)

    def replace(source, target):
        events.append(("replace", os.path.basename(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    MLP(2, [3, 1], seed=0).save(tmp_path / "model.json")
    assert [kind for kind, _ in events] == ["fsync file", "replace", "fsync folder"]
    assert events[1][1] == "model.json"
    assert events[0][1] == os.stat(tmp_path / "model.json").st_ino  # the renamed file itself
    assert events[2][1] == os.stat(tmp_path).st_ino  # the folder that holds it
