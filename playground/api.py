"""The playground's JSON API without HTTP: one function per route, and ``handle`` to call them.

    POST /api/session          {"settings": {...}, "session"?: the id a reloaded page had}
                               -> {"session": id, "resumed": whether that id still lived,
                               "state": {...}}
    POST /api/configure        {"session", "settings", "live"?} -> {"state", "reset"}: start
                               over; with "live": true, changes of LIVE settings alone
                               (lr, optimizer, regularization, batch size) keep the model
    POST /api/train            {"session", "epochs", "milliseconds"} -> {"trained",
                               "milliseconds" (spent training), "state"}: the state
                               without its points (only a new start changes them)
    GET  /api/state?session=id -> {"state"}
    POST /api/chain-rule       {"session", "layer", "neuron", "point"?} -> the neuron's
                               backward graph for that training point (``chain_rule``);
                               without "point", the point of largest loss
    POST /api/parameter        {"session", "layer", "neuron", "input"?, "value"} -> {"state"}:
                               set one weight (of input "input") or the bias
    POST /api/points           {"session", "points": [[x1, x2, label or target], ...], "task",
                               "standardize"?, "settings"?} -> {"state"}: start over on
                               the page's own points (painted, or read from a CSV)
    GET  /api/model?session=id -> the model file ``MLP.save`` writes (``MLP.load`` reads it;
                               its "state" loads into PyTorch)

Every back end of the page calls ``handle``: the stdlib HTTP server (``server.py``) after
its transport checks, and, in the static site, a Web Worker running this very module in
the browser. So sessions, settings and training have one implementation. ``handle`` never
raises for a bad request: it answers a status and a JSON object, ``{"error", "parameter"}``
for anything but 200.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from nn import data, serialization
from nn.module import saved_name
from playground import chain_rule, views
from playground.sessions import (
    SessionStore,
    TooManySessions,
    UnknownSession,
)
from playground.settings import (
    ACTIVATIONS,
    CUSTOM,
    DATASETS,
    FEATURES,
    LIVE,
    MAX_LAYERS,
    MAX_POINTS,
    MAX_WIDTH,
    OPTIMIZERS,
    REGULARIZATIONS,
    BadParameter,
    Settings,
    parse_settings,
    read_float,
    read_int,
)

MAX_EPOCHS_PER_REQUEST = 100
MAX_MILLISECONDS = 2000


class HTTPError(Exception):
    """An answer other than 200: its status, what went wrong and which field, if any."""

    def __init__(self, status: int, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


def _fields(body: Mapping[str, Any], required: tuple[str, ...],
            optional: tuple[str, ...] = ()) -> None:
    for name in body:
        if name not in required + optional:
            shown = name if len(name) <= 64 else name[:64] + "..."
            raise BadParameter(shown, "unknown field; expected " +
                               ", ".join(required + optional))
    for name in required:
        if name not in body:
            raise BadParameter(name, "missing")


# ---- one function per route: (sessions, request fields) -> answer --------------------------


def choices() -> dict:
    """What the page's menus offer, the defaults, and the limits of the settings."""
    return {"datasets": {name: {"task": d.task, "noise": d.noise, "inputs": d.inputs,
                                "summary": d.summary} for name, d in DATASETS.items()},
            "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "regularizations": list(REGULARIZATIONS), "features": list(FEATURES),
            "live": sorted(LIVE), "defaults": Settings().to_json(),
            "limits": {"points": MAX_POINTS, "layers": MAX_LAYERS, "width": MAX_WIDTH}}


def new_session(sessions: SessionStore, body: dict) -> dict:
    """A new session; or, given the id a page had (``"session"``, kept across a reload) of
    a session still alive, that one, its model kept when the settings are the same."""
    _fields(body, (), ("settings", "session"))
    settings = parse_settings(body.get("settings", {}))
    previous = body.get("session")
    if previous is not None:  # an id this server never gives is a 400, as on every route
        key, session, resumed = sessions.resume(previous, settings if "settings" in body
                                                else None)
    else:
        (key, session), resumed = sessions.create(settings), False
    return {"session": key, "choices": choices(), "state": session.state(), "resumed": resumed}


def configure(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "settings"), ("live",))
    settings = parse_settings(body["settings"])
    live = body.get("live", False)
    if not isinstance(live, bool):
        raise BadParameter("live", "expected true or false")
    session = sessions.get(body["session"])
    kept = live and session.adjust(settings)
    if not kept:
        session.configure(settings)
    return {"state": session.state(), "reset": not kept}


def train(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session",), ("epochs", "milliseconds"))
    epochs = read_int("epochs", body.get("epochs", 1), 1, MAX_EPOCHS_PER_REQUEST)
    milliseconds = read_int("milliseconds", body.get("milliseconds", 150), 1, MAX_MILLISECONDS)
    session = sessions.get(body["session"])
    started = time.perf_counter()
    trained = session.train(epochs, milliseconds / 1000)
    spent = round((time.perf_counter() - started) * 1000)
    return {"trained": trained, "milliseconds": spent,
            "state": session.state(with_points=False)}


def state(sessions: SessionStore, query: dict) -> dict:
    _fields(query, ("session",))
    return {"state": sessions.get(query["session"]).state()}


def _neuron_of(session: Any, body: dict) -> tuple[int, int]:
    widths = [linear.nout for linear, _ in session.linear_steps()]
    layer = read_int("layer", body["layer"], 0, len(widths) - 1)
    return layer, read_int("neuron", body["neuron"], 0, widths[layer] - 1)


def explain(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "layer", "neuron"), ("point",))
    session = sessions.get(body["session"])
    with session.lock:
        layer, neuron = _neuron_of(session, body)
        if body.get("point") is None:
            point = chain_rule.largest_loss_point(session)
        else:
            point = read_int("point", body["point"], 0, len(session.X_train) - 1)
        return views.clean(chain_rule.explain(session, layer, neuron, point), rounded=False)


def parameter(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "layer", "neuron", "value"), ("input",))
    session = sessions.get(body["session"])
    value = read_float("value", body["value"], -1e6, 1e6)
    with session.lock:
        layer, neuron = _neuron_of(session, body)
        given = body.get("input")
        nin = session.linear_steps()[layer][0].nin
        index = None if given is None else read_int("input", given, 0, nin - 1)
    session.set_parameter(layer, neuron, index, value)
    return {"state": session.state()}


MAX_CLASSES = 3


def _point(i: int, row: object, task: str) -> tuple[list[float], float | int]:
    if not isinstance(row, list) or len(row) != 3:
        raise BadParameter(f"points[{i}]", "expected [x1, x2, label]")
    x1, x2 = (read_float(f"points[{i}]", v, -1e6, 1e6) for v in row[:2])
    if task == "classification":
        return [x1, x2], read_int(f"points[{i}]", row[2], 0, MAX_CLASSES - 1)
    return [x1, x2], read_float(f"points[{i}]", row[2], -1e6, 1e6)


def points(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "points", "task"), ("standardize", "settings"))
    task = body["task"]
    if task not in ("classification", "regression"):
        raise BadParameter("task", "expected classification or regression")
    given = body["points"]
    if not isinstance(given, list) or len(given) > MAX_POINTS:
        raise BadParameter("points", f"expected a list of at most {MAX_POINTS} points")
    rows, targets = [], []
    for i, row in enumerate(given):
        x, t = _point(i, row, task)
        rows.append(x)
        targets.append(t)
    if body.get("standardize", False) is True and rows:
        rows = data.Standardizer().fit(rows).transform(rows)
    settings = parse_settings({**body.get("settings", {}), "dataset": CUSTOM})
    session = sessions.get(body["session"])
    classes = 1 + max(targets) if task == "classification" and targets else 0
    session.use_points(rows, targets, classes, settings)
    return {"state": session.state()}


def model_file(sessions: SessionStore, query: dict) -> dict:
    _fields(query, ("session",))
    session = sessions.get(query["session"])
    with session.lock:
        model = session.model
        return views.clean(serialization.model_document(
            saved_name(type(model)), model.config(), model.state_dict()), rounded=False)


Route = Callable[[SessionStore, dict], dict]
ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/session"): new_session,
    ("POST", "/api/configure"): configure,
    ("POST", "/api/train"): train,
    ("GET", "/api/state"): state,
    ("POST", "/api/chain-rule"): explain,
    ("POST", "/api/parameter"): parameter,
    ("POST", "/api/points"): points,
    ("GET", "/api/model"): model_file,
}
PATHS = frozenset(path for _, path in ROUTES)


def route_of(method: str, path: str) -> Route:
    """The function answering ``method path``; HTTPError 404 or 405 when there is none."""
    if path not in PATHS:
        raise HTTPError(404, f"no such address: {path[:100]}")
    route = ROUTES.get((method, path))
    if route is None:
        allowed = [m for m, p in ROUTES if p == path]
        raise HTTPError(405, f"{path} takes {', '.join(allowed)}, not {method}")
    return route


def handle(sessions: SessionStore, method: str, path: str, fields: dict) -> tuple[int, dict]:
    """Answer one API request: its status and JSON object. Never raises for a bad request.

    ``fields`` is the parsed JSON body of a POST, or the query of a GET, already checked to
    be a dict by the caller's transport.
    """
    try:
        return 200, route_of(method, path)(sessions, fields)
    except HTTPError as e:
        return e.status, {"error": e.message, "parameter": e.parameter}
    except BadParameter as e:
        return 400, {"error": e.message, "parameter": e.name}
    except UnknownSession as e:
        return 404, {"error": str(e), "parameter": "session"}
    except TooManySessions as e:
        return 503, {"error": str(e)}
    except ConnectionError:  # an HTTP client left: nobody to answer (the server handles it)
        raise
    except Exception:  # noqa: BLE001 (a bug must not stop the server: log it, answer 500)
        traceback.print_exc(file=sys.stderr)
        return 500, {"error": "internal error (the server logged it)"}
