"""The playground's settings: every knob on the page, checked before anything uses it.

A request is hostile until proven otherwise, so each setting has a type and a range, and
anything else is refused with ``BadParameter`` naming the setting (the server turns it
into a 400 answer the page shows beside that control). The ranges also bound the work one
request can ask for: at most 500 points and 6 hidden layers of 16 neurons, so that one
epoch of the largest network on the most points, one row per batch, takes about a second.

Settings arrive as JSON values or as the strings of a URL (``?hidden=8,8&lr=0.03``); both
are read by the same functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from nn import data
from nn.activations import ACTIVATIONS

MAX_POINTS = 500
MAX_LAYERS = 6
MAX_WIDTH = 16
MAX_TEXT = 64  # longest string accepted for any setting (before it is parsed)

OPTIMIZERS = ("sgd", "momentum", "adam", "radam")


class BadParameter(ValueError):
    """A setting or request field that is missing, of the wrong type or out of range."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class DataSet:
    """How to make one data set: ``make(n, noise, seed) -> (X, y)``, and what it is."""

    make: Callable[[int, float, int], tuple[list, list]]
    noise: float  # the default noise
    task: str  # "classification" or "regression"


def _classification_sets() -> dict[str, DataSet]:
    return {
        "moons": DataSet(lambda n, noise, seed: data.make_moons(n, noise, seed), 0.1,
                         "classification"),
        "circles": DataSet(lambda n, noise, seed: data.make_circles(n, noise, 0.5, seed), 0.1,
                           "classification"),
        # Blobs have no noise of their own: here it widens each blob, std = 1 + 4 noise.
        "blobs": DataSet(lambda n, noise, seed: data.make_blobs(n, 3, 1.0 + 4 * noise, seed),
                         0.1, "classification"),
        "spiral": DataSet(lambda n, noise, seed: data.make_spiral(n, 3, noise, seed), 0.2,
                          "classification"),
        "xor": DataSet(lambda n, noise, seed: data.make_xor(n, noise, seed), 0.1,
                       "classification"),
    }


def _regression_sets() -> dict[str, DataSet]:
    """The 1-D regression sets, when ``nn.data`` has them."""
    sets = {}
    if hasattr(data, "make_sine"):
        sets["sine"] = DataSet(lambda n, noise, seed: data.make_sine(n, noise=noise, seed=seed),
                               0.1, "regression")
    if hasattr(data, "make_linear"):
        def linear(n: int, noise: float, seed: int) -> tuple[list, list]:
            X, y, _, _ = data.make_linear(n, 1, noise=noise, seed=seed)
            return X, y

        sets["linear"] = DataSet(linear, 0.1, "regression")
    return sets


DATASETS: dict[str, DataSet] = {**_classification_sets(), **_regression_sets()}


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run. The defaults learn two moons in a few seconds."""

    dataset: str = "moons"
    noise: float = 0.1
    points: int = 200
    train_fraction: float = 0.7
    seed: int = 0
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    batch_size: int = 16
    l2: float = 0.0

    @property
    def task(self) -> str:
        return DATASETS[self.dataset].task

    def to_json(self) -> dict[str, Any]:
        """The settings as the page and the URL spell them (``hidden`` as "8,8")."""
        out = asdict(self)
        out["hidden"] = ",".join(str(w) for w in self.hidden)
        return out


# ---- reading one value ---------------------------------------------------------------------


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise BadParameter(name, f"expected a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise BadParameter(name, f"longer than {MAX_TEXT} characters")
    return value.strip()


def read_int(name: str, value: object, low: int, high: int) -> int:
    """An int in [low, high], from a JSON number or a string of digits."""
    if isinstance(value, str):
        text = _text(name, value)
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
            raise BadParameter(name, f"expected an integer, got {text!r}")
        value = int(text)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadParameter(name, f"expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise BadParameter(name, f"must be between {low} and {high}, got {value}")
    return value


def read_float(name: str, value: object, low: float, high: float, *,
               open_low: bool = False) -> float:
    """A finite float in [low, high] (or (low, high] with ``open_low``)."""
    if isinstance(value, str):
        text = _text(name, value)
        try:
            value = float(text)
        except ValueError:
            raise BadParameter(name, f"expected a number, got {text!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadParameter(name, f"expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise BadParameter(name, f"must be a finite number, got {value}")
    too_low = value <= low if open_low else value < low
    if too_low or value > high:
        bracket = "(" if open_low else "["
        raise BadParameter(name, f"must be in {bracket}{low}, {high}], got {value}")
    return value


def read_choice(name: str, value: object, choices: Mapping[str, Any] | tuple[str, ...]) -> str:
    text = _text(name, value)
    if text not in choices:
        raise BadParameter(name, f"must be one of {', '.join(choices)}; got {text!r}")
    return text


def read_widths(name: str, value: object) -> tuple[int, ...]:
    """Hidden widths: "8,8" or [8, 8]; "" or [] for none (a linear model)."""
    if isinstance(value, list):
        parts: list[object] = list(value)
    else:
        text = _text(name, value)
        parts = [p.strip() for p in text.split(",")] if text else []
    if len(parts) > MAX_LAYERS:
        raise BadParameter(name, f"at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    return tuple(read_int(f"{name}[{i}]", p, 1, MAX_WIDTH) for i, p in enumerate(parts))


# ---- reading all of them -------------------------------------------------------------------


READERS: dict[str, Callable[[str, object], Any]] = {
    "dataset": lambda n, v: read_choice(n, v, DATASETS),
    "noise": lambda n, v: read_float(n, v, 0.0, 1.0),
    "points": lambda n, v: read_int(n, v, 20, MAX_POINTS),
    "train_fraction": lambda n, v: read_float(n, v, 0.1, 0.9),
    "seed": lambda n, v: read_int(n, v, 0, 2**31 - 1),
    "hidden": read_widths,
    "activation": lambda n, v: read_choice(n, v, ACTIVATIONS),
    "optimizer": lambda n, v: read_choice(n, v, OPTIMIZERS),
    "lr": lambda n, v: read_float(n, v, 0.0, 10.0, open_low=True),
    "batch_size": lambda n, v: read_int(n, v, 1, MAX_POINTS),
    "l2": lambda n, v: read_float(n, v, 0.0, 1.0),
}


def parse_settings(given: object) -> Settings:
    """Settings from a JSON object (or URL query) of the fields to change from the defaults.

    Unknown fields are refused (a typo should not be silently ignored). A data set's own
    default noise applies when ``noise`` is not given.
    """
    if not isinstance(given, Mapping):
        raise BadParameter("settings", f"expected an object, got {type(given).__name__}")
    for key in given:
        if key not in READERS:
            shown = key if isinstance(key, str) and len(key) <= MAX_TEXT else "(a long name)"
            raise BadParameter(str(shown), "unknown setting; known: " + ", ".join(READERS))
    values = {key: READERS[key](key, value) for key, value in given.items()}
    if "noise" not in values and "dataset" in values:
        values["noise"] = DATASETS[values["dataset"]].noise
    return Settings(**values)
