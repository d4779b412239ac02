"""Layers: the dense and activation forward/backward pairs, and the layer objects.

Every backward pass is compared with central differences in float64, twice: with this file's
own loop (so a bug in `bpcourse.gradcheck` cannot hide a bug in backprop) and with
`check_layer` under the course's layer tolerance (1e-7). Forward passes are compared with
the definitions written out entry by entry.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from independent import central_difference as numeric_grad
from independent import relative_error as rel_err

from bpcourse.activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from bpcourse.gradcheck import LAYER_TOLERANCE, check_layer
from bpcourse.layers import (
    ActivationLayer,
    Dense,
    Parameter,
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
)
from bpcourse.validation import ShapeError

ACTIVATION_NAMES = sorted(ACTIVATIONS)
SIZES = st.integers(1, 5)
SEEDS = st.integers(0, 2**32 - 1)


# --- an independent central-difference loop ------------------------------------------------


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.1):
    """Random values with |x| >= low: no ReLU kink within reach of a finite difference."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, 2.0, size=shape)


# --- dense_forward / dense_backward ---------------------------------------------------------


def test_dense_forward_is_the_definition_entry_by_entry():
    rng = np.random.default_rng(1)
    X, W, b = rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2)
    Z, _ = dense_forward(X, W, b)
    assert Z.shape == (3, 2)
    for n in range(3):
        for j in range(2):
            expected = sum(W[j, i] * X[n, i] for i in range(4)) + b[j]
            assert Z[n, j] == pytest.approx(expected, abs=1e-14)


def test_dense_backward_is_the_sum_of_the_notes_outer_products():
    """dW = sum over examples of delta a^T (the notes' outer product); db = sum of deltas."""
    rng = np.random.default_rng(2)
    X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    dZ = rng.normal(size=(5, 4))
    _, cache = dense_forward(X, W, b)
    dX, dW, db = dense_backward(dZ, cache)
    assert dW.shape == W.shape and db.shape == b.shape and dX.shape == X.shape
    np.testing.assert_allclose(dW, sum(np.outer(dZ[n], X[n]) for n in range(5)), atol=1e-13)
    np.testing.assert_allclose(db, [sum(dZ[n, j] for n in range(5)) for j in range(4)], atol=1e-13)
    # dX_n = W^T delta_n, the notes' delta(l) = W^T delta(l+1) before the activation factor
    np.testing.assert_allclose(dX, np.stack([W.T @ dZ[n] for n in range(5)]), atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(n=SIZES, n_in=SIZES, n_out=SIZES, seed=SEEDS)
def test_dense_backward_matches_own_central_differences(n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    W = rng.normal(size=(n_out, n_in))
    b = rng.normal(size=n_out)
    G = rng.normal(size=(n, n_out))  # a fixed upstream gradient: L = sum(G * Z)

    def loss() -> float:
        return float(np.sum(G * dense_forward(X, W, b)[0]))

    _, cache = dense_forward(X, W, b)
    dX, dW, db = dense_backward(G, cache)
    for analytic, wrt in ((dX, X), (dW, W), (db, b)):
        assert analytic.shape == wrt.shape
        assert rel_err(analytic, numeric_grad(loss, wrt)) < 1e-7


def test_dense_backward_without_input_grad_skips_dx_only():
    rng = np.random.default_rng(3)
    X, W, b, dZ = (rng.normal(size=s) for s in ((4, 3), (2, 3), (2,), (4, 2)))
    _, cache = dense_forward(X, W, b)
    dX, dW, db = dense_backward(dZ, cache, input_grad=True)
    none, dW2, db2 = dense_backward(dZ, cache, input_grad=False)
    assert dX is not None and none is None
    np.testing.assert_array_equal(dW, dW2)
    np.testing.assert_array_equal(db, db2)


@settings(max_examples=20, deadline=None)
@given(n=SIZES, n_in=SIZES, n_out=SIZES, seed=SEEDS)
def test_dense_layer_passes_check_layer(n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, seed=seed, name="fc")
    layer.b.value[...] = rng.normal(size=n_out)
    report = check_layer(layer, rng.normal(size=(n, n_in)), seed=seed % 1000)
    assert report.tolerance == LAYER_TOLERANCE == 1e-7
    assert [r.name for r in report.rows] == ["fc.W", "fc.b", "input"]
    assert report.passed, str(report)
    assert report.worst < 1e-7


# --- activation layers --------------------------------------------------------------------


def derivative_by_hand(name: str, z: float) -> float:
    """f'(z) for the element-wise activations, from the derivative table of the notes."""
    s = 1 / (1 + math.exp(-z))
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 - math.tanh(z) ** 2,
        "relu": 1.0 if z > 0 else 0.0,
        "leaky_relu": 1.0 if z > 0 else LEAKY_RELU_SLOPE,
        "softplus": s,
        "identity": 1.0,
    }[name]


@pytest.mark.parametrize("name", [a for a in ACTIVATION_NAMES if a != "softmax"])
def test_elementwise_activation_backward_is_upstream_times_derivative(name):
    rng = np.random.default_rng(4)
    Z = away_from_zero(rng, (3, 4))
    dA = rng.normal(size=(3, 4))
    layer = ActivationLayer(name)
    layer.forward(Z)
    dZ = layer.backward(dA)
    expected = np.vectorize(lambda z: derivative_by_hand(name, z))(Z) * dA
    np.testing.assert_allclose(dZ, expected, rtol=1e-12, atol=1e-15)


def test_softmax_backward_is_the_jacobian_vector_product():
    rng = np.random.default_rng(5)
    Z, dA = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    A, cache = activation_forward(Z, ACTIVATIONS["softmax"])
    dZ = activation_backward(dA, cache)
    for n in range(3):
        a = A[n]
        jacobian = np.diag(a) - np.outer(a, a)  # da_i/dz_j = a_i (1[i=j] - a_j)
        np.testing.assert_allclose(dZ[n], jacobian.T @ dA[n], atol=1e-14)


def test_relu_derivative_at_exactly_zero_is_zero_and_leaky_is_the_slope():
    Z = np.array([[0.0, 0.0]])
    dA = np.array([[1.0, 2.0]])
    relu = ActivationLayer("relu")
    relu.forward(Z)
    np.testing.assert_array_equal(relu.backward(dA), [[0.0, 0.0]])
    leaky = ActivationLayer("leaky_relu")
    leaky.forward(Z)
    np.testing.assert_allclose(leaky.backward(dA), [[LEAKY_RELU_SLOPE, 2 * LEAKY_RELU_SLOPE]])


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(max_examples=8, deadline=None)
@given(n=SIZES, c=st.integers(2, 5), seed=SEEDS)
def test_activation_layer_backward_matches_own_central_differences(name, n, c, seed):
    rng = np.random.default_rng(seed)
    Z = away_from_zero(rng, (n, c))
    G = rng.normal(size=(n, c))
    layer = ActivationLayer(name)

    def loss() -> float:
        return float(np.sum(G * layer.forward(Z)))

    layer.forward(Z)
    dZ = layer.backward(G)
    assert dZ.shape == Z.shape
    assert rel_err(dZ, numeric_grad(loss, Z)) < 1e-7


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(max_examples=8, deadline=None)
@given(n=SIZES, c=st.integers(2, 5), seed=SEEDS)
def test_activation_layer_passes_check_layer(name, n, c, seed):
    rng = np.random.default_rng(seed)
    report = check_layer(ActivationLayer(name), away_from_zero(rng, (n, c)), seed=seed % 1000)
    assert report.kinks == 0
    assert [r.name for r in report.rows] == ["input"]
    assert report.passed and report.worst < 1e-7, str(report)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_layers_are_finite_and_silent_at_plus_minus_1e4(name):
    Z = np.array([[-1e4, -1e3, 0.5, 1e3, 1e4], [1e4, 1e4, -1e4, -1e4, 3.0]])
    layer = ActivationLayer(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            A = layer.forward(Z)
            dZ = layer.backward(np.ones_like(Z))
    assert np.isfinite(A).all() and np.isfinite(dZ).all()
    if name == "sigmoid":  # saturates to exactly 0 and 1, derivative 0
        assert A[0, 0] == 0.0 and A[0, 4] == 1.0 and dZ[0, 0] == 0.0
    if name == "softmax":
        np.testing.assert_allclose(A.sum(axis=1), 1.0)


# --- Parameter, Dense and ActivationLayer objects -------------------------------------------


def test_parameter_holds_a_zero_gradient_of_its_shape_and_dtype():
    p = Parameter(np.ones((2, 3), dtype=np.float32), "w")
    assert p.shape == (2, 3)
    assert p.grad.shape == (2, 3) and p.grad.dtype == np.float32
    assert not p.grad.any()
    assert repr(p) == "Parameter('w', shape=(2, 3), dtype=float32)"


def test_dense_layer_stores_w_as_n_out_by_n_in_and_zero_bias():
    layer = Dense(3, 5, name="fc")
    assert layer.W.shape == (5, 3) and layer.b.shape == (5,)
    assert not layer.b.value.any()
    assert layer.W.value.std() > 0
    assert [p.name for p in layer.parameters()] == ["fc.W", "fc.b"]
    assert layer.parameters()[0] is layer.W and layer.parameters()[1] is layer.b
    assert layer.expected_input() == (2, "(N, 3)")
    assert repr(layer) == "Dense(3 -> 5, name='fc')"


def test_dense_layer_forward_uses_its_parameters_and_backward_writes_grads():
    rng = np.random.default_rng(6)
    layer = Dense(3, 2, seed=0)
    layer.b.value[...] = [0.5, -1.0]
    X = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(X), X @ layer.W.value.T + [0.5, -1.0], atol=1e-14)
    dOut = rng.normal(size=(4, 2))
    dX = layer.backward(dOut)
    np.testing.assert_allclose(layer.W.grad, dOut.T @ X, atol=1e-14)
    np.testing.assert_allclose(layer.b.grad, dOut.sum(axis=0), atol=1e-14)
    np.testing.assert_allclose(dX, dOut @ layer.W.value, atol=1e-14)
    assert layer.backward(dOut, input_grad=False) is None


def test_backward_overwrites_gradients_rather_than_adding():
    rng = np.random.default_rng(7)
    layer = Dense(3, 2)
    X, dOut = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(X)
    layer.backward(dOut)
    once = layer.W.grad.copy(), layer.b.grad.copy()
    layer.backward(dOut)
    np.testing.assert_array_equal(layer.W.grad, once[0])
    np.testing.assert_array_equal(layer.b.grad, once[1])


def test_dense_layer_is_seeded_and_keeps_its_dtype():
    np.testing.assert_array_equal(Dense(4, 3, seed=5).W.value, Dense(4, 3, seed=5).W.value)
    assert not np.array_equal(Dense(4, 3, seed=5).W.value, Dense(4, 3, seed=6).W.value)
    layer = Dense(4, 3, dtype=np.float32)
    assert layer.W.value.dtype == np.float32 and layer.b.value.dtype == np.float32
    out = layer.forward(np.ones((2, 4), dtype=np.float32))
    assert out.dtype == np.float32
    layer.backward(np.ones((2, 3), dtype=np.float32))
    assert layer.W.grad.dtype == np.float32 and layer.b.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("n_in", "n_out", "label", "bad"),
    [
        (0, 3, "n_in", "0"),
        (3, -1, "n_out", "-1"),
        (2.5, 3, "n_in", "2.5"),
        (3, True, "n_out", "True"),
    ],
)
def test_dense_layer_refuses_invalid_sizes(n_in, n_out, label, bad):
    with pytest.raises(ValueError, match=rf"'fc'.*{label} must be a positive int, got {bad}"):
        Dense(n_in, n_out, name="fc")


def test_dense_layer_refuses_unknown_init_listing_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown initialiser 'kaiming'.*he_normal.*xavier_normal"
    ):
        Dense(2, 3, init="kaiming")


def test_dense_layer_names_itself_and_both_shapes_on_wrong_input():
    layer = Dense(3, 4, name="fc1")
    with pytest.raises(ShapeError, match=r"'fc1' \(3 -> 4\).*\(N, 3\).*\(5, 2\)"):
        layer.forward(np.zeros((5, 2)))
    with pytest.raises(ShapeError, match=r"'fc1'.*\(N, 3\).*\(3,\)"):
        layer.forward(np.zeros(3))


def test_dense_layer_backward_before_forward_and_wrong_upstream_shape():
    layer = Dense(3, 4, name="fc1")
    with pytest.raises(RuntimeError, match="'fc1': call forward before backward"):
        layer.backward(np.zeros((2, 4)))
    layer.forward(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"'fc1'.*shape of its output \(2, 4\), got \(2, 3\)"):
        layer.backward(np.zeros((2, 3)))


def test_activation_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*relu.*sigmoid.*tanh"):
        ActivationLayer("swish")
    layer = ActivationLayer("tanh", name="tanh7")
    with pytest.raises(RuntimeError, match="'tanh7': call forward before backward"):
        layer.backward(np.zeros((2, 3)))
    layer.forward(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"'tanh7'.*output \(2, 3\), got \(3, 2\)"):
        layer.backward(np.zeros((3, 2)))


def test_activation_layer_names_and_lookup_is_case_insensitive():
    layer = ActivationLayer("ReLU")
    assert layer.name == "relu" and layer.activation is ACTIVATIONS["relu"]
    assert layer.parameters() == []
    assert repr(layer) == "ActivationLayer('relu')"
    assert ActivationLayer(ACTIVATIONS["tanh"], name="h").name == "h"


def test_dense_takes_seed_like_every_layer_and_still_accepts_rng_with_a_warning():
    with pytest.warns(DeprecationWarning, match=r"rng= is now seed="):
        old = Dense(4, 3, rng=5)
    np.testing.assert_array_equal(old.W.value, Dense(4, 3, seed=5).W.value)
    with pytest.raises(TypeError, match=r"unexpected keyword.*'sed'"):
        Dense(4, 3, sed=5)


def test_a_new_layer_writes_only_forward_and_backward():
    from bpcourse.layers import Layer

    class Double(Layer):
        def forward(self, X, training=True):
            return self.remember(2 * X, None)

        def backward(self, dOut, input_grad=True):
            self.recall(dOut)
            return 2 * dOut

    layer = Double()
    layer.name = "twice"
    with pytest.raises(RuntimeError, match="Double layer 'twice': call forward before backward"):
        layer.backward(np.ones((2, 3)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"'twice'.*shape of its output \(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(layer.backward(np.ones((2, 3))), 2 * np.ones((2, 3)))
