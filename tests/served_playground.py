"""A playground served on a free port of 127.0.0.1, and one HTTP request to it.

Used by ``tests/test_playground.py``, ``tests/test_playground_hostile.py`` and
``tests/test_playground_browser.py``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

from playground.server import Playground


@contextlib.contextmanager
def running(**options: Any) -> Iterator[Playground]:
    """A playground serving on a free port in a background thread, stopped after."""
    playground = Playground("127.0.0.1", 0, **options)
    thread = threading.Thread(target=playground.serve_forever, daemon=True)
    thread.start()
    try:
        yield playground
    finally:
        playground.shutdown()
        playground.server_close()


def host(server: Playground) -> str:
    """The Host header a browser sends to ``server``."""
    return f"127.0.0.1:{server.port}"


def call(server: Playground, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None, raw: bytes | str | None = None,
         timeout: float = 30) -> tuple[int, Any, http.client.HTTPResponse]:
    """(status, decoded JSON or bytes, response) of one request on a fresh connection:
    ``body`` is sent as JSON, ``raw`` as it is."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    sent = {"Host": host(server)}
    if body is not None or raw is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    payload = raw if raw is not None else (None if body is None else json.dumps(body))
    connection.request(method, path, body=payload, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    kind = response.getheader("Content-Type", "")
    return response.status, json.loads(data) if "json" in kind else data, response
