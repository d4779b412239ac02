"""The scalar autodiff engine of lesson 02: every operation's gradient, checked two ways.

Each operation is compared with SymPy (exact derivatives, evaluated at the same point) and
with central differences, at points drawn by Hypothesis. Then: values used several times,
accumulation, a 100 000-operation chain, numbers on either side, the error messages, and
the tiny ScalarMLP learning XOR.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.autodiff import (
    Neuron,
    ScalarLayer,
    ScalarMLP,
    Value,
    backward,
    mse_loss,
    numerical_grad,
    topological_order,
    train_scalar_mlp,
)

# --- every operation against SymPy and central differences ---------------------------------

ANY = st.floats(-3, 3)
POSITIVE = st.floats(0.1, 5)
NONZERO = st.floats(0.2, 3) | st.floats(-3, -0.2)
AWAY_FROM_KINK = st.floats(0.01, 3) | st.floats(-3, -0.01)  # relu at 0 has no derivative


@dataclass(frozen=True)
class Case:
    name: str
    f: Callable[..., Value]  # a function of Values
    domains: tuple[st.SearchStrategy[float], ...]  # where each argument is drawn from
    # The same function of SymPy symbols; None when `f` uses operators only, which work on
    # symbols as they are.
    f_sympy: Callable[..., Any] | None = None


CASES = [
    Case("add", lambda x, y: x + y, (ANY, ANY)),
    Case("sub", lambda x, y: x - y, (ANY, ANY)),
    Case("mul", lambda x, y: x * y, (ANY, ANY)),
    Case("div", lambda x, y: x / y, (ANY, NONZERO)),
    Case("neg", lambda x: -x, (ANY,)),
    Case("pow 2", lambda x: x**2, (ANY,)),
    Case("pow 3", lambda x: x**3, (ANY,)),
    Case("pow -1", lambda x: x**-1, (NONZERO,)),
    Case("pow 0.5", lambda x: x**0.5, (POSITIVE,)),
    Case("pow -2.5", lambda x: x**-2.5, (POSITIVE,)),
    Case("pow value", lambda x, y: x**y, (POSITIVE, ANY)),
    Case("exp", lambda x: x.exp(), (ANY,), sp.exp),
    Case("log", lambda x: x.log(), (POSITIVE,), sp.log),
    Case("tanh", lambda x: x.tanh(), (ANY,), sp.tanh),
    Case("sigmoid", lambda x: x.sigmoid(), (ANY,), lambda x: 1 / (1 + sp.exp(-x))),
    Case(
        "relu", lambda x: x.relu(), (AWAY_FROM_KINK,), lambda x: sp.Piecewise((x, x > 0), (0, True))
    ),
    # a Python number on either side
    Case("x + 3", lambda x: x + 3, (ANY,)),
    Case("3 + x", lambda x: 3 + x, (ANY,)),
    Case("x - 3", lambda x: x - 3, (ANY,)),
    Case("3 - x", lambda x: 3 - x, (ANY,)),
    Case("x * 3", lambda x: x * 3, (ANY,)),
    Case("3 * x", lambda x: 3 * x, (ANY,)),
    Case("x / 3", lambda x: x / 3, (ANY,)),
    Case("3 / x", lambda x: 3 / x, (NONZERO,)),
    Case("2 ** x", lambda x: 2**x, (ANY,)),
    Case("0.5 ** x", lambda x: 0.5**x, (ANY,), lambda x: sp.Rational(1, 2) ** x),
    # compositions, with a value used several times
    Case(
        "x*x + x*y + exp(x)",
        lambda x, y: x * x + x * y + x.exp(),
        (ANY, ANY),
        lambda x, y: x * x + x * y + sp.exp(x),
    ),
    Case(
        "neuron",
        lambda x, w, b: (w * x + b).tanh() * (x - w).sigmoid() / (1 + x**2).log(),
        (NONZERO, ANY, ANY),
        lambda x, w, b: sp.tanh(w * x + b) / (1 + sp.exp(w - x)) / sp.log(1 + x**2),
    ),
]


@cache
def sympy_functions(case: Case) -> tuple[Callable[..., float], list[Callable[..., float]]]:
    """The case's function and its exact partial derivatives, as plain float functions."""
    symbols = sp.symbols(f"x0:{len(case.domains)}", real=True)
    expr = (case.f_sympy or case.f)(*symbols)
    value = sp.lambdify(symbols, expr, "math")
    return value, [sp.lambdify(symbols, sp.diff(expr, s), "math") for s in symbols]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_gradient_matches_sympy_and_central_differences(case: Case, data: st.DataObject):
    point = [data.draw(domain, label=f"x{i}") for i, domain in enumerate(case.domains)]
    inputs = [Value(p) for p in point]
    out = case.f(*inputs)
    out.backward()
    grads = [x.grad for x in inputs]

    value, partials = sympy_functions(case)
    assert out.data == pytest.approx(value(*point), rel=1e-12, abs=1e-12)
    assert grads == pytest.approx([d(*point) for d in partials], rel=1e-9, abs=1e-12)
    assert grads == pytest.approx(numerical_grad(case.f, point), rel=1e-6, abs=1e-6)


def test_each_operation_records_its_name_and_parents():
    x, y = Value(2.0), Value(3.0)
    ops = {
        "+": x + y,
        "-": x - y,
        "*": x * y,
        "/": x / y,
        "neg": -x,
        "**2": x**2,
        "**-0.5": x**-0.5,
        "**": x**y,
        "exp": x.exp(),
        "log": x.log(),
        "tanh": x.tanh(),
        "sigmoid": x.sigmoid(),
        "relu": x.relu(),
    }
    for op, out in ops.items():
        assert out.op == op
        assert out.parents in ((x, y), (x,))
    assert x.op == "" and x.parents == ()


# --- values used several times, accumulation ------------------------------------------------


def test_a_value_used_several_times_gets_the_sum_of_its_contributions():
    x, y = Value(0.7, label="x"), Value(-1.3, label="y")
    f = x * x + x * y + x.exp()
    f.backward()
    assert x.grad == pytest.approx(2 * 0.7 + -1.3 + math.exp(0.7), rel=1e-14)
    assert y.grad == pytest.approx(0.7, rel=1e-14)
    same_node_twice = x + x
    x.grad = 0.0
    same_node_twice.backward()
    assert x.grad == 2.0


def test_backward_twice_doubles_leaf_grads_and_zero_grad_resets_them():
    x, y = Value(0.5), Value(2.0)
    h = (x * y).tanh()  # an intermediate node
    f = h * y
    f.backward()
    first = (x.grad, y.grad, h.grad)
    assert first[0] == pytest.approx(y.data**2 * (1 - math.tanh(1.0) ** 2))

    f.backward()
    assert (x.grad, y.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)
    assert h.grad == first[2], "an intermediate grad holds the latest pass only"
    assert f.grad == 1.0

    f.zero_grad()
    assert [node.grad for node in topological_order(f)] == [0.0] * 5
    f.backward()
    assert (x.grad, y.grad, h.grad) == first


def test_intermediate_grads_are_recomputed_when_a_node_is_shared_by_two_outputs():
    x = Value(1.5)
    h = x.tanh()
    (h * 2).backward()
    (h * 3).backward()
    assert h.grad == 3.0
    assert x.grad == pytest.approx(5 * (1 - math.tanh(1.5) ** 2), rel=1e-14)


def test_backward_from_a_leaf_accumulates_one():
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_a_chain_of_100_000_operations_needs_no_recursion():
    x = Value(0.5)
    y = x
    for i in range(100_000):
        y = y * 1.0001 if i % 2 else y + x  # alternately scale and add x
    y.backward()
    # y_{k+1} = (y_k + x) * c, so dy_{k+1}/dx = (dy_k/dx + 1) * c, starting from dy_0/dx = 1
    expected = 1.0
    for _ in range(50_000):
        expected = (expected + 1) * 1.0001
    assert x.grad == pytest.approx(expected, rel=1e-9)
    assert len(topological_order(y)) == 1 + 100_000 + 50_000  # x, results, constants


def test_topological_order_puts_parents_first_and_visits_each_node_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5
    assert order[-1] is e
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[p] < position[node] for p in node.parents)


# --- numbers on either side, including NumPy scalars ----------------------------------------


@pytest.mark.parametrize("number", [2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_numbers_mix_with_values_on_either_side(number: object):
    x = Value(3.0)
    results = {
        "x + n": (x + number, 5.0, 1.0),
        "n + x": (number + x, 5.0, 1.0),
        "x - n": (x - number, 1.0, 1.0),
        "n - x": (number - x, -1.0, -1.0),
        "x * n": (x * number, 6.0, 2.0),
        "n * x": (number * x, 6.0, 2.0),
        "x / n": (x / number, 1.5, 0.5),
        "n / x": (number / x, 2 / 3, -2 / 9),
        "x ** n": (x**number, 9.0, 6.0),
        "n ** x": (number**x, 8.0, 8 * math.log(2)),
    }
    for name, (out, data, grad) in results.items():
        assert isinstance(out, Value), name
        assert type(out.data) is float, name
        x.grad = 0.0
        out.backward()
        assert out.data == pytest.approx(data, rel=1e-15), name
        assert x.grad == pytest.approx(grad, rel=1e-15), name


def test_wrapped_numbers_are_constants():
    x = Value(1.0)
    out = 3 * x + 1
    constants = [n for n in topological_order(out) if n is not x and not n.parents]
    assert sorted(c.data for c in constants) == [1.0, 3.0]
    assert [c.requires_grad for c in constants] == [False, False]
    assert x.requires_grad and out.requires_grad
    assert not (Value(2.0, requires_grad=False) * 3).requires_grad


def test_numerical_grad_accepts_numbers_and_values_and_functions_returning_floats():
    grads = numerical_grad(lambda a, b: a.data**2 * b.data, [Value(3.0), 2])
    assert grads == pytest.approx([12.0, 9.0], rel=1e-8)


# --- the special cases of the functions -----------------------------------------------------


def test_sigmoid_and_tanh_are_stable_for_huge_inputs():
    for big, s, t in ((1e4, 1.0, 1.0), (-1e4, 0.0, -1.0)):
        x = Value(big)
        out = x.sigmoid() + x.tanh()
        out.backward()
        assert x.sigmoid().data == s
        assert x.tanh().data == t
        assert x.grad == 0.0
    assert Value(0.0).sigmoid().data == 0.5


def test_relu_gradient_is_zero_at_zero():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)
    z = Value(1e-300)
    z.relu().backward()
    assert z.grad == 1.0


def test_power_rule_edge_cases():
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # x**0 is the constant 1, even at 0
    x.grad = 0.0
    (x**0.5).backward()
    assert x.grad == math.inf  # vertical tangent of sqrt at 0
    y = Value(-2.0)
    (y**3).backward()
    assert y.grad == 12.0  # integer powers of negative numbers are fine


def test_repr():
    assert repr(Value(2.0)) == "Value(data=2.0000, grad=0.0000)"
    x = Value(-1.23456, label="x")
    x.grad = 0.5
    assert repr(x) == "Value(data=-1.2346, grad=0.5000, label='x')"


# --- bad input: clear errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "match"),
    [("x", "got str: 'x'"), (None, "got NoneType"), (1j, "got complex"), (True, "booleans")],
)
def test_value_needs_a_real_number(bad: object, match: str):
    with pytest.raises(TypeError, match=match):
        Value(bad)


def test_value_of_a_value_is_refused():
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))


def test_a_non_numeric_operand_names_its_type():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"'\+' with a Value needs a real number .* got str: 'a'"):
        x + "a"
    with pytest.raises(TypeError, match=r"'\+' .* got str"):
        "a" + x
    with pytest.raises(TypeError, match=r"'\*' .* got list"):
        x * [1.0]
    with pytest.raises(TypeError, match=r"got ndarray"):
        np.array([1.0, 2.0]) - x
    with pytest.raises(TypeError, match=r"exponent of a Value needs a real number .* got str"):
        x ** "2"


def test_log_of_a_non_positive_value_names_the_value():
    with pytest.raises(ValueError, match=r"log is only defined for positive numbers, got 0\.0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"got -2\.5"):
        Value(-2.5).log()


def test_division_by_zero_is_a_clear_error():
    with pytest.raises(ZeroDivisionError, match=r"division by zero: 1\.0 / 0\.0"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match=r"division by zero: 2\.0 / 0\.0"):
        2 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"division by zero: 1\.0 / 0\.0"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1


def test_powers_that_are_not_real_are_refused():
    with pytest.raises(ValueError, match=r"negative number \(-8\.0\) to a fractional power"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match=r"positive base, got -2\.0"):
        Value(-2.0) ** Value(2.0)
    with pytest.raises(ValueError, match=r"positive base, got 0\.0"):
        0 ** Value(2.0)


def test_exp_overflow_is_a_clear_error():
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\) is too large"):
        Value(1000.0).exp()


def test_backward_from_a_constant_is_refused():
    with pytest.raises(RuntimeError, match="does not depend on any Value with requires_grad"):
        Value(2.0, requires_grad=False).backward()
    c = Value(2.0, requires_grad=False) * 3 + 1
    with pytest.raises(RuntimeError, match="nothing to differentiate"):
        c.backward()


@pytest.mark.parametrize(
    "outputs", [[Value(1.0), Value(2.0)], (Value(1.0),), np.array([Value(1.0), Value(2.0)])]
)
def test_backward_needs_a_single_scalar(outputs: object):
    with pytest.raises(TypeError, match=r"single scalar Value.*sum the outputs first"):
        backward(outputs)


def test_backward_function_sums_nothing_itself_but_works_on_a_sum():
    with pytest.raises(TypeError, match="single scalar Value, got float"):
        backward(1.0)
    a, b = Value(1.0), Value(2.0)
    backward(sum([a * a, b * a]))
    assert (a.grad, b.grad) == (4.0, 1.0)


def test_numerical_grad_needs_a_positive_step():
    with pytest.raises(ValueError, match="step h must be positive"):
        numerical_grad(lambda x: x, [1.0], h=0.0)


# --- the tiny neural network ----------------------------------------------------------------

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [-1.0, 1.0, 1.0, -1.0]


def test_mlp_shapes_parameters_and_zero_grad():
    model = ScalarMLP(2, [8, 1], seed=0)
    params = model.parameters()
    assert len(params) == (2 * 8 + 8) + (8 * 1 + 1)
    assert len({id(p) for p in params}) == len(params)
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0 for p in params)
    model.zero_grad()
    assert all(p.grad == 0 for p in params)
    assert isinstance(ScalarMLP(2, [3, 2])([1.0, 2.0]), list)
    assert len(ScalarLayer(3, 4)([1.0, 2.0, 3.0])) == 4


def test_models_are_deterministic_given_a_seed():
    def weights(seed: int) -> list[float]:
        return [p.data for p in ScalarMLP(2, [4, 1], seed=seed).parameters()]

    assert weights(1) == weights(1)
    assert weights(1) != weights(2)
    n1, n2 = Neuron(3, rng=random.Random(5)), Neuron(3, rng=random.Random(5))
    assert [p.data for p in n1.parameters()] == [p.data for p in n2.parameters()]


def test_neuron_checks_its_inputs_and_activation():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        Neuron(2, activation="softmax")
    relu = Neuron(2, activation="relu")
    relu.w[0].data, relu.w[1].data = 1.0, 1.0
    assert relu([-1.0, -2.0]).data == 0.0


def test_mlp_learns_xor():
    model = ScalarMLP(2, [8, 1], seed=0)
    history = train_scalar_mlp(model, XOR_X, XOR_Y, steps=100, learning_rate=0.2)
    assert len(history) == 100
    assert history[0] > 1.0
    assert history[-1] < 0.01 * history[0]
    predictions = [model(x) for x in XOR_X]
    assert [math.copysign(1.0, p.data) for p in predictions if isinstance(p, Value)] == XOR_Y
    # the same seed trains to the same numbers
    again = train_scalar_mlp(
        ScalarMLP(2, [8, 1], seed=0), XOR_X, XOR_Y, steps=10, learning_rate=0.2
    )
    assert again == history[:10]


def test_mse_loss_and_train_checks():
    loss = mse_loss([Value(1.0), Value(3.0)], [0.0, 1.0])
    assert loss.data == 2.5
    with pytest.raises(ValueError, match="as many predictions as targets"):
        mse_loss([Value(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match="single output"):
        train_scalar_mlp(ScalarMLP(2, [2]), XOR_X, XOR_Y, steps=1)


# --- counting the work of the backward pass ------------------------------------------------

# Arithmetic in each operation's _backward, counted by reading its code: `a.grad += b * c`
# is two operations (a multiply and an add), a comparison or a math.log call is one.
BACKWARD_OPERATIONS = {
    "+": (lambda x, y: x + y, 2),
    "-": (lambda x, y: x - y, 2),
    "*": (lambda x, y: x * y, 4),
    "/": (lambda x, y: x / y, 6),  # grad/b, +=;  grad*a/b**2 (3), -=
    "neg": (lambda x, y: -x, 1),
    "**3": (lambda x, y: x**3, 5),  # the test x == 0, n * x**(n-1) (2), * grad, +=
    "**": (lambda x, y: x**y, 9),  # y*x**(y-1)*grad (4), +=;  out*log(x)*grad (3), +=
    "exp": (lambda x, y: x.exp(), 2),
    "log": (lambda x, y: x.log(), 2),
    "tanh": (lambda x, y: x.tanh(), 4),  # (1 - t*t) * grad, +=
    "sigmoid": (lambda x, y: x.sigmoid(), 4),  # a * (1 - a) * grad, +=
    "relu": (lambda x, y: x.relu(), 3),  # the comparison, * grad, +=
}


@pytest.mark.parametrize("op", list(BACKWARD_OPERATIONS))
def test_count_operations_counts_what_each_backward_does(op: str):
    from bpcourse.autodiff import count_operations

    make, expected = BACKWARD_OPERATIONS[op]
    out = make(Value(1.7), Value(0.6))
    assert out.op == op
    count = count_operations(out)
    assert count.nodes == 1
    assert count.backward == expected
    assert count.forward == (5 if op == "sigmoid" else 1)


def test_count_operations_adds_over_the_graph_and_leaves_it_unchanged():
    from bpcourse.autodiff import count_operations

    x, y = Value(1.0), Value(0.5)
    f = (x * y + x.exp()) * y.tanh()  # *, exp, +, tanh, *: 4 + 2 + 2 + 4 + 4
    f.backward()
    before = [(n.data, n.grad) for n in topological_order(f)]
    count = count_operations(f)
    assert (count.nodes, count.forward, count.backward) == (5, 5, 16)
    assert count.ratio == pytest.approx(16 / 5)
    assert [(n.data, n.grad) for n in topological_order(f)] == before
    assert all(type(n.data) is float and type(n.grad) is float for n in topological_order(f))
    f.zero_grad()
    f.backward()  # the engine still works after a count, with the same gradients
    assert [(n.data, n.grad) for n in topological_order(f)] == before


def test_count_operations_on_a_network_gives_a_small_constant_ratio():
    from bpcourse.autodiff import count_operations

    ratios = []
    for hidden in (1, 4, 16):
        model = ScalarMLP(2, [hidden, 1], seed=0)
        loss = mse_loss([model(p) for p in [[0, 0], [0, 1], [1, 0], [1, 1]]], [0, 1, 1, 0])
        count = count_operations(loss)
        assert count.forward == count.nodes  # no sigmoid in this network
        ratios.append(count.ratio)
    # mostly multiply (1 forward, 4 backward) and add (1, 2) nodes: the ratio is between 2 and 4
    assert all(2 < r < 4 for r in ratios), ratios
    assert max(ratios) - min(ratios) < 0.5  # ...and does not grow with the network


def test_count_operations_of_a_leaf_is_zero():
    from bpcourse.autodiff import count_operations

    count = count_operations(Value(3.0))
    assert (count.nodes, count.forward, count.backward) == (0, 0, 0)
    assert math.isnan(count.ratio)
