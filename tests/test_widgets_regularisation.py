"""Lesson 09's regularisation explorer, driven headless through its controls' callbacks.

Its curves are checked against the library's own `bpcourse.overfitting.fit` run with the
same settings; the static fallback is checked with ipywidgets hidden.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from bpcourse.overfitting import Regulariser, fit, small_digits
from bpcourse.widgets import TRAINING_SIZES, regularisation_explorer

SMALL = {"hidden": 16, "epochs": 8, "lr": 0.1, "seed": 0}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


@pytest.fixture(scope="module")
def explorer():
    return regularisation_explorer(**SMALL)


def library_run(regulariser: Regulariser, n_train: int = 100):
    o = SMALL
    return fit(small_digits(n_train), regulariser, o["hidden"], o["epochs"], o["lr"], 32, o["seed"])


def test_starts_unregularised_and_draws_both_curves_of_the_library_run(explorer):
    assert explorer.result is explorer.baseline
    expected = library_run(Regulariser()).history
    ax_loss, ax_acc = explorer.figure.axes[:2]
    lines = {line.get_label(): line for line in ax_loss.get_lines()}
    np.testing.assert_allclose(lines["training"].get_ydata(), expected.train_loss, rtol=1e-12)
    np.testing.assert_allclose(lines["validation"].get_ydata(), expected.val_loss, rtol=1e-12)
    acc = {line.get_label(): line for line in ax_acc.get_lines()}
    np.testing.assert_allclose(acc["validation"].get_ydata(), expected.val_accuracy)
    assert ax_loss.get_yscale() == "log"
    assert ax_loss.get_xlabel() == "epoch" and ax_acc.get_ylabel() == "accuracy"
    assert ax_loss.get_legend() is not None and ax_acc.get_legend() is not None


@pytest.mark.parametrize(
    ("name", "value", "regulariser"),
    [
        ("l2", 0.03, Regulariser(l2=0.03)),
        ("l1", 0.01, Regulariser(l1=0.01)),
        ("dropout", 0.5, Regulariser(dropout=0.5)),
    ],
)
def test_each_control_retrains_with_its_setting(name, value, regulariser):
    explorer = regularisation_explorer(**SMALL)
    baseline = explorer.baseline
    explorer.controls[name].value = value
    assert explorer.values[name] == value
    assert explorer.baseline is baseline  # trained once per training-set size
    expected = library_run(regulariser).history
    np.testing.assert_allclose(explorer.result.history.val_loss, expected.val_loss, rtol=1e-12)
    ax_loss = explorer.figure.axes[0]
    grey = [line for line in ax_loss.get_lines() if "no regularisation" in line.get_label()]
    np.testing.assert_allclose(grey[0].get_ydata(), baseline.history.val_loss)
    assert f"{value:g}" in explorer.text()


def test_strong_penalty_shrinks_the_weights_and_lowers_training_accuracy():
    explorer = regularisation_explorer(**SMALL)
    plain = explorer.result
    explorer.set(l2=1.0)
    assert explorer.result is not plain
    norm = np.linalg.norm
    assert norm(explorer.result.net[0].W.value) < 0.5 * norm(plain.net[0].W.value)
    assert explorer.result.train_accuracy < plain.train_accuracy


def test_more_training_data_uses_the_larger_subset(explorer):
    assert 100 in TRAINING_SIZES and 500 in TRAINING_SIZES
    explorer.controls["n_train"].value = 50
    assert explorer.values["n_train"] == 50
    expected = library_run(Regulariser(), n_train=50)
    assert explorer.result.train_accuracy == expected.train_accuracy
    assert explorer.text().startswith("50 training digits")
    explorer.controls["n_train"].value = 100


def test_strength_sliders_offer_zero_and_show_exactly_the_value_used(explorer):
    for name in ("l2", "l1"):
        options = [value for _, value in explorer.controls[name].options]
        assert options[0] == 0.0 and options == sorted(options)
        assert all(f"{v:g}" == label for label, v in explorer.controls[name].options)
    odd = regularisation_explorer(l2=0.025, **SMALL)
    assert odd.controls["l2"].value == 0.025


def test_same_settings_give_the_same_curves():
    a = regularisation_explorer(dropout=0.5, **SMALL)
    b = regularisation_explorer(dropout=0.5, **SMALL)
    np.testing.assert_array_equal(a.result.history.val_loss, b.result.history.val_loss)


def test_shows_a_widget_with_the_picture_or_falls_back_to_it(explorer, monkeypatch, capsys):
    interactive = explorer.mimebundle(static=False)
    assert WIDGET_VIEW in interactive and interactive["image/png"]
    static = explorer._repr_mimebundle_()  # outside a kernel: static
    assert WIDGET_VIEW not in static and "validation" in static["text/plain"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    bare = regularisation_explorer(**SMALL)
    assert bare.controls == {}
    bare.show()
    assert "training digits" in capsys.readouterr().out


def test_the_figure_and_text_name_the_settings_trained_not_a_control_moved_meanwhile(monkeypatch):
    """Seen in JupyterLab: with changes queued, the text said "200 training digits" beside the
    accuracies of the 100-digit run. Here a control moves while a run is going on."""
    import bpcourse.widgets.regularisation as module

    explorer = regularisation_explorer(**SMALL)

    def fit_while_a_control_moves(data, regulariser, **settings):
        explorer.values["n_train"] = 200  # lands before this run's result is drawn
        return fit(data, regulariser, **settings)

    monkeypatch.setattr(module, "fit", fit_while_a_control_moves)
    explorer.values["dropout"] = 0.5
    explorer.update()
    expected = library_run(Regulariser(dropout=0.5))
    assert explorer.result.val_accuracy == expected.val_accuracy
    for words in (explorer.text(), explorer.figure.get_suptitle()):
        assert words.startswith("100 training digits") and "dropout p = 0.5" in words
    assert explorer.shown == {"l2": 0.0, "l1": 0.0, "dropout": 0.5, "n_train": 100}
