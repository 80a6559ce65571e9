"""Which box each node is drawn in: the groups a picture is asked for, made whole.

A picture draws a group of Values (a neuron, a layer) as one box around their nodes.
``clusters=`` and the names of a model's parameters give some Values a group
(``Options.cluster_of``); everything computed between two members of a group joins it
too, so that a neuron's box holds its products and sums, not only its weights and output.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine import Value
from viz.style import Options
from viz.trace import Trace


def cluster_of_each_value(graph_trace: Trace, options: Options) -> dict[Value, str | None]:
    """The cluster of every Value: the one ``options.clusters`` gives it, else the one it
    lies inside of.

    A Value the clusters leave out joins group G when it lies on a path from a member of
    G to another member of G (everything computed between a neuron's weights and its
    labelled output is part of that neuron), and no other group claims it. This keeps
    boxes whole: a box with holes makes Graphviz's layout route edges in and out of it.
    """
    given = {value: options.cluster_of(value) for value in graph_trace.values}
    if not any(given.values()):
        return given
    users: dict[Value, list[Value]] = {}
    for edge in graph_trace.edges:
        users.setdefault(edge.parent, []).append(edge.child)
    from_above: dict[Value, set[str]] = {}   # groups with a member upstream of the node
    for value in graph_trace.values:         # creation order: operands before results
        from_above[value] = set().union(
            *(_groups_at_or_beyond(p, given, from_above) for p in value.parents))
    from_below: dict[Value, set[str]] = {}   # groups with a member downstream of it
    for value in reversed(graph_trace.values):
        from_below[value] = set().union(
            *(_groups_at_or_beyond(u, given, from_below) for u in users.get(value, ())))
    group_of = dict(given)
    for value, group in given.items():
        between = from_above[value] & from_below[value]
        if group is None and len(between) == 1:
            group_of[value] = between.pop()
    return group_of


def _groups_at_or_beyond(value: Value, given: Mapping[Value, str | None],
                         beyond: Mapping[Value, set[str]]) -> set[str]:
    """The groups with a member beyond ``value`` (``beyond[value]``), and its own group."""
    group = given[value]
    return beyond[value] | {group} if group else beyond[value]
