"""The playground's JSON API without HTTP: one function per route, and ``handle`` to call them.

    POST /api/session          {"settings": {...}, "session": the id a reloaded page had}
                               -> {"session": id, "state": {...}} (and "resumed": whether
                               the old id still lived, when one was sent)
    POST /api/configure        {"session", "settings"} -> {"state"}: start over
    POST /api/train            {"session", "epochs", "milliseconds"} -> {"trained",
                               "milliseconds" (spent training), "state"}
    GET  /api/state?session=id -> {"state"}
    POST /api/chain-rule       {"session", "layer", "neuron", "point"} -> the neuron's
                               backward graph for that training point (``chain_rule``)

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

from playground import chain_rule, views
from playground.sessions import SessionStore, TooManySessions, UnknownSession
from playground.settings import (
    ACTIVATIONS,
    DATASETS,
    MAX_LAYERS,
    MAX_POINTS,
    MAX_WIDTH,
    OPTIMIZERS,
    BadParameter,
    Settings,
    parse_settings,
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
    return {"datasets": {name: d.task for name, d in DATASETS.items()},
            "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "defaults": Settings().to_json(),
            "limits": {"points": MAX_POINTS, "layers": MAX_LAYERS, "width": MAX_WIDTH}}


def new_session(sessions: SessionStore, body: dict) -> dict:
    _fields(body, (), ("settings", "session"))
    settings = parse_settings(body.get("settings", {}))
    if "session" in body:  # a reloaded page: its session again, if it still lives
        key, session, resumed = sessions.resume(body["session"], settings
                                                if "settings" in body else None)
        return {"session": key, "resumed": resumed, "choices": choices(),
                "state": session.state()}
    key, session = sessions.create(settings)
    return {"session": key, "choices": choices(), "state": session.state()}


def configure(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "settings"))
    settings = parse_settings(body["settings"])
    session = sessions.get(body["session"])
    session.configure(settings)
    return {"state": session.state()}


def train(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session",), ("epochs", "milliseconds"))
    epochs = read_int("epochs", body.get("epochs", 1), 1, MAX_EPOCHS_PER_REQUEST)
    milliseconds = read_int("milliseconds", body.get("milliseconds", 150), 1, MAX_MILLISECONDS)
    session = sessions.get(body["session"])
    started = time.perf_counter()
    trained = session.train(epochs, milliseconds / 1000)
    spent = round((time.perf_counter() - started) * 1000)
    return {"trained": trained, "milliseconds": spent, "state": session.state()}


def state(sessions: SessionStore, query: dict) -> dict:
    _fields(query, ("session",))
    return {"state": sessions.get(query["session"]).state()}


def explain(sessions: SessionStore, body: dict) -> dict:
    _fields(body, ("session", "layer", "neuron"), ("point",))
    session = sessions.get(body["session"])
    with session.lock:
        widths = [linear.nout for linear, _ in session.layers]
        layer = read_int("layer", body["layer"], 0, len(widths) - 1)
        neuron = read_int("neuron", body["neuron"], 0, widths[layer] - 1)
        point = read_int("point", body.get("point", 0), 0, len(session.X_train) - 1)
        return views.clean(chain_rule.explain(session, layer, neuron, point), rounded=False)


Route = Callable[[SessionStore, dict], dict]
ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/session"): new_session,
    ("POST", "/api/configure"): configure,
    ("POST", "/api/train"): train,
    ("GET", "/api/state"): state,
    ("POST", "/api/chain-rule"): explain,
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
