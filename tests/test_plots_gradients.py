"""Lesson 07's pictures (bpcourse.plots.gradients): they draw exactly the library's numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Annotation

from bpcourse.diagnostics import depth_profile
from bpcourse.plots.gradients import plot_activation_histograms, plot_clipping_2d


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_histograms_one_row_per_network_one_column_per_layer_with_each_layer_std():
    profiles = {
        "tanh": depth_profile(4, "tanh", width=8, n=32),
        "relu": depth_profile(4, "relu", width=8, n=32),
    }
    fig = plot_activation_histograms(profiles, layers=[1, 3], colors=["C3", "C0"])
    axes = np.array(fig.axes).reshape(2, 2)
    for row, (name, prof) in zip(axes, profiles.items(), strict=True):
        assert row[0].get_ylabel() == name
        for ax, layer in zip(row, [1, 3], strict=True):
            assert ax.get_title() == f"layer {layer}: std {prof.activations[layer - 1].std():.3f}"
            counts = sum(patch.get_height() for patch in ax.patches)
            assert counts == prof.activations[layer - 1].size  # every value drawn, clipped or not
    assert axes[1, 0].get_xlim()[0] >= -0.5  # ReLU's range starts at 0, tanh's at -1
    assert axes[0, 0].get_xlim()[0] < -0.9


def test_histograms_refuse_layers_the_network_does_not_have():
    profiles = {"tanh": depth_profile(3, "tanh", width=4, n=8)}
    with pytest.raises(ValueError, match=r"hidden layers 1\.\.2"):
        plot_activation_histograms(profiles, layers=[3])
    with pytest.raises(ValueError, match="one colour per profile"):
        plot_activation_histograms(profiles, layers=[1], colors=["C0", "C1"])


@pytest.mark.parametrize("g", [[3.0, 0.8], [-0.5, 2.0], [0.3, 0.2]])
def test_clipping_arrows_end_where_the_two_rules_put_them(g):
    g = np.array(g)
    c = 1.0
    ax = plot_clipping_2d(g, c)
    ends = [np.array(a.xy) for a in ax.get_children() if isinstance(a, Annotation)]
    assert len(ends) == 3
    np.testing.assert_allclose(ends[0], g)
    np.testing.assert_allclose(ends[1], np.clip(g, -c, c))
    np.testing.assert_allclose(ends[2], g * min(1.0, c / np.linalg.norm(g)))
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0].endswith(f"angle {np.degrees(np.arctan2(g[1], g[0])):.0f}°")
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    assert xlim[0] < min(g[0], -c) and max(g[0], c) < xlim[1]  # every arrow and the square inside
    assert ylim[0] < min(g[1], -c) and max(g[1], c) < ylim[1]


def test_clipping_needs_a_2_vector_and_a_positive_threshold():
    with pytest.raises(ValueError, match="2-vector"):
        plot_clipping_2d(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="c must be"):
        plot_clipping_2d(np.ones(2), 0.0)
