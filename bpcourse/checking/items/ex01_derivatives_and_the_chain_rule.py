"""Graded items of exercises/01_derivatives_and_the_chain_rule.ipynb.

A derivative by hand is checked against SymPy's derivative of the same function, at a few
points: no answer is stored, SymPy derives it when the check runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from bpcourse.checking.compare import compare_number, not_a_number
from bpcourse.checking.diagnose import Mistake, diagnose_gradient
from bpcourse.checking.registry import Item, Problems, item
from bpcourse.checking.safe import call_safely

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
