"""Turning network outputs into class predictions, and scoring them."""

from __future__ import annotations

import numpy as np

from bpcourse.losses import Loss, get_loss


def predicted_labels(output: np.ndarray, loss: str | Loss = "softmax_cross_entropy") -> np.ndarray:
    """Class predictions (N,) from outputs (N, C): argmax, or a threshold for one output.

    A single output is a logit for binary cross-entropy (threshold 0) and a probability
    otherwise, e.g. a sigmoid output trained with squared error (threshold 0.5).
    """
    output = np.asarray(output)
    if output.ndim == 2 and output.shape[1] == 1:
        threshold = 0.0 if get_loss(loss).output == "logits" else 0.5
        return (output[:, 0] > threshold).astype(int)
    return np.argmax(output, axis=1)


def true_labels(target: np.ndarray) -> np.ndarray:
    """Labels (N,) from labels (N,), one-hot (N, C) or 0/1 targets (N, 1)."""
    target = np.asarray(target)
    if target.ndim == 1:
        return target.astype(int)
    if target.shape[1] == 1:
        return (target[:, 0] > 0.5).astype(int)
    return np.argmax(target, axis=1)


def is_classification(target: np.ndarray) -> bool:
    """True for integer labels, and for targets made only of 0s and 1s."""
    target = np.asarray(target)
    if target.dtype.kind in "iu":
        return True
    return bool(np.isin(target, (0.0, 1.0)).all())


def accuracy(
    output: np.ndarray, target: np.ndarray, loss: str | Loss = "softmax_cross_entropy"
) -> float:
    """The fraction of examples whose predicted class is the target class."""
    return float(np.mean(predicted_labels(output, loss) == true_labels(target)))


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = how many examples of class i were predicted as class j."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.shape != true.shape or labels.dtype.kind not in "iu":
            raise ValueError(
                f"confusion_matrix: {name} labels must be integers of shape {true.shape}, "
                f"got {labels.dtype} {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"confusion_matrix: {name} labels must lie in [0, {n_classes}), "
                f"got values from {labels.min()} to {labels.max()}"
            )
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    return counts
