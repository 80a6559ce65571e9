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

from nn import registry

MAX_POINTS = 500
MAX_LAYERS = 6
MAX_WIDTH = 16
MAX_TEXT = 64  # longest string accepted for any setting (before it is parsed)

FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
"""What the network may see of a point (x1, x2), as TensorFlow Playground offers them."""

REGULARIZATIONS = ("none", "l1", "l2")

LIVE = frozenset({"lr", "optimizer", "regularization", "regularization_rate", "batch_size"})
"""Settings that change a run without starting it over (the model and epoch stay)."""

DATASETS = {name: d for name, d in registry.DATASETS.items() if d.inputs <= 2}
"""The registry's data sets the page can draw: one input (a curve) or two (a plane)."""

CUSTOM = "custom"
"""The data set of a page's own points (painted or uploaded): ``Session.use_points``."""

OPTIMIZERS = registry.OPTIMIZERS
ACTIVATIONS = registry.ACTIVATIONS


class BadParameter(ValueError):
    """A setting or request field that is missing, of the wrong type or out of range."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run. The defaults learn two moons in a few seconds."""

    dataset: str = "moons"
    noise: float = 0.1
    points: int = 200
    train_fraction: float = 0.7
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    batch_size: int = 16
    regularization: str = "none"
    regularization_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.dataset != CUSTOM and DATASETS[self.dataset].inputs == 1:
            # A curve has x1 alone: the features of x2 do not exist there, and are dropped.
            kept = tuple(f for f in self.features if "x2" not in f)
            object.__setattr__(self, "features", kept or ("x1",))


    @property
    def l1(self) -> float:
        return self.regularization_rate if self.regularization == "l1" else 0.0

    @property
    def l2(self) -> float:
        return self.regularization_rate if self.regularization == "l2" else 0.0

    def to_json(self) -> dict[str, Any]:
        """The settings as the page and the URL spell them (``hidden`` as "8,8")."""
        out = asdict(self)
        out["hidden"] = ",".join(str(w) for w in self.hidden)
        out["features"] = ",".join(self.features)
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


def read_features(name: str, value: object) -> tuple[str, ...]:
    """Feature names: "x1,x1*x2" or ["x1", "x1*x2"]; at least one, each at most once."""
    if isinstance(value, list):
        parts = [_text(f"{name}[{i}]", p) for i, p in enumerate(value)]
    else:
        text = _text(name, value)
        parts = [p.strip() for p in text.split(",")] if text else []
    if not parts:
        raise BadParameter(name, "at least one feature is needed")
    for i, part in enumerate(parts):
        read_choice(f"{name}[{i}]", part, FEATURES)
    if len(set(parts)) != len(parts):
        raise BadParameter(name, "a feature is named twice")
    return tuple(f for f in FEATURES if f in parts)  # always in the page's order


# ---- reading all of them -------------------------------------------------------------------


READERS: dict[str, Callable[[str, object], Any]] = {
    "dataset": lambda n, v: read_choice(n, v, (*DATASETS, CUSTOM)),
    "noise": lambda n, v: read_float(n, v, 0.0, 1.0),
    "points": lambda n, v: read_int(n, v, 20, MAX_POINTS),
    "train_fraction": lambda n, v: read_float(n, v, 0.1, 0.9),
    "seed": lambda n, v: read_int(n, v, 0, 2**31 - 1),
    "hidden": read_widths,
    "activation": lambda n, v: read_choice(n, v, ACTIVATIONS),
    "optimizer": lambda n, v: read_choice(n, v, OPTIMIZERS),
    "lr": lambda n, v: read_float(n, v, 0.0, 10.0, open_low=True),
    "batch_size": lambda n, v: read_int(n, v, 1, MAX_POINTS),
    "regularization": lambda n, v: read_choice(n, v, REGULARIZATIONS),
    "regularization_rate": lambda n, v: read_float(n, v, 0.0, 1.0),
    "features": read_features,
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
    if "noise" not in values and values.get("dataset", CUSTOM) != CUSTOM:
        values["noise"] = DATASETS[values["dataset"]].noise
    return Settings(**values)
