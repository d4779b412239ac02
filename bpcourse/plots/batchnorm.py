r"""The computational graph of batch normalisation's training-mode forward pass (lesson 10).

    from bpcourse.plots.batchnorm import draw_batchnorm_graph
    draw_batchnorm_graph()

One node per intermediate of `bpcourse.batchnorm.batchnorm_graph_forward`
($x, \mu, x_c, s, \sigma^2, \sigma, \iota, \hat x$, the output $o$ and the parameters
$\gamma, \beta$).
Each edge is labelled with its operation (black, above) and with the local derivative that
the backward pass multiplies by (red, below); the backward pass runs right to left.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch

__all__ = ["BATCHNORM_EDGES", "BATCHNORM_NODES", "draw_batchnorm_graph"]

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
