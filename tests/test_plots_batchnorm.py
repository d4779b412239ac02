"""bpcourse.plots.batchnorm: the figure of batch norm's computational graph."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from bpcourse.batchnorm import GRAPH_NODES
from bpcourse.data import load_digits
from bpcourse.deep_training import deep_mlp, hidden_signal_sizes, train_deep
from bpcourse.plots.batchnorm import (
    BATCHNORM_EDGES,
    BATCHNORM_NODES,
    draw_batchnorm_graph,
    loss_axis,
    plot_init_scale_runs,
    plot_learning_rate_runs,
)


@pytest.fixture(scope="module")
def data():
    split = load_digits()
    return dataclasses.replace(split, X_train=split.X_train[:128], y_train=split.y_train[:128])


def _run(data, lr=0.1, bn=False, c=1.0):
    return train_deep(data, depth=3, lr=lr, batchnorm=bn, init_scale=c, width=8, epochs=2)


def test_draws_one_circle_per_node_and_one_arrow_per_edge():
    ax = draw_batchnorm_graph()
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == len(BATCHNORM_NODES) and len(arrows) == len(BATCHNORM_EDGES)
    texts = [t.get_text() for t in ax.texts]
    assert r"$\hat x$" in texts and r"$-\frac{1}{\sigma^2}$" in texts
    plt.close(ax.figure)


def test_the_figure_has_the_nodes_of_the_library_graph():
    assert set(GRAPH_NODES) | {"X", "gamma", "beta"} == set(BATCHNORM_NODES)
    for start, end, _, _ in BATCHNORM_EDGES:
        assert start in BATCHNORM_NODES and end in BATCHNORM_NODES


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert draw_batchnorm_graph(ax) is ax
    plt.close(fig)


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_learning_rate_runs_two_labelled_log_panels(data):
    rates = [0.1, 100.0]  # the plain network diverges at lr = 100
    runs = {(lr, bn): _run(data, lr, bn) for lr in rates for bn in (False, True)}
    fig = plot_learning_rate_runs(runs, rates, curves=rates)
    curves, sweep = fig.axes
    assert curves.get_yscale() == "log" and sweep.get_xscale() == sweep.get_yscale() == "log"
    assert curves.get_xlabel() == "epoch" and sweep.get_xlabel() == "learning rate η"
    assert "3 layers" in curves.get_title()
    texts = _legend_texts(curves)
    assert "with batch norm, η = 0.1" in texts and "chance level, ln 10" in texts
    if runs[100.0, False].diverged_at is not None:
        assert "without batch norm, η = 100: diverged" in texts
    np.testing.assert_allclose(
        sweep.lines[1].get_ydata(), [runs[lr, True].final_loss for lr in rates]
    )
    plt.close(fig)


def test_init_scale_runs_signal_and_loss_panels(data):
    scales = [0.5, 1.0]
    runs = {(c, bn): _run(data, bn=bn, c=c) for c in scales for bn in (False, True)}
    signals = {
        (c, bn): hidden_signal_sizes(deep_mlp(3, 8, batchnorm=bn, init_scale=c), data.X_train)
        for c in scales
        for bn in (False, True)
    }
    fig = plot_init_scale_runs(runs, signals)
    ax_signal, ax_loss = fig.axes
    assert ax_signal.get_yscale() == ax_loss.get_yscale() == "log"
    assert ax_signal.get_xlabel() == "hidden layer l" and "η = 0.1" in ax_loss.get_title()
    assert "with BN, c = 0.5" in _legend_texts(ax_signal)
    np.testing.assert_allclose(ax_signal.lines[0].get_ydata(), signals[0.5, False])
    plt.close(fig)


@pytest.mark.parametrize("low, high", [(0.12, 3.0), (2.2, 3.1), (1e-3, 2.0)])
def test_loss_axis_labels_ticks_as_plain_numbers(low, high):
    """Under one decade the default labels read 2×10⁻¹ and 3×10⁰; the loss axes say 0.2 and 3."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [low, high])
    loss_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in [*ax.get_yticklabels(), *ax.get_yticklabels(minor=True)]]
    shown = [text for text in labels if text]
    assert len(shown) >= 2
    for text in shown:
        assert "×" not in text and "e" not in text and "$" not in text, text
        float(text)  # a plain number
    assert ax.get_yscale() == "log"
    assert any(line.get_ydata()[0] == pytest.approx(np.log(10)) for line in ax.get_lines())
    plt.close(fig)
