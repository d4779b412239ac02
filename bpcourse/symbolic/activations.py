"""The activations in SymPy, each named as in `bpcourse.activations.ACTIVATIONS`, and the
LaTeX printer the symbolic tools share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from bpcourse.activations import ACTIVATIONS, LEAKY_RELU_SLOPE, Activation
from bpcourse.validation import lookup

SLOPE = sp.Rational(str(LEAKY_RELU_SLOPE))  # 1/100, exact, so proofs need no rounding
MAX_PARAMETERS = 200  # sympy.diff of a bigger network takes too long to be worth waiting for
KINK_MARGIN = 1e-6  # compare_with_backprop keeps every pre-activation this far from 0

Z = sp.Symbol("z", real=True)
A = sp.Symbol("a", real=True)


# --- the activations in SymPy ------------------------------------------------------------------


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + sp.exp(-z))


class Sigmoid(sp.Function):
    r"""$\sigma(z)$ as one SymPy node, so that a network's E reads like the notes.

    It differentiates itself with SymPy's own derivative of $1/(1+e^{-z})$, the derivative
    table's row (not the hand-written $\sigma(1-\sigma)$); a network is several times quicker
    to differentiate through it than through the written-out formula. Numbers evaluate;
    NumPy code and `.rewrite(sp.exp)` use the formula.
    """

    @classmethod
    def eval(cls, z: Any) -> Any:
        return _sigmoid(z) if z.is_Number else None

    def fdiff(self, argindex: int = 1) -> Any:
        return _sigmoid_derivative().xreplace({Z: self.args[0]})

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _eval_rewrite_as_exp(self, z: Any, **kwargs: Any) -> Any:
        return _sigmoid(z)

    def _numpycode(self, printer: Any) -> str:
        return str(printer._print(_sigmoid(self.args[0])))

    def _latex(self, printer: Any, exp: Any = None) -> str:
        power = f"^{{{exp}}}" if exp is not None else ""
        return rf"\sigma{power}\left({printer._print(self.args[0])}\right)"


@functools.cache
def _sigmoid_derivative() -> Any:
    return sp.diff(_sigmoid(Z), Z)


# f(z) as the networks use it (each name as in bpcourse.activations).
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sigmoid": Sigmoid,
    "tanh": sp.tanh,
    "relu": lambda z: sp.Max(0, z),
    "leaky_relu": lambda z: sp.Piecewise((z, z > 0), (SLOPE * z, True)),
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "identity": lambda z: z,
}

# f(z) as the table defines it, written out: the sigmoid's formula, and tanh from exponentials
# as the library's formula writes it, so that SymPy derives tanh' instead of quoting its rule.
DEFINITIONS: dict[str, Callable[[Any], Any]] = {
    **FUNCTIONS,
    "sigmoid": _sigmoid,
    "tanh": lambda z: (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)),
}

# The library's hand-written derivatives f'(z, a) with a = f(z), as in bpcourse.activations.
HAND_WRITTEN: dict[str, Callable[[Any, Any], Any]] = {
    "sigmoid": lambda z, a: a * (1 - a),
    "tanh": lambda z, a: 1 - a**2,
    "relu": lambda z, a: sp.Heaviside(z, 0),
    "leaky_relu": lambda z, a: sp.Piecewise((1, z > 0), (SLOPE, True)),
    "softplus": lambda z, a: _sigmoid(z),
    "identity": lambda z, a: sp.Integer(1),
}

_KINKED = ("relu", "leaky_relu")  # no derivative at z = 0


NOTES: dict[str, str] = {
    "sigmoid": r"SymPy's $e^{-z}/(1+e^{-z})^2$ is $\sigma(z)(1-\sigma(z)) = a(1-a)$.",
    "tanh": r"Defined from exponentials; the derivative is $1-\tanh^2(z) = 1-a^2$.",
    "relu": (
        r"SymPy differentiates $\max(0, z)$ to the Heaviside step $H(z)$, which SymPy defines "
        r"as $\tfrac12$ at $z=0$. ReLU has no derivative at 0: the library, like PyTorch, "
        r"uses 0 there, `sympy.Heaviside(z, 0)` $= \mathbb{1}[z>0]$. The two agree at every "
        r"$z \neq 0$ (proved for $z>0$ and $z<0$)."
    ),
    "leaky_relu": (
        r"No derivative at $z=0$ either; SymPy's piecewise derivative takes its 'otherwise' "
        rf"branch there, the slope {LEAKY_RELU_SLOPE}, which is the library's choice too."
    ),
    "softplus": r"The derivative of softplus is the sigmoid $\sigma(z) = 1/(1+e^{-z})$.",
    "identity": "",
}

# The element-wise activations of bpcourse.activations (softmax is not one): the names this
# package accepts come from the library's table, so a new activation cannot be forgotten here.
NAMES = tuple(name for name, act in ACTIVATIONS.items() if act.derivative is not None)
_missing = [
    name
    for name in NAMES
    for table in (FUNCTIONS, DEFINITIONS, HAND_WRITTEN, NOTES)
    if name not in table
]
if _missing or set(FUNCTIONS) != set(NAMES):
    raise ImportError(  # a maintainer's error: the SymPy side of a library activation is missing
        f"bpcourse.symbolic has no SymPy form of {sorted(set(_missing))}, or one the library lacks "
        f"({sorted(set(FUNCTIONS) - set(NAMES))}): add it to bpcourse/symbolic/activations.py"
    )

_TEX_NAMES = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{ReLU}",
    "leaky_relu": r"\mathrm{LReLU}",
    "softplus": r"\mathrm{softplus}",
}


def _activation_name(name: Any, what: str = "activation") -> str:
    """The lower-case name of a supported activation, or a ValueError listing them."""
    if isinstance(name, Activation):
        name = name.name
    if isinstance(name, str) and name.lower() == "softmax":
        raise ValueError(
            f"{what} 'softmax' is not supported here: it is not element-wise, so it has no row "
            "in the derivative table and is no layer of a symbolic network. For classification "
            "use output_activation='identity' with loss='softmax_cross_entropy' (the loss "
            "applies the softmax to the logits)."
        )
    return lookup(name, {n: n for n in NAMES}, what)


class _Printer(LatexPrinter):
    """SymPy's LaTeX, but Heaviside(z) reads H(z) and Heaviside(z, 0) reads 1[z > 0]."""

    def _print_Heaviside(self, expr: Any, exp: Any = None) -> str:
        arg = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if h0 == 0:
            tex = rf"\mathbb{{1}}\left[{arg} > 0\right]"
        elif h0 == sp.S.Half:
            tex = rf"H\left({arg}\right)"
        else:
            tex = rf"H_{{{self._print(h0)}}}\left({arg}\right)"
        return rf"\left({tex}\right)^{{{exp}}}" if exp is not None else tex


def latex(expr: Any) -> str:
    r"""LaTeX of a SymPy expression; Heaviside(z) prints as $H(z)$, Heaviside(z, 0) as
    $\mathbb{1}[z>0]$."""
    return str(_Printer().doprint(expr))


def _number(value: float | None) -> str:
    """A float as short LaTeX: 0.0123, -1.5 \\times 10^{-7}."""
    if value is None:
        return "?"
    text = f"{value:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text
