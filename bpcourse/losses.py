r"""Loss functions, each returning the loss and its gradient with respect to the prediction.

Every loss takes a batch as rows, `prediction` of shape (N, C), and returns
`(loss, dPrediction)`: a Python float averaged over the batch, and an array of the
prediction's shape. Averaging over the batch is why each gradient carries a $1/N$.

| name | prediction | target | gradient |
|---|---|---|---|
| half_squared_error | values $\hat y$ | same shape | $(\hat y-y)/N$ |
| mse | values $\hat y$ | same shape | $2(\hat y-y)/(NC)$ |
| binary_cross_entropy | logits $z$ | 0/1 (or in [0, 1]) | $(\sigma(z)-y)/(NC)$ |
| softmax_cross_entropy | logits $z$ | labels (N,) or one-hot (N, C) | $(p-y)/N$ |

The two cross-entropies take logits (scores before the sigmoid or softmax), as PyTorch's
`BCEWithLogitsLoss` and `CrossEntropyLoss` do: fused, they are stable at any input
(logits of ±1e4 give finite losses and gradients) and the gradient is the simple $p-y$.

Bad input, the same for every loss: complex or non-numeric input raises TypeError; an empty
batch (N = 0) raises ShapeError saying so; a NaN or inf in the prediction, logits or target
raises NonFiniteError naming the first bad index; float16 is computed in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpcourse.activations import sigmoid, softmax_and_log_softmax
from bpcourse.validation import ShapeError, as_float_array, check_finite, check_ndim, lookup

LossResult = tuple[float, np.ndarray]


def _checked_prediction(prediction: np.ndarray, loss: str, what: str = "prediction") -> np.ndarray:
    """The prediction (or logits) as a real (N, C) array with N >= 1, finite.

    One behaviour for every loss: a NaN or inf in the prediction raises NonFiniteError
    naming the first bad index (no NaN loss is returned); an empty batch raises ShapeError.
    float16 is computed in float32 (as_float_array), so no loss overflows at ±6e4.
    """
    y = check_ndim(as_float_array(prediction, f"{loss}: {what}"), 2, f"{loss}: {what}", "(N, C)")
    if y.shape[0] == 0:
        raise ShapeError(
            f"{loss}: the batch is empty ({what} of shape {y.shape}): a loss averages over "
            "at least one example"
        )
    return check_finite(y, f"{loss}: {what}")


def _prediction_and_target(prediction: np.ndarray, target: np.ndarray, loss: str):
    y = _checked_prediction(prediction, loss)
    t = as_float_array(target, f"{loss}: target", dtype=y.dtype)
    if t.ndim == 1 and y.shape[1] == 1:
        t = t[:, None]
    if t.shape != y.shape:
        raise ShapeError(
            f"{loss}: target must have the prediction's shape {y.shape}, got shape {t.shape}"
        )
    return y, check_finite(t, f"{loss}: target")


def half_squared_error(prediction: np.ndarray, target: np.ndarray) -> LossResult:
    r"""$\mathcal L = \frac1N\sum_n \tfrac12\lVert \hat y_n - y_n\rVert^2$.

    Gradient: $\partial \mathcal L/\partial \hat y = (\hat y-y)/N$.
    """
    y, t = _prediction_and_target(prediction, target, "half_squared_error")
    diff = y - t
    n = y.shape[0]
    return float(0.5 * np.sum(diff * diff) / n), diff / n


def mse(prediction: np.ndarray, target: np.ndarray) -> LossResult:
    r"""Mean of $(\hat y-y)^2$ over every entry.

    Gradient: $\partial \mathcal L/\partial \hat y = 2(\hat y-y)/(NC)$.
    """
    y, t = _prediction_and_target(prediction, target, "mse")
    diff = y - t
    return float(np.mean(diff * diff)), 2 * diff / diff.size


def binary_cross_entropy(logits: np.ndarray, target: np.ndarray) -> LossResult:
    r"""Binary cross-entropy from logits $z$, averaged over every entry.

    Uses $-y\log\sigma(z) - (1-y)\log(1-\sigma(z)) = \mathrm{softplus}(z) - yz$, which
    never takes the log of 0. Gradient: $(\sigma(z) - y)/(NC)$.
    """
    z, t = _prediction_and_target(logits, target, "binary_cross_entropy")
    if not np.all((t >= 0) & (t <= 1)):  # written so that NaN fails too
        raise ValueError("binary_cross_entropy: targets must lie in [0, 1] (and not be NaN)")
    loss = np.mean(np.logaddexp(0, z) - t * z)
    return float(loss), (sigmoid(z) - t) / z.size


def softmax_cross_entropy(logits: np.ndarray, target: np.ndarray) -> LossResult:
    r"""Softmax cross-entropy from logits $z$ of shape (N, C), averaged over the batch.

    `target` is either integer labels of shape (N,) in [0, C) or one-hot / class
    probabilities of shape (N, C). Gradient: $(\mathrm{softmax}(z) - y)/N$.
    """
    z = _checked_prediction(logits, "softmax_cross_entropy", "logits")
    n = z.shape[0]
    p, log_p = softmax_and_log_softmax(z, validated=True)
    labels = _labels(target, z.shape, "softmax_cross_entropy")
    if labels is None:  # one-hot or class probabilities
        y = one_hot_targets(target, z.shape, "softmax_cross_entropy", z.dtype)
        return float(-(y * log_p).sum() / n), (p - y) / n
    # Labels: the same numbers without building the one-hot matrix (p is ours to change).
    rows = np.arange(n)
    loss = -log_p[rows, labels].sum() / n
    p[rows, labels] -= 1
    p /= n
    return float(loss), p


def _labels(target: np.ndarray, shape: tuple[int, ...], loss: str) -> np.ndarray | None:
    """Integer labels (N,) checked against the batch's shape (N, C); None for a 2-D target."""
    n, c = shape
    target = np.asarray(target)
    if target.ndim == 1:
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"{loss}: integer labels expected for a target of shape ({n},), "
                f"got dtype {target.dtype} (use y.astype(int), or pass one-hot targets)"
            )
        if target.shape[0] != n:
            raise ShapeError(f"{loss}: {target.shape[0]} labels for a batch of {n} predictions")
        # Two quick reductions on the happy path; the bad indices are found only for the message.
        if target.size and (target.min() < 0 or target.max() >= c):
            bad = np.flatnonzero((target < 0) | (target >= c))
            raise ValueError(
                f"{loss}: labels must lie in [0, {c}) for {c} classes; "
                f"got {target[bad[0]]} at index {bad[0]} ({bad.size} out of range)"
            )
        return target
    return None


def one_hot_targets(
    target: np.ndarray, shape: tuple[int, ...], loss: str, dtype: np.dtype | type = np.float64
) -> np.ndarray:
    """Labels (N,) or probabilities (N, C) as a (N, C) array of the given shape, checked."""
    n = shape[0]
    labels = _labels(target, shape, loss)
    if labels is not None:
        y = np.zeros(shape, dtype=dtype)
        y[np.arange(n), labels] = 1.0
        return y
    y = check_finite(as_float_array(target, f"{loss}: target", dtype=dtype), f"{loss}: target")
    if y.shape != tuple(shape):
        raise ShapeError(
            f"{loss}: target must be labels of shape ({n},) or one-hot of shape {tuple(shape)}, "
            f"got shape {y.shape}"
        )
    if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(f"{loss}: each row of a one-hot target must be >= 0 and sum to 1")
    return y


@dataclass(frozen=True)
class Loss:
    """A loss function with its formula and what the network's output should be."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], LossResult]
    output: str  # "values" or "logits": what the last layer must produce
    formula: str

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> LossResult:
        return self.function(prediction, target)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss(
            "half_squared_error", half_squared_error, "values", r"\tfrac12\lVert \hat y-y\rVert^2"
        ),
        Loss("mse", mse, "values", r"\frac1C\sum_c (\hat y_c-y_c)^2"),
        Loss(
            "binary_cross_entropy",
            binary_cross_entropy,
            "logits",
            r"-y\log\sigma(z)-(1-y)\log(1-\sigma(z))",
        ),
        Loss(
            "softmax_cross_entropy",
            softmax_cross_entropy,
            "logits",
            r"-\sum_c y_c\log\mathrm{softmax}(z)_c",
        ),
    ]
}


def get_loss(name: str | Loss) -> Loss:
    """Look up a loss by name (case-insensitive); unknown names list the valid ones."""
    if isinstance(name, Loss):
        return name
    return lookup(name, LOSSES, "loss")
