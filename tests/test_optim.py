"""Optimisers: the notes' update table, w <- w - eta dL/dw, and the optimiser interface."""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse.layers import Parameter
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent, Optimizer


def parameters_with_gradients(seed: int = 0, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    params = [
        Parameter(rng.normal(size=(3, 2)).astype(dtype), "W"),
        Parameter(rng.normal(size=3).astype(dtype), "b"),
    ]
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(dtype)
    return params


def test_one_step_is_w_minus_eta_times_gradient_for_every_parameter():
    params = parameters_with_gradients()
    before = [(p.value.copy(), p.grad.copy()) for p in params]
    opt = GradientDescent(params, lr=0.3)
    opt.step()
    for p, (value, grad) in zip(params, before, strict=True):
        for idx in np.ndindex(*p.shape):  # entry by entry, as the update table reads
            assert p.value[idx] == pytest.approx(value[idx] - 0.3 * grad[idx], abs=1e-15)
        np.testing.assert_array_equal(p.grad, grad)  # the step reads gradients, never changes them
    assert opt.steps == 1


def test_steps_update_in_place_and_accumulate():
    params = parameters_with_gradients(1)
    arrays = [p.value for p in params]
    start = [p.value.copy() for p in params]
    opt = GradientDescent(params, lr=0.1)
    for _ in range(3):
        opt.step()
    for p, array, value in zip(params, arrays, start, strict=True):
        assert p.value is array  # in place: a network holding the array sees the update
        np.testing.assert_allclose(p.value, value - 3 * 0.1 * p.grad, atol=1e-14)
    assert opt.steps == 3


def test_changing_the_learning_rate_between_steps_takes_effect():
    (p,) = parameters_with_gradients(2)[:1]
    start = p.value.copy()
    opt = GradientDescent([p], lr=0.1)
    opt.step()
    opt.lr = 0.5
    opt.step()
    np.testing.assert_allclose(p.value, start - 0.6 * p.grad, atol=1e-14)
    assert opt.lr == 0.5 and isinstance(opt.lr, float)


def test_a_step_on_a_network_lowers_the_loss():
    rng = np.random.default_rng(3)
    net = MLP([4, 8, 3], "tanh")
    X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)
    opt = GradientDescent(net.parameters(), lr=0.05)
    before = net.loss_and_backward(X, y)
    expected = {p.name: p.value - 0.05 * p.grad for p in net.parameters()}
    opt.step()
    for p in net.parameters():
        np.testing.assert_allclose(p.value, expected[p.name], atol=1e-15)
    assert net.loss_and_backward(X, y) < before


def test_float32_parameters_stay_float32():
    params = parameters_with_gradients(4, dtype=np.float32)
    GradientDescent(params, lr=0.1).step()
    assert all(p.value.dtype == np.float32 for p in params)


def test_zero_grad_zeroes_every_gradient():
    params = parameters_with_gradients(5)
    opt = GradientDescent(params, lr=0.1)
    opt.zero_grad()
    assert all(not p.grad.any() for p in params)
    values = [p.value.copy() for p in params]
    opt.step()  # a zero gradient changes nothing
    for p, value in zip(params, values, strict=True):
        np.testing.assert_array_equal(p.value, value)


def test_parameters_may_come_from_a_generator():
    net = MLP([2, 3, 1])
    opt = GradientDescent((p for p in net.parameters()), lr=0.1)
    assert opt.params == net.parameters()
    assert repr(opt) == "GradientDescent(lr=0.1)"


def test_a_new_optimiser_keeps_state_per_parameter():
    class Momentum(Optimizer):
        def update(self, p, state):
            state["v"] = 0.9 * state.get("v", 0) + p.grad
            p.value -= self.lr * state["v"]

    params = parameters_with_gradients(6)
    start = [p.value.copy() for p in params]
    opt = Momentum(params, lr=0.1)
    opt.step()
    opt.step()
    for p, value in zip(params, start, strict=True):  # v1 = g, v2 = 1.9 g
        np.testing.assert_allclose(p.value, value - 0.1 * (1 + 1.9) * p.grad, atol=1e-14)
        np.testing.assert_allclose(opt.state[id(p)]["v"], 1.9 * p.grad, atol=1e-14)


def test_the_base_class_has_no_update_rule():
    with pytest.raises(NotImplementedError):
        Optimizer(parameters_with_gradients(), lr=0.1).step()


@pytest.mark.parametrize("lr", [-0.1, 0, 0.0, float("nan"), float("inf"), -float("inf")])
def test_invalid_learning_rates_are_refused(lr):
    with pytest.raises(
        ValueError, match=r"GradientDescent: learning rate must be a finite number > 0"
    ):
        GradientDescent(parameters_with_gradients(), lr=lr)
    opt = GradientDescent(parameters_with_gradients(), lr=0.1)
    with pytest.raises(ValueError, match=r"learning rate must be a finite number > 0"):
        opt.lr = lr
    assert opt.lr == 0.1  # a refused value leaves the old one


@pytest.mark.parametrize("lr", ["0.1", None, True, [0.1]])
def test_non_numeric_learning_rates_are_refused(lr):
    with pytest.raises(TypeError, match="learning rate must be a number"):
        GradientDescent(parameters_with_gradients(), lr=lr)


def test_no_parameters_is_refused():
    with pytest.raises(ValueError, match="GradientDescent was given no parameters"):
        GradientDescent([], lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        GradientDescent(iter(()), lr=0.1)


def test_arrays_instead_of_parameters_are_refused():
    with pytest.raises(TypeError, match=r"needs Parameters \(net.parameters\(\)\), got ndarray"):
        GradientDescent([np.zeros(3)], lr=0.1)
