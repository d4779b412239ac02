r"""What runs in the learner's kernel for exercise 10: the row guard and `probe_compact`.

The grader passes the learner's functions plain data only (`.npy` without pickles, JSON), so
an ndarray subclass cannot cross. `probe_compact`, the adapter of the item
`batchnorm_backward_compact`, builds the guarded batch in the kernel from plain numbers, calls
the learner's function and returns data only: JSON (lists, numbers, strings, dicts), which the
checker turns back into what the function returned (`from_data`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.compare import describe

GUARD_ROWS = 4099  # a batch large and odd enough that no feature count equals it
Data = dict[str, Any]


class RowLoopError(Exception):
    """Raised when a guarded batch is read one example (row) at a time."""


class RowGuard(np.ndarray):
    """An (N, F) array whose rows refuse to be read one at a time (for N = GUARD_ROWS).

    `for row in X`, `X[n]`, `X[n, f]` raise RowLoopError; sums, means, slices and broadcasting
    work as usual. Results of arithmetic on it are RowGuards too, so a loop over the rows of
    an intermediate array is caught as well. Built in the learner's kernel only.
    """

    def _guarded(self) -> bool:
        return self.ndim >= 1 and self.shape[0] == GUARD_ROWS

    def __iter__(self) -> Any:
        if self._guarded():
            raise RowLoopError("a Python loop over the rows (the examples) of the batch")
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        first = index[0] if isinstance(index, tuple) and index else index
        if self._guarded() and isinstance(first, (int, np.integer)):
            raise RowLoopError(f"reads row {int(first)} of the batch on its own (a loop over N?)")
        return super().__getitem__(index)


class Opaque:
    """What came back when it was no array, number, string or sequence: its description."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def as_data(value: Any, depth: int = 0) -> Data:
    """`value` as JSON: arrays keep their dtype and shape, tuples and lists their items."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": np.asarray(value).tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"scalar": value.item(), "dtype": value.dtype.str}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"plain": value}
    if isinstance(value, (tuple, list)) and depth < 3 and len(value) <= GUARD_ROWS:
        return {type(value).__name__: [as_data(v, depth + 1) for v in value]}
    return {"opaque": describe(value)}


def from_data(data: Data) -> Any:
    """The value `as_data` described (an array as a plain ndarray; Opaque for the rest)."""
    if "array" in data:
        return np.array(data["array"], dtype=np.dtype(data["dtype"]))
    if "scalar" in data:
        return np.dtype(data["dtype"]).type(data["scalar"])
    if "plain" in data:
        return data["plain"]
    if "tuple" in data:
        return tuple(from_data(v) for v in data["tuple"])
    if "list" in data:
        return [from_data(v) for v in data["list"]]
    return Opaque(str(data.get("opaque", "something else")))


def probe_compact(
    batchnorm_backward_compact: Callable[..., Any],
) -> Callable[..., Data]:
    """The learner's dX as data; with `guard`, on (dOut, X) whose rows refuse to be read alone.

    The arguments are plain numbers (nested lists); the result is {"value": as_data(dX)}, or
    {"row_loop": what the function did} when it read the guarded batch one row at a time.
    """

    def run(dOut: Any, X: Any, gamma: Any, eps: float, guard: bool = False) -> Data:
        d, x, g = (np.array(a, dtype=float) for a in (dOut, X, gamma))
        if guard:
            d, x = d.view(RowGuard), x.view(RowGuard)
        try:
            value = batchnorm_backward_compact(d, x, g, eps)
        except RowLoopError as error:
            return {"row_loop": str(error)}
        return {"value": as_data(value)}

    return run
