r"""Diagnostics of vanishing and exploding gradients: gradient norms per layer, activation
statistics, update-to-weight ratios, and the recorder that collects them during training.

Also the property lesson 07 relies on: in a deep sigmoid network the gradient reaching the
first layer is orders of magnitude smaller than at the last, while ReLU with He
initialisation keeps the layers' gradient norms within a small factor of each other.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse.diagnostics import Diagnostics, activation_stats, depth_profile, gradient_norms
from bpcourse.gradcheck import numerical_gradient, relative_error
from bpcourse.layers import ActivationLayer
from bpcourse.losses import get_loss
from bpcourse.network import MLP, Sequential
from bpcourse.optim import Adam, GradientDescent
from bpcourse.training import StepOptions, train, train_step

LOSS = get_loss("softmax_cross_entropy")


def problem(n: int = 24, n_in: int = 3, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, classes, size=n)


# ---------------------------------------------------------------- gradient norms


def test_gradient_norms_are_the_norms_of_each_weight_gradient():
    X, y = problem()
    net = MLP([3, 5, 4, 3], "tanh")
    net.loss_and_backward(X, y)
    norms = gradient_norms(net)
    assert list(norms) == ["dense1.W", "dense2.W", "dense3.W"]  # input layer first, no biases
    for p in net.parameters():
        if p.name in norms:
            assert norms[p.name] == pytest.approx(np.sqrt((p.grad**2).sum()), rel=1e-14)
            assert isinstance(norms[p.name], float)


# ---------------------------------------------------------------- activation statistics


def activation_net(name: str) -> Sequential:
    return Sequential([ActivationLayer(name)])


@pytest.mark.parametrize(
    ("name", "f", "Z", "saturated"),
    [
        # sigmoid saturates where a < 0.01 or a > 0.99, i.e. |z| > ln 99 = 4.595
        (
            "sigmoid",
            lambda z: 1 / (1 + np.exp(-z)),
            [[-10.0, -5.0, -4.5, 0.0], [4.5, 5.0, 10.0, 1.0]],
            4 / 8,
        ),
        # tanh saturates where |a| > 0.99, i.e. |z| > atanh(0.99) = 2.647
        ("tanh", np.tanh, [[-3.0, -2.6, 0.0], [2.7, 3.0, 0.5]], 3 / 6),
        # a ReLU unit is dead where a == 0, i.e. z <= 0
        (
            "relu",
            lambda z: np.maximum(z, 0),
            [[-1.0, 0.0, 2.0, 3.0], [-0.5, 1.0, -2.0, 4.0]],
            4 / 8,
        ),
        # other activations have no saturation test
        ("identity", lambda z: z, [[-100.0, 0.0], [100.0, 3.0]], 0.0),
    ],
)
def test_activation_stats_on_hand_made_inputs(name, f, Z, saturated):
    Z = np.array(Z)
    net = activation_net(name)
    net.forward(Z)
    stats = activation_stats(net)
    A = f(Z)
    assert list(stats) == [net.layers[0].name]
    got = stats[net.layers[0].name]
    assert got["saturated"] == pytest.approx(saturated, abs=1e-15)
    assert got["mean"] == pytest.approx(A.mean(), rel=1e-12, abs=1e-15)
    assert got["std"] == pytest.approx(A.std(), rel=1e-12)


def test_activation_stats_of_every_hidden_layer_and_none_before_a_forward_pass():
    net = MLP([3, 6, 6, 2], "sigmoid")
    assert activation_stats(net) == {}  # nothing has run yet
    X, _ = problem()
    net.forward(X)
    stats = activation_stats(net)
    assert list(stats) == ["sigmoid1", "sigmoid2"]
    a1 = 1 / (1 + np.exp(-(X @ net.layers[0].W.value.T + net.layers[0].b.value)))
    assert stats["sigmoid1"]["mean"] == pytest.approx(a1.mean(), rel=1e-12)
    assert stats["sigmoid1"]["saturated"] == pytest.approx(((a1 < 0.01) | (a1 > 0.99)).mean())


# ---------------------------------------------------------------- the recorder


@pytest.mark.parametrize("every", [1, 3, 4])
def test_diagnostics_records_on_steps_k_2k_and_so_on(every):
    X, y = problem()
    net = MLP([3, 5, 3], "tanh")
    opt = GradientDescent(net.parameters(), 0.1)
    diag = Diagnostics(every=every)
    for _ in range(10):
        train_step(net, X, y, LOSS, opt, StepOptions(diagnostics=diag))
    expected = list(range(every, 11, every))
    assert diag.steps == expected
    assert len(diag.grad_norms) == len(diag.activations) == len(diag.update_ratios) == len(expected)
    assert all(set(r) == {"dense1.W", "dense2.W"} for r in diag.grad_norms + diag.update_ratios)
    assert all(list(a) == ["tanh1"] for a in diag.activations)


def test_diagnostics_through_train_counts_steps_across_epochs():
    X, y = problem(40)
    net = MLP([3, 5, 3], "tanh")
    diag = Diagnostics(every=5)
    train(net, X, y, epochs=3, batch_size=10, diagnostics=diag, progress=False)  # 12 steps
    assert diag.steps == [5, 10]


@pytest.mark.parametrize("every", [0, -1, 1.5, True, "2", None])
def test_invalid_every_is_refused(every):
    with pytest.raises(ValueError, match=r"Diagnostics\(every=...\) must be a positive int"):
        Diagnostics(every=every)


def test_recorded_values_equal_an_independent_computation_for_gradient_descent():
    # For plain gradient descent the update is eta * g, so the ratio is ||eta g|| / ||W_after||.
    eta, steps = 0.3, 4
    X, y = problem(16)
    twin = MLP([3, 6, 3], "tanh", seed=5)
    expected_norms, expected_ratios = [], []
    for _ in range(steps):
        twin.loss_and_backward(X, y)
        grads = {p.name: p.grad.copy() for p in twin.parameters()}
        for p in twin.parameters():
            p.value = p.value - eta * grads[p.name]
        weights = [p for p in twin.parameters() if p.name.endswith(".W")]
        expected_norms.append({p.name: np.linalg.norm(grads[p.name]) for p in weights})
        expected_ratios.append(
            {p.name: np.linalg.norm(eta * grads[p.name]) / np.linalg.norm(p.value) for p in weights}
        )

    net = MLP([3, 6, 3], "tanh", seed=5)
    diag = Diagnostics()
    opt = GradientDescent(net.parameters(), eta)
    for _ in range(steps):
        train_step(net, X, y, LOSS, opt, StepOptions(diagnostics=diag))
    for step in range(steps):
        for name in ("dense1.W", "dense2.W"):
            assert diag.grad_norms[step][name] == pytest.approx(
                expected_norms[step][name], rel=1e-12
            )
            assert diag.update_ratios[step][name] == pytest.approx(
                expected_ratios[step][name], rel=1e-9
            )
    np.testing.assert_allclose(
        diag.series("update_ratios", "dense2.W"),
        [r["dense2.W"] for r in expected_ratios],
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        diag.series("grad_norms", "dense1.W"), [r["dense1.W"] for r in expected_norms], rtol=1e-12
    )


def test_update_ratio_with_adam_is_the_relative_change_of_the_weights():
    X, y = problem(16)
    net = MLP([3, 4, 3], "tanh", seed=6)
    diag = Diagnostics()
    opt = Adam(net.parameters(), lr=0.01)
    train_step(net, X, y, LOSS, opt, StepOptions())
    before = {p.name: p.value.copy() for p in net.parameters()}
    train_step(net, X, y, LOSS, opt, StepOptions(diagnostics=diag))
    for p in net.parameters():
        if p.name.endswith(".W"):
            want = np.linalg.norm(p.value - before[p.name]) / np.linalg.norm(p.value)
            assert diag.update_ratios[0][p.name] == pytest.approx(want, rel=1e-9)


def test_series_of_activation_statistics_and_unknown_kinds():
    X, y = problem(16)
    net = MLP([3, 4, 3], "relu")
    diag = Diagnostics()
    train(net, X, y, epochs=2, batch_size=8, diagnostics=diag, progress=False)
    sat = diag.series("activations", "relu1", "saturated")
    assert sat.shape == (4,)
    assert np.all((sat >= 0) & (sat <= 1))
    np.testing.assert_array_equal(
        diag.series("activations", "relu1", "mean"), [a["relu1"]["mean"] for a in diag.activations]
    )
    with pytest.raises(ValueError, match="unknown kind 'weights'"):
        diag.series("weights", "dense1.W")


def test_diagnostics_do_not_change_training():
    X, y = problem(60, classes=3, seed=3)
    results = []
    for diag in (None, Diagnostics(every=1), Diagnostics(every=7)):
        net = MLP([3, 8, 8, 3], "tanh", seed=2)
        opt = Adam(net.parameters(), lr=0.01)
        options = {"l2": 1e-3, "clip_norm": 1.0, "diagnostics": diag, "progress": False}
        history = train(net, X, y, optimizer=opt, epochs=3, batch_size=16, **options)
        results.append((net.state(), history.step_loss))
    reference_state, reference_losses = results[0]
    for state, losses in results[1:]:
        assert state.keys() == reference_state.keys()
        for name in state:
            np.testing.assert_array_equal(state[name], reference_state[name], err_msg=name)
        assert losses == reference_losses


# ---------------------------------------------------------------- vanishing gradients


def deep_gradient_norms(activation: str, seed: int) -> np.ndarray:
    """Weight gradient norms, input layer first, of an MLP with 8 hidden layers of 32 units."""
    rng = np.random.default_rng(100 + seed)
    X, y = rng.normal(size=(256, 32)), rng.integers(0, 4, size=256)
    # Xavier for sigmoid, He for ReLU: the library's defaults, named here to be explicit.
    init = "he_normal" if activation == "relu" else "xavier_normal"
    net = MLP([32] + [32] * 8 + [4], activation, init=init, seed=seed)
    net.loss_and_backward(X, y)
    return np.array(list(gradient_norms(net).values()))


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_vanish_towards_the_input_of_a_deep_sigmoid_network(seed):
    norms = deep_gradient_norms("sigmoid", seed)
    assert norms.shape == (9,)
    # sigma' <= 1/4: each layer shrinks the gradient; eight of them, by orders of magnitude.
    assert norms[0] / norms[-1] < 1e-3
    assert np.all(np.diff(norms) > 0)  # every layer nearer the input gets less


@pytest.mark.parametrize("seed", [0, 1])
def test_relu_with_he_initialisation_keeps_gradient_norms_even(seed):
    relu = deep_gradient_norms("relu", seed)
    sigmoid = deep_gradient_norms("sigmoid", seed)
    assert relu.min() / relu.max() > 0.05  # within a factor 20 across all nine layers
    assert relu[0] / relu[-1] > 1000 * (sigmoid[0] / sigmoid[-1])


# ---------------------------------------------------------------- depth profiles (lesson 07)


def rebuilt(depth, activation, init, width, n, classes, gain, seed):
    """The network and data `depth_profile` promises, built independently."""
    net = MLP([width] * depth + [classes], activation, init=init, seed=seed)
    for layer in net.layers:
        if hasattr(layer, "W"):
            layer.W.value *= gain
    rng = np.random.default_rng(seed + 1)
    return net, rng.normal(size=(n, width)), rng.integers(0, classes, size=n)


def test_depth_profile_reports_the_gradient_norms_of_the_promised_network():
    profile = depth_profile(5, "tanh", "xavier_normal", width=8, n=16, classes=3, gain=1.5, seed=4)
    net, X, y = rebuilt(5, "tanh", "xavier_normal", 8, 16, 3, 1.5, 4)
    net.loss_and_backward(X, y)
    np.testing.assert_array_equal(profile.X, X)
    np.testing.assert_array_equal(profile.y, y)
    np.testing.assert_allclose(profile.grad_norms, list(gradient_norms(net).values()), rtol=1e-13)
    assert profile.grad_norms.shape == (5,)
    assert profile.net.sizes == [8] * 5 + [3]
    np.testing.assert_array_equal(profile.net.layers[0].W.value, net.layers[0].W.value)
    assert len(profile.activations) == len(profile.pre_activations) == 4
    np.testing.assert_allclose(profile.activations[0], np.tanh(profile.pre_activations[0]))
    np.testing.assert_allclose(
        profile.pre_activations[0], X @ net.layers[0].W.value.T, rtol=1e-13, atol=1e-15
    )
    assert profile.activation_std.shape == (4,)
    assert profile.ratio == pytest.approx(profile.grad_norms[0] / profile.grad_norms[-1])


def test_depth_profile_gradient_agrees_with_finite_differences():
    """The norm reported for layer 1 is that of the true gradient (central differences)."""
    net, X, y = rebuilt(6, "tanh", "xavier_normal", 5, 8, 3, 1.0, 2)
    W1 = net.layers[0].W.value

    def loss() -> float:
        return LOSS(net.forward(X), y)[0]

    numeric = numerical_gradient(loss, W1)
    profile = depth_profile(6, "tanh", "xavier_normal", width=5, n=8, classes=3, seed=2)
    assert relative_error(profile.grad_norms[0], np.linalg.norm(numeric)) < 1e-7


def test_deep_sigmoid_vanishes_relu_with_he_does_not_and_large_tanh_weights_explode():
    assert depth_profile(20, "sigmoid", "xavier_normal").ratio < 1e-6
    assert 1e-2 < depth_profile(20, "relu", "he_normal").ratio < 1e2
    assert 1e-1 < depth_profile(20, "tanh", "xavier_normal").ratio < 1e1
    short, deep = (depth_profile(d, "tanh", "xavier_normal", gain=2.0).ratio for d in (10, 30))
    assert deep > 10 * short > 10


def test_depth_profile_defaults_and_refusals():
    assert depth_profile(3, "relu", width=4, n=4).init == "he_normal"
    assert depth_profile(3, "tanh", width=4, n=4).init == "xavier_normal"
    with pytest.raises(ValueError, match="initialiser"):
        depth_profile(3, "tanh", "lecun")
    with pytest.raises(ValueError, match="gain"):
        depth_profile(3, "tanh", gain=0.0)
