"""Input checks shared by the library, and the errors they raise.

Every check names what was wrong (which layer or argument, the expected and the actual
shape or dtype, where the first NaN is) so a learner never has to decode a bare NumPy
traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class NonFiniteError(ValueError):
    """An array holds NaN or infinity where finite numbers are needed."""


def as_float_array(x: Any, name: str, dtype: Any = None) -> np.ndarray:
    """Return `x` as a floating-point array, or raise a TypeError naming `name`.

    Integers and floats are accepted (and cast to `dtype` when given); booleans, complex
    numbers, strings and objects are refused.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be turned into an array: {exc}") from None
    kind = arr.dtype.kind
    if kind not in "iuf":
        raise TypeError(
            f"{name} must hold real numbers (an int or float dtype), got dtype {arr.dtype}"
            + (" (booleans are not numbers here: use .astype(float))" if kind == "b" else "")
        )
    target = np.dtype(dtype) if dtype is not None else np.result_type(arr.dtype, np.float32)
    if kind in "iu" and dtype is None:
        target = np.dtype(np.float64)
    return arr.astype(target, copy=False)


def check_finite(x: np.ndarray, name: str) -> np.ndarray:
    """Raise NonFiniteError naming `name` and the first bad entry if `x` holds NaN or inf."""
    if not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {first}" if x.ndim else ""
        raise NonFiniteError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf); "
            f"the first is {x[first]}{where}"
        )
    return x


def check_ndim(x: np.ndarray, ndim: int, name: str, layout: str) -> np.ndarray:
    """Raise ShapeError unless `x` has `ndim` dimensions; `layout` reads like '(N, n_in)'."""
    if x.ndim != ndim:
        hint = " (a single example needs a batch axis: x[None, :])" if x.ndim == ndim - 1 else ""
        raise ShapeError(f"{name} must have shape {layout}, got shape {x.shape}{hint}")
    return x


def is_int(value: Any) -> bool:
    """Whether `value` is a whole number: an int or a NumPy integer, never a bool (nor 3.0).

    The library's one test of "an integer"; `check_int` raises with it, and the few places
    that need another error (a TypeError, their own message) ask it too.
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(value: Any, name: str, minimum: int = 1, allow_none: bool = False) -> Any:
    """`value` as an int >= `minimum` (None passes with `allow_none`), or a ValueError naming
    `name`. Booleans and floats are refused, even 3.0: a count is an int."""
    if value is None and allow_none:
        return None
    if not is_int(value) or value < minimum:
        kind = {1: "a positive int", 0: "an int >= 0"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def check_same_shape(actual: np.ndarray, expected: tuple[int, ...], name: str, what: str) -> None:
    """Raise ShapeError unless `actual` has shape `expected`; `what` says what it should match."""
    if actual.shape != tuple(expected):
        raise ShapeError(
            f"{name} must have the shape of {what} {tuple(expected)}, got {actual.shape}"
        )


def check_positive(value: float, name: str, allow_zero: bool = False) -> float:
    """Raise ValueError unless `value` is a finite number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    ok = value >= 0 if allow_zero else value > 0
    if not np.isfinite(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return float(value)


def renamed_keyword(given: dict[str, Any], old: str, new: str, value: Any, who: str) -> Any:
    """The value of keyword `new`, also accepted under its old name `old` with a
    DeprecationWarning (any other unknown keyword is a TypeError naming `who`)."""
    import warnings

    unknown = sorted(set(given) - {old})
    if unknown:
        raise TypeError(f"{who} got unexpected keyword argument(s) {unknown}")
    if old not in given:
        return value
    warnings.warn(
        f"{who}: the keyword {old}= is now {new}= (one name across the library)",
        DeprecationWarning,
        stacklevel=3,
    )
    return given[old]


def lookup(name: Any, table: Mapping[str, T], kind: str) -> T:
    """Return `table[name]`, or raise a ValueError listing the valid names of this `kind`."""
    if isinstance(name, str) and name.lower() in table:
        return table[name.lower()]
    valid = ", ".join(sorted(table))
    raise ValueError(f"unknown {kind} {name!r}; valid names are: {valid}")
