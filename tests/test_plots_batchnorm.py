"""bpcourse.plots.batchnorm: the figure of batch norm's computational graph."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch

from bpcourse.batchnorm import GRAPH_NODES
from bpcourse.plots.batchnorm import BATCHNORM_EDGES, BATCHNORM_NODES, draw_batchnorm_graph


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
