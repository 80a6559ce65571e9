"""The playground, from its settings to its HTTP API: a server on port 0, real requests.

The first tests use the pieces directly (settings, a session, the chain-rule view) and
compare them with what nn and the engine compute on their own; the rest talk HTTP to a
running server: every endpoint, every error, and a catalogue of hostile requests after
which another page's training still converges.
"""

import http.client
import json
import math
import socket
import threading
import time

import pytest
from served_playground import call, running

from nn import MLP, training
from playground import chain_rule, views
from playground.server import MAX_BODY, Playground
from playground.session import Session
from playground.sessions import SessionStore, TooManySessions, UnknownSession
from playground.settings import (
    ACTIVATIONS,
    DATASETS,
    MAX_LAYERS,
    MAX_WIDTH,
    BadParameter,
    Settings,
    parse_settings,
)

# ---- settings ------------------------------------------------------------------------------


def test_settings_read_the_strings_of_an_address_and_json_numbers_alike():
    from_url = parse_settings({"dataset": "spiral", "hidden": "16, 4", "lr": "0.1",
                               "points": "300", "activation": "relu"})
    from_json = parse_settings({"dataset": "spiral", "hidden": [16, 4], "lr": 0.1,
                                "points": 300, "activation": "relu"})
    assert from_url == from_json
    assert from_url.hidden == (16, 4) and from_url.noise == DATASETS["spiral"].noise
    assert parse_settings({"hidden": ""}).hidden == ()  # no hidden layer: a linear model
    assert parse_settings({}) == Settings()


@pytest.mark.parametrize("given, name", [
    ({"dataset": "mnist"}, "dataset"),
    ({"dataset": 3}, "dataset"),
    ({"noise": "-0.1"}, "noise"),
    ({"noise": float("nan")}, "noise"),
    ({"points": 10**9}, "points"),
    ({"points": "12.5"}, "points"),
    ({"points": True}, "points"),
    ({"train_fraction": 1.0}, "train_fraction"),
    ({"hidden": ",".join(["4"] * (MAX_LAYERS + 1))}, "hidden"),
    ({"hidden": f"4,{MAX_WIDTH + 1}"}, "hidden[1]"),
    ({"hidden": "4,x"}, "hidden[1]"),
    ({"hidden": "0"}, "hidden[0]"),
    ({"activation": "__import__('os')"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"lr": 0}, "lr"),
    ({"lr": "inf"}, "lr"),
    ({"lr": "1e999"}, "lr"),
    ({"lr": [0.1]}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"regularization_rate": 2}, "regularization_rate"),
    ({"regularization": "l3"}, "regularization"),
    ({"features": ""}, "features"),
    ({"features": "x1,x3"}, "features[1]"),
    ({"features": "x1,x1"}, "features"),
    ({"seed": -1}, "seed"),
    ({"seed": "9" * 70}, "seed"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_setting_is_refused_by_name(given, name):
    with pytest.raises(BadParameter) as caught:
        parse_settings(given)
    assert caught.value.name == name


def test_settings_must_be_an_object():
    with pytest.raises(BadParameter, match="settings"):
        parse_settings(["moons"])


# ---- a session trains through nn.training --------------------------------------------------


def test_a_new_models_step_is_built_after_the_answer_not_before_it(monkeypatch):
    from nn import compiled
    built = []
    build = compiled._build

    def slow_build(*args):
        time.sleep(0.5)
        built.append(args[-1])
        return build(*args)

    monkeypatch.setattr(compiled, "_build", slow_build)
    store = SessionStore()
    started = time.monotonic()
    _, session = store.create(Settings(hidden=(7, 3), seed=5))  # a shape no test trains
    session.state()
    assert time.monotonic() - started < 0.4 and built == []  # the answer waits for nothing
    store.build_steps()  # what the server does once the answer is sent
    key = compiled._structure(session.model, session.loss, 0.0, 2, 0.0)
    assert built == [key] and session.unbuilt is None
    monkeypatch.setattr(compiled, "_build", None)  # the first training request builds nothing
    assert session.train(1, 0.01) == 1 and compiled._CACHE[key].checked


def test_the_server_builds_a_new_models_step_once_it_has_answered():
    from nn import compiled
    with running() as server:
        settings = {"hidden": "6,5", "seed": 3}  # a shape no other test trains
        status, answer, _ = call(server, "POST", "/api/session", {"settings": settings})
        assert status == 200
        session = server.sessions.get(answer["session"])
        key = compiled._structure(session.model, session.loss, 0.0, 2, 0.0)
        deadline = time.monotonic() + 20
        while key not in compiled._CACHE:
            assert time.monotonic() < deadline, "the step was not built after the answer"
            time.sleep(0.01)


def test_a_session_trains_with_the_shared_loop_and_gives_its_numbers():
    session = Session(Settings())
    reference = Session(Settings())  # the same run, done by hand with nn.training
    assert session.train(epochs=3, seconds=60) == 3
    for epoch in range(1, 4):
        loss = training.train_epoch(reference.model, reference.optimizer, reference.X_train,
                                    reference.y_train, "bce", batch_size=16, seed=epoch)
        assert session.history[epoch - 1][1] == loss
    assert session.model.state_dict() == reference.model.state_dict()
    assert session.epoch == 3 and len(session.X_train) == 140 and len(session.X_test) == 60


@pytest.mark.parametrize("dataset, regularization", [("spiral", "l1"), ("moons", "l2"),
                                                     ("sine", "none")])
def test_a_session_trains_compiled_and_quietly_with_eager_trainings_numbers(
        dataset, regularization):
    """Every loss the playground uses compiles (cross-entropy for the 3-class spiral, bce,
    mse), penalties included: no CompileFallback warning reaches the page, and the
    weights, training losses and each epoch's test loss are eager training's to the bit."""
    import warnings

    settings = Settings(dataset=dataset, regularization=regularization,
                        regularization_rate=0.003 if regularization != "none" else 0.0,
                        optimizer="sgd", batch_size=10)
    session, reference = Session(settings), Session(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert session.train(epochs=4, seconds=60) == 4
    s = reference.settings
    for epoch in range(1, 5):
        loss = training.train_epoch(reference.model, reference.optimizer, reference.X_train,
                                    reference.y_train, reference.loss, batch_size=10,
                                    seed=s.seed + epoch, l2=s.l2, l1=s.l1)
        test = training.evaluate(reference.model, reference.X_test, reference.y_test,
                                 reference.loss)["loss"]
        assert session.history[epoch - 1][1:] == (loss, test)
    assert session.model.state_dict() == reference.model.state_dict()
    assert session.test_scores == training.evaluate(reference.model, reference.X_test,
                                                    reference.y_test, reference.loss,
                                                    with_predictions=True)


def test_a_time_budget_still_trains_one_epoch():
    session = Session(Settings())
    assert session.train(epochs=50, seconds=0.0) == 1


def test_the_state_holds_every_view_with_finite_or_null_numbers():
    session = Session(Settings(dataset="spiral", hidden=(4,)))
    session.train(2, 60)
    state = session.state()
    assert state["epoch"] == 2 and state["classes"] == 3
    network = state["network"]
    assert network["widths"] == [2, 4, 3] and network["activations"] == ["tanh", None]
    assert network["output"] == "softmax" and network["features"] == ["x1", "x2"]
    assert sum(map(sum, state["metrics"]["confusion_matrix"])) == len(session.X_test)
    assert state["history"]["epoch"] == [1, 2]
    json.dumps(state, allow_nan=False)  # valid JSON: no nan, no inf


def test_the_weights_are_sent_to_the_last_bit_and_are_the_models_own():
    session = Session(Settings())
    session.train(2, 60)
    network = session.state()["network"]
    linears = [m for m in session.model.layers if hasattr(m, "weight")]
    assert network["weights"] == [[[w.data for w in row] for row in m.weight] for m in linears]
    assert network["biases"] == [[b.data for b in m.bias] for m in linears]
    assert len(json.dumps(network)) < 8000  # a few KB, whatever the grid the page draws


def test_the_outputs_on_the_plane_are_the_models_own():
    session = Session(Settings(features=("x1", "x2", "x1*x2", "sin(x2)")))
    session.train(2, 60)
    cells = [[-1.5, 0.25], [0.0, 0.0], [2.0, -1.0]]
    last = session.outputs_at(cells)[-1]
    inputs = [[a, b, a * b, math.sin(b)] for a, b in cells]
    assert [row[0] for row in last] == training.scores(session.model, inputs)


def test_a_diverging_model_still_gives_valid_json():
    session = Session(Settings(lr=10.0, optimizer="sgd", hidden=(16, 16, 16)))
    session.train(20, 60)
    json.dumps(session.state(), allow_nan=False)


def test_regression_sets_fit_a_curve():
    session = Session(Settings(dataset="sine", hidden=(8, 8)))
    session.train(100, 60)
    state = session.state()
    assert state["task"] == "regression" and state["classes"] == 0
    assert state["inputs"] == 1 and state["network"]["output"] == "identity"
    assert state["metrics"]["r2"] > 0.8


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_every_data_set_trains_and_draws(dataset):
    session = Session(Settings(dataset=dataset, points=60, hidden=()))  # no hidden layer
    session.train(1, 60)
    state = session.state()
    assert state["network"]["widths"][-1] == (3 if dataset in ("blobs", "spiral") else 1)
    assert state["task"] == DATASETS[dataset].task
    json.dumps(state, allow_nan=False)
    answer = chain_rule.explain(session, 0, 0, 0)  # the output neuron itself
    assert answer["nodes"] and answer["dloss_da"] == answer["nodes"][-1]["grad"]


def test_views_round_and_drop_non_finite_numbers():
    assert views.clean({"a": [1.234567, math.nan], "b": (math.inf, 2)}) == {
        "a": [1.235, None], "b": [None, 2]}


# ---- the chain-rule view -------------------------------------------------------------------


def full_network_gradients(session, point):
    """d loss / d w of one training point, by backward through a copy of the whole model."""
    copy = MLP(2, [*session.settings.hidden, 1], activation=session.settings.activation, seed=0)
    copy.load_state_dict(session.model.state_dict())
    loss = training.batch_loss(session.loss, [copy(session.X_train[point])],
                               [session.y_train[point]])
    loss.backward()
    return copy, loss


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer, neuron", [(0, 3), (1, 5), (2, 0)])
def test_the_rebuilt_neuron_has_the_gradients_of_the_whole_network(layer, neuron, activation):
    session = Session(Settings(activation=activation))
    session.train(3, 60)
    before = session.model.state_dict()
    grads_before = [p.grad for p in session.model.parameters()]
    compared = 0
    for point in range(0, len(session.X_train), 7):
        a, loss, params = chain_rule.build(session, layer, neuron, point)
        copy, expected_loss = full_network_gradients(session, point)
        linear = [m for m in copy.layers if hasattr(m, "weight")][layer]
        expected = [w.grad for w in linear.weight[neuron]] + [linear.bias[neuron].grad]
        x = session.X_train[point]
        assert a.data == pytest.approx(session.outputs_at([x])[layer][0][neuron])
        assert loss.data == pytest.approx(expected_loss.data, rel=1e-12)
        assert [p.grad for p in params] == pytest.approx(expected, rel=1e-9, abs=1e-15)
        compared += any(g != 0 for g in expected)  # a ReLU that is off passes nothing
    assert compared >= 5
    assert session.model.state_dict() == before  # the trained model is untouched
    assert [p.grad for p in session.model.parameters()] == grads_before


def test_the_explanation_holds_the_picture_and_every_chain_rule_term():
    session = Session(Settings(hidden=(3,)))
    session.train(2, 60)
    answer = chain_rule.explain(session, 0, 1, 4)
    names = {n["name"]: n for n in answer["nodes"]}
    assert {n["label"] for n in answer["nodes"]} >= {"x1", "x2", "w1", "w2", "b", "z", "a"}
    for edge in answer["edges"]:
        assert edge["contribution"] == pytest.approx(edge["upstream"] * edge["local"])
        assert edge["from"] in names and edge["to"] in names
    root = next(n for n in answer["nodes"] if n["label"] == "a")
    assert root["grad"] == answer["dloss_da"]
    if answer["svg"] is not None:  # Graphviz's dot is installed
        assert answer["svg"].startswith("<svg") and "d loss / d node" in answer["svg"]
    json.dumps(views.clean(answer), allow_nan=False)


def test_without_dot_the_explanation_still_has_its_numbers(monkeypatch):
    monkeypatch.setenv("PATH", "")
    session = Session(Settings(hidden=(2,)))
    answer = chain_rule.explain(session, 1, 0, 0)
    assert answer["svg"] is None and len(answer["edges"]) > 0


# ---- many pages at once --------------------------------------------------------------------


def test_sessions_expire_when_idle_and_are_capped():
    store = SessionStore(max_sessions=2, idle_seconds=60)
    first, _ = store.create(Settings(points=20))
    second, busy = store.create(Settings(points=20))
    store.get(first).last_used -= 61  # idle for a minute
    store.create(Settings(points=20))  # takes the expired one's place
    with pytest.raises(UnknownSession):
        store.get(first)
    with busy.lock:  # one answering a request; the other, the newest, is idle: it goes
        third, _ = store.create(Settings(points=20))
        assert len(store) == 2 and store.get(second) is busy
        with store.get(third).lock, pytest.raises(TooManySessions):
            store.create(Settings(points=20))  # every session is busy
    with pytest.raises(BadParameter, match="session"):
        store.get("../../etc/passwd")


def train_and_look(session, epochs):
    for _ in range(epochs):
        session.train(1, 60)
        session.state()  # evaluated under no_grad, while the other page may be training


def test_two_pages_training_at_once_get_the_numbers_each_gets_alone():
    alone = Session(Settings(seed=1))
    train_and_look(alone, 15)
    pages = [Session(Settings(seed=1)), Session(Settings(seed=2, dataset="spiral"))]
    threads = [threading.Thread(target=train_and_look, args=(p, 15)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pages[0].model.state_dict() == alone.model.state_dict()
    assert pages[0].history == alone.history


# ---- HTTP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with running(max_sessions=32) as playground:
        yield playground


def new_page(server, **settings):
    status, answer, _ = call(server, "POST", "/api/session", {"settings": settings})
    assert status == 200, answer
    return answer["session"], answer


def test_the_page_and_its_files_are_served_with_a_strict_policy(server):
    status, page, response = call(server, "GET", "/?dataset=spiral&autoplay=1")
    assert status == 200 and b'id="chain-rule"' in page
    policy = response.getheader("Content-Security-Policy")
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    for name, kind in (("playground.js", "text/javascript"), ("playground.css", "text/css")):
        status, body, response = call(server, "GET", f"/static/{name}")
        assert status == 200 and response.getheader("Content-Type").startswith(kind)
        elsewhere = body.replace(b"http://www.w3.org/2000/svg", b"")  # a name, not fetched
        assert b"http://" not in elsewhere and b"https://" not in elsewhere
    status, body, response = call(server, "HEAD", "/")
    assert status == 200 and body == b"" and int(response.getheader("Content-Length")) > 0


def test_the_page_has_the_stable_element_ids(server):
    _, page, _ = call(server, "GET", "/")
    for name in ("dataset", "noise", "train-fraction", "new-data", "hidden", "activation", "lr",
                 "optimizer", "batch-size", "regularization", "regularization-rate", "features",
                 "show-test", "discretize", "paint", "upload", "download-data",
                 "download-model", "play", "step", "reset", "epoch", "boundary", "network",
                 "train-loss", "test-loss", "test-accuracy", "test-r2", "chain-rule", "error",
                 "note"):
        assert f'id="{name}"'.encode() in page, name


def test_a_page_creates_trains_configures_and_explains(server):
    key, answer = new_page(server, dataset="moons", hidden="4")
    assert answer["state"]["epoch"] == 0
    assert set(answer["choices"]["datasets"]) >= {"moons", "circles", "blobs", "spiral", "xor",
                                                  "sine", "plane", "gaussians"}
    assert {"relu", "tanh", "sigmoid"} <= set(answer["choices"]["activations"])
    status, trained, _ = call(server, "POST", "/api/train",
                              {"session": key, "epochs": 3, "milliseconds": 2000})
    assert status == 200 and trained["trained"] == 3 and trained["state"]["epoch"] == 3
    status, looked, _ = call(server, "GET", f"/api/state?session={key}")
    assert status == 200 and looked["state"]["epoch"] == 3
    status, explained, _ = call(server, "POST", "/api/chain-rule",
                                {"session": key, "layer": 0, "neuron": 2, "point": 5})
    assert status == 200 and explained["epoch"] == 3 and explained["point"] == 5
    status, configured, _ = call(server, "POST", "/api/configure",
                                 {"session": key, "settings": {"dataset": "spiral"}})
    assert status == 200 and configured["state"]["epoch"] == 0
    assert configured["state"]["classes"] == 3
    assert configured["state"]["settings"]["noise"] == DATASETS["spiral"].noise


def test_two_pages_have_their_own_models(server):
    first, _ = new_page(server)
    second, _ = new_page(server, dataset="xor")
    call(server, "POST", "/api/train", {"session": first, "epochs": 2})
    _, looked, _ = call(server, "GET", f"/api/state?session={second}")
    assert looked["state"]["epoch"] == 0 and looked["state"]["settings"]["dataset"] == "xor"


def raw_request(server, text):
    """Send ``text`` as is on a socket and return the status code of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(text.encode("latin-1"))
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def hostile_requests(server, key):
    """(what, request) pairs: each request a function returning (status, answer)."""
    port = server.port
    host = {"Host": f"127.0.0.1:{port}"}

    def post(path, body, **headers):
        return lambda: call(server, "POST", path, body, headers)[:2]

    def get(path, **headers):
        return lambda: call(server, "GET", path, None, headers)[:2]

    def raw(text):
        return lambda: (raw_request(server, text), None)

    deep = "[" * 5000 + "]" * 5000
    return [
        ("DNS rebinding: Host evil.example", get("/", Host=f"evil.example:{port}")),
        ("Host without the port", get("/", Host="127.0.0.1")),
        ("POST from another origin", post("/api/session", {}, Origin="http://evil.example")),
        ("path traversal ../", get("/../../etc/passwd")),
        ("traversal inside /static/", get("/static/../server.py")),
        ("encoded traversal", get("/static/%2e%2e/%2e%2e/setup.cfg")),
        ("a package file that is not static", get("/static/../settings.py")),
        ("absolute path", get("//etc/passwd")),
        ("body of 20 KB", lambda: call(server, "POST", "/api/session", None, None,
                                       raw="x" * (MAX_BODY + 4000))[:2]),
        ("Content-Length of 1 GB, no body", raw(
            f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")),
        ("no Content-Length", raw(f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                  f"Content-Type: application/json\r\n\r\n")),
        ("negative Content-Length", raw(
            f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n")),
        ("chunked body", raw(f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                             f"Content-Type: application/json\r\nTransfer-Encoding: chunked"
                             f"\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n")),
        ("form post (text/plain)", post("/api/session", {}, **{"Content-Type": "text/plain"})),
        ("a pickle", lambda: call(server, "POST", "/api/session", None,
                                  {"Content-Type": "application/python-pickle"},
                                  raw=b"\x80\x04\x95")[:2]),
        ("not JSON", lambda: call(server, "POST", "/api/session", None, None,
                                  raw="{'settings': 1}")[:2]),
        ("JSON nested 5000 deep", lambda: call(server, "POST", "/api/session", None, None,
                                               raw=deep)[:2]),
        ("an integer of 5000 digits", lambda: call(server, "POST", "/api/session", None, None,
                                                   raw='{"settings": {"points": ' + "9" * 5000
                                                   + "}}")[:2]),
        ("a list for a body", post("/api/session", ["settings"])),
        ("7 hidden layers", post("/api/session", {"settings": {"hidden": "4,4,4,4,4,4,4"}})),
        ("a layer of 10000", post("/api/session", {"settings": {"hidden": "10000"}})),
        ("a billion points", post("/api/session", {"settings": {"points": 10**9}})),
        ("lr nan", post("/api/session", {"settings": {"lr": "nan"}})),
        ("lr 1e309 (inf)", lambda: call(server, "POST", "/api/session", None, None,
                                        raw='{"settings": {"lr": 1e309}}')[:2]),
        ("code as an activation", post("/api/session",
                                       {"settings": {"activation": "__import__('os')"}})),
        ("a path as a data set", post("/api/session", {"settings": {"dataset": "../../x"}})),
        ("unknown setting __class__", post("/api/session", {"settings": {"__class__": 1}})),
        ("unknown field", post("/api/session", {"settings": {}, "eval": "1+1"})),
        ("a million epochs", post("/api/train", {"session": key, "epochs": 10**6})),
        ("ten thousand seconds", post("/api/train", {"session": key, "milliseconds": 10**7})),
        ("epochs as true", post("/api/train", {"session": key, "epochs": True})),
        ("a session id of 10000 characters", post("/api/train", {"session": "a" * 10000})),
        ("a session id of another shape", post("/api/train", {"session": "../../etc"})),
        ("a session that does not exist", post("/api/train", {"session": "A" * 22})),
        ("a layer that does not exist", post("/api/chain-rule",
                                             {"session": key, "layer": 99, "neuron": 0})),
        ("a neuron that does not exist", post("/api/chain-rule",
                                              {"session": key, "layer": 0, "neuron": -1})),
        ("a point that does not exist", post("/api/chain-rule", {"session": key, "layer": 0,
                                                                 "neuron": 0, "point": 10**9})),
        ("PUT", lambda: call(server, "PUT", "/api/train", {"session": key})[:2]),
        ("DELETE", lambda: call(server, "DELETE", "/api/session")[:2]),
        ("a query with 50 fields", get("/api/state?" + "&".join(f"k{i}=1" for i in range(50)))),
        ("an address of 5000 characters", get("/api/state?session=" + "a" * 5000)),
        ("an unknown address", get("/api/eval")),
        ("state of another shape of id", get("/api/state?session=%00%00")),
        *[(f"session {i + 1} of many", post("/api/session", {"settings": {"points": 20}}))
          for i in range(server.sessions.max_sessions - 2)],
    ], host


EXPECTED = {
    "DNS rebinding: Host evil.example": (403, "Host"),
    "Host without the port": (403, "Host"),
    "POST from another origin": (403, "Origin"),
    "path traversal ../": (404, None),
    "traversal inside /static/": (404, None),
    "encoded traversal": (404, None),
    "a package file that is not static": (404, None),
    "absolute path": (404, None),
    "body of 20 KB": (413, "body"),
    "Content-Length of 1 GB, no body": (413, None),
    "no Content-Length": (411, None),
    "negative Content-Length": (400, None),
    "chunked body": (411, None),
    "form post (text/plain)": (415, "Content-Type"),
    "a pickle": (415, "Content-Type"),
    "not JSON": (400, "body"),
    "JSON nested 5000 deep": (400, "body"),
    "an integer of 5000 digits": (400, "body"),
    "a list for a body": (400, "body"),
    "7 hidden layers": (400, "hidden"),
    "a layer of 10000": (400, "hidden[0]"),
    "a billion points": (400, "points"),
    "lr nan": (400, "lr"),
    "lr 1e309 (inf)": (400, "lr"),
    "code as an activation": (400, "activation"),
    "a path as a data set": (400, "dataset"),
    "unknown setting __class__": (400, "__class__"),
    "unknown field": (400, "eval"),
    "a million epochs": (400, "epochs"),
    "ten thousand seconds": (400, "milliseconds"),
    "epochs as true": (400, "epochs"),
    "a session id of 10000 characters": (400, "session"),
    "a session id of another shape": (400, "session"),
    "a session that does not exist": (404, "session"),
    "a layer that does not exist": (400, "layer"),
    "a neuron that does not exist": (400, "neuron"),
    "a point that does not exist": (400, "point"),
    "PUT": (405, None),
    "DELETE": (405, None),
    "a query with 50 fields": (400, "query"),
    "an address of 5000 characters": (414, None),
    "an unknown address": (404, None),
    "state of another shape of id": (400, "session"),
}


def test_hostile_requests_are_refused_and_another_page_still_learns():
    """A page trains two moons while every request of the catalogue is fired at the server
    (in a second thread); each gets its own refusal, and the page's model still converges."""
    with running(max_sessions=6) as server:
        seen, accuracy = fire_the_catalogue(server)
    for what, expected in EXPECTED.items():
        assert seen[what][0] == expected[0], (what, seen[what])
        if expected[1] is not None:
            assert seen[what][1] == expected[1], (what, seen[what])
    many = [seen[w][0] for w in seen if w.startswith("session ") and "of many" in w]
    assert many == [200] * 4  # 2 pages + 4 more fill the 6 slots (eviction: elsewhere)
    assert len(accuracy) == 40 and max(accuracy[-5:]) >= 0.95


def fire_the_catalogue(server):
    """{what: (status, parameter)} for every hostile request, and the accuracy of a page
    that trained meanwhile, epoch by epoch."""
    key, _ = new_page(server)
    victim, _ = new_page(server, seed=3)
    accuracy = []

    def keep_training():
        for _ in range(40):
            status, answer, _ = call(server, "POST", "/api/train",
                                     {"session": victim, "epochs": 1})
            assert status == 200, answer
            accuracy.append(answer["state"]["metrics"]["accuracy"])

    trainer = threading.Thread(target=keep_training)
    trainer.start()
    catalogue, _ = hostile_requests(server, key)
    seen = {}
    for what, request in catalogue:
        status, answer = request()
        seen[what] = (status, answer.get("parameter") if isinstance(answer, dict) else None)
    trainer.join()
    return seen, accuracy


def test_errors_are_json_naming_the_field(server):
    status, answer, response = call(server, "POST", "/api/session",
                                    {"settings": {"lr": "fast"}})
    assert status == 400 and response.getheader("Content-Type") == "application/json"
    assert answer == {"error": "expected a number, got 'fast'", "parameter": "lr"}


def test_a_crash_inside_a_request_is_a_500_and_the_server_goes_on(server, monkeypatch, capsys):
    key, _ = new_page(server, points=20)

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(chain_rule, "explain", broken)
    status, answer, _ = call(server, "POST", "/api/chain-rule",
                             {"session": key, "layer": 0, "neuron": 0})
    assert status == 500 and "a bug" not in answer["error"]
    assert "RuntimeError: a bug" in capsys.readouterr().err
    monkeypatch.undo()
    assert call(server, "GET", f"/api/state?session={key}")[0] == 200


def test_the_host_check_accepts_only_this_servers_names():
    local = Playground("127.0.0.1", 0)
    try:
        port = local.port
        assert local.accepts_host(f"127.0.0.1:{port}") and local.accepts_host(f"localhost:{port}")
        assert not local.accepts_host(f"127.0.0.1:{port + 1}")
        assert not local.accepts_host(f"rebind.example:{port}") and not local.accepts_host("")
    finally:
        local.server_close()
    # Listening on every address (0.0.0.0), any IP address of the machine is fine: an
    # address, unlike a name, cannot be rebound. (Tested without opening such a port.)
    everywhere = Playground("127.0.0.1", 0)
    try:
        everywhere.any_ip = True
        port = everywhere.port
        assert everywhere.accepts_host(f"192.168.1.7:{port}")
        assert everywhere.accepts_host(f"[fe80::1]:{port}")
        assert not everywhere.accepts_host(f"rebind.example:{port}")
        assert not everywhere.accepts_host(f"192.168.1.7:{port + 1}")
    finally:
        everywhere.server_close()


def test_keep_alive_serves_several_requests_on_one_connection(server):
    key, _ = new_page(server, points=20)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for _ in range(3):
        connection.request("GET", f"/api/state?session={key}",
                           headers={"Host": f"127.0.0.1:{server.port}"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["state"]["epoch"] == 0
    connection.close()


def test_a_server_with_every_request_slot_taken_answers_503(server, monkeypatch):
    monkeypatch.setattr(server, "busy", threading.BoundedSemaphore(1))
    server.busy.acquire()  # as if one request were running
    status, answer, _ = call(server, "GET", "/")
    assert status == 503 and "busy" in answer["error"]
    server.busy.release()
    assert call(server, "GET", "/")[0] == 200


def test_a_request_gives_back_the_very_slot_it_took(server, monkeypatch):
    from playground import server as server_module

    taken = server.busy
    swapped = threading.BoundedSemaphore(1)  # full: one release more would be an error
    answered = server_module.Handler._outcome

    def outcome_then_swap(handler, method):
        result = answered(handler, method)
        monkeypatch.setattr(server, "busy", swapped)  # as a test does once it has its answer
        return result

    monkeypatch.setattr(server_module.Handler, "_outcome", outcome_then_swap)
    assert call(server, "GET", "/")[0] == 200

    def all_free() -> bool:  # every slot of ``taken`` can be had (and is given back)
        got = 0
        while got < server_module.MAX_BUSY and taken.acquire(blocking=False):
            got += 1
        for _ in range(got):
            taken.release()
        return got == server_module.MAX_BUSY

    # The slot goes back to the semaphore it came from (the file was sent before the
    # release, so the handler may still be finishing): all of it is free again...
    deadline = time.monotonic() + 10
    while not all_free() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all_free()
    # ...and the new one was not released into.
    assert swapped.acquire(blocking=False) and not swapped.acquire(blocking=False)
    swapped.release()


def test_an_idle_session_expires_over_http(server):
    key, _ = new_page(server, points=20)
    server.sessions.get(key).last_used -= server.sessions.idle_seconds + 1
    status, answer, _ = call(server, "GET", f"/api/state?session={key}")
    assert status == 404 and answer["parameter"] == "session"


def test_training_has_a_time_budget(server):
    key, _ = new_page(server)
    started = time.perf_counter()
    status, answer, _ = call(server, "POST", "/api/train",
                             {"session": key, "epochs": 100, "milliseconds": 50})
    assert status == 200 and 1 <= answer["trained"] < 100
    assert time.perf_counter() - started < 5

