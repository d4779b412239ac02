"""Lesson 07's gradient-flow explorer, driven headless through its controls.

What it draws is checked against `depth_profile`, computed independently for the same
settings; the verdict against the ratio it names; the static fallback with ipywidgets hidden.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from bpcourse.diagnostics import depth_profile
from bpcourse.widgets import GradientFlowExplorer, gradient_flow_explorer
from bpcourse.widgets.gradient_flow import ACTIVATIONS, INITS, verdict

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


def drawn(explorer: GradientFlowExplorer, gid: str) -> np.ndarray:
    axes = explorer.figure.axes
    lines = [line for ax in axes for line in ax.get_lines() if line.get_gid() == gid]
    assert len(lines) == 1
    return np.asarray(lines[0].get_ydata())


def test_the_figure_shows_the_library_gradient_norms_for_every_setting():
    explorer = gradient_flow_explorer()
    for activation in ACTIVATIONS:
        for init in INITS:
            explorer.controls["activation"].value = activation
            explorer.controls["init"].value = init
            want = depth_profile(20, activation, init)
            np.testing.assert_allclose(
                drawn(explorer, "grad_norms"), np.maximum(want.grad_norms, 1e-300), rtol=1e-12
            )
            np.testing.assert_allclose(
                drawn(explorer, "activation_std"), want.activation_std, rtol=1e-12
            )


def test_depth_and_gain_controls_rebuild_the_network():
    explorer = gradient_flow_explorer(activation="tanh")
    explorer.controls["depth"].value = 35
    assert drawn(explorer, "grad_norms").shape == (35,)
    explorer.controls["gain"].value = 2.0
    assert explorer.profile is not None and explorer.profile.gain == 2.0
    assert explorer.profile.ratio > 1e2 and explorer.text().splitlines()[-1].startswith("exploding")
    explorer.set(depth=4, gain=1.0)
    assert drawn(explorer, "grad_norms").shape == (4,)


def test_the_verdict_names_vanishing_exploding_and_healthy_gradients():
    sigmoid = gradient_flow_explorer(depth=20, activation="sigmoid")
    assert sigmoid.text().splitlines()[-1].startswith("vanishing")
    relu = gradient_flow_explorer(depth=20, activation="relu", init="he_normal")
    assert relu.text().splitlines()[-1].startswith("healthy")
    assert verdict(relu.profile) in relu.figure.axes[0].get_title()  # type: ignore[arg-type]
    # ReLU with N(0, 0.01^2) weights: the signal dies out entirely within a few layers
    dead = gradient_flow_explorer(depth=30, activation="relu", init="normal")
    assert dead.text().splitlines()[-1].startswith("vanished: every layer")
    assert 0.1 < dead.profile.ratio < 10  # type: ignore[union-attr]  # the ratio alone looks fine


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="activation"):
        GradientFlowExplorer(activation="softmax")
    with pytest.raises(ValueError, match="init"):
        GradientFlowExplorer(init="zeros")
    with pytest.raises(ValueError, match="depth"):
        GradientFlowExplorer(depth=1)


def test_widget_display_carries_the_picture_and_static_fallback(monkeypatch, capsys):
    explorer = gradient_flow_explorer(depth=5)
    bundle = explorer.mimebundle(static=False)
    assert bundle[WIDGET_VIEW]["model_id"] == explorer.widget().model_id
    assert bundle["image/png"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    static = gradient_flow_explorer(depth=5)
    assert static.controls == {}
    static.show()
    assert capsys.readouterr().out.strip() == static.text().strip()
    static.set(activation="relu", init="he_normal")
    assert static.profile is not None and static.profile.activation == "relu"


def test_a_flat_profile_is_drawn_on_at_least_two_decades():
    """Noise of a few percent in a healthy network must not fill the axis like a trend."""
    explorer = gradient_flow_explorer(depth=10, activation="relu", init="he_normal")
    ax = next(ax for ax in explorer.figure.axes if ax.get_yscale() == "log")
    low, high = ax.get_ylim()
    assert high / low >= 100 * (1 - 1e-9)
    norms = drawn(explorer, "grad_norms")
    assert low <= norms.min() and norms.max() <= high


def test_the_activation_panel_starts_at_0_and_leaves_room_above_the_highest_point():
    """Seen in JupyterLab (tanh, × 2, depth 23): the first point sat on the top frame."""
    explorer = gradient_flow_explorer(depth=23, activation="tanh", gain=2.0)
    ax_act = explorer.figure.axes[1]
    low, high = ax_act.get_ylim()
    top = explorer.profile.activation_std.max()
    assert low == 0 and high >= 1.05 * top
