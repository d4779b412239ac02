"""Draw the computation graph of a `bpcourse.autodiff.Value` with matplotlib (no graphviz).

    from bpcourse.plots.graph import draw_graph
    f.backward()
    draw_graph(f)

Inputs are on the left and the output on the right. Every Value is a rounded box with its
label (if any), data and grad; the operation that made it is the small oval just before it,
with arrows from the inputs into the operation and from the operation to its result. The
first operand of an operation (the `a` of `a - b`) enters its oval highest.
Meant for small graphs (up to a few dozen nodes), such as one neuron or a short formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from bpcourse.autodiff import Value, topological_order

__all__ = ["GraphLayout", "draw_graph", "graph_layout"]

# Sizes in data units; one unit is INCH inches when draw_graph makes the figure.
INCH = 0.8
BOX_W, BOX_H = 1.7, 0.72  # a Value's box
OP_W, OP_H = 0.8, 0.42  # an operation's oval
OP_GAP = 0.22  # between an oval and the box of its result
COLUMN = 3.3  # distance between the centres of neighbouring columns
ROW = 1.0  # distance between the centres of neighbouring slots in a column

COLORS = {
    "parameter": "#dbeafe",  # a leaf with requires_grad=True: something we can train
    "constant": "#eeeeee",  # a leaf with requires_grad=False, e.g. the 3 in x * 3
    "inner": "#fef9e7",  # computed from other Values
    "output": "#dcfce7",  # the root of the drawing
}
CENTRED: dict[str, Any] = {"ha": "center", "va": "center", "zorder": 3}
LINE: dict[str, Any] = {"color": "#444444", "linewidth": 1.0, "zorder": 1}

# A slot in a column: a Value, or the point where an arrow (parent, child) crosses a column.
Slot = Value | tuple[Value, Value, int]


@dataclass
class GraphLayout:
    """Where draw_graph puts things, in columns (left to right) and rows (row 0 in the middle).

    Attributes:
        column, row: of every Value in the graph.
        waypoints: for each (parent, child) whose arrow skips columns, the (column, row) of
            the free slot it passes through in every column in between.
    """

    column: dict[Value, int]
    row: dict[Value, float]
    waypoints: dict[tuple[Value, Value], list[tuple[int, float]]]


def graph_layout(root: Value, sweeps: int = 4) -> GraphLayout:
    """Place root's graph in columns so that every arrow goes left to right.

    The root is in the last column, and every other node one column left of its leftmost
    consumer, so inputs sit next to the operation that uses them. An arrow that skips
    columns gets a free slot in each column it crosses, so it never passes behind a box.
    Within a column the slots are spaced one row apart, centred on row 0, and ordered to
    avoid crossings: each sweep moves every slot towards the mean row of its neighbours.
    """
    order = topological_order(root)
    children: dict[Value, list[Value]] = {node: [] for node in order}
    for node in order:
        for parent in node.parents:
            children[parent].append(node)

    # Longest distance to the root, found from the root backwards (children come first).
    distance: dict[Value, int] = {}
    for node in reversed(order):
        distance[node] = max((distance[c] + 1 for c in children[node]), default=0)
    n_columns = max(distance.values()) + 1
    column = {node: n_columns - 1 - distance[node] for node in order}

    columns: list[list[Slot]] = [[] for _ in range(n_columns)]
    left: dict[Slot, list[Slot]] = {}  # neighbours in the previous column
    right: dict[Slot, list[Slot]] = {}  # neighbours in the next column
    for node in order:
        columns[column[node]].append(node)
        left[node], right[node] = [], []
    for child in order:
        for parent in dict.fromkeys(child.parents):  # each distinct parent once, in order
            previous: Slot = parent
            for c in range(column[parent] + 1, column[child]):
                waypoint = (parent, child, c)
                columns[c].append(waypoint)
                left[waypoint], right[waypoint] = [previous], []
                right[previous].append(waypoint)
                previous = waypoint
            right[previous].append(child)
            left[child].append(previous)

    row: dict[Slot, float] = {}

    def spread(slots: list[Slot]) -> None:
        for i, slot in enumerate(slots):  # the first slot on top
            row[slot] = (len(slots) - 1) / 2 - i

    def sort_by_neighbours(slots: list[Slot], neighbours: dict[Slot, list[Slot]]) -> None:
        def mean_row(slot: Slot) -> float:
            near = neighbours[slot]
            return sum(row[n] for n in near) / len(near) if near else row[slot]

        slots.sort(key=mean_row, reverse=True)  # stable: ties keep their order
        spread(slots)

    for slots in columns:
        spread(slots)
    for _ in range(sweeps):
        for slots in columns[1:]:
            sort_by_neighbours(slots, left)
        for slots in reversed(columns[:-1]):
            sort_by_neighbours(slots, right)

    waypoints = {
        (parent, child): [(c, row[(parent, child, c)]) for c in range(column[parent] + 1, col)]
        for child, col in column.items()
        for parent in child.parents
        if col - column[parent] > 1
    }
    return GraphLayout(column, {node: row[node] for node in order}, waypoints)


def _kind(node: Value, root: Value) -> str:
    if node is root:
        return "output"
    if node.parents:
        return "inner"
    return "parameter" if node.requires_grad else "constant"


def _spread(n: int, step: float) -> list[float]:
    """n offsets `step` apart, centred on 0, largest first."""
    return [((n - 1) / 2 - i) * step for i in range(n)]


def _curve(points: list[tuple[float, float]]) -> Path:
    """A smooth path through `points`, horizontal at each of them."""
    vertices, codes = [points[0]], [Path.MOVETO]
    for (x0, y0), (x1, y1) in pairwise(points):
        if y0 == y1:
            vertices.append((x1, y1))
            codes.append(Path.LINETO)
        else:
            half = (x1 - x0) / 2
            vertices += [(x0 + half, y0), (x1 - half, y1), (x1, y1)]
            codes += [Path.CURVE4] * 3
    return Path(vertices, codes)


def draw_graph(
    root: Value,
    ax: Axes | None = None,
    *,
    fontsize: float = 9.0,
    title: str | None = None,
    max_nodes: int = 150,
) -> Axes:
    """Draw root's computation graph, left to right, and return the Axes.

    Each Value shows its label, data and grad to 4 significant digits, so call
    `root.backward()` first to see gradients. Without `ax` a figure sized to the graph is
    made; with `ax`, give it room (about 2.6 x 0.8 inches per column x row).
    Raises a ValueError for graphs of more than `max_nodes` nodes, which would be unreadable.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs a Value, got {type(root).__name__}")
    n_nodes = len(topological_order(root))
    if n_nodes > max_nodes:
        raise ValueError(
            f"the graph has {n_nodes} nodes, too many to draw readably "
            f"(max_nodes={max_nodes}); draw a smaller expression"
        )
    layout = graph_layout(root)
    slot_rows = [*layout.row.values(), *(r for way in layout.waypoints.values() for _, r in way)]
    n_columns = max(layout.column.values()) + 1
    x_min = -BOX_W / 2 - 0.15
    x_max = (n_columns - 1) * COLUMN + BOX_W / 2 + 0.15
    y_max = max(abs(r) for r in slot_rows) * ROW + BOX_H / 2 + 0.15
    if ax is None:
        top = 0.5 if title else 0.0  # room for the title, in data units
        size = ((x_max - x_min) * INCH, (2 * y_max + top) * INCH)
        fig, ax = plt.subplots(figsize=size)
        fig.subplots_adjust(left=0, right=1, bottom=0, top=2 * y_max / (2 * y_max + top))

    def centre(column: float, row: float) -> tuple[float, float]:
        return column * COLUMN, row * ROW

    def op_x(node: Value) -> float:
        return centre(layout.column[node], 0)[0] - BOX_W / 2 - OP_GAP - OP_W / 2

    for node in layout.column:
        x, y = centre(layout.column[node], layout.row[node])
        box = FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=COLORS[_kind(node, root)],
            edgecolor="#555555",
            linewidth=1.0,
            zorder=2,
        )
        ax.add_patch(box)
        heading = node.label or ("constant" if _kind(node, root) == "constant" else "")
        numbers = f"data {node.data:.4g}\ngrad {node.grad:.4g}"
        if heading:
            ax.text(x, y + 0.2, heading, fontsize=fontsize, fontweight="bold", **CENTRED)
        text_y = y - 0.1 if heading else y
        ax.text(x, text_y, numbers, fontsize=0.9 * fontsize, family="monospace", **CENTRED)

        if node.parents:  # the operation's oval and its arrow to the box
            ox = op_x(node)
            oval = Ellipse((ox, y), OP_W, OP_H, facecolor="white", edgecolor="#555555", zorder=2)
            ax.add_patch(oval)
            ax.text(ox, y, node.op, fontsize=fontsize, **CENTRED)
            ax.add_patch(
                FancyArrowPatch(
                    (ox + OP_W / 2, y),
                    (x - BOX_W / 2, y),
                    arrowstyle="-|>",
                    mutation_scale=11,
                    shrinkA=0,
                    shrinkB=0,
                    **LINE,
                )
            )

    # Arrows from each input into its operation: one per use (x * x has two), each ending
    # at its own point on the left of the oval, the first operand highest.
    routes: list[list[tuple[float, float]]] = []
    starts: dict[Value, list[int]] = {}  # for each parent, which routes leave its box
    for child in layout.column:
        ends = _spread(len(child.parents), 0.13)
        for parent, dy in zip(child.parents, ends, strict=True):
            dx = OP_W / 2 * math.sqrt(1 - (dy / (OP_H / 2)) ** 2)  # on the oval's edge
            end = (op_x(child) - dx, layout.row[child] * ROW + dy)
            through = []  # straight through each free slot, from oval position to box edge
            for c, r in layout.waypoints.get((parent, child), []):
                x, y = centre(c, r)
                through += [(x - BOX_W / 2 - OP_GAP - OP_W, y), (x + BOX_W / 2, y)]
            starts.setdefault(parent, []).append(len(routes))
            routes.append([*through, end])
    for parent, indices in starts.items():
        x, y = centre(layout.column[parent], layout.row[parent])
        indices.sort(key=lambda i: -routes[i][0][1])  # the highest route leaves highest
        for i, dy in zip(
            indices, _spread(len(indices), min(0.13, 0.5 / len(indices))), strict=True
        ):
            routes[i].insert(0, (x + BOX_W / 2, y + dy))
    for points in routes:
        ax.add_patch(
            FancyArrowPatch(path=_curve(points), arrowstyle="-|>", mutation_scale=11, **LINE)
        )

    ax.set_xlim(x_min, x_max)
    ax.set_ylim(-y_max, y_max)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax
