"""The time of one epoch of the playground's own training step, in any Python.

``ms_per_epoch`` runs in CPython and, through ``bench/pyodide.mjs``, in Pyodide under node
(``python -m bench.static_site`` runs both back to back), so the two engines' cost per epoch
is compared on the same code: ``Session.train``, what the page's train request calls.
"""

from __future__ import annotations

import statistics
import time
from urllib.parse import parse_qsl

from playground.session import Session
from playground.settings import parse_settings


def ms_per_epoch(query: str, runs: int = 5, epochs: int = 5) -> float:
    """Median milliseconds per epoch over ``runs`` runs of ``epochs`` epochs, after two
    warm-up epochs, of the session the page's address ``query`` sets up."""
    session = Session(parse_settings(dict(parse_qsl(query))))
    session.train(2, 60.0)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.train(epochs, 600.0)
        times.append((time.perf_counter() - started) / epochs * 1000)
    return statistics.median(times)
