"""The lesson widgets, driven headless through their controls' callbacks.

Each explorer's numbers are checked against an independent computation: the learning-rate
explorer against the library's own network and optimiser, the backward stepper against the
library's backprop and the hand formulas, the activation explorer against the activation
table. The static fallback is checked with ipywidgets hidden.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.contour import ContourSet
from matplotlib.patches import Circle

from bpcourse import widgets
from bpcourse.activations import ACTIVATIONS, sigmoid
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.plots.functions import ELEMENTWISE, mathtext
from bpcourse.plots.network import HIGHLIGHT
from bpcourse.training import TrainingDivergedError
from bpcourse.widgets import (
    NEURON_START,
    NEURON_T,
    NEURON_X,
    activation_explorer,
    backward_stepper,
    learning_rate_explorer,
    training_explorer,
    use_static,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def not_forced_static(monkeypatch):
    monkeypatch.delenv("BPCOURSE_STATIC", raising=False)


# --- lesson 03: learning rate -------------------------------------------------------------------


def library_neuron_losses(lr: float, steps: int) -> np.ndarray:
    """E after 0..steps gradient-descent steps, by the library's MLP([1, 1]) and optimiser."""
    net = MLP([1, 1], "sigmoid", output_activation="sigmoid")
    dense = net.layers[0]
    dense.W.value[...] = NEURON_START[0]
    dense.b.value[...] = NEURON_START[1]
    optimizer = GradientDescent(net.parameters(), lr)
    X, T = NEURON_X[:, None], NEURON_T[:, None]
    losses = []
    for _ in range(steps):
        losses.append(net.loss_and_backward(X, T, "half_squared_error"))
        optimizer.step()
    losses.append(net.loss_and_backward(X, T, "half_squared_error"))
    return np.array(losses)


def test_learning_rate_explorer_small_good_and_large_rates():
    explorer = learning_rate_explorer()
    explorer.controls["steps"].value = 40
    for lr in (0.3, 3.0, 50.0):
        explorer.controls["lr"].value = lr  # the slider's callback recomputes
        expected = library_neuron_losses(lr, 40)
        np.testing.assert_allclose(explorer.losses, expected, rtol=1e-10)
        rises = int(np.sum(np.diff(expected) > 1e-12))
        if lr == 0.3:  # too small: E falls at every step, but stays far from the minimum
            assert rises == 0 and expected[-1] > 0.2
            assert explorer.verdict.startswith("too small")
        elif lr == 3.0:
            assert expected[-1] < 0.081
            assert explorer.verdict.startswith("good")
        else:  # too large: E goes up again and again
            assert rises > 10
            assert explorer.verdict.startswith("too large")


def test_learning_rate_explorer_draws_the_loss_curve_and_the_weight_path():
    explorer = learning_rate_explorer(lr=60.0, steps=20)
    ax_loss, ax_path = explorer.figure.axes
    curve = next(line for line in ax_loss.get_lines() if line.get_label() == r"$\mathcal{L}$")
    np.testing.assert_allclose(curve.get_ydata(), library_neuron_losses(60.0, 20), rtol=1e-10)
    path = next(line for line in ax_path.get_lines() if line.get_label() == "η = 60")
    np.testing.assert_array_equal(np.c_[path.get_xdata(), path.get_ydata()], explorer.path)
    assert explorer.path.shape == (21, 2)
    np.testing.assert_array_equal(explorer.path[0], NEURON_START)
    assert any(isinstance(c, ContourSet) for c in ax_path.collections)
    assert "too large" in explorer.text()


# --- lesson 04: the backward stepper ------------------------------------------------------------


def hand_backprop(net: MLP, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The 2-layer sigmoid backward pass written out from the notes' formulas."""
    W1, b1 = net.layers[0].W.value, net.layers[0].b.value
    W2, b2 = net.layers[2].W.value, net.layers[2].b.value
    a1 = sigmoid(W1 @ x + b1)
    y = sigmoid(W2 @ a1 + b2)
    delta2 = (y - t) * y * (1 - y)
    delta1 = a1 * (1 - a1) * (W2.T @ delta2)
    return {
        "E": np.array([0.5 * np.sum((y - t) ** 2)]),
        "delta2": delta2,
        "delta1": delta1,
        "dW2": np.outer(delta2, a1),
        "dW1": np.outer(delta1, x),
    }


@pytest.mark.parametrize("sizes", [(2, 2, 1), (2, 3, 1)])
def test_stepper_values_are_the_library_backprop_and_the_hand_formulas(sizes):
    x, t = np.array([1.0, 0.5]), np.array([1.0])
    stepper = backward_stepper(sizes, x, t, seed=3)
    net = MLP(list(sizes), "sigmoid", output_activation="sigmoid", seed=3)
    hand = hand_backprop(net, x, t)
    loss = net.loss_and_backward(x[None, :], t[None, :], "half_squared_error")
    dense1, dense2 = net.layers[0], net.layers[2]
    n_hidden = sizes[1]
    kinds = [step.kind for step in stepper.steps]
    assert kinds == ["forward", "delta", "gradient", *["delta"] * n_hidden, "gradient", "update"]

    forward, output_delta, grads2, *hidden, grads1, _ = stepper.steps
    np.testing.assert_allclose(forward.value, [loss])
    np.testing.assert_allclose(forward.value, hand["E"])
    np.testing.assert_allclose(output_delta.value, dense2.b.grad)  # δ = ∂E/∂b for one example
    np.testing.assert_allclose(output_delta.value, hand["delta2"])
    np.testing.assert_allclose(grads2.value, np.r_[dense2.W.grad.ravel(), dense2.b.grad])
    np.testing.assert_allclose(grads2.value[:n_hidden], hand["dW2"].ravel())
    for j, step in enumerate(hidden):
        assert step.nodes == ((1, j),)
        np.testing.assert_allclose(step.value, [dense1.b.grad[j]])
        np.testing.assert_allclose(step.value, [hand["delta1"][j]])
    np.testing.assert_allclose(grads1.value, np.r_[dense1.W.grad.ravel(), dense1.b.grad])
    np.testing.assert_allclose(grads1.value[: 2 * n_hidden], hand["dW1"].ravel())
    for step in stepper.steps:
        np.testing.assert_allclose(step.value, step.hand)


def test_stepper_update_step_lowers_the_loss():
    stepper = backward_stepper()
    forward, update = stepper.steps[0], stepper.steps[-1]
    assert update.value[0] < forward.value[0]


def test_stepper_next_and_back_buttons():
    stepper = backward_stepper()
    controls = stepper.controls
    last = len(stepper.steps) - 1
    assert stepper.values["step"] == 0 and controls["back"].disabled
    for expected in range(1, last + 1):
        controls["next"].click()
        assert stepper.values["step"] == expected
    assert controls["next"].disabled
    controls["next"].click()  # nothing past the end
    assert stepper.values["step"] == last
    controls["back"].click()
    assert stepper.values["step"] == last - 1 and not controls["next"].disabled
    controls["step"].value = 3  # the slider jumps
    assert stepper.step is stepper.steps[3]


def test_stepper_highlights_the_unit_of_each_delta_and_shows_its_formula():
    stepper = backward_stepper()
    for index, step in enumerate(stepper.steps):
        stepper.go_to(index)
        diagram = stepper.figure.axes[0]
        lit = {
            p.get_gid() for p in diagram.patches if to_rgba(p.get_facecolor()) == to_rgba(HIGHLIGHT)
        }
        assert lit == {f"node {layer} {j}" for layer, j in step.nodes}
        assert f"${step.formula}$" in [t.get_text() for t in stepper.figure.axes[1].texts]
        assert step.formula not in stepper.html()  # drawn once, under the diagram
        assert f"step {index} of {len(stepper.steps) - 1}" in diagram.get_title()
    assert len([p for p in diagram.patches if isinstance(p, Circle)]) == 5
    box = stepper.widget()  # built once shown: the figure and the formula go into it
    assert box.children[1] is stepper._output
    assert "image/png" in stepper._output.outputs[0]["data"]
    stepper.controls["back"].click()
    assert f"Step {len(stepper.steps) - 2} of" in stepper._html.value


def test_stepper_refuses_big_networks():
    with pytest.raises(ValueError, match="small networks"):
        backward_stepper((2, 5, 1))


# --- lesson 05: activations ---------------------------------------------------------------------


def test_activation_explorer_draws_the_library_f_and_derivative():
    explorer = activation_explorer()
    for name in ELEMENTWISE:
        explorer.controls["name"].value = name
        act = ACTIVATIONS[name]
        ax = explorer.figure.axes[0]
        (f,) = [line for line in ax.get_lines() if line.get_gid() == "function"]
        z = np.asarray(f.get_xdata())
        np.testing.assert_array_equal(f.get_ydata(), act(z))
        for piece in [line for line in ax.get_lines() if line.get_gid() == "derivative"]:
            zs = np.asarray(piece.get_xdata())
            np.testing.assert_array_equal(piece.get_ydata(), act.derivative(zs, act(zs)))
        title = ax.get_title()
        assert title.startswith(name)
        assert mathtext(act.formula) in title and mathtext(act.derivative_formula) in title
        assert act.formula not in explorer.html()  # once, in the figure
    explorer.controls["x_range"].value = (-2.0, 3.0)
    line = explorer.figure.axes[0].get_lines()[0]
    assert (line.get_xdata()[0], line.get_xdata()[-1]) == (-2.0, 3.0)


# --- lesson 06: training ------------------------------------------------------------------------


def test_training_explorer_trains_on_the_button_and_draws_loss_and_regions():
    explorer = training_explorer(epochs=30)
    losses = explorer.history.train_loss
    assert len(losses) == 30 and losses[-1] < 0.6 * losses[0]
    assert "went up" not in explorer.status
    ax_loss, ax_regions = explorer.figure.axes[:2]
    np.testing.assert_array_equal(ax_loss.get_lines()[0].get_ydata(), losses)
    filled = [c for c in ax_regions.collections if isinstance(c, ContourSet) and c.filled]
    np.testing.assert_array_equal(filled[0].levels, [-0.5, 0.5, 1.5])

    first = explorer.history
    explorer.controls["dataset"].value = "spirals"
    explorer.controls["hidden"].value = 32
    explorer.controls["epochs"].value = 20
    assert explorer.history is first  # settings wait for the Train button
    explorer.controls["train"].click()
    assert explorer.net is not None and explorer.net.sizes == [2, 32, 3]
    assert explorer.history.epochs == 20
    assert explorer.history.train_loss[-1] < explorer.history.train_loss[0]
    filled = [
        c for c in explorer.figure.axes[1].collections if isinstance(c, ContourSet) and c.filled
    ]
    np.testing.assert_array_equal(filled[0].levels, [-0.5, 0.5, 1.5, 2.5])
    assert "spirals: MLP([2, 32, 3], relu)" in explorer.text()


def test_training_explorer_says_when_the_learning_rate_is_too_high(monkeypatch):
    explorer = training_explorer(activation="tanh", hidden=64, lr=10.0, epochs=10, batch_size=32)
    assert explorer.initial_loss == pytest.approx(np.log(2), abs=0.2)
    assert explorer.history.train_loss[-1] > explorer.initial_loss
    assert explorer.status.endswith("the loss went up: lower the learning rate")
    assert explorer.status in explorer.text()

    def diverge(*args, **kwargs):
        raise TrainingDivergedError("the loss became nan")

    monkeypatch.setattr(widgets.training, "train", diverge)
    explorer.update()
    assert explorer.status == "diverged in epoch 1: lower the learning rate"
    assert explorer.history.epochs == 0
    assert explorer.status in explorer.figure.axes[0].get_title().splitlines()


# --- the static fallback ------------------------------------------------------------------------


def test_static_is_chosen_without_a_kernel_or_when_asked(monkeypatch):
    assert use_static() is True  # the tests run outside a Jupyter kernel
    assert use_static(static=False) is False
    monkeypatch.setenv("BPCOURSE_STATIC", "1")
    assert use_static() is True


def test_widget_display_carries_the_picture_as_a_fallback():
    explorer = activation_explorer("tanh")
    interactive = explorer.mimebundle(static=False)
    assert interactive[WIDGET_VIEW]["model_id"] == explorer.widget().model_id
    assert {"image/png", "text/html", "text/plain"} <= set(interactive)
    static = explorer._repr_mimebundle_()  # outside a kernel: static
    assert WIDGET_VIEW not in static and static["image/png"]
    assert ACTIVATIONS["tanh"].formula in static["text/plain"]


def test_without_ipywidgets_every_explorer_falls_back_to_a_static_figure(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    assert use_static() is True
    explorers = [
        learning_rate_explorer(steps=10),
        backward_stepper(),
        activation_explorer("relu"),
        training_explorer(epochs=5),
    ]
    for explorer in explorers:
        assert explorer.controls == {}
        explorer.show()
        printed = capsys.readouterr().out
        assert printed.strip() == explorer.text().strip()
        assert explorer.figure.axes, type(explorer).__name__
        with pytest.raises(ImportError, match="show\\(static=True\\)"):
            explorer.widget()
    stepper = explorers[1]
    assert stepper.values["step"] == len(stepper.steps) - 2  # the picture has every gradient
    explorers[0].set(lr=60.0)  # settings still work without controls
    assert explorers[0].verdict.startswith("too large")


# --- what a learner saw in the browser (issue 10) -----------------------------------------------


def test_log_sliders_show_exactly_the_value_used():
    lr_03 = learning_rate_explorer(lr=3.0).controls["lr"]
    lr_06 = training_explorer(lr=0.3, epochs=5).controls["lr"]
    for slider, value in ((lr_03, 3.0), (lr_06, 0.3)):
        assert slider.value == value
        assert slider.label == f"{value:g}"  # the readout is the value, not 3.16 or 0.316
        assert all(label == f"{v:g}" for label, v in slider.options)
    odd = training_explorer(lr=0.25, epochs=5)
    assert odd.controls["lr"].value == 0.25 and odd.history.epochs == 5


def test_training_explorer_is_not_stale_when_shown_and_says_so_after_a_change():
    explorer = training_explorer(epochs=5)
    explorer.widget()
    assert "press Train" not in explorer._html.value
    explorer.controls["lr"].value = explorer.values["lr"]  # a front-end echo of the same value
    explorer._on_change("lr", {"new": 0.3})
    assert "press Train" not in explorer._html.value
    explorer.controls["epochs"].value = 10
    assert "press Train" in explorer._html.value
    explorer.controls["epochs"].value = 5  # back to what was trained
    assert "press Train" not in explorer._html.value


def test_training_explorer_trains_a_fixed_number_of_epochs_deterministically():
    first = training_explorer(dataset="spirals", hidden=32, lr=0.3, epochs=40)
    second = training_explorer(dataset="spirals", hidden=32, lr=0.3, epochs=40)
    assert first.history.epochs == 40 and first.status == "trained 40 epochs"
    assert first.history.train_loss == second.history.train_loss


def test_stepper_and_activation_explorer_show_each_formula_once():
    stepper = backward_stepper()
    stepper.go_to(1)
    stepper.widget()
    step = stepper.step
    drawn = [t.get_text() for t in stepper.figure.axes[1].texts]
    assert f"${step.formula}$" in drawn
    assert step.formula not in stepper._html.value
    explorer = activation_explorer("tanh", x_range=(-10.0, 10.0))
    explorer.widget()
    formula = ACTIVATIONS["tanh"].formula
    assert formula not in explorer._html.value
    assert "z from -10 to 10" == explorer.controls["x_range_readout"].value
    assert explorer.controls["x_range"].readout is False  # the clipped readout is gone


def test_no_emoji_in_what_the_widgets_show():
    import bpcourse.gradcheck
    import bpcourse.widgets

    emoji = ("\u23f3", "\u2705", "\u274c", "\u26a0")
    sources = [
        *(m.__file__ for name, m in sys.modules.items() if name.startswith("bpcourse.widgets")),
        bpcourse.gradcheck.__file__,
    ]
    for path in sources:
        text = open(path, encoding="utf-8").read()
        assert not any(e in text for e in emoji), path


# --- the base: updates from two kernel threads --------------------------------------------------


def test_updates_from_two_threads_run_one_after_the_other():
    """Seen in JupyterLab 4.6 with ipykernel 7: control changes arrive on the main shell
    thread and on a subshell thread; two updates at once would draw into one figure."""
    import threading

    from bpcourse.widgets.base import Explorer

    first_is_computing, release_first = threading.Event(), threading.Event()
    events = []

    class Slow(Explorer):
        def __init__(self) -> None:
            super().__init__()
            self.values = {"n": 0}
            self._start((2, 2))

        def compute(self) -> None:
            n = self.values["n"]
            events.append(("start", n))
            if n == 1:
                first_is_computing.set()
                release_first.wait(5)
            events.append(("end", n))

        def draw(self) -> None:
            self.figure.subplots().set_title(str(self.values["n"]))

    explorer = Slow()
    events.clear()
    first = threading.Thread(target=explorer.set, kwargs={"n": 1})
    first.start()
    assert first_is_computing.wait(5)
    second = threading.Thread(target=explorer.set, kwargs={"n": 2})
    second.start()
    second.join(0.3)  # without the lock it computes now, inside the first update
    release_first.set()
    first.join(5)
    second.join(5)
    assert events == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]
    assert explorer.figure.axes[0].get_title() == "2"
