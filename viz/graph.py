"""A DOT graph that viz writes itself, and renders through Graphviz when it is installed.

DOT is a small text format: ``digraph { a -> b }``. Writing it needs nothing but Python,
so every picture's ``.source`` works on a bare machine (the demo writes its ``.dot`` files
there too). Turning DOT into SVG or PNG needs Graphviz's ``dot`` program, run through the
``graphviz`` package (``pip install graphviz``); neither is installed by the other, so
their absence is the most common first failure. ``Graph`` turns it into an error that says
how to install them, and in a notebook shows the DOT text with that hint instead.

The text is written exactly as the ``graphviz`` package writes it (same quoting, same
attribute order), so a ``Graph`` and a ``graphviz.Digraph`` built the same way have the
same ``.source``; the tests check that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import graphviz
except ImportError:  # DOT text still works; rendering says what to install
    graphviz = None

INSTALL_HINT = (
    "Graphviz's `dot` program was not found, so this graph cannot be rendered "
    "(building it and reading .source work without it). Install Graphviz itself and the "
    "Python package that runs it: apt-get install graphviz (Debian, Ubuntu), brew install "
    "graphviz (macOS) or conda install graphviz (conda); then pip install graphviz."
)
RENDER_FORMATS = {"svg", "png", "pdf", "jpg", "jpeg", "gif", "json", "plain", "ps", "eps"}

_NotFoundBase: type[Exception] = graphviz.ExecutableNotFound if graphviz else RuntimeError


class GraphvizNotFound(_NotFoundBase):  # type: ignore[valid-type, misc]
    """Graphviz (the ``dot`` program or its Python package) is missing; says how to install it.

    A subclass of ``graphviz.ExecutableNotFound`` (itself a RuntimeError) when the package
    is installed, so code that catches the package's own error catches this one too.
    """

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


# ---- DOT text ---------------------------------------------------------------------------------

_HTML = re.compile(r"<.*>$", re.DOTALL)
_PLAIN_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
# A quote, after any pairs of backslashes, with or without its own backslash: becomes \"
_QUOTE = re.compile(r'(?P<pairs>(?:\\{2})*)\\?"')


def quote(text: str) -> str:
    """``text`` as a DOT identifier: bare when it is a plain name or number, as is when it is
    an HTML-like label ``<...>``, else in double quotes with its quotes escaped."""
    if _HTML.match(text):
        return text
    if _PLAIN_ID.match(text) and text.lower() not in _KEYWORDS:
        return text
    return '"' + _QUOTE.sub(r'\g<pairs>\\"', text) + '"'


def _attributes(label: str | None, attrs: dict[str, Any]) -> str:
    """``label=... k=v ...``: the label first, the rest sorted by name (None values left out)."""
    pairs = [] if label is None else [f"label={quote(label)}"]
    pairs += [f"{key}={quote(str(value))}" for key, value in sorted(attrs.items())
              if value is not None]
    return " ".join(pairs)


class Graph:
    """A directed graph as DOT text, built with ``node``, ``edge``, ``attr`` and ``subgraph``.

    ``source`` is the DOT text. ``render``, ``pipe`` and notebook display run Graphviz
    (``engine``: "dot", or "neato" for pinned layouts with ``neato_no_op=2``).
    ``caption`` is a sentence about what the picture shows (backward steps use it).
    """

    def __init__(self, *, format: str = "svg", engine: str = "dot",
                 graph_attr: dict[str, Any] | None = None,
                 node_attr: dict[str, Any] | None = None,
                 edge_attr: dict[str, Any] | None = None,
                 caption: str = "", neato_no_op: int | None = None) -> None:
        self.format = format
        self.engine = engine
        self.caption = caption
        self.neato_no_op = neato_no_op
        self.comment = ""  # a note written as a // line above the graph
        self.body: list[str] = []
        for kind, attrs in (("graph", graph_attr), ("node", node_attr), ("edge", edge_attr)):
            if attrs:
                self.body.append(f"\t{kind} [{_attributes(None, attrs)}]")

    def node(self, name: str, label: str | None = None, **attrs: Any) -> None:
        """Add node ``name`` (drawn with ``label``, default its name)."""
        self.body.append(f"\t{quote(name)} [{_attributes(label, attrs)}]" if label is not None
                         or attrs else f"\t{quote(name)}")

    def edge(self, tail: str, head: str, label: str | None = None, **attrs: Any) -> None:
        """Add an edge from ``tail`` to ``head``."""
        listed = _attributes(label, attrs)
        self.body.append(f"\t{quote(tail)} -> {quote(head)}" + (f" [{listed}]" if listed else ""))

    def attr(self, **attrs: Any) -> None:
        """Set attributes of the graph itself (or of a subgraph, inside ``subgraph``)."""
        self.body.append(f"\t{_attributes(None, attrs)}")

    @contextmanager
    def subgraph(self, name: str) -> Iterator[Graph]:
        """``with graph.subgraph(name="cluster_0") as box:`` adds to ``box``, nested in this graph.

        A name starting with ``cluster`` is drawn as a box around its nodes.
        """
        inner = Graph()
        yield inner
        self.body.append(f"\tsubgraph {quote(name)} {{")
        self.body += ["\t" + line for line in inner.body]
        self.body.append("\t}")

    @property
    def source(self) -> str:
        """The DOT text of the graph."""
        comment = f"// {self.comment}\n" if self.comment else ""
        return comment + "digraph {\n" + "".join(line + "\n" for line in self.body) + "}\n"

    def __str__(self) -> str:
        return self.source

    # ---- rendering, through Graphviz ------------------------------------------------------

    def _runner(self) -> Any:
        if graphviz is None:
            raise GraphvizNotFound()
        return graphviz.Source(self.source, engine=self.engine)

    def pipe(self, format: str | None = None, encoding: str | None = None) -> Any:
        """The picture as bytes (or text with ``encoding``), in ``format`` (default svg)."""
        try:
            return self._runner().pipe(format=format or self.format, encoding=encoding,
                                       neato_no_op=self.neato_no_op)
        except _NotFoundBase as missing:
            raise GraphvizNotFound() from missing

    def render(self, filename: str | Path, format: str | None = None,
               cleanup: bool = False) -> str:
        """Write the picture and return its path.

        ``render("loss.svg")`` writes loss.svg (and its DOT text to loss.gv);
        ``render("loss")`` writes the DOT text to loss and the picture to loss.svg
        (``format`` chooses another picture format).
        """
        filename = str(filename)
        suffix = Path(filename).suffix.lstrip(".").lower()
        try:
            runner = self._runner()
            if suffix in RENDER_FORMATS and format is None:
                return runner.render(outfile=filename, cleanup=cleanup,
                                     neato_no_op=self.neato_no_op)
            return runner.render(filename, format=format or self.format, cleanup=cleanup,
                                 neato_no_op=self.neato_no_op)
        except _NotFoundBase as missing:
            raise GraphvizNotFound() from missing

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        """The picture in a notebook; without Graphviz, the DOT text and how to install it."""
        try:
            return {"image/svg+xml": self.pipe(format="svg", encoding="utf-8")}
        except GraphvizNotFound:
            return {"text/plain": f"{self.source}\n{INSTALL_HINT}"}
