"""bpcourse.symbolic: the derivative table derived by SymPy, symbolic networks, the chain rule.

Small networks only, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from bpcourse import symbolic
from bpcourse.activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from bpcourse.symbolic import (
    chain_rule_factors,
    compare_with_backprop,
    derivative_table,
    derive_activation,
    symbolic_network,
    verify_derivative,
)
from bpcourse.validation import ShapeError

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
POINTS = np.array([-4.0, -2.5, -1.0, -0.3, -1e-3, 1e-3, 0.2, 0.7, 1.5, 3.0, 5.0])

# a 2-2-1 sigmoid network's numbers, for the chain rule and the lambdified gradient
POINT = dict(
    x=[0.5, -1.0],
    t=[0.25],
    W=[np.array([[0.1, -0.6], [0.8, 0.3]]), np.array([[-1.2, 0.7]])],
    b=[np.array([0.05, -0.2]), np.array([0.4])],
)


def forward(point):
    x = np.array(point["x"])
    a1 = 1 / (1 + np.exp(-(point["W"][0] @ x + point["b"][0])))
    a2 = 1 / (1 + np.exp(-(point["W"][1] @ a1 + point["b"][1])))
    return x, a1, a2


def numpy_of(expr, *symbols):
    return sp.lambdify(list(symbols), expr, "numpy")


# --- the derivative table -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_sympy_derivative_is_proved_equal_to_the_library_form(name):
    row = derive_activation(name)
    assert verify_derivative(name) is True
    assert row.equal is True
    assert row.name == name
    assert row.derived == sp.diff(row.f, symbolic.Z)  # derived, not typed
    assert row.derived.free_symbols <= {symbolic.Z}


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_agree_numerically_with_bpcourse_activations(name):
    row = derive_activation(name)
    activation = ACTIVATIONS[name]
    a = activation(POINTS)
    library = activation.derivative(POINTS, a)
    # f itself, SymPy's derivative, its simplified form, and the hand-written form at a = f(z)
    np.testing.assert_allclose(numpy_of(row.f, symbolic.Z)(POINTS), a, rtol=1e-14, atol=0)
    for expr in (row.derived, row.simplified):
        values = np.broadcast_to(numpy_of(expr, symbolic.Z)(POINTS), POINTS.shape)
        # atol: the library's 1 - a*a loses digits to cancellation where tanh(z) is near 1
        np.testing.assert_allclose(values, library, rtol=1e-12, atol=1e-15)
    hand = np.broadcast_to(numpy_of(row.hand_written, symbolic.Z, symbolic.A)(POINTS, a), a.shape)
    np.testing.assert_allclose(hand, library, rtol=1e-14, atol=0)


def test_relu_derivative_at_zero_is_stated_explicitly():
    row = derive_activation("relu")
    z = symbolic.Z
    assert row.derived == sp.Heaviside(z)  # SymPy's derivative of max(0, z)
    assert row.derived.subs(z, 0) == sp.Rational(1, 2)  # SymPy's H(0)
    assert row.hand_written == sp.Heaviside(z, 0)  # the library's choice, as PyTorch's
    assert row.hand_written.subs(z, 0) == 0
    relu = ACTIVATIONS["relu"]
    assert relu.derivative(np.array([0.0]), relu(np.array([0.0])))[0] == 0.0
    assert "Heaviside(z, 0)" in row.note and "PyTorch" in row.note
    assert row.hand_written_latex == r"\mathbb{1}\left[z > 0\right]"
    assert row.derived_latex == r"H\left(z\right)"


def test_leaky_relu_uses_the_library_slope_at_and_below_zero():
    row = derive_activation("leaky_relu")
    slope = sp.Rational(str(LEAKY_RELU_SLOPE))
    assert row.derived.subs(symbolic.Z, 0) == slope
    assert row.derived.subs(symbolic.Z, -3) == slope
    assert row.derived.subs(symbolic.Z, 2) == 1


def test_sigmoid_and_tanh_proofs_are_about_the_output():
    z, a = symbolic.Z, symbolic.A
    assert derive_activation("sigmoid").hand_written == a * (1 - a)
    assert derive_activation("tanh").hand_written == 1 - a**2
    # the exponential definition of tanh, not SymPy's built-in rule
    assert not derive_activation("tanh").f.has(sp.tanh)
    assert sp.simplify(derive_activation("softplus").derived - 1 / (1 + sp.exp(-z))) == 0


def test_a_wrong_hand_written_form_is_not_proved_equal():
    z = symbolic.Z
    sigma = 1 / (1 + sp.exp(-z))
    assert symbolic._proved_equal(sp.diff(sigma, z), sigma * (1 + sigma), kinked=False) is False
    # a kink does not excuse a difference away from 0
    assert symbolic._proved_equal(sp.Heaviside(z), sp.Heaviside(-z), kinked=True) is False


def test_derivative_table_renders_every_row_as_markdown():
    table = derivative_table()
    assert [row.name for row in table] == NAMES
    assert all(row.equal for row in table)
    markdown = table._repr_markdown_()
    assert markdown.count("\n| ") == len(NAMES)  # one line per activation, after the header
    for name in NAMES:
        assert f"| {name} |" in markdown
    assert r"a \left(1 - a\right)" in markdown and "| NO |" not in markdown
    assert table[0].as_tuple() == (
        "sigmoid",
        r"\frac{1}{1 + e^{- z}}",
        r"\frac{e^{- z}}{\left(1 + e^{- z}\right)^{2}}",
        r"a \left(1 - a\right)",
        True,
    )
    assert [row.name for row in derivative_table(["tanh", "ReLU"])] == ["tanh", "relu"]


def test_sigmoid_node_differentiates_with_sympys_derivative():
    z = symbolic.Z
    assert sp.diff(symbolic.Sigmoid(z), z) == derive_activation("sigmoid").derived
    assert symbolic.Sigmoid(z).rewrite(sp.exp) == 1 / (1 + sp.exp(-z))
    assert float(symbolic.Sigmoid(sp.Float(0.5))) == pytest.approx(1 / (1 + np.exp(-0.5)), 1e-15)
    assert symbolic.latex(symbolic.Sigmoid(z) ** 2) == r"\sigma^{2}\left(z\right)"


# --- symbolic networks ----------------------------------------------------------------------------


def test_network_symbols_follow_the_course_notation():
    net = symbolic_network([2, 3, 1])
    assert net.output_activation == "sigmoid"  # the notes' network: sigmoid all through
    assert [W.shape for W in net.W] == [(3, 2), (1, 3)]  # (n_out, n_in), as in the code
    assert [b.shape for b in net.b] == [(3, 1), (1, 1)]
    assert net.W[0][2, 1].name == "w^{(1)}_{32}"  # to unit 3 of layer 1 from input 2
    assert net.b[1][0].name == "b^{(2)}_{1}"
    assert [s.name for s in net.x] == ["x_{1}", "x_{2}"]
    assert [s.name for s in net.t] == ["t_{1}"]
    assert net.parameter_names == ["dense1.W", "dense1.b", "dense2.W", "dense2.b"]
    assert net.parameter_shapes == [(3, 2), (3,), (1, 3), (1,)]
    assert len(net.parameters) == 13
    assert net.z[0][2] == net.W[0][2, 0] * net.x[0] + net.W[0][2, 1] * net.x[1] + net.b[0][2]
    assert net.a[0][2] == symbolic.Sigmoid(net.z[0][2])
    assert "w^{(1)}_{1,12}" in [s.name for s in symbolic_network([12, 1]).W[0]]


def test_one_neuron_is_the_notes_formula_and_gradient():
    net = symbolic_network([2, 1])
    x1, x2, t1 = *net.x, net.t[0]
    w1, w2, b = net.W[0][0, 0], net.W[0][0, 1], net.b[0][0]
    y = symbolic.Sigmoid(w1 * x1 + w2 * x2 + b)
    assert net.E == sp.Rational(1, 2) * (y - t1) ** 2
    # dE/dw_1 = (y - t) y (1 - y) x_1 at numbers
    point = dict(x=[0.3, -1.2], t=[0.8], W=[[[0.5, -0.4]]], b=[[0.1]])
    zval = 0.5 * 0.3 + (-0.4) * (-1.2) + 0.1
    yval = 1 / (1 + np.exp(-zval))
    expected = (yval - 0.8) * yval * (1 - yval) * 0.3
    assert float(net.substitute(net.gradient()[w1], **point)) == pytest.approx(expected, rel=1e-14)
    assert float(net.substitute(**point)) == pytest.approx(0.5 * (yval - 0.8) ** 2, rel=1e-14)


def test_substitute_keeps_exact_numbers_exact():
    net = symbolic_network([2, 1], activation="identity")
    half, third = sp.Rational(1, 2), sp.Rational(1, 3)
    E = net.substitute(x=[1, 2], t=[1], W=[[[half, third]]], b=[[0]])
    assert E == sp.Rational(1, 72)  # (1/2 + 2/3 - 1)^2 / 2
    partial = net.substitute(net.E, x=[1, 2])
    assert partial.free_symbols == {*net.parameters, net.t[0]}


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        ("half_squared_error", lambda a, t: ((a - t) ** 2).sum() / 2),
        ("mse", lambda a, t: ((a - t) ** 2).mean()),
    ],
)
def test_value_losses_of_one_example(loss, expected):
    net = symbolic_network([2, 2], activation="identity", loss=loss)
    W, b, x, t = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([0.5, -0.5]), [1.0, -2.0], [0.2, 3]
    a = W @ np.array(x) + b
    assert float(net.substitute(x=x, t=t, W=[W], b=[b])) == pytest.approx(expected(a, t), 1e-14)


def test_cross_entropies_take_logits():
    bce = symbolic_network([1, 1], activation="identity", loss="binary_cross_entropy")
    z = 0.7
    value = float(bce.substitute(x=[1.0], t=[1.0], W=[[[z]]], b=[[0.0]]))
    assert value == pytest.approx(-np.log(1 / (1 + np.exp(-z))), rel=1e-14)
    assert bce.output_activation == "identity"
    sce = symbolic_network([2, 3], activation="identity", loss="softmax_cross_entropy")
    logits = np.array([1.0, -0.5, 2.0])
    point = dict(x=[1.0, 0.0], W=[np.c_[logits, np.zeros(3)]], b=[np.zeros(3)])
    value = float(sce.substitute(t=[0, 0, 1], **point))
    assert value == pytest.approx(-(logits[2] - np.log(np.exp(logits).sum())), rel=1e-14)
    assert float(sce.substitute(t=2, **point)) == pytest.approx(value, rel=1e-15)  # a label


def test_gradient_is_unsimplified_sympy_diff_and_lambdifies_in_the_library_shapes():
    net = symbolic_network([3, 2, 2], "tanh", loss="softmax_cross_entropy")
    gradient = net.gradient()
    assert list(gradient) == net.parameters
    w = net.W[0][1, 2]
    assert gradient[w] == sp.diff(net.E, w)
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=3), np.array([0.0, 1.0])
    W = [rng.normal(size=(2, 3)), rng.normal(size=(2, 2))]
    b = [rng.normal(size=2), rng.normal(size=2)]
    grads = net.lambdify_gradient()(x, t, W, b)
    assert [g.shape for g in grads] == [(2, 3), (2,), (2, 2), (2,)]
    assert all(g.dtype == np.float64 for g in grads)
    exact = float(net.substitute(gradient[w], x=x, t=t, W=W, b=b))
    assert abs(exact) > 1e-6
    assert grads[0][1, 2] == pytest.approx(exact, rel=1e-12)


def test_lambdify_without_cse_gives_the_same_numbers():
    net = symbolic_network([2, 2, 1])
    args = POINT["x"], POINT["t"], POINT["W"], POINT["b"]
    with_cse, without = net.lambdify_gradient()(*args), net.lambdify_gradient(cse=False)(*args)
    for g, h in zip(with_cse, without, strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-13, atol=1e-17)
        assert np.all(g != 0)


def test_relu_gradient_uses_zero_at_the_kink():
    net = symbolic_network([1, 1], "relu")
    w = net.W[0][0, 0]
    assert net.gradient()[w].has(sp.Heaviside)
    assert all(h.args[1] == 0 for h in net.gradient()[w].atoms(sp.Heaviside))
    grad = net.lambdify_gradient()
    dW, db = grad([1.0], [0.5], [[[1.0]]], [[-1.0]])  # z = 0 exactly
    assert dW[0, 0] == 0.0 and db[0] == 0.0


# --- the chain rule made visible ------------------------------------------------------------------


def test_chain_rule_for_an_output_weight():
    net = symbolic_network([2, 2, 1])
    rule = chain_rule_factors(net, 2, 1, 2, POINT)
    _, a1, a2 = forward(POINT)
    a, t = net.a_symbols[1][0], net.t[0]
    assert [f.expr for f in rule.factors] == [a - t, a * (1 - a), net.a_symbols[0][1]]
    values = [f.value for f in rule.factors]
    expected = [a2[0] - 0.25, a2[0] * (1 - a2[0]), a1[1]]
    np.testing.assert_allclose(values, expected, rtol=1e-14)
    assert rule.deltas == ()
    assert rule.product == pytest.approx(rule.derivative_value, rel=1e-12)
    assert rule.factors[0].label == r"\frac{\partial E}{\partial a^{(2)}_{1}}"
    by_symbol = chain_rule_factors(net, 2, 1, 2, net.values(**POINT))  # {symbol: number}
    assert by_symbol.product == rule.product
    latex = rule._repr_latex_()
    assert latex.startswith("$$") and r"\frac{\partial E}{\partial w^{(2)}_{12}}" in latex


def test_chain_rule_for_a_hidden_weight_shows_the_delta_recursion():
    net = symbolic_network([2, 2, 1])
    rule = chain_rule_factors(net, 1, 2, 1, POINT)
    x, a1, a2 = forward(POINT)
    delta2 = (a2[0] - 0.25) * a2[0] * (1 - a2[0])
    assert [d.value for d in rule.deltas] == [pytest.approx(delta2, rel=1e-14)]
    delta_symbol = sp.Symbol(r"\delta^{(2)}_{1}", real=True)
    w = net.W[1][0, 1]
    assert rule.factors[0].expr == w * delta_symbol  # dE/da_j = sum_i w_ij delta_i
    expected = [0.7 * delta2, a1[1] * (1 - a1[1]), x[0]]
    np.testing.assert_allclose([f.value for f in rule.factors], expected, rtol=1e-14)
    assert rule.product == pytest.approx(rule.derivative_value, rel=1e-12)
    grads = net.lambdify_gradient()(POINT["x"], POINT["t"], POINT["W"], POINT["b"])
    assert rule.product == pytest.approx(grads[0][1, 0], rel=1e-12)
    assert r"\delta^{(2)}_{1}" in rule.to_latex()


@pytest.mark.parametrize(
    ("sizes", "activation", "loss", "layer", "j", "k"),
    [
        ([2, 2, 2, 1], "tanh", "half_squared_error", 1, 2, 1),  # two deltas back
        ([2, 3, 2], "relu", "softmax_cross_entropy", 1, 2, 2),
        ([2, 3, 2], "softplus", "mse", 1, 2, None),  # a bias
        ([3, 2, 1], "leaky_relu", "binary_cross_entropy", 2, 1, None),
    ],
)
def test_chain_rule_product_equals_the_derivative(sizes, activation, loss, layer, j, k):
    net = symbolic_network(sizes, activation, loss=loss)
    rng = np.random.default_rng(7)
    x, t, W, b = symbolic._random_point(net, rng)
    rule = chain_rule_factors(net, layer, j, k, dict(x=x, t=t, W=W, b=b))
    assert abs(rule.derivative_value) > 1e-8  # a real test, not 0 == 0
    assert rule.product == pytest.approx(rule.derivative_value, rel=1e-12)
    assert len(rule.deltas) == sum(sizes[layer + 1 :])


def test_chain_rule_without_values_gives_formulas_only():
    net = symbolic_network([2, 2, 1])
    rule = chain_rule_factors(net, 2, 1, 1)
    assert rule.product is None and all(f.value is None for f in rule.factors)
    assert rule.derivative == net.gradient()[net.W[1][0, 0]]
    assert r"\frac{\partial a^{(2)}_{1}}{\partial z^{(2)}_{1}}" in rule.to_latex()


# --- the bridge to code ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "activation", "output_activation", "loss"),
    [
        ([2, 1], "sigmoid", None, "half_squared_error"),  # one neuron
        ([2, 2, 1], "sigmoid", "sigmoid", "half_squared_error"),  # the notes' network
        ([2, 3, 2], "tanh", None, "softmax_cross_entropy"),
        ([3, 4, 2], "relu", "identity", "half_squared_error"),
        ([2, 3, 1], "leaky_relu", None, "binary_cross_entropy"),
        ([2, 3, 3], "softplus", "tanh", "mse"),
        ([2, 2, 2, 2], "identity", "relu", "mse"),
    ],
)
def test_symbolic_gradient_matches_library_backprop(sizes, activation, output_activation, loss):
    error = compare_with_backprop(sizes, activation, output_activation, loss, n_points=3)
    assert 0.0 <= error <= 1e-12


def test_compare_with_backprop_notices_a_different_network():
    net = symbolic_network([2, 2, 1], "sigmoid", "sigmoid")
    grad = net.lambdify_gradient()
    rng = np.random.default_rng(0)
    x, t, W, b = symbolic._random_point(net, rng)
    tanh_net = symbolic_network([2, 2, 1], "tanh", "sigmoid")
    other = tanh_net.lambdify_gradient()(x, t, W, b)
    errors = [symbolic.relative_error(g, h) for g, h in zip(grad(x, t, W, b), other, strict=True)]
    assert max(errors) > 1e-3


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [
        ([2], ValueError, "at least an input and an output size"),
        ([2, 0], ValueError, "must be at least 1, got 0 at position 1"),
        ([2.5, 1], TypeError, "whole numbers, got 2.5"),
        ([2, True], TypeError, "whole numbers"),
        ("2-2-1", TypeError, "must be a list of layer sizes"),
        (3, TypeError, "must be a list of layer sizes"),
        ([20, 20, 1], ValueError, "441 parameters; symbolic differentiation is for small"),
    ],
)
def test_bad_sizes_are_refused_clearly(sizes, error, match):
    with pytest.raises(error, match=match):
        symbolic_network(sizes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(activation="swish"), "unknown activation 'swish'; valid names are: identity"),
        (dict(output_activation="gelu"), "unknown output_activation 'gelu'"),
        (dict(loss="hinge"), "unknown loss 'hinge'; valid names are: binary_cross_entropy"),
        (dict(activation="softmax"), "'softmax' is not supported here"),
        (dict(loss="binary_cross_entropy", sizes=[2, 2]), "exactly 1 output unit, got 2"),
        (dict(loss="softmax_cross_entropy", sizes=[2, 1]), "at least 2 output units"),
        (dict(loss="softmax_cross_entropy", output_activation="sigmoid"), "takes logits"),
    ],
)
def test_bad_activations_and_losses_are_refused_clearly(kwargs, match):
    kwargs = {"sizes": [2, 3], **kwargs}
    with pytest.raises(ValueError, match=match):
        symbolic_network(**kwargs)


def test_bad_numbers_and_indices_are_refused_clearly():
    net = symbolic_network([2, 2, 1])
    grad = net.lambdify_gradient()
    good = dict(x=[1.0, 2.0], t=[0.5], W=[np.ones((2, 2)), np.ones((1, 2))], b=[np.ones(2), [1.0]])
    with pytest.raises(ShapeError, match=r"x must hold 2 number\(s\)"):
        grad(**{**good, "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ShapeError, match=r"W\[0\] \(layer 1\) must have shape \(2, 2\)"):
        grad(**{**good, "W": [np.ones((2, 3)), np.ones((1, 2))]})
    with pytest.raises(ShapeError, match="one array per layer"):
        grad(**{**good, "b": [np.ones(2)]})
    with pytest.raises(TypeError, match="must hold real numbers"):
        grad(**{**good, "t": ["high"]})
    with pytest.raises(ValueError, match="between 1 and 2"):
        chain_rule_factors(net, 3, 1, 1)
    with pytest.raises(ValueError, match=r"k must be between 1 and 2 \(units of layer 1"):
        chain_rule_factors(net, 2, 1, 3)
    with pytest.raises(ValueError, match="values must give x, t, W and b"):
        chain_rule_factors(net, 2, 1, 1, dict(x=[1.0, 2.0]))
    with pytest.raises(ValueError, match="values has no number for t_"):
        chain_rule_factors(net, 2, 1, 1, net.values(x=good["x"], W=good["W"], b=good["b"]))
    with pytest.raises(TypeError, match="must hold numbers"):
        net.substitute(x=["a", 1])
    with pytest.raises(ValueError, match="n_points must be a positive int"):
        compare_with_backprop([2, 1], n_points=0)


def test_the_symbolic_names_are_the_library_element_wise_activations():
    from bpcourse.activations import ACTIVATIONS

    elementwise = [n for n, act in ACTIVATIONS.items() if act.derivative is not None]
    assert list(symbolic.NAMES) == elementwise
    assert [row.name for row in derivative_table()] == elementwise
    with pytest.raises(ValueError, match="softmax"):
        derive_activation("softmax")
