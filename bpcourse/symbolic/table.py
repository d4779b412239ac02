"""The derivative table: SymPy derives each activation's f′ and proves it equal to the
library's hand-written form."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from bpcourse.symbolic.activations import (
    _KINKED,
    DEFINITIONS,
    HAND_WRITTEN,
    NAMES,
    NOTES,
    A,
    Z,
    _activation_name,
    latex,
)

# --- the derivative table -----------------------------------------------------------------------


@dataclass(frozen=True)
class DerivativeRow:
    """One row of the derivative table: SymPy's f'(z), simplified, and the library's form.

    `hand_written` is in z and the output a = f(z); `equal` is the proof that SymPy's
    derivative equals it once a = f(z) is put in (at every z != 0 for ReLU and Leaky ReLU,
    where the derivative does not exist at 0; `note` says what each side uses there).
    """

    name: str
    f: Any  # f(z)
    derived: Any  # sympy.diff(f, z), as SymPy gives it
    simplified: Any  # sympy.simplify(derived)
    hand_written: Any  # the library's f'(z, a)
    equal: bool
    note: str

    @property
    def f_latex(self) -> str:
        return latex(self.f)

    @property
    def derived_latex(self) -> str:
        return latex(self.derived)

    @property
    def simplified_latex(self) -> str:
        return latex(self.simplified)

    @property
    def hand_written_latex(self) -> str:
        return latex(self.hand_written)

    def as_tuple(self) -> tuple[str, str, str, str, bool]:
        """(name, f, f' as derived, the library's form, equal), the LaTeX as strings."""
        return self.name, self.f_latex, self.derived_latex, self.hand_written_latex, self.equal

    def _repr_markdown_(self) -> str:
        return DerivativeTable([self])._repr_markdown_()


class DerivativeTable(list[DerivativeRow]):
    """The rows of the derivative table; shows itself as a Markdown table in a notebook."""

    def to_markdown(self) -> str:
        lines = [
            "| activation | $f(z)$ | $f'(z)$ by SymPy | simplified | library, $a = f(z)$ | equal |",
            "|---|---|---|---|---|---|",
        ]
        for row in self:
            lines.append(
                f"| {row.name} | ${row.f_latex}$ | ${row.derived_latex}$ "
                f"| ${row.simplified_latex}$ | ${row.hand_written_latex}$ "
                f"| {'yes' if row.equal else 'NO'} |"
            )
        notes = [f"- **{row.name}**: {row.note}" for row in self if row.note]
        return "\n".join(lines + (["", *notes] if notes else []))

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return "\n".join(
            f"{r.name:<11} f = {r.f}   f' = {r.derived}   library: {r.hand_written}   "
            f"equal: {r.equal}"
            for r in self
        )

    __repr__ = __str__


def _proved_equal(derived: Any, hand: Any, kinked: bool) -> bool:
    """sympy.simplify(derived - hand) == 0; at a kink, separately for z > 0 and for z < 0."""
    difference = sp.simplify(derived - hand)
    if difference == 0:
        return True
    if not kinked:
        return False
    p = sp.Symbol("p", positive=True)
    return all(sp.simplify(difference.subs(Z, side)) == 0 for side in (p, -p))


@functools.cache
def _derive(name: str) -> DerivativeRow:
    f = DEFINITIONS[name](Z)
    derived = sp.diff(f, Z)
    hand = HAND_WRITTEN[name](Z, A)
    equal = _proved_equal(derived, hand.subs(A, f), kinked=name in _KINKED)
    return DerivativeRow(name, f, derived, sp.simplify(derived), hand, equal, NOTES[name])


def derive_activation(name: str) -> DerivativeRow:
    """SymPy's derivative of one activation, simplified and proved equal to the library's."""
    return _derive(_activation_name(name))


def verify_derivative(name: str) -> bool:
    """True when SymPy's f'(z) equals the library's hand-written f'(z, a = f(z))."""
    return derive_activation(name).equal


def derivative_table(names: Sequence[str] | None = None) -> DerivativeTable:
    """Every activation's row (or those named), shown as a Markdown table in a notebook."""
    return DerivativeTable(derive_activation(n) for n in (names or NAMES))
