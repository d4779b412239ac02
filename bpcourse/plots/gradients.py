"""Pictures for lesson 07: hidden activations layer by layer, and clipping a gradient in 2-D.

    plot_activation_histograms({"tanh, Xavier": depth_profile(10, "tanh"), ...}, layers=[1, 5, 9])
    plot_clipping_2d(np.array([3.0, 0.8]), c=1.0)

`plot_activation_histograms` draws one row per network (a `bpcourse.diagnostics.DepthProfile`)
and one column per hidden layer, each panel titled with that layer's standard deviation.
`plot_clipping_2d` draws a gradient, its clipping by value (each entry into [-c, c], the
square) and by norm (scaled onto the circle of radius c), with the angle of each arrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bpcourse.diagnostics import DepthProfile
from bpcourse.validation import check_positive

__all__ = ["plot_activation_histograms", "plot_clipping_2d"]

RELU_RANGE = (0.0, 3.0)  # ReLU activations above 3 are drawn in the last bin
TANH_RANGE = (-1.0, 1.0)
SIGMOID_RANGE = (0.0, 1.0)


def _range(activation: str) -> tuple[float, float]:
    return {"relu": RELU_RANGE, "sigmoid": SIGMOID_RANGE}.get(activation, TANH_RANGE)


def plot_activation_histograms(
    profiles: Mapping[str, DepthProfile],
    layers: Sequence[int],
    colors: Sequence[str] | None = None,
    bins: int = 40,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Histograms of the hidden activations $a^{(l)}$, one row per profile, one column per layer.

    `layers` are hidden layers, 1..depth-1 of every profile. Values outside the activation's
    usual range (ReLU above 3) are drawn in the edge bin. Each panel's title gives the layer
    and the standard deviation of all its activations; the row label is the profile's name.
    """
    layers = list(layers)
    if not profiles or not layers:
        raise ValueError("need at least one profile and one layer")
    for name, prof in profiles.items():
        bad = [layer for layer in layers if not 1 <= layer < prof.depth]
        if bad:
            raise ValueError(f"{name!r} has hidden layers 1..{prof.depth - 1}; got {bad}")
    colors = list(colors) if colors is not None else ["C0"] * len(profiles)
    if len(colors) != len(profiles):
        raise ValueError(f"need one colour per profile ({len(profiles)}); got {len(colors)}")
    figsize = figsize or (3 * len(layers), 2.1 * len(profiles) + 0.2)
    fig, axes = plt.subplots(
        len(profiles), len(layers), figsize=figsize, layout="constrained", squeeze=False
    )
    for row, colour, (name, prof) in zip(axes, colors, profiles.items(), strict=True):
        edges = np.linspace(*_range(prof.activation), bins + 1)
        for ax, layer in zip(row, layers, strict=True):
            a = prof.activations[layer - 1].ravel()
            ax.hist(np.clip(a, edges[0], edges[-1]), bins=edges, color=colour)
            ax.set_title(f"layer {layer}: std {a.std():.3f}", fontsize=9)
            ax.set_yticks([])
        row[0].set_ylabel(name, fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel(r"activation $a^{(l)}$")
    return fig


def plot_clipping_2d(g: np.ndarray, c: float, ax: Axes | None = None) -> Axes:
    """A 2-D gradient `g`, clipped by value and by norm at threshold `c`, as arrows from 0.

    By value: every entry into [-c, c] (the dotted square); by norm: g scaled by
    min(1, c/||g||) (onto the dotted circle). The legend gives each arrow's angle in degrees.
    """
    g = np.asarray(g, dtype=float)
    if g.shape != (2,):
        raise ValueError(f"g must be a 2-vector, shape (2,); got shape {g.shape}")
    c = check_positive(c, "c")
    if ax is None:
        ax = plt.figure(figsize=(5, 4), layout="constrained").add_subplot()
    arrows = [
        (g, "k", "original g"),
        (np.clip(g, -c, c), "C3", f"clipped by value, c = {c:g}"),
        (g * min(1.0, c / np.linalg.norm(g)), "C0", f"clipped by global norm, c = {c:g}"),
    ]
    for vec, colour, label in arrows:
        arrow = {"arrowstyle": "->", "color": colour, "lw": 2}
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=arrow)
        angle = np.degrees(np.arctan2(vec[1], vec[0]))
        ax.plot([], [], color=colour, lw=2, label=f"{label}: angle {angle:.0f}°")
    ax.add_patch(plt.Rectangle((-c, -c), 2 * c, 2 * c, fill=False, ls=":", color="C3"))
    ax.add_patch(plt.Circle((0, 0), c, fill=False, ls=":", color="C0"))
    reach = max(np.abs(g).max(), c) * 1.1
    ax.set(
        xlim=(min(-1.3 * c, g[0] - 0.1 * reach), max(1.3 * c, g[0] + 0.1 * reach)),
        ylim=(min(-1.3 * c, g[1] - 0.1 * reach), max(1.6 * c, g[1] + 0.1 * reach)),
        aspect="equal",
        xlabel="$g_1$",
        ylabel="$g_2$",
        title="a gradient in two dimensions",
    )
    ax.legend(fontsize=8, loc="lower right")
    return ax
