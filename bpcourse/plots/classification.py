"""What a classifier does: its decision regions in 2-D, its confusion matrix, digits it reads.

    plot_decision_boundary(net, X, y)                    # net.predict, or any function of X
    plot_confusion_matrix(confusion_matrix(y, pred, 10))
    plot_digits(split.images[2], split.y_test, predicted=pred)

Class c is drawn in colour C{c} everywhere (the regions, the points and the legend).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from bpcourse.metrics import predicted_labels

__all__ = [
    "class_colors",
    "grid_predictions",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_digits",
]

MISTAKE_COLOR = "#c62828"


def class_colors(n_classes: int) -> list[str]:
    """The colour of each class: matplotlib's cycle C0, C1, ... (tab10)."""
    return [f"C{c % 10}" for c in range(n_classes)]


def _predict_labels(model: Any, X: np.ndarray) -> np.ndarray:
    """Class labels (N,) from a network (its predict method) or a function of X.

    The outputs become labels as in `bpcourse.metrics.predicted_labels`: the argmax of
    several outputs; for one output a threshold of 0.5 if the network ends in a sigmoid (a
    probability), else 0 (a logit). A function may also return the labels themselves.
    """
    predict: Callable[[np.ndarray], Any] = getattr(model, "predict", model)
    output = np.asarray(predict(X))
    if output.ndim == 1:
        return np.rint(output).astype(int) if output.dtype.kind == "f" else output.astype(int)
    probability = getattr(model, "output_activation", "identity") == "sigmoid"
    return predicted_labels(output, "half_squared_error" if probability else "binary_cross_entropy")


def grid_predictions(
    model: Any, xlim: tuple[float, float], ylim: tuple[float, float], resolution: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, labels) with labels[i, j] the predicted class at the point (xs[j], ys[i])."""
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    labels = _predict_labels(model, np.c_[X.ravel(), Y.ravel()])
    return xs, ys, labels.reshape(X.shape)


def plot_decision_boundary(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    margin: float = 0.5,
    class_names: Sequence[str] | None = None,
) -> Axes:
    """The regions where `model` predicts each class (filled), and the data (X, y) on top.

    `model` is a network (its `predict` is used) or a function mapping points (N, 2) to
    outputs (N, C) or labels (N,). The filled contour has one band per class, at levels
    c ± 0.5, so its boundaries are exactly where the prediction changes.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y).astype(int)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision boundaries are drawn for 2-D inputs (N, 2), got {X.shape}")
    xlim = (X[:, 0].min() - margin, X[:, 0].max() + margin)
    ylim = (X[:, 1].min() - margin, X[:, 1].max() + margin)
    xs, ys, labels = grid_predictions(model, xlim, ylim, resolution)
    n_classes = int(max(y.max(initial=0), labels.max(initial=0))) + 1
    colors = class_colors(n_classes)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xs, ys, labels, levels=levels, cmap=ListedColormap(colors), alpha=0.25)
    ax.contour(xs, ys, labels, levels=levels[1:-1], colors="0.3", linewidths=0.8)
    names = (
        list(class_names) if class_names is not None else [f"class {c}" for c in range(n_classes)]
    )
    for c in range(n_classes):
        points = X[y == c]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=18,
            color=colors[c],
            edgecolor="black",
            linewidth=0.4,
            label=names[c],
        )
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    accuracy = float(np.mean(_predict_labels(model, X) == y))
    ax.set_title(f"decision regions (accuracy {accuracy:.1%})")
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    return ax


def plot_confusion_matrix(
    cm: np.ndarray,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str = "confusion matrix",
) -> Axes:
    """The counts cm[i, j] (true class i predicted as j) as an annotated heat map."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square (C, C), got shape {cm.shape}")
    n = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(c) for c in range(n)]
    if ax is None:
        size = max(3.5, 0.45 * n + 1.5)
        _, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            color = "white" if cm[i, j] > threshold else "black"
            ax.text(
                j,
                i,
                f"{cm[i, j]:g}",
                ha="center",
                va="center",
                color=color,
                fontsize=9 if n <= 10 else 7,
            )
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    correct = np.trace(cm) / cm.sum() if cm.sum() else float("nan")
    ax.set_title(f"{title} (accuracy {correct:.1%})")
    figure = ax.get_figure()
    if figure is not None:
        figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="count")
    return ax


def plot_digits(
    images: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray | None = None,
    n: int = 20,
    ncols: int = 10,
) -> Figure:
    """The first n images in a grid, each titled with its label ("7"), or with its label and
    the prediction ("7 → 1", in red) where the prediction is wrong.

    Images are (N, h, w), or flattened (N, h*w) square images such as the 8x8 digits.
    """
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"cannot reshape rows of {images.shape[1]} pixels into squares")
        images = images.reshape(-1, side, side)
    n = min(n, len(images))
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(1.1 * ncols, 1.3 * nrows), squeeze=False, layout="constrained"
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k], cmap="gray_r", interpolation="nearest")
        label = int(labels[k])
        if predicted is None or int(predicted[k]) == label:
            ax.set_title(str(label), fontsize=11)
        else:
            ax.set_title(f"{label} → {int(predicted[k])}", fontsize=11, color=MISTAKE_COLOR)
    return fig
