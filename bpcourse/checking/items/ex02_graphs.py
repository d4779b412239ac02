"""The graphs, known-wrong variants and helpers behind exercise 02's checks.

Built and run in the checker's process (never in the student's kernel), except the graph
builders, which the adapters of `ex02_computational_graphs_and_reverse_mode` also call in
the kernel to build the graphs the learner's functions work on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from bpcourse.autodiff import ScalarMLP, Value, mse_loss, topological_order
from bpcourse.checking.diagnose import LIKELY
from bpcourse.gradcheck import numerical_gradient

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
