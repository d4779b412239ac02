"""Answers to exercises/06_training_a_multilayer_perceptron.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip or several (a tuple); a slip in an early gradient
propagates to the later ones, as it would in a learner's code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex06_training_a_multilayer_perceptron import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "mlp_forward": 4,
    "mlp_backward": 7,
    "train_mlp": 6,
    "q_dW1_shape": 1,
    "q_initial_loss": 1,
    "q_backprop_is": 1,
}
RECALL = {"q_dW1_shape", "q_initial_loss"}  # a shape rule and ln C: recall

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def init_params(hidden, seed):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, np.sqrt(2 / 64), size=(hidden, 64)),
        "b1": np.zeros(hidden),
        "W2": rng.normal(0.0, np.sqrt(2 / hidden), size=(10, hidden)),
        "b2": np.zeros(10),
    }


def mlp_forward(X, y, params, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    Z1 = X @ params["W1"].T + (0 if "no b1" in slip else params["b1"])
    if "no relu" in slip:
        A1 = Z1
    elif "sigmoid" in slip:
        A1 = 1 / (1 + np.exp(-Z1))
    elif "negative part" in slip:
        A1 = np.minimum(Z1, 0)
    else:
        A1 = np.maximum(Z1, 0)
    logits = (Z1 if "logits from Z1" in slip else A1) @ params["W2"].T
    logits = logits + (0 if "no b2" in slip else params["b2"])
    unshifted = "unstable" in slip or "axis 0" in slip
    shifted = logits if unshifted else logits - logits.max(axis=1, keepdims=True)
    axis = 0 if "axis 0" in slip else 1
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    terms = -log_p[np.arange(len(y)), y]
    if "sum" in slip:
        loss = terms.sum()
    elif "all classes" in slip:
        loss = -log_p.sum(axis=1).mean()
    elif "over N*C" in slip:
        loss = terms.sum() / log_p.size
    else:
        loss = terms.mean()
    if "negative loss" in slip:
        loss = -loss
    return {"Z1": Z1, "A1": A1, "logits": logits, "loss": float(loss)}


def mlp_backward(X, y, params, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    f = mlp_forward(X, y, params)
    Z1, A1, logits, W2, N = f["Z1"], f["A1"], f["logits"], params["W2"], len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    axis = 0 if "softmax axis 0" in slip else 1
    e = np.exp(logits if axis == 0 else shifted)
    P = e / e.sum(axis=axis, keepdims=True)
    dlogits = P.copy()
    if "columns" in slip:
        dlogits[:, y] -= 1
    elif "no one-hot" not in slip:
        dlogits[np.arange(N), y] -= 1
    if "sign" in slip:
        dlogits = -dlogits
    if "no 1/N" not in slip:
        dlogits /= N
    dW2 = dlogits.T @ (Z1 if "dW2 from Z1" in slip else A1)
    if "dW2 /N" in slip:
        dW2 /= N
    if "dW2 =" in slip:  # a loop over the examples with `=` for `+=`
        for n in range(N):
            dW2 = np.outer(dlogits[n], A1[n])
    db2 = dlogits.sum(axis=0)
    if "db2 mean" in slip:
        db2 = dlogits.mean(axis=0)
    elif "db2 axis 1" in slip:
        db2 = dlogits.sum(axis=1)
    elif "db2 no sum" in slip:
        db2 = dlogits
    elif "db2 =" in slip:
        db2 = dlogits[-1]
    dA1 = dlogits @ W2
    if "dA1 masked" in slip:
        dA1 = dA1 * (Z1 > 0)
    if "dA1 /N" in slip:
        dA1 = dA1 / N
    if "no mask" in slip:
        dZ1 = dA1.copy()
    elif "mask from dA1" in slip:
        dZ1 = dA1 * (dA1 > 0)
    elif "mask inverted" in slip:
        dZ1 = dA1 * (Z1 <= 0)
    elif "times A1" in slip:
        dZ1 = dA1 * A1
    else:
        dZ1 = dA1 * (Z1 > 0)
    dW1 = (dA1 if "dW1 from dA1" in slip else dZ1).T @ X
    if "dW1 /N" in slip:
        dW1 /= N
    if "dW1 × −3.7" in slip:
        dW1 = dW1 * -3.7
    if "dW1 =" in slip:
        dW1 = np.outer(dZ1[-1], X[-1])
    db1 = (dA1 if "db1 from dA1" in slip else dZ1).sum(axis=0)
    if "db1 mean" in slip:
        db1 = dZ1.mean(axis=0)
    elif "db1 axis 1" in slip:
        db1 = dZ1.sum(axis=1)
    return {
        "dlogits": dlogits,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }


def train_mlp(X, y, seed=0, lr=0.1, epochs=15, slip=""):
    params = init_params(64, seed)
    rng = np.random.default_rng(None if slip == "unseeded" else seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), 32):
            idx = order[start : start + 32]
            total += mlp_forward(X[idx], y[idx], params)["loss"] * len(idx)
            grads = mlp_backward(X[idx], y[idx], params)
            for name in params:
                if slip == "uphill":
                    params[name] += lr * grads["d" + name]
                elif slip == "local copy":
                    value = params[name]
                    value = value - lr * grads["d" + name]
                else:
                    params[name] -= lr * grads["d" + name]
        losses.append(total / len(X))
    return params, losses


RIGHT: dict[str, Callable[..., Any]] = {
    "mlp_forward": mlp_forward,
    "mlp_backward": mlp_backward,
    "train_mlp": train_mlp,
    "q_dW1_shape": lambda: (32, 64),
    "q_initial_loss": lambda: float(np.log(10)),
    "q_backprop_is": lambda: "c",
}
for _name in ("q_dW1_shape", "q_initial_loss", "q_backprop_is"):
    RIGHT[_name].__name__ = _name

BACKWARD = {
    "no 1/N": "dlogits forgets the 1/N",
    "no one-hot": "dlogits is the softmax P alone",
    "columns": "dlogits subtracts 1 from whole columns",
    "softmax axis 0": "dlogits normalises the softmax over the batch (axis=0)",
    "sign": "dlogits has the opposite sign: ∂ℒ/∂logits is the prediction minus",
    "dW2 from Z1": "dW2 uses Z1, the hidden layer before ReLU",
    "dW2 /N": "dW2 is N = 8 times too small: the 1/N is already in dlogits",
    "dW2 =": "dW2 equals the contribution of the last example of the batch only",
    "db2 mean": "db2 is the mean of dlogits over the batch",
    "db2 axis 1": "db2 is summed over the wrong axis",
    "db2 no sum": "db2 keeps the batch axis",
    "db2 =": "db2 equals the contribution of the last example",
    "dA1 masked": "dA1 already has the ReLU mask",
    "dA1 /N": "dA1 is N = 8 times too small",
    "no mask": "dZ1 equals dA1: the ReLU derivative is missing",
    "mask from dA1": "dZ1 takes the ReLU mask from the wrong quantity",
    "mask inverted": "dZ1 has the ReLU mask on the wrong side",
    "times A1": "dZ1 multiplies by A1 = ReLU(Z1)",
    "dW1 from dA1": "dW1 uses dA1 where dZ1 belongs",
    "dW1 /N": "dW1 is N = 8 times too small",
    "dW1 =": "dW1 equals the contribution of the last example",
    "db1 mean": "db1 is the mean of dZ1 over the batch",
    "db1 axis 1": "db1 is summed over the wrong axis",
    "db1 from dA1": "db1 sums dA1, before the ReLU mask",
}

FORWARD = {
    "no b1": "Z1 has no bias",
    "no relu": "A1 equals Z1: the ReLU is missing",
    "sigmoid": "A1 is the sigmoid of Z1",
    "negative part": "A1 keeps the negative part",
    "logits from Z1": "logits is computed from Z1",
    "no b2": "logits has no bias",
    "sum": "loss is the sum over the batch",
    "over N*C": "loss is averaged over all N × 10 entries",
    "axis 0": "loss normalises the softmax over the batch (axis=0)",
    "all classes": "loss sums −log P over all 10 classes",
    "negative loss": "loss is negative",
    "unstable": "exp of a large logit overflows",
}

TRAINING = {
    "η = 0.001": (
        lambda X, y, seed=0: train_mlp(X, y, seed, lr=0.001),
        "the learning rate η is too small",
    ),
    "uphill": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="uphill"),
        "the training loss went up",
    ),
    "local copy": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="local copy"),
        "the parameters are never updated",
    ),
    "η = 5": (lambda X, y, seed=0: train_mlp(X, y, seed, lr=5.0), "training diverged"),
    "3 epochs": (
        lambda X, y, seed=0: train_mlp(X, y, seed, lr=0.01, epochs=3),
        "train for more epochs",
    ),
    "unseeded": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="unseeded"),
        "two runs with seed=0 gave different parameters",
    ),
}

CATALOGUE: dict[str, list[Wrong]] = {
    "mlp_forward": [Wrong(s, slipped(mlp_forward, s), d) for s, d in FORWARD.items()],
    "mlp_backward": [Wrong(s, slipped(mlp_backward, s), d) for s, d in BACKWARD.items()]
    + [
        # a slip outside the catalogue: described (factor, sign), no cause guessed
        Wrong("dW1 × −3.7", slipped(mlp_backward, "dW1 × −3.7"), None),
    ],
    "train_mlp": [Wrong(s, a, d) for s, (a, d) in TRAINING.items()],
}

BAD: dict[str, object] = {
    "returns an empty dict": lambda *args: {},
    "returns a tuple of arrays": lambda *args: (np.zeros(3), np.zeros(3)),
}
