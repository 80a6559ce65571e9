"""``python -m bench.static_site``: the static site's load time, size and training rates.

Builds the site (``python -m playground build``, into a temporary folder unless ``--site``
names a built one), serves it from 127.0.0.1 with the standard library's file server, and
drives it in headless Chromium (``tests/chromium.py``), a fresh profile each run:

- one epoch of the set-up below in Pyodide under node and in this CPython, back to back
  (``bench/playground_epoch.py``): what the engine costs in WebAssembly, load aside;
- cold load: seconds from navigation to Python ready with chainrule imported, bytes over
  the wire and requests (the page's and its worker's), with an empty browser cache;
- cached reload: the same, the page loaded a second and a third time in the same browser
  (from its cache; V8 keeps the compiled WebAssembly after a load);
- one tab training TensorFlow Playground's set-up (spiral, 250 points, 2-8-8-1 tanh, plain
  SGD, lr 0.03, batch 10):
  epochs/s and redraws/s of the decision boundary, over ``--seconds`` after a warm-up;
- ``--tabs`` tabs training it at once (no shared server: each has its own worker), the
  epochs/s of each.

Prints one table; needs npm (for the build) and Chromium.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.playground_epoch import ms_per_epoch
from playground import build

BENCH = Path(__file__).resolve().parent
from tests.chromium import CHROMIUM, Chromium
from tests.static_site import Watch, open_static, serving, wait_until

PARITY = ("dataset=spiral&points=250&hidden=8,8&activation=tanh&optimizer=sgd&lr=0.03"
          "&batch_size=10")
COUNTERS = ("[Number(document.getElementById('epoch').textContent), "
            "Number(document.getElementById('boundary').getAttribute('data-frames') || 0)]")


def epoch_times() -> str:
    """An epoch in Pyodide under node and in this CPython, back to back."""
    cpython = ms_per_epoch(PARITY)
    code = f"from bench.playground_epoch import ms_per_epoch\nms_per_epoch({PARITY!r})"
    node = subprocess.run(["node", str(BENCH / "pyodide.mjs"),
                           str(build.node_modules() / "pyodide"), code], cwd=BENCH.parent,
                          capture_output=True, text=True, check=False, timeout=600)
    if node.returncode != 0:
        return f"one epoch: {cpython:.0f} ms in CPython; Pyodide under node failed"
    pyodide = float(node.stdout.strip().splitlines()[-1])
    return (f"one epoch of the set-up (Session.train): {pyodide:.0f} ms in Pyodide under node, "
            f"{cpython:.0f} ms in CPython {sys.version.split()[0]} ({pyodide / cpython:.1f}x)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.static_site", description=__doc__
                                     .split("\n\n")[0], formatter_class=argparse
                                     .ArgumentDefaultsHelpFormatter)
    parser.add_argument("--site", type=Path, help="a site built already (else: build one)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate")
    parser.add_argument("--warm-up", type=float, default=3.0, help="seconds before a rate")
    parser.add_argument("--tabs", type=int, default=4, help="tabs training at once")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warm_up < 0 or args.tabs < 1:
        parser.error("--seconds must be > 0, --warm-up >= 0 and --tabs >= 1")
    return args


def steps(browser: Chromium) -> str:
    """When, from the worker's start, Pyodide was up and chainrule unpacked and imported."""
    times = browser.js("window.chainruleBackend.loadTimes")
    return (f"worker: Pyodide up at {times['runtime'] / 1000:.1f} s, chainrule unpacked "
            f"{times['unpacked'] / 1000:.1f} s, imported {times['imported'] / 1000:.1f} s")


def new_tab(browser: Chromium) -> str:
    """A new tab, made the browser's current one (``browser.js`` talks to it); its session."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    browser.session = browser.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Network"):
        browser.send(f"{domain}.enable")
    return browser.session


def rates(browser: Chromium, sessions: list[str], watches: list[Watch],
          seconds: float) -> list[tuple[float, float]]:
    """(epochs/s, redraws/s) of each tab over ``seconds``."""
    def read() -> list[list[float]]:
        counts = []
        for session, watch in zip(sessions, watches):
            browser.session = session
            watch.pump()
            counts.append(browser.js(COUNTERS))
        return counts

    before, clock = read(), time.monotonic()
    time.sleep(seconds)
    after, elapsed = read(), time.monotonic() - clock
    return [((b[0] - a[0]) / elapsed, (b[1] - a[1]) / elapsed) for a, b in zip(before, after)]


def measure(site: Path, args: argparse.Namespace, profile: str) -> list[str]:
    lines = []
    browser = Chromium(profile)
    try:
        with serving(site) as address:
            page = browser.session
            watch = Watch(browser)
            cold = open_static(browser, address, watch)
            lines.append(f"cold load: Python ready with chainrule {cold:.1f} s after navigation "
                         f"({steps(browser)}); {watch.bytes_received() / 1e6:.1f} MB in "
                         f"{len(watch.urls())} requests")
            for count in ("second", "third"):  # V8 caches the compiled wasm after a load
                browser.send("Page.navigate", {"url": "about:blank"})
                time.sleep(0.5)
                watch.pump()
                watch.forget()
                cached = open_static(browser, address, watch)
                lines.append(f"cached reload ({count} load): {cached:.1f} s ({steps(browser)}); "
                             f"{watch.bytes_received() / 1e6:.2f} MB in {len(watch.urls())} "
                             "requests")
            open_static(browser, f"{address}?{PARITY}&autoplay=1", watch)
            time.sleep(args.warm_up)
            (epochs, redraws), = rates(browser, [page], [watch], args.seconds)
            lines.append(f"one tab, parity set-up: {epochs:.1f} epochs/s, {redraws:.1f} "
                         "redraws/s")

            sessions, watches = [page], [watch]
            for _ in range(args.tabs - 1):
                sessions.append(new_tab(browser))
                watches.append(Watch(browser))
            for session, tab_watch in zip(sessions, watches):
                browser.session = session
                browser.send("Page.navigate", {"url": f"{address}?{PARITY}&autoplay=1"})
            for session, tab_watch in zip(sessions, watches):
                browser.session = session
                wait_until(lambda w=tab_watch: w.pump() and browser.js(
                    "Boolean(window.chainruleBackend && window.chainruleBackend.loadedIn)"),
                    120, "every tab ready")
            time.sleep(args.warm_up)
            each = rates(browser, sessions, watches, args.seconds)
            shown = ", ".join(f"{e:.1f}" for e, _ in each)
            lines.append(f"{args.tabs} tabs at once: epochs/s of each {shown}; redraws/s of "
                         "each " + ", ".join(f"{r:.1f}" for _, r in each))
            browser.session = page
    finally:
        browser.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if CHROMIUM is None:
        print("python -m bench.static_site: Chromium is not installed (apt-get install "
              "chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        site = args.site
        if site is None:
            site = Path(scratch) / "site"
            try:
                build.build(site)
            except build.BuildError as e:
                print(f"python -m bench.static_site: {e}", file=sys.stderr)
                return 2
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip() or "unknown"
        load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
        now = datetime.datetime.now(datetime.UTC)
        print(f"static site benchmark, {now:%Y-%m-%d %H:%M} UTC, commit {commit}; "
              f"{load.strip()}")
        print(epoch_times(), flush=True)
        for line in measure(site, args, str(Path(scratch) / "profile")):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
