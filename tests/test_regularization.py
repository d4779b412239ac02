r"""L2 and L1 weight penalties: their values, their gradients, what they leave alone.

L2 adds $\frac\lambda2\sum\lVert W\rVert^2$ to the loss and $\lambda W$ to each weight's
gradient; L1 adds $\lambda\sum|w|$ and $\lambda\,\mathrm{sign}(W)$. Biases ('.b') and batch-norm
scales and shifts ('.gamma', '.beta') are not penalised. Gradients are checked against
central differences of the penalty in float64, with the course's single-function tolerance.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpcourse.layers import Parameter
from bpcourse.losses import get_loss
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.regularization import l1_penalty, l2_penalty, penalised
from bpcourse.training import StepOptions, train_step

H = 1e-6
TOLERANCE = 1e-7  # COURSE.md: a single layer or loss
PENALTIES = {"l2": l2_penalty, "l1": l1_penalty}
LOSS = get_loss("softmax_cross_entropy")


def mixed_parameters(seed: int = 0) -> list[Parameter]:
    """Weights of every kind the library has, and the parameters a penalty must leave alone.

    Entries are kept at least 0.05 from 0 so that |w| has no kink within a step h.
    """
    rng = np.random.default_rng(seed)

    def away_from_zero(*shape: int) -> np.ndarray:
        x = rng.uniform(0.05, 1.5, size=shape)
        return x * rng.choice([-1.0, 1.0], size=shape)

    params = [
        Parameter(away_from_zero(4, 3), "dense1.W"),
        Parameter(away_from_zero(4), "dense1.b"),
        Parameter(away_from_zero(2, 3, 3, 3), "conv.W"),
        Parameter(away_from_zero(2), "conv.b"),
        Parameter(away_from_zero(5, 5), "rnn.W_hh"),
        Parameter(away_from_zero(5), "rnn.b"),
        Parameter(away_from_zero(4), "bn.gamma"),
        Parameter(away_from_zero(4), "bn.beta"),
    ]
    for p in params:
        p.grad = rng.normal(size=p.shape)  # a data gradient the penalty must add to
    return params


WEIGHTS = ("dense1.W", "conv.W", "rnn.W_hh")
LEFT_ALONE = ("dense1.b", "conv.b", "rnn.b", "bn.gamma", "bn.beta")


def expected_value(kind: str, params: list[Parameter], strength: float) -> float:
    weights = [p.value for p in params if p.name in WEIGHTS]
    if kind == "l2":
        return 0.5 * strength * sum(float((w**2).sum()) for w in weights)
    return strength * sum(float(np.abs(w).sum()) for w in weights)


def relative_error(a: np.ndarray, n: np.ndarray) -> float:
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n), 1e-12))


def central_differences(kind: str, params: list[Parameter], p: Parameter, strength: float):
    """d(penalty)/d(p.value) by central differences of the value the library returns."""
    numeric = np.zeros(p.shape)
    for idx in np.ndindex(*p.shape):
        old = p.value[idx]
        p.value[idx] = old + H
        plus = PENALTIES[kind](params, strength)
        p.value[idx] = old - H
        minus = PENALTIES[kind](params, strength)
        p.value[idx] = old
        numeric[idx] = (plus - minus) / (2 * H)
    return numeric


def test_penalised_selects_the_weights_only():
    assert [p.name for p in penalised(mixed_parameters())] == list(WEIGHTS)
    net = MLP([3, 4, 2])
    assert [p.name for p in penalised(net.parameters())] == ["dense1.W", "dense2.W"]


@pytest.mark.parametrize("kind", ["l2", "l1"])
@pytest.mark.parametrize("strength", [0.3, 1e-3])
def test_penalty_value(kind, strength):
    params = mixed_parameters(1)
    assert PENALTIES[kind](params, strength) == pytest.approx(
        expected_value(kind, params, strength), rel=1e-14
    )


def test_penalty_values_by_hand():
    W = Parameter(np.array([[1.0, -2.0], [0.5, 0.0]]), "dense.W")
    b = Parameter(np.array([10.0, -10.0]), "dense.b")
    assert l2_penalty([W, b], 0.1) == pytest.approx(0.05 * (1 + 4 + 0.25))
    assert l1_penalty([W, b], 0.1) == pytest.approx(0.1 * (1 + 2 + 0.5))
    # d|w|/dw at w = 0 is taken as 0 (the subgradient that keeps zeros at zero).
    W.grad[...] = 0
    l1_penalty([W], 1.0)
    np.testing.assert_array_equal(W.grad, [[1.0, -1.0], [1.0, 0.0]])


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_penalty_gradient_matches_central_differences(kind):
    strength = 0.7
    params = mixed_parameters(2)
    data_grads = {p.name: p.grad.copy() for p in params}
    PENALTIES[kind](params, strength)
    added = {p.name: p.grad - data_grads[p.name] for p in params}
    for p in params:
        numeric = central_differences(kind, params, p, strength)
        if p.name in LEFT_ALONE:
            np.testing.assert_array_equal(numeric, 0)  # the value ignores it...
            np.testing.assert_array_equal(added[p.name], 0)  # ...and so does the gradient
        else:
            err = relative_error(added[p.name], numeric)
            assert err < TOLERANCE, f"{kind} gradient of {p.name}: relative error {err:.2e}"


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_the_penalty_gradient_is_added_to_the_data_gradient(kind):
    strength = 0.25
    params = mixed_parameters(3)
    data_grads = {p.name: p.grad.copy() for p in params}
    PENALTIES[kind](params, strength)
    for p in params:
        if p.name in WEIGHTS:
            extra = strength * (p.value if kind == "l2" else np.sign(p.value))
            np.testing.assert_allclose(p.grad, data_grads[p.name] + extra, rtol=1e-14)
        else:
            np.testing.assert_array_equal(p.grad, data_grads[p.name])


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_strength_zero_is_a_no_op(kind):
    params = mixed_parameters(4)
    grads = [p.grad.copy() for p in params]
    values = [p.value.copy() for p in params]
    assert PENALTIES[kind](params, 0.0) == 0.0
    assert PENALTIES[kind](params, 0) == 0.0
    for p, g, v in zip(params, grads, values, strict=True):
        np.testing.assert_array_equal(p.grad, g)
        np.testing.assert_array_equal(p.value, v)


@pytest.mark.parametrize("kind", ["l2", "l1"])
@pytest.mark.parametrize("strength", [-0.1, -1, float("nan"), float("inf")])
def test_invalid_strengths_are_refused(kind, strength):
    params = mixed_parameters(5)
    grads = [p.grad.copy() for p in params]
    message = f"{kind.upper()} strength must be a finite number >= 0, got {strength}"
    with pytest.raises(ValueError, match=re.escape(message)):
        PENALTIES[kind](params, strength)
    for p, g in zip(params, grads, strict=True):  # nothing was touched
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_non_numeric_strength_is_refused(kind):
    with pytest.raises(TypeError, match="strength must be a number"):
        PENALTIES[kind](mixed_parameters(), "0.1")


def test_penalties_do_not_change_the_weights():
    params = mixed_parameters(6)
    values = [p.value.copy() for p in params]
    l2_penalty(params, 0.5)
    l1_penalty(params, 0.5)
    for p, v in zip(params, values, strict=True):
        np.testing.assert_array_equal(p.value, v)


def test_one_gradient_descent_step_with_l2_is_weight_decay():
    # W <- W - eta (dL/dW + lambda W) = W (1 - eta lambda) - eta dL/dW; biases: no decay.
    eta, lam = 0.1, 0.05
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    twin = MLP([3, 5, 2], "tanh", seed=1)
    twin.loss_and_backward(X, y)
    data_grad = {p.name: p.grad.copy() for p in twin.parameters()}
    before = {p.name: p.value.copy() for p in twin.parameters()}

    net = MLP([3, 5, 2], "tanh", seed=1)
    train_step(net, X, y, LOSS, GradientDescent(net.parameters(), eta), StepOptions(l2=lam))
    for p in net.parameters():
        if p.name.endswith(".W"):
            expected = before[p.name] * (1 - eta * lam) - eta * data_grad[p.name]
        else:
            expected = before[p.name] - eta * data_grad[p.name]
        np.testing.assert_allclose(p.value, expected, rtol=1e-13, atol=1e-15, err_msg=p.name)


def test_with_a_zero_data_gradient_l2_shrinks_weights_geometrically():
    eta, lam, steps = 0.2, 0.5, 5
    W = Parameter(np.array([[2.0, -1.0]]), "dense.W")
    start = W.value.copy()
    opt = GradientDescent([W], eta)
    for _ in range(steps):
        W.grad[...] = 0
        l2_penalty([W], lam)
        opt.step()
    np.testing.assert_allclose(W.value, start * (1 - eta * lam) ** steps, rtol=1e-14)


def test_train_step_returns_data_loss_plus_penalties():
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    twin = MLP([3, 4, 2], "tanh", seed=2)
    data_loss = twin.loss_and_backward(X, y)
    weights = [p.value for p in twin.parameters() if p.name.endswith(".W")]
    l2 = 0.5 * 0.01 * sum(float((w**2).sum()) for w in weights)
    l1 = 0.002 * sum(float(np.abs(w).sum()) for w in weights)
    net = MLP([3, 4, 2], "tanh", seed=2)
    value = train_step(
        net, X, y, LOSS, GradientDescent(net.parameters(), 0.1), StepOptions(l2=0.01, l1=0.002)
    )
    assert value == pytest.approx(data_loss + l2 + l1, rel=1e-13)
