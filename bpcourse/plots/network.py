r"""A small fully connected network drawn as circles and lines, with numbers on them.

    draw_network([2, 2, 1], node_text={(1, 0): "z = 0.3\na = 0.57"},
                 edge_text={(2, 0, 1): "w = 0.8"}, highlight_nodes=[(2, 0)])

Nodes are keyed (l, j): unit j of layer l, both counted from 0, layer 0 being the input.
Edges are keyed (l, j, k): the weight $w^{(l)}_{jk}$ from unit k of layer l-1 to unit j of
layer l, so that edge (l, j, k) is entry [j, k] of W(l), whose shape is (n_out, n_in).
Inputs are on the left, the output on the right, unit 0 at the top. For networks of a few
units per layer (the text gets crowded beyond about 4).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Circle

__all__ = ["diagram_limits", "draw_network", "edge_label_position", "node_position"]

LAYER_GAP = 3.6  # between neighbouring layers' centres, in data units
UNIT_GAP = 1.9  # between neighbouring units of a layer
RADIUS = 0.42
COLORS = {"input": "#dbeafe", "hidden": "#fef9e7", "output": "#dcfce7"}
HIGHLIGHT = "#f59e0b"
BOX: dict[str, Any] = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"}


def node_position(sizes: Sequence[int], layer: int, unit: int) -> tuple[float, float]:
    """The centre of unit `unit` of layer `layer`: layers left to right, unit 0 on top."""
    return layer * LAYER_GAP, ((sizes[layer] - 1) / 2 - unit) * UNIT_GAP


def diagram_limits(sizes: Sequence[int]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(xlim, ylim) of the drawing in data units: room for every circle and the text under it."""
    top = (max(sizes) - 1) / 2 * UNIT_GAP + RADIUS + 0.2
    right = (len(sizes) - 1) * LAYER_GAP + RADIUS + 1.9  # the output's text is on its right
    return (-RADIUS - 1.0, right), (-top - 1.3, top)


def edge_label_position(n_in: int, k: int) -> float:
    """Where along an edge from unit k (of n_in) its text sits, as a fraction from the input
    end: edges from the top unit are labelled near their start, from the bottom one near their
    end, so that the labels of crossing edges stay apart."""
    return 0.4 if n_in == 1 else 0.34 + 0.32 * k / (n_in - 1)


def _layer_kind(sizes: Sequence[int], layer: int) -> str:
    return "input" if layer == 0 else "output" if layer == len(sizes) - 1 else "hidden"


def draw_network(
    sizes: Sequence[int],
    ax: Axes | None = None,
    node_labels: Mapping[tuple[int, int], str] | None = None,
    node_text: Mapping[tuple[int, int], str] | None = None,
    edge_text: Mapping[tuple[int, int, int], str] | None = None,
    highlight_nodes: Collection[tuple[int, int]] = (),
    highlight_edges: Collection[tuple[int, int, int]] = (),
    fontsize: float = 9.0,
) -> Axes:
    """Draw a network of the given layer sizes and return the Axes.

    node_labels: the name inside each circle (default $x_k$, $a^{(l)}_j$ counted from 1).
    node_text: numbers beside each node (under it; right of the output units).
    edge_text: numbers on each edge.
    highlight_nodes / highlight_edges: drawn in orange, thicker, e.g. the step being taught.
    """
    node_text, edge_text = node_text or {}, edge_text or {}
    highlight_nodes, highlight_edges = set(highlight_nodes), set(highlight_edges)
    if ax is None:
        (x0, x1), (y0, y1) = diagram_limits(sizes)
        _, ax = plt.subplots(figsize=(0.8 * (x1 - x0), 0.8 * (y1 - y0)))

    for layer in range(1, len(sizes)):
        for j in range(sizes[layer]):
            for k in range(sizes[layer - 1]):
                (x0, y0), (x1, y1) = (
                    node_position(sizes, layer - 1, k),
                    node_position(sizes, layer, j),
                )
                lit = (layer, j, k) in highlight_edges
                ax.plot(
                    [x0, x1],
                    [y0, y1],
                    color=HIGHLIGHT if lit else "0.55",
                    linewidth=2.6 if lit else 1.0,
                    zorder=1,
                    gid=f"edge {layer} {j} {k}",
                )
                if (layer, j, k) in edge_text:
                    t = edge_label_position(sizes[layer - 1], k)
                    ax.text(
                        x0 + t * (x1 - x0),
                        y0 + t * (y1 - y0),
                        edge_text[(layer, j, k)],
                        ha="center",
                        va="center",
                        fontsize=0.85 * fontsize,
                        color="black",
                        bbox={**BOX, "edgecolor": HIGHLIGHT if lit else "none"},
                        zorder=4,
                    )

    for layer, size in enumerate(sizes):
        kind = _layer_kind(sizes, layer)
        for j in range(size):
            x, y = node_position(sizes, layer, j)
            lit = (layer, j) in highlight_nodes
            ax.add_patch(
                Circle(
                    (x, y),
                    RADIUS,
                    facecolor=HIGHLIGHT if lit else COLORS[kind],
                    edgecolor="black" if lit else "0.35",
                    linewidth=2.0 if lit else 1.0,
                    zorder=2,
                    gid=f"node {layer} {j}",
                )
            )
            default = f"$x_{j + 1}$" if layer == 0 else f"$a^{{({layer})}}_{j + 1}$"
            label = (node_labels or {}).get((layer, j), default)
            ax.text(x, y, label, ha="center", va="center", fontsize=fontsize + 1, zorder=3)
            if (layer, j) in node_text:
                last = layer == len(sizes) - 1  # the output's text goes right, the others below
                ax.text(
                    x + RADIUS + 0.12 if last else x,
                    y if last else y - RADIUS - 0.08,
                    node_text[(layer, j)],
                    ha="left" if last else "center",
                    va="center" if last else "top",
                    fontsize=0.85 * fontsize,
                    family="monospace",
                    zorder=4,
                    bbox={**BOX, "facecolor": "#fff7e6" if lit else "white"},
                )

    xlim, ylim = diagram_limits(sizes)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
