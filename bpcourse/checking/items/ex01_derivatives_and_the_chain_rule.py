"""Graded items of exercises/01_derivatives_and_the_chain_rule.ipynb (second edition).

No answer is stored, except the conceptual questions' salted digests: each check verifies
the math when it runs.

- `chain_rule_derivative`: f'(x) by hand for f(x) = ln(1 + e^{sin 3x}) (a chain of three),
  compared with SymPy's derivative to 12 digits, which a finite difference cannot reach.
- `second_derivative`: the central second difference (f(x + h) − 2f(x) + f(x − h)) / h²,
  derived from Taylor's theorem, compared with SymPy's f'' and its error order measured.
- `neuron_chain_rule`: ∂ℒ/∂w and ∂ℒ/∂b of one sigmoid neuron over a batch, compared with
  central finite differences of the mean loss.
- `gradient_descent_path`: the path of gradient descent on ½ wᵀAw, compared with the exact
  iterates (I − ηA)^k w₀.
- `largest_learning_rate`: η_max for ½ wᵀAw, verified by its definition.
- three conceptual questions (salted digests).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import not_a_number
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    diagnose_gradient,
    last_contribution_only,
    missing_derivative,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import call_safely, expect_tuple
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "01_derivatives_and_the_chain_rule"
POINTS_AT = (-1.7, -0.6, 0.3, 1.3, 2.1)  # cos 3x, sin 3x and x away from 0 there
EXACT = 1e-12  # the chain rule in floats is exact to ~1e-15; a finite difference to ~1e-10
NUMERIC = ("bpcourse.gradcheck", "bpcourse.symbolic", "bpcourse.autodiff", "sympy")
RealFunction = Callable[[float], float]


# --- chain_rule_derivative ----------------------------------------------------------------------


def _softplus_sin_derivative() -> RealFunction:
    """SymPy's derivative of ln(1 + e^{sin 3x}), as a float function: the referee."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, sp.diff(sp.log(1 + sp.exp(sp.sin(3 * x))), x), "math")


def _sig(u: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-u))


def _chain_mistakes(x: np.ndarray) -> list[Mistake]:
    """Known-wrong derivatives of ln(1 + e^{sin 3x}) at the points x."""
    u = np.sin(3 * x)
    return [
        Mistake(
            "{name} is the outer derivative only, σ(sin 3x): the chain rule multiplies it by "
            "the derivatives of the inner links, cos(3x) and 3",
            _sig(u),
        ),
        Mistake(
            "{name} lacks the innermost factor 3 = d(3x)/dx: every link of the chain "
            "contributes its derivative",
            _sig(u) * np.cos(3 * x),
        ),
        Mistake(
            "{name} lacks the middle factor cos(3x), the derivative of sin v at v = 3x",
            _sig(u) * 3,
        ),
        Mistake(
            "{name} takes the outer derivative at x instead of at the inside: σ must be "
            "evaluated at u = sin 3x",
            _sig(x) * np.cos(3 * x) * 3,
        ),
        Mistake(
            "{name} uses 1/(1 + e^u) for the derivative of ln(1 + e^u): it is "
            "e^u/(1 + e^u) = 1/(1 + e^(−u)) = σ(u)",
            _sig(-u) * np.cos(3 * x) * 3,
        ),
        Mistake(
            "{name} uses 3 cos x for the derivative of sin 3x: cos is taken at the inside, "
            "3x, not at x",
            _sig(u) * np.cos(x) * 3,
        ),
    ]


@item(
    "chain_rule_derivative",
    3,
    NOTEBOOK,
    checked_by="agrees with SymPy's derivative of f(x) = ln(1 + e^(sin 3x)) to 12 digits "
    "at five points",
    forbid=NUMERIC,
)
def check_chain_rule_derivative(chain_rule_derivative: RealFunction) -> Problems:
    right = _softplus_sin_derivative()
    name = getattr(chain_rule_derivative, "__name__", "chain_rule_derivative")
    expected = np.array([right(x) for x in POINTS_AT])
    got = []
    for x in POINTS_AT:
        value = call_safely(chain_rule_derivative, x, name=name)
        problems = not_a_number(value, f"{name}({x})")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))
    answer = np.array(got)
    errors = np.abs(answer - expected) / np.maximum(np.abs(expected), 1e-300)
    if (errors < EXACT).all():
        return []
    worst = int(np.argmax(errors))
    x = POINTS_AT[worst]
    problems = [
        f"f(x) = ln(1 + e^(sin 3x)): {name}({x}) = {got[worst]:.15g}, but f'({x}) = "
        f"{expected[worst]:.15g}"
    ]
    if (errors < 1e-5).all():
        return [
            *problems,
            f"{name} agrees with f' to about {int(-np.log10(errors.max()))} digits only: "
            "that is what a finite difference gives, not the exact derivative the chain rule "
            "gives (to 15 digits); work out f'(x) as a formula",
        ]
    mistakes = _chain_mistakes(np.array(POINTS_AT))
    return problems + diagnose_gradient(expected, answer, name, mistakes=mistakes)


# --- second_derivative --------------------------------------------------------------------------

KNOWN = (("sin(x)", 0.7), ("exp(x)", -0.4), ("x**4", 1.3), ("log(x)", 2.0))
ORDER_CASE, ORDER_AT = "exp(-x)*cos(2*x)", 0.6  # its fourth derivative ≠ 0 there: h² shows
ACCURATE_H, ORDER_STEPS = 1e-4, (0.2, 0.1, 0.05)
AT_1E4 = 1e-6  # the second difference at h = 1e-4 is good to ~1e-8 (rounding / h²)


def _function_and_second(formula: str) -> tuple[RealFunction, RealFunction]:
    """f and its exact second derivative f'' (derived by SymPy), as float functions."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f = sp.sympify(formula, locals={"x": x})
    return sp.lambdify(x, f, "math"), sp.lambdify(x, sp.diff(f, x, 2), "math")


def _second_mistakes(calls: list[tuple[RealFunction, float, float]]) -> list[Mistake]:
    """Known-wrong second differences, evaluated on the checker's own calls (f, x, h)."""

    def each(rule: Callable[[RealFunction, float, float], float]) -> np.ndarray:
        return np.array([rule(f, x, h) for f, x, h in calls])

    return [
        Mistake(
            "{name} leaves out the −2f(x) term: adding the two Taylor lines gives "
            "f(x + h) + f(x − h) = 2f(x) + h² f''(x) + …",
            each(lambda f, x, h: (f(x + h) + f(x - h)) / h**2),
        ),
        Mistake(
            "{name} has −f(x) where −2f(x) belongs: f(x) appears in both Taylor lines",
            each(lambda f, x, h: (f(x + h) - f(x) + f(x - h)) / h**2),
        ),
        Mistake(
            "{name} divides by 2h²: adding the Taylor lines leaves h² f''(x), with no ½ left",
            each(lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / (2 * h**2)),
        ),
        Mistake(
            "{name} divides by h, not h²: the second difference divides by the step squared",
            each(lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / h),
        ),
        Mistake(
            "{name} computes (…) / h * h: Python divides by h and multiplies by h again; "
            "write / h**2 or / (h * h)",
            each(lambda f, x, h: f(x + h) - 2 * f(x) + f(x - h)),
        ),
        Mistake(
            "{name} computes (…) / 2 * h**2: Python divides by 2 and then multiplies by h²; "
            "write / h**2 (adding the Taylor lines leaves no ½)",
            each(lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / 2 * h**2),
        ),
        Mistake(
            "{name} is the forward second difference (f(x + 2h) − 2f(x + h) + f(x)) / h²: "
            "its error falls only like h; centre it on x",
            each(lambda f, x, h: (f(x + 2 * h) - 2 * f(x + h) + f(x)) / h**2),
        ),
        Mistake(
            "{name} has the opposite sign: f(x ± h) enter with +, f(x) with −2",
            each(lambda f, x, h: (2 * f(x) - f(x + h) - f(x - h)) / h**2),
        ),
    ]


@item(
    "second_derivative",
    3,
    NOTEBOOK,
    checked_by="agrees with SymPy's second derivatives of sin, exp, x⁴ and log at h = 1e-4, "
    "and its error falls like h² (the fitted slope of log error against log h is 2)",
    forbid=(*NUMERIC, "numpy.gradient", "numpy.diff"),
)
def check_second_derivative(
    second_derivative: Callable[[RealFunction, float, float], float],
) -> Problems:
    name = getattr(second_derivative, "__name__", "second_derivative")
    calls = []  # (f, x, h, formula, exact f''(x))
    for formula, x in KNOWN:
        f, second = _function_and_second(formula)
        calls.append((f, x, ACCURATE_H, formula, second(x)))
    f, second = _function_and_second(ORDER_CASE)
    calls += [(f, ORDER_AT, h, ORDER_CASE, second(ORDER_AT)) for h in ORDER_STEPS]

    got = []
    for f, x, h, formula, _ in calls:
        value = call_safely(second_derivative, f, x, h, name=name)
        problems = not_a_number(value, f"{name}(f, {x}, {h:g}) for f(x) = {formula}")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))

    problems = []
    for (_, x, h, formula, exact), value in zip(calls[: len(KNOWN)], got, strict=False):
        error = abs(value - exact) / max(abs(exact), 1e-12)
        if error > AT_1E4:
            problems.append(
                f"for f(x) = {formula}: {name}(f, {x}, {h:g}) = {value:.10g}, but SymPy's "
                f"f''({x}) = {exact:.10g} (relative error {error:.1g}; the central second "
                "difference with h = 1e-4 agrees to about 1e-8)"
            )
    if len(problems) > 2:
        problems[2:] = [f"(and {len(problems) - 2} more function(s) like these)"]
    exact = calls[-1][4]
    errors = np.array([max(abs(v - exact), 1e-300) for v in got[len(KNOWN) :]])
    order = float(np.polyfit(np.log10(ORDER_STEPS), np.log10(errors), 1)[0])
    if abs(order - 2) > 0.2:
        problems.append(
            f"for f(x) = {ORDER_CASE} at x = {ORDER_AT}, the error of {name} falls like "
            f"h^{order:.2f} as h goes from 0.2 to 0.05; the central second difference's error "
            "falls like h² (h halved, the error divided by 4)"
        )
    if not problems:
        return []
    reference = np.array([(f(x + h) - 2 * f(x) + f(x - h)) / h**2 for f, x, h, _, _ in calls])
    mistakes = _second_mistakes([(f, x, h) for f, x, h, _, _ in calls])
    found = diagnose_gradient(reference, np.array(got), name, mistakes=mistakes)
    return problems + [d for d in found if d.startswith("likely")][:1]


# --- neuron_gradient ----------------------------------------------------------------------------

N_EXAMPLES = 6


def _neuron_variants(
    w: float, b: float, x: np.ndarray, y: np.ndarray
) -> dict[str, tuple[float, float]]:
    """(∂ℒ/∂w, ∂ℒ/∂b) as a learner might compute them, right and with known slips."""
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
    variants["no σ' and a sum"] = variants["no σ'"] * n
    variants["no σ' and the sign"] = -variants["no σ'"]
    variants["a sum and the sign"] = -right * n
    out = {k: (float(d @ x), float(d.sum())) for k, d in variants.items()}
    out["last"] = (float(last * x[-1]), float(last))
    out["no x"] = (float(right.sum()), float(right.sum()))
    return out


NEURON_CAUSES = {
    "sign": "the loss's derivative is ∂ℒₙ/∂ŷₙ = ŷₙ − yₙ, prediction minus target",
    "double": "½(ŷ − y)² differentiates to (ŷ − y): the ½ is there to cancel the 2",
}


@item(
    "neuron_chain_rule",
    5,
    NOTEBOOK,
    checked_by="∂ℒ/∂w and ∂ℒ/∂b agree with central finite differences of the mean loss",
    forbid=(
        *NUMERIC,
        "bpcourse.widgets",
        "bpcourse.losses",
        "bpcourse.layers",
        "bpcourse.network",
        "bpcourse.training",
    ),
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
    for i, name in enumerate(["∂ℒ/∂w", "∂ℒ/∂b"]):
        mistakes = [
            missing_derivative(np.array(variants["no σ'"][i]), "σ'(z) = ŷ(1 − ŷ)"),
            Mistake(
                "{name} leaves out σ'(z) = ŷ(1 − ŷ) and sums over the batch instead of taking "
                "the mean (two slips: the factor between them is not a constant)",
                np.array(variants["no σ' and a sum"][i]),
            ),
            Mistake(
                "{name} leaves out σ'(z) = ŷ(1 − ŷ) and has the opposite sign: "
                + NEURON_CAUSES["sign"],
                np.array(variants["no σ' and the sign"][i]),
            ),
            Mistake(
                "{name} sums over the batch instead of taking the mean, and has the opposite "
                "sign: " + NEURON_CAUSES["sign"],
                np.array(variants["a sum and the sign"][i]),
            ),
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
                    "{name} is ∂ℒ/∂b: the chain rule for w has one more factor, "
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
            causes=NEURON_CAUSES,
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
    3,
    NOTEBOOK,
    checked_by="the path equals the exact iterates w_k = (I − ηA)^k w_0 of gradient descent "
    "on ℒ(w) = ½ wᵀAw",
    forbid=("bpcourse.plots", "bpcourse.optim", "bpcourse.training", "bpcourse.widgets"),
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
            "{name} climbs: the step is w ← w − η ∇ℒ(w) (subtract the gradient, it points uphill)",
            _iterates(eye + GD_LR * A, GD_START, GD_STEPS),
        ),
        Mistake(
            "every row of {name} is the last point: you appended the same array each time and "
            "then changed it in place (w -= ...); append w.copy(), or write w = w - lr * grad(w)",
            np.tile(expected[-1], (GD_STEPS + 1, 1)),
        ),
        Mistake(
            "{name} leaves out the learning rate: the step is η ∇ℒ(w), not ∇ℒ(w)",
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
    3,
    NOTEBOOK,
    forbid=("bpcourse.plots", "bpcourse.optim", "bpcourse.widgets"),
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


# --- conceptual questions -----------------------------------------------------------------------

question(
    "q_difference_error",
    1,
    NOTEBOOK,
    "812680b5b58ed9314c1582704ca262cc89a09bd77b59b751f5a91ee0ce6059e7",
    kind="number",
    revisit="the error term of the central difference, (h²/6) f'''(x), for f(x) = x³ "
    "(f'''' = 0, so it is the whole error)",
)
question(
    "q_what_backprop_is",
    1,
    NOTEBOOK,
    "1105111aa0d27a778a64c0677e93bee0e0adc87047f0d653e86a7b32e127b74a",
    kind="letter",
    revisit="what the chain rule applied backwards computes, and which algorithm then uses it",
)
question(
    "q_linear_network",
    1,
    NOTEBOOK,
    "866db4d1a8153a5ff943c45eee17f4a359e0c510378e31983a0dcd57c03dd9de",
    kind="letter",
    revisit="what a composition of affine maps x ↦ W x + b is",
)
