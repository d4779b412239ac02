"""Graded items of exercises/02_computational_graphs_and_reverse_mode.ipynb.

Gradients are checked against central differences of the same function in plain floats;
the known-wrong variants that name a likely mistake are run on the checker's own graphs.

Only data crosses: the learner's answers work on `Value` graphs, so every item declares an
adapter (`probe_*`, module-level) that builds the graph from numbers, calls the learner's
function, runs the backward pass and returns plain data (numbers, strings, lists, dicts).
`check(...)` applies it in the notebook; the instructor's grader applies it in the student's
kernel and checks the data outside. No check runs in the kernel.

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
  a missing `zero_grad()` shows; the update must be −η ∂ℒ/∂θ by central differences.
- three conceptual questions (salted digests, `bpcourse.checking.answers.question`):
  backward passes for a million weights, a value used twice, forward-mode passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.autodiff import ScalarMLP, Value, mse_loss, topological_order
from bpcourse.checking.answers import question
from bpcourse.checking.compare import compare_array, compare_number, describe, not_a_number
from bpcourse.checking.diagnose import LIKELY, Mistake, diagnose_gradient, last_contribution_only
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, _in_library, call_safely
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "02_computational_graphs_and_reverse_mode"
X0, Y0, H = 0.7, -1.3, 1e-6
NUMERIC = ("bpcourse.gradcheck", "bpcourse.autodiff.numerical_grad", "bpcourse.symbolic", "sympy")
Data = dict[str, Any]


def _node_report(out: object, parents: tuple[Value, ...]) -> Data:
    """What a learner's new node is, as data: its type, value, missing parents, and whether
    its _backward is the learner's own (not one of the library's operations)."""
    if not isinstance(out, Value):
        return {"value": False, "describe": describe(out)}
    backward = getattr(out, "_backward", None)
    code = getattr(backward, "__code__", None)
    return {
        "value": True,
        "data": out.data,
        "missing": [p.label for p in parents if p not in out.parents],
        "own_backward": code is None or not _in_library(code.co_filename),
    }


def _node_problems(report: Data, call: str, expected: float) -> list[str]:
    """What is wrong with a learner's node, from its report ([] when it is usable)."""
    if not report["value"]:
        raise BadAnswer(f"{call} should return a Value, got {report['describe']}")
    problems = compare_number(expected, report["data"], f"{call}.data")
    if report["missing"]:
        problems.append(
            f"{call}.parents does not hold {' and '.join(report['missing'])}: backward() "
            "cannot reach it"
        )
    if not report["own_backward"]:
        problems.append(
            f"{call} returns a node made by the library's own operation (its _backward is the "
            "library's): build the node yourself, as the item's cell does, and write its "
            "_backward"
        )
    return problems


def _slope(f: Callable[[float], float], x: float = X0) -> float:
    """df/dx at x by central differences."""
    return (f(x + H) - f(x - H)) / (2 * H)


def probe_sin(sin: Callable[[Value], Value]) -> Callable[[float, float], Data]:
    """sin(x) as data: the node it makes for x0, and x.grad after f = 3 sin x + y sin x."""

    def run(x0: float, y0: float) -> Data:
        x = Value(x0, label="x")
        report = _node_report(sin(x), (x,))
        if not report["value"] or report["missing"]:
            return report
        x, y = Value(x0, label="x"), Value(y0, label="y")
        f = 3 * sin(x) + sin(x) * y
        f.backward()
        return {**report, "x_grad": x.grad}

    return run


@item(
    "value_sin_backward",
    2,
    NOTEBOOK,
    checked_by="x.grad agrees with central differences of f(x, y) = 3 sin x + y sin x",
    forbid=NUMERIC,
    adapter=probe_sin,
)
def check_value_sin_backward(sin: Callable[[float, float], Data]) -> Problems:
    report = call_safely(sin, X0, Y0, name="sin")
    if not isinstance(report, dict):
        raise BadAnswer(f"sin should be a function of a Value, got {describe(sin)}")
    problems = _node_problems(report, f"sin(Value({X0}))", math.sin(X0))
    if problems:
        return problems
    x_grad = report["x_grad"]
    problems = not_a_number(x_grad, "x.grad")
    if problems:
        return problems
    expected = _slope(lambda v: 3 * math.sin(v) + Y0 * math.sin(v))
    problems = compare_number(expected, x_grad, "x.grad for f = 3 sin(x) + y sin(x)")
    if not problems:
        return []
    if x_grad == 0:
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
    return problems + diagnose_gradient(
        expected,
        x_grad,
        "x.grad",
        mistakes=mistakes,
        causes={"sign": "d/dx sin x = +cos x, and each contribution is added (+=)"},
    )


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
            if slip == "swapped":
                da, db = db, da
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


def probe_divide(divide: Divide) -> Callable[[], Data]:
    """divide(a, b) as data: the node it makes, and (x.grad, y.grad) of F = tanh(x/y) + y/x."""

    def run() -> Data:
        a, b = Value(DIV_X, label="a"), Value(DIV_Y, label="b")
        report = _node_report(divide(a, b), (a, b))
        if not report["value"] or report["missing"] or not report["own_backward"]:
            return report
        f, x, y = _div_graph(divide)
        f.backward()
        return {**report, "grads": [x.grad, y.grad]}

    return run


@item(
    "value_div_backward",
    2,
    NOTEBOOK,
    checked_by="x.grad and y.grad agree with central differences of F(x, y) = tanh(x/y) + y/x",
    forbid=NUMERIC,
    adapter=probe_divide,
)
def check_value_div_backward(divide: Callable[[], Data]) -> Problems:
    report = call_safely(divide, name="divide")
    if not isinstance(report, dict):
        raise BadAnswer(f"divide should be a function of two Values, got {describe(divide)}")
    problems = _node_problems(report, f"divide(a, b) for a = {DIV_X}, b = {DIV_Y}", DIV_X / DIV_Y)
    if problems:
        return problems
    grads = report["grads"]
    for label, grad in zip("xy", grads, strict=True):
        problems += not_a_number(grad, f"{label}.grad")
    if problems:
        return problems
    expected = np.array(
        [
            _slope(lambda v: _div_function(v, DIV_Y), DIV_X),
            _slope(lambda v: _div_function(DIV_X, v), DIV_Y),
        ]
    )
    got = np.array(grads, dtype=np.float64)
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
        Mistake(
            "{name} swaps the two shares: a gets −a/b² · out.grad and b gets out.grad / b; "
            "∂(a/b)/∂a = 1/b belongs to a",
            variant("swapped"),
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


GRAPHS: dict[str, Callable[[], Value]] = {
    "f = (x·y + exp(x))·tanh(y)": _lesson_graph,
    "g = x·x + x·y": _reuse_graph,
    "the ladder a ← a·c + tanh(a) (8 rungs)": _ladder_graph,
}


def probe_topological_sort(
    topological_sort: Callable[[Value], list[Value]],
) -> Callable[[str], Data]:
    """topological_sort as data: for a graph of the checker's (by name), the labels of the
    nodes it returns, in order ("?" for a Value not of the graph)."""

    def run(graph: str) -> Data:
        order = topological_sort(GRAPHS[graph]())
        if order is None:
            return {"kind": "none"}
        if not isinstance(order, (list, tuple)):
            return {"kind": "not a list", "describe": describe(order)}
        strays = [o for o in order if not isinstance(o, Value)]
        if strays:
            return {"kind": "not Values", "describe": describe(strays[0])}
        return {"kind": "list", "labels": [o.label or "?" for o in order]}

    return run


def _labels(nodes: list[Value]) -> str:
    return ", ".join(n.label or "?" for n in nodes[:4]) + (" …" if len(nodes) > 4 else "")


def _is_topological(order: list[Value]) -> bool:
    seen: set[Value] = set()
    for node in order:
        if any(p not in seen for p in node.parents):
            return False
        seen.add(node)
    return True


def _order_problems(report: object, root: Value, graph: str, name: str) -> list[str]:
    """What is wrong with a returned order (as labels) for root's graph ([] when right)."""
    if not isinstance(report, dict) or report.get("kind") == "none":
        return [f"{name}(root) returned None: did you forget to `return` the list?"]
    if report["kind"] == "not a list":
        return [f"{name}(root) should return a list of Values, got {report['describe']}"]
    if report["kind"] == "not Values":
        return [f"{name}(root) holds {report['describe']}: list the Value nodes themselves"]
    by_label = {n.label: n for n in topological_order(root)}
    strangers = [label for label in report["labels"] if label not in by_label]
    if strangers:
        return [
            f"for {graph}, {name}(root) holds Values that are not nodes of the graph: return "
            "the nodes themselves, not new Values"
        ]
    nodes = [by_label[label] for label in report["labels"]]
    where = f"for {graph}, {name}(root)"
    counts: dict[Value, int] = {}
    for node in nodes:
        counts[node] = counts.get(node, 0) + 1
    twice = [n for n, c in counts.items() if c > 1]
    if twice:
        return [
            f"{where} lists {_labels(twice)} more than once ({len(nodes)} entries for "
            f"{len(by_label)} nodes)",
            f"{LIKELY}a node reached along several paths is visited once per path: keep a "
            "set of visited nodes and skip a node already in it",
        ]
    missing = [n for n in by_label.values() if n not in counts]
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
    forbid=("bpcourse.autodiff.topological_order", "bpcourse.autodiff.backward", ".backward"),
    adapter=probe_topological_sort,
)
def check_value_topological_sort(topological_sort: Callable[[str], Data]) -> Problems:
    name = getattr(topological_sort, "__name__", "topological_sort")
    for graph, build in GRAPHS.items():
        report = call_safely(topological_sort, graph, name=name)
        problems = _order_problems(report, build(), graph, name)
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


def probe_backward_pass(backward_pass: Callable[[Value], None]) -> Callable[[], Data]:
    """backward_pass as data: every node's grad (by label) after the learner's pass on the
    checker's graph, whose grads start at a leftover 5.0."""

    def run() -> Data:
        root, order = _bp_graph()
        for node in order:
            node.grad = LEFTOVER
        backward_pass(root)
        return {"grads": {n.label: n.grad for n in order}}

    return run


@item(
    "value_backward_pass",
    3,
    NOTEBOOK,
    checked_by="every node's grad agrees with the engine's reference pass, and x.grad, y.grad "
    "with central differences, starting from leftover grads",
    forbid=("bpcourse.autodiff.backward", ".backward", *NUMERIC),
    adapter=probe_backward_pass,
)
def check_value_backward_pass(backward_pass: Callable[[], Data]) -> Problems:
    report = call_safely(backward_pass, name="backward_pass")
    _, order = _bp_graph()
    grads = report["grads"] if isinstance(report, dict) else {}
    problems = [p for n in order for p in not_a_number(grads.get(n.label), f"{n.label}.grad")]
    if problems:
        return problems[:3]
    got = np.array([grads[n.label] for n in order], dtype=np.float64)
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
    """∂ℒ/∂θ by central differences (bpcourse.gradcheck), the parameters restored after."""
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
            "{name} is −∂ℒ/∂θ: multiply the gradient by the learning rate",
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


def probe_training_step(training_step: TrainingStep) -> Callable[[int, float], Data]:
    """training_step as data: the parameters before and after each of `steps` steps on the
    checker's XOR model, and what each call returned (a number, or a description)."""

    def run(steps: int, learning_rate: float) -> Data:
        model, inputs, targets = _training_data()
        before, after = [], []
        returned: list[float | str] = []
        for _ in range(steps):
            before.append(_parameters(model).tolist())
            value = training_step(model, inputs, targets, learning_rate)
            after.append(_parameters(model).tolist())
            if isinstance(value, Value):
                returned.append("a Value")
            elif isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
                returned.append(float(value))
            else:
                returned.append(describe(value))
        return {"before": before, "after": after, "returned": returned}

    return run


@item(
    "value_training_step",
    3,
    NOTEBOOK,
    checked_by="two steps on XOR: each update is −η ∂ℒ/∂θ, with ∂ℒ/∂θ from central differences",
    forbid=("bpcourse.training", "bpcourse.optim", *NUMERIC),
    adapter=probe_training_step,
)
def check_value_training_step(training_step: Callable[[int, float], Data]) -> Problems:
    report = call_safely(training_step, 2, STEP_LR, name="training_step")
    model, inputs, targets = _training_data()
    earlier = None
    for step in (1, 2):
        for p, value in zip(model.parameters(), report["before"][step - 1], strict=True):
            p.data = float(value)
        before = _parameters(model)
        grad = _loss_gradient(model, inputs, targets)
        loss = _mse(model, inputs, targets)
        returned = report["returned"][step - 1]
        update = np.array(report["after"][step - 1], dtype=np.float64) - before
        name = f"step {step}'s update θ_new − θ_old"
        problems = compare_array(-STEP_LR * grad, update, name, layout="(n_parameters,)")
        if problems:
            found = diagnose_gradient(
                -STEP_LR * grad, update, name, mistakes=_step_mistakes(grad, earlier)
            )
            return problems + found[:1]
        if returned == "a Value":
            return ["training_step returned a Value: return the number, loss.data"]
        if isinstance(returned, str):
            return [f"training_step returned {returned}: return the loss, a number (loss.data)"]
        problems = compare_number(loss, returned, f"the loss training_step returned (step {step})")
        if problems:
            return [*problems, "return the loss computed before the update, loss.data"]
        earlier = grad
    return []


# --- conceptual questions -----------------------------------------------------------------------

question(
    "reverse_mode_passes",
    1,
    NOTEBOOK,
    "e3997a9ca605c83917176ab0154d23afd6a4c79062d665a6f62061a0a938fe68",
    kind="integer",
    revisit="what one reverse pass computes: the derivatives of one output with respect to "
    "every input (lesson 02, section 5)",
)
question(
    "q_value_used_twice",
    1,
    NOTEBOOK,
    "1482f2a6b0b5464ba6b52ce43fd0c0a452c52f3a2fa597797e5c014695c6f2dc",
    kind="letter",
    revisit="the sum over paths: what the backward pass must do with each contribution",
)
question(
    "q_forward_mode_passes",
    1,
    NOTEBOOK,
    "73f48a6ee4847443283b120c10d9b126ba3d92dddf596f4c739e489c35f3eb20",
    kind="integer",
    revisit="what one forward-mode pass computes: the derivatives of every output with respect "
    "to one input",
)
