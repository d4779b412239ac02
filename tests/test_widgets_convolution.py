"""Lesson 12's convolution explorer, driven headless through its controls' callbacks.

Its output is checked against a cross-correlation written with loops here, and its gradients
against central finite differences of the chosen loss (float64, relative error < 1e-7); the
static fallback is checked with ipywidgets hidden.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from explorer_threads import texts_with_a_control_moved_while_drawing

from bpcourse.gradcheck import numerical_gradient, relative_error
from bpcourse.widgets import convolution_explorer
from bpcourse.widgets.convolution import IMAGES, KERNELS, LOSSES, loss_value, upstream_gradient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


def correlate(X: np.ndarray, K: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Y[i, j] = Σ_{u,v} K[u, v] X̃[s·i + u, s·j + v], by loops (X̃: X zero-padded)."""
    Xp = np.pad(X, padding)
    k = K.shape[0]
    size = (Xp.shape[0] - k) // stride + 1
    Y = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            Y[i, j] = np.sum(K * Xp[stride * i : stride * i + k, stride * j : stride * j + k])
    return Y


def test_starts_with_the_digit_and_one_output_pixel():
    explorer = convolution_explorer()
    assert explorer.values["loss"] == LOSSES[2]
    np.testing.assert_array_equal(explorer.X, IMAGES["digit 3"])
    assert explorer.Y.shape == (6, 6) and explorer.dX.shape == (8, 8)
    assert explorer.dY.sum() == 1.0 and explorer.db == 1.0
    # with dY one-hot at (i, j), dW is the window of X that output pixel saw
    i, j = np.argwhere(explorer.dY == 1.0)[0]
    np.testing.assert_array_equal(explorer.dW, explorer.X[i : i + 3, j : j + 3])
    assert len(explorer.figure.axes) == 12  # six panels and their colour bars
    titles = [ax.get_title() for ax in explorer.figure.axes[:6]]
    assert any(t.startswith("dW") for t in titles) and any(t.startswith("dX") for t in titles)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("loss", LOSSES)
def test_output_and_gradients_match_loops_and_finite_differences(stride, padding, loss):
    explorer = convolution_explorer(image="digit 3", kernel="asymmetric (shows the flip)")
    explorer.set(stride=stride, padding=padding, loss=loss)
    X, K = explorer.X.copy(), explorer.kernel.copy()
    np.testing.assert_allclose(explorer.Y, correlate(X, K, stride, padding), atol=1e-12)

    def f() -> float:
        return loss_value(loss, correlate(X, K, stride, padding)[None, None])

    assert relative_error(explorer.dW, numerical_gradient(f, K)) < 1e-7
    assert relative_error(explorer.dX, numerical_gradient(f, X)) < 1e-7
    np.testing.assert_allclose(explorer.db, explorer.dY.sum())


def test_each_control_changes_its_setting_and_the_figure():
    explorer = convolution_explorer()
    for name, value in (
        ("image", "square"),
        ("kernel", "blur (box)"),
        ("stride", 2),
        ("padding", 1),
        ("loss", LOSSES[1]),
    ):
        explorer.controls[name].value = value
        assert explorer.values[name] == value
    np.testing.assert_array_equal(explorer.X, IMAGES["square"])
    np.testing.assert_array_equal(explorer.kernel, KERNELS["blur (box)"])
    assert explorer.Y.shape == (4, 4)
    np.testing.assert_allclose(explorer.dY, explorer.Y)  # ℒ = ½ Σ Y²
    assert "stride 2, padding 1" in explorer.text()


def test_single_pixel_shows_the_flipped_kernel_in_the_output():
    explorer = convolution_explorer(image="single pixel", kernel="asymmetric (shows the flip)")
    explorer.set(padding=1)
    # a correlation with a unit impulse draws the kernel rotated by 180 degrees
    i, j = np.argwhere(explorer.X == 1.0)[0]
    np.testing.assert_array_equal(
        explorer.Y[i - 1 : i + 2, j - 1 : j + 2], explorer.kernel[::-1, ::-1]
    )


def test_unknown_choices_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown kernel"):
        convolution_explorer(kernel="emboss")
    with pytest.raises(ValueError, match="unknown loss"):
        upstream_gradient("ℒ = max Y", np.zeros((1, 1, 2, 2)))


def test_shows_a_widget_with_the_picture_or_falls_back_to_it(monkeypatch, capsys):
    explorer = convolution_explorer()
    interactive = explorer.mimebundle(static=False)
    assert WIDGET_VIEW in interactive and interactive["image/png"]
    static = explorer._repr_mimebundle_()  # outside a kernel: static
    assert WIDGET_VIEW not in static and "dW" in static["text/plain"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    bare = convolution_explorer()
    assert bare.controls == {}
    bare.show()
    assert "digit 3" in capsys.readouterr().out


def test_a_control_moved_while_drawing_waits_for_the_run_shown(monkeypatch):
    explorer = convolution_explorer()
    texts = texts_with_a_control_moved_while_drawing(explorer, monkeypatch, "stride", 2)
    assert len(texts) == 2
    assert "stride 1," in texts[0] and "Y (6, 6)" in texts[0]
    assert "stride 2," in texts[1] and "Y (3, 3)" in texts[1]


def test_controls_in_two_rows_with_the_kernels_name_in_full():
    explorer = convolution_explorer()
    rows = [row for row in explorer.widget().children if hasattr(row, "children")]
    assert [len(row.children) for row in rows] == [2, 3]
    assert explorer.controls["kernel"] in rows[0].children
    assert explorer.controls["kernel"].layout.width == "330px"


def test_an_all_zero_panel_gets_a_plain_colour_scale():
    explorer = convolution_explorer(image="single pixel", kernel="asymmetric (shows the flip)")
    explorer.set(stride=2)
    assert not explorer.Y.any()
    output = explorer.figure.axes[2]
    assert output.get_title().startswith("output Y")
    assert output.images[0].get_clim() == (-1.0, 1.0)
