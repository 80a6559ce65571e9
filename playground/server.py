"""The playground's web server: the page's files and the JSON API over HTTP, standard library only.

    GET  /                     the page (``static/index.html``); /static/<file> its script
                               and style sheet, and nothing else
    /api/...                   the routes of ``api.py``, which answers them without HTTP

The page runs code on the machine it is served from, so every request is treated as
hostile. A Host header other than the server's own name gets 403 (a web page elsewhere
cannot reach the server through a DNS name that points to 127.0.0.1), and so does a POST
from another origin. Bodies are JSON only, at most ``MAX_BODY`` bytes (413 beyond), never
evaluated or unpickled; every field is checked (400 naming it, see ``settings.py``), and
the sizes they allow bound the work of one request. At most ``MAX_BUSY`` requests run at
once (a request waits ``busy_seconds`` for a slot, then gets 503), and a request takes its slot only once all of it (headers and body) has
arrived, so slow clients cannot hold the slots. Each request has ``REQUEST_SECONDS`` in all
to arrive, however slowly its bytes trickle in. At most ``MAX_CONNECTIONS`` connections are
open (``MAX_PER_CLIENT`` from one address): a new one beyond takes the place of the one that
has waited longest on its client, so idle connections never lock new clients out. After
an answer that leaves a body unread, or when the client asks (``Connection: close``,
HTTP/1.0), the connection is closed, so a body is never read as the next request. An
error in one request is answered with 500 and logged without touching any other session.
Files are served from a table read at start-up, so no path can reach outside it.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playground import api
from playground.api import HTTPError
from playground.sessions import SessionStore

STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024
MAX_URL = 4096
MAX_BUSY = 16
MAX_CONNECTIONS = 64
MAX_PER_CLIENT = 32
REQUEST_SECONDS = 10.0  # for all of one request to arrive, counted from the previous answer
CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png",
                 ".svg": "image/svg+xml"}
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")


def static_files() -> dict[str, tuple[bytes, str]]:
    """Every file the server will ever send, by its URL path, read once."""
    files = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            files[f"/static/{path.name}"] = (path.read_bytes(), CONTENT_TYPES[path.suffix])
    files["/"] = files["/static/index.html"]
    return files


# ---- HTTP ----------------------------------------------------------------------------------


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers that name this server: the address it listens on, and the names of
    this machine's loopback address (which reach it only where it listens there). Any other
    DNS name could point anywhere, so it is refused."""
    names = {host, "localhost", "127.0.0.1", "[::1]"}
    if ":" in host:
        names.add(f"[{host}]")
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return hosts


def _is_ip_literal(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class _Deadline(io.RawIOBase):
    """The reading side of a connection, where each request has one deadline in all.

    A socket's timeout bounds one wait for bytes; a client sending one byte every few
    seconds never meets it. Here every read waits at most until ``deadline`` (set when a
    request begins), then raises TimeoutError, which ends the connection."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.deadline = time.monotonic() + REQUEST_SECONDS

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.connection.settimeout(left)
        return self.connection.recv_into(buffer)


class Handler(BaseHTTPRequestHandler):
    """One request: check it, route it, answer in JSON (or with a file)."""

    server: Playground
    protocol_version = "HTTP/1.1"  # keep-alive: the page asks several times a second
    server_version = "chainrule-playground"
    sys_version = ""
    timeout = 15  # seconds an answer may wait for the client to take it

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without this, Nagle's algorithm holds the
        # body back until the client acknowledges the headers (40 ms per answer on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.arrival = _Deadline(self.connection)
        self.rfile.close()  # the socket file made by the base class: it would keep it open
        self.rfile = io.BufferedReader(self.arrival)

    def handle_one_request(self) -> None:
        self.arrival.deadline = time.monotonic() + self.server.request_seconds
        self.server.waiting(self.connection, True)
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def do_OPTIONS(self) -> None:
        self._answer("OPTIONS")

    def _answer(self, method: str) -> None:
        self.client_closes = self.close_connection  # Connection: close, or HTTP/1.0
        try:
            self.fields = self._arrive(method)
        except HTTPError as e:
            self._send_json(e.status, {"error": e.message, "parameter": e.parameter})
            return
        except _ClientGone:
            return
        self.server.waiting(self.connection, False)
        # The very slot taken is given back: a file is sent before the release, and a test
        # may swap ``server.busy`` once its client has the answer.
        busy = self.server.busy
        if not busy.acquire(timeout=self.server.busy_seconds):
            self._send_json(503, {"error": "the server is busy; try again"})
            return
        try:
            status, answer = self._outcome(method)
        finally:
            busy.release()
        if answer is not None:
            self._send_json(status, answer)
            self.server.sessions.build_steps()  # the answer is out: a new model's step now

    def _arrive(self, method: str) -> dict | None:
        """All of the request, checked: the fields of an API call (None for a file). The
        body is read here, before a request slot is taken; a check that fails before it
        leaves the connection to be closed (HTTPError)."""
        # A body not read would be taken for the next request: close after answering,
        # unless it is read below.
        has_body = "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        self.close_connection = has_body or self.client_closes
        host = self.headers.get("Host", "")
        if len(self.headers.get_all("Host", [])) > 1 or not self.server.accepts_host(host):
            raise HTTPError(403, f"this server does not answer to the host {host[:100]!r}",
                            "Host")
        if len(self.path) > MAX_URL:
            raise HTTPError(414, f"the address is longer than {MAX_URL} characters")
        url = self.url = urlsplit(self.path)
        if method in ("GET", "HEAD") and url.path in self.server.files:
            return None
        api.route_of(method, url.path)  # 404 or 405 before any body is read
        return self._query(url.query) if method == "GET" else self._json_body()

    def _outcome(self, method: str) -> tuple[int, dict | None]:
        """The status and JSON answer of this request (None: a file was sent already)."""
        if self.fields is None:
            body, content_type = self.server.files[self.url.path]
            self._send(200, body, content_type, page=content_type.startswith("text/html"))
            return 200, None
        return api.handle(self.server.sessions, method, self.url.path, self.fields)

    @staticmethod
    def _query(query: str) -> dict:
        try:
            return dict(parse_qsl(query, strict_parsing=bool(query), max_num_fields=8))
        except ValueError:
            raise HTTPError(400, "the query string is malformed or has more than 8 fields",
                            "query") from None

    def _json_body(self) -> dict:
        origin = self.headers.get("Origin")
        if origin is not None and origin.removeprefix("http://") != self.headers.get("Host"):
            raise HTTPError(403, f"requests from {origin[:100]!r} are not accepted", "Origin")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HTTPError(411, "send the body with a Content-Length, not chunked")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise HTTPError(415, "the body must be JSON (Content-Type: application/json)",
                            "Content-Type")
        lengths = self.headers.get_all("Content-Length", [])
        if not lengths:
            raise HTTPError(411, "a Content-Length header is required", "Content-Length")
        if len(lengths) > 1:
            raise HTTPError(400, "Content-Length is given more than once", "Content-Length")
        if not CONTENT_LENGTH.fullmatch(lengths[0].strip()):  # ASCII digits: not "²"
            raise HTTPError(400, "Content-Length must be a whole number", "Content-Length")
        length = int(lengths[0])
        if length > MAX_BODY:
            raise HTTPError(413, f"the body is {length} bytes; at most {MAX_BODY} are accepted",
                            "body")
        raw = self.rfile.read(length)
        if len(raw) < length:  # the client hung up half-way (or was made to)
            raise _ClientGone
        self.close_connection = self.client_closes
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise HTTPError(400, "the body is not valid JSON", "body") from None
        if not isinstance(body, dict):
            raise HTTPError(400, f"the body must be a JSON object, not {type(body).__name__}",
                            "body")
        return body

    def _send_json(self, status: int, answer: dict) -> None:
        body = json.dumps(answer, allow_nan=False, separators=(",", ":")).encode()
        self._send(status, body, "application/json")

    def _send(self, status: int, body: bytes, content_type: str, *, page: bool = False
              ) -> None:
        self.connection.settimeout(self.timeout)  # the client has this long to take it
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        if page:
            self.send_header("Content-Security-Policy", PAGE_POLICY)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":  # HEAD: the headers alone, for a file or an API answer
            self.wfile.write(body)


class _ClientGone(Exception):
    """The client closed its side before the whole request arrived: nobody to answer."""


class Playground(ThreadingHTTPServer):
    """The server: its sessions, its files, and the host names it answers to."""

    daemon_threads = True  # Ctrl-C does not wait for open connections
    busy_seconds = 2.0  # how long a request that has arrived waits for a slot before a 503
    request_queue_size = MAX_CONNECTIONS  # the default, 5, makes a burst of tabs wait seconds

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, max_sessions: int = 16,
                 idle_seconds: float = 900.0, request_seconds: float = REQUEST_SECONDS,
                 verbose: bool = False) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.host = host
        self.port = self.server_address[1]
        self.sessions = SessionStore(max_sessions, idle_seconds)
        self.files = static_files()
        self.busy = threading.BoundedSemaphore(MAX_BUSY)
        self.request_seconds = request_seconds
        # Each open connection: its client's address, and since when it has been waiting
        # for its client (None while the server works on its request).
        self.open: dict[socket.socket, tuple[str, float | None]] = {}
        self.open_lock = threading.Lock()
        self.verbose = verbose
        self.hosts = allowed_hosts(host, self.port)
        self.any_ip = host in ("0.0.0.0", "::")

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in its own thread. Beyond ``MAX_CONNECTIONS`` (or
        ``MAX_PER_CLIENT`` from its address) the connection that has waited longest on its
        client is closed to make room; if every one is being answered, the new one is."""
        client = client_address[0]
        with self.open_lock:
            mine = [s for s, (c, _) in self.open.items() if c == client]
            crowd = (mine if len(mine) >= MAX_PER_CLIENT
                     else list(self.open) if len(self.open) >= MAX_CONNECTIONS else [])
            victim = None
            if crowd:
                waiting = [(self.open[s][1], i, s) for i, s in enumerate(crowd)
                           if self.open[s][1] is not None]
                if not waiting:
                    self.shutdown_request(request)
                    return
                victim = min(waiting)[2]
                del self.open[victim]
            self.open[request] = (client, time.monotonic())
        if victim is not None:
            with contextlib.suppress(OSError):
                victim.shutdown(socket.SHUT_RDWR)  # its thread reads the end and finishes
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.open_lock:
                self.open.pop(request, None)

    def waiting(self, connection: socket.socket, waiting: bool) -> None:
        """Note that ``connection`` now waits for its client (or no longer does)."""
        with self.open_lock:
            if connection in self.open:
                client = self.open[connection][0]
                self.open[connection] = (client, time.monotonic() if waiting else None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal (a page reloads); anything else is
        printed, as the standard library does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        if self.any_ip:
            name = "127.0.0.1"
        return f"http://{name}:{self.port}/"

    def accepts_host(self, host: str) -> bool:
        """True for a Host header naming this server (any IP address of it, when it listens
        on all of them: an address, unlike a DNS name, cannot be rebound to another host)."""
        if host in self.hosts:
            return True
        return self.any_ip and host.endswith(f":{self.port}") and _is_ip_literal(host)
