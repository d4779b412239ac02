"""Counting the work of a forward and a backward pass over a `Value` graph.

`count_operations(root)` says how many arithmetic operations the forward pass of root's
graph did and how many its backward pass does. The backward count is measured, not assumed:
it replays every node's real `_backward` on numbers that count each operation performed on
them, then restores the graph. Nothing is counted, and nothing costs, unless you call it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bpcourse.autodiff.engine import Value, topological_order

__all__ = ["FORWARD_OPERATIONS", "OperationCount", "count_operations"]


# Arithmetic operations in the forward computation of one node, read off the code above:
# one for each node, except the sigmoid's abs, negation, exp, addition and division.
FORWARD_OPERATIONS = {"sigmoid": 5}


class _Counted:
    """A number that adds one to `tally[0]` for every arithmetic operation done with it."""

    __slots__ = ("tally", "x")

    def __init__(self, x: float, tally: list[int]) -> None:
        self.x, self.tally = x, tally

    def _op(self, result: float) -> _Counted:
        self.tally[0] += 1
        return _Counted(result, self.tally)

    @staticmethod
    def _x(other: object) -> float:
        return other.x if isinstance(other, _Counted) else other  # type: ignore[return-value]

    def __add__(self, o: object) -> _Counted:
        return self._op(self.x + self._x(o))

    def __radd__(self, o: object) -> _Counted:
        return self._op(self._x(o) + self.x)

    def __sub__(self, o: object) -> _Counted:
        return self._op(self.x - self._x(o))

    def __rsub__(self, o: object) -> _Counted:
        return self._op(self._x(o) - self.x)

    def __mul__(self, o: object) -> _Counted:
        return self._op(self.x * self._x(o))

    def __rmul__(self, o: object) -> _Counted:
        return self._op(self._x(o) * self.x)

    def __truediv__(self, o: object) -> _Counted:
        return self._op(self.x / self._x(o))

    def __rtruediv__(self, o: object) -> _Counted:
        return self._op(self._x(o) / self.x)

    def __pow__(self, o: object) -> _Counted:
        return self._op(self.x ** self._x(o))

    def __rpow__(self, o: object) -> _Counted:
        return self._op(self._x(o) ** self.x)

    def __neg__(self) -> _Counted:
        return self._op(-self.x)

    def __gt__(self, o: object) -> bool:
        self.tally[0] += 1
        return self.x > self._x(o)

    def __eq__(self, o: object) -> bool:
        self.tally[0] += 1
        return self.x == self._x(o)

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:  # math.log(counted) and friends: one operation
        self.tally[0] += 1
        return self.x


@dataclass(frozen=True)
class OperationCount:
    """Arithmetic operations done by one forward and one backward pass over a graph."""

    nodes: int  # operations in the graph (leaves excluded)
    forward: int
    backward: int

    @property
    def ratio(self) -> float:
        """backward / forward."""
        return self.backward / self.forward if self.forward else math.nan


def count_operations(root: Value) -> OperationCount:
    """Count the arithmetic of root's forward pass and of one backward pass from root.

    The backward count runs each node's real `_backward` once, in reverse topological order,
    on numbers that count every +, -, *, /, **, comparison and function call done with them;
    afterwards every node's data and grad are exactly as before. The forward count takes one
    operation per node (five for a sigmoid), as the code of each operation does.
    """
    order = topological_order(root)
    saved = [(node.data, node.grad) for node in order]
    tally = [0]
    try:
        for node in order:
            node.data = _Counted(node.data, tally)  # type: ignore[assignment]
            node.grad = _Counted(node.grad, tally)  # type: ignore[assignment]
        for node in reversed(order):
            node._backward()
    finally:
        for node, (data, grad) in zip(order, saved, strict=True):
            node.data, node.grad = data, grad
    operations = [node for node in order if node.parents]
    forward = sum(FORWARD_OPERATIONS.get(node.op, 1) for node in operations)
    return OperationCount(nodes=len(operations), forward=forward, backward=tally[0])
