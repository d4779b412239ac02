r"""A scalar reverse-mode automatic differentiation engine (lesson 02), micrograd style.

Every arithmetic operation on a `Value` makes a new `Value` that remembers its inputs
(`parents`), the operation (`op`, e.g. `'*'` or `'tanh'`) and a small closure, `_backward`,
that knows the operation's local derivatives. `out.backward()` visits the graph from `out`
back to the inputs (reverse topological order) and applies the chain rule at every node:
$\partial out/\partial p \mathrel{+}= \partial out/\partial v \cdot \partial v/\partial p$
for each parent $p$ of each node $v$.

    x = Value(2.0, label="x")
    y = Value(-3.0, label="y")
    f = x * y + x.tanh()
    f.backward()
    x.grad  # df/dx = y + 1 - tanh(x)**2

Gradients accumulate
--------------------
`backward()` *adds* into the `.grad` of the leaves (the Values you create yourself, such as
weights); it never resets them. This is what gives a Value used several times the sum of
its contributions, and it also means that **calling `backward()` twice doubles every leaf
gradient**. Reset them before each new backward pass with `f.zero_grad()` (every node of
f's graph) or `model.zero_grad()` (a model's parameters).
Intermediate nodes are different: their `.grad` is recomputed from scratch by every call,
so it holds the gradient of the most recent backward pass.

requires_grad
-------------
A Value you create has `requires_grad=True` unless you say otherwise. Plain numbers mixed
into an expression (the `3` in `x * 3`) become constant leaves with `requires_grad=False`,
and a result requires a gradient when any of its parents does. `backward()` refuses to
start from a Value that depends on no `requires_grad` leaf: there is nothing to learn.
(Constants still get a `.grad`, the derivative with respect to them, but are never trained.)

Counting the work
-----------------
`count_operations(root)` says how many arithmetic operations the forward pass of root's
graph did and how many its backward pass does. The backward count is measured, not assumed:
it replays every node's real `_backward` on numbers that count each operation performed on
them, then restores the graph. Nothing is counted, and nothing costs, unless you call it.

Nothing here needs NumPy, SymPy or matplotlib; the drawing is in `bpcourse.plots.graph`.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "Layer",
    "Module",
    "Neuron",
    "OperationCount",
    "ScalarMLP",
    "Value",
    "backward",
    "count_operations",
    "mse_loss",
    "numerical_grad",
    "topological_order",
    "train_scalar_mlp",
]


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


# --- counting the work of a forward and a backward pass ------------------------------------

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


# --- a tiny neural network library on top of Value ---------------------------------------

_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v,
}


class Module:
    """Anything with trainable parameters."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0; needed before each backward (grads accumulate)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w · x + b), with weights drawn uniformly from [-1, 1] and b = 0."""

    def __init__(
        self, n_inputs: int, activation: str = "tanh", rng: random.Random | None = None
    ) -> None:
        if n_inputs < 1:
            raise ValueError(f"a neuron needs at least one input, got n_inputs={n_inputs}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of {[*_ACTIVATIONS]}")
        rng = rng if rng is not None else random.Random(0)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return _ACTIVATIONS[self.activation](z)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`n_outputs` neurons that all see the same inputs."""

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str = "tanh",
        rng: random.Random | None = None,
    ) -> None:
        rng = rng if rng is not None else random.Random(0)
        self.neurons = [Neuron(n_inputs, activation, rng) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(repr(n) for n in self.neurons)}]"


class ScalarMLP(Module):
    """A multilayer perceptron: hidden layers use `activation`, the last one is linear.

    `ScalarMLP(2, [8, 1])` maps 2 inputs through 8 tanh units to 1 output. The same `seed` gives
    the same initial weights. Calling it returns a Value when the last layer has a single
    neuron, a list of Values otherwise.
    """

    def __init__(
        self,
        n_inputs: int,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        seed: int = 0,
    ) -> None:
        if not layer_sizes:
            raise ValueError("a ScalarMLP needs at least one layer size, e.g. ScalarMLP(2, [8, 1])")
        rng = random.Random(seed)
        self.n_inputs, self.layer_sizes, self.activation = n_inputs, list(layer_sizes), activation
        sizes = [n_inputs, *layer_sizes]
        last = len(layer_sizes) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], "linear" if i == last else activation, rng)
            for i in range(len(layer_sizes))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: list[Value] = self.layers[0](x)
        for layer in self.layers[1:]:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return (
            f"ScalarMLP({self.n_inputs}, {self.layer_sizes}, activation={self.activation!r}): "
            f"{len(self.parameters())} parameters"
        )


def mse_loss(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean of (prediction - target)**2, without the 1/2 of `losses.half_squared_error`.

    So its gradient with respect to a prediction is 2 (prediction - target) / N, twice the
    gradient of the halved loss that lessons 01 and 03 onwards use.
    """
    if len(predictions) != len(targets) or not predictions:
        raise ValueError(
            f"need as many predictions as targets (and at least one), "
            f"got {len(predictions)} and {len(targets)}"
        )
    zero = Value(0.0, requires_grad=False)
    total = sum(((p - t) ** 2 for p, t in zip(predictions, targets, strict=True)), zero)
    return total / len(predictions)


def train_scalar_mlp(
    model: ScalarMLP,
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    steps: int = 200,
    learning_rate: float = 0.1,
) -> list[float]:
    """Fit a one-output `model` by full-batch gradient descent on the mean squared error.

    Returns the loss at every step (measured before that step's update). Each step is the
    whole training loop of the lesson:

        loss = mse_loss([model(x) for x in inputs], targets)   # forward
        model.zero_grad()                                       # grads accumulate!
        loss.backward()                                         # backward
        for p in model.parameters():                            # update
            p.data -= learning_rate * p.grad
    """
    history = []
    for _ in range(steps):
        predictions = [model(x) for x in inputs]
        if not all(isinstance(p, Value) for p in predictions):
            raise ValueError("train_scalar_mlp needs a model with a single output")
        loss = mse_loss([p for p in predictions if isinstance(p, Value)], targets)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append(loss.data)
    return history
