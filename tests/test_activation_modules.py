"""nn's activation modules (LeakyReLU, ELU, Softplus, GELU next to ReLU, Tanh, Sigmoid) and
MLPs that fuse each of them into their neurons."""

from __future__ import annotations

import pytest

from nn import ELU, GELU, MLP, LeakyReLU, Linear, Module, Sequential, Softplus
from nn.activations import ACTIVATIONS
from tests.torch_oracle import close, import_torch

X = [[0.5, -1.2], [2.0, 0.3], [-0.7, -0.1]]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_a_fused_mlp_computes_the_bits_of_its_layers_run_one_by_one(activation):
    model = MLP(2, [6, 5, 1], activation=activation, seed=3)
    for x in X:
        fused, plain = model(x), model.layers(x)[0]
        assert fused.data == plain.data
        assert fused.parents[-1].op == f"{activation}(dot)"  # a hidden neuron is one node
        fused.backward()
        grads_fused = [p.grad for p in model.parameters()]
        model.zero_grad()
        plain.backward()
        grads_plain = [p.grad for p in model.parameters()]
        model.zero_grad()
        for a, b in zip(grads_fused, grads_plain):
            assert close(a, b, rel=1e-12), (a, b)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_activation_survives_save_and_load(activation, tmp_path):
    model = MLP(2, [4, 1], activation=activation, seed=1)
    model.save(tmp_path / "m.json")
    again = Module.load(tmp_path / "m.json")
    assert again.activation == activation and repr(again) == repr(model)
    assert [again(x).data for x in X] == [model(x).data for x in X]


def test_non_default_settings_run_unfused_with_their_settings():
    model = MLP(2, [4, 1], activation="leaky_relu", seed=0)
    model.layers.modules[1] = LeakyReLU(0.3)
    hidden_first = model.layers.modules[0](X[0])
    expected = model.layers.modules[2](LeakyReLU(0.3)(hidden_first))[0]
    assert model(X[0]).data == expected.data
    assert model(X[0]).parents[-1].op == "leaky_relu"  # a separate node, slope 0.3


@pytest.mark.parametrize("module, torch_name, kwargs", [
    (LeakyReLU(), "LeakyReLU", {}), (LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (ELU(), "ELU", {}), (ELU(0.5), "ELU", {"alpha": 0.5}),
    (Softplus(), "Softplus", {}), (Softplus(2.0, 1.0), "Softplus", {"beta": 2.0, "threshold": 1.0}),
    (GELU(), "GELU", {}), (GELU("tanh"), "GELU", {"approximate": "tanh"}),
])
def test_each_module_matches_torchs_in_a_network(module, torch_name, kwargs):
    torch = import_torch()
    ours = Sequential(Linear(2, 3, seed=0), module, Linear(3, 1, seed=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), getattr(torch.nn, torch_name)(**kwargs),
                                 torch.nn.Linear(3, 1)).double()
    theirs.load_state_dict({k: torch.tensor(v, dtype=torch.float64)
                            for k, v in ours.state_dict().items()})
    for x in X:
        out = ours(x)[0]
        out.backward()
        t = theirs(torch.tensor([x], dtype=torch.float64))[0, 0]
        t.backward()
        assert close(out.data, t.item())
    theirs_grads = [g for t in theirs.parameters() for g in t.grad.flatten().tolist()]
    for p, g in zip(ours.parameters(), theirs_grads, strict=True):
        assert close(p.grad, g)


@pytest.mark.parametrize("make", [lambda: LeakyReLU("0.1"), lambda: ELU(None),
                                  lambda: Softplus(beta="2"), lambda: GELU("erf")])
def test_bad_settings_are_refused_when_the_module_is_made(make):
    with pytest.raises((TypeError, ValueError)):
        make()
