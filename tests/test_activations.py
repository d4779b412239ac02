"""Activations and their derivatives (bpcourse.activations), checked three ways.

Every derivative is compared with central differences in float64 (relative error < 1e-7,
the course's policy for a single layer) at Hypothesis-drawn shapes and values, away from the
ReLU kink, and with SymPy's exact derivative. Softmax's Jacobian-vector product is checked
against finite differences and the explicit Jacobian diag(a) - a aᵀ. Then: the hand-written
forms written from the output, stability at ±1e4 and ±1e300 without a single warning,
float32 in / float32 out, and the errors of the lookup.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from independent import gradient_of as scalar_gradient
from independent import relative_error, strict_numerics

from bpcourse.activations import (
    ACTIVATIONS,
    LEAKY_RELU_SLOPE,
    Activation,
    get_activation,
    leaky_relu,
    log_softmax,
    logsumexp,
    sigmoid,
    sigmoid_derivative,
    softmax,
    softmax_and_log_softmax,
    softmax_backward,
    tanh_derivative,
)
from bpcourse.losses import softmax_cross_entropy
from bpcourse.validation import NonFiniteError

TOLERANCE = 1e-7  # COURSE.md: a single layer or loss, float64 central differences
H = 1e-5
FAST = settings(max_examples=10, deadline=None)

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
KINKED = {"relu", "leaky_relu"}


# Values drawn by Hypothesis: moderate, and away from the kink for ReLU-like functions.
MODERATE = st.floats(-5, 5, allow_nan=False)
AWAY_FROM_KINK = st.floats(1e-3, 5) | st.floats(-5, -1e-3)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


# Through a scalar loss L = sum(G * f(z)), each central difference carries L's round-off (a few
# ε·|L| over 2h, |L| up to 125·2) against a gradient G·f′(z). Where f′ is tiny that exceeds 1e-7
# of it: at |z| = 5, tanh′ = 1.8e-4, and Hypothesis found a 2×4 array of 5s giving 2.1e-7. For
# |z| ≤ 2.5 (tanh′ ≥ 0.027) the worst measured is 1.8e-9 (constant arrays of ±2.5 up to 5×5×5,
# G = 2) and 6e-9 over 300 random draws.
THROUGH_A_SUM = st.floats(-2.5, 2.5, allow_nan=False)


def points(
    name: str, elements: st.SearchStrategy[float] = MODERATE
) -> st.SearchStrategy[np.ndarray]:
    elements = AWAY_FROM_KINK if name in KINKED else elements
    return hnp.arrays(np.float64, SHAPES, elements=elements)


# --- the table --------------------------------------------------------------------------


def test_the_table_holds_the_documented_activations():
    assert set(ACTIVATIONS) == {*ELEMENTWISE, "softmax"}
    for name, act in ACTIVATIONS.items():
        assert act.name == name
        assert act.formula and act.derivative_formula
        assert (act.derivative is None) == (name == "softmax")


# --- derivatives against central differences (float64, < 1e-7) -------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
@FAST
@given(data=st.data())
def test_derivative_matches_central_differences(name, data):
    act = ACTIVATIONS[name]
    z = data.draw(points(name))
    a = act(z)
    analytic = act.derivative(z, a)
    numeric = (act(z + H) - act(z - H)) / (2 * H)  # element-wise central difference
    assert analytic.shape == z.shape
    assert relative_error(analytic, numeric) < TOLERANCE


@pytest.mark.parametrize("name", ELEMENTWISE)
@FAST
@given(data=st.data())
def test_backward_matches_gradient_of_a_scalar(name, data):
    """dZ = backward(G, z, a) is the gradient of L(z) = sum(G * f(z))."""
    act = ACTIVATIONS[name]
    z = data.draw(points(name, THROUGH_A_SUM))
    G = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(-2, 2)))
    dZ = act.backward(G, z, act(z))
    numeric = scalar_gradient(lambda x: float(np.sum(G * act(x))), z)
    assert relative_error(dZ, numeric) < TOLERANCE


# --- derivatives against SymPy ------------------------------------------------------------

Z = sp.Symbol("z", real=True)
SYMPY_FORMS = {
    "sigmoid": 1 / (1 + sp.exp(-Z)),
    "tanh": sp.tanh(Z),
    "relu": sp.Piecewise((Z, Z > 0), (0, True)),
    "leaky_relu": sp.Piecewise((Z, Z > 0), (sp.Rational(1, 100) * Z, True)),
    "softplus": sp.log(1 + sp.exp(Z)),
    "identity": Z,
}


def evaluate(expr: sp.Expr, z: np.ndarray) -> np.ndarray:
    f = sp.lambdify(Z, expr, modules="numpy")
    return np.asarray(f(z), dtype=np.float64) * np.ones_like(z)  # constants broadcast too


def test_sympy_table_covers_every_elementwise_activation():
    assert set(SYMPY_FORMS) == {n for n, a in ACTIVATIONS.items() if a.derivative is not None}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_function_and_derivative_match_sympy(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    z = rng.uniform(-6, 6, size=(7, 9))
    z = z[np.abs(z) > 1e-3].reshape(-1) if name in KINKED else z
    expr = SYMPY_FORMS[name]
    np.testing.assert_allclose(act(z), evaluate(expr, z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        act.derivative(z, act(z)), evaluate(sp.diff(expr, Z), z), rtol=1e-9, atol=1e-14
    )


def test_sympy_confirms_the_hand_written_forms():
    s, t = SYMPY_FORMS["sigmoid"], SYMPY_FORMS["tanh"]
    assert sp.simplify(sp.diff(s, Z) - s * (1 - s)) == 0
    assert sp.simplify(sp.diff(t, Z) - (1 - t**2)) == 0
    assert sp.simplify(sp.diff(SYMPY_FORMS["softplus"], Z) - s) == 0


def test_sympy_confirms_the_softmax_jacobian_formula():
    zs = sp.symbols("z0:3", real=True)
    total = sum(sp.exp(zj) for zj in zs)
    a = [sp.exp(zi) / total for zi in zs]
    for i in range(3):
        for j in range(3):
            expected = a[i] * ((1 if i == j else 0) - a[j])
            assert sp.simplify(sp.diff(a[i], zs[j]) - expected) == 0


def test_leaky_relu_slope_is_the_documented_one_hundredth():
    assert LEAKY_RELU_SLOPE == 0.01
    z = np.array([-3.0, -0.5, 2.0])
    np.testing.assert_array_equal(leaky_relu(z), [-0.03, -0.005, 2.0])
    np.testing.assert_allclose(leaky_relu(z, slope=0.2), [-0.6, -0.1, 2.0], rtol=1e-15)


def test_the_kink_conventions_at_zero():
    """ReLU'(0) = 0 (a subgradient, as PyTorch) and LeakyReLU'(0) = the slope, as documented."""
    z = np.zeros(3)
    relu, leaky = ACTIVATIONS["relu"], ACTIVATIONS["leaky_relu"]
    np.testing.assert_array_equal(relu.derivative(z, relu(z)), 0.0)
    np.testing.assert_array_equal(leaky.derivative(z, leaky(z)), LEAKY_RELU_SLOPE)


# --- hand-written forms: the derivative is written from the output ------------------------


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma_of_the_output():
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 1, size=(4, 5))
    unrelated_z = rng.normal(size=(4, 5)) * 100  # the derivative must be read from a only
    np.testing.assert_array_equal(sigmoid_derivative(unrelated_z, a), a * (1 - a))
    z = rng.uniform(-4, 4, size=20)
    e = np.exp(-z)
    np.testing.assert_allclose(sigmoid_derivative(z, sigmoid(z)), e / (1 + e) ** 2, rtol=1e-12)


def test_tanh_derivative_is_one_minus_the_output_squared():
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, size=(3, 6))
    unrelated_z = rng.normal(size=(3, 6)) * 100
    np.testing.assert_array_equal(tanh_derivative(unrelated_z, a), 1 - a**2)
    z = rng.uniform(-3, 3, size=20)
    np.testing.assert_allclose(tanh_derivative(z, np.tanh(z)), 1 / np.cosh(z) ** 2, rtol=1e-12)


# --- softmax, its backward, logsumexp and log_softmax -----------------------------------

ROWS = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
    elements=st.floats(-5, 5),
)


@FAST
@given(z=ROWS, seed=st.integers(0, 2**16))
def test_softmax_backward_matches_central_differences(z, seed):
    G = np.random.default_rng(seed).normal(size=z.shape)
    dZ = softmax_backward(G, softmax(z))
    numeric = scalar_gradient(lambda x: float(np.sum(G * softmax(x))), z)
    assert relative_error(dZ, numeric) < TOLERANCE
    np.testing.assert_array_equal(ACTIVATIONS["softmax"].backward(G, z, softmax(z)), dZ)


@FAST
@given(z=ROWS, seed=st.integers(0, 2**16))
def test_softmax_backward_is_the_explicit_jacobian_product(z, seed):
    G = np.random.default_rng(seed).normal(size=z.shape)
    a = softmax(z)
    expected = np.stack([(np.diag(r) - np.outer(r, r)).T @ g for r, g in zip(a, G, strict=True)])
    np.testing.assert_allclose(softmax_backward(G, a), expected, rtol=1e-10, atol=1e-13)


def test_explicit_softmax_jacobian_matches_central_differences():
    z = np.random.default_rng(4).normal(size=5)
    a = softmax(z)
    jacobian = np.diag(a) - np.outer(a, a)
    numeric = np.stack([scalar_gradient(lambda x, i=i: float(softmax(x)[i]), z) for i in range(5)])
    assert relative_error(jacobian, numeric) < TOLERANCE


def naive_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@FAST
@given(z=ROWS)
def test_softmax_log_softmax_logsumexp_match_naive_formulas(z):
    np.testing.assert_allclose(softmax(z), naive_softmax(z), rtol=1e-12)
    # atol: the naive formula itself loses the last digits near 0 (log of 1 + tiny)
    np.testing.assert_allclose(logsumexp(z), np.log(np.exp(z).sum(axis=-1)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(log_softmax(z), np.log(naive_softmax(z)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0, rtol=1e-12)


def test_logsumexp_axis_and_keepdims():
    z = np.random.default_rng(5).normal(size=(3, 4))
    assert logsumexp(z).shape == (3,)
    assert logsumexp(z, keepdims=True).shape == (3, 1)
    assert logsumexp(z, axis=0).shape == (4,)
    np.testing.assert_allclose(logsumexp(z, axis=0), np.log(np.exp(z).sum(axis=0)), rtol=1e-12)
    np.testing.assert_allclose(softmax(z, axis=0), naive_softmax(z, axis=0), rtol=1e-12)
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0, rtol=1e-12)


def test_softmax_is_shift_invariant():
    z = np.random.default_rng(6).normal(size=(4, 3))
    np.testing.assert_allclose(softmax(z + 123.0), softmax(z), rtol=1e-12)
    np.testing.assert_allclose(softmax(z), softmax(z - z.max(axis=1, keepdims=True)), rtol=1e-12)


# --- stability: finite and warning-free at ±1e4 and ±1e300 --------------------------------

EXTREMES = [1e4, 1e300]


@pytest.mark.parametrize("big", EXTREMES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_is_finite_and_silent_at_extremes(name, big):
    act = ACTIVATIONS[name]
    z = np.array([[big, -big], [-big, big]])
    with strict_numerics():
        a = act(z)
        d = act.derivative(z, a)
        dZ = act.backward(np.ones_like(z), z, a)
    assert np.isfinite(a).all() and np.isfinite(d).all() and np.isfinite(dZ).all()
    # the exact limits, from the math (e^(-1e4) is 0 in float64)
    limits = {
        "sigmoid": ([1.0, 0.0], [0.0, 0.0]),
        "tanh": ([1.0, -1.0], [0.0, 0.0]),
        "relu": ([big, 0.0], [1.0, 0.0]),
        "leaky_relu": ([big, -big / 100], [1.0, 0.01]),
        "softplus": ([big, 0.0], [1.0, 0.0]),
        "identity": ([big, -big], [1.0, 1.0]),
    }
    value, slope = limits[name]
    np.testing.assert_allclose(a[0], value, rtol=1e-15)
    np.testing.assert_allclose(d[0], slope, rtol=1e-15)


@pytest.mark.parametrize("big", EXTREMES)
def test_softmax_family_is_finite_and_silent_at_extremes(big):
    z = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, -big]])
    with strict_numerics():
        a = softmax(z)
        dZ = softmax_backward(np.ones_like(z) + np.arange(3.0), a)
        lse = logsumexp(z)
        ls = log_softmax(z)
    for arr in (a, dZ, lse, ls):
        assert np.isfinite(arr).all()
    np.testing.assert_allclose(a, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], rtol=1e-15)
    # logsumexp: big + log(1 + e^-big + e^-2big) = big; -big + ln 3; big + ln 2
    np.testing.assert_allclose(lse, [big, -big + math.log(3), big + math.log(2)], rtol=1e-15)
    np.testing.assert_allclose(ls[0], [0.0, -2 * big, -big], rtol=1e-15)


@pytest.mark.parametrize(
    "big",
    [
        1e4,
        1e300,
    ],
)
@pytest.mark.parametrize("sign", [1, -1])
def test_log_softmax_of_equal_huge_logits_is_minus_log_c(big, sign):
    """softmax of C equal logits is 1/C whatever their size, so log_softmax is -ln C."""
    z = np.full((2, 3), sign * big)
    with strict_numerics():
        ls = log_softmax(z)
    np.testing.assert_allclose(ls, -math.log(3), rtol=1e-12)
    np.testing.assert_allclose(np.exp(ls), softmax(z), rtol=1e-12)


def test_logsumexp_at_1e4_keeps_the_log_2():
    """Precision, not just finiteness: log(e^1e4 + e^1e4) = 1e4 + ln 2 to the last bit."""
    with strict_numerics():
        out = logsumexp(np.array([1e4, 1e4]))
    assert out == 1e4 + math.log(2)


# --- dtypes -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_in_float32_out(name):
    act = ACTIVATIONS[name]
    z = np.array([[1e4, -1e4, 0.5], [-2.0, 3.0, -0.25]], dtype=np.float32)
    dA = np.ones_like(z)
    with strict_numerics():
        a = act(z)
        dZ = act.backward(dA, z, a)
    assert a.dtype == np.float32
    assert dZ.dtype == np.float32
    if act.derivative is not None:
        assert act.derivative(z, a).dtype == np.float32


def test_float32_log_space_functions_keep_float32():
    z = np.array([[1e4, -1e4, 0.5]], dtype=np.float32)
    with strict_numerics():
        assert logsumexp(z).dtype == np.float32
        assert log_softmax(z).dtype == np.float32
        assert softmax(z).dtype == np.float32


# --- lookup -------------------------------------------------------------------------------


def test_get_activation_is_case_insensitive_and_passes_objects_through():
    assert get_activation("ReLU") is ACTIVATIONS["relu"]
    assert get_activation("SIGMOID") is ACTIVATIONS["sigmoid"]
    act = Activation("mine", np.sin, lambda z, a: np.cos(z), "f", "f'")
    assert get_activation(act) is act


@pytest.mark.parametrize("bad", ["swish", "", None, 3])
def test_unknown_activation_lists_the_valid_names(bad):
    with pytest.raises(ValueError, match=r"unknown activation") as info:
        get_activation(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in ACTIVATIONS:
        assert name in message


# --- bad input and the leaky slope (issue 12) ---------------------------------------------------

FUNCTIONS = [*(act.function for act in ACTIVATIONS.values()), log_softmax]


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_complex_input_is_refused_with_the_function_name(f):
    with pytest.raises(TypeError, match=rf"{f.__name__}: .*real numbers.*complex"):
        f(np.array([[1 + 1j, 0.5]]))


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_float16_at_its_limit_gives_no_warning_and_keeps_its_dtype(f):
    z = np.array([[6e4, -6e4, 0.0], [-6e4, 6e4, 1.0]], dtype=np.float16)
    with strict_numerics():
        out = f(z)
    expected = np.float32 if f is log_softmax else np.float16  # log p < -65504 needs float32
    assert out.dtype == expected and np.all(np.isfinite(out))
    reference = f(z.astype(np.float64))
    np.testing.assert_allclose(out.astype(np.float64), reference, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("slope", [0.0, 0.2, 0.5])
def test_leaky_relu_slope_is_honoured_by_its_derivative(slope):
    from bpcourse.activations import leaky_relu_activation, leaky_relu_derivative

    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 4))
    z[np.abs(z) < 1e-3] = 0.5  # away from the kink
    act = leaky_relu_activation(slope)
    h = 1e-6
    numeric = (act(z + h) - act(z - h)) / (2 * h)
    analytic = act.derivative(z, act(z))
    assert relative_error(analytic, numeric) < 1e-7
    np.testing.assert_array_equal(leaky_relu_derivative(z, z, slope=slope), analytic)
    np.testing.assert_array_equal(act(z), leaky_relu(z, slope=slope))
    assert np.any(analytic == slope) and np.any(analytic == 1.0)


# --- NaN and inf: one rule per kind of function (issue 12) ----------------------------------

INFINITE_LIMITS = {  # f(+inf), f(-inf)
    "sigmoid": (1.0, 0.0),
    "tanh": (1.0, -1.0),
    "relu": (np.inf, 0.0),
    "leaky_relu": (np.inf, -np.inf),
    "softplus": (np.inf, 0.0),
    "identity": (np.inf, -np.inf),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_an_elementwise_activation_gives_its_limits_at_inf_and_nan_for_nan(name):
    with strict_numerics():
        a = ACTIVATIONS[name](np.array([np.inf, -np.inf, np.nan]))
    np.testing.assert_array_equal(a[:2], INFINITE_LIMITS[name])
    assert np.isnan(a[2])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("softmax", softmax),
        ("log_softmax", log_softmax),
        ("logsumexp", logsumexp),
        ("softmax", softmax_and_log_softmax),  # named as the softmax (its default name)
    ],
)
def test_the_softmax_family_refuses_non_finite_logits_like_the_losses(name, function, bad):
    z = np.array([[0.0, 1.0, 2.0], [3.0, bad, 5.0]])
    with strict_numerics(), pytest.raises(NonFiniteError) as info:
        function(z)
    message = str(info.value)
    assert message.startswith(f"{name}: input contains 1 non-finite value")
    assert f"the first is {bad} at index (1, 1)" in message
    with pytest.raises(NonFiniteError, match=r"softmax_cross_entropy: logits .* index \(1, 1\)"):
        softmax_cross_entropy(z, np.array([0, 1]))
