r"""Graded items of exercises/11_backpropagation_through_time.ipynb: BPTT, truncated, decay.

The cell is the library's (`bpcourse.recurrent`), batch as rows: for x_t (N, n_in) and
h_{t−1} (N, n), h_t = tanh(x_t W_xhᵀ + h_{t−1} W_hhᵀ + b), W_xh (n, n_in), W_hh (n, n),
b (n,). A step's cache is the tuple (x, h_prev, W_xh, W_hh, h); a sequence's caches are the
list of its T step caches. Only arrays, lists and tuples of arrays cross to the learner's code.

- `rnn_step_backward(dh, cache) -> (dx, dh_prev, dW_xh, dW_hh, db)`: central finite
  differences of Σ dh ⊙ h_t with respect to every input of the step.
- `bptt(dH, caches) -> (dX, dh0, dW_xh, dW_hh, db)`: central finite differences of Σ dH ⊙ H
  through the whole unrolled sequence (the checker's forward pass).
- `truncated_bptt(dH, caches, k)`: the library's `rnn_backward(..., truncate=k)` (chunks of k
  steps, the state detached at t = k, 2k, …) at k = 1, 2, 3, 5 and at k ≥ T, where it must be
  full BPTT.
- `jacobian_norms(W_hh, H)`: the spectral norm ‖∂h_T/∂h_t‖₂ for every state of one sequence,
  against the Jacobians by central finite differences of the checker's forward pass.

A wrong answer is compared with the checker's own versions of the known mistakes (the same
backward pass with one thing changed) and the one it matches is named.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, transforms
from bpcourse.checking.items.ex11_reference import (
    DH0_ONE_LATE,
    DH0_ZERO,
    N_HIDDEN,
    N_IN,
    SEED,
    SEQUENCE_MISTAKES,
    STEP_MISTAKES,
    TRUNCATION_MISTAKES,
    Arrays,
    N,
    T,
    _copies,
    backward,
    caches_of,
    sequence,
    sliding_backward,
    step_backward,
    upstream,
    weights,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.gradcheck import numerical_gradient, relative_error
from bpcourse.recurrent import rnn_backward, rnn_forward

NOTEBOOK = "11_backpropagation_through_time"
# the library code that would do the asked-for work: using it scores nothing
LIBRARY = ("bpcourse.recurrent", "bpcourse.clipping", *NETWORK_LIBRARY)
STEP_NAMES = ("dx", "dh_prev", "dW_xh", "dW_hh", "db")
SEQ_NAMES = ("dX", "dh0", "dW_xh", "dW_hh", "db")
LAYOUTS = {
    "dx": "(N, n_in)",
    "dh_prev": "(N, n)",
    "dX": "(N, T, n_in)",
    "dh0": "(N, n)",
    "dW_xh": "(n, n_in)",
    "dW_hh": "(n, n)",
    "db": "(n,)",
}


# --- rnn_step_backward ---------------------------------------------------------------------------


def step_problem() -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    W_xh, W_hh, b = weights()
    X, h0 = sequence()
    caches = caches_of(X[:, :2], h0, W_xh, W_hh, b)
    return upstream(shape=(N, N_HIDDEN)), caches[1]  # step 1: h_prev is a real state


def step_by_differences(dh: np.ndarray, cache: tuple[np.ndarray, ...]) -> Arrays:
    """Central differences of Σ dh ⊙ tanh(x W_xhᵀ + h_prev W_hhᵀ + b) for every input."""
    x, h_prev, W_xh, W_hh, _ = (a.copy() for a in cache)
    b = weights()[2].copy()

    def loss() -> float:
        return float(np.sum(dh * np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b)))

    return tuple(numerical_gradient(loss, a) for a in (x, h_prev, W_xh, W_hh, b))


def _slip(text: str, value: np.ndarray) -> Slip:
    """A catalogue slip whose text is shown as it is (its braces are not format fields)."""
    return Slip(text.replace("{", "{{").replace("}", "}}"), value)


def _arrays(value: Any, names: tuple[str, ...], function: str) -> tuple[Any, ...]:
    if isinstance(value, dict):
        raise BadAnswer(f"{function} should return the tuple ({', '.join(names)}), got a dict")
    return expect_tuple(value, len(names), f"({', '.join(names)})", function)


def _close(right: np.ndarray, value: Any) -> bool:
    """Whether `value` is a finite float or int array equal to `right` (relative error < 1e-6)."""
    return (
        isinstance(value, np.ndarray)
        and value.dtype.kind in "fiu"
        and value.shape == right.shape
        and bool(np.isfinite(value).all())
        and relative_error(right, value.astype(np.float64)) < 1e-6
    )


def _misplaced(right: Arrays, got: tuple[Any, ...], names: tuple[str, ...]) -> dict[str, str]:
    """For each output that holds another output's gradient, a message saying so."""
    found = {}
    for i, name in enumerate(names):
        if _close(right[i], got[i]):
            continue
        for j, other in enumerate(names):
            if j != i and _close(right[j], got[i]):
                found[name] = (
                    f"{name} holds what belongs in {other}: return the gradients in the order "
                    f"({', '.join(names)})"
                )
                break
    return found


def _compare_all(
    right: Arrays,
    got: tuple[Any, ...],
    names: tuple[str, ...],
    variants: dict[str, Arrays],
    texts: dict[str, str],
    sign: bool = True,
) -> dict[str, list[str]]:
    """Each output compared, then diagnosed against the known mistakes, per name."""
    found: dict[str, list[str]] = {}
    misplaced = _misplaced(right, got, names)
    for i, name in enumerate(names):
        if name in misplaced:
            found[name] = [misplaced[name]]
            continue
        slips = [_slip(texts[m], v[i]) for m, v in variants.items()]
        square = right[i].ndim == 2 and right[i].shape[0] == right[i].shape[1]
        generic = transforms(transpose=square and name.startswith("dW"), sign=sign)
        found[name] = compare(right[i], got[i], name, slips, generic, layout=LAYOUTS[name])
    return found


def _parts(found: dict[str, list[str]], groups: dict[str, tuple[str, ...]]) -> Problems:
    seen: set[str] = set()
    parts: dict[str, list[str]] = {}
    for part, names in groups.items():
        messages = []
        for name in names:
            for m in found[name]:
                if m.startswith(LIKELY) and m in seen:
                    continue  # the same mistake, said once
                seen.add(m)
                messages.append(m)
        parts[part] = messages
    return parts


@item(
    "rnn_step_backward",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dx, dh_prev, dW_xh, dW_hh and db agree with central finite differences of "
    "Σ dh ⊙ h_t through the step (float64, relative error < 1e-7)",
)
def check_rnn_step_backward(rnn_step_backward: Callable[..., Any]) -> Problems:
    dh, cache = step_problem()
    value = call_safely(rnn_step_backward, dh.copy(), tuple(a.copy() for a in cache))
    got = _arrays(value, STEP_NAMES, "rnn_step_backward")
    right = step_by_differences(dh, cache)
    variants = {m: step_backward(dh, cache, m) for m in STEP_MISTAKES}
    found = _compare_all(right, got, STEP_NAMES, variants, STEP_MISTAKES)
    return _parts(
        found, {"dx and dh_prev": ("dx", "dh_prev"), "dW_xh, dW_hh and db": STEP_NAMES[2:]}
    )


# --- bptt ----------------------------------------------------------------------------------------


def sequence_problem() -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    W_xh, W_hh, b = weights()
    X, h0 = sequence()
    return upstream(), caches_of(X, h0, W_xh, W_hh, b)


def sequence_by_differences(dH: np.ndarray, caches: list[tuple[np.ndarray, ...]]) -> Arrays:
    """Central differences of Σ dH ⊙ H through the unrolled forward pass."""
    X = np.stack([c[0] for c in caches], axis=1).copy()
    h0, W_xh, W_hh = (a.copy() for a in caches[0][1:4])
    b = weights()[2].copy()

    def loss() -> float:
        return float(np.sum(dH * rnn_forward(X, h0, W_xh, W_hh, b)[0]))

    return tuple(numerical_gradient(loss, a) for a in (X, h0, W_xh, W_hh, b))


SEQUENCE_GROUPS = {
    "dX and dh0": ("dX", "dh0"),
    "dW_xh and dW_hh": ("dW_xh", "dW_hh"),
    "db": ("db",),
}


@item(
    "bptt",
    6,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"dX, dh0, dW_xh, dW_hh and db agree with central finite differences of Σ dH ⊙ H "
    f"through the unrolled sequence (N = {N}, T = {T}; float64, relative error < 1e-7)",
)
def check_bptt(bptt: Callable[..., Any]) -> Problems:
    dH, caches = sequence_problem()
    value = call_safely(bptt, dH.copy(), _copies(caches))
    got = _arrays(value, SEQ_NAMES, "bptt")
    right = sequence_by_differences(dH, caches)
    variants = {m: backward(dH, caches, None, m) for m in SEQUENCE_MISTAKES}
    dX, dh0, *weights_ = backward(dH, caches)
    variants["dh0 zero"] = (dX, np.zeros_like(dh0), *weights_)
    variants["dh0 is dh_1"] = (dX, rnn_backward(dH, caches).dH_total[:, 0], *weights_)
    texts = {**SEQUENCE_MISTAKES, "dh0 zero": DH0_ZERO, "dh0 is dh_1": DH0_ONE_LATE}
    return _parts(_compare_all(right, got, SEQ_NAMES, variants, texts), SEQUENCE_GROUPS)


# --- truncated_bptt ------------------------------------------------------------------------------

WINDOWS = (1, 2, 3, 5)
FULL_WINDOWS = (T, T + 3)


def _same(a: Arrays, got: tuple[Any, ...]) -> bool:
    for x, y in zip(a, got, strict=True):
        if not isinstance(y, np.ndarray) or y.shape != x.shape or y.dtype.kind != "f":
            return False
        if not np.isfinite(y).all() or relative_error(x, y) > 1e-6:
            return False
    return True


def _window_part(
    truncated_bptt: Callable[..., Any],
    windows: tuple[int, ...],
    dH: np.ndarray,
    caches: list[tuple[np.ndarray, ...]],
    answers: dict[int, tuple[Any, ...]],
) -> list[str]:
    """What is wrong at the first window that fails (every window's answer is kept)."""
    said: list[str] = []
    for k in windows:
        value = call_safely(truncated_bptt, dH.copy(), _copies(caches), k, name="truncated_bptt")
        got = _arrays(value, SEQ_NAMES, "truncated_bptt")
        answers[k] = got
        if said:
            continue
        right = tuple(rnn_backward(dH, caches, truncate=k)[:5])
        found = _compare_all(right, got, SEQ_NAMES, {}, {}, sign=False)
        for name in SEQ_NAMES:
            if found[name]:
                first, *causes = found[name]
                said = [f"with k = {k} (T = {T}): {first}", *causes]
                break
    return said


@item(
    "truncated_bptt",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"the five gradients agree with the reference truncated BPTT (chunks of k steps) "
    f"at k = {', '.join(map(str, WINDOWS))} and equal full BPTT at k = {FULL_WINDOWS[0]} = T "
    f"and k = {FULL_WINDOWS[1]} > T",
)
def check_truncated_bptt(truncated_bptt: Callable[..., Any]) -> Problems:
    dH, caches = sequence_problem()
    answers: dict[int, tuple[Any, ...]] = {}
    parts = {
        "k < T": _window_part(truncated_bptt, WINDOWS, dH, caches, answers),
        "k ≥ T (full BPTT)": _window_part(truncated_bptt, FULL_WINDOWS, dH, caches, answers),
    }
    rights = {k: tuple(rnn_backward(dH, caches, truncate=k)[:5]) for k in answers}
    values_right = all(_same(rights[k], got) for k, got in answers.items())
    if any(parts.values()) and not values_right and not any(LIKELY in m for m in _all(parts)):
        for mistake, text in {**TRUNCATION_MISTAKES, **SEQUENCE_MISTAKES}.items():
            if all(
                _same(truncation_variant(dH, caches, k, mistake), got) for k, got in answers.items()
            ):
                part = "k < T" if parts["k < T"] else "k ≥ T (full BPTT)"
                parts[part] = [*parts[part], LIKELY + text]
                break
    return parts


def _all(parts: dict[str, list[str]]) -> list[str]:
    return [m for messages in parts.values() for m in messages]


def truncation_variant(
    dH: np.ndarray, caches: list[tuple[np.ndarray, ...]], k: int, mistake: str
) -> Arrays:
    if mistake == "sliding window":
        return sliding_backward(dH, caches, k)
    return backward(dH, caches, k, mistake)


# --- jacobian_norms ------------------------------------------------------------------------------

T_JACOBIAN, N_JACOBIAN = 8, 5


def jacobian_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x (T, n_in), h0, W_xh, W_hh, b of one sequence; W_hh's spectral radius about 1.2."""
    W_xh, W_hh, b = weights(SEED + 5, n=N_JACOBIAN)
    W_hh = W_hh * 1.2 / np.max(np.abs(np.linalg.eigvals(W_hh)))
    rng = np.random.default_rng(SEED + 6)
    return rng.normal(size=(T_JACOBIAN, N_IN)), rng.normal(0, 0.5, N_JACOBIAN), W_xh, W_hh, b


def states(x: np.ndarray, h0: np.ndarray, W_xh, W_hh, b, start: int = 0) -> np.ndarray:
    """The states h_{start+1}, …, h_T of one sequence from h_start = h0: (T − start, n)."""
    h, out = h0, []
    for t in range(start, x.shape[0]):
        h = np.tanh(W_xh @ x[t] + W_hh @ h + b)
        out.append(h)
    return np.array(out)


def jacobians_by_differences() -> list[np.ndarray]:
    """∂h_T/∂h_t for t = 1, …, T (entry [a, c] = ∂h_T[a]/∂h_t[c]), by central differences."""
    x, h0, W_xh, W_hh, b = jacobian_problem()
    H = states(x, h0, W_xh, W_hh, b)
    found = []
    for t in range(1, T_JACOBIAN):  # H[t − 1] is h_t
        h = H[t - 1].copy()
        rows = []
        for c in range(N_JACOBIAN):
            old = h[c]
            h[c] = old + 1e-6
            plus = states(x, h, W_xh, W_hh, b, t)[-1]
            h[c] = old - 1e-6
            minus = states(x, h, W_xh, W_hh, b, t)[-1]
            h[c] = old
            rows.append((plus - minus) / 2e-6)
        found.append(np.array(rows).T)
    return [*found, np.eye(N_JACOBIAN)]  # ∂h_T/∂h_T = I


def norms_with(W_hh: np.ndarray, H: np.ndarray, mistake: str = "") -> np.ndarray:
    """‖∂h_T/∂h_t‖ per t from the chain of steps, with one known mistake switched on."""
    steps, n = H.shape
    W = W_hh.T if mistake == "W_hh transposed" else W_hh
    J, norms = np.eye(n), [1.0]
    for s in range(steps - 1, 0, -1):  # the step from h_s (H[s − 1]) to h_{s+1} (H[s])
        at = H[s - 1] if mistake == "tanh at h_prev" else H[s]
        local = W if mistake == "no tanh'" else (1 - at**2)[:, None] * W
        J = local @ J if mistake == "reversed product" else J @ local
        norms.append(float(np.linalg.norm(J, "fro" if mistake == "frobenius" else 2)))
    ordered = np.array(norms[::-1])
    return ordered[::-1] if mistake == "indexed by distance" else ordered


JACOBIAN_MISTAKES = {
    "frobenius": "you take the Frobenius norm: ‖·‖ here is the spectral norm, the largest "
    "singular value, np.linalg.norm(J, 2)",
    "tanh at h_prev": "tanh′ of the step from h_{s−1} to h_s is taken at h_{s−1}: ∂h_s/∂h_{s−1} "
    "= diag(1 − h_s²) W_hh, at the state the step produced",
    "no tanh'": "the tanh′ factors are missing: each step back contributes diag(1 − h_s²) W_hh, "
    "not W_hh alone",
    "W_hh transposed": "each step's Jacobian uses W_hhᵀ: in the column form h_s = tanh(W_hh "
    "h_{s−1} + …), ∂h_s/∂h_{s−1} = diag(1 − h_s²) W_hh",
    "reversed product": "the factors are multiplied in the wrong order: ∂h_T/∂h_t = J_T J_{T−1} "
    "⋯ J_{t+1}, the last step's Jacobian on the left",
    "indexed by distance": "norms is in reverse order: norms[i] belongs to the state H[i] "
    "(h_{i+1}), so the last entry, ‖∂h_T/∂h_T‖, is 1",
}


@item(
    "jacobian_norms",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"the spectral norms of ∂h_T/∂h_t for t = 1, …, {T_JACOBIAN} agree with the "
    "norms of the Jacobians computed by central finite differences of the forward pass",
)
def check_jacobian_norms(jacobian_norms: Callable[..., Any]) -> Problems:
    x, h0, W_xh, W_hh, b = jacobian_problem()
    H = states(x, h0, W_xh, W_hh, b)
    got = call_safely(jacobian_norms, W_hh.copy(), H.copy())
    if isinstance(got, (list, tuple)) and all(_is_number(v) for v in got):
        got = np.asarray(got, dtype=np.float64)  # a list of plain numbers is accepted
    right = np.array([np.linalg.norm(J, 2) for J in jacobians_by_differences()])
    slips = [_slip(text, norms_with(W_hh, H, m)) for m, text in JACOBIAN_MISTAKES.items()]
    hints: dict[tuple[int, ...], str] = {
        (T_JACOBIAN - 1,): "one entry per state h_1, …, h_T, the last one ‖∂h_T/∂h_T‖ = 1 included"
    }
    return compare(right, got, "norms", slips, layout="(T,)", tolerance=1e-6, shape_hints=hints)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_dW_hh_shape",
    1,
    NOTEBOOK,
    "05f72af71c442eeb82998be103bf19b68a63efc75b8bfc60bbe2ee939a58cc34",
    kind="shape",
    revisit="the shape of a weight gradient: the shape of the weight it belongs to",
)
question(
    "q_decay_magnitude",
    1,
    NOTEBOOK,
    "edbac6da808218722d8715fe897d513d2a5c7f3b7927ef62e78237e74adac294",
    kind="integer",
    revisit="∂h_T/∂h_0 as a product of T Jacobians, each W_hh for a linear cell",
)
question(
    "q_truncation_bias",
    1,
    NOTEBOOK,
    "05e3f8bbe8c9c41f37c0ff38effd8dd9a1bf07ee72bedc16762783c44fa61bfb",
    kind="letter",
    revisit="which terms of the full BPTT sum a window of k steps leaves out",
)
question(
    "q_cell_path",
    1,
    NOTEBOOK,
    "a8db456a1e7a993ef1eb38f4546de965846f1d3a4789e46a9cb7fd3ec0c4b60b",
    kind="number",
    revisit="the LSTM cell update c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t and its derivative in c_{t−1}",
)
