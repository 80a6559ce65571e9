"""Headless Chromium for the browser tests, driven by the DevTools protocol over a pipe.

Standard library only: no selenium, no playwright, no websocket package. With
``--remote-debugging-pipe`` Chromium reads JSON commands on its file descriptor 3 and
writes replies and events on 4, each message ended by a NUL byte.

    with_chromium = chromium_fixture()           # in a test module: a module-wide browser
    def test_page(with_chromium):
        with_chromium.open(path.as_uri())
        with_chromium.click("#next")
        assert with_chromium.js("document.title") == "..."

``png_pixels`` reads the screenshots it takes.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import sys
import time
import zlib
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = ("Chromium is not installed (apt-get install chromium); the HTML stepper is "
           "tested in a real browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=MISSING)

# Runs `command` with the pipe ends given as its first two arguments on descriptors 3 and 4.
# Both are first copied to numbers >= 5, so that placing one never overwrites the other.
ON_FDS_3_AND_4 = """
import fcntl, os, sys
read_end, write_end = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 5) for fd in sys.argv[1:3])
os.dup2(read_end, 3)
os.dup2(write_end, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Chromium:
    """One headless Chromium with one tab; ``send`` a DevTools command, read its events."""

    def __init__(self, profile: str | os.PathLike[str]) -> None:
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--no-default-browser-check",
                   f"--user-data-dir={profile}", "--remote-debugging-pipe",
                   "--window-size=1200,800", "about:blank"]
        self.process = subprocess.Popen(
            [sys.executable, "-c", ON_FDS_3_AND_4, str(to_read), str(from_write), *command],
            pass_fds=(to_read, from_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_read)
        os.close(from_write)
        self.commands, self.replies = to_write, from_read
        self.pending = b""
        self.last_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = None
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            if select.select([self.replies], [], [], left)[0]:
                chunk = os.read(self.replies, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe")
                self.pending += chunk
        message, self.pending = self.pending.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> Any:
        """Run one DevTools command and return its result (events seen meanwhile are kept)."""
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        """The first event named ``method``, waiting for it if it has not come yet."""
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._message(deadline))

    def events_named(self, method: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("method") == method]

    def open(self, url: str) -> None:
        """Load ``url`` from a blank tab, forgetting the events of the page before."""
        self.send("Page.navigate", {"url": "about:blank"})
        self.wait_for("Page.loadEventFired")
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (an exception fails the test)."""
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True})
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def press(self, key: str, code: int) -> None:
        """Press and release ``key`` (its virtual key ``code``) in the focused element."""
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key,
                                                 "windowsVirtualKeyCode": code})

    def click(self, selector: str) -> None:
        """Click, with the mouse, the middle of the element that ``selector`` finds."""
        box = self.js(f"(function () {{ var e = document.querySelector({json.dumps(selector)}); "
                      f"e.scrollIntoView({{block: 'center'}}); var r = e.getBoundingClientRect(); "
                      f"return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def errors(self) -> list[dict[str, Any]]:
        """Uncaught exceptions and console errors of the page so far."""
        return self.events_named("Runtime.exceptionThrown") + [
            e for e in self.events_named("Log.entryAdded")
            if e["params"]["entry"]["level"] == "error"]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.replies)


def chromium_fixture(needs_dot: bool = True):
    """A module-scoped pytest fixture: one browser for the module's tests, closed after.

    It skips, saying why, when Chromium is missing, or (``needs_dot``) when Graphviz's dot
    is missing and the pages under test cannot be made.
    """
    @pytest.fixture(scope="module")
    def browser(tmp_path_factory):
        if CHROMIUM is None:
            pytest.skip(MISSING)
        if needs_dot and shutil.which("dot") is None:
            pytest.skip("Graphviz's dot is not installed: the page cannot be made")
        chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
        yield chromium
        chromium.close()

    return browser


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Width, height, bytes per pixel and rows of an 8-bit, non-interlaced PNG (Chromium's)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, compressed = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
    assert depth == 8 and colour in (2, 6) and interlace == 0
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(compressed)
    stride = width * size
    rows, above = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):   # undo the PNG filter of this row
            left = row[x - size] if x >= size else 0
            up, corner = above[x], (above[x - size] if x >= size else 0)
            if kind == 1:
                row[x] = (row[x] + left) & 255
            elif kind == 2:
                row[x] = (row[x] + up) & 255
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                              (abs(guess - corner), 2, corner))[2]
                row[x] = (row[x] + nearest) & 255
        rows.append(bytes(row))
        above = row
    return width, height, size, rows
