r"""A recurrent network unrolled in time: one column per step, the same weights in every column.

    draw_unrolled_rnn(T=4)

Bottom row: the inputs $x_1..x_T$; middle row: the hidden states $h_0..h_T$, joined left to
right by $W_{hh}$; top row: the per-step losses $\mathcal L_t$ (from $\hat y_t$). With
`backward=True` the gradient's paths are drawn as well: into $h_t$ from its own loss (the
direct term) and from $h_{t+1}$ through $W_{hh}^\top$.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch

from bpcourse.validation import check_int

__all__ = ["draw_unrolled_rnn"]

GAP = 2.2  # between neighbouring steps' centres, in data units
ROWS = {"x": 0.0, "h": 1.6, "loss": 3.2}
COLORS = {"x": "#dbeafe", "h": "#fef9e7", "loss": "#dcfce7"}
FORWARD = "#374151"
BACKWARD = "#dc2626"
BOX: dict[str, Any] = {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"}


def _node(ax: Axes, x: float, y: float, text: str, kind: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - 0.42, y - 0.3),
            0.84,
            0.6,
            boxstyle="round,pad=0.05",
            facecolor=COLORS[kind],
            edgecolor="#6b7280",
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **style: Any) -> None:
    props = {"arrowstyle": "-|>", "color": FORWARD, "lw": 1.4, "shrinkA": 0, "shrinkB": 0}
    props.update(style)
    ax.annotate("", xy=end, xytext=start, arrowprops=props, zorder=2)


def draw_unrolled_rnn(T: int = 4, backward: bool = False, ax: Axes | None = None) -> Axes:
    """Draw the unrolled graph of T steps (h_0 on the left) and return the Axes."""
    T = check_int(T, "T")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * (T + 1) + 1, 3.6))
    y_x, y_h, y_loss = ROWS["x"], ROWS["h"], ROWS["loss"]
    _node(ax, 0.0, y_h, "$h_0$", "h")
    for t in range(1, T + 1):
        c = t * GAP
        _node(ax, c, y_x, f"$x_{t}$", "x")
        _node(ax, c, y_h, f"$h_{t}$", "h")
        _node(ax, c, y_loss, rf"$\mathcal{{L}}_{t}$", "loss")
        w, hh = 0.44, 0.32  # half the width and height of a box, plus a margin
        _arrow(ax, (c - GAP + w, y_h), (c - w, y_h))
        ax.text(c - GAP / 2, y_h + 0.12, "$W_{hh}$", ha="center", fontsize=10)
        _arrow(ax, (c, y_x + hh), (c, y_h - hh))
        ax.text(c + 0.08, (y_x + y_h) / 2, "$W_{xh}$", ha="left", va="center", fontsize=9)
        _arrow(ax, (c, y_h + hh), (c, y_loss - hh))
        ax.text(c - 0.08, (y_h + y_loss) / 2, r"$\hat y_t$", ha="right", va="center", fontsize=9)
        if backward:
            red = {"color": BACKWARD, "ls": "--", "connectionstyle": "arc3,rad=-0.4"}
            _arrow(ax, (c + 0.2, y_loss - hh), (c + 0.2, y_h + hh), **red)
            _arrow(ax, (c - 0.2, y_h - hh), (c - GAP + 0.2, y_h - hh), **red)
    ax.text(
        T * GAP / 2,
        y_x - 0.75,
        "the same $W_{hh}$, $W_{xh}$, $b$ at every step"
        + ("   (red, dashed: the gradient's paths)" if backward else ""),
        ha="center",
        fontsize=10,
    )
    ax.set_xlim(-0.7, T * GAP + 0.8)
    ax.set_ylim(y_x - 1.0, y_loss + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
