"""Graded items of exercises/05_activations_and_losses.ipynb.

Both are checked against central finite differences of the forward function; inputs stay
away from ReLU's kink at 0, as the course's gradient-check policy asks.

- `relu_backward(dA, Z) -> dZ`: the gradient through ReLU, dZ = dA ⊙ 1[Z > 0].
- `softmax_cross_entropy_grad(Z, Y) -> dZ`: the gradient of the mean softmax cross-entropy
  with respect to the logits Z (N, C), for one-hot targets Y: (softmax(Z) − Y) / N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.activations import relu, softmax
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    mask_not_applied,
    mask_wrong_side,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import call_safely
from bpcourse.gradcheck import numerical_gradient
from bpcourse.losses import softmax_cross_entropy

NOTEBOOK = "05_activations_and_losses"
N, UNITS, CLASSES = 6, 4, 3


@item(
    "relu_backward",
    2,
    NOTEBOOK,
    checked_by="dZ agrees with central finite differences of ReLU (away from its kink at 0)",
)
def check_relu_backward(relu_backward: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Problems:
    rng = np.random.default_rng(5)
    Z = rng.choice([-1.0, 1.0], size=(N, UNITS)) * rng.uniform(0.2, 2.0, size=(N, UNITS))
    dA = rng.normal(size=(N, UNITS))
    got = call_safely(relu_backward, dA, Z, name="relu_backward")
    expected = numerical_gradient(lambda: float(np.sum(dA * relu(Z))), Z)
    mistakes = [
        mask_not_applied(dA),
        mask_wrong_side(dA * (dA > 0), "the upstream gradient (dA > 0)"),
        Mistake("{name} keeps the gradient where z < 0: the mask is inverted", dA * (Z < 0)),
        Mistake(
            "{name} multiplies by ReLU(z) instead of its derivative ReLU'(z) = 1[z > 0]",
            dA * relu(Z),
        ),
    ]
    return compare_gradient(expected, got, "dZ", layout="(N, units)", mistakes=mistakes)


@item(
    "softmax_cross_entropy_grad",
    2,
    NOTEBOOK,
    checked_by="dZ agrees with central finite differences of the mean cross-entropy",
)
def check_softmax_cross_entropy_grad(
    softmax_cross_entropy_grad: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Problems:
    rng = np.random.default_rng(6)
    Z = rng.normal(size=(N, CLASSES))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, size=N)]
    got = call_safely(softmax_cross_entropy_grad, Z, Y, name="softmax_cross_entropy_grad")
    expected = numerical_gradient(lambda: softmax_cross_entropy(Z, Y)[0], Z)
    mistakes = [
        Mistake(
            "{name} uses the logits z where the probabilities p = softmax(z) belong: "
            "∂L/∂z = (p − y)/N",
            (Z - Y) / N,
        ),
        Mistake("{name} is p/N: the one-hot target y is not subtracted", softmax(Z) / N),
        Mistake(
            "{name} takes the softmax down the columns: each row (one example) is normalised, "
            "softmax(z, axis=1)",
            (softmax(Z, axis=0) - Y) / N,
        ),
    ]
    return compare_gradient(expected, got, "dZ", layout="(N, C)", batch_size=N, mistakes=mistakes)
