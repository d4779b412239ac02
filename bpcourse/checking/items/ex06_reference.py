r"""The reference network of exercise 06, and the slips its backward pass can make.

Used by `ex06_training_a_multilayer_perceptron` in the checker's process (never in the
student's kernel): the problem (a mini-batch of 8 digits and a small random [64, H, 10]
network), the checker's own forward and backward passes, central finite differences of every
gradient, and, for each gradient, the catalogue of known slips computed from the learner's
own upstream gradient.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bpcourse.checking.items.ex04_06_catalogue import Slip
from bpcourse.data import Split, load_digits
from bpcourse.gradcheck import numerical_gradient

N, N_IN, H, C = 8, 64, 6, 10


PROBLEM_SEED = 6


PARAM_SHAPES = {"W1": (H, N_IN), "b1": (H,), "W2": (C, H), "b2": (C,)}


GRADIENTS = ("dlogits", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")


LAYOUT = {
    "Z1": "(N, H)",
    "A1": "(N, H)",
    "logits": "(N, 10)",
    "dlogits": "(N, 10)",
    "dW2": "(10, H)",
    "db2": "(10,)",
    "dA1": "(N, H)",
    "dZ1": "(N, H)",
    "dW1": "(H, 64)",
    "db1": "(H,)",
}


def problem(seed: int = PROBLEM_SEED) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A mini-batch of 8 digits and a small random network; no Z1 lies near ReLU's kink."""
    digits = _digits()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(digits.X_train), size=N, replace=False)
    params = {
        "W1": rng.normal(0, 0.3, size=(H, N_IN)),
        "b1": rng.normal(0, 0.5, size=H),
        "W2": rng.normal(0, 0.8, size=(C, H)),
        "b2": rng.normal(0, 0.5, size=C),
    }
    return digits.X_train[rows].copy(), digits.y_train[rows].copy(), params


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def forward(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, Any]:
    """The reference forward pass: Z1, A1, logits, P (softmax) and the mean loss."""
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = np.maximum(Z1, 0.0)
    logits = A1 @ params["W2"].T + params["b2"]
    logp = log_softmax(logits)
    loss = float(-logp[np.arange(len(y)), y].mean())
    return {"Z1": Z1, "A1": A1, "logits": logits, "P": np.exp(logp), "loss": loss}


def one_hot(y: np.ndarray, n_classes: int = C) -> np.ndarray:
    Y = np.zeros((len(y), n_classes))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def backward(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference backward pass: every intermediate gradient of the mean loss."""
    f = forward(X, y, params)
    dlogits = (f["P"] - one_hot(y)) / len(y)
    dA1 = dlogits @ params["W2"]
    dZ1 = dA1 * (f["Z1"] > 0)
    return {
        "dlogits": dlogits,
        "dW2": dlogits.T @ f["A1"],
        "db2": dlogits.sum(axis=0),
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dZ1.T @ X,
        "db1": dZ1.sum(axis=0),
    }


def finite_differences(
    X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every gradient of `backward`, by central differences of the loss from that point on."""
    p = {k: v.copy() for k, v in params.items()}
    f = forward(X, y, p)
    Z1, A1, logits = f["Z1"].copy(), f["A1"].copy(), f["logits"].copy()

    def loss_of_logits() -> float:
        return float(-log_softmax(logits)[np.arange(len(y)), y].mean())

    def loss_of_A1() -> float:
        out = A1 @ p["W2"].T + p["b2"]
        return float(-log_softmax(out)[np.arange(len(y)), y].mean())

    def loss_of_Z1() -> float:
        out = np.maximum(Z1, 0.0) @ p["W2"].T + p["b2"]
        return float(-log_softmax(out)[np.arange(len(y)), y].mean())

    def loss() -> float:
        return forward(X, y, p)["loss"]

    return {
        "dlogits": numerical_gradient(loss_of_logits, logits),
        "dW2": numerical_gradient(loss, p["W2"]),
        "db2": numerical_gradient(loss, p["b2"]),
        "dA1": numerical_gradient(loss_of_A1, A1),
        "dZ1": numerical_gradient(loss_of_Z1, Z1),
        "dW1": numerical_gradient(loss, p["W1"]),
        "db1": numerical_gradient(loss, p["b1"]),
    }


@functools.lru_cache(maxsize=1)
def _digits() -> Split:
    return load_digits()


def _params_copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in params.items()}


def _usable(value: Any, shape: tuple[int, ...]) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.shape == shape
        and value.dtype.kind == "f"
        and bool(np.isfinite(value).all())
    )


def _local(
    key: str, got: dict, ref: dict, f: dict, X: np.ndarray, y: np.ndarray, W2: np.ndarray
) -> tuple[np.ndarray, str, list[Slip]]:
    """The value `key` should have given the learner's own upstream gradient (where usable),
    what it was computed from, and the catalogue of slips made from that same upstream."""
    n = len(y)
    Z1, A1, P, Y = f["Z1"], f["A1"], f["P"], one_hot(y)
    if key == "dlogits":
        columns = P.copy()
        columns[:, y] -= 1
        softmax_columns = np.exp(f["logits"]) / np.exp(f["logits"]).sum(axis=0, keepdims=True)
        return (
            ref["dlogits"],
            "",
            [
                Slip(
                    "{name} is the softmax P alone: the gradient of the softmax cross-entropy "
                    "subtracts the one-hot target, (P − Y)/N",
                    P / n,
                ),
                Slip(
                    "{name} subtracts 1 from whole columns: P[:, y] -= 1 picks every row of "
                    "the columns y; pick the pairs (n, yₙ) with P[np.arange(N), y] -= 1",
                    columns / n,
                ),
                Slip(
                    "{name} normalises the softmax over the batch (axis=0): normalise each "
                    "row over its 10 classes (axis=1)",
                    (softmax_columns - Y) / n,
                ),
                Slip(
                    "{name} forgets the 1/N: ℒ is the mean over the batch, so ∂ℒ/∂logits = "
                    "(P − Y)/N",
                    P - Y,
                ),
                Slip(
                    "{name} has the opposite sign: ∂ℒ/∂logits is the prediction minus the "
                    "target, (P − Y)/N",
                    (Y - P) / n,
                ),
            ],
        )
    upstream = {"dW2": "dlogits", "db2": "dlogits", "dA1": "dlogits", "dZ1": "dA1"}.get(key, "dZ1")
    shapes = {"dlogits": (n, C), "dA1": (n, H), "dZ1": (n, H)}
    mine = _usable(got.get(upstream), shapes[upstream])
    u = got[upstream].astype(np.float64) if mine else ref[upstream]
    source = f"your {upstream}" if mine else ""
    last = "the last example of the batch only"
    plus = (
        "{name} equals the contribution of " + last + ": `=` where `+=` belongs? The "
        "examples' contributions add up"
    )
    if key == "dW2":
        return (
            u.T @ A1,
            source,
            [
                Slip(
                    "{name} uses Z1, the hidden layer before ReLU: the output layer's input is "
                    "A1 = ReLU(Z1), dW2 = dlogits.T @ A1",
                    u.T @ Z1,
                ),
                Slip(plus, np.outer(u[-1], A1[-1])),
                Slip(
                    "{name} is N = " + str(n) + " times too small: the 1/N is already in "
                    "dlogits; do not divide again",
                    u.T @ A1 / n,
                ),
            ],
        )
    if key in ("db2", "db1"):
        name_up = upstream
        return (
            u.sum(axis=0),
            source,
            [
                Slip(
                    "{name} is the mean of " + name_up + " over the batch: the 1/N is already "
                    "in "
                    + name_up
                    + "; the bias gradient sums over the batch axis, "
                    + name_up
                    + ".sum(axis=0)",
                    u.mean(axis=0),
                ),
                Slip(plus, u[-1]),
            ]
            + (
                [
                    Slip(
                        "{name} sums dA1, before the ReLU mask: sum dZ1 over the batch",
                        ref["dA1"].sum(axis=0)
                        if not _usable(got.get("dA1"), (n, H))
                        else got["dA1"].sum(axis=0),
                    )
                ]
                if key == "db1"
                else []
            ),
        )
    if key == "dA1":
        return (
            u @ W2,
            source,
            [
                Slip(
                    "{name} already has the ReLU mask: dA1 is ∂ℒ/∂A1, the gradient at the ReLU's "
                    "output; the mask belongs in dZ1",
                    (u @ W2) * (Z1 > 0),
                ),
                Slip(
                    "{name} is N = " + str(n) + " times too small: the 1/N is already in "
                    "dlogits; do not divide again",
                    u @ W2 / n,
                ),
            ],
        )
    if key == "dZ1":
        return (
            u * (Z1 > 0),
            source,
            [
                Slip(
                    "{name} equals dA1: the ReLU derivative is missing, dZ1 = dA1 ⊙ ReLU'(Z1), "
                    "with ReLU'(z) = 1 where z > 0 and 0 elsewhere",
                    u,
                ),
                Slip(
                    "{name} takes the ReLU mask from the wrong quantity (dA1 > 0, the upstream "
                    "gradient): ReLU'(z) depends on the layer's input, keep dA1 where Z1 > 0",
                    u * (u > 0),
                ),
                Slip(
                    "{name} has the ReLU mask on the wrong side: it keeps dA1 where Z1 ≤ 0; "
                    "ReLU passes the gradient where Z1 > 0",
                    u * (Z1 <= 0),
                ),
                Slip(
                    "{name} multiplies by A1 = ReLU(Z1): the derivative ReLU'(Z1) is 0 or 1, "
                    "(Z1 > 0)",
                    u * A1,
                ),
            ],
        )
    # dW1
    dA1 = got["dA1"] if _usable(got.get("dA1"), (n, H)) else ref["dA1"]
    return (
        u.T @ X,
        source,
        [
            Slip(
                "{name} uses dA1 where dZ1 belongs: the ReLU mask is missing from the weight "
                "gradient, dW1 = dZ1.T @ X",
                dA1.T @ X,
            ),
            Slip(plus, np.outer(u[-1], X[-1])),
            Slip(
                "{name} is N = " + str(n) + " times too small: the 1/N is already in dlogits; do "
                "not divide again",
                u.T @ X / n,
            ),
        ],
    )


def _shape_hints(key: str, n: int) -> dict[tuple[int, ...], str] | None:
    if key in ("db2", "db1"):
        up = "dlogits" if key == "db2" else "dZ1"
        return {
            (n,): f"{key} is summed over the wrong axis: axis=1 adds up each example's entries; "
            f"the bias gradient sums over the batch, {up}.sum(axis=0)",
            (n, C if key == "db2" else H): f"{key} keeps the batch axis: b is added to every row "
            f"(a broadcast), so its gradient sums {up} over the rows, {up}.sum(axis=0)",
        }
    if key == "dA1":
        return {(n, C): "dA1 has the shape of dlogits: multiply by W2, dA1 = dlogits @ W2"}
    return None
