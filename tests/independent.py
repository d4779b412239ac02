"""Test helpers written independently of the library, so a bug there cannot hide here.

The library's `bpcourse.gradcheck` is itself under test; these few lines are the tests' own
central differences and relative error, and a context that turns numerical trouble into
errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np


def central_difference(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """dF/dx by central differences of the scalar f(), perturbing x in place entry by entry."""
    assert x.dtype == np.float64
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def gradient_of(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of f(x) for a function of an array (x is copied, not changed)."""
    x = np.array(x, dtype=np.float64)
    return central_difference(lambda: f(x), x, h)


def relative_error(a: np.ndarray, n: np.ndarray) -> float:
    """||a - n|| / max(||a||, ||n||, tiny): the course's gradient-check measure."""
    scale = max(np.linalg.norm(a), np.linalg.norm(n), 1e-12)
    return float(np.linalg.norm(a - n) / scale)


@contextmanager
def strict_numerics() -> Iterator[None]:
    """Any warning is an error, and so are overflow, division by zero and invalid results.

    Underflow to 0 (e.g. exp(-1e4)) is the intended, correct result, so it stays allowed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield
