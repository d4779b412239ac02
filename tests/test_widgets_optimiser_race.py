"""Lesson 08's optimiser race, headless: its paths are `bpcourse.surfaces.race`'s (which the
library's optimisers make), its controls recompute them, and it falls back to a picture."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from bpcourse import widgets
from bpcourse.surfaces import RACERS, get_surface, race, trajectory
from bpcourse.widgets import OptimiserRace, optimiser_race


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


def test_the_race_draws_the_library_paths_and_their_losses():
    explorer = optimiser_race()
    assert isinstance(explorer, OptimiserRace) and widgets.optimiser_race is OptimiserRace
    expected = race("quadratic", lr=0.05, beta=0.9, steps=100)
    assert list(explorer.paths) == list(RACERS)
    ax_path, ax_loss = explorer.figure.axes[:2]
    loss_lines = [line for line in ax_loss.get_lines() if line.get_label() in RACERS]
    for label, path in expected.items():
        np.testing.assert_array_equal(explorer.paths[label].points, path.points)
        (drawn,) = [
            line
            for line in ax_path.get_lines()
            if line.get_label() == label and len(line.get_xdata()) == len(path.points)
        ]
        np.testing.assert_array_equal(drawn.get_xdata(), path.points[:, 0])
        (curve,) = [line for line in loss_lines if line.get_label() == label]
        np.testing.assert_allclose(curve.get_ydata(), np.maximum(path.losses, 1e-12))
    assert ax_loss.get_yscale() == "log"
    assert ax_path.get_xlim() == get_surface("quadratic").xlim


def test_the_controls_recompute_the_race():
    explorer = optimiser_race(steps=30)
    explorer.controls["surface"].value = "saddle"
    explorer.controls["beta"].value = 0.5
    explorer.controls["lr"].value = 0.1
    adam = trajectory("saddle", "adam", 30, lr=0.1, betas=(0.5, 0.999))
    np.testing.assert_array_equal(explorer.paths["Adam"].points, adam.points)
    momentum = trajectory("saddle", "momentum", 30, lr=0.1, momentum=0.5)
    np.testing.assert_array_equal(explorer.paths["momentum"].points, momentum.points)
    explorer.set(steps=50)
    assert all(p.steps == 50 for p in explorer.paths.values())
    assert "saddle" in explorer.figure.axes[0].get_title()
    assert "η = 0.1, β = 0.5" in explorer.text()


def test_a_learning_rate_above_2_over_lambda_max_is_reported_as_diverged():
    explorer = optimiser_race("quadratic", lr=0.2, steps=200)  # 2 / 20 = 0.1
    assert explorer.paths["gradient descent"].diverged
    assert explorer.gap("gradient descent") == np.inf
    assert "gradient descent  diverged" in explorer.text()
    labels = [line.get_label() for line in explorer.figure.axes[1].get_lines()]
    assert "gradient descent (diverged)" in labels
    assert not explorer.paths["Adam"].diverged  # its steps are about η long, whatever the slope
    # the diverged path is drawn until it first leaves the view, not striping the picture
    ax_path = explorer.figure.axes[0]
    (drawn,) = [line for line in ax_path.get_lines() if line.get_label() == "gradient descent"]
    xs, ys = np.asarray(drawn.get_xdata()), np.asarray(drawn.get_ydata())
    (xlo, xhi), (ylo, yhi) = get_surface("quadratic").xlim, get_surface("quadratic").ylim
    outside = (xs < xlo) | (xs > xhi) | (ys < ylo) | (ys > yhi)
    assert outside[-1] and not outside[:-1].any()
    np.testing.assert_array_equal(ys, explorer.paths["gradient descent"].points[: len(ys), 1])


def test_an_unknown_surface_is_refused():
    with pytest.raises(ValueError, match="valid names are"):
        optimiser_race("bowl")


def test_without_ipywidgets_the_race_is_a_static_picture(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    explorer = optimiser_race("rosenbrock", lr=0.001, steps=20)
    assert explorer.controls == {}
    explorer.show()
    assert capsys.readouterr().out.strip() == explorer.text().strip()
    assert explorer.figure.axes
    explorer.set(lr=0.002)
    assert explorer.values["lr"] == 0.002
    with pytest.raises(ImportError, match="show\\(static=True\\)"):
        explorer.widget()


def test_the_widget_carries_the_picture_and_the_sliders_show_their_values():
    explorer = optimiser_race(lr=0.03)
    bundle = explorer.mimebundle(static=False)
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["image/png"]
    slider = explorer.controls["lr"]
    assert slider.value == 0.03 and slider.label == "0.03"


def test_the_widget_renders_the_loss_as_maths_and_keeps_the_controls_wide():
    """Seen in JupyterLab: the formula was raw LaTeX inside <pre> (MathJax skips <pre>), and
    the four controls in one row squeezed the β slider to nothing."""
    explorer = optimiser_race("rosenbrock", lr=0.01)
    box = explorer.widget()
    page = explorer._html.value
    maths = rf"$\mathcal{{L}}(w) = {explorer.surface.formula}$"
    assert maths in page and page.index(maths) < page.index("<pre>")
    assert "\\" not in page[page.index("<pre>") :]
    assert "η = 0.01" in page and "diverged" not in page.split("<pre>")[0]
    rows = [row for row in box.children if hasattr(row, "children")]
    assert [len(row.children) for row in rows] == [2, 2]
    assert explorer.controls["beta"] in rows[1].children
    assert "ℒ(w) = (1 - w_1)^2" in explorer.text()
    explorer.set(surface="saddle")
    assert r"$\mathcal{L}(w) = \frac{1}{2}w_1^2" in explorer._html.value


def test_the_figure_and_text_name_the_settings_raced_not_a_control_moved_meanwhile(monkeypatch):
    module = sys.modules[OptimiserRace.__module__]  # the package's `optimiser_race` is the class
    explorer = optimiser_race(lr=0.05, steps=20)

    def race_while_a_control_moves(*args, **kwargs):
        explorer.values["lr"] = 0.5  # lands before this race is drawn
        return race(*args, **kwargs)

    monkeypatch.setattr(module, "race", race_while_a_control_moves)
    explorer.values["beta"] = 0.5
    explorer.update()
    for words in (explorer.text(), explorer.figure.axes[0].get_title()):
        assert "η = 0.05, β = 0.5" in words
    assert explorer.shown == {"surface": "quadratic", "lr": 0.05, "beta": 0.5, "steps": 20}


CEILING = 1e3  # a diverged curve is drawn up to 1000 times the starting gap


def test_a_diverged_curve_stops_at_the_ceiling_and_does_not_flatten_the_others():
    """Seen in JupyterLab (Rosenbrock, η = 0.03): diverged curves took the loss axis to 1e20
    and the three that converged were a flat line on the bottom."""
    explorer = optimiser_race("rosenbrock", lr=0.03, steps=120)
    surface = explorer.surface
    ceiling = CEILING * (surface.loss(np.asarray(surface.start)) - surface.minimum_value)
    ax_loss = explorer.figure.axes[1]
    assert ax_loss.get_ylim()[1] <= 2 * ceiling * (1 + 1e-9)
    lines = {line.get_label(): line for line in ax_loss.get_lines()}
    for label, path in explorer.paths.items():
        if path.diverged:
            ys = lines[f"{label} (diverged)"].get_ydata()
            assert ys[-1] == pytest.approx(ceiling) and (ys[:-1] <= ceiling).all()
        else:
            np.testing.assert_allclose(lines[label].get_ydata(), path.losses)
    assert sum(path.diverged for path in explorer.paths.values()) == 3
    assert sys.modules[OptimiserRace.__module__].CEILING == CEILING
