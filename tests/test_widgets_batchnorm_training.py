"""Lesson 10's batch-norm training explorer, driven headless through its controls' callbacks.

Its curves are checked against the library's own `bpcourse.deep_training.train_deep` run with
the same settings, on a small slice of the digits; the static fallback with ipywidgets hidden.
"""

from __future__ import annotations

import dataclasses
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from explorer_threads import texts_with_a_control_moved_while_drawing

from bpcourse.data import load_digits
from bpcourse.deep_training import train_deep
from bpcourse.widgets import INIT_SCALES, batchnorm_training_explorer

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


@pytest.fixture(scope="module")
def data():
    split = load_digits()
    return dataclasses.replace(split, X_train=split.X_train[:256], y_train=split.y_train[:256])


@pytest.fixture(scope="module")
def small(data):
    return {"depth": 4, "width": 16, "epochs": 3, "data": data}


def library_run(data, depth, lr, batchnorm, init_scale=1.0):
    return train_deep(data, depth, lr, batchnorm, init_scale, width=16, epochs=3, batch_size=64)


def test_draws_the_library_runs_with_and_without_batchnorm(small, data):
    explorer = batchnorm_training_explorer(**small)
    ax = explorer.figure.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for batchnorm, label in ((False, "without batch norm"), (True, "with batch norm")):
        expected = library_run(data, 4, 0.1, batchnorm).train_loss
        np.testing.assert_allclose(lines[label].get_ydata(), expected, rtol=1e-12)
        assert explorer.runs[batchnorm].batchnorm is batchnorm
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert "loss" in ax.get_ylabel() and ax.get_legend() is not None


@pytest.mark.parametrize(("name", "value"), [("depth", 3), ("lr", 0.3), ("init_scale", 2.0)])
def test_each_control_retrains_with_its_setting(small, data, name, value):
    explorer = batchnorm_training_explorer(**small)
    explorer.controls[name].value = value
    assert explorer.values[name] == value
    settings = {"depth": 4, "lr": 0.1, "init_scale": 1.0, name: value}
    for batchnorm in (False, True):
        expected = library_run(data, batchnorm=batchnorm, **settings).train_loss
        np.testing.assert_allclose(explorer.runs[batchnorm].train_loss, expected, rtol=1e-12)
    assert f"{value:g}" in explorer.text()


def test_a_diverged_run_is_marked_with_a_cross(data):
    explorer = batchnorm_training_explorer(depth=10, init_scale=2.0, epochs=2, data=data)
    assert explorer.runs[False].diverged_at == 1
    labels = [line.get_label() for line in explorer.figure.axes[0].get_lines()]
    assert "without batch norm: diverged in epoch 1" in labels
    assert "diverged in epoch 1" in explorer.text()


def test_runs_are_cached_and_reproducible(small):
    a = batchnorm_training_explorer(**small)
    first = a.runs[True]
    a.set(lr=0.3)
    a.set(lr=0.1)
    assert a.runs[True] is first
    b = batchnorm_training_explorer(**small)
    np.testing.assert_array_equal(a.runs[True].train_loss, b.runs[True].train_loss)


def test_controls_offer_the_documented_choices(small):
    explorer = batchnorm_training_explorer(**small)
    assert [v for v in explorer.controls["init_scale"].options] == list(INIT_SCALES)
    assert all(f"{v:g}" == label for label, v in explorer.controls["lr"].options)
    assert explorer.controls["depth"].min == 2


def test_shows_a_widget_with_the_picture_or_falls_back_to_it(small, monkeypatch, capsys):
    explorer = batchnorm_training_explorer(**small)
    interactive = explorer.mimebundle(static=False)
    assert WIDGET_VIEW in interactive and interactive["image/png"]
    static = explorer._repr_mimebundle_()  # outside a kernel: static
    assert WIDGET_VIEW not in static and "with batch norm" in static["text/plain"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    bare = batchnorm_training_explorer(**small)
    assert bare.controls == {}
    bare.show()
    assert "final training loss" in capsys.readouterr().out


def test_a_control_moved_while_drawing_waits_for_the_run_shown(small, monkeypatch):
    explorer = batchnorm_training_explorer(**small)
    texts = texts_with_a_control_moved_while_drawing(explorer, monkeypatch, "init_scale", 2.0)
    assert len(texts) == 2
    assert "init 1 × He" in texts[0] and "init 2 × He" in texts[1]
    assert explorer.runs[True] is explorer._cache[(4, 0.1, 2.0, True)]
