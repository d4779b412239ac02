r"""A recurrent (Elman, tanh) layer and backpropagation through time, full and truncated.

One step of the cell, for a batch of rows x_t (N, n_in) and the previous state h_{t-1}
(N, n_hidden), with W_xh (n_hidden, n_in), W_hh (n_hidden, n_hidden), b (n_hidden,):
$$h_t = \tanh\!\left(x_t W_{xh}^\top + h_{t-1} W_{hh}^\top + b\right), \qquad h_0 = 0.$$
A sequence X of shape (N, T, n_in) gives all hidden states H of shape (N, T, n_hidden).

Backward through one step, with $dz = dh_t \odot (1 - h_t^2)$:
$$dx_t = dz\,W_{xh},\quad dh_{t-1} = dz\,W_{hh},\quad dW_{xh} \mathrel{+}= dz^\top x_t,\quad
dW_{hh} \mathrel{+}= dz^\top h_{t-1},\quad db \mathrel{+}= \textstyle\sum_n dz_n.$$
Backpropagation through time (BPTT) runs the steps in reverse; the gradient reaching $h_t$
is what the loss sends to it directly, $dH_t$, plus what comes back from step t+1:
$\partial \mathcal L/\partial h_t = dH_t + dh_t^{\text{from } t+1}$. The weights are shared by every
step, so their gradients are summed over t (`+=`, not `=`).

Each step back multiplies the gradient by $W_{hh}^\top$ and by $\tanh' \le 1$, so when
$\lVert W_{hh}\rVert < 1$ it shrinks geometrically with distance: the long-range decay
that the LSTM (Hochreiter & Schmidhuber 1997) was designed to avoid. After a backward pass,
`RNN.dH_norms[t]` is the mean over the batch of $\lVert\partial \mathcal L/\partial h_t\rVert$.

Truncated BPTT with window k (`truncate=k`), the chunked definition: the sequence is cut
into chunks of k steps, t in [0, k), [k, 2k), ...; the forward pass carries the hidden
state across chunk boundaries, but it is *detached* there (a constant for the gradient):
no gradient flows from step ck back into $h_{ck-1}$. The result is the sum over chunks of
each chunk's exact gradient with its initial state held fixed, as in PyTorch practice
(`h = h.detach()` every k steps) with the weights updated once for the whole sequence.
`truncate=None`, or any k >= T, is full BPTT exactly.

Initialisation: W_xh by `init` (Xavier normal by default); W_hh orthogonal (Saxe et al.
2014): its singular values are all 1 (times `recurrent_gain`), so at initialisation it
neither shrinks nor grows the gradient; any name from `bpcourse.init` may be used instead.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bpcourse.init import initialise
from bpcourse.layers import Layer, Parameter
from bpcourse.validation import ShapeError, check_int


def orthogonal(n: int, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """A random (n, n) orthogonal matrix times `gain`: Q of the QR of a Gaussian matrix."""
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    return gain * Q * np.sign(np.diag(R))  # the sign fix makes Q uniformly distributed


def rnn_step_forward(
    x: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Any]:
    """One step: x (N, n_in), h_prev (N, n_hidden) -> h (N, n_hidden), and the cache."""
    h = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b)
    return h, (x, h_prev, W_xh, W_hh, h)


def rnn_step_backward(
    dh: np.ndarray, cache: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From dh = dL/dh_t (N, n_hidden): (dx, dh_prev, dW_xh, dW_hh, db) of this step alone."""
    x, h_prev, W_xh, W_hh, h = cache
    dz = dh * (1 - h * h)  # tanh'(z) = 1 - tanh(z)^2
    return dz @ W_xh, dz @ W_hh, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)


def rnn_forward(
    X: np.ndarray, h0: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Any]:
    """Run the cell over X (N, T, n_in) from h0 (N, n_hidden) -> H (N, T, n_hidden), cache."""
    N, T, _ = X.shape
    H = np.empty((N, T, W_hh.shape[0]), dtype=np.result_type(X, W_hh))
    h, caches = h0, []
    for t in range(T):
        h, step_cache = rnn_step_forward(X[:, t], h, W_xh, W_hh, b)
        H[:, t] = h
        caches.append(step_cache)
    return H, caches


class RNNGradients(NamedTuple):
    """What `rnn_backward` returns (a tuple, so it unpacks in this order)."""

    dX: np.ndarray  # (N, T, n_in)
    dh0: np.ndarray  # (N, n_hidden)
    dW_xh: np.ndarray  # (n_hidden, n_in)
    dW_hh: np.ndarray  # (n_hidden, n_hidden)
    db: np.ndarray  # (n_hidden,)
    dH_total: np.ndarray  # (N, T, n_hidden): the whole dL/dh_t reaching each hidden state


def check_truncate(truncate: int | None, name: str = "RNN") -> int | None:
    """Return `truncate` if it is None or a positive int, else raise ValueError."""
    return check_int(
        truncate, f"{name}: truncate (None: full BPTT; or a window k)", allow_none=True
    )


def rnn_backward(dH: np.ndarray, cache: Any, truncate: int | None = None) -> RNNGradients:
    """BPTT from dH = dL/dH (N, T, n_hidden), the gradient the loss sends to each state.

    With `truncate=k`, the gradient is not passed from step t back to h_{t-1} when t is a
    positive multiple of k (the chunk boundaries; see the module docstring).
    """
    truncate = check_truncate(truncate, "rnn_backward")
    _, h0, W_xh, W_hh, _ = cache[0]
    N, T, _ = dH.shape
    dX = np.empty((N, T, W_xh.shape[1]), dtype=dH.dtype)
    dH_total = np.empty_like(dH)
    dW_xh, dW_hh = np.zeros_like(W_xh), np.zeros_like(W_hh)
    db = np.zeros(W_hh.shape[0], dtype=W_hh.dtype)
    dh_next = np.zeros_like(h0)  # the gradient reaching h_t from step t+1
    for t in range(T - 1, -1, -1):
        dh = dH[:, t] + dh_next
        dH_total[:, t] = dh
        dX[:, t], dh_prev, dW_xh_t, dW_hh_t, db_t = rnn_step_backward(dh, cache[t])
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db += db_t
        at_boundary = truncate is not None and t > 0 and t % truncate == 0
        dh_next = np.zeros_like(dh_prev) if at_boundary else dh_prev
    return RNNGradients(dX, dh_next, dW_xh, dW_hh, db, dH_total)


class RNN(Layer):
    """A tanh recurrent layer: X (N, T, n_in) -> all hidden states H (N, T, n_hidden).

    The initial state h_0 is zero. `truncate` (None: full BPTT, or a window k) may be
    changed between backward passes. After `backward`, `dH_norms` (T,) holds the mean over
    the batch of ||dL/dh_t|| for each step t.
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        seed: int | np.random.Generator | None = 0,
        truncate: int | None = None,
        init: str = "xavier_normal",
        recurrent_init: str = "orthogonal",
        recurrent_gain: float = 1.0,
        dtype: np.dtype | type = np.float64,
        name: str = "rnn",
    ) -> None:
        self.n_in = check_int(n_in, f"RNN layer {name!r}: n_in")
        self.n_hidden = check_int(n_hidden, f"RNN layer {name!r}: n_hidden")
        self.name = name
        rng = np.random.default_rng(seed)
        self.truncate = check_truncate(truncate, f"RNN layer {name!r}")
        W_xh = initialise(init, n_hidden, n_in, rng, dtype=dtype)
        if recurrent_init == "orthogonal":
            W_hh = orthogonal(n_hidden, rng, recurrent_gain).astype(dtype)
        else:
            W_hh = recurrent_gain * initialise(recurrent_init, n_hidden, n_hidden, rng, dtype=dtype)
        self.W_xh = Parameter(W_xh, f"{name}.W_xh")
        self.W_hh = Parameter(W_hh, f"{name}.W_hh")
        self.b = Parameter(np.zeros(n_hidden, dtype=dtype), f"{name}.b")
        self.dH_norms: np.ndarray | None = None

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        if X.ndim != 3 or X.shape[2] != self.n_in or X.shape[1] < 1:
            hint = " (a 2-D input lacks the time axis T)" if X.ndim == 2 else ""
            raise ShapeError(
                f"RNN layer {self.name!r} ({self.n_in} -> {self.n_hidden}) expected input of "
                f"shape (N, T, {self.n_in}) with T >= 1, got shape {X.shape}{hint}"
            )
        h0 = np.zeros((X.shape[0], self.n_hidden), dtype=self.W_hh.value.dtype)
        return self.remember(*rnn_forward(X, h0, self.W_xh.value, self.W_hh.value, self.b.value))

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grads = rnn_backward(dOut, self.recall(dOut), self.truncate)
        self.W_xh.grad, self.W_hh.grad, self.b.grad = grads.dW_xh, grads.dW_hh, grads.db
        self.dH_norms = np.linalg.norm(grads.dH_total, axis=2).mean(axis=0)
        return grads.dX if input_grad else None

    def parameters(self) -> list[Parameter]:
        return [self.W_xh, self.W_hh, self.b]

    def expected_input(self) -> tuple[int, str] | None:
        return 3, f"(N, T, {self.n_in})"

    def __repr__(self) -> str:
        return f"RNN({self.n_in} -> {self.n_hidden}, truncate={self.truncate}, name={self.name!r})"


class LastStep(Layer):
    """Select the last time step: H (N, T, D) -> H[:, -1] (N, D), e.g. before a Dense layer.

    Backward puts dOut at the last step and zeros elsewhere: the loss sees only h_T.
    """

    def __init__(self, name: str = "last_step") -> None:
        self.name = name

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        if X.ndim != 3:
            raise ShapeError(
                f"LastStep layer {self.name!r} expected a sequence of shape (N, T, D), "
                f"got shape {X.shape}"
            )
        return self.remember(X[:, -1], X.shape)

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        in_shape = self.recall(dOut)
        if not input_grad:
            return None
        dX = np.zeros(in_shape, dtype=dOut.dtype)
        dX[:, -1] = dOut
        return dX

    def expected_input(self) -> tuple[int, str] | None:
        return 3, "(N, T, D)"

    def __repr__(self) -> str:
        return f"LastStep(name={self.name!r})"
