"""The gradient checker: it passes correct gradients and catches wrong ones, by name.

Wrong gradients are made on purpose, the way learners make them: a dropped transpose, a
factor of 2, a missing 1/N. The tolerance policy of COURSE.md (1e-7 for a layer or loss,
1e-6 for a network) is asserted at its boundary, not just read back.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcourse.gradcheck import (
    ELEMENT_FLOOR,
    LAYER_TOLERANCE,
    NETWORK_TOLERANCE,
    check_layer,
    check_loss,
    check_network,
    elementwise_relative_error,
    numerical_gradient,
    relative_error,
)
from bpcourse.layers import ActivationLayer, Dense, Layer, Parameter
from bpcourse.losses import LOSSES, Loss, half_squared_error
from bpcourse.network import MLP, Sequential

# --- deliberately wrong layers and losses ---------------------------------------------------


class NoTransposeDense(Dense):
    """dW computed as X^T dZ, the transpose of dZ^T X (shapes agree for a square layer)."""

    def backward(self, dOut, input_grad=True):
        X, W = self.cache
        self.W.grad = X.T @ dOut
        self.b.grad = dOut.sum(axis=0)
        return dOut @ W


class DoubleBiasDense(Dense):
    """A bias gradient multiplied by 2; everything else right."""

    def backward(self, dOut, input_grad=True):
        dX = super().backward(dOut, input_grad)
        self.b.grad = 2 * self.b.grad
        return dX


class WrongInputGradDense(Dense):
    """dX = dZ W^T instead of dZ W: the transpose in the wrong place (square layer)."""

    def backward(self, dOut, input_grad=True):
        super().backward(dOut, input_grad)
        return dOut @ self.W.value.T


class ScaledBiasDense(Dense):
    """A bias gradient off by a relative factor `eps`: tests the tolerance boundary."""

    eps = 0.0

    def backward(self, dOut, input_grad=True):
        dX = super().backward(dOut, input_grad)
        self.b.grad = self.b.grad * (1 + self.eps)
        return dX


def half_squared_error_without_mean(prediction, target):
    """The gradient of the summed loss paired with the mean loss: a missing 1/N."""
    value, grad = half_squared_error(prediction, target)
    return value, grad * len(prediction)


NO_MEAN = Loss("no_mean_hse", half_squared_error_without_mean, "values", "")


def sample_network(first: Dense, seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    first.b.value[...] = rng.normal(size=first.n_out)
    return Sequential(
        [first, ActivationLayer("tanh", name="tanh1"), Dense(3, 2, seed=1, name="d2")]
    )


RNG = np.random.default_rng(20)
X3 = RNG.normal(size=(5, 3))
LABELS = np.array([0, 1, 1, 0, 1])


# --- the helpers ---------------------------------------------------------------------------


def test_relative_error_by_hand():
    a, n = np.array([3.0, 4.0]), np.array([3.0, 4.5])
    assert relative_error(a, n) == pytest.approx(0.5 / math.sqrt(9 + 20.25), rel=1e-12)
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(2.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no division by zero


def test_elementwise_relative_error_uses_an_absolute_floor():
    a = np.array([1.0, 0.0, 1e-12])
    n = np.array([1.1, 0.0, 2e-12])
    err = elementwise_relative_error(a, n)
    assert err[0] == pytest.approx(0.1 / 1.1)
    assert err[1] == 0.0
    assert err[2] == pytest.approx(1e-12 / ELEMENT_FLOOR)  # not 0.5: the floor applies
    assert ELEMENT_FLOOR == 1e-8


def test_numerical_gradient_of_a_known_function_restores_its_input():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    original = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * original**2, rtol=1e-8)
    np.testing.assert_array_equal(x, original)


def test_numerical_gradient_computes_only_the_given_indices():
    x = np.arange(6.0).reshape(2, 3)
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x, indices=[(0, 1), (1, 2)])
    assert grad[0, 1] == pytest.approx(2.0) and grad[1, 2] == pytest.approx(10.0)
    assert np.isnan(grad).sum() == 4


def test_numerical_gradient_refuses_float32():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match=r"float64.*float32"):
        numerical_gradient(lambda: float(x.sum()), x)


# --- correct gradients pass ------------------------------------------------------------------


def test_the_tolerance_policy_values():
    assert LAYER_TOLERANCE == 1e-7
    assert NETWORK_TOLERANCE == 1e-6
    assert check_layer(Dense(3, 3), X3).tolerance == 1e-7
    assert check_network(MLP([3, 3, 2]), X3, LABELS).tolerance == 1e-6
    assert check_loss("mse", X3, X3 + 1).tolerance == 1e-7


def test_correct_layer_passes_and_its_report_is_complete():
    report = check_layer(Dense(3, 4, name="fc"), X3)
    assert report.passed
    assert [(r.name, r.shape, r.checked) for r in report.rows] == [
        ("fc.W", (4, 3), 12),
        ("fc.b", (4,), 4),
        ("input", (5, 3), 15),
    ]
    assert all(r.relative_error < 1e-9 and r.passed for r in report.rows)
    assert report.worst == max(r.relative_error for r in report.rows)
    assert report["fc.b"] is report.rows[1]
    assert report.raise_if_failed() is report


def test_correct_network_passes():
    report = check_network(MLP([3, 5, 2], "tanh"), X3, LABELS)
    assert report.passed and report.worst < 1e-6
    assert [r.name for r in report.rows] == ["dense1.W", "dense1.b", "dense2.W", "dense2.b"]


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_passes_check_loss(loss):
    rng = np.random.default_rng(21)
    pred = rng.normal(size=(4, 3))
    target = {
        "softmax_cross_entropy": np.array([0, 2, 1, 2]),
        "binary_cross_entropy": rng.integers(0, 2, size=(4, 3)).astype(float),
    }.get(loss, rng.normal(size=(4, 3)))
    report = check_loss(loss, pred, target)
    assert [r.name for r in report.rows] == [loss]
    assert report.passed and report.worst < 1e-7, str(report)


def test_checks_leave_parameters_and_inputs_as_they_were():
    net = MLP([3, 4, 2], "sigmoid")
    before = [p.value.copy() for p in net.parameters()]
    X = X3.copy()
    check_network(net, X, LABELS)
    for p, value in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, value)
    np.testing.assert_array_equal(X, X3)
    layer = Dense(3, 3)
    W = layer.W.value.copy()
    check_layer(layer, X)
    np.testing.assert_array_equal(layer.W.value, W)
    np.testing.assert_array_equal(X, X3)


# --- wrong gradients fail, and the report names the wrong tensor -------------------------------


def test_dropped_transpose_in_dW_fails_on_W_only():
    report = check_layer(NoTransposeDense(3, 3, name="fc"), X3)
    assert not report.passed
    assert not report["fc.W"].passed
    assert report["fc.b"].passed and report["input"].passed
    text = str(report)
    assert "FAILED" in text
    assert any(line.startswith("fc.W") and line.endswith("FAIL") for line in text.splitlines())
    with pytest.raises(AssertionError, match=r"gradient check failed:[\s\S]*fc\.W"):
        report.raise_if_failed()


def test_doubled_bias_gradient_fails_on_b_only():
    report = check_layer(DoubleBiasDense(3, 4, name="fc"), X3)
    assert not report.passed
    assert [r.name for r in report.rows if not r.passed] == ["fc.b"]
    assert report["fc.b"].relative_error == pytest.approx(0.5, rel=1e-6)  # |2g - g| / |2g|


def test_wrong_input_gradient_fails_on_input_only():
    report = check_layer(WrongInputGradDense(3, 3, name="fc"), X3)
    assert [r.name for r in report.rows if not r.passed] == ["input"]


def test_a_wrong_layer_inside_a_network_is_caught_by_name():
    net = sample_network(NoTransposeDense(3, 3, name="d1"))
    report = check_network(net, X3, LABELS)
    assert not report.passed
    assert [r.name for r in report.rows if not r.passed] == ["d1.W"]
    net = sample_network(DoubleBiasDense(3, 3, name="d1"))
    assert [r.name for r in check_network(net, X3, LABELS).rows if not r.passed] == ["d1.b"]


def test_a_missing_one_over_n_fails_the_loss_and_network_checks():
    rng = np.random.default_rng(22)
    pred, target = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    report = check_loss(NO_MEAN, pred, target)
    assert not report.passed and report.rows[0].name == "no_mean_hse"
    assert report.worst == pytest.approx(3 / 4, rel=1e-6)  # |4g - g| / |4g|
    net = MLP([3, 4, 2], "tanh")
    report = check_network(net, X3, rng.normal(size=(5, 2)), NO_MEAN)
    assert not report.passed and not any(r.passed for r in report.rows)
    # a single example has N = 1, where the missing factor does no harm
    assert check_network(net, X3[:1], rng.normal(size=(1, 2)), NO_MEAN).passed


def test_tolerance_boundaries_of_the_policy():
    """A relative error of 5e-7 fails a layer check but passes a network check; 5e-6 fails both."""
    layer = ScaledBiasDense(3, 3, name="d1")
    layer.eps = 5e-7
    assert not check_layer(layer, X3)["d1.b"].passed
    assert check_layer(layer, X3)["d1.b"].relative_error == pytest.approx(5e-7, rel=1e-3)
    assert check_network(sample_network(layer), X3, LABELS).passed
    layer.eps = 5e-6
    assert not check_network(sample_network(layer), X3, LABELS)["d1.b"].passed
    layer.eps = 5e-9
    assert check_layer(layer, X3).passed


def test_float32_is_refused_with_a_clear_type_error():
    with pytest.raises(TypeError, match=r"float64; parameter 'dense1.W' is float32"):
        check_network(MLP([3, 2], dtype=np.float32), X3, LABELS)
    with pytest.raises(TypeError, match=r"float64; parameter 'fc.W' is float32"):
        check_layer(Dense(3, 2, dtype=np.float32, name="fc"), X3)


# --- sampling, the report, kinks -------------------------------------------------------------


def test_sampled_checking_checks_max_per_tensor_entries():
    net = MLP([6, 5, 2], "tanh")
    report = check_network(net, X3.repeat(2, axis=1), LABELS, max_per_tensor=3)
    assert {r.name: r.checked for r in report.rows} == {
        "dense1.W": 3,
        "dense1.b": 3,
        "dense2.W": 3,
        "dense2.b": 2,  # smaller than the limit: all of it
    }
    assert report.passed
    # the sample catches a wrong tensor too
    bad = sample_network(DoubleBiasDense(3, 3, name="d1"))
    assert not check_network(bad, X3, LABELS, max_per_tensor=2)["d1.b"].passed


def test_sampling_is_seeded():
    net = MLP([6, 5, 2], "tanh")
    X = X3.repeat(2, axis=1)
    a = check_network(net, X, LABELS, max_per_tensor=4, seed=1)
    b = check_network(net, X, LABELS, max_per_tensor=4, seed=1)
    assert [r.relative_error for r in a.rows] == [r.relative_error for r in b.rows]


def test_report_text_names_every_tensor_with_a_verdict():
    report = check_network(MLP([3, 4, 2], "tanh"), X3, LABELS)
    lines = str(report).splitlines()
    for row in report.rows:
        line = next(line for line in lines if line.startswith(row.name))
        assert line.rstrip().endswith("ok")
        assert str(row.checked) in line
    assert lines[-1].startswith("passed: worst relative error")
    assert "tolerance 1e-06" in lines[-1]
    html = report._repr_html_()
    assert all(r.name in html for r in report.rows) and "<table>" in html
    bad = str(check_layer(DoubleBiasDense(3, 3, name="fc"), X3))
    assert "FAILED: worst relative error" in bad and "tolerance 1e-07" in bad


def test_kinks_count_relu_inputs_at_zero():
    X = np.array([[0.0, 1.0, -1.0, 0.0], [0.5, 0.0, -0.5, 2.0]])
    for name in ("relu", "leaky_relu"):
        report = check_layer(ActivationLayer(name), X)
        assert report.kinks == 3
        assert "warning: 3 ReLU input(s)" in str(report)
    assert check_layer(ActivationLayer("relu"), X + 0.25).kinks == 0
    assert check_layer(ActivationLayer("sigmoid"), X).kinks == 0
    assert "warning" not in str(check_layer(ActivationLayer("relu"), X + 0.25))


def test_kinks_are_counted_inside_a_network():
    net = MLP([3, 4, 2], "relu")
    x = X3[:1] * 0.01
    W, b = net[0].W.value, net[0].b.value
    b[...] = 5.0  # every hidden unit far from its kink ...
    assert check_network(net, x, LABELS[:1]).kinks == 0
    b[0] = -(W[0] @ x[0])  # ... but unit 0, which now sits exactly at it
    assert check_network(net, x, LABELS[:1]).kinks == 1


# --- known bugs -----------------------------------------------------------------------------


class TwoUnnamedParameters(Layer):
    """y = a * x + c with unnamed Parameters; the gradient of `a` is deliberately wrong."""

    def __init__(self) -> None:
        self.a = Parameter(np.array([2.0, 3.0]))
        self.c = Parameter(np.array([0.5, -1.0]))

    def forward(self, X, training=True):
        self.X = X
        return X * self.a.value + self.c.value

    def backward(self, dOut, input_grad=True):
        self.a.grad = 7 * (dOut * self.X).sum(axis=0)  # wrong
        self.c.grad = dOut.sum(axis=0)
        return dOut * self.a.value

    def parameters(self):
        return [self.a, self.c]


def test_check_layer_checks_every_unnamed_parameter():
    report = check_layer(TwoUnnamedParameters(), np.random.default_rng(0).normal(size=(4, 2)))
    assert len(report.rows) == 3
    assert not report.passed


def test_check_network_checks_every_parameter_of_same_named_layers():
    first = NoTransposeDense(3, 3, seed=1)  # default name 'dense', wrong dW
    net = Sequential([first, ActivationLayer("tanh"), Dense(3, 2, seed=2)])
    report = check_network(net, X3, LABELS)
    assert len(report.rows) == 4
    assert not report.passed


def test_a_network_without_parameters_has_nothing_to_check():
    net = Sequential([ActivationLayer("tanh")])
    with pytest.raises(ValueError, match="nothing to check"):
        check_network(net, X3, X3, "half_squared_error")


def test_report_lookup_of_an_unknown_name_raises_key_error():
    report = check_layer(Dense(3, 3, name="fc"), X3)
    with pytest.raises(KeyError, match="nope"):
        report["nope"]
