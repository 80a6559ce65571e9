"""One visitor's run: the data, the model, its optimizer, and the history of its training.

A ``Session`` is built from ``Settings``: it generates the data set, splits it into a
training and a test part, standardizes the inputs with the training part's statistics,
and makes the model (an MLP, 1 or 2 inputs, one output per class or a single score) and
its optimizer. ``train`` runs whole epochs of the training loop that ``demo.py`` runs too
(``nn.training.train_epoch``), and after each epoch measures the loss on the test part.

Every method takes the session's lock: a page may ask for a picture of a neuron while
its previous request is still training, and the two must not interleave.
"""

from __future__ import annotations

import math
import random
import threading
import time
from typing import Any

from engine import Value
from nn import MLP, Linear, data, optim
from nn.training import divergence, evaluate, train_epoch
from playground import views
from playground.settings import DATASETS, Settings

MAX_EPOCHS = 20_000
"""Epochs a session trains at most; past them ``train`` does nothing (press reset)."""


def make_optimizer(name: str, params: list[Value], lr: float) -> optim.Optimizer:
    """The optimizer the page names: plain SGD, SGD with momentum 0.9, Adam or RAdam."""
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "radam":
        return optim.RAdam(params, lr=lr)
    return optim.Adam(params, lr=lr)


def loss_for(task: str, classes: int) -> str:
    """The loss, by ``nn.training``'s names: "bce" on one logit for two classes,
    "cross-entropy" on one logit per class for more, "mse" for regression."""
    if task == "regression":
        return "mse"
    return "bce" if classes == 2 else "cross-entropy"


def linear_layers(model: MLP) -> list[tuple[Linear, str | None]]:
    """The model's Linear layers, each with the name of the activation that follows it
    (None for the last): what one forward pass runs, layer by layer."""
    linears = [m for m in model.layers if isinstance(m, Linear)]
    return [(linear, model.activation if i < len(linears) - 1 else model.output_activation)
            for i, linear in enumerate(linears)]


def split(X: list, y: list, train_fraction: float, seed: int) -> tuple[list, list, list, list]:
    """Rows shuffled by ``seed``, then the first ``train_fraction`` of them for training."""
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    cut = min(len(X) - 1, max(1, round(len(X) * train_fraction)))
    train, test = order[:cut], order[cut:]
    return ([X[i] for i in train], [y[i] for i in train],
            [X[i] for i in test], [y[i] for i in test])


class Session:
    """The state of one page: see the module's docstring."""

    def __init__(self, settings: Settings) -> None:
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        """Start over with ``settings``: new data, a new model, epoch 0."""
        with self.lock:
            self.settings = settings
            X, y = self._make_data(settings)
            X_train, y_train, X_test, y_test = split(X, y, settings.train_fraction,
                                                      settings.seed)
            scaler = data.Standardizer().fit(X_train)
            self.X_train, self.X_test = scaler.transform(X_train), scaler.transform(X_test)
            self.y_train, self.y_test = y_train, y_test
            self.classes = len(set(y)) if settings.task == "classification" else 0
            outputs = self.classes if self.classes > 2 else 1
            inputs = len(self.X_train[0])
            self.model = MLP(inputs, [*settings.hidden, outputs],
                             activation=settings.activation, seed=settings.seed)
            self.layers = linear_layers(self.model)
            self.optimizer = make_optimizer(settings.optimizer, self.model.parameters(),
                                            settings.lr)
            self.loss = loss_for(settings.task, self.classes)
            self.epoch = 0
            self.history: list[tuple[int, float, float]] = []  # (epoch, train, test loss)
            self.test_scores: dict[str, Any] = {}
            self.diverged: str | None = None  # why training stopped for good, if it did
            # The plane the page shows: a square around every point, with a margin.
            reach = max(abs(v) for row in self.X_train + self.X_test for v in row)
            self.extent = math.ceil((reach + 0.25) * 2) / 2

    @staticmethod
    def _make_data(settings: Settings) -> tuple[list, list]:
        return DATASETS[settings.dataset].make(settings.points, settings.noise, settings.seed)

    def train(self, epochs: int, seconds: float) -> int:
        """Up to ``epochs`` epochs, stopping once ``seconds`` have passed; returns how many.

        At least one epoch runs (unless ``MAX_EPOCHS`` is reached or training has diverged):
        a time budget smaller than an epoch still moves the model. A model that diverges
        (``nn.training.divergence``) stops there, its metrics nan, and says why in
        ``diverged`` until it is configured again.
        """
        with self.lock:
            started = time.perf_counter()
            done = 0
            while done < epochs and self.epoch < MAX_EPOCHS and self.diverged is None:
                s = self.settings
                self.epoch += 1
                train_loss = train_epoch(self.model, self.optimizer, self.X_train,
                                         self.y_train, self.loss, batch_size=s.batch_size,
                                         seed=s.seed + self.epoch, l2=s.l2)
                done += 1
                why = divergence(self.model, train_loss)
                if why is not None:
                    self.diverged = (f"training diverged at epoch {self.epoch} ({why}): "
                                     "lower the learning rate")
                    self.test_scores = dict.fromkeys(self.test_scores or ("loss",), math.nan)
                    self.history.append((self.epoch, train_loss, math.nan))
                    break
                self.test_scores = evaluate(self.model, self.X_test, self.y_test, self.loss)
                self.history.append((self.epoch, train_loss, self.test_scores["loss"]))
                if time.perf_counter() - started >= seconds:
                    break
            return done

    def state(self) -> dict[str, Any]:
        """Everything the page draws (``views.state``), as JSON-ready numbers, and
        ``diverged``: None, or the sentence saying at which epoch training diverged."""
        with self.lock:
            return {**views.state(self), "diverged": self.diverged}
