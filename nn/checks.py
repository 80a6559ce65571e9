"""Argument checks that nn's constructors and functions share, each with the error a user
should see: the argument's name, what it must be, and what it was."""

from __future__ import annotations


def count(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``: TypeError for a non-int (bool too), ValueError if
    too small. ``count("nin", 0)`` raises "nin must be at least 1, got nin=0"."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {name}={value}")
    return value
