"""Drawing autodiff graphs: the layout keeps arrows left to right and boxes apart, and the
drawing shows every node's label, operation, data and grad."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

from bpcourse.autodiff import Neuron, Value, topological_order
from bpcourse.plots.graph import draw_graph, graph_layout


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def formula() -> Value:
    """f = x*x + x*y + exp(x) at x = 2, y = -3, after backward."""
    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    f = x * x + x * y + x.exp()
    f.label = "f"
    f.backward()
    return f


def neuron() -> Value:
    out = Neuron(3)([1.0, -2.0, 0.5]).sigmoid() ** 2 / 3 + 2 ** Value(0.5, label="e")
    out.backward()
    return out


def edges(root: Value) -> list[tuple[Value, Value]]:
    return [(p, node) for node in topological_order(root) for p in node.parents]


@pytest.mark.parametrize("make", [formula, neuron])
def test_layout_puts_inputs_left_of_their_operations(make):
    root = make()
    layout = graph_layout(root)
    nodes = topological_order(root)
    assert set(layout.column) == set(layout.row) == set(nodes)
    last = max(layout.column.values())
    assert layout.column[root] == last
    for parent, child in edges(root):
        assert layout.column[parent] < layout.column[child]
    for node in nodes:
        if node is not root:  # one column left of its leftmost consumer
            consumers = [c for p, c in edges(root) if p is node]
            assert layout.column[node] == min(layout.column[c] for c in consumers) - 1


@pytest.mark.parametrize("make", [formula, neuron])
def test_layout_gives_every_box_and_long_arrow_its_own_slot(make):
    root = make()
    layout = graph_layout(root)
    long_edges = {(p, c) for p, c in edges(root) if layout.column[c] - layout.column[p] > 1}
    assert set(layout.waypoints) == long_edges
    slots = [(layout.column[n], layout.row[n]) for n in layout.column]
    for (parent, child), points in layout.waypoints.items():
        assert [c for c, _ in points] == list(
            range(layout.column[parent] + 1, layout.column[child])
        )
        slots += points
    for column in {c for c, _ in slots}:
        rows = sorted(r for c, r in slots if c == column)
        assert all(b - a == 1 for a, b in itertools.pairwise(rows)), "evenly spaced"
        assert rows[0] == -rows[-1], "centred"


def test_formula_layout_has_a_free_slot_for_the_arrow_from_x_to_exp():
    f = formula()
    x = next(n for n in topological_order(f) if n.label == "x")
    exp = next(n for n in topological_order(f) if n.op == "exp")
    layout = graph_layout(f)
    assert (layout.column[x], layout.column[exp]) == (0, 2)
    assert len(layout.waypoints[(x, exp)]) == 1


def test_draw_graph_shows_labels_ops_data_and_grads():
    f = formula()
    ax = draw_graph(f, title="f = x*x + x*y + exp(x)")
    texts = [t.get_text() for t in ax.texts]
    assert {"x", "y", "f"} <= set(texts)
    assert "data 2\ngrad 8.389" in texts  # df/dx = 2x + y + e^x = 8.389
    assert "data -3\ngrad 2" in texts
    assert "data 5.389\ngrad 1" in texts
    assert sorted(t for t in texts if t in {"*", "+", "exp"}) == ["*", "*", "+", "+", "exp"]
    assert ax.get_title() == "f = x*x + x*y + exp(x)"


def test_draw_graph_draws_a_box_per_value_an_oval_per_operation_and_an_arrow_per_edge():
    root = neuron()
    nodes = topological_order(root)
    ax = draw_graph(root)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    ovals = [p for p in ax.patches if isinstance(p, Ellipse)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == len(nodes)
    assert len(ovals) == sum(1 for n in nodes if n.parents)
    assert len(arrows) == len(ovals) + len(edges(root))  # op -> box, and input -> op
    assert "constant" in [t.get_text() for t in ax.texts]  # the 3 of `/ 3`, and others


def test_nothing_overlaps():
    ax = draw_graph(neuron())
    ax.figure.canvas.draw()
    shapes = [p.get_window_extent() for p in ax.patches if isinstance(p, FancyBboxPatch | Ellipse)]
    for a, b in itertools.combinations(shapes, 2):
        assert not a.overlaps(b)
    figure = ax.figure.get_window_extent()
    for text in ax.texts:  # every text inside the figure and inside its box or oval
        extent = text.get_window_extent()
        assert figure.x0 <= extent.x0 and extent.x1 <= figure.x1
        assert any(s.x0 <= extent.x0 and extent.x1 <= s.x1 for s in shapes), text.get_text()


def test_numbers_are_shown_to_4_significant_digits():
    big, small = Value(1234567.0), Value(0.000123456)
    out = big * small
    out.backward()
    texts = [t.get_text() for t in draw_graph(out).texts]
    assert "data 1.235e+06\ngrad 0.0001235" in texts
    assert "data 0.0001235\ngrad 1.235e+06" in texts
    assert "data 152.4\ngrad 1" in texts


def test_draw_graph_uses_the_given_axes_and_saves(tmp_path):
    fig, ax = plt.subplots(figsize=(10, 4))
    assert draw_graph(formula(), ax=ax) is ax
    path = tmp_path / "graph.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000


def test_a_single_value_is_one_box():
    ax = draw_graph(Value(3.0, label="x"))
    assert [type(p) for p in ax.patches] == [FancyBboxPatch]
    assert [t.get_text() for t in ax.texts] == ["x", "data 3\ngrad 0"]


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="draw_graph needs a Value, got float"):
        draw_graph(1.0)
    y = x = Value(1.0)
    for _ in range(200):
        y = y + x
    with pytest.raises(ValueError, match="the graph has 201 nodes, too many"):
        draw_graph(y)
