"""``python -m playground`` (and ``python demo.py --serve``): start the page, open a browser.

``python -m playground build DIR`` writes the static site instead (``playground.build``).

Prints one line, ``playground: http://127.0.0.1:8000/`` (the real port when ``--port 0``
lets the system pick one), then serves until Ctrl-C, which stops it cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import webbrowser
from collections.abc import Sequence

from playground.server import Playground

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def parse_args(argv: Sequence[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train a network live in the browser and see the chain rule at any neuron.")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (0: let the system pick a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; the page has no login, so anything but "
                             "this machine's own address lets others on the network use it")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    return args


def _can_open_a_browser() -> bool:
    """A graphical browser is likely: not on a Linux machine without a display, where
    Python's webbrowser would start a text browser inside this very terminal."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["build"]:  # python -m playground build DIR: the static site
        from playground.build import main as build
        return build(argv[1:], f"{prog or 'playground'} build")
    args = parse_args(argv, prog)
    try:
        server = Playground(args.host, args.port)
    except OSError as e:
        print(f"playground: cannot listen on {args.host}:{args.port}: {e.strerror or e}",
              file=sys.stderr)
        return 2  # bad input, like a bad option: the port is taken or the address not ours
    try:
        print(f"playground: {server.url}", flush=True)
        if args.host not in LOCAL_HOSTS:
            print(f"warning: listening on {args.host}: the page has no login, so anyone who "
                  "can reach this address can use it (and the CPU it trains on)",
                  file=sys.stderr, flush=True)
        if not args.no_browser and _can_open_a_browser():
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C: the way to stop it, so no traceback
        pass
    finally:
        server.server_close()
    return 0
