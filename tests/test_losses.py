"""Losses and their gradients (bpcourse.losses).

Each gradient is compared with central differences in float64 (relative error < 1e-7, the
course's policy for a loss); each value with an independent naive formula (plain Python
loops over `math`) at moderate inputs. Then the identities the lessons teach (p - y, ln C at
uniform logits, labels = one-hot), stability at ±1e4 and ±1e300 without a warning, float32
gradients staying float32, and every error message for bad input.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from independent import gradient_of as scalar_gradient
from independent import relative_error, strict_numerics

from bpcourse.losses import (
    LOSSES,
    Loss,
    binary_cross_entropy,
    get_loss,
    half_squared_error,
    mse,
    softmax_cross_entropy,
)
from bpcourse.validation import NonFiniteError, ShapeError

TOLERANCE = 1e-7  # COURSE.md: a single layer or loss, float64 central differences
H = 1e-5
FAST = settings(max_examples=10, deadline=None)


# --- independent naive formulas (Python loops over math) --------------------------------


def naive_half_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    n, c = y.shape
    return sum(0.5 * sum((y[i, j] - t[i, j]) ** 2 for j in range(c)) for i in range(n)) / n


def naive_mse(y: np.ndarray, t: np.ndarray) -> float:
    n, c = y.shape
    return sum((y[i, j] - t[i, j]) ** 2 for i in range(n) for j in range(c)) / (n * c)


def naive_sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def naive_bce(z: np.ndarray, t: np.ndarray) -> float:
    """The probability form: -t log p - (1 - t) log(1 - p), p = sigmoid(z)."""
    n, c = z.shape
    total = 0.0
    for i in range(n):
        for j in range(c):
            p = naive_sigmoid(z[i, j])
            total += -t[i, j] * math.log(p) - (1 - t[i, j]) * math.log(1 - p)
    return total / (n * c)


def naive_softmax_rows(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    for i, row in enumerate(z):
        e = [math.exp(v) for v in row]
        out[i] = [v / sum(e) for v in e]
    return out


def naive_softmax_ce(z: np.ndarray, y: np.ndarray) -> float:
    p = naive_softmax_rows(z)
    n, c = z.shape
    return -sum(y[i, j] * math.log(p[i, j]) for i in range(n) for j in range(c)) / n


def eye_one_hot(labels: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[labels]


# --- random problems ----------------------------------------------------------------------


def problem(name: str, n: int, c: int, seed: int, target_kind: str = "default"):
    """Predictions at moderate values and a valid target for the loss `name`."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(-4, 4, size=(n, c))
    if name in ("half_squared_error", "mse"):
        return y, rng.normal(size=(n, c))
    if name == "binary_cross_entropy":
        t = rng.uniform(0, 1, size=(n, c)) if target_kind == "soft" else rng.integers(0, 2, (n, c))
        return y, t.astype(float)
    labels = rng.integers(0, c, size=n)
    if target_kind == "labels":
        return y, labels
    if target_kind == "soft":
        return y, rng.dirichlet(np.ones(c), size=n)
    return y, eye_one_hot(labels, c)


CASES = [
    ("half_squared_error", "default"),
    ("mse", "default"),
    ("binary_cross_entropy", "default"),
    ("binary_cross_entropy", "soft"),
    ("softmax_cross_entropy", "labels"),
    ("softmax_cross_entropy", "default"),
    ("softmax_cross_entropy", "soft"),
]
NAIVE = {
    "half_squared_error": naive_half_squared_error,
    "mse": naive_mse,
    "binary_cross_entropy": naive_bce,
    "softmax_cross_entropy": naive_softmax_ce,
}


def test_the_table_holds_the_documented_losses():
    assert set(LOSSES) == set(NAIVE)
    assert {n: loss.output for n, loss in LOSSES.items()} == {
        "half_squared_error": "values",
        "mse": "values",
        "binary_cross_entropy": "logits",
        "softmax_cross_entropy": "logits",
    }
    for name, loss in LOSSES.items():
        assert loss.name == name and loss.formula


@pytest.mark.parametrize(("name", "kind"), CASES)
@FAST
@given(n=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_gradient_matches_central_differences(name, kind, n, c, seed):
    loss = LOSSES[name]
    if name == "softmax_cross_entropy":
        c = max(c, 2)  # one class: the gradient is exactly 0, a relative error is meaningless
    y, t = problem(name, n, c, seed, kind)
    value, grad = loss(y, t)
    assert isinstance(value, float)
    assert grad.shape == y.shape and grad.dtype == np.float64
    numeric = scalar_gradient(lambda x: loss(x, t)[0], y)
    assert relative_error(grad, numeric) < TOLERANCE


@pytest.mark.parametrize(("name", "kind"), CASES)
@FAST
@given(n=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_value_matches_naive_formula(name, kind, n, c, seed):
    y, t = problem(name, n, c, seed, kind)
    dense_t = eye_one_hot(t, c) if kind == "labels" else t
    expected = NAIVE[name](y, dense_t)
    assert LOSSES[name](y, t)[0] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_squared_error_values_by_hand():
    y = np.array([[1.0, 2.0], [3.0, -1.0]])
    t = np.array([[0.0, 0.0], [3.0, 1.0]])
    # squared differences 1, 4, 0, 4: sum 9
    assert half_squared_error(y, t)[0] == pytest.approx(9 / 2 / 2, rel=1e-15)
    assert mse(y, t)[0] == pytest.approx(9 / 4, rel=1e-15)
    np.testing.assert_allclose(half_squared_error(y, t)[1], (y - t) / 2, rtol=1e-15)
    np.testing.assert_allclose(mse(y, t)[1], 2 * (y - t) / 4, rtol=1e-15)


def test_one_output_accepts_a_flat_target():
    y = np.array([[0.3], [-1.2], [2.0]])
    t = np.array([1.0, 0.0, 1.0])
    for loss in LOSSES.values():
        if loss.name == "softmax_cross_entropy":
            continue
        value, grad = loss(y, t)
        value2, grad2 = loss(y, t[:, None])
        assert value == value2
        np.testing.assert_array_equal(grad, grad2)
        assert grad.shape == (3, 1)


# --- the identities the lessons teach ---------------------------------------------------


@FAST
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_softmax_ce_labels_equal_one_hot(n, c, seed):
    z, labels = problem("softmax_cross_entropy", n, c, seed, "labels")
    v1, g1 = softmax_cross_entropy(z, labels)
    v2, g2 = softmax_cross_entropy(z, eye_one_hot(labels, c))
    assert v1 == pytest.approx(v2, rel=1e-15, abs=1e-15)
    np.testing.assert_allclose(g1, g2, rtol=1e-15, atol=1e-17)


@FAST
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_softmax_ce_gradient_is_p_minus_y_over_n(n, c, seed):
    z, y = problem("softmax_cross_entropy", n, c, seed, "soft")
    _, grad = softmax_cross_entropy(z, y)
    np.testing.assert_allclose(grad * n, naive_softmax_rows(z) - y, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)  # p and y both sum to 1


@FAST
@given(n=st.integers(1, 6), c=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_bce_gradient_is_sigmoid_minus_t_over_nc(n, c, seed):
    z, t = problem("binary_cross_entropy", n, c, seed, "soft")
    _, grad = binary_cross_entropy(z, t)
    p = np.vectorize(naive_sigmoid)(z)
    np.testing.assert_allclose(grad * n * c, p - t, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("c", [2, 3, 10])
def test_softmax_ce_at_uniform_logits_is_log_c(c):
    """The sanity check of lesson 06: an untrained network's loss is about ln C."""
    labels = np.arange(7) % c
    assert softmax_cross_entropy(np.zeros((7, c)), labels)[0] == pytest.approx(
        math.log(c), rel=1e-14
    )
    row_constants = np.random.default_rng(0).normal(size=(7, 1)) * 10
    logits = np.repeat(row_constants, c, axis=1)  # equal within each row
    assert softmax_cross_entropy(logits, labels)[0] == pytest.approx(math.log(c), rel=1e-12)


@pytest.mark.parametrize(
    "big",
    [
        1e4,
        1e300,
    ],
)
def test_softmax_ce_at_huge_equal_logits_is_still_log_c(big):
    with strict_numerics():
        value, grad = softmax_cross_entropy(np.full((2, 3), big), np.array([0, 2]))
    np.testing.assert_allclose(grad, (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 2]]) / 2)
    assert value == pytest.approx(math.log(3), rel=1e-12)


def test_bce_matches_the_probability_formula_by_hand():
    z = np.array([[0.0], [math.log(3.0)]])  # p = 1/2 and p = 3/4
    t = np.array([[1.0], [0.0]])
    expected = (math.log(2.0) + -math.log(1 - 0.75)) / 2
    assert binary_cross_entropy(z, t)[0] == pytest.approx(expected, rel=1e-14)


def test_bce_with_a_single_class_and_softmax_ce_with_two_agree():
    """Binary CE on logit z is softmax CE on the pair of logits (0, z)."""
    rng = np.random.default_rng(7)
    z = rng.normal(size=(6, 1)) * 3
    labels = rng.integers(0, 2, size=6)
    bce = binary_cross_entropy(z, labels.astype(float))[0]
    sce = softmax_cross_entropy(np.hstack([np.zeros_like(z), z]), labels)[0]
    assert bce == pytest.approx(sce, rel=1e-12)


# --- stability: finite and warning-free at ±1e4 and ±1e300 --------------------------------


@pytest.mark.parametrize("big", [1e4, 1e300])
def test_cross_entropies_are_finite_and_exact_at_extreme_logits(big):
    z = np.array([[big, -big], [big, -big]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    with strict_numerics():
        value, grad = binary_cross_entropy(z, t)
    # softplus(z) - t z per entry: 0, 0, big, big
    assert value == pytest.approx(big / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.0, 0.0], [0.25, -0.25]], rtol=1e-15, atol=0)

    z3 = np.array([[big, -big, 0.0], [big, -big, 0.0]])
    with strict_numerics():
        value, grad = softmax_cross_entropy(z3, np.array([0, 1]))
        value_oh, grad_oh = softmax_cross_entropy(z3, np.eye(3)[[0, 1]])
    # row 1 is right with certainty (loss 0), row 2 wrong by 2·big
    assert value == pytest.approx(big, rel=1e-15)
    assert value_oh == pytest.approx(big, rel=1e-15)
    expected = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]]) / 2
    np.testing.assert_allclose(grad, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(grad_oh, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("loss", [half_squared_error, mse])
def test_squared_errors_are_finite_at_1e4(loss):
    """(±1e300)² overflows any float, so for squared errors ±1e4 is the meaningful extreme."""
    y = np.array([[1e4, -1e4]])
    t = np.array([[-1e4, 1e4]])
    with strict_numerics():
        value, grad = loss(y, t)
    assert value == pytest.approx(4e8, rel=1e-15)  # ½(4e8 + 4e8) = mean(4e8, 4e8)
    np.testing.assert_allclose(grad, [[2e4, -2e4]], rtol=1e-15)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_float32_predictions_give_float32_gradients(name, kind):
    y, t = problem(name, 4, 3, 0, kind)
    y32 = y.astype(np.float32)
    y32[0, 0], y32[1, 1] = 1e4, -1e4  # and stay silent at extremes in float32
    with strict_numerics():
        value, grad = LOSSES[name](y32, t)
    assert grad.dtype == np.float32
    assert isinstance(value, float) and math.isfinite(value)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_prediction_is_refused_naming_the_first_bad_index(name, bad):
    y, t = problem(name, 3, 2, 1, "labels" if name == "softmax_cross_entropy" else "default")
    y[1, 0] = bad
    y[2, 0] = bad
    with pytest.raises(NonFiniteError, match=rf"{name}: .*2 non-finite.*at index \(1, 0\)"):
        LOSSES[name](y, t)


# --- bad input ---------------------------------------------------------------------------

ALL = list(LOSSES)


@pytest.mark.parametrize("name", ALL)
def test_prediction_without_batch_axis_names_the_shapes(name):
    with pytest.raises(ShapeError, match=r"must have shape \(N, C\), got shape \(3,\)"):
        LOSSES[name](np.zeros(3), np.array([0, 1, 0]))


@pytest.mark.parametrize("name", ["half_squared_error", "mse", "binary_cross_entropy"])
def test_target_shape_mismatch_names_both_shapes(name):
    with pytest.raises(ShapeError, match=rf"{name}: .*\(4, 3\).*got shape \(4, 2\)"):
        LOSSES[name](np.zeros((4, 3)), np.zeros((4, 2)))


def test_softmax_ce_one_hot_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(ShapeError, match=r"shape \(4,\) or one-hot of shape \(4, 3\).*\(4, 2\)"):
        softmax_cross_entropy(np.zeros((4, 3)), np.full((4, 2), 0.5))


BAD_DTYPES = [
    (np.array([["a", "b"]]), r"<U1"),
    (np.array([[1 + 2j, 0j]]), r"complex128"),
    (np.array([[True, False]]), r"bool"),
    (np.array([[1.0, None]], dtype=object), r"object"),
]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(("bad", "dtype"), BAD_DTYPES)
def test_non_real_prediction_is_a_type_error_naming_the_dtype(name, bad, dtype):
    target = np.array([0]) if name == "softmax_cross_entropy" else np.zeros((1, 2))
    with pytest.raises(TypeError, match=rf"{name}: .*got dtype {dtype}"):
        LOSSES[name](bad, target)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(("bad", "dtype"), BAD_DTYPES)
def test_non_real_target_is_a_type_error_naming_the_dtype(name, bad, dtype):
    with pytest.raises(TypeError, match=rf"{name}: .*dtype {dtype}"):
        LOSSES[name](np.zeros((1, 2)), bad)


def test_booleans_get_a_hint():
    with pytest.raises(TypeError, match=r"astype\(float\)"):
        mse(np.zeros((1, 2)), np.array([[True, False]]))


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0, 2.0]), np.array([True, False, True])])
def test_softmax_ce_refuses_non_integer_labels(labels):
    with pytest.raises(TypeError, match=rf"integer labels expected.*got dtype {labels.dtype}"):
        softmax_cross_entropy(np.zeros((3, 3)), labels)


@pytest.mark.parametrize(
    ("labels", "bad", "index", "count"),
    [([0, 3, 1], 3, 1, 1), ([-1, 0, 7], -1, 0, 2), ([2, 2, 5], 5, 2, 1)],
)
def test_labels_outside_the_classes_name_the_label_and_index(labels, bad, index, count):
    with pytest.raises(
        ValueError, match=rf"\[0, 3\) for 3 classes; got {bad} at index {index} \({count} out"
    ):
        softmax_cross_entropy(np.zeros((3, 3)), np.array(labels))


def test_label_count_mismatch():
    with pytest.raises(ShapeError, match=r"2 labels for a batch of 3 predictions"):
        softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1]))


@pytest.mark.parametrize(
    "target",
    [
        [[1.0, 0.0, 0.0], [0.0, 0.5, 0.0]],  # a row sums to 0.5
        [[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],  # a row sums to 2
        [[1.5, -0.5, 0.0], [0.0, 1.0, 0.0]],  # sums to 1 with a negative entry
        [[np.nan, 1.0, 0.0], [0.0, 1.0, 0.0]],  # NaN
    ],
)
def test_one_hot_rows_must_be_non_negative_and_sum_to_one(target):
    with pytest.raises(ValueError, match=r"one-hot target must be >= 0 and sum to 1|non-finite"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array(target))


@pytest.mark.parametrize("bad", [1.5, -0.1, 2.0])
def test_bce_targets_must_lie_in_0_1(bad):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: targets must lie in \[0, 1\]"):
        binary_cross_entropy(np.zeros((2, 1)), np.array([[0.0], [bad]]))


def test_bce_nan_target_is_refused():
    with pytest.raises(ValueError, match=r"target .*non-finite.*index \(1, 0\)"):
        binary_cross_entropy(np.zeros((2, 1)), np.array([[0.0], [np.nan]]))


def test_bce_accepts_the_bounds_exactly():
    value, _ = binary_cross_entropy(np.zeros((2, 1)), np.array([[0.0], [1.0]]))
    assert value == pytest.approx(math.log(2), rel=1e-15)


# --- lookup -------------------------------------------------------------------------------


def test_get_loss_is_case_insensitive_and_passes_objects_through():
    assert get_loss("MSE") is LOSSES["mse"]
    assert get_loss("Softmax_Cross_Entropy") is LOSSES["softmax_cross_entropy"]
    mine = Loss("mine", mse, "values", "f")
    assert get_loss(mine) is mine


@pytest.mark.parametrize("bad", ["cross_entropy", "", None])
def test_unknown_loss_lists_the_valid_names(bad):
    with pytest.raises(ValueError, match=rf"unknown loss {re.escape(repr(bad))}; valid names"):
        get_loss(bad)
    with pytest.raises(ValueError) as info:
        get_loss(bad)
    for name in LOSSES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", list(LOSSES))
def test_complex_input_is_refused(name):
    y, t = problem(name, 3, 2, 1, "labels" if name == "softmax_cross_entropy" else "default")
    with pytest.raises(TypeError, match=rf"{name}: .*real numbers.*complex"):
        LOSSES[name](y.astype(complex), t)


@pytest.mark.parametrize("name", list(LOSSES))
def test_an_empty_batch_is_refused_by_name(name, recwarn):
    target = np.zeros(0, dtype=int) if name == "softmax_cross_entropy" else np.zeros((0, 2))
    with pytest.raises(ShapeError, match=rf"{name}: the batch is empty"):
        LOSSES[name](np.zeros((0, 2)), target)
    assert not recwarn.list  # no "mean of empty slice" on the way


@pytest.mark.parametrize("name", list(LOSSES))
def test_float16_at_its_limit_is_stable(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = np.array([[6e4, -6e4], [-6e4, 6e4]], dtype=np.float16)
        t = np.array([0, 1]) if name == "softmax_cross_entropy" else np.array([[1.0, 0], [0, 1]])
        value, grad = LOSSES[name](y, t)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    reference, _ = LOSSES[name](y.astype(np.float64), t)
    assert value == pytest.approx(reference, rel=1e-6)
