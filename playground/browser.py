"""The static site's back end: the page's requests answered inside the browser's Pyodide.

``static/worker.mjs`` (a module Web Worker) imports this module and calls ``answer`` for
each message the page posts, exactly where ``server.py`` would have parsed an HTTP request:
the same ``api.handle``, the same sessions, settings and training. Only the transport
differs: a message carries the method, the address (with its query for GET) and the JSON
body as text; the answer goes back as a status and JSON text.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from playground import api
from playground.sessions import SessionStore

SESSIONS = SessionStore(max_sessions=4)
"""A worker serves one page: a few slots are plenty (a reload starts a new worker)."""


def _fields(method: str, query: str, body: str | None) -> dict:
    if method == "GET":
        return dict(parse_qsl(query, max_num_fields=8))
    try:
        fields = json.loads(body or "{}")
    except ValueError:
        raise api.HTTPError(400, "the body is not valid JSON", "body") from None
    if not isinstance(fields, dict):
        raise api.HTTPError(400, f"the body must be a JSON object, not {type(fields).__name__}",
                            "body")
    return fields


def answer(method: str, address: str, body: str | None = None) -> tuple[int, str]:
    """One request: ``(status, JSON text)``, as the server would have sent it."""
    url = urlsplit(address)
    try:
        fields = _fields(method, url.query, body)
    except (api.HTTPError, ValueError) as e:
        status = getattr(e, "status", 400)
        return status, json.dumps({"error": str(e), "parameter": getattr(e, "parameter", "query")})
    status, result = api.handle(SESSIONS, method, url.path, fields)
    return status, json.dumps(result, allow_nan=False, separators=(",", ":"))


def idle() -> None:
    """Between answers, with no message waiting: build what a new model will train with
    (``SessionStore.build_steps``), so that play does not wait for it."""
    SESSIONS.build_steps()
