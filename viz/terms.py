"""The chain rule's arithmetic as text: what an edge, a gradient and a caption write.

Each edge of a backward picture carries one term of the chain rule,
``upstream × local = contribution``, and a Value used several times shows its gradient
as the sum of the contributions it received, ``grad 1 = 0.5 + 0.5``. A negative number
inside such a formula is put in parentheses, as on paper: ``0.5 × (-3) = -1.5``.
"""

from __future__ import annotations

from collections.abc import Sequence

from viz.flow import Message
from viz.style import Options


def chain_rule_term(message: Message, options: Options) -> str:
    """``upstream × local = contribution`` with the message's numbers: ``0.5 × (-3) = -1.5``."""
    number = options.number
    return (f"{number(message.upstream)} × {parenthesize_negative(number(message.local))} = "
            f"{number(message.contribution)}")


def sum_of_contributions(received: Sequence[Message], options: Options) -> str:
    """The contributions a Value received, added up in backward's order: ``0.5 + (-1)``."""
    return " + ".join(parenthesize_negative(options.number(m.contribution)) for m in received)


def parenthesize_negative(text: str) -> str:
    """A number's text in parentheses when it is negative, so that ``× -3`` reads ``× (-3)``."""
    return f"({text})" if text.startswith("-") else text
