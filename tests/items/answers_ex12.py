"""Answers to exercises/12_convolutions.ipynb: right, and wrong on purpose.

Written with loops, as a learner would. The `slip` keyword switches on one slip (or a tuple).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex12_convolutions import NOTEBOOK

__all__ = ["CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "conv2d_forward": 3,
    "conv2d_backward": 6,
    "conv2d_input_gradient": 3,
    "max_pool_backward": 3,
    "avg_pool_backward": 2,
    "im2col": 2,
    "q_output_shape": 1,
    "q_dw_shape": 1,
    "q_maxpool_positions": 1,
    "q_dx_sum": 1,
}
RECALL = {"q_dw_shape"}  # a gradient has its parameter's shape: recall


def _slips(slip: str | tuple[str, ...]) -> tuple[str, ...]:
    return (slip,) if isinstance(slip, str) else slip


def _pad(X, p):
    return np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)))


# --- reference solutions, with switchable slips ---------------------------------------------------


def conv2d_forward(X, W, b, stride=1, padding=0, slip=()):
    slip = _slips(slip)
    s = 1 if "stride" in slip else stride
    p = 0 if "padding" in slip else padding
    K = W[:, :, ::-1, ::-1] if "flipped" in slip else W
    Xp = _pad(X, p)
    N, C, H, Wd = Xp.shape
    C_out, _, kh, kw = W.shape
    H_out, W_out = (H - kh) // s + 1, (Wd - kw) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    total = 0.0 if "no bias" in slip else b[o]
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                term = K[o, c, u, v] * Xp[n, c, s * i + u, s * j + v]
                                total = term if "=" in slip else total + term
                    out[n, o, i, j] = total
    return out


def conv2d_backward(dOut, X, W, stride=1, padding=0, slip=()):
    slip = _slips(slip)
    s, p = stride, padding
    step = 1 if "stride" in slip else s
    K = W[:, :, ::-1, ::-1] if "dX unflipped" in slip else W
    Xp = _pad(X, p)
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    N, C_out, H_out, W_out = dOut.shape
    kh, kw = W.shape[2:]
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(step * i, step * i + kh)
                    cols = slice(step * j, step * j + kw)
                    g = dOut[n, o, i, j]
                    if "dX =" in slip:
                        dXp[n, :, rows, cols] = K[o] * g
                    else:
                        dXp[n, :, rows, cols] += K[o] * g
                    if "dW =" in slip:
                        dW[o] = Xp[n, :, rows, cols] * g
                    else:
                        dW[o] += Xp[n, :, rows, cols] * g
    if "dW swapped" in slip:
        dW = dW[:, :, ::-1, ::-1].copy()
    if "db per example" in slip:
        db = dOut.sum(axis=(2, 3))
    elif "db per position" in slip:
        db = dOut.sum(axis=0)
    elif "db mean" in slip:
        db = dOut.mean(axis=(0, 2, 3))
    elif "db last" in slip:
        db = dOut[-1].sum(axis=(1, 2))
    else:
        db = dOut.sum(axis=(0, 2, 3))
    H, Wd = X.shape[2:]
    if "uncropped" in slip:
        dX = dXp
    elif "p:-p" in slip:
        dX = dXp[:, :, p:-p, p:-p]
    else:
        dX = dXp[:, :, p : p + H, p : p + Wd]
    return dX, dW, db


def conv2d_input_gradient(dOut, W, slip=()):
    slip = _slips(slip)
    kh = W.shape[2]
    if "unflipped" in slip:
        K = W
    elif "rows only" in slip:
        K = W[:, :, ::-1, :]
    elif "transposed" in slip:
        K = W.transpose(0, 1, 3, 2)
    else:
        K = W[:, :, ::-1, ::-1]
    K = K.transpose(1, 0, 2, 3)  # (C_in, C_out, kh, kw): dOut's channels are the inputs now
    p = kh // 2 if "half padding" in slip else kh - 1
    return conv2d_forward(dOut, K, np.zeros(K.shape[0]), 1, p)


def max_pool_backward(dOut, X, k, slip=""):
    dX = np.zeros_like(X)
    N, C, H_out, W_out = dOut.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = X[n, c, k * i : k * i + k, k * j : k * j + k]
                    g = dOut[n, c, i, j]
                    target = dX[n, c, k * i : k * i + k, k * j : k * j + k]
                    if slip == "every tie":
                        target += g * (window == window.max())
                    elif slip == "split ties":
                        ties = window == window.max()
                        target += g * ties / ties.sum()
                    elif slip == "all":
                        target += g
                    elif slip == "average":
                        target += g / k**2
                    else:
                        flat = window.ravel()
                        if slip == "last tie":
                            index = len(flat) - 1 - int(np.argmax(flat[::-1]))
                        else:
                            index = int(np.argmax(flat))
                        u, v = divmod(index, k)
                        target[u, v] += 1.0 if slip == "mask only" else g
    return dX


def avg_pool_backward(dOut, X, k, slip=""):
    dX = np.zeros_like(X)
    N, C, H_out, W_out = dOut.shape
    share = {"no division": 1, "÷k": k}.get(slip, k * k)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    if slip == "corner":
                        dX[n, c, k * i, k * j] += dOut[n, c, i, j] / share
                    else:
                        dX[n, c, k * i : k * i + k, k * j : k * j + k] += dOut[n, c, i, j] / share
    return dX


def im2col(X, kh, kw, stride=1, padding=0, slip=""):
    s = 1 if slip == "stride" else stride
    p = 0 if slip == "padding" else padding
    Xp = _pad(X, p)
    N, C, H, Wd = Xp.shape
    H_out, W_out = (H - kh) // s + 1, (Wd - kw) // s + 1
    cols = np.zeros((N * H_out * W_out, C * kh * kw))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = Xp[n, :, s * i : s * i + kh, s * j : s * j + kw]
                if slip == "rows i j n":
                    row = (i * W_out + j) * N + n
                else:
                    row = (n * H_out + i) * W_out + j
                if slip == "columns u v c":
                    cols[row] = window.transpose(1, 2, 0).ravel()
                elif slip == "columns c v u":
                    cols[row] = window.transpose(0, 2, 1).ravel()
                else:
                    cols[row] = window.ravel()
    return cols.T.copy() if slip == "transposed" else cols


def _named(value: Any, name: str) -> Callable[[], Any]:
    def answer():
        return value

    answer.__name__ = name
    return answer


RIGHT: dict[str, Callable[..., Any]] = {
    "conv2d_forward": conv2d_forward,
    "conv2d_backward": conv2d_backward,
    "conv2d_input_gradient": conv2d_input_gradient,
    "max_pool_backward": max_pool_backward,
    "avg_pool_backward": avg_pool_backward,
    "im2col": im2col,
    "q_output_shape": _named((8, 16, 16, 16), "q_output_shape"),
    "q_dw_shape": _named((16, 3, 5, 5), "q_dw_shape"),
    "q_maxpool_positions": _named(9, "q_maxpool_positions"),
    "q_dx_sum": _named("c", "q_dx_sum"),
}

FORWARD = {
    "flipped": "is a true convolution, with the kernel flipped",
    "no bias": "lacks the bias",
    "=": "keeps only the last product of the sum",
    "stride": "the stride is ignored, step the window by s pixels",
    "padding": "the padding is ignored: pad the input",
    ("flipped", "no bias"): None,
}

BACKWARD = {
    "dX unflipped": "uses the kernel unflipped",
    "dX =": "keeps only the last contribution: `=` instead of `+=`",
    "dW =": "keeps only the last contribution: `=` instead of `+=`",
    "dW swapped": "is flipped by 180°: dW is the correlation of X̃ with dY",
    "db per example": "db is a vector of one entry per output channel",
    "db per position": "db is a vector of one entry per output channel",
    "db mean": "is a mean: b[o] is added to every output pixel",
    "db last": "counts the last example only",
    "stride": "ignores the stride",
    "uncropped": "cut the padding's border off",
    "p:-p": "the crop dXp[:, :, p:-p, p:-p] is empty",
}

INPUT_GRADIENT = {
    "unflipped": "is dOut correlated with the kernel as it is",
    "rows only": "flips the kernel along one axis only",
    "transposed": "transposes the kernel's rows and columns",
    "half padding": "pad dOut with k − 1 = 2 zeros",
}

MAX_POOL = {
    "every tie": "gives the gradient to every entry that ties for the maximum",
    "last tie": "gives a tied window's gradient to its last maximum",
    "split ties": "shares a tied window's gradient among its maxima",
    "all": "copies dOut to every entry of its window",
    "mask only": "is the 0/1 mask of the maxima alone",
    "average": "spreads dOut / k² over the window",
}

AVG_POOL = {
    "no division": "is k² times too large",
    "÷k": "divides by k: the window holds k × k = k² entries",
    "corner": "gives the gradient to one entry of each window",
}

IM2COL = {
    "columns u v c": "orders a window's entries (u, v, c)",
    "columns c v u": "orders a window's entries column by column",
    "rows i j n": "orders its rows (i, j, n)",
    "transposed": "one row per window, not one column",
    "stride": "the stride is ignored: that is not the number of windows",
    "padding": "the padding is ignored: that is not the number of windows",
}


def _catalogue(answer: Callable[..., Any], table: dict[Any, str | None]) -> list[Wrong]:
    return [Wrong(str(slip), slipped(answer, slip), text) for slip, text in table.items()]


CATALOGUE: dict[str, list[Wrong]] = {
    "conv2d_forward": _catalogue(conv2d_forward, FORWARD),
    "conv2d_backward": _catalogue(conv2d_backward, BACKWARD),
    "conv2d_input_gradient": _catalogue(conv2d_input_gradient, INPUT_GRADIENT),
    "max_pool_backward": _catalogue(max_pool_backward, MAX_POOL),
    "avg_pool_backward": _catalogue(avg_pool_backward, AVG_POOL),
    "im2col": _catalogue(im2col, IM2COL),
}
