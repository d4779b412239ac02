"""A network as a list of layers: forward in order, backward in reverse.

net = MLP([64, 128, 10], activation="relu")      # logits out, for softmax cross-entropy
loss = net.loss_and_backward(X, y, "softmax_cross_entropy")
for p in net.parameters():                        # p.value and p.grad, same shape
    ...
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np

from bpcourse.activations import get_activation
from bpcourse.init import default_init_for
from bpcourse.layers import ActivationLayer, Dense, Layer, Parameter
from bpcourse.losses import Loss, get_loss
from bpcourse.validation import as_float_array, check_finite, check_ndim


class Sequential:
    """Layers applied one after another, a batch as rows.

    Input X has the shape its first layer expects: (N, n_in), or (N, C, H, W) for a CNN.
    """

    def __init__(self, layers: Sequence[Layer], dtype: np.dtype | type | None = None) -> None:
        self.layers = list(layers)
        _make_names_unique(self.layers)
        params = self.parameters()
        self.dtype = (
            np.dtype(dtype)
            if dtype is not None
            else (params[0].value.dtype if params else np.dtype(np.float64))
        )

    def forward(self, X: np.ndarray, training: bool = True, validated: bool = False) -> np.ndarray:
        """Run X (N, n_in) through every layer; each layer caches what backward needs.

        X is checked (`check_input`) unless `validated` says it already was: `train` checks
        its data once, not on every batch.
        """
        out = X if validated else self.check_input(X)
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    __call__ = forward

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Propagate dL/d(output) back through every layer, filling each Parameter.grad.

        Returns dL/dX, or None with `input_grad=False` (which skips the first layer's
        input gradient, work that training never needs).
        """
        grad: np.ndarray | None = dOut
        for i in range(len(self.layers) - 1, -1, -1):
            assert grad is not None
            grad = self.layers[i].backward(grad, input_grad or i > 0)
        return grad if input_grad else None

    def loss_and_backward(
        self,
        X: np.ndarray,
        target: np.ndarray,
        loss: str | Loss = "softmax_cross_entropy",
        validated: bool = False,
    ) -> float:
        """One forward pass, the loss, and one backward pass; returns the loss."""
        out = self.forward(X, training=True, validated=validated)
        value, dOut = get_loss(loss)(out, target)
        self.backward(dOut, input_grad=False)
        return value

    def predict(self, X: np.ndarray, validated: bool = False) -> np.ndarray:
        """The network's output in evaluation mode (no dropout, running batch statistics)."""
        return self.forward(X, training=False, validated=validated)

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0

    def buffers(self) -> dict[str, np.ndarray]:
        """Every layer's non-learned arrays (batch-norm running averages), by name."""
        return {k: v for layer in self.layers for k, v in layer.buffers().items()}

    def state(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and buffer, by name (to restore the best weights later)."""
        arrays = {p.name: p.value for p in self.parameters()} | self.buffers()
        return {name: value.copy() for name, value in arrays.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Copy the arrays of `state()` back into the network (in place)."""
        arrays = {p.name: p.value for p in self.parameters()} | self.buffers()
        missing = sorted(set(arrays) - set(state))
        if missing:
            raise KeyError(f"state has no entry for {missing}")
        for name, value in arrays.items():
            value[...] = state[name]

    @property
    def n_params(self) -> int:
        return sum(p.value.size for p in self.parameters())

    def check_input(self, X: np.ndarray) -> np.ndarray:
        """X as an array of the network's dtype, of the first layer's shape and finite."""
        X = as_float_array(X, "network input X", dtype=self.dtype)
        expected = (layer.expected_input() for layer in self.layers)
        ndim, layout = next((e for e in expected if e is not None), (2, "(N, n_in)"))
        check_ndim(X, ndim, "network input X", layout)
        return check_finite(X, "network input X")

    def summary(self) -> str:
        """A table of the layers, their parameter shapes and counts."""
        rows = [f"{'layer':<14}{'parameters':<28}{'count':>10}"]
        for layer in self.layers:
            shapes = ", ".join(f"{p.name.split('.')[-1]} {p.shape}" for p in layer.parameters())
            count = sum(p.value.size for p in layer.parameters())
            rows.append(f"{layer.name:<14}{shapes or '-':<28}{count:>10,}")
        rows.append(f"{'total':<42}{self.n_params:>10,}")
        return "\n".join(rows)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}([{inner}])"


def _make_names_unique(layers: list[Layer]) -> None:
    """Number layers whose names repeat ('dense', 'dense' -> 'dense1', 'dense2'), and their
    parameters with them, so that every parameter has a name of its own."""
    counts = Counter(layer.name for layer in layers)
    seen: Counter[str] = Counter()
    for layer in layers:
        if counts[layer.name] > 1:
            seen[layer.name] += 1
            old, layer.name = layer.name, f"{layer.name}{seen[layer.name]}"
            for p in layer.parameters():
                p.name = layer.name + p.name[len(old) :]


class MLP(Sequential):
    """A multilayer perceptron from its layer sizes, e.g. [64, 128, 10].

    Hidden layers use `activation`; the output layer uses `output_activation`, which is
    "identity" by default: the network then returns logits, as the cross-entropy losses
    expect. The notes' network (sigmoid units, squared error) is
    `MLP([2, 2, 1], "sigmoid", output_activation="sigmoid")`.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str = "identity",
        init: str | None = None,
        seed: int | np.random.Generator | None = 0,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(
                f"an MLP needs at least an input and an output size, e.g. [2, 3, 1]; got {sizes}"
            )
        hidden = get_activation(activation).name
        output = get_activation(output_activation).name
        init = init or default_init_for(hidden)
        rng = np.random.default_rng(seed)
        layers: list[Layer] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
            layers.append(Dense(n_in, n_out, init, rng, dtype, name=f"dense{i}"))
            last = i == len(sizes) - 1
            if not last:
                layers.append(ActivationLayer(hidden, name=f"{hidden}{i}"))
            elif output != "identity":
                layers.append(ActivationLayer(output, name=f"{output}_out"))
        super().__init__(layers, dtype)
        self.sizes, self.activation, self.output_activation = sizes, hidden, output

    def __repr__(self) -> str:
        return (
            f"MLP({self.sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )
