r"""The scalar `Value` of the autodiff engine, its graph order and the backward pass.

See `bpcourse.autodiff` for the whole story (gradients accumulate, `requires_grad`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

__all__ = ["Value", "backward", "numerical_grad", "topological_order"]


def _to_float(x: object, what: str) -> float:
    """`x` as a float, or a TypeError naming its type (strings, booleans, complex, ...)."""
    if type(x) is float:  # the common case, checked first because it is much faster
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):  # NumPy scalars are Real too
        return float(x)
    raise TypeError(
        f"{what} needs a real number (int or float), got {type(x).__name__}: {x!r}"
        + (" (booleans are not numbers here)" if isinstance(x, bool) else "")
    )


def _as_value(x: object, op: str) -> Value:
    """A Value as is, a number wrapped as a constant, anything else a TypeError."""
    if isinstance(x, Value):
        return x
    return Value(_to_float(x, f"the operation {op!r} with a Value"), requires_grad=False)


def _no_backward() -> None:
    """A leaf has no parents to pass its gradient on to."""


def _power_rule(x: float, n: float) -> float:
    r"""$\frac{d}{dx} x^n = n x^{n-1}$, with the two cases Python's `**` cannot do at $x=0$."""
    if n == 0:
        return 0.0  # x**0 is the constant 1
    if x == 0 and n < 1:
        return math.inf  # e.g. sqrt(x) has a vertical tangent at 0
    return n * x ** (n - 1)


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back to it.

    Attributes:
        data: the number itself (a float).
        grad: d(output)/d(this Value) after `output.backward()`; starts at 0.0. On leaves it
            **accumulates** over backward calls (see the module docstring).
        parents: the Values this one was computed from (empty for a leaf).
        op: name of the operation that made it ('+', '*', 'tanh', '**2', ...; '' for a leaf).
        label: an optional name, shown by `bpcourse.plots.graph.draw_graph`.
        requires_grad: whether this Value is, or depends on, a leaf with requires_grad=True.
    """

    __slots__ = ("_backward", "data", "grad", "label", "op", "parents", "requires_grad")
    # NumPy scalars on the left (np.float64(2) * Value(3)) then defer to our reflected
    # operators instead of turning the Value into an array.
    __array_ufunc__ = None

    def __init__(self, data: float, label: str = "", *, requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            raise TypeError("Value() needs a number, got a Value: use that Value itself")
        self.data = _to_float(data, "Value()")
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self.op = ""
        self.label = label
        self.requires_grad = requires_grad
        self._backward: Callable[[], None] = _no_backward

    @staticmethod
    def _result(data: float, parents: tuple[Value, ...], op: str) -> Value:
        """A new node computed by `op` from `parents`."""
        out = Value(data, requires_grad=any(p.requires_grad for p in parents))
        out.parents = parents
        out.op = op
        return out

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f}{label})"

    # --- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other, "+")
        out = Value._result(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        other = _as_value(other, "-")
        out = Value._result(self.data - other.data, (self, other), "-")

        def _backward() -> None:
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other, "*")
        out = Value._result(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        other = _as_value(other, "/")
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / {other.data!r}")
        out = Value._result(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            # d(a/b)/da = 1/b,  d(a/b)/db = -a/b**2
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data**2

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value._result(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Value | float) -> Value:
        """`x ** n` for a number n, or `x ** y` for a Value y (then x must be positive)."""
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        n = _to_float(exponent, "the exponent of a Value")
        if self.data == 0 and n < 0:
            raise ZeroDivisionError(f"0.0 cannot be raised to a negative power ({n!r})")
        if self.data < 0 and not n.is_integer():
            raise ValueError(
                f"a negative number ({self.data!r}) to a fractional power ({n!r}) is not real"
            )
        out = Value._result(self.data**n, (self,), f"**{n:g}")

        def _backward() -> None:
            self.grad += _power_rule(self.data, n) * out.grad

        out._backward = _backward
        return out

    def _pow_value(self, exponent: Value) -> Value:
        if self.data <= 0:
            raise ValueError(
                f"Value ** Value needs a positive base, got {self.data!r} (the gradient with "
                "respect to the exponent is x**y * log(x)); for a fixed exponent use a plain "
                "number, e.g. x ** 2"
            )
        out = Value._result(self.data**exponent.data, (self, exponent), "**")

        def _backward() -> None:
            # d(x^y)/dx = y x^(y-1),  d(x^y)/dy = x^y log(x)
            self.grad += exponent.data * self.data ** (exponent.data - 1) * out.grad
            exponent.grad += out.data * math.log(self.data) * out.grad

        out._backward = _backward
        return out

    # number <op> Value: the number becomes a constant leaf on the left.
    def __radd__(self, other: float) -> Value:
        return _as_value(other, "+") + self

    def __rsub__(self, other: float) -> Value:
        return _as_value(other, "-") - self

    def __rmul__(self, other: float) -> Value:
        return _as_value(other, "*") * self

    def __rtruediv__(self, other: float) -> Value:
        return _as_value(other, "/") / self

    def __rpow__(self, other: float) -> Value:
        return _as_value(other, "**") ** self

    # --- functions ----------------------------------------------------------------------

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) is too large for a float") from None
        out = Value._result(e, (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad  # (e^x)' = e^x

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm; a ValueError for zero or negative values."""
        if self.data <= 0:
            raise ValueError(f"log is only defined for positive numbers, got {self.data!r}")
        out = Value._result(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value._result(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            t = out.data  # tanh' = 1 - tanh**2, from the stored output
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        r"""$\sigma(x) = 1/(1+e^{-x})$, computed from $e^{-|x|}$ so it never overflows."""
        e = math.exp(-abs(self.data))
        s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
        out = Value._result(s, (self,), "sigmoid")

        def _backward() -> None:
            a = out.data  # sigma' = sigma (1 - sigma), from the stored output
            self.grad += a * (1 - a) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(0, x). Its gradient at exactly x = 0 is taken to be 0."""
        out = Value._result(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    # --- gradients ----------------------------------------------------------------------

    def backward(self) -> None:
        """Fill in d(self)/d(node) as `node.grad` for every node of this Value's graph.

        Leaf gradients **accumulate**: they are added to, never reset, so a second call
        doubles them. Call `zero_grad()` first when you want fresh gradients. Intermediate
        nodes get the gradient of this call only. Raises a RuntimeError if this Value does
        not depend on any Value with requires_grad=True.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() on {self!r}, which does not depend on any Value with "
                "requires_grad=True: there is nothing to differentiate (it was computed "
                "from plain numbers and constants only)"
            )
        order = topological_order(self)
        for node in order:
            if node.parents:  # intermediate nodes start from 0 on every pass
                node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(order):  # every node before its parents
            node._backward()

    def zero_grad(self) -> None:
        """Set the grad of every node in this Value's graph, leaves included, to 0."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph once, each after all of its parents; root comes last.

    An iterative depth-first search (no recursion), so graphs of any depth work.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)  # all of node's parents are already in `order`
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))  # come back to node after its parents
            for parent in node.parents:
                if parent not in visited:
                    stack.append((parent, False))
    return order


def backward(output: Value) -> None:
    """`output.backward()`, refusing lists and arrays: gradients start from one scalar."""
    if not isinstance(output, Value):
        if isinstance(output, (str, bytes)) or not hasattr(output, "__len__"):
            raise TypeError(f"backward needs a single scalar Value, got {type(output).__name__}")
        raise TypeError(
            f"backward needs a single scalar Value, got a {type(output).__name__} of "
            f"{len(output)} items; sum the outputs first, e.g. backward(sum(outputs))"
        )
    output.backward()


def numerical_grad(
    f: Callable[..., Value | float], values: Sequence[Value | float], h: float = 1e-6
) -> list[float]:
    r"""Central-difference estimate of the gradient of `f` at `values`.

    `f` is called with one fresh Value per entry of `values` (so the same `f` works with
    `.backward()`), and may return a Value or a number. Only the data of `values` is used:
    $\partial f/\partial x_i \approx (f(\dots, x_i + h, \dots) - f(\dots, x_i - h, \dots))/2h$.
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    point = [v.data if isinstance(v, Value) else _to_float(v, "numerical_grad") for v in values]

    def at(xs: list[float]) -> float:
        y = f(*(Value(x) for x in xs))
        return y.data if isinstance(y, Value) else float(y)

    grads = []
    for i in range(len(point)):
        up, down = point.copy(), point.copy()
        up[i] += h
        down[i] -= h
        grads.append((at(up) - at(down)) / (2 * h))
    return grads
