"""The plotting helpers of bpcourse.plots: each runs without warnings, returns its Axes (or
Figure), and draws exactly the numbers it is given or that the library computes."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from bpcourse.activations import ACTIVATIONS
from bpcourse.network import MLP
from bpcourse.plots.classification import (
    MISTAKE_COLOR,
    grid_predictions,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_digits,
)
from bpcourse.plots.descent import (
    gradient_descent,
    plot_descent_1d,
    plot_descent_2d,
    plot_path_on_contours,
)
from bpcourse.plots.functions import (
    ELEMENTWISE,
    plot_activation,
    plot_activation_table,
    plot_function_and_derivative,
)
from bpcourse.plots.network import HIGHLIGHT, draw_network
from bpcourse.plots.training import moving_average, plot_history, plot_metric, plot_step_losses
from bpcourse.training import History


@pytest.fixture(autouse=True)
def no_warnings_and_close_figures():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    plt.close("all")


def render(figure) -> None:
    """Draw the figure to PNG: mathtext and layout errors only show up when drawing."""
    figure.savefig(io.BytesIO(), format="png", dpi=40)


def lines_with_gid(ax: Axes, gid: str):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


# --- functions ---------------------------------------------------------------------------------


def test_function_and_derivative_draws_both_curves():
    ax = plot_function_and_derivative(np.sin, np.cos, (-3, 3), labels=("sin", "cos"))
    assert isinstance(ax, Axes)
    (f,), (df,) = lines_with_gid(ax, "function"), lines_with_gid(ax, "derivative")
    x = f.get_xdata()
    assert x[0] == -3 and x[-1] == 3
    np.testing.assert_allclose(f.get_ydata(), np.sin(x))
    np.testing.assert_allclose(df.get_ydata(), np.cos(df.get_xdata()))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sin", "cos"]


def test_function_and_derivative_uses_the_given_axes():
    _, ax = plt.subplots()
    assert plot_function_and_derivative(np.exp, np.exp, (0, 1), ax=ax) is ax


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_curves_are_the_library_table(name):
    act = ACTIVATIONS[name]
    ax = plot_activation(name)
    (f,) = lines_with_gid(ax, "function")
    z = f.get_xdata()
    np.testing.assert_array_equal(f.get_ydata(), act(z))
    pieces = lines_with_gid(ax, "derivative")
    for piece in pieces:
        zs = np.asarray(piece.get_xdata())
        np.testing.assert_array_equal(piece.get_ydata(), act.derivative(zs, act(zs)))
    covered = np.concatenate([piece.get_xdata() for piece in pieces])
    assert set(covered) == set(z) - ({0.0} if len(pieces) == 2 else set())
    assert "$f(z)$" in ax.get_legend_handles_labels()[1]


@pytest.mark.parametrize(("name", "at_zero"), [("relu", 0.0), ("leaky_relu", 0.01)])
def test_a_jump_in_the_derivative_is_drawn_with_a_closed_and_an_open_dot(name, at_zero):
    ax = plot_activation(name)
    assert len(lines_with_gid(ax, "derivative")) == 2  # no vertical line through the jump
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 2
    closed, open_ = dots
    assert (closed.get_xdata()[0], closed.get_ydata()[0]) == (0, pytest.approx(at_zero))
    assert (open_.get_xdata()[0], open_.get_ydata()[0]) == (0, 1)
    assert to_rgba(open_.get_markerfacecolor()) == to_rgba("white")
    assert to_rgba(closed.get_markerfacecolor()) != to_rgba("white")
    assert f"$f'(0) = {at_zero:g}$" in ax.get_legend_handles_labels()[1]


def test_smooth_activations_have_one_derivative_line_and_no_dots():
    ax = plot_activation("tanh")
    assert len(lines_with_gid(ax, "derivative")) == 1
    assert not [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert "tanh" in ax.get_title()


def test_softmax_has_no_single_derivative_curve():
    with pytest.raises(ValueError, match="softmax is not element-wise"):
        plot_activation("softmax")


def test_activation_table_has_a_panel_per_activation():
    fig = plot_activation_table()
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(ELEMENTWISE)
    for ax, name in zip(visible, ELEMENTWISE, strict=True):
        assert ax.get_title().startswith(name + "\n")
        assert lines_with_gid(ax, "function") and lines_with_gid(ax, "derivative")
    render(fig)  # every formula is valid mathtext


def test_activation_table_of_chosen_names_hides_spare_panels():
    fig = plot_activation_table(["sigmoid", "relu"], ncols=3)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2


# --- descent -----------------------------------------------------------------------------------


def test_gradient_descent_on_a_parabola_is_geometric():
    path = gradient_descent(lambda x: 2 * x, 2.0, lr=0.1, steps=10)
    np.testing.assert_allclose(path, 2.0 * 0.8 ** np.arange(11))


def test_gradient_descent_stops_when_it_diverges():
    path = gradient_descent(lambda x: 2 * x, 1.0, lr=10.0, steps=100)  # x <- -19 x
    assert 5 < len(path) < 101
    assert np.all(np.isfinite(path)) and np.abs(path).max() <= 1e12


def test_descent_1d_draws_the_iterates_and_an_arrow_per_step():
    ax, path = plot_descent_1d(lambda x: x**2, lambda x: 2 * x, x0=2.0, lr=0.8, steps=6)
    expected = [2.0]
    for _ in range(6):
        expected.append(expected[-1] - 0.8 * 2 * expected[-1])
    np.testing.assert_allclose(path, expected)
    iterates = next(line for line in ax.get_lines() if line.get_label() == "iterates $x_k$")
    np.testing.assert_allclose(iterates.get_xdata(), expected)
    np.testing.assert_allclose(iterates.get_ydata(), np.square(expected))
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 6
    lo, hi = ax.get_xlim()
    assert lo < min(expected) and max(expected) < hi
    assert "0.8" in ax.get_title()


def quadratic(w):
    return w[0] ** 2 + 10 * w[1] ** 2


def quadratic_gradient(w):
    return np.array([2 * w[0], 20 * w[1]])


def test_descent_2d_returns_and_draws_the_path():
    ax, path = plot_descent_2d(
        quadratic, quadratic_gradient, (-2.0, 1.0), lr=0.05, steps=30, xlim=(-3, 3), ylim=(-2, 2)
    )
    w = np.array([-2.0, 1.0])
    expected = [w]
    for _ in range(30):
        w = w - 0.05 * np.array([2 * w[0], 20 * w[1]])
        expected.append(w)
    np.testing.assert_allclose(path, np.array(expected))
    line = next(line for line in ax.get_lines() if line.get_label() == "$\\eta = 0.05$")
    np.testing.assert_allclose(np.c_[line.get_xdata(), line.get_ydata()], expected)
    assert any(isinstance(c, ContourSet) for c in ax.collections)
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2, 2)


def test_paths_on_contours_one_line_per_label_and_any_function():
    paths = {
        "plain": gradient_descent(quadratic_gradient, np.array([2.0, 1.0]), 0.02, 40),
        "fast": gradient_descent(quadratic_gradient, np.array([2.0, 1.0]), 0.09, 40),
    }

    def pointwise(w):  # math.exp takes numbers only: evaluated point by point
        return math.exp(0.1 * float(quadratic(w)))

    ax = plot_path_on_contours(pointwise, paths, resolution=30)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["plain", "fast"]
    for label, path in paths.items():
        line = next(line for line in ax.get_lines() if line.get_label() == label)
        np.testing.assert_array_equal(line.get_xdata(), path[:, 0])
    render(ax.figure)


# --- training ----------------------------------------------------------------------------------


def history() -> History:
    return History(
        train_loss=[1.0, 0.5, 0.3, 0.2],
        train_accuracy=[0.5, 0.7, 0.8, 0.9],
        val_loss=[1.1, 0.6, 0.5, 0.55],
        val_accuracy=[0.45, 0.65, 0.75, 0.7],
        step_loss=[1.2, 1.0, 0.9, 0.7, 0.6, 0.5, 0.45, 0.4],
        examples_seen=[32, 64, 96, 128, 160, 192, 224, 256],
        wall_time=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08],
    )


def test_history_plots_training_and_validation_per_metric_and_marks_the_best_epoch():
    fig = plot_history(history())
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    for ax, metric in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        labels = ax.get_legend_handles_labels()[1]
        assert labels == ["training", "validation", "best epoch (3)"]
        train, val, best = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_array_equal(train.get_ydata(), getattr(history(), f"train_{metric}"))
        np.testing.assert_array_equal(val.get_ydata(), getattr(history(), f"val_{metric}"))
        assert list(best.get_xdata()) == [3, 3]
        assert ax.get_ylabel() == metric
    render(fig)


def test_history_best_epoch_from_early_stopping_wins():
    h = history()
    h.best_epoch = 2
    ax = plot_metric(h, "loss")
    assert "best epoch (2)" in ax.get_legend_handles_labels()[1]


def test_history_without_validation_has_no_best_epoch():
    h = History(train_loss=[1.0, 0.5], train_accuracy=[0.5, 0.6])
    ax = plot_metric(h, "accuracy")
    assert ax.get_legend_handles_labels()[1] == ["training"]


def test_history_on_given_axes_and_bad_metric():
    fig, axes = plt.subplots(1, 2)
    assert plot_history(history(), ax=list(axes)) is fig
    with pytest.raises(ValueError, match="2 metrics need as many Axes, got 1"):
        plot_history(history(), ax=axes[0])
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_metric(history(), "precision")


def test_step_losses_against_examples_time_and_steps_on_a_log_scale():
    short = History(step_loss=[1.5, 1.0], examples_seen=[128, 256], wall_time=[0.1, 0.2])
    histories = {"mini-batch": history(), "batch": short}
    for x, attribute in (("examples", "examples_seen"), ("time", "wall_time")):
        ax = plot_step_losses(histories, x=x)
        assert ax.get_yscale() == "log"
        mini, _ = ax.get_lines()
        np.testing.assert_array_equal(mini.get_xdata(), getattr(history(), attribute))
        np.testing.assert_array_equal(mini.get_ydata(), history().step_loss)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mini-batch", "batch"]
    ax = plot_step_losses(histories, x="steps")
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 9))
    with pytest.raises(ValueError, match="x must be one of"):
        plot_step_losses(histories, x="epochs")  # type: ignore[arg-type]


def test_step_losses_smoothed_by_a_moving_average():
    short = History(step_loss=[1.5, 1.0], examples_seen=[128, 256], wall_time=[0.1, 0.2])
    ax = plot_step_losses({"mini-batch": history(), "batch": short}, smooth=3)
    raw, smoothed, batch = ax.get_lines()  # too short to smooth: drawn as it is
    losses = np.array(history().step_loss)
    expected = [losses[i - 2 : i + 1].mean() for i in range(2, 8)]
    np.testing.assert_allclose(smoothed.get_ydata(), expected)
    np.testing.assert_array_equal(smoothed.get_xdata(), history().examples_seen[2:])
    assert raw.get_alpha() < 0.5 and raw.get_label().startswith("_")
    np.testing.assert_array_equal(batch.get_ydata(), [1.5, 1.0])
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    assert "moving average over 3 steps" in ax.get_title()


def test_step_losses_smoothed_over_the_same_number_of_examples():
    n = 40
    single = History(
        step_loss=list(np.linspace(2.0, 1.0, n)),
        examples_seen=list(range(1, n + 1)),
        wall_time=list(np.arange(n) / 10),
    )
    batches = History(
        step_loss=list(np.linspace(2.0, 1.0, n)),
        examples_seen=list(range(4, 4 * n + 1, 4)),
        wall_time=list(np.arange(n) / 10),
    )
    ax = plot_step_losses({"1": single, "4": batches}, smooth_examples=8)
    _, smoothed_single, _, smoothed_batches = ax.get_lines()
    assert len(smoothed_single.get_ydata()) == n - 8 + 1  # a window of 8 steps of 1 example
    assert len(smoothed_batches.get_ydata()) == n - 2 + 1  # a window of 2 steps of 4 examples
    np.testing.assert_allclose(smoothed_batches.get_ydata(), moving_average(batches.step_loss, 2))
    assert "moving average over 8 examples" in ax.get_title()
    with pytest.raises(ValueError, match="not both"):
        plot_step_losses({"1": single}, smooth=3, smooth_examples=8)


# --- classification -----------------------------------------------------------------------------


def three_regions(X):
    """Labels by angle: three wedges around the origin."""
    angle = np.arctan2(X[:, 1], X[:, 0])
    return ((angle + np.pi) // (2 * np.pi / 3)).astype(int).clip(0, 2)


def test_decision_boundary_has_a_band_per_class_and_a_scatter_per_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = three_regions(X)
    ax = plot_decision_boundary(three_regions, X, y, resolution=50)
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(filled) == 1
    np.testing.assert_array_equal(filled[0].levels, [-0.5, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(lines[0].levels, [0.5, 1.5])
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [s.get_label() for s in scatters] == ["class 0", "class 1", "class 2"]
    for c, scatter in enumerate(scatters):
        np.testing.assert_array_equal(scatter.get_offsets(), X[y == c])
    assert ax.get_title() == "decision regions (accuracy 100.0%)"


@pytest.mark.parametrize("output_activation", ["sigmoid", "identity"])
def test_decision_boundary_of_a_one_output_network(output_activation):
    # One unit computing x1: a probability sigmoid(x1) (threshold 0.5) or a logit (threshold 0).
    net = MLP([2, 1], "sigmoid", output_activation=output_activation)
    net.layers[0].W.value[...] = [[1.0, 0.0]]
    xs, _, labels = grid_predictions(net, (-1.05, 0.95), (-1, 1), resolution=11)
    np.testing.assert_array_equal(labels, np.broadcast_to(xs > 0, labels.shape).astype(int))
    X = np.array([[-1.0, 0.0], [1.0, 0.5], [0.5, -0.5]])
    ax = plot_decision_boundary(net, X, np.array([0, 1, 1]), class_names=["left", "right"])
    assert ax.get_legend_handles_labels()[1] == ["left", "right"]
    assert "100.0%" in ax.get_title()


def test_decision_boundary_needs_2d_inputs():
    with pytest.raises(ValueError, match=r"2-D inputs \(N, 2\), got \(4, 3\)"):
        plot_decision_boundary(three_regions, np.zeros((4, 3)), np.zeros(4, int))


def test_confusion_matrix_is_annotated_with_the_counts():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    ax = plot_confusion_matrix(cm, class_names=["cat", "dog", "eel"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "eel"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "eel"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert ax.get_title() == "confusion matrix (accuracy 84.0%)"
    colors = {t.get_text(): t.get_color() for t in ax.texts}
    assert colors["9"] == "white" and colors["1"] == "black"  # readable on dark and light
    render(ax.figure)


def test_digits_titles_show_mistakes_in_red():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 16, size=(12, 8, 8))
    labels = np.arange(12) % 10
    predicted = labels.copy()
    predicted[3] = 1
    fig = plot_digits(images, labels, predicted, n=12, ncols=5)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12 and len(fig.axes) == 15
    titles = [ax.get_title() for ax in shown]
    assert titles[:4] == ["0", "1", "2", "3 → 1"]
    assert to_rgba(shown[3].title.get_color()) == to_rgba(MISTAKE_COLOR)
    assert to_rgba(shown[0].title.get_color()) != to_rgba(MISTAKE_COLOR)
    np.testing.assert_array_equal(shown[5].images[0].get_array(), images[5])
    flat = plot_digits(images.reshape(12, 64), labels, n=4)
    assert [ax.get_title() for ax in flat.axes if ax.images] == ["0", "1", "2", "3"]


# --- network diagrams ---------------------------------------------------------------------------


def test_network_diagram_draws_every_unit_and_weight():
    ax = draw_network(
        [2, 3, 1],
        node_text={(1, 0): "z = 0.1"},
        edge_text={(2, 0, 1): "w = 0.5"},
        highlight_nodes=[(1, 2)],
        highlight_edges=[(1, 2, 0)],
    )
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 6
    edges = [line for line in ax.get_lines() if (line.get_gid() or "").startswith("edge")]
    assert len(edges) == 2 * 3 + 3 * 1
    lit = next(c for c in circles if c.get_gid() == "node 1 2")
    assert to_rgba(lit.get_facecolor()) == to_rgba(HIGHLIGHT)
    lit_edge = next(line for line in edges if line.get_gid() == "edge 1 2 0")
    assert lit_edge.get_color() == HIGHLIGHT
    texts = [t.get_text() for t in ax.texts]
    assert {"z = 0.1", "w = 0.5", "$x_1$", "$a^{(2)}_1$"} <= set(texts)
    render(ax.figure)


# --- the package stays light ------------------------------------------------------------------


def test_importing_the_plots_package_does_not_import_matplotlib():
    code = "import sys, json, bpcourse.plots; print(json.dumps('matplotlib' in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is False
