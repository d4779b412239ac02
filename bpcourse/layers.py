r"""Layers as forward/backward pairs that pass a cache, and the layer objects built on them.

The pairs are plain functions, in the style of cs231n:

    Z, cache = dense_forward(X, W, b)          # X (N, n_in), W (n_out, n_in), b (n_out,)
    dX, dW, db = dense_backward(dZ, cache)     # each the shape of what it differentiates

The forward pass stores in the cache exactly what the backward pass needs; nothing is
recomputed. The layer classes (`Dense`, `ActivationLayer`) hold their parameters and the
last cache, so that a network is a list of layers run forwards, then backwards.

Gradients are *written*, not added: each `backward` call overwrites `Parameter.grad`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.activations import Activation, get_activation
from bpcourse.init import initialise
from bpcourse.validation import ShapeError, check_int, check_same_shape, renamed_keyword


class Parameter:
    """A learnable array and the gradient of the loss with respect to it (same shape)."""

    def __init__(self, value: np.ndarray, name: str = "") -> None:
        self.value = value
        self.grad = np.zeros_like(value)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""$Z = XW^\top + b$. X (N, n_in), W (n_out, n_in), b (n_out,) -> Z (N, n_out)."""
    Z = X @ W.T
    Z += b  # in place: no second (N, n_out) array
    return Z, (X, W)


def dense_backward(
    dZ: np.ndarray,
    cache: Any,
    input_grad: bool = True,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""From dZ (N, n_out): $dX = dZ\,W$, $dW = dZ^\top X$, $db = \sum_n dZ_n$.

    `dW` is the batch form of the notes' outer product $\delta\, a^\top$: summing the outer
    products of the rows of dZ and X is exactly the matrix product $dZ^\top X$. Pass
    `input_grad=False` to skip dX (the first layer's input needs no gradient). `out=(dW, db)`
    writes the two gradients into those arrays (a layer's own `.grad`, every step: no new
    arrays) and returns them.
    """
    X, W = cache
    dX = dZ @ W if input_grad else None
    if out is None:
        return dX, dZ.T @ X, dZ.sum(axis=0)
    dW, db = out
    np.matmul(dZ.T, X, out=dW)
    dZ.sum(axis=0, out=db)
    return dX, dW, db


def activation_forward(Z: np.ndarray, activation: Activation) -> tuple[np.ndarray, Any]:
    """A = f(Z), caching Z and A (the derivative uses whichever is simpler)."""
    A = activation(Z)
    return A, (Z, A, activation)


def activation_backward(dA: np.ndarray, cache: Any) -> np.ndarray:
    """dZ = dA * f'(Z) (for softmax, the Jacobian-vector product)."""
    Z, A, activation = cache
    return activation.backward(dA, Z, A)


class Layer:
    """A step of a network: `forward` caches what `backward` needs.

    A layer writes only `forward` and `backward`. Its forward ends with
    `return self.remember(out, cache)`; its backward starts with `cache = self.recall(dOut)`,
    which refuses a backward before any forward and a gradient of the wrong shape, naming the
    layer (`describe()`, e.g. "Dense layer 'dense1'").
    """

    name: str = "layer"
    kind: str = ""  # how errors name the layer's type; "" means the class name
    cache: Any = None
    out_shape: tuple[int, ...] | None = None  # of the last forward's output; None: none yet

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind or type(self).__name__} layer {self.name!r}"

    def remember(self, out: np.ndarray, cache: Any) -> np.ndarray:
        """Keep `cache` (and the output's shape) for backward; return `out`."""
        self.cache, self.out_shape = cache, out.shape
        return out

    def recall(self, dOut: np.ndarray) -> Any:
        """The cache of the last forward, once `dOut` is known to have the output's shape."""
        if dOut.shape == self.out_shape:  # the usual case, checked without building a message
            return self.cache
        if self.out_shape is None:
            raise RuntimeError(f"{self.describe()}: call forward before backward")
        check_same_shape(
            dOut, self.out_shape, f"{self.describe()}: the gradient reaching it", "its output"
        )
        return self.cache

    def parameters(self) -> list[Parameter]:
        return []

    def buffers(self) -> dict[str, np.ndarray]:
        """Arrays the layer updates without gradients (e.g. running averages), by name."""
        return {}

    def expected_input(self) -> tuple[int, str] | None:
        """(ndim, layout) of the input this layer needs, e.g. (2, "(N, 784)"); None: any."""
        return None


class Dense(Layer):
    """A fully connected (affine) layer: Z = X @ W.T + b with W (n_out, n_in), b (n_out,)."""

    kind = "Dense"

    def __init__(
        self,
        n_in: int,
        n_out: int,
        init: str = "xavier_normal",
        seed: np.random.Generator | int | None = 0,
        dtype: np.dtype | type = np.float64,
        name: str = "dense",
        **deprecated: Any,
    ) -> None:
        seed = renamed_keyword(deprecated, "rng", "seed", seed, f"Dense layer {name!r}")
        self.n_in = check_int(n_in, f"Dense layer {name!r}: n_in")
        self.n_out = check_int(n_out, f"Dense layer {name!r}: n_out")
        self.name = name
        rng = np.random.default_rng(seed)
        self.W = Parameter(initialise(init, n_out, n_in, rng, dtype=dtype), f"{name}.W")
        self.b = Parameter(np.zeros(n_out, dtype=dtype), f"{name}.b")

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ShapeError(
                f"Dense layer {self.name!r} ({self.n_in} -> {self.n_out}) expected input of "
                f"shape (N, {self.n_in}), got shape {X.shape}"
            )
        return self.remember(*dense_forward(X, self.W.value, self.b.value))

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        cache = self.recall(dOut)
        W, b = self.W, self.b
        # written into the gradients' own arrays, unless something replaced them
        reuse = W.grad.shape == W.value.shape and b.grad.shape == b.value.shape
        dX, W.grad, b.grad = dense_backward(
            dOut, cache, input_grad, out=(W.grad, b.grad) if reuse else None
        )
        return dX

    def parameters(self) -> list[Parameter]:
        return [self.W, self.b]

    def expected_input(self) -> tuple[int, str] | None:
        return 2, f"(N, {self.n_in})"

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out}, name={self.name!r})"


class ActivationLayer(Layer):
    """An element-wise activation (or softmax) as a layer with no parameters."""

    kind = "activation"

    def __init__(self, activation: str | Activation, name: str | None = None) -> None:
        self.activation = get_activation(activation)
        self.name = name or self.activation.name

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        return self.remember(*activation_forward(X, self.activation))

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return activation_backward(dOut, self.recall(dOut))

    def __repr__(self) -> str:
        return f"ActivationLayer({self.activation.name!r})"
