r"""Graded items of exercises/04_backpropagation_through_layers.ipynb.

Both are checked against central finite differences of the forward pass (the definition
of the gradient), so no answer is stored. The known-wrong variants that name a likely
mistake are computed from the checker's inputs.

- `dense_backward(dZ, X, W) -> (dX, dW, db)`: the backward pass of Z = X Wᵀ + b.
- `two_layer_backward(X, T, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)`: backpropagation
  through two sigmoid layers, A1 = σ(X W1ᵀ + b1), A2 = σ(A1 W2ᵀ + b2), with the loss
  L = (1/N) Σₙ ½‖A2ₙ − Tₙ‖²; the δ recursion δ1 = (δ2 W2) ⊙ σ'(Z1).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.activations import sigmoid
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    last_contribution_only,
    missing_derivative,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import call_safely, expect_tuple
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "04_backpropagation_through_layers"
N, N_IN, N_HIDDEN, N_OUT = 5, 4, 3, 2


@item(
    "dense_backward",
    3,
    NOTEBOOK,
    checked_by="dX, dW and db agree with central finite differences of Z = X Wᵀ + b",
)
def check_dense_backward(dense_backward: Callable[..., tuple[np.ndarray, ...]]) -> Problems:
    rng = np.random.default_rng(4)
    X, W = rng.normal(size=(N, N_IN)), rng.normal(size=(N_HIDDEN, N_IN))
    b, dZ = rng.normal(size=N_HIDDEN), rng.normal(size=(N, N_HIDDEN))
    answer = call_safely(dense_backward, dZ, X, W, name="dense_backward")
    dX, dW, db = expect_tuple(answer, 3, "(dX, dW, db)", "dense_backward")

    def loss() -> float:  # L = Σ dZ ⊙ Z has ∂L/∂Z = dZ
        return float(np.sum(dZ * (X @ W.T + b)))

    last = "the last example of the batch"
    return {
        "dX": compare_gradient(numerical_gradient(loss, X), dX, "dX", layout="(N, n_in)"),
        "dW": compare_gradient(
            numerical_gradient(loss, W),
            dW,
            "dW",
            layout="(n_out, n_in)",
            batch_size=N,
            mistakes=[last_contribution_only(np.outer(dZ[-1], X[-1]), last)],
        ),
        "db": compare_gradient(
            numerical_gradient(loss, b),
            db,
            "db",
            layout="(n_out,)",
            batch_size=N,
            mistakes=[last_contribution_only(dZ[-1], last)],
            shape_hints={(N,): "db sums dZ over the batch, axis=0 (you summed over axis=1)"},
        ),
    }


def _backprop(
    X: np.ndarray,
    T: np.ndarray,
    params: list[np.ndarray],
    *,
    output_derivative: bool = True,
    hidden_derivative: bool = True,
    derivative_of_z: bool = False,
) -> list[np.ndarray]:
    """Gradients as a learner might compute them; the flags switch on known mistakes."""
    W1, b1, W2, b2 = params
    Z1 = X @ W1.T + b1
    A1 = sigmoid(Z1)
    Z2 = A1 @ W2.T + b2
    A2 = sigmoid(Z2)
    use = (Z1, Z2) if derivative_of_z else (A1, A2)  # σ' = a(1 − a), or wrongly z(1 − z)
    D2 = (A2 - T) / len(X) * (use[1] * (1 - use[1]) if output_derivative else 1.0)
    D1 = (D2 @ W2) * (use[0] * (1 - use[0]) if hidden_derivative else 1.0)
    return [D1.T @ X, D1.sum(axis=0), D2.T @ A1, D2.sum(axis=0)]


@item(
    "two_layer_backward",
    4,
    NOTEBOOK,
    checked_by="dW1, db1, dW2 and db2 agree with central finite differences of the loss",
)
def check_two_layer_backward(two_layer_backward: Callable[..., tuple[np.ndarray, ...]]) -> Problems:
    rng = np.random.default_rng(7)
    X, T = rng.normal(size=(N, N_IN)), rng.uniform(size=(N, N_OUT))
    params = [
        rng.normal(size=(N_HIDDEN, N_IN)),
        rng.normal(size=N_HIDDEN),
        rng.normal(size=(N_OUT, N_HIDDEN)),
        rng.normal(size=N_OUT),
    ]
    answer = call_safely(two_layer_backward, X, T, *params, name="two_layer_backward")
    got = expect_tuple(answer, 4, "(dW1, db1, dW2, db2)", "two_layer_backward")

    def loss() -> float:
        W1, b1, W2, b2 = params
        A2 = sigmoid(sigmoid(X @ W1.T + b1) @ W2.T + b2)
        return float(0.5 * np.sum((A2 - T) ** 2) / N)

    variants = {
        "σ'(z2) of the output layer": _backprop(X, T, params, output_derivative=False),
        "σ'(z1) of the hidden layer": _backprop(X, T, params, hidden_derivative=False),
    }
    from_z = _backprop(X, T, params, derivative_of_z=True)
    names = ["dW1", "db1", "dW2", "db2"]
    layouts = ["(n_hidden, n_in)", "(n_hidden,)", "(n_out, n_hidden)", "(n_out,)"]
    parts = {}
    for i, (name, layout, value) in enumerate(zip(names, layouts, params, strict=True)):
        mistakes = [missing_derivative(v[i], d) for d, v in variants.items()]
        mistakes.append(
            Mistake(
                "{name} uses z(1 − z) for σ'(z): the formula a(1 − a) takes the activation "
                "a = σ(z), the layer's output, not its input z",
                from_z[i],
            )
        )
        expected = numerical_gradient(loss, value)
        parts[name] = compare_gradient(
            expected, got[i], name, layout=layout, batch_size=N, mistakes=mistakes
        )
    return parts
