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

The package, one concept per module (everything is importable from `bpcourse.autodiff`):

- `engine`: `Value`, `topological_order`, `backward`, `numerical_grad`;
- `counting`: `count_operations`, `OperationCount`;
- `nn`: `Module`, `Neuron`, `ScalarLayer`, `ScalarMLP`, `mse_loss`, `train_scalar_mlp`.
"""

from bpcourse.autodiff.counting import OperationCount, count_operations
from bpcourse.autodiff.engine import Value, backward, numerical_grad, topological_order
from bpcourse.autodiff.nn import (
    Module,
    Neuron,
    ScalarLayer,
    ScalarMLP,
    mse_loss,
    train_scalar_mlp,
)

__all__ = [
    "Module",
    "Neuron",
    "OperationCount",
    "ScalarLayer",
    "ScalarMLP",
    "Value",
    "backward",
    "count_operations",
    "mse_loss",
    "numerical_grad",
    "topological_order",
    "train_scalar_mlp",
]
