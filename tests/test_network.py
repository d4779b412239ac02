"""Networks: the notes' worked example by hand, whole-network gradients, and the MLP's API.

The 2-2-1 sigmoid network of the notes is computed here with the scalar formulas
(delta_out = (y - t) y (1 - y), delta_j = h_j (1 - h_j) w_j delta_out, dE/dw = delta * input)
and compared with the library to 1e-12. Every activation with every loss is then checked
against central differences, with `check_network` (< 1e-6) and with this file's own loop.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from independent import central_difference as numeric_grad
from independent import relative_error as rel_err

from bpcourse.activations import ACTIVATIONS
from bpcourse.gradcheck import NETWORK_TOLERANCE, check_network
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.losses import LOSSES, get_loss
from bpcourse.network import MLP, Sequential
from bpcourse.optim import GradientDescent
from bpcourse.validation import NonFiniteError, ShapeError

ACTIVATION_NAMES = sorted(ACTIVATIONS)
LOSS_NAMES = sorted(LOSSES)


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def targets_for(loss: str, rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """Targets of the kind each loss takes: labels, 0/1 values or real values."""
    if loss == "softmax_cross_entropy":
        return rng.integers(0, c, size=n)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n, c)).astype(float)
    return rng.normal(size=(n, c))


def relu_safe_network(sizes, activation, seed, output_activation="identity") -> MLP:
    """An MLP with small random biases, so no hidden unit sits exactly at a ReLU kink."""
    net = MLP(sizes, activation, output_activation=output_activation, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for layer in net:
        if isinstance(layer, Dense):
            layer.b.value[...] = rng.normal(0, 0.5, size=layer.n_out)
    return net


# --- the notes' worked example, by hand -------------------------------------------------------

X1, X2 = 0.05, 0.10
W1 = [[0.15, 0.20], [0.25, 0.30]]  # W1[j][i]: input i -> hidden j
B1 = 0.35
W2 = [0.40, 0.45]  # hidden j -> output
B2 = 0.60
T = 0.01
ETA = 0.5


def notes_network() -> MLP:
    net = MLP([2, 2, 1], "sigmoid", output_activation="sigmoid")
    p = {q.name: q for q in net.parameters()}
    p["dense1.W"].value[...] = W1
    p["dense1.b"].value[...] = B1
    p["dense2.W"].value[...] = [W2]
    p["dense2.b"].value[...] = B2
    return net


def by_hand():
    """Forward values and gradients of the notes' network with the scalar formulas."""
    x = (X1, X2)
    h = [sig(W1[j][0] * x[0] + W1[j][1] * x[1] + B1) for j in range(2)]
    y = sig(W2[0] * h[0] + W2[1] * h[1] + B2)
    E = 0.5 * (T - y) ** 2
    d_out = (y - T) * y * (1 - y)
    d_hidden = [h[j] * (1 - h[j]) * W2[j] * d_out for j in range(2)]
    dW2 = [d_out * h[j] for j in range(2)]
    dW1 = [[d_hidden[j] * x[i] for i in range(2)] for j in range(2)]
    return {"h": h, "y": y, "E": E, "dW1": dW1, "db1": d_hidden, "dW2": dW2, "db2": d_out}


def test_worked_example_hand_formulas_match_the_published_numbers():
    """Anchor the hand formulas to the classic worked example (values to 9 digits)."""
    ref = by_hand()
    assert ref["h"][0] == pytest.approx(0.593269992, abs=1e-9)
    assert ref["h"][1] == pytest.approx(0.596884378, abs=1e-9)
    assert ref["y"] == pytest.approx(0.75136507, abs=1e-8)
    assert ref["E"] == pytest.approx(0.274811083, abs=1e-9)
    assert ref["dW2"][0] == pytest.approx(0.082167041, abs=1e-9)
    assert ref["dW2"][1] == pytest.approx(0.082667628, abs=1e-9)
    assert W2[0] - ETA * ref["dW2"][0] == pytest.approx(0.35891648, abs=1e-8)


def test_worked_example_forward_values_equal_the_hand_computation():
    ref = by_hand()
    net = notes_network()
    x = np.array([[X1, X2]])
    hidden = net[1].forward(net[0].forward(x))
    np.testing.assert_allclose(hidden[0], ref["h"], rtol=0, atol=1e-12)
    y = net.forward(x)
    assert y.shape == (1, 1)
    assert y[0, 0] == pytest.approx(ref["y"], abs=1e-12)


def test_worked_example_gradients_equal_the_hand_computation():
    ref = by_hand()
    net = notes_network()
    E = net.loss_and_backward(np.array([[X1, X2]]), np.array([[T]]), "half_squared_error")
    assert E == pytest.approx(ref["E"], abs=1e-12)
    g = {p.name: p.grad for p in net.parameters()}
    np.testing.assert_allclose(g["dense2.W"], [ref["dW2"]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["dense2.b"], [ref["db2"]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["dense1.W"], ref["dW1"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["dense1.b"], ref["db1"], rtol=0, atol=1e-12)


def test_worked_example_one_gradient_descent_step_is_the_notes_update_rule():
    ref = by_hand()
    net = notes_network()
    net.loss_and_backward(np.array([[X1, X2]]), np.array([[T]]), "half_squared_error")
    GradientDescent(net.parameters(), lr=ETA).step()
    p = {q.name: q.value for q in net.parameters()}
    for j in range(2):
        assert p["dense2.W"][0, j] == pytest.approx(W2[j] - ETA * ref["dW2"][j], abs=1e-12)
        assert p["dense1.b"][j] == pytest.approx(B1 - ETA * ref["db1"][j], abs=1e-12)
        for i in range(2):
            expected = W1[j][i] - ETA * ref["dW1"][j][i]
            assert p["dense1.W"][j, i] == pytest.approx(expected, abs=1e-12)
    assert p["dense2.b"][0] == pytest.approx(B2 - ETA * ref["db2"], abs=1e-12)
    # and the step lowered the error, as gradient descent should
    ref_after = net.loss_and_backward(np.array([[X1, X2]]), np.array([[T]]), "half_squared_error")
    assert ref_after < ref["E"]


# --- whole-network gradients ----------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_with_every_loss_passes_check_network(activation, loss):
    rng = np.random.default_rng(11)
    net = relu_safe_network([3, 5, 4, 3], activation, seed=3)
    X = rng.normal(size=(6, 3))
    report = check_network(net, X, targets_for(loss, rng, 6, 3), loss)
    assert report.kinks == 0
    assert report.tolerance == NETWORK_TOLERANCE == 1e-6
    assert [r.name for r in report.rows] == [p.name for p in net.parameters()]
    assert all(r.checked == int(np.prod(r.shape)) for r in report.rows)
    assert report.passed and report.worst < 1e-6, str(report)


@pytest.mark.parametrize("output", ["sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("loss", ["half_squared_error", "mse"])
def test_output_activations_with_value_losses_pass_check_network(output, loss):
    rng = np.random.default_rng(12)
    net = relu_safe_network([2, 4, 3], "tanh", seed=4, output_activation=output)
    report = check_network(net, rng.normal(size=(5, 2)), rng.uniform(size=(5, 3)), loss)
    assert report.passed and report.worst < 1e-6, str(report)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_network_gradients_match_own_central_differences(activation, loss):
    """Independent of bpcourse.gradcheck: this file's loop perturbs every parameter."""
    rng = np.random.default_rng(13)
    net = relu_safe_network([3, 4, 2], activation, seed=5)
    X, t = rng.normal(size=(5, 3)), targets_for(loss, rng, 5, 2)
    loss_fn = get_loss(loss)
    net.loss_and_backward(X, t, loss)
    for p in net.parameters():
        numeric = numeric_grad(lambda: loss_fn(net.forward(X), t)[0], p.value)
        assert rel_err(p.grad, numeric) < 1e-6, p.name


def test_input_gradient_matches_own_central_differences():
    rng = np.random.default_rng(14)
    net = relu_safe_network([3, 4, 2], "tanh", seed=6)
    X, t = rng.normal(size=(4, 3)), np.array([0, 1, 1, 0])
    loss_fn = get_loss("softmax_cross_entropy")
    _, dOut = loss_fn(net.forward(X), t)
    dX = net.backward(dOut, input_grad=True)
    assert dX.shape == X.shape
    assert rel_err(dX, numeric_grad(lambda: loss_fn(net.forward(X), t)[0], X)) < 1e-7


@settings(max_examples=15, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 4),
    n=st.integers(1, 5),
    activation=st.sampled_from(ACTIVATION_NAMES),
    loss=st.sampled_from(LOSS_NAMES),
    seed=st.integers(0, 10_000),
)
def test_random_mlps_pass_check_network(hidden, n_in, n_out, n, activation, loss, seed):
    rng = np.random.default_rng(seed)
    net = relu_safe_network([n_in, *hidden, n_out], activation, seed=seed)
    report = check_network(net, rng.normal(size=(n, n_in)), targets_for(loss, rng, n, n_out), loss)
    assume(report.kinks == 0)  # a ReLU input within reach of h: no derivative to check there
    # Central differences carry rounding noise of about 1e-16 |L| / h; a gradient far smaller
    # than the loss (two leaky-ReLU slopes of 0.01 in a chain of width-1 layers) drowns in it.
    norms = [np.linalg.norm(p.grad) for p in net.parameters()]
    assume(all(g == 0 or g > 1e-4 for g in norms))
    assert report.passed, str(report)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_forward_and_backward_are_finite_and_silent_at_plus_minus_1e4(activation, loss):
    X = np.array([[1e4, -1e4, 1e4], [-1e4, 1e4, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]])
    t = targets_for(loss, np.random.default_rng(0), 4, 2)
    net = MLP([3, 8, 8, 2], activation, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = net.forward(X)
            value = net.loss_and_backward(X, t, loss)
    assert np.isfinite(out).all()
    assert math.isfinite(value)
    for p in net.parameters():
        assert np.isfinite(p.grad).all(), p.name


# --- the MLP's structure and API --------------------------------------------------------------


def test_mlp_layers_parameters_order_names_and_shapes():
    net = MLP([4, 6, 5, 3], "tanh", output_activation="sigmoid")
    assert [layer.name for layer in net] == [
        "dense1",
        "tanh1",
        "dense2",
        "tanh2",
        "dense3",
        "sigmoid_out",
    ]
    assert len(net) == 6 and net[0] is net.layers[0]
    names = [p.name for p in net.parameters()]
    assert names == ["dense1.W", "dense1.b", "dense2.W", "dense2.b", "dense3.W", "dense3.b"]
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(6, 4), (6,), (5, 6), (5,), (3, 5), (3,)]
    assert net.n_params == 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3
    assert repr(net) == "MLP([4, 6, 5, 3], activation='tanh', output_activation='sigmoid')"


def test_mlp_without_hidden_layers_is_one_dense_layer():
    net = MLP([3, 2])
    assert len(net) == 1 and isinstance(net[0], Dense)
    X = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(net(X), X @ net[0].W.value.T, atol=1e-14)


def test_mlp_is_seeded():
    a, b, c = MLP([3, 4, 2], seed=7), MLP([3, 4, 2], seed=7), MLP([3, 4, 2], seed=8)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        np.testing.assert_array_equal(pa.value, pb.value)
        if pc.name.endswith(".W"):  # biases start at 0 whatever the seed
            assert not np.array_equal(pa.value, pc.value)


def test_default_initialisation_is_he_for_relu_and_xavier_otherwise():
    relu = MLP([800, 400], "relu", seed=0)[0].W.value
    assert relu.std() == pytest.approx(math.sqrt(2 / 800), rel=0.03)
    tanh = MLP([800, 400], "tanh", seed=0)[0].W.value
    assert tanh.std() == pytest.approx(math.sqrt(2 / 1200), rel=0.03)
    uniform = MLP([800, 400], "tanh", init="xavier_uniform", seed=0)[0].W.value
    assert np.abs(uniform).max() <= math.sqrt(6 / 1200)
    assert uniform.std() == pytest.approx(math.sqrt(6 / 1200) / math.sqrt(3), rel=0.03)


def test_zero_grad_zeroes_every_gradient_in_place():
    net = MLP([3, 4, 2], "tanh")
    net.loss_and_backward(np.ones((2, 3)), np.array([0, 1]))
    grads = [p.grad for p in net.parameters()]
    assert all(g.any() for g in grads)
    net.zero_grad()
    for p, g in zip(net.parameters(), grads, strict=True):
        assert p.grad is g and not p.grad.any()


def test_state_and_load_state_round_trip_with_copies():
    net = MLP([3, 4, 2], "tanh", seed=1)
    state = net.state()
    assert list(state) == [p.name for p in net.parameters()]
    for p in net.parameters():
        np.testing.assert_array_equal(state[p.name], p.value)
        assert not np.shares_memory(state[p.name], p.value)
    saved = {k: v.copy() for k, v in state.items()}
    for p in net.parameters():  # change the network: the saved state must not follow
        p.value += 1.0
    for name, value in state.items():
        np.testing.assert_array_equal(value, saved[name])
    net.load_state(state)
    for p in net.parameters():
        np.testing.assert_array_equal(p.value, saved[p.name])
    state["dense1.W"][...] = 99.0  # nor may the network follow the state after loading
    assert not (net[0].W.value == 99.0).any()


def test_summary_names_every_layer_and_the_total_count():
    net = MLP([64, 256, 10], "relu")
    text = net.summary()
    for layer in net:
        assert layer.name in text
    total = 64 * 256 + 256 + 256 * 10 + 10
    assert total == 19210
    assert "19,210" in text
    last = text.splitlines()[-1]
    assert last.startswith("total") and last.endswith("19,210")
    assert "16,640" in text and "2,570" in text  # the two Dense layers' own counts
    assert "(256, 64)" in text and "(10, 256)" in text


def test_predict_equals_forward():
    net = MLP([3, 5, 2], "sigmoid", seed=2)
    X = np.random.default_rng(0).normal(size=(7, 3))
    np.testing.assert_array_equal(net.predict(X), net.forward(X))
    np.testing.assert_array_equal(net(X), net.forward(X))


def test_input_grad_false_returns_none_and_leaves_parameter_grads_unchanged():
    rng = np.random.default_rng(15)
    net = MLP([3, 5, 2], "tanh", seed=3)
    X, dOut = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    net.forward(X)
    dX = net.backward(dOut, input_grad=True)
    with_input = [p.grad.copy() for p in net.parameters()]
    assert dX is not None and dX.shape == (4, 3)
    assert net.backward(dOut, input_grad=False) is None
    for p, g in zip(net.parameters(), with_input, strict=True):
        np.testing.assert_array_equal(p.grad, g)


def test_float32_network_keeps_float32_outputs_and_grads():
    net = MLP([3, 5, 2], "sigmoid", dtype=np.float32)
    assert net.dtype == np.float32
    assert all(p.value.dtype == np.float32 for p in net.parameters())
    X = np.random.default_rng(0).normal(size=(4, 3))  # float64 input is cast
    assert net.forward(X).dtype == np.float32
    for loss in LOSS_NAMES:
        t = targets_for(loss, np.random.default_rng(1), 4, 2)
        assert isinstance(net.loss_and_backward(X, t, loss), float)
        for p in net.parameters():
            assert p.grad.dtype == np.float32, (loss, p.name)


def test_integer_input_is_accepted_as_float64():
    net = MLP([3, 2])
    out = net.forward(np.ones((2, 3), dtype=int))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, net.forward(np.ones((2, 3))))


# --- bad input, with clear messages -----------------------------------------------------------


def test_wrong_input_width_names_the_layer_and_both_shapes():
    with pytest.raises(ShapeError, match=r"'dense1' \(3 -> 4\).*\(N, 3\).*got shape \(5, 4\)"):
        MLP([3, 4, 2]).forward(np.zeros((5, 4)))


def test_one_dimensional_input_suggests_a_batch_axis():
    with pytest.raises(ShapeError, match=r"\(N, 3\), got shape \(3,\).*x\[None, :\]"):
        MLP([3, 4, 2]).forward(np.zeros(3))
    with pytest.raises(ShapeError, match=r"\(N, 3\), got shape \(2, 3, 1\)"):
        MLP([3, 4, 2]).forward(np.zeros((2, 3, 1)))


@pytest.mark.parametrize(
    ("X", "what"),
    [
        (np.array([["a", "b", "c"]]), "<U1"),
        (np.zeros((2, 3), dtype=complex), "complex128"),
        (np.zeros((2, 3), dtype=bool), "bool"),
    ],
)
def test_non_real_input_dtypes_are_refused(X, what):
    with pytest.raises(TypeError, match=rf"network input X must hold real numbers.*{what}"):
        MLP([3, 2]).forward(X)


@pytest.mark.parametrize(
    ("value", "index"), [(np.nan, (2, 1)), (np.inf, (0, 2)), (-np.inf, (3, 0))]
)
def test_non_finite_input_names_the_first_bad_index(value, index):
    X = np.zeros((4, 3))
    X[index] = value
    with pytest.raises(NonFiniteError, match=rf"1 non-finite.*at index \({index[0]}, {index[1]}\)"):
        MLP([3, 2]).forward(X)


def test_wrong_upstream_gradient_shape_names_the_layer():
    net = MLP([3, 4, 2], "relu")
    net.forward(np.ones((5, 3)))
    with pytest.raises(ShapeError, match=r"'dense2'.*\(5, 2\), got \(5, 3\)"):
        net.backward(np.ones((5, 3)))


def test_backward_before_forward_is_refused():
    with pytest.raises(RuntimeError, match="'dense2': call forward before backward"):
        MLP([3, 4, 2]).backward(np.ones((1, 2)))


def test_unknown_activation_or_init_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*leaky_relu.*tanh"):
        MLP([2, 3, 1], "swish")
    with pytest.raises(ValueError, match=r"unknown activation 'softmaxx'.*softmax"):
        MLP([2, 3, 1], output_activation="softmaxx")
    with pytest.raises(
        ValueError, match=r"unknown initialiser 'kaiming'.*he_normal.*xavier_uniform"
    ):
        MLP([2, 3, 1], init="kaiming")


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ([3], r"at least an input and an output size.*got \[3\]"),
        ([], r"at least an input and an output size"),
        ([2, 0], r"'dense1': n_out must be a positive int, got 0"),
        ([2, 3, -1], r"'dense2': n_out must be a positive int, got -1"),
        ([2.5, 1], r"'dense1': n_in must be a positive int, got 2.5"),
    ],
)
def test_invalid_mlp_sizes_are_refused(sizes, match):
    with pytest.raises(ValueError, match=match):
        MLP(sizes)


# --- known bugs -------------------------------------------------------------------------------


def test_sequential_state_round_trip_with_default_layer_names():
    net = Sequential([Dense(3, 3, seed=1), ActivationLayer("tanh"), Dense(3, 3, seed=2)])
    before = [p.value.copy() for p in net.parameters()]
    net.load_state(net.state())
    for p, value in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, value)


def test_sequential_starting_with_an_activation_returns_none_without_input_grad():
    net = Sequential([ActivationLayer("tanh"), Dense(3, 2, name="fc")])
    net.forward(np.ones((2, 3)))
    assert net.backward(np.ones((2, 2)), input_grad=False) is None
