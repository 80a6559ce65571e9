"""A graphviz.Digraph that explains itself when Graphviz's ``dot`` program is missing.

Building a graph and reading ``.source`` never need ``dot``; rendering does. The pip
package ``graphviz`` does not install the program, so its absence is the most common
first failure. ``Graph`` turns it into an error that says how to install Graphviz, and in
a notebook shows the DOT text with that hint instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import graphviz

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so this graph cannot be rendered "
    "(building it and reading .source work without it). Install Graphviz itself, not only "
    "the pip package: apt-get install graphviz (Debian, Ubuntu), brew install graphviz "
    "(macOS), or conda install graphviz (conda)."
)


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` is not installed; the message says how to install it.

    A subclass of ``graphviz.ExecutableNotFound`` (itself a RuntimeError), so code that
    catches the package's own error catches this one too.
    """

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` with the install hint, an optional caption, and layout flags.

    ``caption`` is a sentence about what the picture shows (backward steps use it).
    ``neato_no_op`` is passed to ``render`` and ``pipe`` unless given: frames whose node
    positions are pinned set it to 2, so ``frame.render(...)`` keeps their layout.
    """

    def __init__(self, *args: Any, caption: str = "", neato_no_op: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.caption = caption
        self.neato_no_op = neato_no_op

    def _copy_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return super()._copy_kwargs(caption=self.caption, neato_no_op=self.neato_no_op,
                                    **kwargs)

    def render(self, filename: Any = None, *args: Any, **kwargs: Any) -> str:
        """``graphviz.Digraph.render``, raising ``GraphvizNotFound`` when ``dot`` is missing.

        A file name ending in an output format is taken as the picture to write:
        ``render("loss.svg")`` writes loss.svg (and its DOT text to loss.gv), where the
        plain package would write the DOT text to "loss.svg" and the picture beside it.
        ``render("loss")`` writes loss (DOT text) and loss.svg, SVG being the default format.
        """
        suffix = Path(filename).suffix.lstrip(".").lower() if filename is not None else ""
        if (suffix in graphviz.FORMATS - {"gv", "dot"} and not args
                and "outfile" not in kwargs and "format" not in kwargs):
            filename, kwargs["outfile"] = None, filename
        kwargs.setdefault("neato_no_op", self.neato_no_op)
        try:
            return super().render(filename, *args, **kwargs)
        except graphviz.ExecutableNotFound as missing:
            raise GraphvizNotFound() from missing

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """``graphviz.Digraph.pipe``, raising ``GraphvizNotFound`` when ``dot`` is missing."""
        kwargs.setdefault("neato_no_op", self.neato_no_op)
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as missing:
            raise GraphvizNotFound() from missing

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        """The picture in a notebook; without ``dot``, the DOT text and how to install it."""
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizNotFound:
            return {"text/plain": f"{self.source}\n{INSTALL_HINT}"}
