"""W1's training step by hand: plain Python floats, the gradients derived on paper.

No graph and no engine: the forward pass keeps each layer's activations, and the backward
pass is the chain rule written out for this one model. It does the dot products every
scalar engine must do in pure Python, and nothing else, so it is the floor for any such
engine. Next to it, chainrule's W1 shows what building and walking a graph costs on top,
and torch-batched what C++ and whole-batch arithmetic buy.

The model: h_0 = x, h_l = relu(W_l h_(l-1) + b_l) for the hidden layers, and the score
s = W_L h_(L-1) + b_L. The loss: L = (1/N) sum_i relu(1 - y_i s_i) + REG sum_p p**2.
Its gradient, point by point, from the output back:

    dL/ds_i = -y_i / N where 1 - y_i s_i > 0, else 0       (relu'(0) = 0, as in PyTorch)
    dL/dz_l[j] = dL/dh_l[j] where h_l[j] > 0, else 0       (hidden layers; dL/dz_L = dL/ds)
    dL/dW_l[j][k] += dL/dz_l[j] * h_(l-1)[k]      dL/db_l[j] += dL/dz_l[j]
    dL/dh_(l-1)[k] = sum_j dL/dz_l[j] * W_l[j][k]
    dL/dp += 2 REG p  for every parameter p
"""

from __future__ import annotations

from operator import mul

from bench.moons import REG, Layer


class ByHandMoons:
    """W1 on plain floats, with the same interface as the engines' models (``w1_models``)."""

    description = "plain Python floats, gradients derived by hand (no graph)"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        self.weights = [[list(row) for row in rows] for rows, _ in layers]
        self.biases = [list(biases) for _, biases in layers]
        self.xs, self.ys = xs, ys
        self.saved: list[tuple[list[list[float]], float, float]] = []
        """Per point, what backward needs: its activations h_0 .. h_L, its label, its margin."""
        self.zero_grad()

    def forward(self) -> float:
        """The loss; ``saved`` gets each point's activations, label and margin."""
        last = len(self.weights) - 1
        self.saved = []
        hinge_sum = 0.0
        for x, y in zip(self.xs, self.ys):
            h = x
            activations = [h]
            for depth, (rows, biases) in enumerate(zip(self.weights, self.biases)):
                z = [sum(map(mul, row, h), 0.0) + b for row, b in zip(rows, biases)]
                h = z if depth == last else [0.0 if v < 0 else v for v in z]
                activations.append(h)
            margin = 1.0 - y * h[0]
            hinge_sum += 0.0 if margin < 0 else margin
            self.saved.append((activations, y, margin))
        squares = sum(p * p for p in self.parameters())
        return hinge_sum * (1.0 / len(self.xs)) + REG * squares

    def zero_grad(self) -> None:
        self.weight_grads = [[[0.0] * len(row) for row in rows] for rows in self.weights]
        self.bias_grads = [[0.0] * len(biases) for biases in self.biases]

    def backward(self, loss: float) -> None:
        """Add dL/dp to every parameter's gradient (the formulas of the module docstring)."""
        last = len(self.weights) - 1
        per_point = 1.0 / len(self.xs)
        for activations, y, margin in self.saved:
            if margin <= 0:
                continue  # relu' of the hinge is 0: this point sends nothing back
            grad_out = [-y * per_point]  # dL/ds
            for depth in range(last, -1, -1):
                rows, h_in, h_out = self.weights[depth], activations[depth], activations[depth + 1]
                grad_rows, grad_biases = self.weight_grads[depth], self.bias_grads[depth]
                grad_in = [0.0] * len(h_in)
                for j, g in enumerate(grad_out):
                    if depth != last and h_out[j] <= 0:
                        continue  # an off ReLU: dL/dz = 0
                    grad_biases[j] += g
                    grad_rows[j] = [gw + g * h for gw, h in zip(grad_rows[j], h_in)]
                    if depth > 0:  # the inputs x need no gradient
                        grad_in = [gi + g * w for gi, w in zip(grad_in, rows[j])]
                grad_out = grad_in
        for rows, biases, grad_rows, grad_biases in zip(self.weights, self.biases,
                                                        self.weight_grads, self.bias_grads):
            for j, row in enumerate(rows):
                grad_rows[j] = [g + 2 * REG * w for g, w in zip(grad_rows[j], row)]
            grad_biases[:] = [g + 2 * REG * b for g, b in zip(grad_biases, biases)]

    def update(self, lr: float) -> None:
        for rows, biases, grad_rows, grad_biases in zip(self.weights, self.biases,
                                                        self.weight_grads, self.bias_grads):
            for j, (row, grad_row) in enumerate(zip(rows, grad_rows)):
                rows[j] = [w - lr * g for w, g in zip(row, grad_row)]
            biases[:] = [b - lr * g for b, g in zip(biases, grad_biases)]

    def loss_value(self, loss: float) -> float:
        return loss

    def gradients(self) -> list[float]:
        """In the shared order (``moons.flat``): per layer, per neuron, its weights then its bias."""
        return [g for grad_rows, grad_biases in zip(self.weight_grads, self.bias_grads)
                for grad_row, grad_b in zip(grad_rows, grad_biases) for g in (*grad_row, grad_b)]

    def count_nodes(self, loss: float) -> int | None:
        return None  # no graph

    def parameters(self) -> list[float]:
        """Every weight and bias, in the shared order."""
        return [p for rows, biases in zip(self.weights, self.biases)
                for row, b in zip(rows, biases) for p in (*row, b)]
