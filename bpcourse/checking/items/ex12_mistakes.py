"""The known wrong answers of exercise 12 (convolutions), computed on the checker's inputs.

Each function returns the value a particular slip gives, so that `ex12_convolutions` can
recognise it. They use the library's vectorised reference (`bpcourse.conv`) where a slip is
a change of input (a flipped kernel), and small loops where the slip lives in the loop (`=`
instead of `+=`, a stride ignored). Shapes: X (N, C, H, W), W (C_out, C_in, kh, kw).
"""

from __future__ import annotations

import numpy as np

from bpcourse.conv import conv2d_backward, conv2d_forward


def pad(X: np.ndarray, p: int) -> np.ndarray:
    """X zero-padded by p on the two spatial axes."""
    return np.pad(X, ((0, 0), (0, 0), (p, p), (p, p))) if p else X


def forward(X: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    """The reference cross-correlation (bpcourse.conv)."""
    return conv2d_forward(X, W, b, s, p)[0]


def backward(
    dY: np.ndarray, X: np.ndarray, W: np.ndarray, s: int, p: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference (dX, dW, db) (bpcourse.conv)."""
    _, cache = conv2d_forward(X, W, np.zeros(W.shape[0]), s, p)
    dX, dW, db = conv2d_backward(dY, cache)
    assert dX is not None
    return dX, dW, db


def flipped(W: np.ndarray) -> np.ndarray:
    """The kernel rotated by 180° in its two spatial axes."""
    return W[:, :, ::-1, ::-1].copy()


# --- forward --------------------------------------------------------------------------------------


def forward_last_term(X: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    """`out[n, o, i, j] = W[o, c, u, v] * X̃[...]` with `=`: only the last (c, u, v) survives."""
    Xp = pad(X, p)
    C, kh, kw = W.shape[1:]
    H_out = (Xp.shape[2] - kh) // s + 1
    W_out = (Xp.shape[3] - kw) // s + 1
    rows = Xp[:, C - 1, s * np.arange(H_out) + kh - 1][:, :, s * np.arange(W_out) + kw - 1]
    return W[:, C - 1, kh - 1, kw - 1][None, :, None, None] * rows[:, None]


def forward_last_channel(X: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    """`=` in the loop over the input channels: only the last channel's window sum (+ b)."""
    return forward(X[:, -1:], W[:, -1:], b, s, p)


# --- backward -------------------------------------------------------------------------------------


def dX_scatter(
    dY: np.ndarray,
    W: np.ndarray,
    shape: tuple[int, ...],
    s: int,
    p: int,
    *,
    assign: str = "",
    step: int | None = None,
) -> np.ndarray:
    """dX by scattering each dY[n, o, i, j]·W[o] onto its window, in loops.

    `assign` "o" or "ij": `=` instead of `+=` with the loop order (n, o, i, j) or
    (n, i, j, o); `step` the step between windows used instead of the stride.
    """
    N, C, H, Wd = shape
    C_out, _, kh, kw = W.shape
    t = s if step is None else step
    dXp = np.zeros((N, C, H + 2 * p, Wd + 2 * p))
    H_out, W_out = dY.shape[2:]
    order = (
        [
            (n, o, i, j)
            for n in range(N)
            for i in range(H_out)
            for j in range(W_out)
            for o in range(C_out)
        ]
        if assign == "ij"
        else [
            (n, o, i, j)
            for n in range(N)
            for o in range(C_out)
            for i in range(H_out)
            for j in range(W_out)
        ]
    )
    for n, o, i, j in order:
        window = (n, slice(None), slice(t * i, t * i + kh), slice(t * j, t * j + kw))
        if window[2].stop > dXp.shape[2] or window[3].stop > dXp.shape[3]:
            continue
        if assign:
            dXp[window] = W[o] * dY[n, o, i, j]
        else:
            dXp[window] += W[o] * dY[n, o, i, j]
    return dXp[:, :, p : p + H, p : p + Wd]


def dW_loops(
    dY: np.ndarray,
    X: np.ndarray,
    W_shape: tuple[int, ...],
    s: int,
    p: int,
    *,
    assign: bool = False,
    step: int | None = None,
) -> np.ndarray:
    """dW by loops: `assign` keeps the last (n, i, j) only; `step` replaces the stride."""
    Xp = pad(X, p)
    C, kh, kw = W_shape[1:]
    t = s if step is None else step
    dW = np.zeros(W_shape)
    N, _, H_out, W_out = dY.shape
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = Xp[n, :, t * i : t * i + kh, t * j : t * j + kw]
                if window.shape != (C, kh, kw):
                    continue
                term = dY[n, :, i, j][:, None, None, None] * window[None]
                dW = term if assign else dW + term
    return dW


# --- the input gradient as a full convolution -----------------------------------------------------


def full_correlation(dY: np.ndarray, K: np.ndarray) -> np.ndarray:
    """dY (N, C_out, H_out, W_out) zero-padded by k − 1, correlated with K (C_out, C_in, kh, kw)
    summed over C_out: (N, C_in, H_out + kh − 1, W_out + kw − 1)."""
    kh = K.shape[2]
    return forward(dY, K.transpose(1, 0, 2, 3), np.zeros(K.shape[1]), 1, kh - 1)


# --- pooling --------------------------------------------------------------------------------------


def windows(X: np.ndarray, k: int) -> np.ndarray:
    """The k×k windows side by side, (N, C, H/k, W/k, k·k) in row-major order."""
    N, C, H, W = X.shape
    w = X.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5)
    return w.reshape(N, C, H // k, W // k, k * k)


def unwindow(dw: np.ndarray, k: int) -> np.ndarray:
    """The inverse of `windows`: (N, C, H/k, W/k, k·k) -> (N, C, H, W)."""
    N, C, Ho, Wo, _ = dw.shape
    return dw.reshape(N, C, Ho, Wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * k, Wo * k)


def pool_routes(dY: np.ndarray, X: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The max-pool backward slips: every tie, the last tie, the share among ties, all entries,
    the 0/1 mask alone (dY not multiplied in), dY/k² to every entry (average pooling's)."""
    w = windows(X, k)
    top = w.max(axis=-1, keepdims=True)
    ties = (w == top).astype(np.float64)
    last = np.zeros_like(w)
    index = k * k - 1 - np.argmax(w[..., ::-1], axis=-1)
    np.put_along_axis(last, index[..., None], 1.0, axis=-1)
    first = np.zeros_like(w)
    np.put_along_axis(first, np.argmax(w, axis=-1)[..., None], 1.0, axis=-1)
    g = dY[..., None]
    return {
        "every tie": unwindow(g * ties, k),
        "last tie": unwindow(g * last, k),
        "split ties": unwindow(g * ties / ties.sum(axis=-1, keepdims=True), k),
        "all": unwindow(g * np.ones_like(w), k),
        "mask only": unwindow(first, k),
        "average": unwindow(g * np.ones_like(w) / (k * k), k),
    }


def average_slips(dY: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The average-pool backward slips: no 1/k², 1/k, the top-left entry only (÷k² or not)."""
    shape = (*dY.shape, k * k)
    g = np.broadcast_to(dY[..., None], shape)
    corner = np.zeros(shape)
    corner[..., 0] = dY
    return {
        "no division": unwindow(g.copy(), k),
        "÷k": unwindow(g / k, k),
        "corner": unwindow(corner / (k * k), k),
        "corner, no division": unwindow(corner, k),
    }


# --- im2col ---------------------------------------------------------------------------------------


def columns(X: np.ndarray, kh: int, kw: int, s: int, p: int) -> np.ndarray:
    """The reference im2col: (N·H_out·W_out, C·kh·kw), rows (n, i, j), columns (c, u, v)."""
    from bpcourse.conv import _im2col

    cols = _im2col(X, kh, kw, s, p)  # (N, H_out, W_out, C, kh, kw)
    return cols.reshape(-1, X.shape[1] * kh * kw).copy()


def column_slips(X: np.ndarray, kh: int, kw: int, s: int, p: int) -> dict[str, np.ndarray]:
    """im2col's slips: columns in the order (u, v, c) or (c, v, u), rows in the order (i, j, n)."""
    from bpcourse.conv import _im2col

    cols = _im2col(X, kh, kw, s, p)  # (N, H_out, W_out, C, kh, kw)
    n = X.shape[1] * kh * kw
    return {
        "columns u v c": cols.transpose(0, 1, 2, 4, 5, 3).reshape(-1, n),
        "columns c v u": cols.transpose(0, 1, 2, 3, 5, 4).reshape(-1, n),
        "rows i j n": cols.transpose(1, 2, 0, 3, 4, 5).reshape(-1, n),
    }
