"""Inverted dropout (bpcourse.dropout): statistics, modes, gradients and bad inputs.

Statistical checks draw many masks with fixed seeds and allow five standard errors, so they
are deterministic and far from flaky. Gradient checks freeze the mask (the layer must be a
fixed function of its input while it is checked) and use the course's tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.dropout import Dropout, dropout_backward, dropout_forward
from bpcourse.gradcheck import LAYER_TOLERANCE, NETWORK_TOLERANCE, check_layer, check_network
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.network import Sequential

FAST = settings(max_examples=10, deadline=None, derandomize=True)


def test_evaluation_mode_is_the_identity():
    X = np.random.default_rng(0).normal(size=(6, 5))
    out, cache = dropout_forward(X, 0.5, np.random.default_rng(1), training=False)
    np.testing.assert_array_equal(out, X)
    G = np.random.default_rng(2).normal(size=X.shape)
    np.testing.assert_array_equal(dropout_backward(G, cache), G)
    layer = Dropout(0.7, seed=3)
    np.testing.assert_array_equal(layer.forward(X, training=False), X)
    np.testing.assert_array_equal(layer.backward(G), G)


def test_p_zero_in_training_is_the_identity():
    X = np.random.default_rng(0).normal(size=(8, 3))
    layer = Dropout(0.0, seed=0)
    np.testing.assert_array_equal(layer.forward(X, training=True), X)
    G = np.ones_like(X)
    np.testing.assert_array_equal(layer.backward(G), G)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_zeroed_is_p_and_survivors_are_scaled(p):
    n = 200_000
    X = np.full((n // 100, 100), 2.0)
    out, _ = dropout_forward(X, p, np.random.default_rng(0), training=True)
    zeroed = np.mean(out == 0)
    assert abs(zeroed - p) < 5 * np.sqrt(p * (1 - p) / n)  # five standard errors
    np.testing.assert_allclose(out[out != 0], 2.0 / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_training_mode_keeps_the_expectation(p):
    """Averaged over M masks, out -> X: each entry has mean x and variance x² p/(1-p)."""
    X = np.random.default_rng(1).normal(size=(4, 6))
    M = 5000
    layer = Dropout(p, seed=2)
    mean = np.mean([layer.forward(X, training=True) for _ in range(M)], axis=0)
    standard_error = np.abs(X) * np.sqrt(p / (1 - p) / M)
    assert np.all(np.abs(mean - X) < 5 * standard_error + 1e-12)


def test_backward_passes_gradient_only_through_kept_units():
    rng = np.random.default_rng(0)
    X, G = rng.normal(size=(10, 7)), rng.normal(size=(10, 7))
    p = 0.4
    out, cache = dropout_forward(X, p, rng, training=True)
    dX = dropout_backward(G, cache)
    kept = out != 0
    np.testing.assert_array_equal(dX[~kept], 0.0)
    np.testing.assert_allclose(dX[kept], G[kept] / (1 - p), rtol=1e-15)


def test_a_given_mask_is_reused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4))
    _, mask = dropout_forward(X, 0.5, rng, training=True)
    out, _ = dropout_forward(2 * X, 0.5, rng, training=True, mask=mask)
    np.testing.assert_array_equal(out, 2 * X * mask)


def test_freeze_mask_fixes_the_mask_only_inside_the_block():
    X = np.random.default_rng(0).normal(size=(20, 10))
    layer = Dropout(0.5, seed=0)
    with layer.freeze_mask():
        first = layer.forward(X)
        assert layer.fixed_mask
        np.testing.assert_array_equal(layer.forward(X), first)
        np.testing.assert_array_equal(layer.forward(3 * X), 3 * first)
    assert not layer.fixed_mask
    assert not np.array_equal(layer.forward(X), first)  # a new mask: 200 coins differ


def test_the_same_seed_gives_the_same_masks():
    X = np.ones((5, 5))
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    np.testing.assert_array_equal(a.forward(X), b.forward(X))


@FAST
@given(
    n=st.integers(1, 6),
    d=st.integers(1, 6),
    p=st.floats(0.0, 0.9),
    seed=st.integers(0, 2**16),
)
def test_layer_gradient_check(n, d, p, seed):
    X = np.random.default_rng(seed).normal(size=(n, d))
    layer = Dropout(p, seed=seed)
    with layer.freeze_mask():
        report = check_layer(layer, X, seed=seed)
    assert report.tolerance == LAYER_TOLERANCE
    assert report.passed, str(report)


def test_network_gradient_check_with_frozen_dropout():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    drop = Dropout(0.5, seed=1)
    net = Sequential(
        [Dense(5, 7, seed=2), ActivationLayer("tanh"), drop, Dense(7, 3, seed=3, name="out")]
    )
    with drop.freeze_mask():
        report = check_network(net, X, y)
    assert report.tolerance == NETWORK_TOLERANCE
    assert report.passed, str(report)
    assert np.any(drop.mask == 0)  # the check really ran through a mask that drops units


def test_network_in_evaluation_mode_ignores_dropout():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 5))
    dense = Dense(5, 3, seed=1)
    net = Sequential([Dropout(0.9, seed=0), dense])
    np.testing.assert_allclose(net.predict(X), dense.forward(X), rtol=1e-15)


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 1.5, float("nan")])
def test_bad_probability_is_refused_naming_the_value(p):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\), got p = "):
        Dropout(p)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        dropout_forward(np.ones((2, 2)), p, np.random.default_rng(0))


def test_p_equal_to_one_explains_why():
    with pytest.raises(ValueError, match=r"got p = 1.*drop every unit"):
        Dropout(1)
    with pytest.raises(ValueError, match=r"got p = 1.5"):
        Dropout(1.5)
    with pytest.raises(ValueError, match=r"got p = -0.1"):
        Dropout(-0.1)


def test_non_numeric_probability_is_a_type_error():
    with pytest.raises(TypeError, match="must be a number"):
        Dropout("0.5")


def test_backward_errors_name_the_layer():
    layer = Dropout(0.5, name="drop1")
    with pytest.raises(RuntimeError, match="'drop1': call forward before backward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'drop1'.*\(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
