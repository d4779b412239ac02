r"""Graded items of exercises/07_vanishing_and_exploding_gradients.ipynb.

No answer is stored: each item is verified from first principles on the checker's own seeded
inputs.

- `xavier_normal(n_out, n_in, rng)`, `he_normal(n_out, n_in, rng)`: a (n_out, n_in) matrix of
  normal weights drawn from `rng`, with variance 2/(n_in + n_out) (Glorot & Bengio 2010) or
  2/n_in (He et al. 2015). Checked on a large sample (mean, variance, normal shape, the same
  weights from two generators with the same seed) and through a deep stack of 30 square layers
  the checker builds with them (linear for Xavier, ReLU for He), where the mean square of the
  pre-activations must change by less than about 15% per layer on average.
- `gradient_norms(X, Y, weights, biases, activation) -> [‖∂ℒ/∂W(l)‖ for l = 1..L]`: the
  Frobenius norm of every weight gradient of a deep MLP (hidden layers `activation`, a linear
  output, ℒ the mean of ½‖ŷ − y‖²), compared with the checker's own backward pass (itself
  verified by finite differences in the tests) for sigmoid, tanh and ReLU networks.
- `clip_by_global_norm(grads, max_norm) -> (clipped, norm)`: every gradient scaled by
  max_norm/‖g‖ when the global norm ‖g‖ = sqrt(Σ_p ‖g_p‖²) exceeds max_norm, unchanged below;
  `norm` the global norm before clipping.
- `mlp_flops(N, sizes) -> (forward, backward)`: the floating-point operations of the matrix
  products of an MLP, counted as lesson 07 counts them, on four networks.
- `cache_bytes(N, sizes) -> bytes`: the float64 memory its layers keep for the backward pass,
  counted as lesson 07's `cache_bytes` counts it, on four networks.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import describe
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex04_06_catalogue import compare, transforms
from bpcourse.checking.items.ex07_reference import (
    ACTIVATIONS,
    BACKWARD_SLIPS,
    CACHE_SLIPS,
    COST_CASES,
    FORWARD_SLIPS,
    N_NORMS,
    backward,
    clip_reference,
    clip_slips,
    flat,
    flops,
    global_norm,
    gradients,
    init_slips,
    network,
    norm_slips,
    norms_of,
    whole_number,
)
from bpcourse.checking.items.ex07_reference import (
    cache_bytes as cache_bytes_reference,
)
from bpcourse.checking.items.ex07_reference import (
    variance as steady_variance,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY

NOTEBOOK = "07_vanishing_and_exploding_gradients"
INIT_LIBRARY = ("bpcourse.init", "bpcourse.network", "bpcourse.layers")
NORMS_LIBRARY = ("bpcourse.activations", "bpcourse.diagnostics", *NETWORK_LIBRARY)
CLIP_LIBRARY = ("bpcourse.clipping", "bpcourse.diagnostics", "bpcourse.optim")
COST_LIBRARY = ("bpcourse.cost", "bpcourse.layers", "bpcourse.network", "bpcourse.diagnostics")

# --- xavier_normal and he_normal ------------------------------------------------------------------

SAMPLE_OUT, SAMPLE_IN = 400, 300  # 120,000 weights: the sample variance is within ±0.4%
VARIANCE_TOLERANCE = 0.03  # relative; a catalogued mistake is at least 12% away
DEPTH, WIDTH, BATCH = 30, 256, 400
# the mean square of z(l) changes by a random factor per layer even with the right variance
# (a few %, more with ReLU); a wrong variance changes it by 0.5, 2 or more
STEADY = (0.85, 1.18)


def _matrix(value: Any, shape: tuple[int, int], function: str) -> np.ndarray:
    """The learner's weight matrix, or BadAnswer saying what is wrong with it."""
    if value is None:
        raise BadAnswer(f"{function} returned None: did you forget to `return` the weights?")
    if not isinstance(value, np.ndarray):
        raise BadAnswer(f"{function} should return a NumPy array, got {describe(value)}")
    if value.shape != shape:
        hint = ""
        if value.shape == shape[::-1]:
            hint = ": W has shape (n_out, n_in), one row per unit of the layer (size=(n_out, n_in))"
        raise BadAnswer(
            f"{function}({shape[0]}, {shape[1]}, rng) has shape {value.shape}, expected "
            f"{shape} = (n_out, n_in){hint}"
        )
    if value.dtype != np.float64:
        raise BadAnswer(f"{function} returned dtype {value.dtype}, expected float64")
    if not np.isfinite(value).all():
        raise BadAnswer(f"{function} returned NaN or infinite weights")
    return value


def _sample_problems(fn: Callable[..., Any], kind: str, function: str) -> list[str]:
    """Mean, variance, shape of the distribution, and reproducibility of a large sample."""
    W = _matrix(
        call_safely(fn, SAMPLE_OUT, SAMPLE_IN, np.random.default_rng(70), name=function),
        (SAMPLE_OUT, SAMPLE_IN),
        function,
    )
    again = call_safely(fn, SAMPLE_OUT, SAMPLE_IN, np.random.default_rng(70), name=function)
    problems = []
    if not isinstance(again, np.ndarray) or not np.array_equal(W, again):
        problems.append(
            "two generators with the same seed gave different weights: draw them from the "
            "`rng` passed in (rng.normal(...)), not from np.random"
        )
    right = steady_variance(kind, SAMPLE_OUT, SAMPLE_IN)
    with np.errstate(all="ignore"):  # huge weights: the statistics say inf, no warning
        mean, variance = float(W.mean()), float(W.var())
    if not np.isfinite(variance):
        return [
            *problems,
            f"the weights are so large that their variance overflows (the largest is "
            f"{float(np.abs(W).max()):.3g}): look at the scale you give rng.normal",
        ]
    if abs(mean) > 5 * np.sqrt(max(variance, right) / W.size):
        problems.append(f"the weights' mean is {mean:.3g}, expected 0 (centred weights)")
    right_variance = abs(variance / right - 1) <= VARIANCE_TOLERANCE
    if not right_variance:
        said = (
            f"for n_out = {SAMPLE_OUT}, n_in = {SAMPLE_IN} the weights' variance is "
            f"{variance:.4g}, {variance / right:.3g} × the variance that keeps the signal steady"
        )
        for value, text in init_slips(kind, SAMPLE_OUT, SAMPLE_IN):
            if abs(variance / value - 1) <= VARIANCE_TOLERANCE:
                problems += [said, LIKELY + text]
                break
        else:
            problems.append(said)
    if variance > 0:  # the shape of the distribution, whatever its scale
        z = (W - mean) / np.sqrt(variance)
        kurtosis = float(np.mean(z**4)) - 3.0
        if kurtosis < -0.5:
            problems.append(
                (
                    "the weights have the right variance but are"
                    if right_variance
                    else "and they are"
                )
                + " spread evenly between two limits (excess kurtosis "
                f"{kurtosis:.2f}, a normal distribution's is 0): {function} draws from a normal "
                "distribution, rng.normal, not rng.uniform"
            )
        elif abs(kurtosis) > 0.2:
            problems.append(
                f"the weights are not normally distributed (excess kurtosis {kurtosis:.2f}, a "
                "normal distribution's is 0): draw them with rng.normal"
            )
    return problems


def deep_stack(fn: Callable[..., Any], kind: str, function: str, seed: int = 71) -> np.ndarray:
    """Mean square of z(l) for l = 1..DEPTH through square layers initialised by `fn`.

    Xavier: linear layers (its derivation assumes the linear regime of tanh, tanh(z) ≈ z);
    He: ReLU layers. x is a standard normal batch; the biases are 0.
    """
    rng = np.random.default_rng(seed)
    A = np.random.default_rng(72).normal(size=(BATCH, WIDTH))
    squares = []
    for _ in range(DEPTH):
        W = _matrix(call_safely(fn, WIDTH, WIDTH, rng, name=function), (WIDTH, WIDTH), function)
        with np.errstate(all="ignore"):
            Z = A @ W.T
            squares.append(float(np.mean(Z * Z)))
            A = Z if kind == "xavier" else np.maximum(Z, 0.0)
    return np.array(squares)


def stack_problems(fn: Callable[..., Any], kind: str, function: str, seed: int = 71) -> list[str]:
    """[] when the mean square of z(l) stays steady through the deep stack, else what it does."""
    squares = deep_stack(fn, kind, function, seed)
    layers = "linear" if kind == "xavier" else "ReLU"
    with np.errstate(all="ignore"):
        ratio = squares[-1] / squares[0] if squares[0] > 0 else np.nan
    where = f"through {DEPTH} {layers} layers of width {WIDTH} initialised by your {function}"
    if not np.isfinite(ratio) or ratio == 0:
        return [f"{where}, the pre-activations overflow or vanish entirely"]
    per_layer = ratio ** (1 / (DEPTH - 1))
    if STEADY[0] <= per_layer <= STEADY[1]:
        return []
    way = "shrinks" if ratio < 1 else "grows"
    return [
        f"{where}, the mean square of z(l) {way} by a factor of about {per_layer:.3g} per layer, "
        f"{ratio:.3g} from layer 1 to layer {DEPTH}: the variance of the weights does not "
        "preserve the variance of the signal"
    ]


def _check_init(fn: Callable[..., Any], kind: str, function: str) -> Problems:
    _matrix(call_safely(fn, 3, 5, np.random.default_rng(0), name=function), (3, 5), function)
    return {
        "large sample": _sample_problems(fn, kind, function),
        "deep stack": stack_problems(fn, kind, function),
    }


@item(
    "xavier_normal",
    2,
    NOTEBOOK,
    forbid=INIT_LIBRARY,
    checked_by="mean 0, variance 2/(n_in + n_out) and a normal shape on 120,000 weights, the "
    "same weights from the same seed, and a steady signal through 30 linear layers",
)
def check_xavier_normal(xavier_normal: Callable[..., Any]) -> Problems:
    return _check_init(xavier_normal, "xavier", "xavier_normal")


@item(
    "he_normal",
    2,
    NOTEBOOK,
    forbid=INIT_LIBRARY,
    checked_by="mean 0, variance 2/n_in and a normal shape on 120,000 weights, the same weights "
    "from the same seed, and a steady signal through 30 ReLU layers",
)
def check_he_normal(he_normal: Callable[..., Any]) -> Problems:
    return _check_init(he_normal, "he", "he_normal")


# --- gradient_norms -------------------------------------------------------------------------------

PART = {"sigmoid": "sigmoid net", "tanh": "tanh net", "relu": "ReLU net"}


def _as_norms(value: Any, L: int) -> np.ndarray:
    if value is None:
        raise BadAnswer(
            "gradient_norms returned None: did you forget to `return` the list of norms?"
        )
    if isinstance(value, np.ndarray):
        items = list(value.ravel()) if value.ndim <= 1 else None
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = None
    if items is None:
        raise BadAnswer(
            f"gradient_norms should return a list of L = {L} numbers, got {describe(value)}"
        )
    numbers_only = []
    for v in items:
        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise BadAnswer(
                f"gradient_norms should return L = {L} numbers, one norm per layer; it returned "
                f"{describe(v)} among them (a norm is np.linalg.norm(dW), one number)"
            )
        numbers_only.append(float(v))
    if len(numbers_only) != L:
        raise BadAnswer(
            f"gradient_norms returned {len(numbers_only)} numbers, expected L = {L}, one "
            "‖∂ℒ/∂W(l)‖ for each layer l = 1..L"
        )
    return np.array(numbers_only)


@item(
    "gradient_norms",
    6,
    NOTEBOOK,
    forbid=NORMS_LIBRARY,
    checked_by="‖∂ℒ/∂W(l)‖ of all 8 layers agree with the checker's own backward pass for "
    "sigmoid, tanh and ReLU networks",
)
def check_gradient_norms(gradient_norms: Callable[..., Any]) -> Problems:
    X, Y, weights, biases = network()
    L = len(weights)
    parts: dict[str, list[str]] = {}
    for activation in ACTIVATIONS:
        got = call_safely(
            gradient_norms,
            X,
            Y,
            [W.copy() for W in weights],
            [b.copy() for b in biases],
            activation,
            name="gradient_norms",
        )
        norms = _as_norms(got, L)
        right = norms_of(backward(X, Y, weights, biases, activation)["dW"])
        part = PART[activation]
        with np.errstate(all="ignore"):  # an infinite or huge norm is reported, not warned about
            parts[part] = compare(
                right,
                norms,
                part,
                norm_slips(X, Y, weights, biases, activation),
                transforms(N_NORMS, transpose=False, sign=False),
                layout="(L,), layer 1 first",
            )
        parts[part] = [
            re.sub(r"at index \((\d+),\)", lambda m: f"for layer {int(m[1]) + 1}", message)
            for message in parts[part]
        ]
    return parts


# --- clip_by_global_norm --------------------------------------------------------------------------


def _clipped(value: Any, grads: list[np.ndarray]) -> tuple[np.ndarray, Any]:
    if (
        isinstance(value, (list, tuple))
        and len(value) == len(grads)
        and all(
            isinstance(v, np.ndarray) and v.shape == g.shape
            for v, g in zip(value, grads, strict=True)
        )
    ):
        raise BadAnswer(
            f"clip_by_global_norm returned a list of {len(grads)} arrays, the clipped gradients "
            "alone: return the pair (clipped, norm), the norm measured before clipping"
        )
    clipped, norm = expect_tuple(value, 2, "(clipped, norm)", "clip_by_global_norm")
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        raise BadAnswer(
            f"clip_by_global_norm's clipped should be a list of {len(grads)} arrays, one per "
            f"gradient, got {describe(clipped)}"
        )
    for i, (c, g) in enumerate(zip(clipped, grads, strict=True)):
        if not isinstance(c, np.ndarray) or c.shape != g.shape or c.dtype.kind != "f":
            raise BadAnswer(
                f"clipped[{i}] is {describe(c)}, expected a float array of shape {g.shape}, the "
                f"shape of grads[{i}]"
            )
    return flat(clipped), norm


def _worst_tensor(right: list[np.ndarray], got: np.ndarray, where: str) -> str:
    """Which tensor and entry of the clipped gradients differ most (`got` is flattened)."""
    ends = np.cumsum([r.size for r in right])
    wrong = flat(right) - got
    worst = int(np.argmax(np.abs(wrong)))
    p = int(np.searchsorted(ends, worst, side="right"))
    start = int(ends[p - 1]) if p else 0
    index = tuple(int(i) for i in np.unravel_index(worst - start, right[p].shape))
    return (
        f"when {where}, the clipped gradients are wrong; the largest difference is in "
        f"clipped[{p}] at index {index}: expected {flat(right)[worst]:.6g}, got {got[worst]:.6g}"
    )


def _norm_problems(
    right: float, got: Any, clipped_norm: float, sum_of_norms: float, where: str
) -> list[str]:
    name = f"the norm returned when {where}"
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return [f"{name} is {describe(got)}, expected one number, the global norm"]
    value = float(got)
    if np.isfinite(value) and abs(value - right) <= 1e-9 * right:
        return []
    said = [f"{name}: expected {right:.6g}, got {value:.6g}"]
    if abs(value - right**2) <= 1e-9 * right**2:
        said.append(LIKELY + "your norm is squared: ‖g‖ = sqrt(Σ_p Σ g²)")
    elif abs(value - clipped_norm) <= 1e-9 * right and clipped_norm != right:
        said.append(
            LIKELY + "your norm is measured after clipping: return the global norm before it "
            "(the number that tells how large the gradient was)"
        )
    elif abs(value - sum_of_norms) <= 1e-9 * sum_of_norms:
        said.append(
            LIKELY + "your norm adds the tensors' norms Σ_p ‖g_p‖: the global norm is "
            "sqrt(Σ_p ‖g_p‖²), the norm of all entries as one long vector"
        )
    return said


# the thresholds, as fractions of the global norm ‖g‖: two that clip (at 0.8‖g‖ only the largest
# tensor is longer than max_norm, so per-tensor clipping fails there too) and one that does not
CLIP_CASES = (
    ("‖g‖ = 2.5 × max_norm", 0.4),
    ("‖g‖ = 1.25 × max_norm", 0.8),
    ("‖g‖ = 0.5 × max_norm", 2.0),
)


@item(
    "clip_by_global_norm",
    3,
    NOTEBOOK,
    forbid=CLIP_LIBRARY,
    checked_by="above max_norm every gradient is scaled by max_norm/‖g‖ (the direction kept), "
    "below it nothing changes, and the norm returned is the global norm",
)
def check_clip_by_global_norm(clip_by_global_norm: Callable[..., Any]) -> Problems:
    """Three equal shares: clipping at two thresholds below ‖g‖, and (one share together) no
    clipping above it and the norm returned; below max_norm any clipping leaves the gradients
    alone, so a method that is not clipping by the global norm earns that share at most."""
    grads = gradients()
    norm = global_norm(grads)
    sum_of_norms = sum(float(np.linalg.norm(g)) for g in grads)
    parts: dict[str, list[str]] = {}
    norms: list[list[str]] = []
    for where, fraction in CLIP_CASES:
        c = fraction * norm
        value = call_safely(
            clip_by_global_norm, [g.copy() for g in grads], c, name="clip_by_global_norm"
        )
        got, got_norm = _clipped(value, grads)
        right = flat(clip_reference(grads, c))
        with np.errstate(all="ignore"):  # infinite or huge gradients: reported, not warned about
            found = compare(right, got, "your clip", clip_slips(grads, c))
            if found:
                close = " (close, but not within the 1e-7 asked for)"
                found[0] = _worst_tensor(clip_reference(grads, c), got, where) + (
                    close if found[0].endswith(close) else ""
                )
            norms.append(_norm_problems(norm, got_norm, min(norm, c), sum_of_norms, where))
        said = [m for part in parts.values() for m in part]
        name = f"clipping when {where}" if c < norm else f"no clipping when {where}"
        parts[name] = (
            found[:1]
            + [  # a cause already given is not repeated
                "the same mistake as above" if m in said else m for m in found[1:]
            ]
        )
    texts = [
        [m.replace(f" when {where}", "") for m in problems]
        for (where, _), problems in zip(CLIP_CASES, norms, strict=True)
    ]
    if all(t == texts[0] for t in texts):  # the same wrong norm every time: say it once
        norms = texts[:1]
    returned: list[str] = []
    for m in (m for problems in norms for m in problems):
        if m not in returned:
            returned.append(m)
    parts[f"{name}, and the norm returned"] = parts.pop(name) + returned
    return parts


# --- mlp_flops and cache_bytes -------------------------------------------------------------------


def _first_difference(part: str, mine: list[int | None], wanted: list[int]) -> list[str]:
    case = next(i for i, (m, w) in enumerate(zip(mine, wanted, strict=True)) if m != w)
    N, sizes = COST_CASES[case]
    return [
        f"{part} for N = {N}, sizes = {list(sizes)}: expected {wanted[case]:,}, got {mine[case]:,}"
    ]


@item(
    "mlp_flops",
    2,
    NOTEBOOK,
    forbid=COST_LIBRARY,
    checked_by="the forward and backward counts agree with lesson 07's convention on four networks",
)
def check_mlp_flops(mlp_flops: Callable[..., Any]) -> Problems:
    got: list[tuple[int | None, int | None]] = []
    for N, sizes in COST_CASES:
        value = call_safely(mlp_flops, N, list(sizes), name="mlp_flops")
        f, b = expect_tuple(value, 2, "(forward, backward)", "mlp_flops")
        if whole_number(f) is None or whole_number(b) is None:
            raise BadAnswer(
                f"mlp_flops should return two whole numbers (forward, backward), got "
                f"{describe(f)} and {describe(b)}"
            )
        got.append((whole_number(f), whole_number(b)))
    right = [flops(N, sizes) for N, sizes in COST_CASES]
    if got == [(b, f) for f, b in right]:
        return ["forward and backward are swapped: return (forward, backward)"]
    parts: dict[str, list[str]] = {}
    for index, part in enumerate(("forward", "backward")):
        slips = FORWARD_SLIPS if part == "forward" else BACKWARD_SLIPS
        mine = [g[index] for g in got]
        wanted = [r[index] for r in right]
        if mine == wanted:
            parts[part] = []
            continue
        said = _first_difference(part, mine, wanted)
        for slip, text in slips.items():
            if [flops(n, s, slip)[index] for n, s in COST_CASES] == mine:
                said.append(LIKELY + text)
                break
        parts[part] = said
    return parts


@item(
    "cache_bytes",
    2,
    NOTEBOOK,
    forbid=COST_LIBRARY,
    checked_by="the bytes kept for the backward pass agree with lesson 07's count on four networks",
)
def check_cache_bytes(cache_bytes: Callable[..., Any]) -> Problems:
    mine = []
    for N, sizes in COST_CASES:
        value = call_safely(cache_bytes, N, list(sizes), name="cache_bytes")
        if whole_number(value) is None:
            raise BadAnswer(
                f"cache_bytes should return a whole number of bytes, got {describe(value)}"
            )
        mine.append(whole_number(value))
    wanted = [cache_bytes_reference(N, sizes) for N, sizes in COST_CASES]
    if mine == wanted:
        return []
    said = _first_difference("the bytes", mine, wanted)
    for slip, text in CACHE_SLIPS.items():
        if slip in ("numbers", "float32", "bits"):
            factor = {"numbers": 1 / 8, "float32": 1 / 2, "bits": 8}[slip]
            candidate = [round(w * factor) for w in wanted]
        else:
            candidate = [cache_bytes_reference(n, s, slip) for n, s in COST_CASES]
        if candidate == mine:
            said.append(LIKELY + "cache_bytes " + text)
            break
    return said


# --- conceptual questions (answers stored as salted digests) --------------------------------------

question(
    "q_sigmoid_chain",
    1,
    NOTEBOOK,
    "098f6dce3e063f83f0237ce02b905d563a8dddac40618789a619e10dbbdc2141",
    kind="number",
    revisit="the largest value of σ′(z) and the chain rule along a chain of units",
)
question(
    "q_clip_value_cosine",
    1,
    NOTEBOOK,
    "8a8be847f4e358380e1650215acd74b0e2de7b28f42aa452f8eb52156ac4be9a",
    kind="number",
    revisit="clipping by value: which entries change, and the cosine u·v/(‖u‖ ‖v‖)",
)
question(
    "q_he_factor",
    1,
    NOTEBOOK,
    "2ef06644e206f1f018b03820b89bd0b9714cc4c6909e2b4e5c5f54727399dad8",
    kind="letter",
    revisit="what ReLU does to the mean square of its input, E[a²] versus E[z²]",
)
question(
    "q_backward_cost",
    1,
    NOTEBOOK,
    "bed6abcd3f62a156a3578596af2af8caffea1a677272bc2909e408407b283938",
    kind="integer",
    revisit="the matrix products a dense layer's backward pass computes, against its forward's",
)
