r"""A function and its derivative on one pair of axes; the activations of the library's table.

    from bpcourse.plots.functions import plot_activation, plot_activation_table
    plot_activation("relu")          # f and f', with the jump of ReLU' at 0 drawn honestly
    plot_activation_table()          # every element-wise activation of ACTIVATIONS

The curves come from `bpcourse.activations`, so a figure shows exactly what the library
computes. Where $f'$ jumps (ReLU and Leaky ReLU at $z = 0$) it is drawn in two pieces, with a
filled dot at the value the library uses at the kink and an open dot at the other limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bpcourse.activations import ACTIVATIONS, Activation, get_activation

__all__ = [
    "ELEMENTWISE",
    "activation_derivative",
    "mathtext",
    "plot_activation",
    "plot_activation_table",
    "plot_function_and_derivative",
]

FUNCTION_COLOR = "C0"
DERIVATIVE_COLOR = "C1"
N_POINTS = 401  # odd, so that a symmetric range has a sample at exactly 0

# The activations that act element by element (softmax mixes its inputs: no f' curve).
ELEMENTWISE = tuple(name for name, act in ACTIVATIONS.items() if act.derivative is not None)


def mathtext(latex: str) -> str:
    """A LaTeX formula of the library as matplotlib mathtext, between dollar signs."""
    return "$" + latex.replace(r"\tfrac", r"\frac") + "$"


def activation_derivative(activation: str | Activation, z: np.ndarray) -> np.ndarray:
    """f'(z) from the library's table, given z (the derivative also needs a = f(z))."""
    act = get_activation(activation)
    if act.derivative is None:
        raise ValueError(f"{act.name} is not element-wise: it has a Jacobian, not one f' curve")
    z = np.asarray(z, dtype=float)
    return act.derivative(z, act.function(z))


def _style_axes(ax: Axes, xlabel: str) -> None:
    ax.axhline(0, color="0.6", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.6", linewidth=0.8, zorder=0)
    ax.grid(True, alpha=0.3)
    ax.set_xlabel(xlabel)


def plot_function_and_derivative(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x_range: tuple[float, float] = (-5.0, 5.0),
    ax: Axes | None = None,
    labels: tuple[str, str] = ("$f(x)$", "$f'(x)$"),
    xlabel: str = "$x$",
) -> Axes:
    """Draw f and its derivative df (both vectorised) over x_range, with a legend."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    x = np.linspace(*x_range, N_POINTS)
    ax.plot(x, f(x), color=FUNCTION_COLOR, linewidth=2, label=labels[0], gid="function")
    ax.plot(
        x, df(x), color=DERIVATIVE_COLOR, linewidth=2, ls="--", label=labels[1], gid="derivative"
    )
    _style_axes(ax, xlabel)
    ax.legend()
    return ax


def _jump_at_zero(act: Activation) -> tuple[float, float, float] | None:
    """(left limit, value at 0, right limit) of f' if f' jumps at z = 0, else None."""
    left, at, right = activation_derivative(act, np.array([-1e-9, 0.0, 1e-9]))
    if abs(left - right) < 1e-6:
        return None
    return float(left), float(at), float(right)


def plot_activation(
    name: str | Activation,
    ax: Axes | None = None,
    x_range: tuple[float, float] = (-5.0, 5.0),
    title: bool = True,
) -> Axes:
    """Draw an activation f and its derivative f' from the library's table.

    The lines carry gid "function" and "derivative" (f' may be two lines, left and right of
    a jump). The title is the activation's formula unless `title=False`.
    """
    act = get_activation(name)
    if act.derivative is None:
        raise ValueError(
            f"{act.name} is not element-wise (its Jacobian mixes the inputs), so it has no "
            f"single f' curve to draw; choose one of {', '.join(ELEMENTWISE)}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    z = np.linspace(*x_range, N_POINTS)
    ax.plot(z, act(z), color=FUNCTION_COLOR, linewidth=2, label="$f(z)$", gid="function")
    derivative: dict[str, Any] = {
        "color": DERIVATIVE_COLOR,
        "linewidth": 2,
        "linestyle": "--",
        "gid": "derivative",
    }
    jump = _jump_at_zero(act) if x_range[0] < 0 < x_range[1] else None
    if jump is None:
        ax.plot(z, activation_derivative(act, z), label="$f'(z)$", **derivative)
    else:
        left, at, right = jump
        neg, pos = z[z < 0], z[z > 0]
        ax.plot(neg, activation_derivative(act, neg), label="$f'(z)$", **derivative)
        ax.plot(pos, activation_derivative(act, pos), **derivative)
        other = right if at == left else left  # the limit the library does not use at 0
        dot: dict[str, Any] = {
            "marker": "o",
            "ms": 7,
            "ls": "none",
            "color": DERIVATIVE_COLOR,
            "zorder": 3,
        }
        ax.plot([0], [at], markerfacecolor=DERIVATIVE_COLOR, label=f"$f'(0) = {at:g}$", **dot)
        ax.plot([0], [other], markerfacecolor="white", **dot)
    _style_axes(ax, "$z$")
    ax.legend(loc="upper left")
    if title:
        ax.set_title(mathtext(act.formula), fontsize=10)
    return ax


def plot_activation_table(
    names: Sequence[str] | None = None,
    x_range: tuple[float, float] = (-4.0, 4.0),
    ncols: int = 3,
) -> Figure:
    """A grid with one panel per activation (all element-wise ones by default): f and f'.

    Each panel's title is the activation's name; its formulas for f and f' are under it.
    """
    names = list(ELEMENTWISE if names is None else names)
    ncols = min(ncols, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes.flat, names, strict=False):
        act = get_activation(name)
        plot_activation(act, ax=ax, x_range=x_range, title=False)
        formulas = f"{mathtext(act.formula)}\n{mathtext(act.derivative_formula)}"
        ax.set_title(f"{act.name}\n{formulas}", fontsize=10)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    return fig
