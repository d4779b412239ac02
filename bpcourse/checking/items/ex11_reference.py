r"""Exercise 11's problem and the checker's own backward pass, right or with one known mistake.

Kept apart from `ex11_backpropagation_through_time` so that no module is over 600 lines.
"""

from __future__ import annotations

import numpy as np

from bpcourse.recurrent import rnn_forward

SEED = 11
N, T, N_IN, N_HIDDEN = 3, 7, 2, 4
Arrays = tuple[np.ndarray, ...]


# --- the problem --------------------------------------------------------------------------------


def weights(seed: int = SEED, n_in: int = N_IN, n: int = N_HIDDEN) -> Arrays:
    """W_xh (n, n_in), W_hh (n, n) with spectral norm about 0.9, b (n,): moderate states."""
    rng = np.random.default_rng(seed)
    W_xh = rng.normal(0.0, 0.7, size=(n, n_in))
    W_hh = rng.normal(0.0, 1.0, size=(n, n))
    W_hh *= 0.9 / np.linalg.norm(W_hh, 2)
    b = rng.normal(0.0, 0.2, size=n)
    return W_xh, W_hh, b


def sequence(seed: int = SEED, t: int = T, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """X (N, T, n_in) and a nonzero initial state h0 (N, n_hidden)."""
    rng = np.random.default_rng(seed + 1)
    return rng.normal(size=(n, t, N_IN)), rng.normal(0.0, 0.5, size=(n, N_HIDDEN))


def upstream(seed: int = SEED, shape: tuple[int, ...] = (N, T, N_HIDDEN)) -> np.ndarray:
    """dH = ∂ℒ/∂H, what the loss sends to every hidden state directly."""
    return np.random.default_rng(seed + 2).normal(size=shape)


def caches_of(X: np.ndarray, h0: np.ndarray, W_xh, W_hh, b) -> list[tuple[np.ndarray, ...]]:
    """The step caches (x, h_prev, W_xh, W_hh, h) of the forward pass, as fresh copies."""
    _, caches = rnn_forward(X, h0, W_xh, W_hh, b)
    return [tuple(np.array(a, copy=True) for a in c) for c in caches]


def _copies(caches: list[tuple[np.ndarray, ...]]) -> list[tuple[np.ndarray, ...]]:
    return [tuple(a.copy() for a in c) for c in caches]


# --- the checker's backward pass, right or with one known mistake -------------------------------


def step_backward(dh: np.ndarray, cache: tuple[np.ndarray, ...], mistake: str = "") -> Arrays:
    """One step back; `mistake` switches on one known slip."""
    x, h_prev, W_xh, W_hh, h = cache
    if mistake == "tanh at h_prev":
        dz = dh * (1 - h_prev**2)
    elif mistake == "no tanh'":
        dz = dh
    elif mistake == "1 - h":
        dz = dh * (1 - h)
    elif mistake == "tanh of h":
        dz = dh * (1 - np.tanh(h) ** 2)
    else:
        dz = dh * (1 - h**2)
    dh_prev = dz @ W_hh.T if mistake == "W_hh not transposed" else dz @ W_hh
    db = dz.mean(axis=0) if mistake == "db averaged" else dz.sum(axis=0)
    return dz @ W_xh, dh_prev, dz.T @ x, dz.T @ h_prev, db


def is_cut(t: int, k: int | None, steps: int, mistake: str = "") -> bool:
    """Whether the gradient from step t to h_{t−1} is cut, for window k (None: never)."""
    if k is None:
        return False
    if mistake == "off by one, t = 0 too":
        return (t + 1) % k == 0
    if mistake == "cuts at 0":
        return t % k == 0
    if t == 0:
        return False
    if mistake == "one step late":
        return t > 1 and (t - 1) % k == 0
    if mistake in ("off by one", "off by one, t = 0 too"):
        return (t + 1) % k == 0
    if mistake == "k + 1":
        return t % (k + 1) == 0
    if mistake == "from the end":
        return (steps - t) % k == 0
    if mistake == "ignores k":
        return False
    return t % k == 0


def backward(
    dH: np.ndarray, caches: list[tuple[np.ndarray, ...]], k: int | None = None, mistake: str = ""
) -> Arrays:
    """BPTT (truncated at window k), with one known mistake switched on by `mistake`."""
    steps = dH.shape[1]
    W_xh, W_hh = caches[0][2], caches[0][3]
    dX = np.zeros((dH.shape[0], steps, W_xh.shape[1]))
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(caches[0][1])
    order = range(steps) if mistake == "time reversed" else range(steps - 1, -1, -1)
    dropped = False  # the direct term of this step is dropped (a mistake of truncation)
    for t in order:
        if mistake == "direct only":
            dh = dH[:, t].copy()
        elif mistake == "recurrent only" and t < steps - 1:
            dh = dh_next
        else:
            dh = dh_next if dropped else dH[:, t] + dh_next
        step_mistake = mistake if mistake in STEP_MISTAKES else ""
        dX[:, t], dh_prev, gx, gh, gb = step_backward(dh, caches[t], step_mistake)
        if mistake == "assign":
            dW_xh, dW_hh, db = gx, gh, gb
        else:
            dW_xh, dW_hh, db = dW_xh + gx, dW_hh + gh, db + gb
        cut = is_cut(t, k, steps, mistake)
        dropped = cut and mistake == "cuts the direct term"
        dh_next = np.zeros_like(dh_prev) if cut else dh_prev
    return dX, dh_next, dW_xh, dW_hh, db


def sliding_backward(dH: np.ndarray, caches: list[tuple[np.ndarray, ...]], k: int) -> Arrays:
    """A sliding window (not this exercise's truncation): each loss reaches back k steps."""
    steps = dH.shape[1]
    W_xh, W_hh = caches[0][2], caches[0][3]
    dX = np.zeros((dH.shape[0], steps, W_xh.shape[1]))
    dh0 = np.zeros_like(caches[0][1])
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    for s in range(steps):
        dh = dH[:, s]
        for t in range(s, max(s - k, -1), -1):
            dx, dh, gx, gh, gb = step_backward(dh, caches[t])
            dX[:, t] += dx
            dW_xh, dW_hh, db = dW_xh + gx, dW_hh + gh, db + gb
            if t == 0:
                dh0 = dh0 + dh
    return dX, dh0, dW_xh, dW_hh, db


STEP_MISTAKES = {
    "tanh at h_prev": "tanh′ is taken at h_{t−1}: the derivative of h_t = tanh(z_t) is "
    "1 − h_t², at the state the step produced (the cache's h), not the one it started from",
    "no tanh'": "the derivative of tanh is missing: dz = dh ⊙ (1 − h_t²) before any product "
    "with a weight matrix",
    "1 - h": "tanh′ is written 1 − h: the derivative of tanh(z) is 1 − tanh(z)² = 1 − h²",
    "tanh of h": "tanh′ is computed as 1 − tanh(h_t)²: h_t is already tanh(z_t), so "
    "tanh′(z_t) = 1 − h_t², with no second tanh",
    "db averaged": "db is averaged over the batch: the bias is added to every row, and the "
    "loss here is a sum, so db is the sum of dz over the rows",
    "W_hh not transposed": "dh_prev uses W_hhᵀ: with the batch as rows, z = h_prev W_hhᵀ + …, "
    "so dh_prev = dz W_hh (in column form ∂ℒ/∂h_{t−1} = W_hhᵀ δ, the same thing)",
}
SEQUENCE_MISTAKES = {
    "direct only": "the gradient reaching h_t is only what the loss sends it directly, dH[:, t]: "
    "add what comes back from step t + 1 (dh_prev of the later step)",
    "recurrent only": "the gradient reaching h_t is only what comes back from step t + 1: add "
    "what the loss sends it directly, dH[:, t], at every step, not only the last",
    "assign": "the weight gradients keep only one step's contribution (`=` where `+=` is "
    "needed): the weights are shared by every step, so their gradients are summed over t",
    "time reversed": "the steps are visited forward in time: BPTT runs from the last step "
    "back to the first, t = T − 1, …, 0, because h_t's gradient needs step t + 1's",
    **STEP_MISTAKES,
}
OFF_BY_ONE = (
    "the window is off by one: you cut where t + 1 is a multiple of k; cut the gradient from "
    "step t to h_{t−1} when t itself is a positive multiple of k"
)
DH0_ZERO = (
    "dh0 is zero: the initial state h_0 is step 0's h_prev, so ∂ℒ/∂h_0 is the dh_prev that "
    "step 0 sends back"
)
DH0_ONE_LATE = (
    "dh0 is the gradient reaching H[:, 0], the state h_1 that step 0 produced: ∂ℒ/∂h_0 is one "
    "step further back, the dh_prev that step 0 sends back"
)
TRUNCATION_MISTAKES = {
    "ignores k": "your gradient does not depend on k: it is full BPTT for every window; cut the "
    "gradient to h_{t−1} when t is a positive multiple of k",
    "off by one": OFF_BY_ONE,
    "off by one, t = 0 too": OFF_BY_ONE,
    "k + 1": "the window is off by one: your chunks have k + 1 steps; chunk c is t = ck, …, "
    "ck + k − 1, so the cut is at t = k, 2k, …",
    "from the end": "your chunks are counted from the end of the sequence: count them from "
    "t = 0, cutting at t = k, 2k, …",
    "cuts the direct term": "at a chunk boundary you drop the loss's own gradient dH[:, t − 1] "
    "too: only what comes back from step t is cut, h_{t−1} still gets its direct term",
    "cuts at 0": "you cut at t = 0 too, so dh0 is zero: t = 0 starts the sequence, not a new "
    "chunk; the initial state h_0 still receives step 0's dh_prev, as in full BPTT",
    "one step late": "your cuts are one step late: you drop the gradient from step t to "
    "h_{t−1} where t − 1 is a multiple of k; the step that starts a chunk is t = k, 2k, … "
    "(Python's indices), and its gradient to the state before it is the one to drop",
    "sliding window": "you truncate with a sliding window (every loss sends its gradient k steps "
    "back from where it is); the truncation asked for is the chunked one: fixed chunks "
    "[0, k), [k, 2k), …, and a loss reaches back only to the start of its own chunk",
}
