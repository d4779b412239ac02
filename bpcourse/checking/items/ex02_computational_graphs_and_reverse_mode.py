"""Graded items of exercises/02_computational_graphs_and_reverse_mode.ipynb.

- `value_sin_backward`: a new operation for the scalar autodiff engine, `sin(x)` on a
  `bpcourse.autodiff.Value`, whose `_backward` the learner writes. It is checked on a graph
  that uses x through two sin nodes, so `=` where `+=` belongs shows; the right gradient
  comes from central differences of the same function in plain floats.
- `reverse_mode_passes`: a conceptual number, stored as a salted digest (see
  `bpcourse.checking.answers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpcourse.autodiff import Value
from bpcourse.checking.answers import check_answer
from bpcourse.checking.compare import compare_number, describe
from bpcourse.checking.diagnose import Mistake, diagnose_gradient, last_contribution_only
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, call_safely

NOTEBOOK = "02_computational_graphs_and_reverse_mode"
X0, Y0, H = 0.7, -1.3, 1e-6


def _slope(f: Callable[[float], float], x: float = X0) -> float:
    """df/dx at x by central differences."""
    return (f(x + H) - f(x - H)) / (2 * H)


@item(
    "value_sin_backward",
    2,
    NOTEBOOK,
    checked_by="x.grad agrees with central differences of f(x, y) = 3 sin x + y sin x",
)
def check_value_sin_backward(sin: Callable[[Value], Value]) -> Problems:
    x = Value(X0, label="x")
    out = call_safely(sin, x, name="sin")
    if not isinstance(out, Value):
        raise BadAnswer(f"sin(x) should return a Value, got {describe(out)}")
    problems = compare_number(math.sin(X0), out.data, f"sin(Value({X0})).data")
    if x not in out.parents:
        problems.append("sin(x).parents does not hold x: backward() cannot reach x from out")
    if problems:
        return problems

    x, y = Value(X0, label="x"), Value(Y0, label="y")
    f = call_safely(lambda: 3 * sin(x) + sin(x) * y, name="sin")
    call_safely(f.backward, name="your _backward")
    expected = _slope(lambda v: 3 * math.sin(v) + Y0 * math.sin(v))
    problems = compare_number(expected, x.grad, "x.grad for f = 3 sin(x) + y sin(x)")
    if not problems:
        return []
    if x.grad == 0:
        return [*problems, "x.grad stayed 0: your _backward never adds anything to x.grad"]
    local = _slope(math.sin)
    mistakes = [
        last_contribution_only(_slope(lambda v: 3 * math.sin(v)), "the first sin node (3 sin x)"),
        last_contribution_only(_slope(lambda v: Y0 * math.sin(v)), "the second sin node (y sin x)"),
        Mistake(
            "{name} is the sum of the local derivatives cos(x) without out.grad: the chain rule "
            "multiplies the local derivative by the gradient arriving from above, out.grad",
            2 * local,
        ),
        Mistake(
            "{name} is one local derivative cos(x): multiply by out.grad, and add (+=) into "
            "x.grad rather than assign",
            local,
        ),
    ]
    return problems + diagnose_gradient(expected, x.grad, "x.grad", mistakes=mistakes)


REVERSE_MODE_PASSES = "e3997a9ca605c83917176ab0154d23afd6a4c79062d665a6f62061a0a938fe68"


@item(
    "reverse_mode_passes",
    1,
    NOTEBOOK,
    checked_by="matches the stored (hashed) answer",
)
def check_reverse_mode_passes(answer: Callable[[], float]) -> Problems:
    """How many backward passes give dL/dw for all of a million weights w?"""
    value = call_safely(answer, name="your answer")
    return check_answer("reverse_mode_passes", value, REVERSE_MODE_PASSES, "your answer")
