r"""Activation functions and their derivatives, as one table.

Each entry of `ACTIVATIONS` pairs a function $f$ with its derivative $f'$. Where the math
allows, the derivative is written from the forward output $a = f(z)$, as the notes do:
$\sigma' = \sigma(1-\sigma)$, $\tanh' = 1-\tanh^2$. The backward pass of an activation
layer is then `dZ = dA * f'(z)`; softmax is the one exception (its Jacobian is not
diagonal) and has its own `softmax_backward`.

All functions are stable for extreme inputs (|z| = 1e4, and float16 at its limit ±6e4,
give no overflow warning), keep the dtype of their input, and refuse complex input with a
TypeError naming the function.

NaN and inf, one rule per kind of function. The element-wise activations give the
function's limit at ±inf (sigmoid(−inf) = 0, tanh(inf) = 1, relu(inf) = inf) and NaN for
NaN, without a warning. The functions of a row of logits (`softmax`, `log_softmax`,
`softmax_and_log_softmax`, `logsumexp`) raise NonFiniteError naming the first bad entry,
exactly as the losses do for their logits (`bpcourse.losses`): a non-finite logit has no
meaningful probability, and a NaN row would otherwise spread silently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpcourse.validation import check_finite, check_positive, lookup

LEAKY_RELU_SLOPE = 0.01


def real_array(z: np.ndarray, name: str) -> np.ndarray:
    """`z` as an array of real numbers, or a TypeError naming the function (complex input
    would otherwise give a silently wrong real answer, e.g. sigmoid(1+1j) = 0.73)."""
    z = np.asarray(z)
    if z.dtype.kind not in "biuf":
        raise TypeError(f"{name}: input must hold real numbers, got dtype {z.dtype}")
    return z


def finite_logits(z: np.ndarray, name: str) -> np.ndarray:
    """`z` as a real array with no NaN or inf, else TypeError / NonFiniteError naming `name`."""
    return check_finite(real_array(z, name), f"{name}: input")


def _computing_dtype(z: np.ndarray) -> np.ndarray:
    """float16 as float32: exp and max-shifts of float16 overflow near its limit 65504."""
    return z.astype(np.float32) if z.dtype == np.float16 else z


# Each f, then its derivative f'(z, a), given both z and a = f(z); each uses whichever is
# simpler.


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""$\sigma(z) = 1/(1+e^{-z})$, computed from $e^{-|z|}$ so it never overflows."""
    z = real_array(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * (1 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(real_array(z, "tanh"))


def tanh_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return 1 - a * a


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(real_array(z, "relu"), 0)


def relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1 where z > 0, else 0. At z = 0 exactly we use 0 (a subgradient), as PyTorch does."""
    return (z > 0).astype(a.dtype)


def leaky_relu(z: np.ndarray, slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    z = real_array(z, "leaky_relu")
    return np.where(z > 0, z, slope * z)


def leaky_relu_derivative(
    z: np.ndarray, a: np.ndarray, slope: float = LEAKY_RELU_SLOPE
) -> np.ndarray:
    """1 where z > 0, else the slope (also at z = 0)."""
    return np.where(z > 0, 1.0, slope).astype(a.dtype)


def softplus(z: np.ndarray) -> np.ndarray:
    r"""$\log(1+e^z)$, computed as `logaddexp(0, z)` so it never overflows."""
    z = real_array(z, "softplus")
    with np.errstate(invalid="ignore"):  # NaN in, NaN out, without a warning (as the others)
        return np.logaddexp(0, z)


def softplus_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """softplus'(z) = sigmoid(z)."""
    return sigmoid(z)


def identity(z: np.ndarray) -> np.ndarray:
    return real_array(z, "identity")


def identity_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.ones_like(a)


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    r"""$\log\sum_i e^{z_i}$ along `axis`, shifted by the maximum so it never overflows."""
    z = finite_logits(z, "logsumexp")
    dtype, z = z.dtype, _computing_dtype(z)
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    out = out if keepdims else np.squeeze(out, axis=axis)
    return out.astype(dtype, copy=False) if dtype.kind == "f" else out


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""$\mathrm{softmax}(z)_i = e^{z_i}/\sum_j e^{z_j}$ along `axis` (rows of a batch)."""
    z = finite_logits(z, "softmax")
    dtype, z = z.dtype, _computing_dtype(z)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    p = e / np.sum(e, axis=axis, keepdims=True)
    return p.astype(dtype, copy=False) if dtype.kind == "f" else p


def softmax_and_log_softmax(
    z: np.ndarray, axis: int = -1, name: str = "softmax", validated: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    r"""softmax(z) and log(softmax(z)) together, sharing the work.

    With $m = \max_j z_j$ and $s = \sum_j e^{z_j - m}$: $p = e^{z-m}/s$ and
    $\log p = (z - m) - \log s$. Subtracting $m$ first keeps $e^{z-m} \le 1$ (no overflow),
    and $\log p$ never takes the log of an underflowed 0. float16 is computed in float32;
    its log p stays float32 (it can lie far below float16's limit of -65504).
    `validated=True`: z is already known real and finite (the losses check their logits).
    """
    z = z if validated else finite_logits(z, name)
    dtype, z = z.dtype, _computing_dtype(z)
    log_p = z - z.max(axis=axis, keepdims=True)  # z - m, made log p in place below
    p = np.exp(log_p)
    s = p.sum(axis=axis, keepdims=True)
    p /= s
    log_p -= np.log(s)
    if dtype == np.float16:
        return p.astype(dtype), log_p
    return p, log_p


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(z)), stable for any input (see `softmax_and_log_softmax`)."""
    return softmax_and_log_softmax(z, axis, "log_softmax")[1]


def softmax_backward(dA: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""dZ from dA through softmax rows: $dZ = a \odot (dA - \sum_j dA_j a_j)$. Shapes (N, C)."""
    return a * (dA - np.sum(dA * a, axis=-1, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative and their formulas (LaTeX)."""

    name: str
    function: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    formula: str
    derivative_formula: str

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.function(z)

    def backward(self, dA: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """dZ = dA * f'(z) for element-wise activations; the Jacobian product for softmax."""
        if self.derivative is None:
            return softmax_backward(dA, a)
        return dA * self.derivative(z, a)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation(
            "sigmoid",
            sigmoid,
            sigmoid_derivative,
            r"\sigma(z) = \frac{1}{1+e^{-z}}",
            r"\sigma'(z) = \sigma(z)\,(1-\sigma(z))",
        ),
        Activation(
            "tanh",
            tanh,
            tanh_derivative,
            r"\tanh(z) = \frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}",
            r"\tanh'(z) = 1-\tanh^2(z)",
        ),
        Activation(
            "relu",
            relu,
            relu_derivative,
            r"\mathrm{ReLU}(z) = \max(0, z)",
            r"\mathrm{ReLU}'(z) = 1 \text{ if } z>0 \text{ else } 0",
        ),
        Activation(
            "leaky_relu",
            leaky_relu,
            leaky_relu_derivative,
            rf"\mathrm{{LReLU}}(z) = z \text{{ if }} z>0 \text{{ else }} {LEAKY_RELU_SLOPE}\,z",
            rf"\mathrm{{LReLU}}'(z) = 1 \text{{ if }} z>0 \text{{ else }} {LEAKY_RELU_SLOPE}",
        ),
        Activation(
            "softplus",
            softplus,
            softplus_derivative,
            r"\mathrm{softplus}(z) = \log(1+e^{z})",
            r"\mathrm{softplus}'(z) = \sigma(z)",
        ),
        Activation("identity", identity, identity_derivative, r"f(z) = z", r"f'(z) = 1"),
        Activation(
            "softmax",
            softmax,
            None,
            r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
            r"\frac{\partial a_i}{\partial z_j} = a_i(\mathbb{1}[i=j]-a_j)",
        ),
    ]
}


def leaky_relu_activation(slope: float = LEAKY_RELU_SLOPE) -> Activation:
    """Leaky ReLU with its own `slope`, used by f and by f' alike (the table's has 0.01)."""
    slope = check_positive(slope, "leaky_relu: slope", allow_zero=True)
    return Activation(
        "leaky_relu",
        functools.partial(leaky_relu, slope=slope),
        functools.partial(leaky_relu_derivative, slope=slope),
        rf"\mathrm{{LReLU}}(z) = z \text{{ if }} z>0 \text{{ else }} {slope:g}\,z",
        rf"\mathrm{{LReLU}}'(z) = 1 \text{{ if }} z>0 \text{{ else }} {slope:g}",
    )


def get_activation(name: str | Activation) -> Activation:
    """Look up an activation by name (case-insensitive); unknown names list the valid ones."""
    if isinstance(name, Activation):
        return name
    return lookup(name, ACTIVATIONS, "activation")
