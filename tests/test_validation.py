"""The input checks every library function relies on (bpcourse.validation).

Each check must say what was wrong: the argument's name, the expected and the actual shape
or dtype, where the first NaN is, which names are valid.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bpcourse.validation import (
    NonFiniteError,
    ShapeError,
    as_float_array,
    check_finite,
    check_ndim,
    check_positive,
    is_int,
    lookup,
)

FAST = settings(max_examples=15, deadline=None)


def test_errors_are_value_errors():
    """So `except ValueError` in a learner's code still catches them."""
    assert issubclass(ShapeError, ValueError)
    assert issubclass(NonFiniteError, ValueError)


# --- as_float_array ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array([1, 2, 3]), np.float64),  # ints become float64, not float32
        (np.array([1, 2], dtype=np.int8), np.float64),
        (np.array([1, 2], dtype=np.uint32), np.float64),
        ([[1, 2], [3, 4]], np.float64),
        (np.array([1.5], dtype=np.float32), np.float32),  # float32 is kept (speed)
        (np.array([1.5]), np.float64),
        (np.array([1.5], dtype=np.float16), np.float32),  # at least float32
        (3.0, np.float64),
    ],
)
def test_as_float_array_accepts_real_numbers(value, dtype):
    out = as_float_array(value, "x")
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, np.asarray(value, dtype=np.float64))


@pytest.mark.parametrize("target", [np.float32, np.float64])
def test_as_float_array_casts_to_a_requested_dtype(target):
    assert as_float_array(np.array([1, 2]), "x", dtype=target).dtype == target
    assert as_float_array(np.array([1.0], dtype=np.float32), "x", dtype=target).dtype == target


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array(["1.0", "2.0"]), "<U3"),
        ("abc", "<U3"),
        (np.array([1 + 1j]), "complex128"),
        (np.array([1j], dtype=np.complex64), "complex64"),
        (np.array([True, False]), "bool"),
        (np.array([1.0, "a"], dtype=object), "object"),
        (np.array([None]), "object"),
    ],
)
def test_as_float_array_refuses_non_real_dtypes_naming_them(value, dtype):
    with pytest.raises(TypeError, match=rf"^weights must hold real numbers .*got dtype {dtype}"):
        as_float_array(value, "weights")


def test_bool_refusal_explains_itself():
    with pytest.raises(TypeError, match=r"booleans are not numbers here: use \.astype\(float\)"):
        as_float_array(np.array([True]), "mask")
    with pytest.raises(TypeError) as info:
        as_float_array(np.array([1j]), "z")
    assert "booleans" not in str(info.value)


def test_ragged_input_is_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match=r"^X could not be turned into an array"):
        as_float_array([[1.0, 2.0], [3.0]], "X")


# --- check_finite ------------------------------------------------------------------------


def test_check_finite_returns_finite_input_unchanged():
    x = np.arange(6.0).reshape(2, 3)
    assert check_finite(x, "x") is x
    assert check_finite(np.array([1, 2]), "ints") is not None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_names_the_argument_the_count_the_value_and_the_index(bad):
    x = np.zeros((3, 4))
    x[1, 2] = bad
    x[2, 0] = np.nan
    with pytest.raises(NonFiniteError) as info:
        check_finite(x, "dense1.W")
    message = str(info.value)
    assert message.startswith("dense1.W contains 2 non-finite value(s)")
    assert f"the first is {bad}" in message
    assert message.endswith("at index (1, 2)")


@FAST
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-1e3, 1e3),
    ),
    data=st.data(),
)
def test_check_finite_reports_the_first_bad_entry_in_reading_order(x, data):
    k = data.draw(st.integers(1, x.size))
    flat = data.draw(st.lists(st.integers(0, x.size - 1), min_size=1, max_size=k, unique=True))
    x = x.copy()
    x.flat[flat] = np.nan
    first = np.unravel_index(min(flat), x.shape)  # C order: the first a loop would meet
    expected = str(tuple(int(i) for i in first))  # e.g. "(3,)" or "(1, 2)"
    with pytest.raises(
        NonFiniteError, match=rf"{len(flat)} non-finite.*at index {re.escape(expected)}$"
    ):
        check_finite(x, "x")


def test_check_finite_on_a_scalar_array_has_no_index():
    with pytest.raises(NonFiniteError, match=r"^loss contains 1 non-finite value\(s\) .*nan$"):
        check_finite(np.array(np.nan), "loss")


# --- check_ndim --------------------------------------------------------------------------


def test_check_ndim_passes_and_returns_the_input():
    x = np.zeros((2, 3))
    assert check_ndim(x, 2, "X", "(N, n_in)") is x


def test_check_ndim_one_missing_axis_gets_the_batch_hint():
    with pytest.raises(
        ShapeError,
        match=r"^X must have shape \(N, n_in\), got shape \(5,\) "
        r"\(a single example needs a batch axis: x\[None, :\]\)$",
    ):
        check_ndim(np.zeros(5), 2, "X", "(N, n_in)")


@pytest.mark.parametrize("shape", [(2, 3, 4), ()])
def test_check_ndim_other_mismatches_have_no_hint(shape):
    with pytest.raises(
        ShapeError, match=rf"^X must have shape \(N, n_in\), got shape {re.escape(str(shape))}$"
    ):
        check_ndim(np.zeros(shape), 2, "X", "(N, n_in)")


# --- check_positive ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 0.5, np.float32(2.0), np.int64(3), 1e-300])
def test_check_positive_accepts_positive_numbers(value):
    out = check_positive(value, "learning_rate")
    assert isinstance(out, float) and out == float(value)


def test_check_positive_zero_only_when_allowed():
    assert check_positive(0, "weight_decay", allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"^learning_rate must be a finite number > 0, got 0$"):
        check_positive(0, "learning_rate")


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize(("allow_zero", "bound"), [(False, "> 0"), (True, ">= 0")])
def test_check_positive_refuses_negative_and_non_finite(value, allow_zero, bound):
    with pytest.raises(ValueError, match=rf"^lr must be a finite number {bound}, got {value}$"):
        check_positive(value, "lr", allow_zero=allow_zero)


@pytest.mark.parametrize(
    ("value", "type_name"), [(True, "bool"), ("0.1", "str"), (None, "NoneType"), ([1], "list")]
)
def test_check_positive_refuses_non_numbers(value, type_name):
    with pytest.raises(TypeError, match=rf"^lr must be a number, got {type_name}$"):
        check_positive(value, "lr")


# --- lookup ------------------------------------------------------------------------------

TABLE = {"beta": 2, "alpha": 1, "gamma": 3}


def test_lookup_is_case_insensitive():
    assert lookup("Alpha", TABLE, "thing") == 1
    assert lookup("GAMMA", TABLE, "thing") == 3


@pytest.mark.parametrize("name", ["delta", "alph", None, 1])
def test_lookup_lists_the_valid_names_sorted(name):
    with pytest.raises(
        ValueError,
        match=rf"^unknown thing {re.escape(repr(name))}; valid names are: alpha, beta, gamma$",
    ):
        lookup(name, TABLE, "thing")


@pytest.mark.parametrize("value", [0, 3, -2, np.int64(4), np.uint8(1)])
def test_is_int_takes_python_and_numpy_integers(value):
    assert is_int(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(2), "3", None, [1]])
def test_is_int_refuses_bools_floats_and_the_rest(value):
    assert not is_int(value)
