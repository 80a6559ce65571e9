"""The static site: chainrule's own engine training in the browser, served by any static host.

``python -m playground build`` writes the site once for this module (the pinned npm
packages are installed once into ``~/.cache/chainrule/npm`` and reused by every later run);
the standard library's ``http.server`` serves it from 127.0.0.1, and a headless Chromium
(``tests/chromium.py``) uses it as a student would: Python starts in a Web Worker behind a
progress bar, the spiral trains to a test accuracy of 0.9, a click on a neuron draws its
chain rule with Graphviz compiled to WebAssembly. Every request of the page and of its
worker is watched through the DevTools Network domain: one to any address but the site's
own fails the test. Timings are printed (``-s``) for bench/README.md, and asserted only as
floors that never flake.

Without npm (or node, or Chromium) these tests skip and say so; the server mode still
works on a bare Python, which the last test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chromium import chromium_fixture, needs_chromium
from static_site import Watch, open_static, serving, wait_until

from playground import build

ROOT = Path(__file__).resolve().parent.parent
SPIRAL = "dataset=spiral&points=250&hidden=8,8&activation=tanh&lr=0.03&batch_size=10"
"""TensorFlow Playground's spiral set-up (2-8-8-1 tanh, lr 0.03, batch 10), with the page's
default optimizer, Adam, which learns it in seconds (``bench.static_site`` times plain SGD)."""

browser = chromium_fixture(needs_dot=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site (npm's download is cached under ~/.cache/chainrule between runs)."""
    folder = tmp_path_factory.mktemp("site")
    try:
        build.build(folder)
    except build.BuildError as e:
        if shutil.which("npm") is None:
            pytest.skip(f"the static site cannot be built: {e}")
        raise
    return folder


@pytest.fixture(scope="module")
def served(site):
    """The site from ``http.server`` on 127.0.0.1, as ``python -m http.server`` serves it."""
    with serving(site) as address:
        yield address


def number(browser, element_id):
    try:
        return float(browser.js(f"document.getElementById('{element_id}').textContent"))
    except ValueError:
        return float("nan")


def load(browser, url):
    """A Watch of the tab and its workers, and the seconds until Python was ready."""
    browser.send("Page.navigate", {"url": "about:blank"})
    browser.wait_for("Page.loadEventFired")
    browser.events.clear()
    watch = Watch(browser)
    return watch, open_static(browser, url, watch)


def test_python_http_server_sends_the_mime_types_the_site_needs(served):
    for path, expected in [("static/pyodide/pyodide.asm.wasm", "application/wasm"),
                           ("static/worker.mjs", "text/javascript"),
                           ("static/pyodide/pyodide.mjs", "text/javascript"),
                           ("static/backend.js", "text/javascript")]:
        with urllib.request.urlopen(served + path) as response:
            assert response.headers["Content-Type"].split(";")[0] == expected, path


def test_the_built_page_uses_the_worker_and_relative_addresses(site):
    page = (site / "index.html").read_text("utf-8")
    assert 'data-backend="worker"' in page and 'data-backend="http"' not in page
    assert '"/static/' not in page  # so the site also works in a sub-folder of a host
    assert (site / "static" / "pyodide" / "pyodide.asm.wasm").stat().st_size > 1_000_000
    assert build.main([str(site)]) == 0  # an earlier build is replaced


def test_a_folder_that_is_no_build_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert build.main([str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_build_without_npm_says_so_in_one_line_and_exits_2(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent),
           "CHAINRULE_NPM_CACHE": str(tmp_path / "empty-cache")}
    if shutil.which("npm", path=env["PATH"]):
        pytest.skip("npm sits beside this Python: it cannot be hidden from the build")
    run = subprocess.run([sys.executable, "-m", "playground", "build", str(tmp_path / "site")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "npm was not found" in run.stderr
    assert not (tmp_path / "site").exists()


@needs_chromium
def test_spiral_trains_in_the_browser_explains_a_neuron_and_stays_local(browser, served):
    watch, cold = load(browser, served + "?" + SPIRAL)
    assert watch.workers >= 1
    wait_until(lambda: browser.js("document.querySelectorAll('.neuron').length") == 19, 30,
               "the network 2-8-8-1")
    assert browser.js("document.getElementById('loading').hidden")

    started = time.monotonic()
    browser.click("#play")
    wait_until(lambda: watch.pump() and number(browser, "test-accuracy") >= 0.9, 240,
               "a test accuracy of 0.9 on the spiral")
    to_090 = time.monotonic() - started

    def counters():
        return (int(browser.js("document.getElementById('epoch').textContent")),
                int(browser.js("document.getElementById('boundary').getAttribute('data-frames')")))

    (epochs, frames), clock = counters(), time.monotonic()
    time.sleep(5)
    (epochs_after, frames_after), seconds = counters(), time.monotonic() - clock
    epoch_rate, redraw_rate = (epochs_after - epochs) / seconds, (frames_after - frames) / seconds
    assert epoch_rate >= 2 and redraw_rate >= 2, (epoch_rate, redraw_rate)  # floors only

    browser.click("#play")  # pause: the chain rule of a still model
    browser.click("#neuron-1-2")
    wait_until(lambda: watch.pump() and browser.js(
        "document.querySelector('#chain-rule .result') !== null"), 60, "the chain-rule view")
    text = browser.js("document.getElementById('chain-rule').textContent")
    assert "layer 2, neuron 3" in text and "d loss / d a" in text
    assert browser.js("document.querySelectorAll('#chain-rule table.edges tr').length") > 5
    # The picture is drawn from its DOT by Graphviz in WebAssembly: never missing here.
    assert "upstream × local = contribution" in browser.js(
        "document.querySelector('#chain-rule svg').textContent")

    urls = watch.urls()
    assert any(u.endswith("pyodide.asm.wasm") for u in urls), urls
    assert any(u.endswith("viz/viz.js") for u in urls), urls
    assert all(u.startswith((served, "data:", "blob:")) for u in urls), sorted(set(urls))
    assert browser.errors() == []
    print(f"\nstatic site: Python ready {cold:.1f} s after navigation; spiral to 0.90 in "
          f"{to_090:.1f} s; {epoch_rate:.1f} epochs/s, {redraw_rate:.1f} redraws/s")


@needs_chromium
def test_opened_as_a_file_the_page_says_it_must_be_served(browser, site):
    browser.open((site / "index.html").as_uri())
    wait_until(lambda: browser.js("!document.getElementById('loading').hidden"), 30,
               "the loading screen")
    message = browser.js("document.querySelector('#loading .loading-message').textContent")
    assert "must be served over HTTP" in message and "python -m http.server" in message
    assert browser.js("document.getElementById('loading').classList.contains('failed')")


DEEP_CHAIN = """
import gc
from engine import Value
x = Value(0.5)
y = x
for _ in range(1_000_000):
    y = y * 1.0
y.backward()
gradient = x.grad  # d y / d x = 1.0 ** 1_000_000
del y  # the whole graph is freed here: no step of that may recurse a million deep
gc.collect()
f"dropped a chain of 1,000,000 after backward, d y / d x = {gradient}"
"""


@needs_chromium
def test_a_million_deep_chain_is_built_and_dropped_in_a_worker(browser, served):
    """Pyodide's stack in a worker is small (a few thousand C frames): freeing a deep graph
    by recursion there kills the interpreter, where CPython survives 400,000."""
    watch, reload = load(browser, served)  # the second load: from the browser's cache
    print(f"\nstatic site, cached reload: Python ready {reload:.1f} s after navigation")
    source = (f"import {{ startPython }} from '{served}static/python.mjs';\n"
              "const python = await startPython();\n"
              "try { postMessage(String(python.runPython(" + json.dumps(DEEP_CHAIN) + "))); }\n"
              "catch (e) { postMessage('failed: ' + e.message); }\n")
    browser.js("window.deep = null; (function () { var w = new Worker(URL.createObjectURL("
               f"new Blob([{json.dumps(source)}], {{type: 'text/javascript'}})), "
               "{type: 'module'}); w.onmessage = function (e) { window.deep = e.data; };"
               " w.onerror = function (e) { window.deep = 'failed: ' + e.message; }; })()")
    wait_until(lambda: watch.pump() and browser.js("window.deep !== null"), 300,
               "the worker to build and drop the chain")
    assert browser.js("window.deep") == (
        "dropped a chain of 1,000,000 after backward, d y / d x = 1.0")


def test_the_server_mode_works_on_a_bare_python_without_npm(tmp_path):
    """``python -m playground`` needs neither npm nor node: its page talks HTTP."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    server = subprocess.Popen([sys.executable, "-m", "playground", "--port", "0", "--no-browser"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[-1]
        with urllib.request.urlopen(url) as response:
            assert 'data-backend="http"' in response.read().decode()
        with urllib.request.urlopen(url + "static/backend.js") as response:
            assert "chainruleBackend" in response.read().decode()
        request = urllib.request.Request(url + "api/session", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read())["state"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


# ---- the test suite inside Pyodide ---------------------------------------------------------

NOT_IN_PYODIDE = {
    # whole files: what they test needs a process, a thread, a socket or a program
    "test_demo.py": "runs demo.py in subprocesses",
    "test_mutants.py": "runs pytest in subprocesses",
    "test_docs.py": "runs the course's pages in subprocesses",
    "test_notebooks.py": "runs a Jupyter kernel",
    "test_threads.py": "starts threads",
    "test_viz_draw.py": "renders with Graphviz's dot program",
    "test_viz_html.py": "renders with dot and drives Chromium",
    "test_static_site.py": "this file: builds and serves the site",
}
NOT_IN_PYODIDE_PREFIXES = {
    "test_bench_": "the benchmark runs its engines in subprocesses",
    "test_playground": "the server's tests open sockets and threads (its handlers run in "
                       "the static site's worker, tested above)",
}
def pyodide_test_files():
    """Every test file but those whose subject needs what Pyodide has not: new test files
    join by themselves. In the files that run, a test that fails only because Pyodide has
    no processes or threads is reported skipped, with that reason (tests/pyodide_pytest.mjs)."""
    return sorted(
        f"tests/{path.name}" for path in (ROOT / "tests").glob("test_*.py")
        if path.name not in NOT_IN_PYODIDE
        and not path.name.startswith(tuple(NOT_IN_PYODIDE_PREFIXES)))


def test_the_suite_runs_inside_pyodide_from_the_same_npm_package():
    """pytest under node, in the Pyodide the site ships: chainrule behaves there as here.
    Tests needing torch or scikit-learn skip themselves, as on any Python without them."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs): it runs Pyodide here")
    try:
        pyodide = build.node_modules() / "pyodide"
    except build.BuildError as e:
        pytest.skip(f"Pyodide cannot be installed from npm: {e}")
    run = subprocess.run(
        [node, "tests/pyodide_pytest.mjs", str(pyodide), str(Path(pytest.__file__).parent.parent),
         *pyodide_test_files(), "-p", "no:randomly"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    lines = run.stdout.strip().splitlines() or [run.stderr[-2000:]]
    print(f"\ninside Pyodide: {lines[-1]}")
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR", "Pyodide died"))]
    assert run.returncode == 0 and " passed" in lines[-1], "\n".join([*failures, lines[-1]])
