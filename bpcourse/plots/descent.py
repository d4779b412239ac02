r"""Gradient descent drawn: iterates on a 1-D curve, paths on the contours of a 2-D function.

    ax, path = plot_descent_1d(f, df, x0=2.0, lr=0.1, steps=10)
    ax, path = plot_descent_2d(f, grad, start=(-1.5, 1.0), lr=0.05, steps=40)
    plot_path_on_contours(f, {"momentum": path1, "Adam": path2})   # paths from anywhere

Each step is $x_{k+1} = x_k - \eta\, f'(x_k)$; `gradient_descent` returns the iterates
$x_0, \dots, x_K$ that the plots draw, so a lesson can print or check them too.

A 2-D function takes a point `w` of shape (2,) and returns a number, e.g.
`lambda w: w[0]**2 + 10 * w[1]**2`. Written like that, with `w[0]`, `w[1]` and NumPy
functions, it also accepts a whole grid of shape (2, ny, nx), which the contour plot uses for
speed; any other function is called point by point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

__all__ = [
    "gradient_descent",
    "plot_descent_1d",
    "plot_descent_2d",
    "plot_path_on_contours",
]

CURVE_COLOR = "C0"
PATH_COLOR = "C3"
ARROW: dict[str, Any] = {
    "arrowstyle": "-|>",
    "mutation_scale": 12,
    "color": PATH_COLOR,
    "linewidth": 1.2,
    "shrinkA": 4,
    "shrinkB": 4,
    "zorder": 3,
}
DIVERGED = 1e12  # an iterate this large (or not finite) ends the path


def gradient_descent(
    grad: Callable[[Any], Any], start: float | np.ndarray | tuple[float, ...], lr: float, steps: int
) -> np.ndarray:
    """The iterates x_0 .. x_steps of x <- x - lr * grad(x), as an array (steps + 1, ...).

    A scalar start gives a 1-D array; a point of shape (d,) gives shape (steps + 1, d).
    The path ends early if an iterate becomes infinite, NaN or larger than 1e12 (divergence).
    """
    x = np.array(start, dtype=float)
    path = [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x = x - lr * np.asarray(grad(x), dtype=float)
            if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > DIVERGED:
                break
            path.append(x.copy())
    return np.array(path)


def _padded(lo: float, hi: float, fraction: float = 0.15) -> tuple[float, float]:
    """[lo, hi] widened by `fraction` of its width on each side (by 0.5 if lo == hi)."""
    pad = max(fraction * (hi - lo), 0.5 if hi == lo else 0.0)
    return float(lo - pad), float(hi + pad)


def plot_descent_1d(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x0: float,
    lr: float,
    steps: int,
    ax: Axes | None = None,
    x_range: tuple[float, float] | None = None,
) -> tuple[Axes, np.ndarray]:
    """Draw f, and the gradient-descent iterates from x0 on it, joined by arrows.

    Returns (ax, path) with path the iterates x_0 .. x_K (K <= steps, fewer on divergence).
    `x_range` defaults to the iterates' range, padded.
    """
    path = gradient_descent(df, float(x0), lr, steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    lo, hi = x_range if x_range is not None else _padded(path.min(), path.max())
    x = np.linspace(lo, hi, 400)
    ax.plot(x, f(x), color=CURVE_COLOR, linewidth=2, label="$f(x)$")
    heights = np.asarray(f(path), dtype=float)
    for k in range(len(path) - 1):
        ax.add_patch(FancyArrowPatch((path[k], heights[k]), (path[k + 1], heights[k + 1]), **ARROW))
    ax.plot(path, heights, "o", color=PATH_COLOR, ms=5, zorder=4, label="iterates $x_k$")
    ax.plot(path[:1], heights[:1], "s", color="black", ms=7, zorder=5, label=f"$x_0 = {x0:g}$")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"gradient descent, $\\eta = {lr:g}$, {len(path) - 1} steps")
    ax.legend()
    return ax, path


def evaluate_on_grid(f: Callable[[np.ndarray], Any], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """f at every point of the grid xs x ys, as an array (len(ys), len(xs))."""
    X, Y = np.meshgrid(xs, ys)
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(f(np.stack([X, Y])), dtype=float)
        if values.shape == X.shape:
            return values
    except (TypeError, ValueError, IndexError):
        pass
    flat = [float(f(np.array([x, y]))) for x, y in zip(X.ravel(), Y.ravel(), strict=True)]
    return np.array(flat).reshape(X.shape)


def plot_path_on_contours(
    f: Callable[[np.ndarray], Any],
    paths: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    levels: int = 20,
    resolution: int = 200,
    labels: tuple[str, str] = ("$w_1$", "$w_2$"),
) -> Axes:
    """Contour lines of f, and one path (an array (k, 2) of points) per label, in its own colour.

    The contour levels are quantiles of f over the plotted region, so that both the steep
    walls and the flat valley floor get lines. xlim and ylim default to the paths' extent.
    """
    arrays = {label: np.asarray(p, dtype=float).reshape(-1, 2) for label, p in paths.items()}
    points = np.concatenate(list(arrays.values())) if arrays else np.zeros((1, 2))
    if xlim is None:
        xlim = _padded(points[:, 0].min(), points[:, 0].max())
    if ylim is None:
        ylim = _padded(points[:, 1].min(), points[:, 1].max())
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    values = evaluate_on_grid(f, xs, ys)
    finite = values[np.isfinite(values)]
    contour_levels = np.unique(np.quantile(finite, np.linspace(0, 1, levels + 2)[1:-1]))
    ax.contour(xs, ys, values, levels=contour_levels, cmap="viridis", linewidths=0.8)
    for i, (label, path) in enumerate(arrays.items()):
        color = PATH_COLOR if len(arrays) == 1 else f"C{(i + 3) % 10}"
        ax.plot(path[:, 0], path[:, 1], "o-", color=color, ms=3, linewidth=1.5, label=label)
        ax.plot(*path[0], "s", color=color, ms=7, markeredgecolor="black")
        ax.plot(*path[-1], "*", color=color, ms=12, markeredgecolor="black")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if arrays:
        ax.legend(title="■ start  ★ end", loc="best")
    return ax


def plot_descent_2d(
    f: Callable[[np.ndarray], Any],
    grad: Callable[[np.ndarray], np.ndarray],
    start: tuple[float, float] | np.ndarray,
    lr: float,
    steps: int,
    ax: Axes | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> tuple[Axes, np.ndarray]:
    """Run gradient descent from `start` and draw its path on the contours of f.

    Returns (ax, path) with path an array (K + 1, 2) of the iterates.
    """
    path = gradient_descent(grad, np.asarray(start, dtype=float), lr, steps)
    ax = plot_path_on_contours(f, {f"$\\eta = {lr:g}$": path}, ax=ax, xlim=xlim, ylim=ylim)
    ax.set_title(f"gradient descent, {len(path) - 1} steps")
    return ax, path
