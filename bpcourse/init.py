r"""Weight initialisations for a weight matrix of shape (n_out, n_in).

| name | distribution | scale |
|---|---|---|
| uniform | $U(-a, a)$ | $a = 0.05$ (or `scale`) |
| normal | $N(0, s^2)$ | $s = 0.01$ (or `scale`) |
| xavier_uniform | $U(-a, a)$ | $a = \sqrt{6/(n_{in}+n_{out})}$ (Glorot & Bengio 2010) |
| xavier_normal | $N(0, s^2)$ | $s = \sqrt{2/(n_{in}+n_{out})}$ |
| he_uniform | $U(-a, a)$ | $a = \sqrt{6/n_{in}}$ (He et al. 2015) |
| he_normal | $N(0, s^2)$ | $s = \sqrt{2/n_{in}}$ |

Xavier keeps the variance of activations and gradients steady through sigmoid/tanh layers;
He does the same for ReLU, which zeroes half its inputs (hence the factor 2). Biases start at 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.validation import lookup

Initialiser = Callable[[int, int, np.random.Generator, "float | None"], np.ndarray]


def uniform(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    a = 0.05 if scale is None else scale
    return rng.uniform(-a, a, size=(n_out, n_in))


def normal(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    s = 0.01 if scale is None else scale
    return rng.normal(0.0, s, size=(n_out, n_in))


def xavier_uniform(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    return uniform(n_out, n_in, rng, np.sqrt(6.0 / (n_in + n_out)))


def xavier_normal(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    return normal(n_out, n_in, rng, np.sqrt(2.0 / (n_in + n_out)))


def he_uniform(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    return uniform(n_out, n_in, rng, np.sqrt(6.0 / n_in))


def he_normal(n_out: int, n_in: int, rng: np.random.Generator, scale: float | None = None):
    return normal(n_out, n_in, rng, np.sqrt(2.0 / n_in))


INITIALISERS: dict[str, Initialiser] = {
    "uniform": uniform,
    "normal": normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}


def default_init_for(activation: str) -> str:
    """He for the ReLU family, Xavier otherwise: the usual pairing."""
    return "he_normal" if activation in ("relu", "leaky_relu") else "xavier_normal"


def initialise(
    name: str,
    n_out: int,
    n_in: int,
    rng: np.random.Generator,
    scale: float | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """A (n_out, n_in) weight matrix drawn by the named initialiser."""
    return lookup(name, INITIALISERS, "initialiser")(n_out, n_in, rng, scale).astype(dtype)
