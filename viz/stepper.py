"""``Steps``: the frames of a backward pass, pictures that a notebook shows as a stepper.

``backward_steps(y)`` returns one. It is a sequence of ``Graph`` frames (``steps[2]``,
``len(steps)``, ``for frame in steps``), and in Jupyter (JupyterLab, classic Notebook,
VS Code) it displays as the interactive stepper of ``viz.html``: previous / play / next
buttons and the arrow keys, inside the notebook, nothing fetched. Renderers that run no
script (GitHub, nbconvert to Markdown) pick the other parts of its display: the last
frame as SVG, or a line of text ("backward of y in 4 steps").
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

from viz import html
from viz.files import write_atomic
from viz.graph import INSTALL_HINT, Graph, GraphvizNotFound


def check_interval(interval_ms: Any) -> int:
    """``interval_ms`` if it is a positive int (milliseconds between frames when playing)."""
    if type(interval_ms) is not int or interval_ms < 1:
        raise ValueError(f"interval_ms must be a positive int, not {interval_ms!r}")
    return interval_ms


class Steps(Sequence[Graph]):
    """The frames of a backward pass: frame 0 the start, frame k the state after step k.

    ``name`` is what the output is called (its label, or its node name); ``interval_ms``
    the delay between frames when the stepper plays. The SVG of each frame is drawn once,
    when first needed, and reused by every display and save.
    """

    def __init__(self, frames: Sequence[Graph], name: str, interval_ms: int = 1200) -> None:
        self.frames = list(frames)
        self.name = name
        self.interval_ms = check_interval(interval_ms)
        self._svgs: list[str] | None = None

    @overload
    def __getitem__(self, index: int) -> Graph: ...

    @overload
    def __getitem__(self, index: slice) -> list[Graph]: ...

    def __getitem__(self, index: int | slice) -> Graph | list[Graph]:
        return self.frames[index]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def summary(self) -> str:
        """One line: ``backward of y in 4 steps`` (frames: that many, plus the start)."""
        steps = len(self.frames) - 1
        return f"backward of {self.name} in {steps} step{'' if steps == 1 else 's'}"

    def __repr__(self) -> str:
        return f"<Steps: {self.summary}, {len(self.frames)} frames>"

    def svgs(self) -> list[str]:
        """Every frame as inline SVG, all of one size (needs Graphviz's ``dot``)."""
        if self._svgs is None:
            if shutil.which("dot") is None:  # the frames are drawn by dot: say so at once
                raise GraphvizNotFound()
            self._svgs = html.frame_svgs(self.frames)
        return self._svgs

    def html(self) -> str:
        """The stepper as a piece of HTML for a notebook (a new id on every call)."""
        return html.fragment(self.frames, self.svgs(), self.interval_ms)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the stepper as a page of its own, to open offline in any browser.

        The file is replaced atomically: a failed save leaves any old file as it was.
        """
        page = html.page(self.frames, self.svgs(), self.name, self.interval_ms)
        return write_atomic(Path(path), page)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        """In a notebook: the stepper, the last frame as SVG, and a line of text.

        Without Graphviz, the line of text and how to install it.
        """
        try:
            svgs = self.svgs()
        except GraphvizNotFound:
            return {"text/plain": f"{self.summary}\n{INSTALL_HINT}"}
        return {"text/html": html.fragment(self.frames, svgs, self.interval_ms),
                "image/svg+xml": svgs[-1],
                "text/plain": self.summary}
