"""Training curves from a `bpcourse.training.History`.

    history = train(net, X, y, validation=(X_val, y_val), epochs=30)
    plot_history(history)                       # loss and accuracy per epoch, train vs val
    plot_step_losses({"batch": h1, "stochastic": h2, "mini-batch 32": h3}, x="examples")

`plot_history` marks the best epoch (the lowest validation loss, the one early stopping
keeps). `plot_step_losses` draws the loss of every optimiser step, against the number of
training examples seen (a fair x-axis for comparing batch sizes), the wall-clock time, or
the step number, on a log scale, optionally smoothed by a moving average.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bpcourse.training import History

__all__ = ["best_epoch", "moving_average", "plot_history", "plot_metric", "plot_step_losses"]

TRAIN_COLOR = "C0"
VAL_COLOR = "C1"
BEST_COLOR = "0.4"
METRICS = ("loss", "accuracy")
X_AXES = {
    "examples": ("examples_seen", "training examples seen"),
    "time": ("wall_time", "wall-clock time (s)"),
    "steps": (None, "optimiser step"),
}


def best_epoch(history: History) -> int | None:
    """The epoch (counted from 1) with the lowest validation loss, or None without validation."""
    if history.best_epoch is not None:
        return history.best_epoch
    if history.val_loss:
        return int(np.argmin(history.val_loss)) + 1
    return None


def plot_metric(
    history: History, metric: str = "loss", ax: Axes | None = None, mark_best: bool = True
) -> Axes:
    """One metric ("loss" or "accuracy") per epoch: training, and validation if recorded."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    train = np.asarray(getattr(history, f"train_{metric}"), dtype=float)
    val = np.asarray(getattr(history, f"val_{metric}"), dtype=float)
    epochs = np.arange(1, len(train) + 1)
    if np.isnan(train).all() and len(train):
        ax.text(
            0.5,
            0.5,
            f"no {metric} (not a classification task)",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
    else:
        marker = "o" if len(train) <= 30 else None
        ax.plot(epochs, train, marker=marker, ms=3, color=TRAIN_COLOR, label="training")
        if len(val):
            ax.plot(
                epochs[: len(val)], val, marker=marker, ms=3, color=VAL_COLOR, label="validation"
            )
    best = best_epoch(history)
    if mark_best and best is not None:
        ax.axvline(
            best, color=BEST_COLOR, linestyle=":", linewidth=1.5, label=f"best epoch ({best})"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


def plot_history(
    history: History,
    ax: Axes | Sequence[Axes] | None = None,
    metrics: Sequence[str] = METRICS,
) -> Figure:
    """Training and validation curves per epoch, one panel per metric; returns the Figure.

    `ax` is an Axes (for one metric) or one Axes per metric; by default a new figure with the
    panels side by side. The best epoch (lowest validation loss) is marked in each panel.
    """
    metrics = list(metrics)
    if ax is None:
        _, axes = plt.subplots(
            1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False, layout="constrained"
        )
        panels = list(axes.flat)
    else:
        panels = [ax] if isinstance(ax, Axes) else list(ax)
        if len(panels) != len(metrics):
            raise ValueError(f"{len(metrics)} metrics need as many Axes, got {len(panels)}")
    for panel, metric in zip(panels, metrics, strict=True):
        plot_metric(history, metric, ax=panel)
        panel.set_title(f"{metric} per epoch")
    figure = panels[0].get_figure()
    assert isinstance(figure, Figure)
    return figure


def moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Means of `window` consecutive values (len(values) - window + 1 of them)."""
    values = np.asarray(values, dtype=float)
    window = max(1, min(int(window), len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_step_losses(
    histories: Mapping[str, History],
    x: Literal["examples", "time", "steps"] = "examples",
    ax: Axes | None = None,
    smooth: int | None = None,
    smooth_examples: int | None = None,
) -> Axes:
    """The loss of every optimiser step of each run, on a log scale, to compare batch sizes.

    x: "examples" (training examples seen), "time" (wall-clock seconds) or "steps".
    smooth: a moving-average window (in steps); the raw losses are then drawn faintly behind.
    smooth_examples: a window in training examples instead, the same amount of data for every
    run: smooth_examples / (examples per step) steps, so 256 examples average 256 stochastic
    steps but 8 steps of 32.
    """
    if x not in X_AXES:
        raise ValueError(f"x must be one of {tuple(X_AXES)}, got {x!r}")
    if smooth is not None and smooth_examples is not None:
        raise ValueError("give smooth (in steps) or smooth_examples (in examples), not both")
    attribute, xlabel = X_AXES[x]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    shown = []  # the values of the lines in the legend, to choose the y-range from
    for i, (label, history) in enumerate(histories.items()):
        losses = np.asarray(history.step_loss, dtype=float)
        xs = (
            np.arange(1, len(losses) + 1)
            if attribute is None
            else np.asarray(getattr(history, attribute), dtype=float)
        )
        color = f"C{i % 10}"
        window = smooth
        if smooth_examples is not None and len(losses) and history.examples_seen:
            per_step = history.examples_seen[-1] / len(losses)
            window = max(1, round(smooth_examples / per_step))
        if window is not None and 1 < window < len(losses):
            averaged = moving_average(losses, window)
            ax.plot(xs, losses, color=color, alpha=0.2, linewidth=0.8)
            ax.plot(xs[window - 1 :], averaged, color=color, linewidth=1.8, label=label)
            shown.append(averaged)
        else:
            marker = "o" if len(losses) <= 50 else None
            ax.plot(xs, losses, color=color, linewidth=1.2, marker=marker, ms=3, label=label)
            shown.append(losses)
    ax.set_yscale("log")
    values = np.concatenate(shown) if shown else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:  # single steps can reach 1e-15: keep the range to what the lines show
        low, high = np.percentile(values, [1, 100])
        ax.set_ylim(low / 2, high * 2)
    ax.set_xlabel(xlabel)
    title = "loss of each step"
    ax.set_ylabel("training loss (one batch)")
    if smooth is not None and smooth > 1:
        title += f" (moving average over {smooth} steps)"
    elif smooth_examples is not None and smooth_examples > 1:
        title += f" (moving average over {smooth_examples} examples)"
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if histories:
        ax.legend()
    return ax
