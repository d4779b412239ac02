"""Small networks as one formula: the loss E of one example in named symbols, its gradient
by `sympy.diff`, and that gradient as a NumPy function."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from bpcourse.symbolic.activations import (
    _TEX_NAMES,
    FUNCTIONS,
    MAX_PARAMETERS,
    _activation_name,
    latex,
)
from bpcourse.validation import ShapeError, as_float_array, is_int, lookup

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
        if not is_int(n):
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
        is_label = is_int(t)
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
