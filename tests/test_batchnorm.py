"""Batch normalisation (bpcourse.batchnorm): statistics, running averages, gradients, errors.

The compact backward is compared with a naive backward written here node by node through
the computational graph (mean, centre, square, variance, square root, reciprocal, product,
scale, shift), and with central differences under the course's tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.batchnorm import (
    GRAPH_NODES,
    BatchNorm,
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_graph_backward,
    batchnorm_graph_forward,
)
from bpcourse.gradcheck import (
    LAYER_TOLERANCE,
    NETWORK_TOLERANCE,
    check_layer,
    check_network,
    numerical_gradient,
    relative_error,
)
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.network import Sequential
from bpcourse.validation import ShapeError

FAST = settings(max_examples=10, deadline=None, derandomize=True)
EPS = 1e-5


def naive_batchnorm(X, gamma, beta, eps=EPS):
    """The forward pass as a graph of elementary nodes, each kept for the naive backward."""
    N = X.shape[0]
    mu = np.sum(X, axis=0) / N
    xc = X - mu
    sq = xc**2
    var = np.sum(sq, axis=0) / N
    std = np.sqrt(var + eps)
    inv = 1.0 / std
    x_hat = xc * inv
    out = gamma * x_hat + beta
    return out, (X, gamma, mu, xc, var, std, inv, x_hat)


def naive_batchnorm_backward(dOut, nodes, eps=EPS):
    """Reverse mode through every node of `naive_batchnorm`, in reverse topological order."""
    X, gamma, _, xc, var, std, inv, x_hat = nodes
    N = X.shape[0]
    dbeta = dOut.sum(axis=0)
    dgamma = (dOut * x_hat).sum(axis=0)
    dx_hat = dOut * gamma
    dinv = (dx_hat * xc).sum(axis=0)  # x_hat = xc * inv: inv is broadcast over the batch
    dxc = dx_hat * inv
    dstd = -dinv / std**2  # inv = 1 / std
    dvar = dstd * 0.5 / np.sqrt(var + eps)  # std = sqrt(var + eps)
    dsq = np.ones_like(X) * dvar / N  # var = sum(sq) / N
    dxc += 2 * xc * dsq  # sq = xc**2: the second path into xc
    dX = dxc.copy()  # xc = X - mu
    dmu = -dxc.sum(axis=0)
    dX += dmu / N  # mu = sum(X) / N
    return dX, dgamma, dbeta


def random_problem(n, f, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=rng.uniform(-3, 3, f), scale=rng.uniform(0.5, 3, f), size=(n, f))
    gamma, beta = rng.uniform(0.5, 2, f), rng.normal(size=f)
    return X, gamma, beta, rng.normal(size=(n, f))


# --- forward ---------------------------------------------------------------------------


def test_training_output_has_mean_zero_and_variance_one_per_feature():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -2.0, 0.0, 40.0], scale=[3.0, 0.5, 1.0, 10.0], size=(64, 4))
    out = BatchNorm(4).forward(X, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # the biased variance of x_hat is var / (var + eps), just under 1
    np.testing.assert_allclose(out.var(axis=0), X.var(axis=0) / (X.var(axis=0) + EPS), rtol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, atol=1e-3)


def test_training_output_matches_the_naive_graph_and_gamma_beta_scale_and_shift():
    X, gamma, beta, _ = random_problem(9, 5, seed=1)
    out, _ = batchnorm_forward(X, gamma, beta, np.zeros(5), np.ones(5), 0.1, EPS, True)
    np.testing.assert_allclose(out, naive_batchnorm(X, gamma, beta)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)


def test_running_averages_after_one_step_follow_the_pytorch_formula():
    X = np.array([[1.0, 10.0], [2.0, 30.0], [6.0, 20.0]])
    layer = BatchNorm(2, momentum=0.25)
    layer.running_mean[...] = [1.0, -1.0]
    layer.running_var[...] = [2.0, 0.5]
    layer.forward(X, training=True)
    # batch means (3, 20); unbiased variances: (4 + 1 + 9) / 2 = 7 and (100 + 100 + 0) / 2 = 100
    np.testing.assert_allclose(layer.running_mean, [0.75 * 1 + 0.25 * 3, 0.75 * -1 + 0.25 * 20])
    np.testing.assert_allclose(layer.running_var, [0.75 * 2 + 0.25 * 7, 0.75 * 0.5 + 0.25 * 100])


def test_running_averages_start_at_zero_and_one_and_default_momentum_is_a_tenth():
    layer = BatchNorm(3)
    np.testing.assert_array_equal(layer.running_mean, 0.0)
    np.testing.assert_array_equal(layer.running_var, 1.0)
    X = np.random.default_rng(0).normal(size=(10, 3))
    layer.forward(X)
    np.testing.assert_allclose(layer.running_mean, 0.1 * X.mean(axis=0), rtol=1e-14)
    n = len(X)
    unbiased = ((X - X.mean(axis=0)) ** 2).sum(axis=0) / (n - 1)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * unbiased, rtol=1e-14)


def test_evaluation_mode_uses_the_running_averages_and_leaves_them_alone():
    rng = np.random.default_rng(2)
    layer = BatchNorm(3, name="bn1")
    layer.gamma.value[...] = [1.5, 0.5, 2.0]
    layer.beta.value[...] = [0.1, -0.2, 0.3]
    for _ in range(5):
        layer.forward(rng.normal(loc=4.0, size=(16, 3)), training=True)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    X = rng.normal(size=(4, 3))
    out = layer.forward(X, training=False)
    expected = layer.gamma.value * (X - mean) / np.sqrt(var + EPS) + layer.beta.value
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    np.testing.assert_array_equal(layer.running_mean, mean)
    np.testing.assert_array_equal(layer.running_var, var)
    # each example is normalised on its own: a batch of 1 is fine in evaluation mode
    np.testing.assert_allclose(layer.forward(X[:1], training=False), expected[:1], rtol=1e-13)


def test_parameters_are_named_and_initialised():
    layer = BatchNorm(4, name="bn1")
    assert [p.name for p in layer.parameters()] == ["bn1.gamma", "bn1.beta"]
    np.testing.assert_array_equal(layer.gamma.value, 1.0)
    np.testing.assert_array_equal(layer.beta.value, 0.0)
    assert layer.expected_input() == (2, "(N, 4)")


# --- backward ----------------------------------------------------------------------------


@FAST
@given(n=st.integers(2, 8), f=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_compact_backward_equals_the_naive_graph_backward(n, f, seed):
    X, gamma, beta, G = random_problem(n, f, seed)
    _, cache = batchnorm_forward(X, gamma, beta, np.zeros(f), np.ones(f), 0.1, EPS, True)
    _, nodes = naive_batchnorm(X, gamma, beta)
    for compact, naive in zip(
        batchnorm_backward(G, cache), naive_batchnorm_backward(G, nodes), strict=True
    ):
        assert relative_error(compact, naive) < 1e-10


@FAST
@given(n=st.integers(3, 8), f=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_layer_gradient_check_in_training_mode(n, f, seed):
    """N >= 3: for N = 2 the input gradient is only eps's doing (see the next test)."""
    X, gamma, beta, _ = random_problem(n, f, seed)
    layer = BatchNorm(f, name="bn1")
    layer.gamma.value[...], layer.beta.value[...] = gamma, beta
    report = check_layer(layer, X, seed=seed)
    assert report.tolerance == LAYER_TOLERANCE
    assert report.passed, str(report)
    assert {row.name for row in report.rows} == {"bn1.gamma", "bn1.beta", "input"}


def test_a_batch_of_two_normalises_to_plus_and_minus_one():
    """With N = 2, x_hat = ±d / sqrt(d² + eps) ≈ ±1 whatever the inputs (d = half their
    difference), so the true input gradient is of order eps / d³: too small for finite
    differences at h = 1e-5 to measure to 1e-7 relative error. It is a degenerate point of
    the function, to be avoided in a gradient check, as a ReLU kink is."""
    X, gamma, beta, G = random_problem(2, 3, seed=0)
    out, cache = batchnorm_forward(X, gamma, beta, np.zeros(3), np.ones(3), 0.1, EPS, True)
    sign = np.sign(X[0] - X[1])
    np.testing.assert_allclose(out, [gamma * sign + beta, -gamma * sign + beta], atol=1e-4)
    dX, _, _ = batchnorm_backward(G, cache)
    d = np.abs(X[0] - X[1]) / 2
    assert np.all(np.abs(dX) <= 4 * np.abs(gamma) * EPS / d**3 * np.abs(G).max(axis=0))


def test_backward_in_evaluation_mode_treats_the_statistics_as_constants():
    X, gamma, beta, G = random_problem(5, 3, seed=3)
    mean, var = np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.3, 1.5])
    _, cache = batchnorm_forward(X, gamma, beta, mean, var, 0.1, EPS, False)
    dX, dgamma, dbeta = batchnorm_backward(G, cache)
    np.testing.assert_allclose(dX, G * gamma / np.sqrt(var + EPS), rtol=1e-14)
    np.testing.assert_allclose(dgamma, (G * (X - mean) / np.sqrt(var + EPS)).sum(0), rtol=1e-13)
    np.testing.assert_allclose(dbeta, G.sum(axis=0), rtol=1e-14)


def test_the_input_gradient_sums_to_zero_per_feature():
    """Shifting a whole feature by c changes nothing in training mode, so sum_n dX_n = 0."""
    X, gamma, beta, G = random_problem(7, 4, seed=4)
    _, cache = batchnorm_forward(X, gamma, beta, np.zeros(4), np.ones(4), 0.1, EPS, True)
    dX, _, _ = batchnorm_backward(G, cache)
    np.testing.assert_allclose(dX.sum(axis=0), 0.0, atol=1e-12)


def test_network_gradient_check():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    bn = BatchNorm(6, name="bn1")
    bn.gamma.value[...] = rng.uniform(0.5, 2, 6)
    bn.beta.value[...] = rng.normal(size=6)
    net = Sequential(
        [Dense(4, 6, seed=1, name="dense1"), ActivationLayer("tanh"), bn, Dense(6, 3, seed=2)]
    )
    report = check_network(net, X, y)
    assert report.tolerance == NETWORK_TOLERANCE
    assert report.passed, str(report)


def test_a_bias_just_before_batchnorm_gets_no_gradient():
    """Adding b to every row of a feature is undone by subtracting the batch mean: the loss
    does not depend on that bias, and backprop and finite differences both give 0."""
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    dense = Dense(4, 6, seed=1, name="dense1")
    net = Sequential([dense, BatchNorm(6, name="bn1"), ActivationLayer("tanh"), Dense(6, 3)])
    net.loss_and_backward(X, y)
    assert np.linalg.norm(dense.W.grad) > 1e-3
    np.testing.assert_allclose(dense.b.grad, 0.0, atol=1e-15)
    loss_before = net.loss_and_backward(X, y)
    dense.b.value += 10.0
    np.testing.assert_allclose(net.loss_and_backward(X, y), loss_before, rtol=1e-12)


# --- bad inputs ------------------------------------------------------------------------------


def test_wrong_shape_names_the_layer_and_both_shapes():
    layer = BatchNorm(4, name="bn1")
    with pytest.raises(
        ShapeError, match=r"'bn1' expected input of shape \(N, 4\), got shape \(5, 3\)"
    ):
        layer.forward(np.ones((5, 3)))
    with pytest.raises(ShapeError, match=r"'bn1'.*\(N, 4\).*\(2, 3, 4\)"):
        layer.forward(np.ones((2, 3, 4)))


def test_a_batch_of_one_in_training_mode_is_refused():
    with pytest.raises(ShapeError, match=r"'bn1'.*at least 2 examples.*undefined for N = 1"):
        BatchNorm(3, name="bn1").forward(np.ones((1, 3)), training=True)
    with pytest.raises(ShapeError, match="undefined for N = 1"):
        batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ShapeError, match=r"at least 2 examples, got shape \(0, 3\).*N = 0"):
        batchnorm_forward(np.ones((0, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_features must be a positive int, got 0"):
        BatchNorm(0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        BatchNorm(3, eps=0.0)


def test_backward_before_forward_and_wrong_gradient_shape():
    layer = BatchNorm(2, name="bn1")
    with pytest.raises(RuntimeError, match="'bn1': call forward before backward"):
        layer.backward(np.ones((3, 2)))
    layer.forward(np.ones((3, 2)) + np.arange(3)[:, None])
    with pytest.raises(ShapeError, match=r"'bn1'.*\(3, 2\), got \(2, 2\)"):
        layer.backward(np.ones((2, 2)))


# --- the node-by-node graph functions (lesson 10) -----------------------------------------


def test_graph_forward_matches_the_layer_and_keeps_every_node():
    X, gamma, beta, _ = random_problem(7, 3, seed=3)
    graph_out, nodes = batchnorm_graph_forward(X, gamma, beta, EPS)
    out, _ = batchnorm_forward(X, gamma, beta, np.zeros(3), np.ones(3), eps=EPS)
    np.testing.assert_allclose(graph_out, out, rtol=1e-13, atol=1e-13)
    assert set(GRAPH_NODES) <= set(nodes)
    assert nodes["sq"].shape == (7, 3) and nodes["var"].shape == (3,)


def test_graph_backward_gives_every_node_its_gradient_and_agrees_with_the_closed_form():
    X, gamma, beta, G = random_problem(9, 4, seed=4)
    _, nodes = batchnorm_graph_forward(X, gamma, beta, EPS)
    grads = batchnorm_graph_backward(G, nodes)
    for name in (*GRAPH_NODES, "X", "gamma", "beta"):
        expected = X.shape if name in ("X", "xc", "sq", "x_hat", "out") else (4,)
        assert grads[name].shape == expected, name
    _, cache = batchnorm_forward(X, gamma, beta, np.zeros(4), np.ones(4), eps=EPS)
    dX, dgamma, dbeta = batchnorm_backward(G, cache)
    assert relative_error(grads["X"], dX) < 1e-12
    assert relative_error(grads["gamma"], dgamma) < 1e-12
    assert relative_error(grads["beta"], dbeta) < 1e-12


def test_graph_backward_matches_central_differences():
    X, gamma, beta, G = random_problem(6, 2, seed=5)
    _, nodes = batchnorm_graph_forward(X, gamma, beta, EPS)
    grads = batchnorm_graph_backward(G, nodes)
    for name, value in (("X", X), ("gamma", gamma), ("beta", beta)):
        numeric = numerical_gradient(
            lambda: float(np.sum(G * batchnorm_graph_forward(X, gamma, beta, EPS)[0])), value
        )
        assert relative_error(grads[name], numeric) < LAYER_TOLERANCE, name


def test_graph_forward_rejects_a_single_example():
    with pytest.raises(ShapeError, match="N >= 2"):
        batchnorm_graph_forward(np.ones((1, 3)), np.ones(3), np.zeros(3))
