"""Graded items of exercises/02_computational_graphs_and_reverse_mode.ipynb.

Gradients are checked against central differences of the same function in plain floats;
the known-wrong variants that name a likely mistake are run on the checker's own graphs.

- `value_sin_backward`: a new operation for the scalar autodiff engine, `sin(x)` on a
  `bpcourse.autodiff.Value`, whose `_backward` the learner writes. It is checked on a graph
  that uses x through two sin nodes, so `=` where `+=` belongs shows.
- `value_div_backward`: the `_backward` of a two-input node, `divide(a, b)`, on
  F(x, y) = tanh(x/y) + y/x (both variables feed both divisions; out.grad ≠ 1 in one).
- `value_topological_sort`: the learner's topological order, on three graphs (one with 256
  paths to the root): every node once, each after its parents.
- `value_backward_pass`: the backward pass written by the learner (reset, seed, reverse
  topological order), started from leftover grads; compared with the engine's own pass and
  central differences.
- `value_training_step`: one gradient-descent step of a `ScalarMLP`; two steps are taken so
  a missing `zero_grad()` shows; the update must be −η ∂L/∂θ by central differences.
- `reverse_mode_passes`: a conceptual number, stored as a salted digest (see
  `bpcourse.checking.answers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.autodiff import ScalarMLP, Value, mse_loss, topological_order
from bpcourse.checking.answers import check_answer
from bpcourse.checking.compare import compare_array, compare_number, describe, not_a_number
from bpcourse.checking.diagnose import LIKELY, Mistake, diagnose_gradient, last_contribution_only
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, call_safely
from bpcourse.gradcheck import numerical_gradient

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
        Mistake(
            "{name} uses sin(x) as the local derivative: the derivative of sin is cos, "
            "∂out/∂x = cos(x)",
            (3 + Y0) * math.sin(X0),
        ),
    ]
    return problems + diagnose_gradient(expected, x.grad, "x.grad", mistakes=mistakes)


# --- value_div_backward -------------------------------------------------------------------------

DIV_X, DIV_Y = 1.3, -0.8
Divide = Callable[[Value, Value], Value]


def _divide_with(slip: str) -> Divide:
    """The division node as a learner might write it, with one known slip (or none: "")."""

    def divide(a: Value, b: Value) -> Value:
        out = Value(a.data / b.data)
        out.parents, out.op = (a, b), "/"

        def _backward() -> None:
            up = 1.0 if slip == "no out.grad" else out.grad
            da, db = up / b.data, -up * a.data / b.data**2
            if slip == "sign":
                db = -db
            if slip == "no a":
                db = -up / b.data**2
            if slip == "=":
                a.grad, b.grad = da, db
            else:
                a.grad += da
                b.grad += db

        out._backward = _backward
        return out

    return divide


def _div_graph(divide: Divide) -> tuple[Value, Value, Value]:
    """F(x, y) = tanh(x / y) + y / x: x and y each feed two divisions; out.grad ≠ 1 in one."""
    x, y = Value(DIV_X, label="x"), Value(DIV_Y, label="y")
    return divide(x, y).tanh() + divide(y, x), x, y


def _div_function(x: float, y: float) -> float:
    return math.tanh(x / y) + y / x


@item(
    "value_div_backward",
    2,
    NOTEBOOK,
    checked_by="x.grad and y.grad agree with central differences of F(x, y) = tanh(x/y) + y/x",
)
def check_value_div_backward(divide: Divide) -> Problems:
    a, b = Value(DIV_X, label="a"), Value(DIV_Y, label="b")
    out = call_safely(divide, a, b, name="divide")
    if not isinstance(out, Value):
        raise BadAnswer(f"divide(a, b) should return a Value, got {describe(out)}")
    problems = compare_number(
        DIV_X / DIV_Y, out.data, f"divide(a, b).data for a = {DIV_X}, b = {DIV_Y}"
    )
    missing = [v.label for v in (a, b) if v not in out.parents]
    if missing:
        problems.append(
            f"divide(a, b).parents does not hold {' and '.join(missing)}: backward() cannot "
            "reach it"
        )
    if problems:
        return problems

    f, x, y = call_safely(_div_graph, divide, name="divide")
    call_safely(f.backward, name="your _backward")
    for v in (x, y):
        problems += not_a_number(v.grad, f"{v.label}.grad")
    if problems:
        return problems
    expected = np.array(
        [
            _slope(lambda v: _div_function(v, DIV_Y), DIV_X),
            _slope(lambda v: _div_function(DIV_X, v), DIV_Y),
        ]
    )
    got = np.array([x.grad, y.grad], dtype=np.float64)
    problems = compare_array(expected, got, "(x.grad, y.grad)", layout="(∂F/∂x, ∂F/∂y)")
    if not problems:
        return []

    def variant(slip: str) -> np.ndarray:
        g, vx, vy = _div_graph(_divide_with(slip))
        g.backward()
        return np.array([vx.grad, vy.grad])

    mistakes = [
        last_contribution_only(variant("="), "one of the two divisions that use each variable"),
        Mistake(
            "{name} leaves out out.grad: the chain rule multiplies each local derivative by "
            "the gradient arriving from above (here 1 − tanh² for x / y)",
            variant("no out.grad"),
        ),
        Mistake(
            "{name} has the wrong sign for the denominator: ∂(a/b)/∂b = −a/b² (a larger b "
            "makes a/b smaller when a/b > 0)",
            variant("sign"),
        ),
        Mistake(
            "{name} uses −1/b² for ∂(a/b)/∂b: differentiate a · b⁻¹, which gives −a/b²",
            variant("no a"),
        ),
    ]
    return problems + diagnose_gradient(expected, got, "(x.grad, y.grad)", mistakes=mistakes)[:1]


# --- topological_sort ---------------------------------------------------------------------------


def _lesson_graph() -> Value:
    """f = (x y + eˣ) tanh(y), the graph of the lesson, every node labelled."""
    x, y = Value(1.0, label="x"), Value(0.5, label="y")
    u = x * y
    v = x.exp()
    s = u + v
    t = y.tanh()
    f = s * t
    for node, label in ((u, "u"), (v, "v"), (s, "s"), (t, "t"), (f, "f")):
        node.label = label
    return f


def _reuse_graph() -> Value:
    """g = x·x + x·y: x is both operands of one product."""
    x, y = Value(2.0, label="x"), Value(-1.0, label="y")
    a = x * x
    b = x * y
    g = a + b
    a.label, b.label, g.label = "a", "b", "g"
    return g


def _ladder_graph(rungs: int = 8) -> Value:
    """a ← a·c + tanh(a), `rungs` times: 2^rungs paths from x to the root."""
    a = Value(0.3, label="x")
    c = Value(0.5, label="c")
    for i in range(rungs):
        m, t = a * c, a.tanh()
        a = m + t
        m.label, t.label, a.label = f"m{i}", f"t{i}", f"a{i}"
    return a


def _labels(nodes: list[Value]) -> str:
    return ", ".join(n.label or "?" for n in nodes[:4]) + (" …" if len(nodes) > 4 else "")


def _is_topological(order: list[Value]) -> bool:
    seen: set[Value] = set()
    for node in order:
        if any(p not in seen for p in node.parents):
            return False
        seen.add(node)
    return True


def _order_problems(order: object, root: Value, graph: str, name: str) -> list[str]:
    """What is wrong with `order` as a topological order of root's graph ([] when right)."""
    if order is None:
        return [f"{name}(root) returned None: did you forget to `return` the list?"]
    if not isinstance(order, (list, tuple)):
        return [f"{name}(root) should return a list of Values, got {describe(order)}"]
    strays = [o for o in order if not isinstance(o, Value)]
    if strays:
        return [f"{name}(root) holds {describe(strays[0])}: list the Value nodes themselves"]
    nodes = list(order)
    where = f"for {graph}, {name}(root)"
    counts: dict[Value, int] = {}
    for node in nodes:
        counts[node] = counts.get(node, 0) + 1
    twice = [n for n, c in counts.items() if c > 1]
    if twice:
        return [
            f"{where} lists {_labels(twice)} more than once ({len(nodes)} entries for "
            f"{len(topological_order(root))} nodes)",
            f"{LIKELY}a node reached along several paths is visited once per path: keep a "
            "set of visited nodes and skip a node already in it",
        ]
    missing = [n for n in topological_order(root) if n not in counts]
    if missing:
        leaves = all(not n.parents for n in missing)
        hint = (
            "the leaves (nodes without parents) belong in the order too"
            if leaves
            else "visit every parent of every node, down to the leaves"
        )
        return [f"{where} misses {_labels(missing)}", f"{LIKELY}{hint}"]
    if _is_topological(nodes):
        return []
    late = next(n for i, n in enumerate(nodes) if any(p not in nodes[:i] for p in n.parents))
    parent = next(p for p in late.parents if p not in nodes[: nodes.index(late)])
    problems = [f"{where} puts {late.label} before its parent {parent.label}"]
    if _is_topological(nodes[::-1]):
        problems.append(
            f"{LIKELY}the list is reversed (root first): that is the order the backward pass "
            "visits; a topological order lists every node after its parents"
        )
    elif nodes[0] is root:
        problems.append(
            f"{LIKELY}{name} appends a node before visiting its parents (pre-order): append it "
            "after the loop over its parents (post-order)"
        )
    return problems


@item(
    "value_topological_sort",
    2,
    NOTEBOOK,
    checked_by="every node once, each after all its parents, on three graphs (one with 256 "
    "paths from x to the root)",
)
def check_value_topological_sort(topological_sort: Callable[[Value], list[Value]]) -> Problems:
    name = getattr(topological_sort, "__name__", "topological_sort")
    graphs = {
        "f = (x·y + exp(x))·tanh(y)": _lesson_graph(),
        "g = x·x + x·y": _reuse_graph(),
        "the ladder a ← a·c + tanh(a) (8 rungs)": _ladder_graph(),
    }
    for graph, root in graphs.items():
        order = call_safely(topological_sort, root, name=name)
        problems = _order_problems(order, root, graph, name)
        if problems:
            return problems
    return []


# --- backward_pass ------------------------------------------------------------------------------

LEFTOVER = 5.0  # every grad holds this before the learner's pass: a pass must start from 0
BP_X, BP_Y = 0.6, -0.9


def _bp_graph() -> tuple[Value, list[Value]]:
    """F = (x y + eˣ) tanh(y) + x·x, and its nodes in topological order."""
    x, y = Value(BP_X, label="x"), Value(BP_Y, label="y")
    u = x * y
    v = x.exp()
    s = u + v
    t = y.tanh()
    q = x * x
    f = s * t + q
    for node, label in ((u, "u"), (v, "v"), (s, "s"), (t, "t"), (q, "q"), (f, "F")):
        node.label = label
    f.parents[0].label = "p"  # p = s·t
    return f, topological_order(f)


def _bp_function(x: float, y: float) -> float:
    return (x * y + math.exp(x)) * math.tanh(y) + x * x


def _bp_variant(slip: str) -> np.ndarray:
    """Every node's grad after a backward pass with one known slip."""
    root, order = _bp_graph()
    for node in order:
        node.grad = LEFTOVER
    if slip == "root.backward()":
        root.backward()
        return np.array([n.grad for n in order])
    if slip != "no reset":
        for node in order:
            node.grad = 0.0
    if slip != "no seed":
        root.grad = 1.0
    for node in order if slip == "forward order" else reversed(order):
        node._backward()
    return np.array([n.grad for n in order])


@item(
    "value_backward_pass",
    3,
    NOTEBOOK,
    checked_by="every node's grad agrees with the engine's reference pass, and x.grad, y.grad "
    "with central differences, starting from leftover grads",
)
def check_value_backward_pass(backward_pass: Callable[[Value], None]) -> Problems:
    root, order = _bp_graph()
    for node in order:
        node.grad = LEFTOVER
    call_safely(backward_pass, root, name="backward_pass")
    problems = [p for n in order for p in not_a_number(n.grad, f"{n.label}.grad")]
    if problems:
        return problems[:3]
    got = np.array([n.grad for n in order], dtype=np.float64)
    expected = _bp_variant("")
    leaves = [i for i, n in enumerate(order) if not n.parents]
    numeric = {"x": _slope(lambda v: _bp_function(v, BP_Y), BP_X)}
    numeric["y"] = _slope(lambda v: _bp_function(BP_X, v), BP_Y)
    for i in leaves:
        expected[i] = numeric[order[i].label]
    wrong = [
        f"{n.label}.grad = {g:.6g}, expected ∂F/∂{n.label} = {e:.6g}"
        for n, g, e in zip(order, got, expected, strict=True)
        if compare_number(e, g, "")
    ]
    if not wrong:
        return []
    problems = [
        f"after backward_pass(F): {'; '.join(wrong[:3])}" + (" …" if len(wrong) > 3 else "")
    ]
    mistakes = [
        Mistake(
            "{name} are those of a pass in topological order: the backward pass visits the "
            "nodes in reverse (for node in reversed(order)), so every node's grad is complete "
            "before it is passed on",
            _bp_variant("forward order"),
        ),
        Mistake(
            "{name} still hold the leftover grads (5.0) of an earlier pass: set every node's "
            "grad to 0 before the pass (gradients accumulate with +=)",
            _bp_variant("no reset"),
        ),
        Mistake(
            "{name} are all 0: start the pass with root.grad = 1 (∂F/∂F = 1), after resetting "
            "the grads, not before",
            _bp_variant("no seed"),
        ),
        Mistake(
            "{name} are those of root.backward(), which keeps the leaves' leftover grads: write "
            "the pass yourself, and reset every grad first",
            _bp_variant("root.backward()"),
        ),
    ]
    return problems + diagnose_gradient(expected, got, "the grads", mistakes=mistakes)[:1]


# --- training_step ------------------------------------------------------------------------------

STEP_LR = 0.1
TrainingStep = Callable[[ScalarMLP, list[list[float]], list[float], float], Any]


def _training_data() -> tuple[ScalarMLP, list[list[float]], list[float]]:
    inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return ScalarMLP(2, [3, 1], seed=5), inputs, [0.0, 1.0, 1.0, 0.0]


def _mse(model: ScalarMLP, inputs: list[list[float]], targets: list[float]) -> float:
    predictions = [model(x) for x in inputs]
    return mse_loss([p for p in predictions if isinstance(p, Value)], targets).data


def _parameters(model: ScalarMLP) -> np.ndarray:
    return np.array([p.data for p in model.parameters()], dtype=np.float64)


def _loss_gradient(model: ScalarMLP, inputs: list[list[float]], targets: list[float]) -> np.ndarray:
    """∂L/∂θ by central differences (bpcourse.gradcheck), the parameters restored after."""
    params = model.parameters()
    theta = _parameters(model)
    saved = theta.copy()

    def loss() -> float:
        for p, value in zip(params, theta, strict=True):
            p.data = float(value)
        return _mse(model, inputs, targets)

    grad = numerical_gradient(loss, theta)
    for p, value in zip(params, saved, strict=True):
        p.data = float(value)
    return grad


def _step_mistakes(grad: np.ndarray, earlier: np.ndarray | None) -> list[Mistake]:
    mistakes = [
        Mistake(
            "{name} goes uphill: the update is p.data -= learning_rate * p.grad (minus: the "
            "gradient points up the loss)",
            STEP_LR * grad,
        ),
        Mistake(
            "{name} is −∂L/∂θ: multiply the gradient by the learning rate",
            -grad,
        ),
        Mistake(
            "{name} is 0, the parameters did not change: update p.data (not p.grad), and call "
            "zero_grad() before backward(), not between backward() and the update",
            np.zeros_like(grad),
        ),
    ]
    if earlier is not None:
        mistakes.insert(
            0,
            Mistake(
                "{name} used the sum of this step's and the previous step's gradients: call "
                "model.zero_grad() before loss.backward() (leaf gradients accumulate)",
                -STEP_LR * (earlier + grad),
            ),
        )
    return mistakes


@item(
    "value_training_step",
    3,
    NOTEBOOK,
    checked_by="two steps on XOR: each update is −η ∂L/∂θ, with ∂L/∂θ from central differences",
)
def check_value_training_step(training_step: TrainingStep) -> Problems:
    model, inputs, targets = _training_data()
    earlier = None
    for step in (1, 2):
        before = _parameters(model)
        grad = _loss_gradient(model, inputs, targets)
        loss = _mse(model, inputs, targets)
        returned = call_safely(training_step, model, inputs, targets, STEP_LR, name="training_step")
        update = _parameters(model) - before
        name = f"step {step}'s update θ_new − θ_old"
        problems = compare_array(-STEP_LR * grad, update, name, layout="(n_parameters,)")
        if problems:
            found = diagnose_gradient(
                -STEP_LR * grad, update, name, mistakes=_step_mistakes(grad, earlier)
            )
            return problems + found[:1]
        if isinstance(returned, Value):
            return ["training_step returned a Value: return the number, loss.data"]
        problems = compare_number(loss, returned, f"the loss training_step returned (step {step})")
        if problems:
            return [*problems, "return the loss computed before the update, loss.data"]
        earlier = grad
    return []


# --- reverse_mode_passes ------------------------------------------------------------------------

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
    problems = check_answer("reverse_mode_passes", value, REVERSE_MODE_PASSES, "your answer")
    if problems and not not_a_number(value, "your answer"):
        known = {
            1_000_000: "one pass per weight is what forward mode needs (it differentiates "
            "with respect to one input per pass); reverse mode differentiates one output per pass",
            2_000_000: "two loss evaluations per weight is what central differences need, "
            "not reverse mode",
        }
        slip = known.get(round(float(np.asarray(value).item())))
        if slip:
            problems.append(LIKELY + slip)
    return problems
