"""Lesson 11's BPTT explorer, headless: its curves are the library's RNN measurements, its
controls recompute them, and it falls back to a picture without ipywidgets."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from explorer_threads import texts_with_a_control_moved_while_drawing

from bpcourse import widgets
from bpcourse.recurrent import RNN
from bpcourse.widgets import BPTTExplorer, bptt_explorer
from bpcourse.widgets.bptt import FLOOR, gradient_decay, truncation_errors


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


def test_gradient_decay_is_the_rnn_layers_dH_norms_read_backwards():
    decay = gradient_decay(0.9, T=20, n_hidden=8, N=4)
    assert decay.shape == (20,)
    np.testing.assert_allclose(decay[0], 1.0)  # a unit gradient at h_T
    layer = RNN(3, 8, seed=0, recurrent_gain=0.9)
    X = 0.01 * np.random.default_rng(0).normal(size=(4, 20, 3))
    H = layer.forward(X)
    g = np.random.default_rng(1).normal(size=(4, 8))
    dH = np.zeros_like(H)
    dH[:, -1] = g / np.linalg.norm(g, axis=1, keepdims=True)
    layer.backward(dH)
    np.testing.assert_allclose(decay, layer.dH_norms[::-1])


def test_near_the_linear_regime_the_decay_follows_the_radius():
    for radius in (0.5, 0.9):
        decay = gradient_decay(radius, T=30)
        rate = (decay[20] / decay[10]) ** (1 / 10)
        assert rate == pytest.approx(radius, rel=0.02)
    assert gradient_decay(1.5, T=30)[-1] > 100  # it explodes


def test_truncation_error_is_zero_when_the_window_covers_the_sequence():
    errors = truncation_errors(0.9, [1, 5, 29, 30, 45], T=30)
    assert errors[3] == 0.0 and errors[4] == 0.0
    assert np.all(errors[:3] > 0.05)  # biased when it does not
    assert truncation_errors(1.5, [1], T=30)[0] > truncation_errors(0.5, [1], T=30)[0]


def test_the_explorer_draws_both_measurements_and_the_controls_recompute_them():
    explorer = bptt_explorer(radius=0.9, k=10, T_decay=30, T_trunc=20)
    assert isinstance(explorer, BPTTExplorer) and widgets.bptt_explorer is BPTTExplorer
    np.testing.assert_allclose(explorer.decay, gradient_decay(0.9, T=30))
    np.testing.assert_allclose(explorer.errors, truncation_errors(0.9, np.arange(1, 21), T=20))
    ax_decay, ax_trunc = explorer.figure.axes[:2]
    assert ax_decay.get_yscale() == "log" and ax_trunc.get_yscale() == "log"
    measured = next(line for line in ax_decay.get_lines() if line.get_label() == "measured")
    np.testing.assert_allclose(measured.get_ydata(), explorer.decay)
    explorer.controls["radius"].value = 1.2
    explorer.controls["k"].value = 20
    np.testing.assert_allclose(explorer.decay, gradient_decay(1.2, T=30))
    assert explorer.error == 0.0
    assert "full BPTT" in explorer.text() and "spectral radius ρ = 1.2" in explorer.text()
    redrawn = explorer.figure.axes[1]
    zeros = next(line for line in redrawn.get_lines() if line.get_label() == "exactly 0")
    assert list(zeros.get_ydata()) == [FLOOR]


def test_without_ipywidgets_the_explorer_is_a_static_picture(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    explorer = bptt_explorer(T_decay=20, T_trunc=10)
    assert explorer.controls == {}
    explorer.show()
    assert capsys.readouterr().out.strip() == explorer.text().strip()
    explorer.set(k=3)
    assert explorer.values["k"] == 3
    with pytest.raises(ImportError, match="show\\(static=True\\)"):
        explorer.widget()


def test_the_widget_carries_the_picture():
    explorer = bptt_explorer(T_decay=20, T_trunc=10)
    bundle = explorer.mimebundle(static=False)
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["image/png"]
    assert explorer.controls["radius"].value == 0.9


def test_a_bad_radius_is_refused():
    with pytest.raises(ValueError):
        gradient_decay(-1.0)


def test_a_control_moved_while_drawing_waits_for_the_run_shown(monkeypatch):
    explorer = BPTTExplorer(radius=0.9, k=10)
    error_at_10 = explorer.error
    texts = texts_with_a_control_moved_while_drawing(explorer, monkeypatch, "k", 9)
    assert len(texts) == 2
    assert (
        f"window k = 10 on T = 30 steps: relative error of the truncated gradient {error_at_10:.3g}"
        in texts[0]
    )
    assert "window k = 9 " in texts[1] and explorer.values["k"] == 9


def test_the_text_names_the_loss_by_its_symbol():
    text = BPTTExplorer().text()
    assert "‖∂ℒ/∂h_t‖" in text and "dL" not in text


def test_the_live_panel_renders_the_symbols_as_maths():
    """The widget's HTMLMath panel: the gradient and ρ in LaTeX, no literal `h_t` outside $...$
    (a reader in the browser saw "‖∂ℒ/∂h_t‖" with an underscore), and the window's line."""
    explorer = BPTTExplorer(radius=1.1, k=30)
    panel = explorer.html()
    outside_maths = "".join(panel.split("$")[::2])
    assert r"$\lVert\partial\mathcal{L}/\partial h_t\rVert$" in panel
    assert r"$\rho^{59}$ = " + f"{1.1**59:.3g}" in panel
    assert "h_t" not in outside_maths and "radius^" not in panel
    assert "window k = 30 on T = 30 steps" in panel and "(k &gt;= T: full BPTT)" in panel
