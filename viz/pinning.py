"""Frames that do not move: one layout by ``dot``, and every frame pinned to it.

``backward_steps`` draws one picture per step. Laid out one by one, their nodes would jump
from frame to frame as the text on them grows, so the last frame (the one with the most
text) is laid out once by ``dot``, ``read_layout`` reads back where it put each node and
each cluster, and every frame is drawn with that ``Layout``: each node pinned at its point
(DOT's ``pos="x,y!"``), each cluster given its box (``bb``: ``neato -n2`` draws a cluster
only when told its box), and two invisible points at the corners of the drawing, so that
every frame has the same bounding box. ``neato -n2`` keeps the given positions and only
routes the edges.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from viz.graph import INSTALL_HINT, Graph, GraphvizNotFound

CORNERS = ("corner_low", "corner_high")
MARGIN = 12  # points around the laid-out drawing, room for edges routed differently
UNPINNED = "layout not pinned: Graphviz's dot was not found, nodes may move between frames"


@dataclass(frozen=True)
class Layout:
    """Where each node ("x,y" in points) and each cluster (its box) of a picture sits."""

    places: Mapping[str, str]

    def pin(self, name: str, attrs: dict[str, str]) -> dict[str, str]:
        """A node's attributes, with its place (when the layout has one) added."""
        position = self.places.get(name)
        return {**attrs, "pos": f"{position}!"} if position else attrs

    def cluster_box(self, name: str) -> dict[str, str]:
        """``bb`` for the cluster ``name`` (``cluster_0``, ...) when the layout has it."""
        box = self.places.get(name)
        return {"bb": box} if box else {}

    def corner_points(self) -> list[tuple[str, dict[str, str]]]:
        """The invisible points that hold the drawing's corners, each with its attributes."""
        return [(corner, {"pos": f"{self.places[corner]}!", "style": "invis",
                          "shape": "point", "width": "0", "height": "0"})
                for corner in CORNERS if corner in self.places]


def read_layout(graph: Graph) -> Layout | None:
    """Where ``dot`` puts each node and each cluster of ``graph``, and its drawing's corners.

    None, with a warning, when ``dot`` is not installed.
    """
    try:
        laid_out = json.loads(graph.pipe(format="json", encoding="utf-8"))
    except GraphvizNotFound:
        warnings.warn(f"backward_steps: {UNPINNED}. {INSTALL_HINT}", stacklevel=3)
        return None
    places = {}
    for obj in laid_out.get("objects", []):
        if "pos" in obj:
            places[obj["name"]] = obj["pos"]
        elif obj["name"].startswith("cluster_") and "bb" in obj:
            places[obj["name"]] = obj["bb"]
    # The drawing's box is dot's bounding box without the title above it (lheight inches),
    # widened by a margin for edges that neato routes a little differently.
    x0, y0, x1, y1 = (float(c) for c in laid_out["bb"].split(","))
    top = y1 - 72 * float(laid_out.get("lheight", 0))
    places[CORNERS[0]] = f"{x0 - MARGIN:g},{y0 - MARGIN:g}"
    places[CORNERS[1]] = f"{x1 + MARGIN:g},{top + MARGIN:g}"
    return Layout(places)
