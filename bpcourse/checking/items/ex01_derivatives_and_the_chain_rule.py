"""Graded items of exercises/01_derivatives_and_the_chain_rule.ipynb.

No answer is stored: each check verifies the math when it runs.

- `chain_rule_derivative`: f'(x) by hand for f(x) = sin(x²), compared with SymPy's
  derivative of the same function at a few points.
- `central_difference`: the learner's (f(x + h) − f(x − h)) / 2h, compared with SymPy's
  exact derivatives, and its error order measured (the slope of log error against log h).
- `neuron_chain_rule`: ∂L/∂w and ∂L/∂b of one sigmoid neuron over a batch, compared with
  central finite differences of the mean loss.
- `gradient_descent_path`: the path of gradient descent on ½ wᵀAw, compared with the exact
  iterates (I − ηA)^k w₀.
- `largest_learning_rate`: η_max for ½ wᵀAw, verified by its definition: every factor
  |1 − ηλ| is below 1 just below η_max, and one exceeds 1 just above.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from bpcourse.checking.compare import compare_number, not_a_number
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    diagnose_gradient,
    last_contribution_only,
    missing_derivative,
)
from bpcourse.checking.registry import Item, Problems, item
from bpcourse.checking.safe import call_safely, expect_tuple
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "01_derivatives_and_the_chain_rule"
POINTS_AT = (-1.7, -0.6, 0.3, 1.3, 2.1)  # away from 0 and ±1, where slips could coincide


def _derivatives(outer: str, inner: str) -> tuple[Callable[[float], float], ...]:
    """f', the outer derivative alone and the inner one alone, for f(x) = outer(inner(x))."""
    import sympy as sp

    x, u = sp.symbols("x u", real=True)
    g = sp.sympify(inner, locals={"x": x})
    h = sp.sympify(outer, locals={"u": u})
    right = sp.diff(h.subs(u, g), x)  # the chain rule, done by SymPy
    outer_only = sp.diff(h, u).subs(u, g)
    inner_only = sp.diff(g, x)
    return tuple(sp.lambdify(x, e, "math") for e in (right, outer_only, inner_only))


def derivative_item(
    grade_id: str, points: float, outer: str, inner: str, notebook: str = NOTEBOOK
) -> Item:
    """An item "write f'(x) for f(x) = outer(inner(x))", e.g. outer="sin(u)", inner="x**2".

    The learner's answer is a function of one float x returning f'(x).
    """
    formula = "f(x) = " + re.sub(r"\bu\b", f"({inner})", outer.replace("(u)", f"({inner})"))

    def check_derivative(derivative: Callable[[float], float]) -> Problems:
        right, outer_only, inner_only = _derivatives(outer, inner)
        name = getattr(derivative, "__name__", "your derivative")
        expected = np.array([right(x) for x in POINTS_AT])
        got = []
        for x in POINTS_AT:
            value = call_safely(derivative, x, name=name)
            problems = not_a_number(value, f"{name}({x})")
            if problems:
                return problems
            got.append(float(value))
        wrong = [
            f"{name}({x}) = {g:.6g}, but f'({x}) = {e:.6g}"
            for x, g, e in zip(POINTS_AT, got, expected, strict=True)
            if compare_number(e, g, "")
        ]
        if not wrong:
            return []
        mistakes = [
            Mistake(
                "{name} is the outer derivative only: the chain rule multiplies it by the "
                f"derivative of the inside, d/dx ({inner})",
                np.array([outer_only(x) for x in POINTS_AT]),
            ),
            Mistake(
                "{name} is the inner derivative only: the chain rule multiplies it by the "
                "outer function's derivative, taken at the inside",
                np.array([inner_only(x) for x in POINTS_AT]),
            ),
        ]
        hints = diagnose_gradient(expected, np.array(got), name, mistakes=mistakes)
        return [f"{formula}: " + "; ".join(wrong[:2]), *hints]

    check_derivative.__qualname__ = f"derivative_item[{grade_id}]"
    return item(
        grade_id, points, notebook, checked_by=f"agrees with SymPy's derivative of {formula}"
    )(check_derivative)


chain_rule_derivative = derivative_item("chain_rule_derivative", 2, outer="sin(u)", inner="x**2")


# --- central_difference -------------------------------------------------------------------------

KNOWN = (("sin(x)", 0.7), ("exp(x)", -0.4), ("x**3", 1.3), ("log(x)", 2.0))
ORDER_CASE, ORDER_AT = "exp(-x)*cos(2*x)", 0.6  # f''' ≠ 0 there, so the h² term shows
ACCURATE_H, ORDER_STEPS = 1e-5, (1e-1, 1e-2, 1e-3)
RealFunction = Callable[[float], float]
DIGITS_AT_1E5 = 1e-8  # a central difference at h = 1e-5 is good to ~1e-10; a forward one to ~1e-5


def _function_and_slope(formula: str) -> tuple[RealFunction, RealFunction]:
    """f and its exact derivative f' (derived by SymPy), as plain float functions."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f = sp.sympify(formula, locals={"x": x})
    return sp.lambdify(x, f, "math"), sp.lambdify(x, sp.diff(f, x), "math")


def _difference_mistakes(
    calls: list[tuple[Callable[[float], float], float, float]],
) -> list[Mistake]:
    """Known-wrong difference quotients, evaluated on the checker's own calls (f, x, h)."""

    def each(rule: Callable[[RealFunction, float, float], float]) -> np.ndarray:
        return np.array([rule(f, x, h) for f, x, h in calls])

    return [
        Mistake(
            "{name} is the forward difference (f(x + h) − f(x)) / h: its error falls only like "
            "h; the central difference (f(x + h) − f(x − h)) / (2h) cancels the h term",
            each(lambda f, x, h: (f(x + h) - f(x)) / h),
        ),
        Mistake(
            "{name} is the backward difference (f(x) − f(x − h)) / h: its error falls only "
            "like h; use both neighbours, (f(x + h) − f(x − h)) / (2h)",
            each(lambda f, x, h: (f(x) - f(x - h)) / h),
        ),
        Mistake(
            "{name} divides by h, not 2h: the points x − h and x + h are 2h apart",
            each(lambda f, x, h: (f(x + h) - f(x - h)) / h),
        ),
        Mistake(
            "{name} computes (f(x + h) − f(x − h)) / 2 * h: Python divides by 2 and then "
            "multiplies by h; write / (2 * h)",
            each(lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h),
        ),
        Mistake(
            "{name} has the opposite sign: subtract f(x − h) from f(x + h), not the other way",
            each(lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h)),
        ),
    ]


@item(
    "central_difference",
    2,
    NOTEBOOK,
    checked_by="agrees with SymPy's derivatives of sin, exp, x³ and log at h = 1e-5, and its "
    "error falls like h² (the fitted slope of log error against log h is 2)",
)
def check_central_difference(
    central_difference: Callable[[RealFunction, float, float], float],
) -> Problems:
    name = getattr(central_difference, "__name__", "central_difference")
    calls = []  # (f, x, h, formula, exact f'(x))
    for formula, x in KNOWN:
        f, slope = _function_and_slope(formula)
        calls.append((f, x, ACCURATE_H, formula, slope(x)))
    f, slope = _function_and_slope(ORDER_CASE)
    calls += [(f, ORDER_AT, h, ORDER_CASE, slope(ORDER_AT)) for h in ORDER_STEPS]

    got = []
    for f, x, h, formula, _ in calls:
        value = call_safely(central_difference, f, x, h, name=name)
        problems = not_a_number(value, f"{name}(f, {x}, {h:g}) for f(x) = {formula}")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))

    problems = []
    for (_, x, h, formula, exact), value in zip(calls[: len(KNOWN)], got, strict=False):
        error = abs(value - exact) / max(abs(exact), 1e-12)
        if error > DIGITS_AT_1E5:
            problems.append(
                f"for f(x) = {formula}: {name}(f, {x}, {h:g}) = {value:.10g}, but SymPy's "
                f"f'({x}) = {exact:.10g} (relative error {error:.1g}; a central difference "
                "with h = 1e-5 agrees to about 1e-10)"
            )
    if len(problems) > 2:
        problems[2:] = [f"(and {len(problems) - 2} more function(s) like these)"]
    exact = calls[-1][4]
    errors = np.array([max(abs(v - exact), 1e-300) for v in got[len(KNOWN) :]])
    order = float(np.polyfit(np.log10(ORDER_STEPS), np.log10(errors), 1)[0])
    if abs(order - 2) > 0.15:
        problems.append(
            f"for f(x) = {ORDER_CASE} at x = {ORDER_AT}, the error of {name} falls like "
            f"h^{order:.2f} as h goes from 0.1 to 0.001; a central difference's error falls like "
            "h² (h ten times smaller, the error a hundred times smaller)"
        )
    if not problems:
        return []
    reference = np.array([(f(x + h) - f(x - h)) / (2 * h) for f, x, h, _, _ in calls])
    mistakes = _difference_mistakes([(f, x, h) for f, x, h, _, _ in calls])
    return problems + diagnose_gradient(reference, np.array(got), name, mistakes=mistakes)[:1]


# --- neuron_gradient ----------------------------------------------------------------------------

N_EXAMPLES = 6


def _neuron_variants(
    w: float, b: float, x: np.ndarray, y: np.ndarray
) -> dict[str, tuple[float, float]]:
    """(∂L/∂w, ∂L/∂b) as a learner might compute them, right and with known slips."""
    from bpcourse.activations import sigmoid

    n = len(x)
    z = w * x + b
    y_hat = sigmoid(z)
    right = (y_hat - y) * y_hat * (1 - y_hat) / n
    last = right[-1]
    variants = {
        "right": right,
        "no σ'": (y_hat - y) / n,
        "σ'(z) as z(1 − z)": (y_hat - y) * z * (1 - z) / n,
        "σ' at ŷ": (y_hat - y) * sigmoid(y_hat) * (1 - sigmoid(y_hat)) / n,
    }
    out = {k: (float(d @ x), float(d.sum())) for k, d in variants.items()}
    out["last"] = (float(last * x[-1]), float(last))
    out["no x"] = (float(right.sum()), float(right.sum()))
    return out


@item(
    "neuron_chain_rule",
    3,
    NOTEBOOK,
    checked_by="∂L/∂w and ∂L/∂b agree with central finite differences of the mean loss",
)
def check_neuron_chain_rule(
    neuron_gradient: Callable[[float, float, np.ndarray, np.ndarray], tuple[float, float]],
) -> Problems:
    from bpcourse.activations import sigmoid

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=N_EXAMPLES), rng.uniform(0.1, 0.9, size=N_EXAMPLES)
    w, b = 0.8, -0.3
    answer = call_safely(neuron_gradient, w, b, x, y, name="neuron_gradient")
    got = expect_tuple(answer, 2, "(dL_dw, dL_db)", "neuron_gradient")

    theta = np.array([w, b])

    def loss() -> float:
        return float(np.mean(0.5 * (sigmoid(theta[0] * x + theta[1]) - y) ** 2))

    expected = numerical_gradient(loss, theta)
    variants = _neuron_variants(w, b, x, y)
    parts = {}
    for i, name in enumerate(["dL/dw", "dL/db"]):
        mistakes = [
            missing_derivative(np.array(variants["no σ'"][i]), "σ'(z) = ŷ(1 − ŷ)"),
            Mistake(
                "{name} uses z(1 − z) for σ'(z): the formula ŷ(1 − ŷ) takes the output "
                "ŷ = σ(z), not the input z",
                np.array(variants["σ'(z) as z(1 − z)"][i]),
            ),
            Mistake(
                "{name} takes σ' at ŷ, σ(ŷ)(1 − σ(ŷ)): σ'(z) = ŷ(1 − ŷ) is already the "
                "derivative, do not apply σ again",
                np.array(variants["σ' at ŷ"][i]),
            ),
            last_contribution_only(np.array(variants["last"][i]), "the last example"),
        ]
        if i == 0:
            mistakes.append(
                Mistake(
                    "{name} is ∂L/∂b: the chain rule for w has one more factor, "
                    "∂z/∂w = x (multiply each δₙ by its xₙ before summing)",
                    np.array(variants["no x"][0]),
                )
            )
        parts[name] = compare_gradient(
            np.array(expected[i]),
            _number_as_array(got[i]),
            name,
            layout="a single number",
            batch_size=N_EXAMPLES,
            mistakes=mistakes,
            shape_hints={
                (N_EXAMPLES,): f"{name} has one entry per example: the mean loss's gradient "
                "sums the examples' contributions (and divides by N)"
            },
        )
    return parts


def _number_as_array(value: object) -> object:
    """A Python or NumPy number as a 0-d float array (so compare_gradient diagnoses it)."""
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        return np.asarray(value, dtype=np.float64)
    return value


# --- gradient_descent ---------------------------------------------------------------------------

GD_START, GD_LR, GD_STEPS = np.array([-2.0, 1.0]), 0.2, 10


def _valley() -> np.ndarray:
    """A symmetric positive definite A with curvatures 1 and 8 along rotated axes."""
    c, s = np.cos(0.5), np.sin(0.5)
    rotation = np.array([[c, -s], [s, c]])
    return rotation @ np.diag([1.0, 8.0]) @ rotation.T


def _iterates(matrix: np.ndarray, start: np.ndarray, steps: int) -> np.ndarray:
    """start, M start, M² start, ...: the path of a linear recursion w ← M w."""
    rows = [start]
    for _ in range(steps):
        rows.append(matrix @ rows[-1])
    return np.array(rows)


@item(
    "gradient_descent_path",
    2,
    NOTEBOOK,
    checked_by="the path equals the exact iterates w_k = (I − ηA)^k w_0 of gradient descent "
    "on L(w) = ½ wᵀAw",
)
def check_gradient_descent_path(
    gradient_descent: Callable[
        [Callable[[np.ndarray], np.ndarray], np.ndarray, float, int], object
    ],
) -> Problems:
    A = _valley()
    eye = np.eye(2)

    def grad(w: np.ndarray) -> np.ndarray:
        return A @ np.asarray(w, dtype=np.float64)

    got = call_safely(
        gradient_descent, grad, GD_START.copy(), GD_LR, GD_STEPS, name="gradient_descent"
    )
    expected = _iterates(eye - GD_LR * A, GD_START, GD_STEPS)
    k = np.arange(GD_STEPS + 1)[:, None]
    mistakes = [
        Mistake(
            "{name} climbs: the step is w ← w − η ∇L(w) (subtract the gradient, it points uphill)",
            _iterates(eye + GD_LR * A, GD_START, GD_STEPS),
        ),
        Mistake(
            "every row of {name} is the last point: you appended the same array each time and "
            "then changed it in place (w -= ...); append w.copy(), or write w = w - lr * grad(w)",
            np.tile(expected[-1], (GD_STEPS + 1, 1)),
        ),
        Mistake(
            "{name} leaves out the learning rate: the step is η ∇L(w), not ∇L(w)",
            _iterates(eye - A, GD_START, GD_STEPS),
        ),
        Mistake(
            "{name} takes every step with the gradient at the start: evaluate grad(w) at the "
            "current point in every step",
            GD_START - k * GD_LR * (A @ GD_START),
        ),
    ]
    hints = {
        (GD_STEPS, 2): "the start is missing: the path holds w_0 and then one row per step, "
        "steps + 1 rows",
        (GD_STEPS + 2, 2): "one row too many: the path holds w_0 and one row per step",
        (2,): "that is one point: return the whole path, one row per iterate",
    }
    return compare_gradient(
        expected, got, "path", layout="(steps + 1, 2)", mistakes=mistakes, shape_hints=hints
    )


# --- largest_learning_rate ----------------------------------------------------------------------

LIMIT_MARGIN = 1e-6  # η(1 − margin) must converge and η(1 + margin) diverge


def _curvature_matrices() -> list[np.ndarray]:
    """Symmetric positive definite matrices: the lesson's valley, a rotated one, a 3 × 3."""
    c, s = np.cos(0.9), np.sin(0.9)
    rotation = np.array([[c, -s], [s, c]])
    M = np.random.default_rng(3).normal(size=(3, 3))
    return [
        np.diag([1.0, 10.0]),
        rotation @ np.diag([0.5, 4.0]) @ rotation.T,
        M @ M.T + 0.5 * np.eye(3),
    ]


def _spectral_radius(A: np.ndarray, lr: float) -> tuple[float, float]:
    """max |1 − ηλ| over A's eigenvalues λ, and the λ where it is reached."""
    curvatures = np.linalg.eigvalsh(A)
    factors = np.abs(1 - lr * curvatures)
    return float(factors.max()), float(curvatures[np.argmax(factors)])


@item(
    "largest_learning_rate",
    2,
    NOTEBOOK,
    checked_by="gradient descent on ½ wᵀAw converges just below your η and diverges just above "
    "it, for three matrices A",
)
def check_largest_learning_rate(largest_learning_rate: Callable[[np.ndarray], float]) -> Problems:
    matrices = _curvature_matrices()
    name = getattr(largest_learning_rate, "__name__", "largest_learning_rate")
    got = []
    for A in matrices:
        value = call_safely(largest_learning_rate, A.copy(), name=name)
        problems = not_a_number(value, f"{name}(A)")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))

    problems = []
    for A, lr in zip(matrices, got, strict=True):
        shown = np.array2string(A, precision=3, separator=", ").replace("\n", "")
        if lr <= 0:
            problems.append(f"{name}(A) = {lr:.4g} for A = {shown}: η must be positive")
            continue
        below, curvature = _spectral_radius(A, lr * (1 - LIMIT_MARGIN))
        above, _ = _spectral_radius(A, lr * (1 + LIMIT_MARGIN))
        if below >= 1:
            problems.append(
                f"for A = {shown}, gradient descent with η = {lr:.6g} does not converge: along "
                f"the direction of curvature λ = {curvature:.4g} each step multiplies the "
                f"distance to the minimum by 1 − ηλ = {1 - lr * curvature:.4g}"
            )
        elif above <= 1:
            problems.append(
                f"for A = {shown}, gradient descent still converges with an η a little above "
                f"{lr:.6g} (every |1 − ηλ| < 1): that is not the largest"
            )
    if not problems:
        return []
    right = np.array([2 / np.linalg.eigvalsh(A).max() for A in matrices])
    mistakes = [
        Mistake(
            "{name} uses the diagonal of A: the curvatures are A's eigenvalues "
            "(np.linalg.eigvalsh(A)); they equal the diagonal only when A is diagonal",
            np.array([2 / np.diag(A).max() for A in matrices]),
        ),
        Mistake(
            "{name} is 1/λ_max, half the limit: a step multiplies the error by 1 − ηλ, which "
            "stays inside (−1, 1) up to η = 2/λ",
            right / 2,
        ),
        Mistake(
            "{name} uses the smallest curvature: the steepest direction (the largest "
            "eigenvalue) is the first to diverge, so it sets the limit",
            np.array([2 / np.linalg.eigvalsh(A).min() for A in matrices]),
        ),
    ]
    return problems + diagnose_gradient(right, np.array(got), name, mistakes=mistakes)[:1]
