"""What is particular to the items of exercises/03_one_neuron.ipynb."""

from __future__ import annotations

import numpy as np
import pytest
from answers_ex03 import train_neuron
from item_contract import run, slipped

from bpcourse.activations import sigmoid
from bpcourse.checking.items import ex03_one_neuron


def test_a_sign_error_in_neuron_step_is_named_and_never_called_the_right_direction():
    """Issue 11: it was '−0.099 × the right answer: the direction is right'."""
    text = str(run("train_neuron", slipped(train_neuron, "uphill")))
    assert "a sign error" in text and "neuron_step" in text
    assert "direction is right" not in text
    assert "at least 95% are needed" in text


def test_a_loop_that_only_records_the_losses_late_keeps_the_other_parts():
    result = run("train_neuron", slipped(train_neuron, "after"))
    assert result.points == pytest.approx(4 * 2 / 3, abs=0.01)
    assert result.messages[-1] == "right: W and b, accuracy"


def test_the_checkers_data_set_is_separable_and_the_reference_reaches_the_accuracy():
    X, Y = ex03_one_neuron.separable_set()
    W, b, losses = ex03_one_neuron.reference_training(
        X, Y, np.zeros((1, 2)), np.zeros(1), ex03_one_neuron.TRAIN_LR, ex03_one_neuron.TRAIN_STEPS
    )
    assert np.mean((sigmoid(X @ W.T + b) > 0.5) == (Y > 0.5)) == 1.0
    assert losses[0] == pytest.approx(0.125) and losses[-1] < 0.01


def test_losses_may_be_a_list_of_numbers_or_of_one_element_arrays():
    def as_arrays(*args):
        W, b, losses = train_neuron(*args)
        return W, b, [np.array([v]) for v in losses]

    assert run("train_neuron", as_arrays).passed


def test_a_naive_sigmoid_keeps_the_points_for_moderate_z_and_is_told_why_it_overflows():
    from answers_ex03 import sigmoid_and_derivative

    result = run("sigmoid_and_derivative", slipped(sigmoid_and_derivative, "naive"))
    assert result.points == 2 and "right: a, da_dz" in result.messages[-1]
    assert any("e^(−|z|)" in m for m in result.messages)
