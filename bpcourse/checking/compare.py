"""Compare a learner's value with the right one and say, in words, what differs.

Each function returns a list of messages: empty when the answer is right. The messages
name the wrong type, dtype or shape (with a hint when the shape is a known slip, such as
a transpose) or the entry that differs most, with the expected and the actual value.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from bpcourse.gradcheck import ELEMENT_FLOOR, LAYER_TOLERANCE, relative_error

ELEMENT_TOLERANCE = 1e-6  # an entry "differs" when its element-wise relative error is above this


def describe(value: object) -> str:
    """A short description of a value for feedback: 'None', 'a list of 3 items', ..."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        return f"a {kind} of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, numbers.Number):
        return f"the number {value!r}"
    if callable(value):
        return f"the function {getattr(value, '__name__', repr(value))}"
    return f"a {type(value).__name__}"


def _shape(shape: tuple[int, ...], layout: str | None) -> str:
    return f"{shape} = {layout}" if layout else str(shape)


def shape_hint(expected: tuple[int, ...], got: tuple[int, ...]) -> str:
    """A likely cause for a known wrong shape ('' when none is known)."""
    if len(expected) == 2 and got == expected[::-1]:
        return "did you forget a transpose (or swap the order of a matrix product)?"
    if tuple(n for n in got if n != 1) == tuple(n for n in expected if n != 1):
        return "an axis of length 1 too many or too few: check keepdims=, [None, :] or .ravel()"
    if got[1:] == expected and len(got) == len(expected) + 1:
        return f"one axis too many (of length {got[0]}): did you forget to sum over the batch?"
    if got == expected[1:]:
        return f"the first axis (of length {expected[0]}) is missing: did you sum over it?"
    return ""


def compare_array(
    expected: np.ndarray,
    got: object,
    name: str,
    *,
    layout: str | None = None,
    tolerance: float = LAYER_TOLERANCE,
    shape_hints: Mapping[tuple[int, ...], str] | None = None,
) -> list[str]:
    """What is wrong with `got` as the array `expected` (named `name`); [] when it is right.

    Right means: a NumPy array of floats, of the expected shape, finite, and with relative
    error ||got - expected|| / max(||got||, ||expected||) below `tolerance` (the course's
    policy, 1e-7). `layout` names the axes, e.g. "(n_out, n_in)". `shape_hints` maps a wrong
    shape to a likely cause for this particular answer.
    """
    expected = np.asarray(expected, dtype=np.float64)
    want = f"a NumPy array of shape {_shape(expected.shape, layout)}"
    if got is None:
        return [f"{name} is None, expected {want}: did you forget to `return` it?"]
    if isinstance(got, (list, tuple)):
        return [f"{name} is {describe(got)}, expected {want}: build it with NumPy operations"]
    if isinstance(got, numbers.Number) and not isinstance(got, bool) and expected.ndim:
        number = got.item() if isinstance(got, np.generic) else got  # 7.9, not np.float64(7.9)
        message = f"{name} is a single number ({number!r}), expected {want}"
        hint = (shape_hints or {}).get(())
        return [f"{message}: {hint}" if hint else message]
    if not isinstance(got, (np.ndarray, numbers.Number)) or isinstance(got, bool):
        return [f"{name} is {describe(got)}, expected {want}"]
    got = np.asarray(got)
    if got.dtype.kind not in "fiu":
        return [f"{name} has dtype {got.dtype}, expected floating-point numbers (float64)"]
    if got.shape != expected.shape:
        hint = (shape_hints or {}).get(got.shape) or shape_hint(expected.shape, got.shape)
        message = f"{name}: expected shape {_shape(expected.shape, layout)}, got {got.shape}"
        return [f"{message}: {hint}" if hint else message]
    if got.dtype != np.float64:
        prefix = f"{name} has dtype {got.dtype}, expected float64"
        if got.dtype.kind == "f":
            return [f"{prefix}: checks need float64 (do not cast to float32 or float16)"]
        return [f"{prefix}: integer results lose the fractions (did you use //, or int()?)"]
    return compare_values(expected, got, name, tolerance=tolerance)


def compare_values(
    expected: np.ndarray, got: np.ndarray, name: str, *, tolerance: float = LAYER_TOLERANCE
) -> list[str]:
    """Compare two float arrays of the same shape: NaN/inf first, then the largest difference."""
    bad = ~np.isfinite(got)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
        where = f"; the first at index {first}" if got.ndim else ""
        return [
            f"{name} contains {int(bad.sum())} NaN or infinite value(s){where}: look for a "
            "division by zero, an overflowing exp, or the log of 0"
        ]
    if relative_error(got, expected) < tolerance:
        return []
    abs_diff = np.abs(got - expected)
    scale = np.maximum(np.maximum(np.abs(got), np.abs(expected)), ELEMENT_FLOOR)
    differ = abs_diff / scale > ELEMENT_TOLERANCE
    if not got.ndim:
        return [
            f"{name}: expected {float(expected):.6g}, got {float(got):.6g} "
            f"(relative error {float(abs_diff / scale):.2g})"
        ]
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(abs_diff), got.shape))
    count = int(differ.sum())
    how_many = (
        "every entry differs" if count == got.size else f"{count} of {got.size} entries differ"
    )
    return [
        f"{name}: wrong values, {how_many}; the largest difference is at index {worst}: "
        f"expected {expected[worst]:.6g}, got {got[worst]:.6g} "
        f"(relative error {abs_diff[worst] / scale[worst]:.2g})"
    ]


def not_a_number(got: object, name: str) -> list[str]:
    """[] when `got` is a finite real number (or an array of one), else what it is instead."""
    if got is None:
        return [f"{name} is None, expected a number: did you forget to `return` it?"]
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return [f"{name} is {describe(got)}, expected a single real number"]
    if not np.isfinite(float(got)):
        return [f"{name} is {float(got)}, expected a finite number"]
    return []


def compare_number(
    expected: float, got: object, name: str, *, tolerance: float = LAYER_TOLERANCE
) -> list[str]:
    """What is wrong with `got` as the number `expected`; [] when it is right."""
    problems = not_a_number(got, name)
    if problems:
        return problems
    value = float(np.asarray(got).item())
    if relative_error(np.float64(value), np.float64(expected)) < tolerance:
        return []
    return [f"{name}: expected {expected:.6g}, got {value:.6g}"]
