"""``python -m playground`` and ``python demo.py --serve``: one line with the address, a
page behind it, a warning for an open host, and a clean stop on Ctrl-C."""

import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from playground import cli

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"playground: http://127\.0\.0\.1:(\d+)/\n")


def start(*command):
    return subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(*command):
    return subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def first_line(process, timeout=60):
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the command printed nothing"
    return process.stdout.readline()


def stop_with_ctrl_c(process):
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


@pytest.mark.parametrize("command", [["-m", "playground"], ["demo.py", "--serve"]])
def test_the_command_prints_its_address_serves_the_page_and_stops_on_ctrl_c(command):
    process = start(*command, "--port", "0", "--no-browser")
    try:
        line = first_line(process)
        match = ADDRESS.fullmatch(line)
        assert match, line
        port = int(match.group(1))
        assert port > 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.status == 200 and b'id="boundary"' in response.read()
        connection.close()
    finally:
        code, err = stop_with_ctrl_c(process)
    assert code == 0 and "Traceback" not in err, err


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="127.0.0.2 is a loopback address on Linux only")
def test_another_host_is_served_with_a_warning():
    # 127.0.0.2 is not this machine's usual address, so it gets the warning, but it is still
    # loopback: the test opens nothing to the network.
    process = start("-m", "playground", "--host", "127.0.0.2", "--port", "0", "--no-browser")
    try:
        assert re.fullmatch(r"playground: http://127\.0\.0\.2:\d+/\n", first_line(process))
        ready, _, _ = select.select([process.stderr], [], [], 30)
        assert ready and "no login" in process.stderr.readline()
    finally:
        code, _ = stop_with_ctrl_c(process)
    assert code == 0


def test_a_port_in_use_is_an_error_that_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("-m", "playground", "--port", str(port), "--no-browser")
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_bad_port_is_a_usage_error():
    result = run("-m", "playground", "--port", "70000")
    assert result.returncode == 2 and "--port" in result.stderr


def test_a_browser_is_opened_only_where_one_can_show(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not cli._can_open_a_browser()  # a text browser would take over the terminal
    monkeypatch.setenv("DISPLAY", ":0")
    assert cli._can_open_a_browser()
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delenv("DISPLAY")
    assert cli._can_open_a_browser()
    assert os.environ.get("DISPLAY") is None
