"""The playground: a page where a network trains live and every neuron shows its chain rule.

    python -m playground          # or: python demo.py --serve

Pick a data set and a network, press play, and watch the decision boundary form, as in
TensorFlow Playground; then click any neuron to see, for one training point, its forward
values and the backward chain rule (upstream x local = contribution) that gave the
gradient the optimizer used. The server is the standard library's ``http.server``; the
page is plain HTML, CSS and JavaScript served from ``static/`` (nothing from the network).

Read in this order: ``settings.py`` (every knob, checked), ``session.py`` (one page's data,
model and training, through ``nn.training``), ``views.py`` (what the page draws),
``chain_rule.py`` (one neuron's backward graph), ``sessions.py`` (many pages at once),
``api.py`` (the routes, without HTTP), ``server.py`` (HTTP and its safety checks),
``cli.py`` (the command).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Playground", "main"]


def __getattr__(name: str) -> Any:
    """``Playground`` and ``main``, imported on first use: the static site's worker runs
    ``api.py`` alone, and the server's standard-library modules (http.server, socket,
    webbrowser) cost it a second of start-up in the browser."""
    if name == "Playground":
        from playground.server import Playground
        return Playground
    if name == "main":
        from playground.cli import main
        return main
    raise AttributeError(f"module 'playground' has no attribute {name!r}")
