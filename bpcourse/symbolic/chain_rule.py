"""The chain rule made visible: ∂E/∂w as a product of factors, at numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from bpcourse.symbolic.activations import (
    HAND_WRITTEN,
    _number,
    latex,
)
from bpcourse.symbolic.network import (
    SymbolicNetwork,
    _symbol,
    _to_sympy,
)
from bpcourse.validation import is_int

# --- the chain rule made visible ----------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One factor (or one delta) of the chain rule: its name, its formula, its value."""

    label: str  # LaTeX of the name, e.g. \frac{\partial E}{\partial a^{(2)}_{1}}
    expr: Any  # the formula, in the node symbols z, a, delta and the parameters
    value: float | None  # at the given numbers (None when none were given)

    @property
    def latex(self) -> str:
        return latex(self.expr)

    def to_latex(self) -> str:
        shown = self.value is not None and not self.expr.is_number
        tail = f" = {_number(self.value)}" if shown else ""
        return f"{self.label} = {self.latex}{tail}"

    def _repr_latex_(self) -> str:
        return f"$${self.to_latex()}$$"


@dataclass(frozen=True)
class ChainRule:
    r"""dE/d(parameter) as dE/da_j * da_j/dz_j * dz_j/d(parameter), with the deltas it needs.

    `deltas` are the error terms delta^{(m)}_i = dE/dz^{(m)}_i of the layers above, from the
    output down (empty for an output-layer parameter): delta(L) = dE/da(L) * f'(z(L)), then
    delta_j = f'(z_j) sum_i w_ij delta_i. `derivative` is SymPy's dE/d(parameter) of the
    whole network, which the product of the factors must equal.
    """

    parameter: Any
    layer: int
    j: int
    k: int | None
    factors: tuple[Factor, ...]
    deltas: tuple[Factor, ...]
    derivative: Any
    derivative_value: float | None

    def __repr__(self) -> str:
        value = "" if self.product is None else f" = {self.product:.6g}"
        return (
            f"ChainRule(dE/d{self.parameter}{value}: {len(self.factors)} factors, "
            f"{len(self.deltas)} deltas; display it to see them)"
        )

    @property
    def product(self) -> float | None:
        """The product of the factors' values (None when no numbers were given)."""
        values = [f.value for f in self.factors]
        if any(v is None for v in values):
            return None
        return float(np.prod([float(v) for v in values if v is not None]))

    def to_latex(self) -> str:
        names = r"\,".join(f.label for f in self.factors)
        target = rf"\frac{{\partial E}}{{\partial {latex(self.parameter)}}}"
        lines = [f.to_latex().replace(" = ", " &= ", 1) for f in self.deltas]
        lines.append(rf"{target} &= {names}")
        lines += [f.to_latex().replace(" = ", " &= ", 1) for f in self.factors]
        da, dz = self.factors[0].value, self.factors[1].value
        delta_value = da * dz if da is not None and dz is not None else None
        lines.append(  # the error term of the unit: delta_j = f'(z_j) * dE/da_j
            rf"\delta^{{({self.layer})}}_{{{self.j}}} &= {self.factors[0].label}\,"
            rf"{self.factors[1].label}"
            + (f" = {_number(delta_value)}" if delta_value is not None else "")
        )
        if self.product is not None:
            shown = r" \cdot ".join(_number(f.value) for f in self.factors)
            lines.append(
                rf"{target} &= {shown} = {_number(self.product)}"
                rf"\quad\text{{(SymPy's derivative: {_number(self.derivative_value)})}}"
            )
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.to_latex()}$$"


def _check_index(value: Any, name: str, high: int, what: str) -> int:
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not 1 <= value <= high:
        raise ValueError(
            f"{name} must be between 1 and {high} ({what}, counted from 1), got {value}"
        )
    return int(value)


def _numeric_values(net: SymbolicNetwork, values: Mapping[Any, Any]) -> dict[Any, Any]:
    """{symbol: number} for x, t, W and b from {'x':.., 't':.., 'W':.., 'b':..} or symbols."""
    if all(isinstance(key, str) for key in values):
        missing = [key for key in ("x", "t", "W", "b") if key not in values]
        unknown = sorted(set(values) - {"x", "t", "W", "b"})
        if missing or unknown:
            raise ValueError(
                f"values must give x, t, W and b (e.g. dict(x=[1, 2], t=[0], W=[...], b=[...]));"
                f" missing {missing}, unknown {unknown}"
            )
        return net.values(values["x"], values["t"], values["W"], values["b"])
    if not all(isinstance(key, sp.Symbol) for key in values):
        raise TypeError(
            "values must be dict(x=..., t=..., W=[...], b=[...]) or {symbol: number}, "
            f"got keys {list(values)}"
        )
    subs = {key: _to_sympy(v, str(key)) for key, v in values.items()}
    missing_symbols = [s for s in [*net.x, *net.t, *net.parameters] if s not in subs]
    if missing_symbols:
        raise ValueError(f"values has no number for {', '.join(map(str, missing_symbols))}")
    return subs


def chain_rule_factors(
    net: SymbolicNetwork,
    layer: int,
    j: int,
    k: int | None,
    values: Mapping[Any, Any] | None = None,
) -> ChainRule:
    r"""The chain rule for the weight w^{(layer)}_{jk} (or the bias b^{(layer)}_j when k is None).

    Indices are counted from 1, as in the symbols' names. The factors are
    dE/da_j * da_j/dz_j * dz_j/dw_jk; for a hidden layer dE/da_j = sum_i w_ij delta_i of the
    layer above, and the deltas it needs are listed too. `values` gives the numbers, as
    dict(x=..., t=..., W=[...], b=[...]) or {symbol: number}; each factor is then evaluated.
    """
    if not isinstance(net, SymbolicNetwork):
        raise TypeError(f"net must be a SymbolicNetwork (from symbolic_network), got {net!r}")
    L = net.n_layers
    layer = _check_index(layer, "layer", L, f"the network has {L} layer(s)")
    j = _check_index(j, "j", net.sizes[layer], f"units of layer {layer}")
    if k is not None:
        k = _check_index(k, "k", net.sizes[layer - 1], f"units of layer {layer - 1}")
        parameter = net.W[layer - 1][j - 1, k - 1]
    else:
        parameter = net.b[layer - 1][j - 1]

    known: dict[Any, Any] | None = None
    if values is not None:
        known = _numeric_values(net, values)
        known.update(net.node_values(known))

    def evaluate(expr: Any) -> float | None:
        return None if known is None else float(expr.xreplace(known))

    def dE_da(ell: int, i: int) -> Any:
        """dE/da^{(l)}_i: from the loss at the output, else sum_r w_ri delta_r of layer l+1."""
        a_i = net.a_symbols[ell - 1][i - 1]
        if ell == L:
            return sp.diff(net.E_output, a_i)
        deltas_above = _delta_symbols(ell + 1, net.sizes[ell + 1])
        return sp.Add(
            *[d * sp.diff(z, a_i) for d, z in zip(deltas_above, net.z_local[ell], strict=True)]
        )

    def da_dz(ell: int, i: int) -> Any:
        """f'(z^{(l)}_i) in the library's hand-written form, in the node symbols z and a."""
        fprime = HAND_WRITTEN[net.layer_activation(ell)]
        return fprime(net.z_symbols[ell - 1][i - 1], net.a_symbols[ell - 1][i - 1])

    deltas: list[Factor] = []
    for m in range(L, layer, -1):
        for i, delta in enumerate(_delta_symbols(m, net.sizes[m]), start=1):
            expr = da_dz(m, i) * dE_da(m, i)
            value = evaluate(expr)
            if known is not None:
                known[delta] = sp.Float(value)
            deltas.append(Factor(latex(delta), expr, value))

    a_j, z_j = net.a_symbols[layer - 1][j - 1], net.z_symbols[layer - 1][j - 1]
    exprs = [dE_da(layer, j), da_dz(layer, j), sp.diff(net.z_local[layer - 1][j - 1], parameter)]
    labels = [
        rf"\frac{{\partial E}}{{\partial {latex(a_j)}}}",
        rf"\frac{{\partial {latex(a_j)}}}{{\partial {latex(z_j)}}}",
        rf"\frac{{\partial {latex(z_j)}}}{{\partial {latex(parameter)}}}",
    ]
    factors = tuple(Factor(lab, e, evaluate(e)) for lab, e in zip(labels, exprs, strict=True))
    derivative = net.derivative(parameter)
    return ChainRule(
        parameter, layer, j, k, factors, tuple(deltas), derivative, evaluate(derivative)
    )


def _delta_symbols(layer: int, n: int) -> list[Any]:
    return [_symbol(rf"\delta^{{({layer})}}_{{{i}}}") for i in range(1, n + 1)]
