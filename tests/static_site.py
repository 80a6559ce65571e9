"""Serving and watching the static site (``python -m playground build``) in headless Chromium.

Used by ``tests/test_static_site.py`` and by ``python -m bench.static_site``: a standard-
library file server on 127.0.0.1 (as ``python -m http.server`` serves the site), and a
``Watch`` of every request of one tab and of the Web Workers it starts, through the
DevTools Network domain. Workers are DevTools targets of their own: each is attached as it
starts and held until its Network domain is on, so not even its first request goes unseen.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FileServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page left mid-download
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serving(folder: str | os.PathLike[str]) -> Iterator[str]:
    """``folder`` served from a free port of 127.0.0.1; yields its address, ending in /."""
    server = _FileServer(("127.0.0.1", 0),
                         functools.partial(_QuietFiles, directory=str(Path(folder))))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Watch:
    """The requests of the browser's current tab and of every worker it starts."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.sessions = {browser.session}
        self.workers = 0
        self._attach(browser.session)

    def _send(self, method: str, params: dict, session: str) -> None:
        browser = self.browser
        browser.last_id += 1  # the reply is kept among the events, unread
        os.write(browser.commands, json.dumps({"id": browser.last_id, "method": method,
                                               "params": params, "sessionId": session}
                                              ).encode() + b"\0")

    def _attach(self, session: str) -> None:
        self._send("Target.setAutoAttach", {"autoAttach": True, "flatten": True,
                                            "waitForDebuggerOnStart": True}, session)

    def pump(self) -> bool:
        """Attach the workers started since the last call; call it while waiting. True."""
        self.browser.js("0")  # reads the events that arrived meanwhile
        for event in self.browser.events_named("Target.attachedToTarget"):
            if event.get("sessionId") not in self.sessions:
                continue  # another tab's worker: its own Watch attaches it
            self.browser.events.remove(event)
            worker = event["params"]["sessionId"]
            self.sessions.add(worker)
            self._send("Network.enable", {}, worker)
            self._attach(worker)
            self._send("Runtime.runIfWaitingForDebugger", {}, worker)
            self.workers += 1
        return True

    def _events(self, method: str) -> list[dict]:
        return [e for e in self.browser.events_named(method) if e.get("sessionId") in self.sessions]

    def urls(self) -> list[str]:
        """Every address requested so far, by the tab and its workers."""
        return [e["params"]["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def bytes_received(self) -> int:
        """Bytes over the wire so far (compressed size, headers included; 0 from the cache)."""
        return round(sum(e["params"]["encodedDataLength"]
                         for e in self._events("Network.loadingFinished")))

    def forget(self) -> None:
        """Drop the network events seen so far (before a reload that is measured alone)."""
        for method in ("Network.requestWillBeSent", "Network.loadingFinished"):
            for event in self._events(method):
                self.browser.events.remove(event)


def open_static(browser: Any, url: str, watch: Watch, timeout: float = 90) -> float:
    """Navigate the tab to the static page; seconds until Python is ready with chainrule
    imported (``window.chainruleBackend.loadedIn`` is set when the worker says so)."""
    started = time.monotonic()
    browser.send("Page.navigate", {"url": url})
    wait_until(lambda: watch.pump() and browser.js(
        "Boolean(window.chainruleBackend && window.chainruleBackend.loadedIn !== null)"),
        timeout, "Python ready in the worker")
    return time.monotonic() - started
