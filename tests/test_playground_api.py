"""The playground's routes added for the page that draws from the weights, called through
``api.handle`` as every back end calls them: live settings, editing a weight, a page's
own points, the model file, and a reloaded page getting its session back."""

import json

import pytest

from nn import MLP
from playground import api
from playground.sessions import SessionStore


@pytest.fixture
def page():
    sessions = SessionStore()
    status, answer = api.handle(sessions, "POST", "/api/session",
                                {"settings": {"dataset": "xor", "hidden": "3"}})
    assert status == 200 and answer["resumed"] is False
    return sessions, answer["session"]


def call(sessions, method, path, fields):
    status, answer = api.handle(sessions, method, path, fields)
    json.dumps(answer, allow_nan=False)
    return status, answer


def test_live_settings_keep_the_model_and_anything_else_starts_over(page):
    sessions, key = page
    call(sessions, "POST", "/api/train", {"session": key, "epochs": 3})
    model = sessions.get(key).model
    status, answer = call(sessions, "POST", "/api/configure", {
        "session": key, "live": True,
        "settings": {"dataset": "xor", "hidden": "3", "lr": "0.1", "optimizer": "sgd",
                     "regularization": "l2", "regularization_rate": "0.01"}})
    assert status == 200 and answer["reset"] is False and answer["state"]["epoch"] == 3
    session = sessions.get(key)
    assert session.model is model and session.optimizer.lr == 0.1 and session.settings.l2 == 0.01
    status, answer = call(sessions, "POST", "/api/configure", {
        "session": key, "live": True, "settings": {"dataset": "xor", "hidden": "4"}})
    assert answer["reset"] is True and answer["state"]["epoch"] == 0
    assert sessions.get(key).model is not model


def test_a_learning_rate_change_keeps_adams_moments(page):
    sessions, key = page
    call(sessions, "POST", "/api/train", {"session": key, "epochs": 2})
    optimizer = sessions.get(key).optimizer
    moments = list(optimizer.state["exp_avg"])
    call(sessions, "POST", "/api/configure", {
        "session": key, "live": True, "settings": {"dataset": "xor", "hidden": "3", "lr": 0.01}})
    assert sessions.get(key).optimizer is optimizer and optimizer.lr == 0.01
    assert optimizer.state["exp_avg"] == moments and optimizer.step_count > 0


def test_a_weight_or_a_bias_is_set_and_training_goes_on_from_it(page):
    sessions, key = page
    status, answer = call(sessions, "POST", "/api/parameter",
                          {"session": key, "layer": 1, "neuron": 0, "input": 2, "value": "1.5"})
    assert status == 200 and answer["state"]["network"]["weights"][1][0][2] == 1.5
    call(sessions, "POST", "/api/parameter", {"session": key, "layer": 0, "neuron": 1,
                                              "value": -0.25})
    model = sessions.get(key).model
    assert model.layers[2].weight[0][2].data == 1.5 and model.layers[0].bias[1].data == -0.25
    for fields, name in (({"layer": 2, "neuron": 0, "value": 1}, "layer"),
                         ({"layer": 1, "neuron": 0, "input": 3, "value": 1}, "input"),
                         ({"layer": 1, "neuron": 0, "value": "nan"}, "value"),
                         ({"layer": 1, "neuron": 0, "value": 1e9}, "value")):
        status, answer = call(sessions, "POST", "/api/parameter", {"session": key, **fields})
        assert status == 400 and answer["parameter"] == name


def test_the_model_file_is_what_mlp_load_reads(page, tmp_path):
    sessions, key = page
    call(sessions, "POST", "/api/train", {"session": key, "epochs": 2})
    status, document = call(sessions, "GET", "/api/model", {"session": key})
    assert status == 200 and document["format"] == "chainrule.model"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    assert MLP.load(path).state_dict() == sessions.get(key).model.state_dict()


def test_a_pages_own_points_train_and_bad_ones_are_refused_by_name(page):
    sessions, key = page
    square = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0.5, 0.5, 2]]
    status, answer = call(sessions, "POST", "/api/points",
                          {"session": key, "points": square, "task": "classification"})
    assert status == 200 and answer["state"]["classes"] == 3
    assert answer["state"]["settings"]["dataset"] == "custom"
    shown = answer["state"]["points"]["train"] + answer["state"]["points"]["test"]
    assert sorted(map(tuple, shown)) == sorted(map(tuple, square))  # on the plane, as given
    status, answer = call(sessions, "POST", "/api/configure",
                          {"session": key, "settings": {"dataset": "custom", "hidden": "5"}})
    assert status == 200 and answer["state"]["network"]["widths"] == [2, 5, 3]
    status, trained = call(sessions, "POST", "/api/train", {"session": key, "epochs": 2})
    assert status == 200 and trained["state"]["epoch"] == 2
    for points, task, name in (([[0, 0, 3]] * 5, "classification", "points[0]"),
                               ([[0, 0, 0]] * 5, "classification", "points"),
                               ([[0, "x", 0]] * 5, "regression", "points[0]"),
                               ([[0, 0]] * 5, "regression", "points[0]"),
                               ([[0, 0, 0]] * 501, "regression", "points"),
                               ([[0, 0, 0]] * 3, "regression", "points"),
                               (square, "ranking", "task")):
        status, answer = call(sessions, "POST", "/api/points",
                              {"session": key, "points": points, "task": task})
        assert status == 400 and answer["parameter"] == name, (points[:1], answer)


def test_without_points_of_its_own_a_page_cannot_choose_them():
    sessions = SessionStore()
    _, answer = call(sessions, "POST", "/api/session", {})
    status, answer = call(sessions, "POST", "/api/configure",
                          {"session": answer["session"], "settings": {"dataset": "custom"}})
    assert status == 400 and answer["parameter"] == "dataset"


def test_a_reloaded_page_gets_its_session_back_with_its_model(page):
    sessions, key = page
    call(sessions, "POST", "/api/train", {"session": key, "epochs": 2})
    status, answer = call(sessions, "POST", "/api/session",
                          {"session": key, "settings": {"dataset": "xor", "hidden": "3"}})
    assert status == 200 and answer["session"] == key and answer["resumed"] is True
    assert answer["state"]["epoch"] == 2
    status, answer = call(sessions, "POST", "/api/session",
                          {"session": "A" * 22, "settings": {}})
    assert status == 200 and answer["session"] != key and answer["resumed"] is False


def test_the_chain_rule_without_a_point_explains_the_point_of_largest_loss(page):
    sessions, key = page
    status, answer = call(sessions, "POST", "/api/chain-rule",
                          {"session": key, "layer": 0, "neuron": 1})
    session = sessions.get(key)
    worst = answer["point"]
    with_point = call(sessions, "POST", "/api/chain-rule",
                      {"session": key, "layer": 0, "neuron": 1, "point": 0})[1]
    assert status == 200 and answer["loss"] >= with_point["loss"]
    from playground.chain_rule import largest_loss_point
    assert worst == largest_loss_point(session)
