"""Answers to exercises/05_activations_and_losses.ipynb: right, and wrong on purpose.

`test_contract.py` runs them all through the contract (an overflow at logits of ±1e4
included); `test_ex05_activations_and_losses.py` has what is particular to these items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong

from bpcourse.activations import relu, sigmoid, softmax
from bpcourse.checking.items.ex05_activations_and_losses import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "tanh_backward": 2,
    "relu_backward": 2,
    "softmax_cross_entropy_grad": 2,
    "stable_logsumexp": 2,
    "bce_with_logits": 3,
    "q_softmax_row_sum": 1,
    "q_sigmoid_max_slope": 1,
    "q_dead_relu": 1,
}
RECALL = {"q_softmax_row_sum", "q_sigmoid_max_slope"}  # two facts to recall

# --- reference solutions, written as a learner would ---------------------------------------------


def tanh_backward(dA, A):
    return dA * (1.0 - A**2)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def softmax_cross_entropy_grad(Z, Y):
    return (softmax(Z, axis=1) - Y) / len(Z)


def logsumexp(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True)))[:, 0]


def bce_with_logits(Z, T):
    return float(np.mean(np.logaddexp(0.0, Z) - T * Z)), (sigmoid(Z) - T) / Z.size


# the questions: (right, wrong)
QUESTIONS = {
    "q_softmax_row_sum": (0.0, 1.0),
    "q_sigmoid_max_slope": (0.25, 0.5),
    "q_dead_relu": ("c", "b"),
}

RIGHT: dict[str, Callable[..., Any]] = {
    "tanh_backward": tanh_backward,
    "relu_backward": relu_backward,
    "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
    "stable_logsumexp": logsumexp,
    "bce_with_logits": bce_with_logits,
    **{g: (lambda right=right: right) for g, (right, _) in QUESTIONS.items()},
}

# --- known-wrong answers and the diagnosis each must get ---------------------------------------


def naive_logsumexp(Z):
    return np.log(np.sum(np.exp(Z), axis=1))


def naive_bce(Z, T):
    p = 1 / (1 + np.exp(-Z))
    loss = np.mean(-T * np.log(p) - (1 - T) * np.log(1 - p))
    return float(loss), (p - T) / Z.size


def clipped_bce(Z, T):
    p = np.clip(sigmoid(Z), 1e-12, 1 - 1e-12)
    loss = np.mean(-T * np.log(p) - (1 - T) * np.log(1 - p))
    return float(loss), (sigmoid(Z) - T) / Z.size


def bce_times_sigmoid_prime(Z, T):
    p = sigmoid(Z)
    return bce_with_logits(Z, T)[0], (p - T) * p * (1 - p) / Z.size


def bce_without_1_over_NC(Z, T):
    return bce_with_logits(Z, T)[0], sigmoid(Z) - T


OVERFLOW = "overflow: e^z is inf in float64"
UNDERFLOW = "underflow: in a row of −1e4s every e^z is 0"
UNSHIFTED = (OVERFLOW, UNDERFLOW)  # what an exponential without the shift also deserves

CATALOGUE: dict[str, list[Wrong]] = {
    "tanh_backward": [
        Wrong("no f'", lambda dA, A: dA, "without the activation derivative tanh'(z) = 1 − a²"),
        Wrong("1 − a", lambda dA, A: dA * (1 - A), "uses 1 − a where tanh'(z) = 1 − a²"),
        Wrong("tanh again", lambda dA, A: dA * (1 - np.tanh(A) ** 2), "applies tanh to a again"),
        Wrong("sigmoid's", lambda dA, A: dA * A * (1 - A), "uses the sigmoid's derivative"),
        Wrong("no dA", lambda dA, A: 1 - A**2, "multiplies it by the upstream gradient dA"),
        Wrong("sign", lambda dA, A: dA * (A**2 - 1), "has the opposite sign"),
    ],
    "relu_backward": [
        Wrong("no mask", lambda dA, Z: dA, "the ReLU mask is missing"),
        Wrong("mask from dA", lambda dA, Z: dA * (dA > 0), "applies the mask from the wrong side"),
        Wrong("relu itself", lambda dA, Z: dA * relu(Z), "instead of its derivative"),
    ],
    "softmax_cross_entropy_grad": [
        Wrong("no 1/N", lambda Z, Y: softmax(Z) - Y, "N = 6 times too large"),
        Wrong("logits", lambda Z, Y: (Z - Y) / len(Z), "uses the logits z"),
        Wrong("no y", lambda Z, Y: softmax(Z) / len(Z), "y is not subtracted"),
        Wrong(
            "axis 0",
            lambda Z, Y: (softmax(Z, axis=0) - Y) / len(Z),
            "takes the softmax down the columns",
        ),
    ],
    "stable_logsumexp": [
        Wrong("naive: overflow", naive_logsumexp, OVERFLOW, also=(UNDERFLOW,)),
        Wrong("naive: underflow", naive_logsumexp, UNDERFLOW, also=(OVERFLOW,)),
        Wrong(
            "global max",
            lambda Z: Z.max() + np.log(np.sum(np.exp(Z - Z.max()), axis=1)),
            "your maximum is taken over the whole array, not over each row",
        ),
        Wrong(
            "max not added back",
            lambda Z: np.log(np.sum(np.exp(Z - Z.max(axis=1, keepdims=True)), axis=1)),
            "never adds it back",
        ),
        Wrong(
            "axis 0",
            lambda Z: np.log(np.sum(np.exp(Z), axis=0)),
            "not down the columns",
            also=UNSHIFTED,
        ),
        Wrong("keepdims", lambda Z: logsumexp(Z)[:, None], "an axis of length 1 too many"),
        Wrong(
            "log of the mean",
            lambda Z: np.log(np.mean(np.exp(Z), axis=1)),
            "log of the mean",
            also=UNSHIFTED,
        ),
    ],
    "bce_with_logits": [
        Wrong("naive", naive_bce, "log(1 − σ(z)) = log 0 = −inf"),
        Wrong("clipped", clipped_bce, "clipping σ(z)"),
        Wrong("no 1/(N·C)", bce_without_1_over_NC, "without the 1/(N·C)"),
        Wrong(
            "1/N only",
            lambda Z, T: (bce_with_logits(Z, T)[0], (sigmoid(Z) - T) / len(Z)),
            "divided by N only",
        ),
        Wrong(
            "sign",
            lambda Z, T: (bce_with_logits(Z, T)[0], (T - sigmoid(Z)) / Z.size),
            "dZ has the opposite sign",
        ),
        Wrong("σ' kept", bce_times_sigmoid_prime, "the σ' cancels"),
        Wrong(
            "sum",
            lambda Z, T: (bce_with_logits(Z, T)[0] * Z.size, bce_with_logits(Z, T)[1]),
            "the sum over the N·C = 18 entries",
        ),
        Wrong(
            "t swapped",
            lambda Z, T: (bce_with_logits(Z, 1 - T)[0], bce_with_logits(Z, T)[1]),
            "swaps y and 1 − y",
        ),
    ],
}

BAD: dict[str, object] = {
    "returns NaN pair": lambda *args: (np.nan, np.nan),
}
