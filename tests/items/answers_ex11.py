"""Answers to exercises/11_backpropagation_through_time.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip (or a tuple of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex11_backpropagation_through_time import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "rnn_step_backward": 4,
    "bptt": 6,
    "truncated_bptt": 4,
    "jacobian_norms": 3,
    "q_dW_hh_shape": 1,
    "q_decay_magnitude": 1,
    "q_truncation_bias": 1,
    "q_cell_path": 1,
}
RECALL = {"q_dW_hh_shape"}  # the shape of a weight gradient: recall

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def rnn_step_backward(dh, cache, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    x, h_prev, W_xh, W_hh, h = cache
    if "tanh at h_prev" in slip:
        dz = dh * (1 - h_prev**2)
    elif "no tanh'" in slip:
        dz = dh
    elif "1 - h" in slip:
        dz = dh * (1 - h)
    elif "tanh of h" in slip:
        dz = dh * (1 - np.tanh(h) ** 2)
    else:
        dz = dh * (1 - h**2)
    dx = dz @ W_xh
    dh_prev = dz @ W_hh.T if "W_hh not transposed" in slip else dz @ W_hh
    dW_xh = x.T @ dz if "dW_xh transposed" in slip else dz.T @ x
    dW_hh = h_prev.T @ dz if "dW_hh transposed" in slip else dz.T @ h_prev
    db = dz if "db not summed" in slip else dz.sum(axis=0)
    if "db averaged" in slip:
        db = dz.mean(axis=0)
    if "sign" in slip:
        dx, dh_prev = -dx, -dh_prev
    if "dW × 1.3" in slip:
        dW_hh = 1.3 * dW_hh
    if "order" in slip:
        return dh_prev, dx, dW_hh, dW_xh, db
    return dx, dh_prev, dW_xh, dW_hh, db


def truncated_bptt(dH, caches, k, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    N, T, _ = dH.shape
    W_xh, W_hh = caches[0][2], caches[0][3]
    dX = np.zeros((N, T, W_xh.shape[1]))
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros((N, W_hh.shape[0]))
    skip_direct = False
    times = range(T) if "time reversed" in slip else reversed(range(T))
    for t in times:
        if "direct only" in slip:
            dh = dH[:, t]
        elif "recurrent only" in slip and t < T - 1:
            dh = dh_next
        elif skip_direct:
            dh = dh_next
        else:
            dh = dH[:, t] + dh_next
        step = [s for s in slip if s in ("tanh at h_prev", "no tanh'", "W_hh not transposed")]
        dX[:, t], dh_prev, gx, gh, gb = rnn_step_backward(dh, caches[t], slip=tuple(step))
        if "assign" in slip:
            dW_xh, dW_hh, db = gx, gh, gb
        else:
            dW_xh += gx
            dW_hh += gh
            db += gb
        if "ignores k" in slip:
            cut = False
        elif "off by one" in slip:
            cut = t > 0 and (t + 1) % k == 0
        elif "k + 1" in slip:
            cut = t > 0 and t % (k + 1) == 0
        elif "from the end" in slip:
            cut = t > 0 and (T - t) % k == 0
        elif "off by one, t = 0 too" in slip:
            cut = (t + 1) % k == 0
        elif "cuts at 0" in slip:
            cut = t % k == 0  # t = 0 too: dh0 is lost
        elif "one step late" in slip:
            cut = t > 1 and (t - 1) % k == 0
        else:
            cut = t > 0 and t % k == 0
        skip_direct = cut and "cuts the direct term" in slip
        dh_next = np.zeros_like(dh_prev) if cut else dh_prev
    if "dh0 is dh_1" in slip:  # the gradient reaching H[:, 0], not h_0
        return dX, dh, dW_xh, dW_hh, db
    return dX, dh_next, dW_xh, dW_hh, db


def sliding_window(dH, caches, k):
    """A sliding window: every loss sends its gradient back k steps (not this exercise's)."""
    N, T, _ = dH.shape
    W_xh, W_hh = caches[0][2], caches[0][3]
    dX, dh0 = np.zeros((N, T, W_xh.shape[1])), np.zeros((N, W_hh.shape[0]))
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    for s in range(T):
        dh = dH[:, s]
        for t in range(s, max(s - k, -1), -1):
            dx, dh, gx, gh, gb = rnn_step_backward(dh, caches[t])
            dX[:, t] += dx
            dW_xh, dW_hh, db = dW_xh + gx, dW_hh + gh, db + gb
            if t == 0:
                dh0 = dh0 + dh
    return dX, dh0, dW_xh, dW_hh, db


def bptt(dH, caches, slip=()):
    if slip == "dh0 zero":
        dX, dh0, *rest = truncated_bptt(dH, caches, dH.shape[1])
        return (dX, np.zeros_like(dh0), *rest)
    return truncated_bptt(dH, caches, dH.shape[1], slip=slip)


def jacobian_norms(W_hh, H, slip=""):
    T, n = H.shape
    J = np.eye(n)
    norms = np.zeros(T)
    norms[T - 1] = 1.0
    W = W_hh.T if slip == "W_hh transposed" else W_hh
    for t in range(T - 2, -1, -1):  # from h_{t+1} = H[t] back to ... : J = ∂h_T/∂H[t]
        at = H[t] if slip == "tanh at h_prev" else H[t + 1]
        step = W if slip == "no tanh'" else np.diag(1 - at**2) @ W
        J = step @ J if slip == "reversed product" else J @ step
        norms[t] = np.linalg.norm(J, "fro" if slip == "frobenius" else 2)
    if slip == "indexed by distance":
        return norms[::-1]
    if slip == "list":
        return list(norms)
    if slip == "no last":
        return norms[:-1]
    return norms


RIGHT: dict[str, Callable[..., Any]] = {
    "rnn_step_backward": rnn_step_backward,
    "bptt": bptt,
    "truncated_bptt": truncated_bptt,
    "jacobian_norms": jacobian_norms,
    "q_dW_hh_shape": lambda: (16, 16),
    "q_decay_magnitude": lambda: -6,
    "q_truncation_bias": lambda: "b",
    "q_cell_path": lambda: 0.9**20,
}
for _name in ("q_dW_hh_shape", "q_decay_magnitude", "q_truncation_bias", "q_cell_path"):
    RIGHT[_name].__name__ = _name

STEP = {
    "tanh at h_prev": "tanh′ is taken at h_{t−1}",
    "no tanh'": "the derivative of tanh is missing",
    "1 - h": "tanh′ is written 1 − h",
    "tanh of h": "tanh′ is computed as 1 − tanh(h_t)²",
    "db averaged": "db is averaged over the batch",
    "W_hh not transposed": "dh_prev uses W_hhᵀ",
    "dW_xh transposed": "dW_xh: expected shape (4, 2) = (n, n_in), got (2, 4)",
    "dW_hh transposed": "dW_hh is transposed",
    "db not summed": "did you forget to sum over the batch?",
    "sign": "has the opposite sign",
    "dW × 1.3": None,  # no catalogued cause: described as a factor
}

SEQUENCE = {
    "direct only": "is only what the loss sends it directly",
    "recurrent only": "is only what comes back from step t + 1",
    "assign": "(`=` where `+=` is needed)",
    "time reversed": "the steps are visited forward in time",
    "tanh at h_prev": "tanh′ is taken at h_{t−1}",
    "no tanh'": "the derivative of tanh is missing",
    "W_hh not transposed": "dh_prev uses W_hhᵀ",
    "dh0 zero": "dh0 is zero: the initial state h_0 is step 0's h_prev",
    "dh0 is dh_1": "dh0 is the gradient reaching H[:, 0]",
}

TRUNCATED = {
    "ignores k": "your gradient does not depend on k",
    "off by one": "you cut where t + 1 is a multiple of k",
    "off by one, t = 0 too": "you cut where t + 1 is a multiple of k",
    "k + 1": "your chunks have k + 1 steps",
    "from the end": "your chunks are counted from the end of the sequence",
    "cuts the direct term": "you drop the loss's own gradient dH[:, t − 1]",
    "cuts at 0": "you cut at t = 0 too",
    "one step late": "your cuts are one step late",
    "assign": "(`=` where `+=` is needed)",
    "direct only": "is only what the loss sends it directly",
    ("off by one", "tanh at h_prev"): None,  # two slips: no single cause fits
}

JACOBIAN = {
    "frobenius": "you take the Frobenius norm",
    "tanh at h_prev": "is taken at h_{s−1}",
    "no tanh'": "the tanh′ factors are missing",
    "W_hh transposed": "each step's Jacobian uses W_hhᵀ",
    "reversed product": "the factors are multiplied in the wrong order",
    "indexed by distance": "norms is in reverse order",
    "no last": "norms: expected shape (8,) = (T,), got (7,)",
}


def _name(slip: str | tuple[str, ...]) -> str:
    return slip if isinstance(slip, str) else " + ".join(slip)


def _wrongs(answer: Callable[..., Any], table: dict[Any, str | None]) -> list[Wrong]:
    return [Wrong(_name(s), slipped(answer, s), d) for s, d in table.items()]


CATALOGUE: dict[str, list[Wrong]] = {
    "rnn_step_backward": _wrongs(rnn_step_backward, STEP),
    "bptt": _wrongs(bptt, SEQUENCE),
    "truncated_bptt": [
        *_wrongs(truncated_bptt, TRUNCATED),
        Wrong("sliding window", sliding_window, "a sliding window"),
    ],
    "jacobian_norms": _wrongs(jacobian_norms, JACOBIAN),
}

BAD: dict[str, object] = {
    "returns a dict": lambda *args: {"dx": 0},
    "returns a tuple of strings": lambda *args: ("a", "b", "c", "d", "e"),
}
