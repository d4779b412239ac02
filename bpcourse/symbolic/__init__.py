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

Modules: `activations` (the activations in SymPy, named as in `bpcourse.activations`, and
the LaTeX printer), `table` (the derivative table), `network` (losses and symbolic networks),
`chain_rule` (the chain-rule display), `bridge` (SymPy against the library's backprop).

Only this package imports SymPy: `import bpcourse` does not load it.
"""

from bpcourse.gradcheck import relative_error
from bpcourse.symbolic.activations import (
    DEFINITIONS,
    FUNCTIONS,
    HAND_WRITTEN,
    KINK_MARGIN,
    MAX_PARAMETERS,
    NAMES,
    NOTES,
    SLOPE,
    A,
    Sigmoid,
    Z,
    latex,
)
from bpcourse.symbolic.bridge import _random_point, compare_with_backprop
from bpcourse.symbolic.chain_rule import ChainRule, Factor, chain_rule_factors
from bpcourse.symbolic.network import (
    LOSS_FUNCTIONS,
    GradientFunction,
    SymbolicNetwork,
    symbolic_network,
)
from bpcourse.symbolic.table import (
    DerivativeRow,
    DerivativeTable,
    _proved_equal,
    derivative_table,
    derive_activation,
    verify_derivative,
)

__all__ = [
    "DEFINITIONS",
    "FUNCTIONS",
    "HAND_WRITTEN",
    "KINK_MARGIN",
    "LOSS_FUNCTIONS",
    "MAX_PARAMETERS",
    "NAMES",
    "NOTES",
    "SLOPE",
    "A",
    "ChainRule",
    "DerivativeRow",
    "DerivativeTable",
    "Factor",
    "GradientFunction",
    "Sigmoid",
    "SymbolicNetwork",
    "Z",
    "_proved_equal",
    "_random_point",
    "chain_rule_factors",
    "compare_with_backprop",
    "derivative_table",
    "derive_activation",
    "latex",
    "relative_error",
    "symbolic_network",
    "verify_derivative",
]
