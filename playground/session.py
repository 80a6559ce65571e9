"""One visitor's run: the data, the model, its optimizer, and the history of its training.

A ``Session`` is built from ``Settings``: it generates the data set, splits it into a
training and a test part, standardizes the inputs with the training part's statistics,
and makes the model (an MLP, 1 or 2 inputs, one output per class or a single score) and
its optimizer. ``train`` runs whole epochs of the training loop that ``demo.py`` runs too
(``nn.training.train_epoch``), and after each epoch measures the loss on the test part.

Every method takes the session's lock: a page may ask for a picture of a neuron while
its previous request is still training, and the two must not interleave. A new model's
compiled training step is built once the request that made it has been answered
(``prepare``), so that pressing play does not wait for it.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

from engine import no_grad
from nn import MLP, Linear, data, registry
from nn.compiled import COMPILED_LOSSES, step_for
from nn.training import divergence, evaluate, measure, scores, train_epoch
from playground import views
from playground.settings import (
    CUSTOM,
    DATASETS,
    LIVE,
    MAX_POINTS,
    BadParameter,
    Settings,
)

MAX_EPOCHS = 20_000
"""Epochs a session trains at most; past them ``train`` does nothing (press reset)."""

FEATURES = {
    "x1": lambda x1, x2: x1, "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1, "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: math.sin(x1), "sin(x2)": lambda x1, x2: math.sin(x2),
}
"""Each input feature from a point (x1, x2) of the plane (x2 = 0 on a curve). The page
computes the very same expressions (playground.js ``FEATURES``)."""


def features_of(names: Sequence[str], rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """The model's inputs for points of the plane (or of the x axis): the named features."""
    functions = [FEATURES[name] for name in names]
    return [[f(row[0], row[1] if len(row) > 1 else 0.0) for f in functions] for row in rows]


def split(X: list, y: list, train_fraction: float, seed: int) -> tuple[list, list, list, list]:
    """Rows shuffled by ``seed``, then the first ``train_fraction`` of them for training
    (at least two rows in each part: the test metrics need two)."""
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    cut = min(len(X) - 2, max(2, round(len(X) * train_fraction)))  # two in each at least
    train, test = order[:cut], order[cut:]
    return ([X[i] for i in train], [y[i] for i in train],
            [X[i] for i in test], [y[i] for i in test])


class Session:
    """The state of one page: see the module's docstring."""

    def __init__(self, settings: Settings) -> None:
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.unbuilt: tuple | None = None  # the compiled step to build: see prepare
        # The page's own points (on the plane) and their number of classes (0: targets).
        self.custom: tuple[list[list[float]], list, int] | None = None
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        """Start over with ``settings``: new data, a new model, epoch 0."""
        with self.lock:
            if settings.dataset == CUSTOM:
                if self.custom is None:
                    raise BadParameter("dataset", "no points of your own yet: paint or "
                                       "upload some first")
                X, y, self.classes = self.custom
                plane = (X, y)  # already on the plane: not standardized again
            else:
                made = DATASETS[settings.dataset]
                X, y = made.make(settings.points, settings.noise, settings.seed)
                self.classes = made.classes
                plane = None
            self.settings = settings
            self.task = "regression" if self.classes == 0 else "classification"
            X_train, y_train, X_test, y_test = split(X, y, settings.train_fraction,
                                                      settings.seed)
            if plane is None:  # the plane: standardized points, as the page draws them
                scaler = data.Standardizer().fit(X_train)
                X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            self.plane_train, self.plane_test = X_train, X_test
            # The model sees the features of each point.
            self.X_train = features_of(settings.features, self.plane_train)
            self.X_test = features_of(settings.features, self.plane_test)
            self.y_train, self.y_test = y_train, y_test
            outputs = self.classes if self.classes > 2 else 1
            self.model = MLP(len(settings.features), [*settings.hidden, outputs],
                             activation=settings.activation, seed=settings.seed)
            self.optimizer = registry.optimizer(settings.optimizer, self.model.parameters(),
                                                settings.lr)
            self.loss = registry.loss_for(self.classes)
            self.epoch = 0
            self.history: list[tuple[int, float, float]] = []  # (epoch, train, test loss)
            self.test_scores: dict[str, Any] = {}
            self.diverged: str | None = None  # why training stopped for good, if it did
            # The plane the page shows: a square around every point, with a margin.
            reach = max(abs(v) for row in self.plane_train + self.plane_test for v in row)
            self.extent = math.ceil((reach + 0.25) * 2) / 2
        self.prepare()

    def prepare(self) -> None:
        """Note that this model's compiled training step is to be built (15-30 ms the first
        time a shape is seen; then cached by shape) once the request that made the model
        has been answered: ``build_step``, which the server (and the static site's
        worker) call after sending an answer. The first training request then finds it
        built; one that comes sooner builds it itself, as before."""
        if self.loss in COMPILED_LOSSES:
            s = self.settings
            self.unbuilt = (self.model, self.loss, s.l2, len(self.X_train[0]), s.l1)

    def build_step(self) -> None:
        """Build the step ``prepare`` noted, if any. It reads the model's shape, not its
        numbers, so it takes no lock but ``nn.compiled``'s own (one build of a shape at a
        time): a training request that comes meanwhile is answered, or waits for it."""
        asked, self.unbuilt = self.unbuilt, None
        if asked is not None:
            step_for(*asked)

    def use_points(self, rows: list[list[float]], targets: list, classes: int,
                   settings: Settings) -> None:
        """Start over on the page's own points: ``rows`` on the plane (x1, x2), with class
        labels 0 .. classes - 1, or real targets when ``classes`` is 0."""
        if not 4 <= len(rows) <= MAX_POINTS:
            raise BadParameter("points", f"between 4 and {MAX_POINTS} points, got {len(rows)}")
        if classes and len(set(targets)) < 2:
            raise BadParameter("points", "points of at least two classes are needed")
        self.custom = (rows, targets, max(classes, 2) if classes else 0)
        self.configure(settings)

    def adjust(self, settings: Settings) -> bool:
        """Take ``settings`` while training goes on, when they differ from the current ones
        in ``LIVE`` settings alone (learning rate, optimizer, regularization, batch size):
        the model and the epoch stay. A new optimizer starts with fresh moments; a new
        learning rate keeps them. Returns False (changing nothing) for any other change."""
        with self.lock:
            old, new = self.settings.to_json(), settings.to_json()
            if any(old[k] != new[k] for k in old if k not in LIVE):
                return False
            if settings.optimizer != self.settings.optimizer:
                self.optimizer = registry.optimizer(settings.optimizer,
                                                    self.model.parameters(), settings.lr)
            else:
                registry.set_learning_rate(self.optimizer, settings.lr)
            self.settings = settings
        self.prepare()  # a new penalty is another step
        return True

    def train(self, epochs: int, seconds: float) -> int:
        """Up to ``epochs`` epochs, stopping once ``seconds`` have passed; returns how many.

        At least one epoch runs (unless ``MAX_EPOCHS`` is reached or training has diverged):
        a time budget smaller than an epoch still moves the model. Training takes compiled
        steps (``nn.compiled``: the numbers of eager training, bit for bit, several times
        faster), and the test part is measured after each epoch through the compiled forward
        alone (the numbers of ``evaluate``); its metrics, once, after the last epoch. A model
        that diverges (``nn.training.divergence``) stops there, its metrics nan, and says why
        in ``diverged`` until it is configured again.
        """
        with self.lock:
            started = time.perf_counter()
            done = 0
            compile = self.loss in COMPILED_LOSSES  # every loss the playground uses
            while done < epochs and self.epoch < MAX_EPOCHS and self.diverged is None:
                s = self.settings
                self.epoch += 1
                train_loss = train_epoch(self.model, self.optimizer, self.X_train,
                                         self.y_train, self.loss, batch_size=s.batch_size,
                                         seed=s.seed + self.epoch, l2=s.l2, l1=s.l1,
                                         compile=compile)
                done += 1
                why = divergence(self.model, train_loss)
                if why is not None:
                    self.diverged = (f"training diverged at epoch {self.epoch} ({why}): "
                                     "lower the learning rate")
                    # metrics of nan outputs mean nothing: nan (shown as none), no predictions
                    self.test_scores = {name: math.nan for name in self.test_scores
                                        if name != "predictions"} or {"loss": math.nan}
                    self.history.append((self.epoch, train_loss, math.nan))
                    break
                test_loss, outputs = self._test_forward(compile)
                self.history.append((self.epoch, train_loss, test_loss))
                if time.perf_counter() - started >= seconds:
                    break
            if done and self.diverged is None:
                self.test_scores = measure(outputs, self.y_test, self.loss, test_loss,
                                           with_predictions=True)
            return done

    def _test_forward(self, compile: bool) -> tuple[float, list]:
        """The mean loss on the test part at the current weights and the model's outputs
        there: through the compiled step's forward when there is a checked one."""
        s = self.settings
        step = step_for(self.model, self.loss, s.l2, len(self.X_test[0]), s.l1) if compile \
            else None
        if step is not None and step.checked and step.takes(self.y_test):
            return step.forward(self.model.parameters(), self.X_test, self.y_test)
        outputs = scores(self.model, self.X_test)
        return evaluate(self.model, self.X_test, self.y_test, self.loss)["loss"], outputs

    def linear_steps(self) -> list[tuple[Linear, str | None]]:
        """The model's Linear layers, each with the activation fused into it (None for the
        last): what the page needs to evaluate the network itself."""
        return [(module, act) for module, act in self.model.steps() if act is not False]

    def outputs_at(self, points: Sequence[Sequence[float]]) -> list[list[list[float]]]:
        """Every layer's outputs, as floats, at points of the plane (one list per layer, one
        row per point): the numbers the page computes for its pictures."""
        with no_grad():
            per_layer = self.model.layer_outputs(features_of(self.settings.features, points))
        return [[[v.data for v in row] for row in layer] for layer in per_layer]

    def set_parameter(self, layer: int, neuron: int, index: int | None, value: float) -> None:
        """Set one weight (``index`` = the input it weighs) or, with ``index`` None, the bias
        of ``neuron`` in Linear layer ``layer``; training goes on from there."""
        with self.lock:
            linear = self.linear_steps()[layer][0]
            target = linear.bias[neuron] if index is None else linear.weight[neuron][index]
            target.data = value

    def state(self, with_points: bool = True) -> dict[str, Any]:
        """Everything the page draws (``views.state``), as JSON-ready numbers; without the
        points (which only a new start changes) when ``with_points`` is False; and
        ``diverged``: None, or the sentence saying at which epoch training diverged."""
        with self.lock:
            return {**views.state(self, with_points), "diverged": self.diverged}
