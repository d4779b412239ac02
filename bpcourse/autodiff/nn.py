"""A tiny neural network library on `Value`: neurons, layers, a scalar MLP and its training.

Built for lesson 02 (micrograd style); the NumPy layers of lessons 04 onwards are in
`bpcourse.layers`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from bpcourse.autodiff.engine import Value

__all__ = ["Module", "Neuron", "ScalarLayer", "ScalarMLP", "mse_loss", "train_scalar_mlp"]

_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}


class Module:
    """Anything with trainable parameters."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0; needed before each backward (grads accumulate)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w · x + b), with weights drawn uniformly from [-1, 1] and b = 0."""

    def __init__(
        self, n_inputs: int, activation: str = "tanh", rng: random.Random | None = None
    ) -> None:
        if n_inputs < 1:
            raise ValueError(f"a neuron needs at least one input, got n_inputs={n_inputs}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of {[*_ACTIVATIONS]}")
        rng = rng if rng is not None else random.Random(0)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return _ACTIVATIONS[self.activation](z)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class ScalarLayer(Module):
    """`n_outputs` neurons that all see the same inputs (of Values; not `bpcourse.layers.Layer`,
    the NumPy layers' base)."""

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str = "tanh",
        rng: random.Random | None = None,
    ) -> None:
        rng = rng if rng is not None else random.Random(0)
        self.neurons = [Neuron(n_inputs, activation, rng) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"ScalarLayer of [{', '.join(repr(n) for n in self.neurons)}]"


class ScalarMLP(Module):
    """A multilayer perceptron: hidden layers use `activation`, the last one is linear.

    `ScalarMLP(2, [8, 1])` maps 2 inputs through 8 tanh units to 1 output. The same `seed` gives
    the same initial weights. Calling it returns a Value when the last layer has a single
    neuron, a list of Values otherwise.
    """

    def __init__(
        self,
        n_inputs: int,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        seed: int = 0,
    ) -> None:
        if not layer_sizes:
            raise ValueError("a ScalarMLP needs at least one layer size, e.g. ScalarMLP(2, [8, 1])")
        rng = random.Random(seed)
        self.n_inputs, self.layer_sizes, self.activation = n_inputs, list(layer_sizes), activation
        sizes = [n_inputs, *layer_sizes]
        last = len(layer_sizes) - 1
        self.layers = [
            ScalarLayer(sizes[i], sizes[i + 1], "linear" if i == last else activation, rng)
            for i in range(len(layer_sizes))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: list[Value] = self.layers[0](x)
        for layer in self.layers[1:]:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return (
            f"ScalarMLP({self.n_inputs}, {self.layer_sizes}, activation={self.activation!r}): "
            f"{len(self.parameters())} parameters"
        )


def mse_loss(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean of (prediction - target)**2, without the 1/2 of `losses.half_squared_error`.

    So its gradient with respect to a prediction is 2 (prediction - target) / N, twice the
    gradient of the halved loss that lessons 01 and 03 onwards use.
    """
    if len(predictions) != len(targets) or not predictions:
        raise ValueError(
            f"need as many predictions as targets (and at least one), "
            f"got {len(predictions)} and {len(targets)}"
        )
    zero = Value(0.0, requires_grad=False)
    total = sum(((p - t) ** 2 for p, t in zip(predictions, targets, strict=True)), zero)
    return total / len(predictions)


def train_scalar_mlp(
    model: ScalarMLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    steps: int = 200,
    learning_rate: float = 0.1,
) -> list[float]:
    """Fit a one-output `model` by full-batch gradient descent on the mean squared error.

    Returns the loss at every step (measured before that step's update). Each step is the
    whole training loop of the lesson:

        loss = mse_loss([model(x) for x in inputs], targets)   # forward
        model.zero_grad()                                       # grads accumulate!
        loss.backward()                                         # backward
        for p in model.parameters():                            # update
            p.data -= learning_rate * p.grad
    """
    history = []
    for _ in range(steps):
        predictions = [model(x) for x in inputs]
        if not all(isinstance(p, Value) for p in predictions):
            raise ValueError("train_scalar_mlp needs a model with a single output")
        loss = mse_loss([p for p in predictions if isinstance(p, Value)], targets)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append(loss.data)
    return history
