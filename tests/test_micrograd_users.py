"""micrograd's code on chainrule: two import lines change, and training goes as it does there.

micrograd's demo notebook runs on chainrule once its imports read

    from engine import Value          # was: from micrograd.engine import Value
    from nn import MLP                # was: from micrograd.nn import MLP

and converges as on micrograd when the model starts from micrograd's numbers,
``MLP(2, [16, 16, 1], init="micrograd")``: every weight from U(-1, 1), every bias 0, drawn
in micrograd's order, so that ``random.seed(n)`` gives both libraries the very same model.
(chainrule's default is PyTorch's initialisation, U(-1/sqrt(nin), 1/sqrt(nin)) for weights
and biases, with which the demo reaches 100% on 5 of these 8 seeds, not 7: 0.92, 0.98 and
0.91 on seeds 2, 6 and 7.)

The oracle is micrograd 0.1.0 itself: the same initial weights bit for bit, and the same
first step (loss and all 337 gradients). micrograd takes seconds per step of the demo, so
the 100-step runs here are chainrule's alone. The whole runs of both, seed by seed, are
compared by ``python -m tests.test_micrograd_users`` (minutes per seed, for micrograd); the
speed of a step, by ``python -m bench --engines micrograd,chainrule --workloads W1,W1m``.
"""

from __future__ import annotations

import random
import time

import pytest

import engine
import nn
from nn import MLP, Layer, Linear, Neuron

SEEDS = range(8)


def micrograd_demo(Value, MLP, seed, steps=100, **model_options):
    """micrograd's demo notebook (karpathy/micrograd demo.ipynb), cell by cell, for the
    ``Value`` and ``MLP`` of either library; only the prints are left out. Returns the model
    and, for each step, the loss and accuracy that step printed."""
    np = pytest.importorskip("numpy")
    make_moons = pytest.importorskip("sklearn.datasets").make_moons

    np.random.seed(seed)
    random.seed(seed)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y*2 - 1  # make y be -1 or 1
    model = MLP(2, [16, 16, 1], **model_options)  # 2-layer neural network

    def loss(batch_size=None):
        # inline DataLoader :)
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        # forward the model to get scores
        scores = list(map(model, inputs))
        # svm "max-margin" loss
        losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum((p*p for p in model.parameters()))  # noqa: UP034 - as written
        total_loss = data_loss + reg_loss
        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    printed = []
    for k in range(steps):
        # forward
        total_loss, acc = loss()
        # backward
        model.zero_grad()
        total_loss.backward()
        # update (sgd)
        learning_rate = 1.0 - 0.9*k/100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        printed.append((float(total_loss.data), float(acc)))
    return model, printed


def micrograd():
    """micrograd's engine and nn modules (installed with the test extras)."""
    return (pytest.importorskip("micrograd.engine"), pytest.importorskip("micrograd.nn"))


def in_micrograds_order(model):
    """chainrule's MLP parameters in micrograd's order: neuron by neuron, its weights then
    its bias (chainrule lists a layer's whole weight matrix, then its biases, as PyTorch)."""
    return [v for layer in model.layers if isinstance(layer, Linear)
            for row, bias in zip(layer.weight, layer.bias) for v in (*row, bias)]


@pytest.mark.parametrize("seed", SEEDS)
def test_init_micrograd_draws_the_very_numbers_micrograd_draws(seed):
    _, micrograd_nn = micrograd()
    random.seed(seed)
    theirs = [p.data for p in micrograd_nn.MLP(2, [16, 16, 1]).parameters()]
    random.seed(seed)
    ours = [p.data for p in in_micrograds_order(MLP(2, [16, 16, 1], init="micrograd"))]
    assert ours == theirs
    assert len(ours) == 337 and ours.count(0.0) == 33  # the 33 biases


def test_the_default_is_still_pytorchs_initialisation():
    model = MLP(2, [16, 16, 1], seed=0)
    for layer in model.layers:
        if isinstance(layer, Linear):
            bound = 1 / layer.nin**0.5
            numbers = [v.data for v in layer.parameters()]
            assert all(-bound <= x <= bound for x in numbers)
            assert max(map(abs, numbers)) > 0.9 * bound and 0.0 not in numbers
    micrograd_like = MLP(2, [16, 16, 1], seed=0, init="micrograd")
    assert max(abs(v.data) for v in micrograd_like.parameters()) > 0.9  # U(-1, 1) everywhere


def test_an_unknown_init_is_an_error_naming_the_choices():
    for build in (lambda: MLP(2, [3, 1], init="xavier"), lambda: Linear(2, 3, init="Micrograd"),
                  lambda: Neuron(2, init=None)):
        with pytest.raises(ValueError, match="init must be one of 'pytorch', 'micrograd'"):
            build()


def test_the_first_step_of_the_demo_is_micrograds_step():
    """Same model, same data: the same loss and the same 337 gradients after one backward."""
    micrograd_engine, micrograd_nn = micrograd()
    seed = 6  # the one seed of eight that ends short of 100%, on micrograd as here
    theirs, [(their_loss, their_accuracy)] = micrograd_demo(
        micrograd_engine.Value, micrograd_nn.MLP, seed, steps=1)
    ours, [(our_loss, our_accuracy)] = micrograd_demo(
        engine.Value, nn.MLP, seed, steps=1, init="micrograd")
    assert our_loss == pytest.approx(their_loss, rel=1e-12)
    assert our_accuracy == their_accuracy
    their_grads = [p.grad for p in theirs.parameters()]
    our_grads = [p.grad for p in in_micrograds_order(ours)]
    assert our_grads == pytest.approx(their_grads, rel=1e-9, abs=1e-15)
    assert sum(g != 0.0 for g in our_grads) > 300  # a real step, not a dead network


def test_micrograds_demo_converges_on_eight_seeds_as_on_micrograd():
    """micrograd's demo reaches 100% on 7 of these 8 seeds (99% on seed 6); so does the
    same code on chainrule with micrograd's initialisation. The loss falls on every seed."""
    accuracies = {}
    for seed in SEEDS:
        _, printed = micrograd_demo(engine.Value, nn.MLP, seed, init="micrograd")
        first_loss, last_loss = printed[0][0], printed[-1][0]
        assert last_loss < first_loss / 10, seed
        accuracies[seed] = printed[-1][1]
    assert sum(a == 1.0 for a in accuracies.values()) >= 7, accuracies
    assert min(accuracies.values()) >= 0.98, accuracies


def test_micrograds_neuron_and_layer_run_as_written():
    """micrograd's README: ``n = Neuron(2); y = n(x)``; and its Layer's return convention."""
    _, micrograd_nn = micrograd()
    x = [engine.Value(1.0), engine.Value(-2.0)]
    random.seed(3)
    theirs = micrograd_nn.Neuron(2)
    random.seed(3)
    n = Neuron(2, init="micrograd")
    assert [p.data for p in n.parameters()] == [p.data for p in theirs.parameters()]
    assert n.parameters() == [*n.w, n.b] and n.b.data == 0.0
    y = n(x)
    assert isinstance(y, engine.Value) and y.data == theirs([1.0, -2.0]).data
    linear = Neuron(2, nonlin=False, seed=1)
    assert linear(x).data == linear.w[0].data - 2 * linear.w[1].data + linear.b.data
    assert isinstance(Layer(2, 1)(x), engine.Value)
    outputs = Layer(2, 3, seed=0)(x)
    assert len(outputs) == 3 and all(v.data >= 0.0 for v in outputs)  # relu'd
    y.backward()
    assert all(isinstance(p.grad, float) for p in n.parameters())


def compare_whole_runs(seeds=SEEDS):
    """micrograd's own 100-step demo against chainrule's (``init="micrograd"``), seed by
    seed: the final accuracies, how closely the losses printed at every step agree, and
    the time each library takes."""
    micrograd_engine, micrograd_nn = micrograd()
    for seed in seeds:
        start = time.perf_counter()
        _, theirs = micrograd_demo(micrograd_engine.Value, micrograd_nn.MLP, seed)
        middle = time.perf_counter()
        _, ours = micrograd_demo(engine.Value, nn.MLP, seed, init="micrograd")
        end = time.perf_counter()
        worst = max(abs(a - b) / abs(b) for (a, _), (b, _) in zip(ours, theirs))
        same = all(a == b for (_, a), (_, b) in zip(ours, theirs))
        print(f"seed {seed}: accuracy micrograd {theirs[-1][1]:.2f}, chainrule {ours[-1][1]:.2f} "
              f"(the same at every step: {same}); losses agree to {worst:.1e} relative over "
              f"{len(ours)} steps; micrograd {middle - start:.0f} s, chainrule "
              f"{end - middle:.1f} s ({(middle - start) / (end - middle):.0f}x)", flush=True)


if __name__ == "__main__":
    compare_whole_runs()
