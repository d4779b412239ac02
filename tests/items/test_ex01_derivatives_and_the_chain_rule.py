"""What is particular to the items of exercises/01_derivatives_and_the_chain_rule.ipynb."""

from __future__ import annotations

import math

from answers_ex01 import chain_rule_derivative, neuron_gradient
from item_contract import run, slipped


def test_half_right_neuron_gradient_gets_half_the_points_and_is_told_which_half():
    result = run("neuron_chain_rule", slipped(neuron_gradient, "no x"))
    assert result.points == 2.5
    assert result.messages[-1] == "right: ∂ℒ/∂b"


def test_two_slips_in_the_neuron_are_not_called_a_constant_factor():
    """Issue 11: σ' missing and a sum for the mean is not 'a constant factor' (30.2 vs 20.7)."""
    result = run("neuron_chain_rule", slipped(neuron_gradient, "no σ' sum"))
    text = str(result)
    assert "constant factor" not in text.replace("not a constant", "")
    assert "direction is right" not in text


def test_no_message_blames_a_target_minus_prediction_where_y_is_the_target():
    for slip in ("sign", "no σ' sign", "sum sign"):
        text = str(run("neuron_chain_rule", slipped(neuron_gradient, slip)))
        assert "(y − t)" not in text and "(t − y)" not in text
        assert "ŷₙ − yₙ, prediction minus target" in text


def test_a_derivative_item_with_no_loss_does_not_talk_about_a_loss():
    text = str(run("chain_rule_derivative", lambda x: -chain_rule_derivative(x)))
    assert "has the opposite sign" in text and "loss" not in text


def test_the_exact_derivative_passes_and_a_finite_difference_with_any_step_does_not():
    def softplus_sin(x):
        return math.log(1 + math.exp(math.sin(3 * x)))

    for h in (1e-3, 1e-5, 1e-7):
        result = run(
            "chain_rule_derivative",
            lambda x, h=h: (softplus_sin(x + h) - softplus_sin(x - h)) / (2 * h),
        )
        assert result.points == 0, f"h = {h}: {result}"


def test_a_forward_second_difference_is_told_its_error_order():
    result = run("second_derivative", lambda f, x, h: (f(x + 2 * h) - 2 * f(x + h) + f(x)) / h**2)
    assert any("falls like h^0" in m for m in result.messages), str(result)
