r"""Symbolic gradients with SymPy: the derivative table derived, small networks as one formula.

Three tools, for lessons 01, 04 and 05:

- **The derivative table, derived.** `derive_activation("sigmoid")` asks SymPy for $f'(z)$,
  simplifies it, and proves it equal to the library's hand-written form, written from the
  output $a = f(z)$ as the notes do: $\sigma' = a(1-a)$, $\tanh' = 1-a^2$,
  $\mathrm{softplus}' = \sigma(z)$, $\mathrm{ReLU}' = \mathbb{1}[z>0]$, Leaky ReLU piecewise.
  `derivative_table()` shows every row in a notebook; `verify_derivative(name)` is the proof.
- **Small networks as formulas.** `symbolic_network([2, 2, 1])` writes the loss E of ONE
  example in named symbols: weights $w^{(l)}_{jk}$ (from unit k of layer l-1 to unit j of
  layer l, so $W^{(l)}$ has shape (n_out, n_in) as in the code), biases $b^{(l)}_j$, inputs
  $x_k$ and targets $t_j$, counted from 1 as in the math. `gradient()` differentiates E with
  `sympy.diff`; `lambdify_gradient()` turns the result into a NumPy function.
- **The bridge to code.** `chain_rule_factors` shows $\partial E/\partial w =
  \partial E/\partial a \cdot \partial a/\partial z \cdot \partial z/\partial w$ (with the
  $\delta$ recursion for a hidden weight) at numbers; `compare_with_backprop` checks the
  library's backprop against SymPy's gradient.

Only this module imports SymPy: `import bpcourse` does not load it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter

from bpcourse.activations import ACTIVATIONS, LEAKY_RELU_SLOPE, Activation
from bpcourse.gradcheck import relative_error
from bpcourse.network import MLP
from bpcourse.validation import ShapeError, as_float_array, lookup

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
    return lookup(name, {n: n for n in FUNCTIONS}, what)


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
    return DerivativeTable(derive_activation(n) for n in (names or list(FUNCTIONS)))


# --- losses of one example in SymPy ------------------------------------------------------------


def _half_squared_error(a: list[Any], t: list[Any]) -> Any:
    return sp.Rational(1, 2) * sp.Add(*[(aj - tj) ** 2 for aj, tj in zip(a, t, strict=True)])


def _mse(a: list[Any], t: list[Any]) -> Any:
    return sp.Add(*[(aj - tj) ** 2 for aj, tj in zip(a, t, strict=True)]) / len(a)


def _binary_cross_entropy(a: list[Any], t: list[Any]) -> Any:
    # From the logit z: -t log sigma(z) - (1-t) log(1 - sigma(z)) = softplus(z) - t z.
    return sp.log(1 + sp.exp(a[0])) - t[0] * a[0]


def _softmax_cross_entropy(a: list[Any], t: list[Any]) -> Any:
    # From the logits z: -sum_c t_c log softmax(z)_c, with log softmax(z)_c = z_c - log sum e^z.
    log_sum = sp.log(sp.Add(*[sp.exp(zc) for zc in a]))
    return -sp.Add(*[tc * (zc - log_sum) for zc, tc in zip(a, t, strict=True)])


# name -> (E of the outputs a and targets t, what the last layer must produce)
LOSS_FUNCTIONS: dict[str, tuple[Callable[[list[Any], list[Any]], Any], str]] = {
    "half_squared_error": (_half_squared_error, "values"),
    "mse": (_mse, "values"),
    "binary_cross_entropy": (_binary_cross_entropy, "logits"),
    "softmax_cross_entropy": (_softmax_cross_entropy, "logits"),
}


# --- symbolic networks --------------------------------------------------------------------------


def _check_sizes(sizes: Any) -> list[int]:
    """Layer sizes as a list of ints >= 1 (at least two), small enough to differentiate."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(
            f"sizes must be a list of layer sizes such as [2, 2, 1], "
            f"got {type(sizes).__name__} {sizes!r}"
        )
    sizes = list(sizes)
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"layer sizes must be whole numbers, got {n!r} ({type(n).__name__}) "
                f"at position {i} of {sizes}"
            )
        if n < 1:
            raise ValueError(f"layer sizes must be at least 1, got {n} at position {i} of {sizes}")
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2:
        raise ValueError(
            "a network needs at least an input and an output size, e.g. [2, 1] for one neuron "
            f"or [2, 2, 1]; got {sizes}"
        )
    n_params = sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"a {sizes} network has {n_params} parameters; symbolic differentiation is for small "
            f"networks (at most {MAX_PARAMETERS}). Check bigger ones with bpcourse.gradcheck."
        )
    return sizes


def _vector(value: Any, name: str, n: int, dtype: Any = object) -> np.ndarray:
    """The n entries of a vector given with shape (n,), (1, n) or (n, 1) (or () when n = 1)."""
    arr = np.asarray(value, dtype=dtype)
    if not (arr.shape in ((n,), (1, n), (n, 1)) or (arr.shape == () and n == 1)):
        raise ShapeError(f"{name} must hold {n} number(s), shape ({n},); got shape {arr.shape}")
    return arr.ravel()


def _matrix(value: Any, name: str, shape: tuple[int, int], dtype: Any = object) -> np.ndarray:
    """The entries, row by row, of a matrix of the given shape."""
    arr = np.asarray(value, dtype=dtype)
    if arr.shape != shape:
        raise ShapeError(f"{name} must have shape {shape} (n_out, n_in); got shape {arr.shape}")
    return arr.ravel()


def _per_layer(value: Any, name: str, n_layers: int) -> list[Any]:
    if isinstance(value, np.ndarray) or not isinstance(value, (list, tuple)):
        raise TypeError(
            f"{name} must be a list with one array per layer ({n_layers}), "
            f"got {type(value).__name__}"
        )
    if len(value) != n_layers:
        raise ShapeError(f"{name} must hold one array per layer ({n_layers}), got {len(value)}")
    return list(value)


def _to_sympy(entry: Any, name: str) -> Any:
    try:
        value = sp.sympify(entry)
    except sp.SympifyError:
        value = None
    if not (isinstance(value, sp.Expr) and value.is_number):
        raise TypeError(f"{name} must hold numbers, got {entry!r}")
    return value


def _with_relu_convention(expr: Any) -> Any:
    """Heaviside(z) (H(0) = 1/2, from differentiating Max) -> Heaviside(z, 0), the library's."""
    steps = expr.atoms(sp.Heaviside)
    return expr.xreplace({h: sp.Heaviside(h.args[0], 0) for h in steps}) if steps else expr


class GradientFunction:
    """grad(x, t, W, b) -> [dW1, db1, dW2, db2, ...] as NumPy arrays in the library's shapes.

    x holds n_0 numbers, t holds n_L; W and b are lists with one array per layer, W[l-1] of
    shape (n_l, n_{l-1}) and b[l-1] of shape (n_l,): the order of `MLP.parameters()`.
    `raw` is the function SymPy's lambdify made, taking every number as its own argument.
    """

    def __init__(self, net: SymbolicNetwork, raw: Callable[..., Any]) -> None:
        self.net, self.raw = net, raw

    def __call__(self, x: Any, t: Any, W: Any, b: Any) -> list[np.ndarray]:
        flat = self.raw(*self.net.numbers(x, t, W, b))
        grads, start = [], 0
        for shape in self.net.parameter_shapes:
            size = int(np.prod(shape))
            grads.append(np.asarray(flat[start : start + size], dtype=np.float64).reshape(shape))
            start += size
        return grads

    def __repr__(self) -> str:
        return f"GradientFunction({self.net!r})"


class SymbolicNetwork:
    """A small network and its loss E for ONE example, as SymPy expressions in named symbols.

    Lists hold one entry per layer l = 1..L at index l-1 (W[0] is layer 1, 'dense1' in MLP):
    - x: Matrix (n_0, 1) of inputs x_k; t: Matrix (n_L, 1) of targets t_j
    - W[l-1]: Matrix (n_l, n_{l-1}) of weights w^{(l)}_{jk}; b[l-1]: Matrix (n_l, 1) of b^{(l)}_j
    - z[l-1], a[l-1]: Matrix (n_l, 1), z(l) = W(l) a(l-1) + b(l) and a(l) = f(z(l)), written
      out in x, W and b (a(0) = x)
    - E: the loss, one expression in x, t, W and b
    The node symbols z^{(l)}_j, a^{(l)}_j (`z_symbols`, `a_symbols`), the one-layer formulas
    `z_local` (z(l) in W(l), b(l) and the symbols a(l-1)) and `E_output` (E in the symbols
    a(L) and t) are what the chain rule is written in.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        loss: str = "half_squared_error",
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.activation = _activation_name(activation)
        self.loss = lookup(getattr(loss, "name", loss), {n: n for n in LOSS_FUNCTIONS}, "loss")
        loss_function, output_kind = LOSS_FUNCTIONS[self.loss]
        n_out = self.sizes[-1]
        output = None
        if output_activation is not None:
            output = _activation_name(output_activation, "output_activation")
        if output_kind == "logits":
            if output not in (None, "identity"):
                raise ValueError(
                    f"{self.loss} takes logits: the output layer must be 'identity', got "
                    f"output_activation={output_activation!r} (the loss applies the "
                    f"{'sigmoid' if self.loss == 'binary_cross_entropy' else 'softmax'} itself)"
                )
            output = "identity"
        # None: the hidden activation, as in the notes' network (sigmoid all through)
        self.output_activation = output or self.activation
        if self.loss == "binary_cross_entropy" and n_out != 1:
            raise ValueError(
                f"binary_cross_entropy needs exactly 1 output unit, got {n_out} (sizes "
                f"{self.sizes}); for several classes use loss='softmax_cross_entropy'"
            )
        if self.loss == "softmax_cross_entropy" and n_out < 2:
            raise ValueError(
                f"softmax_cross_entropy needs at least 2 output units (one per class), got "
                f"{n_out}; for two classes with one output use loss='binary_cross_entropy'"
            )

        wide = max(self.sizes) > 9  # w_{1,12}, not w_{112}
        self.x = sp.Matrix([_symbol(f"x_{{{k}}}") for k in range(1, self.sizes[0] + 1)])
        self.t = sp.Matrix([_symbol(f"t_{{{j}}}") for j in range(1, n_out + 1)])
        self.W: list[Any] = []
        self.b: list[Any] = []
        self.z: list[Any] = []
        self.a: list[Any] = []
        self.z_symbols: list[Any] = []
        self.a_symbols: list[Any] = []
        self.z_local: list[Any] = []
        a_prev, a_prev_symbols = self.x, self.x
        for ell, (n_in, n) in enumerate(itertools.pairwise(self.sizes), start=1):
            W = sp.Matrix(
                [
                    [_symbol(f"w^{{({ell})}}_{{{_jk(j, k, wide)}}}") for k in range(n_in)]
                    for j in range(n)
                ]
            )
            b = sp.Matrix([_symbol(f"b^{{({ell})}}_{{{j}}}") for j in range(1, n + 1)])
            f = FUNCTIONS[self.layer_activation(ell)]
            z = W * a_prev + b
            a = z.applyfunc(f)
            self.W.append(W)
            self.b.append(b)
            self.z.append(z)
            self.a.append(a)
            self.z_symbols.append(
                sp.Matrix([_symbol(f"z^{{({ell})}}_{{{j}}}") for j in range(1, n + 1)])
            )
            self.a_symbols.append(
                sp.Matrix([_symbol(f"a^{{({ell})}}_{{{j}}}") for j in range(1, n + 1)])
            )
            self.z_local.append(W * a_prev_symbols + b)
            a_prev, a_prev_symbols = a, self.a_symbols[-1]
        self.E_output = loss_function(list(self.a_symbols[-1]), list(self.t))
        self.E = self.E_output.xreplace(dict(zip(self.a_symbols[-1], self.a[-1], strict=True)))
        self.parameters: list[Any] = [
            s for W, b in zip(self.W, self.b, strict=True) for s in itertools.chain(W, b)
        ]
        self._gradient: dict[Any, Any] | None = None

    # -- layout --

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def parameter_names(self) -> list[str]:
        """['dense1.W', 'dense1.b', ...], the names of `MLP.parameters()`."""
        return [f"dense{ell}.{p}" for ell in range(1, self.n_layers + 1) for p in "Wb"]

    @property
    def parameter_shapes(self) -> list[tuple[int, ...]]:
        """[(n_1, n_0), (n_1,), (n_2, n_1), (n_2,), ...], the shapes of the library's W and b."""
        shapes: list[tuple[int, ...]] = []
        for n_in, n_out in itertools.pairwise(self.sizes):
            shapes += [(n_out, n_in), (n_out,)]
        return shapes

    def layer_activation(self, layer: int) -> str:
        """The activation's name at layer l (1..L): the output activation at l = L."""
        return self.output_activation if layer == self.n_layers else self.activation

    # -- derivatives --

    def derivative(self, parameter: Any) -> Any:
        """dE/d(parameter) by sympy.diff, unsimplified; ReLU's step uses H(0) = 0."""
        if self._gradient is not None:
            return self._gradient[parameter]
        return _with_relu_convention(sp.diff(self.E, parameter))

    def gradient(self) -> dict[Any, Any]:
        """{parameter symbol: dE/d(parameter)}, by sympy.diff, in the order of `parameters`.

        Never simplified: simplifying a network's gradient takes minutes and gains nothing.
        """
        if self._gradient is None:
            self._gradient = {p: self.derivative(p) for p in self.parameters}
        return dict(self._gradient)

    def lambdify_gradient(self, cse: bool = True) -> GradientFunction:
        """The gradient as a NumPy function grad(x, t, W, b) -> [dW1, db1, dW2, db2, ...].

        With cse=True (the default) lambdify computes each common subexpression once, which
        is what makes the evaluation fast.
        """
        gradient = self.gradient()
        arguments = self._symbols(x=True, t=True, W=True, b=True)  # the order of `numbers`
        raw = sp.lambdify(arguments, [gradient[p] for p in self.parameters], "numpy", cse=cse)
        return GradientFunction(self, raw)

    # -- numbers --

    def numbers(self, x: Any, t: Any, W: Any, b: Any) -> list[float]:
        """x, t and every W and b entry as one flat list of floats, checked against the sizes."""
        return np.concatenate([part for part, _ in self._parts(x, t, W, b, float)]).tolist()

    def values(self, x: Any = None, t: Any = None, W: Any = None, b: Any = None) -> dict[Any, Any]:
        """{symbol: SymPy number} for whatever is given (numbers stay exact when exact)."""
        symbols = self._symbols(x is not None, t is not None, W is not None, b is not None)
        entries = [(v, name) for part, name in self._parts(x, t, W, b, object) for v in part]
        return {s: _to_sympy(v, name) for s, (v, name) in zip(symbols, entries, strict=True)}

    def substitute(
        self, expr: Any = None, *, x: Any = None, t: Any = None, W: Any = None, b: Any = None
    ) -> Any:
        """`expr` (E by default) with the given numbers put in for x, t, W and b."""
        target = self.E if expr is None else expr
        return target.xreplace(self.values(x, t, W, b))

    def _symbols(self, x: bool, t: bool, W: bool, b: bool) -> list[Any]:
        symbols: list[Any] = [*(self.x if x else []), *(self.t if t else [])]
        if W:
            symbols += [s for Wl in self.W for s in Wl]
        if b:
            symbols += [s for bl in self.b for s in bl]
        return symbols

    def _parts(self, x: Any, t: Any, W: Any, b: Any, dtype: Any) -> list[tuple[np.ndarray, str]]:
        """(flat entries, name for messages) of the given parts, in the order of `_symbols`.

        dtype float checks that the entries are real numbers; object keeps SymPy numbers.
        """

        def array(value: Any, name: str) -> Any:
            return as_float_array(value, name, np.float64) if dtype is float else value

        parts: list[tuple[np.ndarray, str]] = []
        if x is not None:
            parts.append((_vector(array(x, "x"), "x", self.sizes[0], dtype), "x"))
        if t is not None:
            t = array(self._target(t), "t")
            parts.append((_vector(t, "t", self.sizes[-1], dtype), "t"))
        L = self.n_layers
        if W is not None:
            for ell, Wl in enumerate(_per_layer(W, "W", L), start=1):
                name, shape = f"W[{ell - 1}] (layer {ell})", (self.sizes[ell], self.sizes[ell - 1])
                parts.append((_matrix(array(Wl, name), name, shape, dtype), name))
        if b is not None:
            for ell, bl in enumerate(_per_layer(b, "b", L), start=1):
                name = f"b[{ell - 1}] (layer {ell})"
                parts.append((_vector(array(bl, name), name, self.sizes[ell], dtype), name))
        return parts

    def _target(self, t: Any) -> Any:
        """For softmax cross-entropy an integer label is turned into its one-hot vector."""
        is_label = isinstance(t, (int, np.integer)) and not isinstance(t, bool)
        if self.loss == "softmax_cross_entropy" and is_label:
            if not 0 <= t < self.sizes[-1]:
                raise ValueError(f"label t must lie in [0, {self.sizes[-1]}), got {t}")
            return np.eye(self.sizes[-1])[int(t)]
        return t

    def node_values(self, values: Mapping[Any, Any]) -> dict[Any, Any]:
        """The forward pass at numbers: {z^{(l)}_j: value, a^{(l)}_j: value} for every unit."""
        known = dict(values)
        out: dict[Any, Any] = {}
        for ell in range(1, self.n_layers + 1):
            f = FUNCTIONS[self.layer_activation(ell)]
            for z_sym, a_sym, z_expr in zip(
                self.z_symbols[ell - 1], self.a_symbols[ell - 1], self.z_local[ell - 1], strict=True
            ):
                z_value = z_expr.xreplace(known)
                known[z_sym] = out[z_sym] = z_value
                known[a_sym] = out[a_sym] = f(z_value)
        return out

    # -- display --

    def equations(self) -> str:
        """The network layer by layer, and its loss, as LaTeX (an aligned block)."""
        lines = []
        for ell in range(1, self.n_layers + 1):
            a_prev = self.x if ell == 1 else self.a_symbols[ell - 2]
            lines.append(
                rf"{latex(self.z_symbols[ell - 1])} &= {latex(self.W[ell - 1])}\,{latex(a_prev)}"
                rf" + {latex(self.b[ell - 1])}"
            )
            name = self.layer_activation(ell)
            f = _TEX_NAMES.get(name)
            rhs = rf"{f}\left(z^{{({ell})}}\right)" if f else rf"z^{{({ell})}}"
            lines.append(rf"a^{{({ell})}} &= {rhs}")
        lines.append(rf"E &= {latex(self.E_output)}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.equations()}$$"

    def __repr__(self) -> str:
        return (
            f"SymbolicNetwork({self.sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, loss={self.loss!r})"
        )


def _symbol(name: str) -> Any:
    return sp.Symbol(name, real=True)


def _jk(j: int, k: int, wide: bool) -> str:
    """The subscript jk of a weight, counted from 1 (j, k are 0-based matrix indices)."""
    return f"{j + 1},{k + 1}" if wide else f"{j + 1}{k + 1}"


def symbolic_network(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output_activation: str | None = None,
    loss: str = "half_squared_error",
) -> SymbolicNetwork:
    """The loss E of a small network for one example, as a SymPy expression.

    `sizes` like [2, 1] (one neuron), [2, 2, 1] or [2, 3, 2]. `output_activation=None` means
    `activation` for half_squared_error and mse (the notes' network is sigmoid all through)
    and 'identity' (logits) for the two cross-entropies, which take logits.
    """
    return SymbolicNetwork(sizes, activation, output_activation, loss)


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
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
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


# --- the bridge to code ---------------------------------------------------------------------------


def _random_point(
    net: SymbolicNetwork, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Random x, t, W, b with every pre-activation at least KINK_MARGIN away from 0."""
    pairs = list(itertools.pairwise(net.sizes))
    for _ in range(1000):
        x = rng.normal(size=net.sizes[0])
        W = [rng.normal(size=(n_out, n_in)) for n_in, n_out in pairs]
        b = [rng.normal(scale=0.5, size=n_out) for _, n_out in pairs]
        a, near_kink = x, False
        for ell, (Wl, bl) in enumerate(zip(W, b, strict=True), start=1):
            z = Wl @ a + bl
            near_kink |= bool(np.any(np.abs(z) < KINK_MARGIN))
            a = ACTIVATIONS[net.layer_activation(ell)](z)
        if not near_kink:
            break
    else:
        raise RuntimeError(f"no random point in 1000 away from every kink of {net!r}")
    n_out = net.sizes[-1]
    if net.loss == "softmax_cross_entropy":
        t = np.eye(n_out)[rng.integers(n_out)]
    elif net.loss == "binary_cross_entropy":
        t = rng.integers(0, 2, size=n_out).astype(np.float64)
    else:
        t = rng.uniform(0.0, 1.0, size=n_out)
    return x, t, W, b


def compare_with_backprop(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output_activation: str | None = None,
    loss: str = "half_squared_error",
    n_points: int = 5,
    seed: int = 0,
) -> float:
    """The largest relative error between SymPy's gradient and the library's backprop.

    Builds the symbolic network and `MLP(sizes, ...)` with the same activations, puts the
    same random weights in both, and compares every parameter's gradient at `n_points`
    random single examples (N = 1: the symbolic loss is for one example, and the library's
    average over a batch of one is that same loss). Relative error per parameter tensor,
    ||a - s|| / max(||a||, ||s||, tiny), as in bpcourse.gradcheck. Expect about 1e-16.
    """
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 1:
        raise ValueError(f"n_points must be a positive int, got {n_points!r}")
    net = symbolic_network(sizes, activation, output_activation, loss)
    grad = net.lambdify_gradient()
    mlp = MLP(net.sizes, net.activation, net.output_activation, seed=seed)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_points):
        x, t, W, b = _random_point(net, rng)
        for p, value in zip(
            mlp.parameters(), itertools.chain(*zip(W, b, strict=True)), strict=True
        ):
            p.value[...] = value
        mlp.loss_and_backward(x[None, :], t[None, :], net.loss)
        for p, g in zip(mlp.parameters(), grad(x, t, W, b), strict=True):
            worst = max(worst, relative_error(p.grad, g))
    return worst
