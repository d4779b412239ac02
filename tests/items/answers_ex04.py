"""Answers to exercises/04_backpropagation_through_layers.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip; `fixed_backward`'s `bugs` keeps some of the
debugging exercise's planted bugs. `test_contract.py` runs them all through the contract;
`test_ex04_backpropagation_through_layers.py` has what is particular to these items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.activations import sigmoid
from bpcourse.checking.items.ex04_backpropagation_through_layers import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "dense_backward": 3,
    "broadcast_gradients": 2,
    "two_layer_backward": 4,
    "monash_step": 2,
    "backprop_deltas": 5,
    "debug_backward": 3,
    "q_dW2_shape": 1,
    "q_saturated_sigmoid": 1,
    "q_no_nonlinearity": 1,
}
RECALL = {"q_dW2_shape"}  # a shape rule: recall

# --- reference solutions, and the same code with one slip each ---------------------------------


def dense_backward(dZ, X, W, slip=""):
    dX, dW, db = dZ @ W, dZ.T @ X, dZ.sum(axis=0)
    if slip == "transpose":
        dW = X.T @ dZ
    if slip == "mean":
        dW, db = dW / len(X), db / len(X)
    if slip == "sign":
        dX = -dX
    return dX, dW, db


def two_layer_backward(X, Y, W1, b1, W2, b2, slip=""):
    A1 = sigmoid(X @ W1.T + b1)
    A2 = sigmoid(A1 @ W2.T + b2)
    D2 = (A2 - Y) / len(X) * (1.0 if slip == "no output f'" else A2 * (1 - A2))
    D2 = D2 * len(X) if slip == "sum" else D2
    D1 = (D2 @ W2) * (1.0 if slip == "no hidden f'" else A1 * (1 - A1))
    return D1.T @ X, D1.sum(axis=0), D2.T @ A1, D2.sum(axis=0)


def monash_step(x, y, W1, W2, alpha, slip=""):
    a1 = sigmoid(W1 @ x)
    a2 = sigmoid(W2 @ a1)
    Delta_k = (y - a2) * a2 * (1 - a2)
    W2_new = W2 + alpha * np.outer(Delta_k, a1)
    W_back = W2_new if slip == "stale" else W2
    Delta_j = (1.0 if slip == "no g'" else a1 * (1 - a1)) * (W_back.T @ Delta_k)
    if slip == "garbled":  # the note's misprint, taken literally: w_jk <- w_ij + α a_i Δ_j
        return W1, W1 + alpha * np.outer(Delta_j, x)
    sign = -1.0 if slip == "minus" else 1.0
    return W1 + sign * alpha * np.outer(Delta_j, x), W2 + sign * alpha * np.outer(Delta_k, a1)


def backprop_deltas(caches, dA, slip=""):
    deltas = []
    for i in range(len(caches) - 1, -1, -1):
        _, W, Z, A = caches[i]
        slope = A * (1 - A)
        if slip == "z(1-z)":
            slope = Z * (1 - Z)
        if slip == "no hidden f'" and i < len(caches) - 1:
            slope = 1.0
        delta = dA * slope
        deltas.append(delta / len(Z) if slip == "1/N again" else delta)
        dA = delta @ W.T if slip == "transpose" else delta @ W
    return deltas if slip == "reversed" else deltas[::-1]


def backprop_two_layers_only(caches, dA):
    (_, _, _, A1), (_, W2, _, A2) = caches
    d2 = dA * A2 * (1 - A2)
    return [(d2 @ W2) * A1 * (1 - A1), d2]


def backprop_last_two_layers(caches, dA):
    return backprop_two_layers_only(caches[-2:], dA)


def fixed_backward(X, Y, W1, b1, W2, b2, bugs=()):
    A1 = np.tanh(X @ W1.T + b1)
    Y_hat = A1 @ W2.T + b2
    dY_hat = (Y_hat - Y) if "1/N" in bugs else (Y_hat - Y) / len(X)
    dW2 = dY_hat.T @ A1
    db2 = dY_hat.sum(axis=0)
    dA1 = dY_hat @ W2
    dZ1 = dA1 if "tanh'" in bugs else dA1 * (1 - A1**2)
    dW1 = X.T @ dZ1 if "transpose" in bugs else dZ1.T @ X
    return dW1, dZ1.sum(axis=0), dW2, db2


def broadcast_gradients(dZ, slip=""):
    db = {"mean": dZ.mean(axis=0), "axis 1": dZ.sum(axis=1), "=": dZ[-1]}.get(slip, dZ.sum(0))
    dc = dZ.mean() if slip == "mean" else float(dZ.sum())
    ds = dZ.sum(axis=1) if slip == "no keepdims" else dZ.sum(axis=1, keepdims=True)
    if slip == "ds mean":
        ds = dZ.mean(axis=1, keepdims=True)
    return db, dc, ds


# the questions: (right, wrong)
QUESTIONS = {
    "q_dW2_shape": ((2, 3), (3, 2)),
    "q_saturated_sigmoid": (0.999 * 0.001, 0.999),
    "q_no_nonlinearity": ("d", "a"),
}

RIGHT: dict[str, Callable[..., Any]] = {
    "dense_backward": dense_backward,
    "broadcast_gradients": broadcast_gradients,
    "two_layer_backward": two_layer_backward,
    "monash_step": monash_step,
    "backprop_deltas": backprop_deltas,
    "debug_backward": fixed_backward,
    **{g: (lambda right=right: right) for g, (right, _) in QUESTIONS.items()},
}

# --- the catalogue of known mistakes --------------------------------------------------------------

# (item, slip, diagnosis)
WRONG = [
    ("dense_backward", "transpose", "did you forget a transpose"),
    ("dense_backward", "mean", "dW and db: each is N = 5 times too small"),
    ("dense_backward", "sign", "dX has the opposite sign"),
    ("two_layer_backward", "no output f'", "without the activation derivative σ'(z2)"),
    ("two_layer_backward", "no hidden f'", "without the activation derivative σ'(z1)"),
    ("two_layer_backward", "sum", "N = 5 times too large"),
    ("monash_step", "stale", "computed with the already-updated weights"),
    ("monash_step", "no g'", "Δ_j lacks g'(in_j)"),
    ("monash_step", "minus", "moves uphill: with Monash's Δ = (y − a) g'"),
    ("monash_step", "garbled", "it follows the note's garbled line"),
    ("backprop_deltas", "z(1-z)", "uses Z(1 − Z) for σ'(Z)"),
    ("backprop_deltas", "no hidden f'", "without the activation derivative σ'(z) of the hidden"),
    ("backprop_deltas", "1/N again", "N = 5 times too small"),
    ("backprop_deltas", "transpose", "is a transpose missing, extra or in the wrong place?"),
    ("backprop_deltas", "reversed", "returned the δ in reverse order"),
]

BROADCAST = {
    "mean": "db is the mean over the batch",
    "axis 1": "db is summed over the wrong axis",
    "=": "db equals the last row's contribution only",
    "no keepdims": "ds lost its axis of length 1",
    "ds mean": "ds is the mean over the units",
}

# the debugging exercise: its planted bugs, what the feedback says of each, and its part's name
PLANTED = ("1/N", "tanh'", "transpose")
SAYS = {
    "1/N": "lacks the 1/N of the mean loss",
    "tanh'": "lacks the hidden layer's activation derivative",
    "transpose": "dW1 is transposed",
}
PART = {"1/N": "the 1/N of the mean", "tanh'": "tanh'", "transpose": "the transpose in dW1"}


def one_bug_left(bug: str) -> Callable[..., Any]:
    return lambda *args: fixed_backward(*args, bugs=(bug,))


def new_slip(*args):
    """The debugging exercise's code with a slip that is not one of its planted bugs."""
    dW1, db1, dW2, db2 = fixed_backward(*args)
    return dW1, db1, -dW2, db2


# slips that make the learner's code raise (its shapes do not fit): reported as an error
RAISES = {("backprop_deltas", "transpose")}

CATALOGUE: dict[str, list[Wrong]] = {
    grade_id: [
        Wrong(s, slipped(RIGHT[grade_id], s), d, raises=(g, s) in RAISES)
        for g, s, d in WRONG
        if g == grade_id
    ]
    for grade_id in ("dense_backward", "two_layer_backward", "monash_step", "backprop_deltas")
}
CATALOGUE["backprop_deltas"] += [
    Wrong("two layers only", backprop_two_layers_only, "loop over the caches", raises=True),
    Wrong("last two layers", backprop_last_two_layers, "loop over the caches"),
]
CATALOGUE["broadcast_gradients"] = [
    Wrong(s, slipped(broadcast_gradients, s), d) for s, d in BROADCAST.items()
]
CATALOGUE["debug_backward"] = [Wrong(f"{b} left", one_bug_left(b), SAYS[b]) for b in PLANTED] + [
    Wrong("a new slip", new_slip, "dW2 has the opposite sign"),
]


def raises_index_error(*args):
    return [1, 2][5]


BAD: dict[str, object] = {
    "returns NaN arrays": lambda *args: tuple(np.full((2, 3), np.nan) for _ in range(4)),
    "raises IndexError": raises_index_error,
}
