"""The playground against clients that are slow, many, or malformed on purpose: a real server on
127.0.0.1, raw sockets where http.client would be too polite.

    slow clients       a request has a deadline in all; idle and trickling connections never
                       lock out a new client; a body trickling in holds no request slot
    sessions           the least recently used idle session makes room; a reload resumes
    framing            a body left unread is never read as the next request
    load               20 threads for LOAD_SECONDS (10 s; 60 with CHAINRULE_LOAD_SECONDS=60):
                       no 5xx, no request lost to framing
    memory             RSS flat within 10% over 1,000 POST /api/configure calls

The full 60 s load test: ``CHAINRULE_LOAD_SECONDS=60 python -m pytest tests/test_playground_hostile.py``.
"""

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from served_playground import call, host, running

from playground import server as server_module
from playground.server import MAX_CONNECTIONS

ROOT = Path(__file__).resolve().parent.parent
LOAD_SECONDS = float(os.environ.get("CHAINRULE_LOAD_SECONDS", "10"))


def post_text(server, path, body_text, extra=""):
    """A POST with a JSON body, as raw text."""
    body = body_text.encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def everything_until_closed(sock, limit=10.0):
    """All the bytes the server sends before it closes the connection (or ``limit`` s)."""
    sock.settimeout(limit)
    received = b""
    ended = time.monotonic() + limit
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while time.monotonic() < ended:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def statuses(raw):
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3}) ", raw)]


# ---- slow clients ---------------------------------------------------------------------------


def test_a_request_trickling_one_byte_at_a_time_is_cut_at_its_deadline():
    with running(request_seconds=2) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            started = time.monotonic()
            request = f"GET / HTTP/1.1\r\nHost: {host(server)}\r\nX-Pad: {'a' * 100}\r\n"
            closed_after = None
            for byte in request.encode():  # one byte every 0.2 s: each read is quick
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                slow.settimeout(0.2)
                try:
                    if slow.recv(100) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    pass
            assert closed_after is not None and closed_after < 5


def trickle(server, sockets, stop):
    """Keep every socket of ``sockets`` sending a header byte each 0.5 s until ``stop``."""
    while not stop.is_set():
        for s in sockets:
            with contextlib.suppress(OSError):
                s.sendall(b"X")
        stop.wait(0.5)


def new_clients_while_trickling(server, opened, trickling, pages):
    """With ``trickling`` (some of the sockets ``opened``) sending a byte each 0.5 s: the
    statuses of ``pages`` GET / from new clients, then the (status, answer) of a new
    session. Every socket of ``opened`` is closed after."""
    stop = threading.Event()
    try:
        trickler = threading.Thread(target=trickle, args=(server, trickling, stop))
        trickler.start()
        time.sleep(0.5)
        answered = [call(server, "GET", "/", timeout=10)[0] for _ in range(pages)]
        status, answer, _ = call(server, "POST", "/api/session", {"settings": {"points": 20}})
    finally:
        stop.set()
        for s in opened:
            s.close()
    return answered, status, answer


def test_idle_and_trickling_connections_never_lock_out_a_new_client():
    with running(request_seconds=5) as server:
        opened = []
        for i in range(MAX_CONNECTIONS + 16):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            opened.append(s)
            if i % 2:  # half begin a request and trickle its headers, half say nothing
                s.sendall(f"GET / HTTP/1.1\r\nHost: {host(server)}\r\n".encode())
        answered, status, answer = new_clients_while_trickling(server, opened, opened[1::2], 24)
    assert answered == [200] * 24
    assert status == 200 and "session" in answer


def test_bodies_trickling_in_hold_no_request_slot():
    with running(request_seconds=30) as server:
        slow = []
        for _ in range(server_module.MAX_BUSY):  # each announces 16,000 bytes, sends 1
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            slow.append(s)
            s.sendall(f"POST /api/session HTTP/1.1\r\nHost: {host(server)}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: 16000\r\n\r\n"
                      f"{{".encode())
        answered, status, _ = new_clients_while_trickling(server, slow, slow, 5)
    assert answered == [200] * 5 and status == 200


# ---- sessions -------------------------------------------------------------------------------


def test_the_least_recently_used_session_makes_room_and_a_reload_resumes():
    with running(max_sessions=3) as server:
        keys = []
        for _ in range(5):
            status, answer, _ = call(server, "POST", "/api/session", {"settings": {"points": 20}})
            assert status == 200, answer  # never 503: an idle session makes room
            keys.append(answer["session"])
        assert len(server.sessions) == 3
        for evicted in keys[:2]:
            status, answer, _ = call(server, "GET", f"/api/state?session={evicted}")
            assert status == 404 and answer["parameter"] == "session"
        call(server, "POST", "/api/train", {"session": keys[2], "epochs": 2})
        status, answer, _ = call(server, "POST", "/api/session", {"session": keys[2]})
        assert status == 200 and answer["session"] == keys[2] and answer["resumed"]
        assert answer["state"]["epoch"] == 2  # the reloaded page finds its model where it was
        status, answer, _ = call(server, "POST", "/api/session",
                              {"session": keys[0], "settings": {"dataset": "xor"}})
        assert status == 200 and answer["resumed"] is False and answer["session"] != keys[0]
        assert answer["state"]["settings"]["dataset"] == "xor"
        status, answer, _ = call(server, "POST", "/api/session", {"session": "../etc/passwd"})
        assert status == 400 and answer["parameter"] == "session"


def test_a_diverging_session_says_so_and_stays_usable():
    with running() as server:
        status, answer, _ = call(server, "POST", "/api/session",
                              {"settings": {"dataset": "sine", "optimizer": "sgd", "lr": 10}})
        key = answer["session"]
        assert answer["state"]["diverged"] is None
        for _ in range(3):
            status, answer, _ = call(server, "POST", "/api/train", {"session": key, "epochs": 5})
            assert status == 200, answer
        message = answer["state"]["diverged"]
        assert re.fullmatch(r"training diverged at epoch \d+ \(.+\): lower the learning rate",
                            message), message
        status, answer, _ = call(server, "POST", "/api/configure",
                              {"session": key, "settings": {"dataset": "sine", "lr": 0.01}})
        assert status == 200 and answer["state"]["diverged"] is None
        status, answer, _ = call(server, "POST", "/api/train", {"session": key, "epochs": 2})
        assert status == 200 and answer["trained"] == 2


# ---- framing --------------------------------------------------------------------------------


def smuggled(server):
    return f"GET /static/playground.css HTTP/1.1\r\nHost: {host(server)}\r\n\r\n"


@pytest.mark.parametrize("case", ["404", "403 origin", "403 host", "405", "413", "411 chunked",
                                  "400 content-length"])
def test_a_body_left_unread_is_never_read_as_a_request(case):
    with running() as server:
        inner = smuggled(server)
        requests = {
            "404": post_text(server, "/api/nowhere", inner),
            "403 origin": post_text(server, "/api/session", inner, "Origin: http://evil.example\r\n"),
            "403 host": post_text(server, "/api/session", inner).replace(
                host(server).encode(), b"evil.example", 1),
            "405": post_text(server, "/api/state", inner),
            "413": post_text(server, "/api/session", inner).replace(
                f"Content-Length: {len(inner)}".encode(), b"Content-Length: 999999"),
            "411 chunked": (f"POST /api/session HTTP/1.1\r\nHost: {host(server)}\r\n"
                            f"Content-Type: application/json\r\nTransfer-Encoding: chunked"
                            f"\r\n\r\n{len(inner):x}\r\n{inner}\r\n0\r\n\r\n").encode(),
            "400 content-length": post_text(server, "/api/session", inner).replace(
                f"Content-Length: {len(inner)}".encode(), f"Content-Length: {len(inner)}\r\n"
                f"Content-Length: {len(inner)}".encode()),
        }
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(requests[case])
            answer = everything_until_closed(s)
    expected = int(case.split()[0])
    assert statuses(answer) == [expected], answer[:300]
    assert b"Connection: close" in answer


def test_a_full_server_reads_the_body_before_its_503():
    with running() as server:
        server.busy_seconds = 0.05
        server.busy = threading.BoundedSemaphore(1)
        server.busy.acquire()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            # The body was read, so what follows it is the next request, answered in turn.
            s.sendall(post_text(server, "/api/session", '{"settings": {}}')
                      + smuggled(server).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
                      .encode())
            answers = everything_until_closed(s)
        server.busy.release()
    assert statuses(answers) == [503, 503]


@pytest.mark.parametrize("ask", ["Connection: close", "HTTP/1.0"])
def test_a_client_that_asks_to_close_is_answered_and_closed_at_once(ask):
    with running() as server:
        text = post_text(server, "/api/session", '{"settings": {"points": 20}}',
                         "Connection: close\r\n" if ask.startswith("Connection") else "")
        if ask == "HTTP/1.0":
            text = text.replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            started = time.monotonic()
            s.sendall(text)
            answer = everything_until_closed(s, limit=10)
            took = time.monotonic() - started
    assert statuses(answer) == [200] and took < 5  # not held for the idle deadline


def test_head_on_an_api_route_sends_headers_only_and_keeps_the_connection():
    with running() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for path in ("/api/state?session=" + "A" * 22, "/api/session", "/"):
            connection.request("HEAD", path, headers={"Host": host(server)})
            response = connection.getresponse()
            assert response.read() == b""
        connection.request("GET", "/", headers={"Host": host(server)})
        response = connection.getresponse()  # framed right: the HEADs sent no body
        assert response.status == 200 and b"<html" in response.read().lower()
        connection.close()


@pytest.mark.parametrize("length", ["\u00b2", "\u00b3", "\u00b9", "1_0", "+5", "0x10"])
def test_a_content_length_that_is_not_ascii_digits_is_a_400(length):
    # Header bytes are read as latin-1: the byte 0xB2 is "²", which str.isdigit() accepts.
    with running() as server:
        text = post_text(server, "/api/session", "{}").replace(
            b"Content-Length: 2", f"Content-Length: {length}".encode("latin-1"))
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(text)
            answer = everything_until_closed(s)
    assert statuses(answer) == [400] and b"Content-Length" in answer


# ---- load -----------------------------------------------------------------------------------


def a_page(server, seconds, outcome):
    """One page's traffic on one keep-alive connection: train, look, explain, reconfigure,
    and a refused request now and then. Counts statuses; a failed request is 'lost'."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Host": host(server), "Content-Type": "application/json"}

    def ask(method, path, body=None):
        try:
            connection.request(method, path, None if body is None else json.dumps(body),
                               headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            outcome.append(("lost", type(error).__name__))
            connection.close()
            return None, None
        outcome.append((response.status, path))
        return response.status, json.loads(data) if data[:1] == b"{" else None

    _, answer = ask("POST", "/api/session", {"settings": {"points": 60, "hidden": "4"}})
    key = answer["session"]
    ended = time.monotonic() + seconds
    step = 0
    while time.monotonic() < ended:
        step += 1
        ask("POST", "/api/train", {"session": key, "epochs": 1, "milliseconds": 20})
        ask("GET", f"/api/state?session={key}")
        if step % 3 == 0:
            ask("POST", "/api/chain-rule", {"session": key, "layer": 0, "neuron": 0})
        if step % 4 == 0:
            ask("POST", "/api/nowhere", {"a": "body to leave unread"})  # 404, then closed
        if step % 5 == 0:
            ask("POST", "/api/configure", {"session": key, "settings": {"points": 60,
                                                                         "hidden": "4"}})
        if step % 7 == 0:
            ask("GET", "/static/playground.css")
    connection.close()


def test_twenty_pages_at_once_get_no_5xx_and_lose_no_request():
    with running(max_sessions=32) as server:
        outcome: list = []
        pages = [threading.Thread(target=a_page, args=(server, LOAD_SECONDS, outcome))
                 for _ in range(20)]
        for page in pages:
            page.start()
        for page in pages:
            page.join()
    lost = [o for o in outcome if o[0] == "lost"]
    errors = [o for o in outcome if o[0] != "lost" and o[0] >= 500]
    wrong = [o for o in outcome if o[0] not in ("lost", 500)
             and (o[0] == 404) != (o[1] == "/api/nowhere")]
    assert not lost and not errors and not wrong, (lost[:5], errors[:5], wrong[:5])
    assert len(outcome) > 20 * 10


# ---- memory (the engine frees the tape of a thread when it ends) ----------------------------


def rss_kb(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
def test_memory_stays_flat_over_a_thousand_configure_calls():
    process = subprocess.Popen([sys.executable, "-m", "playground", "--port", "0",
                                "--no-browser"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)/", process.stdout.readline()).group(1))

        def configure(key):  # a fresh connection each time: a new server thread each time
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/api/configure",
                               json.dumps({"session": key, "settings": {}}),
                               {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            connection.close()
            return response.status

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/api/session", "{}", {"Host": f"127.0.0.1:{port}",
                                                           "Content-Type": "application/json"})
        key = json.loads(connection.getresponse().read())["session"]
        connection.close()
        for _ in range(100):  # warm up: caches, the allocator's pools
            assert configure(key) == 200
        before = rss_kb(process.pid)
        for _ in range(1000):
            assert configure(key) == 200
        after = rss_kb(process.pid)
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert after <= before * 1.10, f"RSS grew from {before} kB to {after} kB"
