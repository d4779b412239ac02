"""The recurrent layer (bpcourse.recurrent): BPTT, truncated BPTT, gradient decay, training.

Full BPTT is checked against central differences of a loss on the whole unrolled sequence.
Truncated BPTT is checked against its definition, computed independently: the sum over
chunks of each chunk's finite-difference gradient, with the chunk's initial state held
fixed. The rest: the forward pass against a plain loop of the formula, the decay of the
gradient reaching earlier steps, a small sequence task learned inside a Sequential, errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.gradcheck import (
    LAYER_TOLERANCE,
    NETWORK_TOLERANCE,
    check_layer,
    check_network,
    numerical_gradient,
    relative_error,
)
from bpcourse.layers import Dense
from bpcourse.network import Sequential
from bpcourse.recurrent import (
    RNN,
    LastStep,
    orthogonal,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from bpcourse.training import evaluate, train
from bpcourse.validation import ShapeError

FAST = settings(max_examples=10, deadline=None, derandomize=True)


def weights(n_in, n_hidden, seed, scale=0.6):
    rng = np.random.default_rng(seed)
    W_xh = rng.normal(scale=scale, size=(n_hidden, n_in))
    W_hh = rng.normal(scale=scale, size=(n_hidden, n_hidden))
    return W_xh, W_hh, rng.normal(scale=0.3, size=n_hidden)


# --- forward -------------------------------------------------------------------------------


def test_forward_is_the_recurrence_written_out():
    rng = np.random.default_rng(0)
    X, h0 = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 5))
    W_xh, W_hh, b = weights(2, 5, seed=1)
    H, _ = rnn_forward(X, h0, W_xh, W_hh, b)
    h = h0
    for t in range(4):
        for n in range(3):  # one example at a time, as the formula is written
            z = W_xh @ X[n, t] + W_hh @ h[n] + b
            np.testing.assert_allclose(H[n, t], np.tanh(z), rtol=1e-13)
        h = H[:, t]


def test_layer_starts_from_a_zero_state_and_names_its_parameters():
    layer = RNN(2, 3, seed=0, name="rnn1")
    X = np.random.default_rng(1).normal(size=(4, 5, 2))
    H = layer.forward(X)
    assert H.shape == (4, 5, 3)
    np.testing.assert_allclose(H[:, 0], np.tanh(X[:, 0] @ layer.W_xh.value.T), rtol=1e-14)
    assert [p.name for p in layer.parameters()] == ["rnn1.W_xh", "rnn1.W_hh", "rnn1.b"]
    assert [p.shape for p in layer.parameters()] == [(3, 2), (3, 3), (3,)]
    assert layer.expected_input() == (3, "(N, T, 2)")


def test_orthogonal_initialisation():
    Q = orthogonal(6, np.random.default_rng(0))
    np.testing.assert_allclose(Q @ Q.T, np.eye(6), atol=1e-12)
    W_hh = RNN(3, 6, seed=0, recurrent_gain=0.5).W_hh.value
    np.testing.assert_allclose(np.linalg.svd(W_hh, compute_uv=False), 0.5, rtol=1e-12)
    assert RNN(3, 4, recurrent_init="xavier_normal").W_hh.shape == (4, 4)


# --- full BPTT against finite differences ---------------------------------------------------


@FAST
@given(
    n=st.integers(1, 4),
    t=st.integers(1, 6),
    n_in=st.integers(1, 4),
    n_hidden=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_layer_gradient_check_full_bptt(n, t, n_in, n_hidden, seed):
    """check_layer: L = sum(G * H) over every step, so every dH_t is non-zero."""
    layer = RNN(n_in, n_hidden, seed=seed, name="rnn1")
    X = np.random.default_rng(seed + 1).normal(size=(n, t, n_in))
    report = check_layer(layer, X, seed=seed)
    assert report.tolerance == LAYER_TOLERANCE
    assert report.passed, str(report)


def test_step_backward_and_the_initial_state_gradient():
    rng = np.random.default_rng(3)
    x, h_prev, G = rng.normal(size=(3, 2)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    W_xh, W_hh, b = weights(2, 4, seed=4)
    _, cache = rnn_step_forward(x, h_prev, W_xh, W_hh, b)
    analytic = rnn_step_backward(G, cache)

    def f() -> float:
        return float(np.sum(G * rnn_step_forward(x, h_prev, W_xh, W_hh, b)[0]))

    for array, grad in zip((x, h_prev, W_xh, W_hh, b), analytic, strict=True):
        assert relative_error(grad, numerical_gradient(f, array)) < LAYER_TOLERANCE

    X, h0, GH = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 4)), rng.normal(size=(2, 5, 4))
    _, seq_cache = rnn_forward(X, h0, W_xh, W_hh, b)
    dh0 = rnn_backward(GH, seq_cache).dh0
    numeric = numerical_gradient(
        lambda: float(np.sum(GH * rnn_forward(X, h0, W_xh, W_hh, b)[0])), h0
    )
    assert relative_error(dh0, numeric) < LAYER_TOLERANCE


def test_network_gradient_check_with_last_step_and_dense():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 7, 3)), rng.integers(0, 2, size=5)
    net = Sequential([RNN(3, 4, seed=1, name="rnn1"), LastStep(), Dense(4, 2, seed=2)])
    report = check_network(net, X, y)
    assert report.tolerance == NETWORK_TOLERANCE
    assert report.passed, str(report)


def test_last_step_selects_and_routes_the_gradient():
    X = np.random.default_rng(0).normal(size=(2, 4, 3))
    layer = LastStep()
    np.testing.assert_array_equal(layer.forward(X), X[:, 3])
    G = np.ones((2, 3))
    dX = layer.backward(G)
    np.testing.assert_array_equal(dX[:, 3], G)
    np.testing.assert_array_equal(dX[:, :3], 0.0)
    assert check_layer(LastStep(), X).passed


# --- truncated BPTT -------------------------------------------------------------------------


def chunked_numerical_gradients(layer, X, G, k):
    """Truncated BPTT by its definition: sum over chunks of each chunk's gradient, from finite
    differences of sum(G * H) over that chunk, with its initial state held fixed."""
    N, T, _ = X.shape
    H = layer.forward(X)
    W_xh, W_hh, b = (p.value for p in layer.parameters())
    grads = [np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)]
    dX = np.zeros_like(X)
    for start in range(0, T, k):
        h_start = np.zeros((N, layer.n_hidden)) if start == 0 else H[:, start - 1].copy()
        Xc = X[:, start : start + k].copy()
        Gc = G[:, start : start + k]

        def f(Xc=Xc, Gc=Gc, h_start=h_start) -> float:
            return float(np.sum(Gc * rnn_forward(Xc, h_start, W_xh, W_hh, b)[0]))

        for grad, array in zip(grads, (W_xh, W_hh, b), strict=True):
            grad += numerical_gradient(f, array)
        dX[:, start : start + k] = numerical_gradient(f, Xc)
    return grads, dX


@pytest.mark.parametrize(("T", "k"), [(6, 2), (7, 3), (5, 1), (6, 4)])
def test_truncated_bptt_matches_its_chunked_definition(T, k):
    rng = np.random.default_rng(T * 10 + k)
    X, G = rng.normal(size=(3, T, 2)), rng.normal(size=(3, T, 4))
    layer = RNN(2, 4, seed=k, truncate=k)
    layer.W_hh.value *= 1.5  # strong recurrence: what is cut off is not negligible
    layer.forward(X)
    dX = layer.backward(G)
    numeric, numeric_dX = chunked_numerical_gradients(layer, X, G, k)
    for p, n in zip(layer.parameters(), numeric, strict=True):
        assert relative_error(p.grad, n) < LAYER_TOLERANCE, p.name
    assert relative_error(dX, numeric_dX) < LAYER_TOLERANCE


@pytest.mark.parametrize("k", [None, 6, 7, 100])
def test_truncation_covering_the_sequence_is_full_bptt_exactly(k):
    rng = np.random.default_rng(0)
    X, G = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 4))
    full, truncated = RNN(2, 4, seed=1), RNN(2, 4, seed=1, truncate=k)
    full.forward(X)
    truncated.forward(X)
    np.testing.assert_array_equal(full.backward(G), truncated.backward(G))
    for p, q in zip(full.parameters(), truncated.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_a_shorter_window_cuts_the_gradient_reaching_early_steps():
    """With the loss on the last step only, T = 8 and k = 3 (chunks 0-2, 3-5, 6-7), nothing
    reaches h_0 ... h_5 under truncation; under full BPTT they all receive some gradient."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 8, 2))
    G = np.zeros((4, 8, 3))
    G[:, -1] = rng.normal(size=(4, 3))
    full, truncated = RNN(2, 3, seed=2), RNN(2, 3, seed=2, truncate=3)
    for layer in (full, truncated):
        layer.forward(X)
        layer.backward(G)
    assert full.dH_norms is not None and truncated.dH_norms is not None
    assert np.all(full.dH_norms > 0)
    np.testing.assert_array_equal(truncated.dH_norms[:6], 0.0)
    np.testing.assert_allclose(truncated.dH_norms[6:], full.dH_norms[6:], rtol=1e-14)
    assert relative_error(truncated.W_hh.grad, full.W_hh.grad) > 1e-3


def test_bad_truncation_window_is_refused():
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match=r"truncate .*must be a positive int or None"):
            RNN(2, 3, truncate=bad)


# --- long-range decay -----------------------------------------------------------------------


def test_gradient_reaching_earlier_steps_decays_for_a_small_recurrent_matrix():
    """||W_hh|| = 0.5 and tanh' <= 1: each step back at least halves ||dL/dh_t||."""
    T = 12
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, T, 3))
    G = np.zeros((16, T, 8))
    G[:, -1] = rng.normal(size=(16, 8))
    layer = RNN(3, 8, seed=1, recurrent_gain=0.5)
    layer.forward(X)
    layer.backward(G)
    norms = layer.dH_norms
    assert norms is not None and norms.shape == (T,)
    np.testing.assert_allclose(norms[-1], np.linalg.norm(G[:, -1], axis=1).mean(), rtol=1e-14)
    assert np.all(norms[:-1] <= 0.5 * norms[1:])
    assert norms[0] < 0.5 ** (T - 1) * norms[-1]

    # a larger recurrent matrix lets more of the gradient reach the first step
    strong = RNN(3, 8, seed=1, recurrent_gain=1.0)
    strong.forward(X)
    strong.backward(G)
    assert strong.dH_norms is not None
    assert strong.dH_norms[0] / strong.dH_norms[-1] > 10 * norms[0] / norms[-1]


# --- learning a sequence task ---------------------------------------------------------------


def sign_of_sum(n, T, rng):
    X = 0.5 * rng.normal(size=(n, T, 1))
    return X, (X.sum(axis=(1, 2)) > 0).astype(int)


def test_rnn_learns_the_sign_of_a_sequence_sum():
    rng = np.random.default_rng(0)
    X, y = sign_of_sum(300, 6, rng)
    X_test, y_test = sign_of_sum(300, 6, rng)
    net = Sequential([RNN(1, 8, seed=0), LastStep(), Dense(8, 2, seed=1)])
    before, _ = evaluate(net, X, y)
    history = train(net, X, y, lr=0.05, epochs=60, batch_size=32, progress=False)
    test_loss, test_accuracy = evaluate(net, X_test, y_test)
    assert before > 0.5  # near ln 2 = 0.69 before training
    assert history.train_loss[-1] < 0.2
    assert history.train_loss[-1] < before / 3
    assert test_loss < 0.2
    assert test_accuracy > 0.9


# --- bad inputs -----------------------------------------------------------------------------


def test_two_dimensional_input_is_refused_with_the_expected_shape():
    layer = RNN(3, 4, name="rnn1")
    with pytest.raises(ShapeError, match=r"'rnn1'.*\(N, T, 3\).*got shape \(5, 3\).*time axis"):
        layer.forward(np.ones((5, 3)))
    net = Sequential([layer, LastStep(), Dense(4, 2)])
    with pytest.raises(ShapeError, match=r"must have shape \(N, T, 3\), got shape \(5, 3\)"):
        net.forward(np.ones((5, 3)))


def test_wrong_number_of_input_features_is_refused():
    with pytest.raises(ShapeError, match=r"'rnn1' \(3 -> 4\) expected .*\(N, T, 3\).*\(2, 5, 2\)"):
        RNN(3, 4, name="rnn1").forward(np.ones((2, 5, 2)))


def test_backward_errors_name_the_layer():
    layer = RNN(2, 3, name="rnn1")
    with pytest.raises(RuntimeError, match="'rnn1': call forward before backward"):
        layer.backward(np.ones((1, 2, 3)))
    layer.forward(np.ones((1, 2, 2)))
    with pytest.raises(ShapeError, match=r"'rnn1'.*\(1, 2, 3\), got \(1, 3\)"):
        layer.backward(np.ones((1, 3)))
    with pytest.raises(ShapeError, match=r"LastStep.*\(N, T, D\).*\(2, 3\)"):
        LastStep().forward(np.ones((2, 3)))


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_hidden must be a positive int, got 0"):
        RNN(2, 0)
