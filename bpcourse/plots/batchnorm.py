r"""Lesson 10's figures: batch norm's computational graph, and deep-network training runs
with and without batch norm.

    from bpcourse.plots.batchnorm import draw_batchnorm_graph
    draw_batchnorm_graph()
    plot_learning_rate_runs(runs, rates)        # runs[lr, batchnorm]: DeepRun
    plot_init_scale_runs(init_runs, signals)    # init_runs[c, batchnorm], signals[c, batchnorm]

One node per intermediate of `bpcourse.batchnorm.batchnorm_graph_forward`
($x, \mu, x_c, s, \sigma^2, \sigma, \iota, \hat x$, the output $o$ and the parameters
$\gamma, \beta$).
Each edge is labelled with its operation (black, above) and with the local derivative that
the backward pass multiplies by (red, below); the backward pass runs right to left.

The run figures draw runs without batch norm in blue (C0), with it in red (C3), the loss on a
log scale with the chance level ln 10, and a cross at the epoch where a run diverged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.ticker import LogFormatter

from bpcourse.deep_training import DeepRun

__all__ = [
    "BATCHNORM_EDGES",
    "BATCHNORM_NODES",
    "draw_batchnorm_graph",
    "plot_init_scale_runs",
    "plot_learning_rate_runs",
]

COLOR = {False: "C0", True: "C3"}  # without, with batch norm

# name: (x, y, label, kind)
BATCHNORM_NODES: dict[str, tuple[float, float, str, str]] = {
    "X": (0.0, 0.0, r"$x$", "input"),
    "mu": (2.2, 1.5, r"$\mu$", "inner"),
    "xc": (4.0, 0.0, r"$x_c$", "inner"),
    "sq": (5.4, -1.6, r"$s$", "inner"),
    "var": (7.2, -1.6, r"$\sigma^2$", "inner"),
    "std": (9.0, -1.6, r"$\sigma$", "inner"),
    "inv_std": (10.8, -1.6, r"$\iota$", "inner"),
    "x_hat": (12.2, 0.0, r"$\hat x$", "inner"),
    "gamma": (13.0, 1.7, r"$\gamma$", "parameter"),
    "beta": (16.0, 1.7, r"$\beta$", "parameter"),
    "out": (14.6, 0.0, r"$o$", "output"),
}

# (from, to, operation, local derivative d(to)/d(from))
BATCHNORM_EDGES: list[tuple[str, str, str, str]] = [
    ("X", "mu", "mean", r"$\frac{1}{N}$"),
    ("X", "xc", r"$x-\mu$", r"$1$"),
    ("mu", "xc", "", r"$-1$"),
    ("xc", "sq", r"$(\cdot)^2$", r"$2x_c$"),
    ("sq", "var", "mean", r"$\frac{1}{N}$"),
    ("var", "std", r"$\sqrt{\cdot+\epsilon}$", r"$\frac{1}{2\sigma}$"),
    ("std", "inv_std", r"$1/\cdot$", r"$-\frac{1}{\sigma^2}$"),
    ("xc", "x_hat", r"$x_c\,\iota$", r"$\iota$"),
    ("inv_std", "x_hat", "", r"$x_c$"),
    ("x_hat", "out", r"$\gamma\hat x+\beta$", r"$\gamma$"),
    ("gamma", "out", "", r"$\hat x$"),
    ("beta", "out", "", r"$1$"),
]

COLORS = {"input": "#dcfce7", "inner": "#f3f4f6", "parameter": "#dbeafe", "output": "#fde68a"}
RADIUS = 0.42


def draw_batchnorm_graph(ax: Axes | None = None, fontsize: float = 11.0) -> Axes:
    """Draw the graph (about 12 x 4 inches when `ax` is None) and return the Axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 4))
    for x, y, label, kind in BATCHNORM_NODES.values():
        ax.add_patch(Circle((x, y), RADIUS, facecolor=COLORS[kind], edgecolor="#444", zorder=2))
        ax.text(x, y, label, fontsize=fontsize + 3, ha="center", va="center", zorder=3)
    for start, end, operation, local in BATCHNORM_EDGES:
        x0, y0 = BATCHNORM_NODES[start][:2]
        x1, y1 = BATCHNORM_NODES[end][:2]
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=14,
                shrinkA=RADIUS * 72 * 0.62,
                shrinkB=RADIUS * 72 * 0.62,
                color="#444",
                zorder=1,
            )
        )
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        if y0 == y1:  # horizontal: the operation above the edge, the derivative below
            above, below = (mx, my + 0.22, "center", "bottom"), (mx, my - 0.2, "center", "top")
        else:  # slanted: the operation on its left, the derivative on its right
            above, below = (mx - 0.3, my, "right", "center"), (mx + 0.3, my, "left", "center")
        if operation:
            x, y, ha, va = above
            ax.text(x, y, operation, fontsize=fontsize, ha=ha, va=va)
        x, y, ha, va = below
        ax.text(x, y, local, fontsize=fontsize, ha=ha, va=va, color="C3")
    ax.set_xlim(-0.7, 16.7)
    ax.set_ylim(-2.4, 2.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        "Batch norm, one feature, training mode: operation (black) and local derivative (red) "
        "on each edge; backward runs right to left",
        fontsize=fontsize,
    )
    return ax


def _loss_curve(ax: Axes, run: DeepRun, label: str, **style: Any) -> None:
    """One run's loss per epoch, and a cross at the epoch where it diverged."""
    color = COLOR[run.batchnorm]
    ax.plot(np.arange(len(run.train_loss)), run.train_loss, color=color, label=label, **style)
    if run.diverged_at is not None:
        ax.plot(
            [run.diverged_at],
            [run.train_loss[run.diverged_at - 1]],
            "x",
            color=color,
            markersize=12,
            markeredgewidth=3,
            label=f"{label}: diverged",
        )


def loss_axis(ax: Axes, chance_label: str = "chance level, ln 10") -> None:
    """A log-scale loss axis with the chance level ln 10 (a dotted line) and plain tick labels
    (0.2, 0.5, 1, 2 rather than 2×10⁻¹ and 5×10⁻¹, which crowd an axis under one decade)."""
    ax.axhline(np.log(10), color="0.5", linestyle=":", label=chance_label)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_PlainLogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))
    ax.grid(True, which="both", alpha=0.3)


class _PlainLogFormatter(LogFormatter):
    """matplotlib's choice of which log ticks to label (more of them on a short range), each
    written as a plain number: 0.2 and 3, not 2e−01 or 3×10⁰."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def _finish(ax: Axes, fontsize: float, **legend: Any) -> None:
    loss_axis(ax)
    ax.legend(fontsize=fontsize, **legend)


def plot_learning_rate_runs(
    runs: Mapping[tuple[float, bool], DeepRun],
    rates: Sequence[float],
    curves: Sequence[float] = (0.1, 1.0),
) -> Figure:
    """Two panels (12 x 4.2 inches): the loss per epoch for the rates in `curves` (solid, then
    dashed), and the loss after the last epoch against the learning rate (log-log).

    `runs[lr, batchnorm]` holds a `DeepRun` for every lr in `rates` and both batchnorm values.
    """
    fig, (ax_curves, ax_sweep) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for lr, linestyle in zip(curves, ("-", "--", ":", "-."), strict=False):
        for bn in (False, True):
            run = runs[lr, bn]
            _loss_curve(
                ax_curves,
                run,
                f"{run.label()}, η = {lr:g}",
                linestyle=linestyle,
                marker="o",
                markersize=3,
            )
    ax_curves.set(
        xlabel="epoch",
        ylabel="training loss ℒ",
        title=f"Training loss per epoch, {runs[rates[0], False].depth} layers",
    )
    _finish(ax_curves, 9)
    for bn in (False, True):
        ax_sweep.plot(
            rates,
            [runs[lr, bn].final_loss for lr in rates],
            "o-",
            color=COLOR[bn],
            label="with batch norm" if bn else "without batch norm",
        )
    ax_sweep.set(
        xscale="log",
        xlabel="learning rate η",
        ylabel="training loss after the last epoch",
        title="Learning-rate sweep",
    )
    _finish(ax_sweep, 9)
    return fig


def plot_init_scale_runs(
    init_runs: Mapping[tuple[float, bool], DeepRun],
    signals: Mapping[tuple[float, bool], np.ndarray],
) -> Figure:
    """Two panels (12 x 4.2 inches) for weights initialised at c x He: the standard deviation
    of each hidden activation of the untrained network (`signals[c, batchnorm]`, shape
    (hidden layers,), see `bpcourse.deep_training.hidden_signal_sizes`), and the loss per
    epoch of `init_runs[c, batchnorm]`. One marker per c (up to three values).
    """
    fig, (ax_signal, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    scales = sorted({c for c, _ in init_runs})
    for c, marker in zip(scales, ("v", "o", "^"), strict=False):
        for bn in (False, True):
            label = f"{'with' if bn else 'without'} BN, c = {c:g}"
            sizes = signals[c, bn]
            ax_signal.plot(
                range(1, len(sizes) + 1), sizes, marker=marker, color=COLOR[bn], label=label
            )
            _loss_curve(ax_loss, init_runs[c, bn], label, marker=marker, markersize=4)
    run = init_runs[scales[0], False]
    ax_signal.set(
        yscale="log",
        xlabel="hidden layer l",
        ylabel="standard deviation of $a^{(l)}$",
        title="The signal through the untrained network",
    )
    ax_signal.grid(True, which="both", alpha=0.3)
    ax_signal.legend(fontsize=9, ncols=2, loc="upper left")
    ax_loss.set(
        xlabel="epoch",
        ylabel="training loss ℒ",
        title=f"Training, η = {run.lr:g}, weights = c × He",
    )
    _finish(ax_loss, 9, ncols=2, loc="upper right")
    return fig
