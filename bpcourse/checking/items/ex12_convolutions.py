r"""Graded items of exercises/12_convolutions.ipynb: convolution and pooling, forward and backward.

The library's conventions (`bpcourse.conv`): images X (N, C, H, W), kernels W
(C_out, C_in, kh, kw), b (C_out,); "convolution" is cross-correlation,
out[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] X̃[n, c, s·i + u, s·j + v] with X̃ the input
zero-padded by p; max pooling sends a window's gradient to its first maximum in row-major
order (np.argmax's choice). The reference is `bpcourse.conv`, the checker's own inputs are
small and seeded, and no answer is stored.

- `conv2d_forward(X, W, b, stride, padding)`: compared with the reference, at stride 1 and at
  stride 2 with padding 1 (half the points each).
- `conv2d_backward(dOut, X, W, stride, padding) -> (dX, dW, db)`: each compared with central
  finite differences (float64) of Σ dOut ⊙ out, at both settings (a third of the points each).
- `conv2d_input_gradient(dOut, W)`: dX at stride 1, padding 0, which the text asks to compute
  as a full convolution of dOut with the flipped kernel, by the learner's own conv2d_forward:
  when that forward pass fails item 1 (or raises, or is not written), the feedback says so
  first and drops the likely mistakes, which assume a right forward pass.
- `max_pool_backward(dOut, X, k)`: the reference's routing, on inputs without ties and on
  inputs with ties (half the points each).
- `avg_pool_backward(dOut, X, k)`: central finite differences of Σ dOut ⊙ avg_pool(X).
- `im2col(X, kh, kw, stride, padding)`: the matrix (N·H_out·W_out, C·kh·kw), one row per
  window in the order (n, i, j), a window's entries in the order (c, u, v) (as in lesson 12).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items import ex12_mistakes as m
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, transforms
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import LearnerError, NotAttempted, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.conv import avg_pool2d_forward, conv_output_size, max_pool2d_backward
from bpcourse.conv import max_pool2d_forward as max_pool_reference
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "12_convolutions"
# the library code that would do the asked-for work: using it scores nothing
LIBRARY = ("bpcourse.conv", *NETWORK_LIBRARY)
# NumPy's and SciPy's ready-made convolutions, and NumPy's window views
CONVOLUTIONS = ("scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate")
WINDOW_VIEWS = ("numpy.lib.stride_tricks",)
SEED = 12
CASES = (("stride 1", 1, 0), ("stride 2, padding 1", 2, 1))
IMAGES = "(N, C, H, W)"

FLIPPED_FORWARD = (
    "{name} is a true convolution, with the kernel flipped: the layer computes a "
    "cross-correlation, out[i, j] = Σ W[u, v] · X̃[s·i + u, s·j + v], the kernel as it is"
)
NO_BIAS = "{name} lacks the bias: add b[o] once to every output pixel of channel o"
LAST_TERM = (
    "{name} keeps only the last product of the sum: `=` instead of `+=` in the accumulation "
    "loop overwrites what the earlier kernel entries added"
)
LAST_CHANNEL = (
    "{name} keeps only the last input channel: `=` instead of `+=` in the loop over the "
    "channels; the sum runs over every input channel c too"
)
DX_NOT_FLIPPED = (
    "{name} uses the kernel unflipped: X̃[s·i + u, s·j + v] met W[u, v], so dY[i, j] goes back "
    "to that pixel times W[u, v]; written as a full convolution, that is dY correlated with "
    "the kernel rotated by 180°"
)
ASSIGNED = (
    "{name} keeps only the last contribution: `=` instead of `+=` in the accumulation loop; "
    "overlapping windows (and every example, every output channel) add up"
)
STRIDE_IGNORED = (
    "{name} ignores the stride: output pixel (i, j) came from the window at (s·i, s·j), so its "
    "gradient goes back (and its input is read) there, not at (i, j)"
)
EMPTY_CROP = (
    "with padding 0, the crop dXp[:, :, p:-p, p:-p] is empty (-0 is 0, so p:-p is 0:0): cut "
    "the border off with p : p + H and p : p + W"
)
DW_SWAPPED = (
    "{name} is flipped by 180°: dW is the correlation of X̃ with dY, "
    "dW[o, c, u, v] = Σ dY[n, o, i, j] · X̃[n, c, s·i + u, s·j + v]; with X and dY swapped "
    "(or a convolution instead), it comes out rotated"
)
DB_LAST = (
    "{name} counts the last example only: `=` instead of `+=` over the batch; db sums dY over "
    "the examples and the positions"
)
DB_MEAN = "{name} is a mean: b[o] is added to every output pixel, so db[o] is the sum of dY"
DB_SUM = (
    "db is a vector of one entry per output channel: b[o] was added at every position of every "
    "example, so sum dY over every axis but the channel's"
)


def problem(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (2, 2, 5, 6), W (3, 2, 3, 3), b (3,): small enough for learners' loops."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)


def out_shape(X: np.ndarray, W: np.ndarray, s: int, p: int) -> tuple[int, int, int, int]:
    kh, kw = W.shape[2:]
    H, Wd = X.shape[2:]
    return (X.shape[0], W.shape[0], conv_output_size(H, kh, s, p), conv_output_size(Wd, kw, s, p))


def forward_shapes(X: np.ndarray, W: np.ndarray, s: int, p: int) -> dict[tuple[int, ...], str]:
    """Wrong output shapes and their causes."""
    hints: dict[tuple[int, ...], str] = {}
    if p:
        hints[out_shape(X, W, s, 0)] = (
            "the padding is ignored: pad the input with p zeros on every side first"
        )
    if s > 1:
        hints[out_shape(X, W, 1, p)] = (
            "that is the stride-1 size: the stride is ignored, step the window by s pixels "
            "(H_out = ⌊(H + 2p − kh)/s⌋ + 1)"
        )
    if s > 1 and p:
        hints[out_shape(X, W, 1, 0)] = "the stride and the padding are both ignored"
    hints.pop(out_shape(X, W, s, p), None)
    return hints


def _merge(parts: list[list[str]]) -> list[str]:
    return list(dict.fromkeys(message for part in parts for message in part))


def _at(messages: list[str], name: str, setting: str) -> list[str]:
    """Say which setting a message describes (`dX` -> `dX (stride 1)`), but not a likely
    mistake, so that the same mistake at two settings is said once."""
    return [
        text if text.startswith(LIKELY) else text.replace(name, f"{name} ({setting})", 1)
        for text in messages
    ]


# --- conv2d_forward -------------------------------------------------------------------------------


@item(
    "conv2d_forward",
    3,
    NOTEBOOK,
    forbid=(*LIBRARY, *CONVOLUTIONS, *WINDOW_VIEWS),
    checked_by="out agrees with the library's cross-correlation at stride 1 and at stride 2 "
    "with padding 1, on the checker's own X (2, 2, 5, 6), W (3, 2, 3, 3) and b",
)
def check_conv2d_forward(conv2d_forward: Callable[..., Any]) -> Problems:
    X, W, b = problem()
    parts: dict[str, list[str]] = {}
    for label, s, p in CASES:
        got = call_safely(conv2d_forward, X, W, b, s, p, name="conv2d_forward")
        right = m.forward(X, W, b, s, p)
        last = m.forward_last_term(X, W, b, s, p)
        slips = [
            Slip(FLIPPED_FORWARD, m.forward(X, m.flipped(W), b, s, p)),
            Slip(NO_BIAS, right - b[None, :, None, None]),
            Slip(LAST_TERM, last),
            Slip(LAST_TERM, last + b[None, :, None, None]),
            Slip(LAST_CHANNEL, m.forward_last_channel(X, W, b, s, p)),
        ]
        parts[label] = compare(
            right,
            got,
            f"out ({label})",
            slips,
            transforms(transpose=False),
            layout="(N, C_out, H_out, W_out)",
            shape_hints=forward_shapes(X, W, s, p),
        )
    return parts


# --- conv2d_backward ------------------------------------------------------------------------------


def by_differences(
    dY: np.ndarray, X: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central finite differences of Σ dY ⊙ out with respect to X, W and b (float64)."""
    x, w, c = X.copy(), W.copy(), b.copy()

    def f() -> float:
        return float(np.sum(dY * m.forward(x, w, c, s, p)))

    return numerical_gradient(f, x), numerical_gradient(f, w), numerical_gradient(f, c)


def backward_problem(s: int, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, W, b = problem()
    dY = np.random.default_rng(SEED + 10 * s + p).normal(size=out_shape(X, W, s, p))
    return dY, X, W, b


@item(
    "conv2d_backward",
    6,
    NOTEBOOK,
    forbid=(*LIBRARY, *CONVOLUTIONS, *WINDOW_VIEWS),
    checked_by="dX, dW and db agree with central finite differences (float64) of Σ dOut ⊙ out, "
    "at stride 1 and at stride 2 with padding 1",
)
def check_conv2d_backward(conv2d_backward: Callable[..., Any]) -> Problems:
    parts: dict[str, list[list[str]]] = {"dX": [], "dW": [], "db": []}
    for label, s, p in CASES:
        dY, X, W, b = backward_problem(s, p)
        value = call_safely(conv2d_backward, dY, X, W, s, p, name="conv2d_backward")
        dX, dW, db = expect_tuple(value, 3, "(dX, dW, db)", "conv2d_backward")
        nX, nW, nb = by_differences(dY, X, W, b, s, p)
        N, C_out, H_out, W_out = dY.shape
        dX_slips = [
            Slip(DX_NOT_FLIPPED, m.backward(dY, X, m.flipped(W), s, p)[0]),
            Slip(ASSIGNED, m.dX_scatter(dY, W, X.shape, s, p, assign="o")),
            Slip(ASSIGNED, m.dX_scatter(dY, W, X.shape, s, p, assign="ij")),
        ]
        dW_slips = [
            Slip(DW_SWAPPED, m.flipped(nW)),
            Slip(ASSIGNED, m.dW_loops(dY, X, W.shape, s, p, assign=True)),
            Slip(ASSIGNED, m.dW_loops(dY[-1:], X[-1:], W.shape, s, p)),
        ]
        if s > 1:
            dX_slips.append(Slip(STRIDE_IGNORED, m.dX_scatter(dY, W, X.shape, s, p, step=1)))
            dW_slips.append(Slip(STRIDE_IGNORED, m.dW_loops(dY, X, W.shape, s, p, step=1)))
        generic = transforms(transpose=False)
        padded = (*X.shape[:2], X.shape[2] + 2 * p, X.shape[3] + 2 * p)
        found = compare(
            nX,
            dX,
            "dX",
            dX_slips,
            generic,
            layout=IMAGES,
            shape_hints={padded: "cut the padding's border off: dX has X's shape"}
            if p
            else {(*X.shape[:2], 0, 0): EMPTY_CROP},
        )
        parts["dX"].append(_at(found, "dX", label))
        found = compare(
            nW,
            dW,
            "dW",
            dW_slips,
            generic,
            layout="(C_out, C_in, kh, kw)",
            shape_hints={
                (W.shape[1], W.shape[0], *W.shape[2:]): "dW has W's shape (C_out, C_in, kh, "
                "kw): the output channel first"
            },
        )
        parts["dW"].append(_at(found, "dW", label))
        found = compare(
            nb,
            db,
            "db",
            [Slip(DB_LAST, dY[-1].sum(axis=(1, 2))), Slip(DB_MEAN, dY.mean(axis=(0, 2, 3)))],
            generic,
            layout="(C_out,)",
            shape_hints={
                (): DB_SUM,
                (N, C_out): DB_SUM,
                (C_out, H_out, W_out): DB_SUM,
                (N, C_out, H_out, W_out): DB_SUM,
            },
        )
        parts["db"].append(_at(found, "db", label))
    return {name: _merge(lists) for name, lists in parts.items()}


# --- conv2d_input_gradient ------------------------------------------------------------------------

FULL_NOT_FLIPPED = (
    "{name} is dOut correlated with the kernel as it is: the full convolution needs the "
    "kernel rotated by 180°, W[:, :, ::-1, ::-1] (both spatial axes reversed)"
)
ONE_AXIS = (
    "{name} flips the kernel along one axis only: rotating by 180° reverses both the rows and "
    "the columns, W[:, :, ::-1, ::-1]"
)
TRANSPOSED_KERNEL = (
    "{name} transposes the kernel's rows and columns: the flip is a 180° rotation, "
    "W[:, :, ::-1, ::-1], not a transpose"
)


def input_gradient_problem() -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """dOut (2, 3, 3, 4) and W (3, 2, 3, 3): dX has shape (2, 2, 5, 6)."""
    rng = np.random.default_rng(SEED + 1)
    dY, W = rng.normal(size=(2, 3, 3, 4)), rng.normal(size=(3, 2, 3, 3))
    return dY, W, (2, 2, 5, 6)


@item(
    "conv2d_input_gradient",
    3,
    NOTEBOOK,
    forbid=(*LIBRARY, *CONVOLUTIONS, *WINDOW_VIEWS),
    checked_by="dX agrees with the library's input gradient of a stride-1, unpadded "
    "convolution, for the checker's dOut (2, 3, 3, 4) and W (3, 2, 3, 3)",
)
def check_conv2d_input_gradient(conv2d_input_gradient: Callable[..., Any]) -> Problems:
    dY, W, shape = input_gradient_problem()
    try:
        got = call_safely(conv2d_input_gradient, dY, W, name="conv2d_input_gradient")
    except (NotAttempted, LearnerError) as stop:
        if own_forward_passes(conv2d_input_gradient):
            raise
        # the learner's own forward pass (item 1) is what raised: say so first (and, when it
        # is not written yet, only that: this item's own code is there)
        if isinstance(stop, NotAttempted):
            raise NotAttempted(OWN_FORWARD_MISSING) from None
        raise LearnerError(OWN_FORWARD_RAISES, *stop.messages) from None
    right = m.backward(dY, np.zeros(shape), W, 1, 0)[0]
    slips = [
        Slip(FULL_NOT_FLIPPED, m.full_correlation(dY, W)),
        Slip(ONE_AXIS, m.full_correlation(dY, W[:, :, ::-1, :])),
        Slip(ONE_AXIS, m.full_correlation(dY, W[:, :, :, ::-1])),
        Slip(TRANSPOSED_KERNEL, m.full_correlation(dY, W.transpose(0, 1, 3, 2))),
    ]
    pad_hint = (
        "pad dOut with k − 1 = 2 zeros on every side (a full convolution: every position where "
        "the kernel overlaps dOut at all), so that dX has X's size H_out + k − 1"
    )
    found = compare(
        right,
        got,
        "dX",
        slips,
        transforms(transpose=False),
        layout=IMAGES,
        shape_hints={(2, 2, 3, 4): pad_hint, (2, 2, 1, 2): pad_hint},
    )
    if found and not own_forward_passes(conv2d_input_gradient):
        # the likely mistakes assume a right forward pass: with a wrong one they mislead
        return [OWN_FORWARD, *(text for text in found if not text.startswith(LIKELY))]
    return found


OWN_FORWARD_RAISES = (
    "this item calls your conv2d_forward, which does not pass its own check (item 1): fix it "
    "first, then run this check again (the error below may come from it)"
)
OWN_FORWARD_MISSING = (
    "this item calls your conv2d_forward, which still raises NotImplementedError: write item "
    "1 first, then run this check again"
)
OWN_FORWARD = (
    "this item calls your conv2d_forward, which does not pass its own check (item 1): fix it "
    "first, then run this check again (what is wrong below may come from it)"
)


def own_forward_passes(answer: Callable[..., Any]) -> bool:
    """False when `answer` calls the learner's `conv2d_forward` (found in its globals) and that
    function fails or raises on item 1's check; True otherwise (nothing to blame it for)."""
    code = getattr(answer, "__code__", None)
    forward = getattr(answer, "__globals__", {}).get("conv2d_forward")
    if code is None or "conv2d_forward" not in code.co_names or not callable(forward):
        return True
    try:
        problems = check_conv2d_forward.checker(forward)
    except Exception:  # it raises (or is not written yet): this item cannot pass either
        return False
    if isinstance(problems, dict):
        return not any(problems.values())
    return not problems


# --- max_pool_backward ----------------------------------------------------------------------------

EVERY_TIE = (
    "{name} gives the gradient to every entry that ties for the maximum: the rule is the "
    "first maximum in row-major order only (np.argmax's), which keeps Σ dX equal to Σ dOut"
)
LAST_TIE = (
    "{name} gives a tied window's gradient to its last maximum: the rule is the first one in "
    "row-major order (the one np.argmax returns)"
)
SPLIT_TIES = (
    "{name} shares a tied window's gradient among its maxima: the rule sends all of it to the "
    "first maximum in row-major order"
)
ALL_ENTRIES = (
    "{name} copies dOut to every entry of its window: only the maximum reached the output, so "
    "only it gets the gradient, the others 0"
)
MASK_ONLY = (
    "{name} is the 0/1 mask of the maxima alone: multiply it by the window's upstream gradient "
    "dOut[n, c, i, j] (route the gradient, not a 1)"
)
AVERAGED = (
    "{name} spreads dOut / k² over the window, as average pooling does: max pooling routes the "
    "whole gradient to the maximum"
)


def pool_problem(ties: bool) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(dOut, X, k): k = 2 on (2, 2, 4, 6) and k = 3 on (1, 2, 6, 6); with ties, X holds the
    integers 0, 1, 2 (many windows share their maximum)."""
    rng = np.random.default_rng(SEED + 2 + ties)
    cases = []
    for shape, k in (((2, 2, 4, 6), 2), ((1, 2, 6, 6), 3)):
        X = rng.integers(0, 3, size=shape).astype(np.float64) if ties else rng.normal(size=shape)
        dY = rng.normal(size=(*shape[:2], shape[2] // k, shape[3] // k))
        cases.append((dY, X, k))
    return cases


@item(
    "max_pool_backward",
    3,
    NOTEBOOK,
    forbid=(*LIBRARY, *WINDOW_VIEWS),
    checked_by="dX agrees with the library's max-pool backward (k = 2 and k = 3, stride k) on "
    "inputs without ties and on inputs with ties (the first maximum in row-major order)",
)
def check_max_pool_backward(max_pool_backward: Callable[..., Any]) -> Problems:
    parts: dict[str, list[str]] = {}
    for label, ties in (("no ties", False), ("ties", True)):
        found = []
        for dY, X, k in pool_problem(ties):
            got = call_safely(max_pool_backward, dY, X, k, name="max_pool_backward")
            right = max_pool2d_backward(dY, max_pool_reference(X, k)[1])
            routes = m.pool_routes(dY, X, k)
            texts = {
                "every tie": EVERY_TIE,
                "last tie": LAST_TIE,
                "split ties": SPLIT_TIES,
                "all": ALL_ENTRIES,
                "mask only": MASK_ONLY,
                "average": AVERAGED,
            }
            slips = [Slip(texts[key], value) for key, value in routes.items()]
            said = compare(right, got, "dX", slips, transforms(transpose=False), layout=IMAGES)
            found.append(_at(said, "dX", f"k = {k}, {label}"))
        parts[label] = _merge(found)
    return parts


# --- avg_pool_backward ----------------------------------------------------------------------------

AVERAGE_TEXTS = {
    "no division": "{name} is k² times too large: each entry counts 1/k² in the window's "
    "mean, so it gets dOut / k²",
    "÷k": "{name} divides by k: the window holds k × k = k² entries, each gets dOut / k²",
    "corner": "{name} gives the gradient to one entry of each window: every entry counts "
    "equally in the mean, each gets dOut / k²",
    "corner, no division": "{name} gives the gradient to one entry of each window: every "
    "entry counts equally in the mean, each gets dOut / k²",
}


def pooled_by_differences(dY: np.ndarray, X: np.ndarray, k: int) -> np.ndarray:
    """Central finite differences of Σ dY ⊙ avg_pool(X) with respect to X."""
    x = X.copy()

    def f() -> float:
        return float(np.sum(dY * avg_pool2d_forward(x, k)[0]))

    return numerical_gradient(f, x)


@item(
    "avg_pool_backward",
    2,
    NOTEBOOK,
    forbid=(*LIBRARY, *WINDOW_VIEWS),
    checked_by="dX agrees with central finite differences of Σ dOut ⊙ avg_pool(X) (k = 2 and "
    "k = 3, stride k)",
)
def check_avg_pool_backward(avg_pool_backward: Callable[..., Any]) -> Problems:
    found = []
    for dY, X, k in pool_problem(False):
        got = call_safely(avg_pool_backward, dY, X, k, name="avg_pool_backward")
        right = pooled_by_differences(dY, X, k)
        slips = [Slip(AVERAGE_TEXTS[key], v) for key, v in m.average_slips(dY, k).items()]
        found.append(
            _at(
                compare(right, got, "dX", slips, transforms(transpose=False), layout=IMAGES),
                "dX",
                f"k = {k}",
            )
        )
    return _merge(found)


# --- im2col ---------------------------------------------------------------------------------------

COLUMNS_CHANNEL_LAST = (
    "{name} orders a window's entries (u, v, c), the channel last: they go channel first, "
    "column index (c·kh + u)·kw + v, the order of W[o].ravel()"
)
COLUMNS_COLUMN_FIRST = (
    "{name} orders a window's entries column by column: row-major order, u (the row in the "
    "window) before v"
)
ROWS_EXAMPLE_LAST = (
    "{name} orders its rows (i, j, n), the example last: the windows go example first, "
    "row index (n·H_out + i)·W_out + j"
)
COLUMNS = "(N·H_out·W_out, C·kh·kw)"


def columns_problem() -> np.ndarray:
    return np.random.default_rng(SEED + 4).normal(size=(2, 2, 5, 6))


@item(
    "im2col",
    2,
    NOTEBOOK,
    forbid=(*LIBRARY, *WINDOW_VIEWS),
    checked_by="the matrix of windows (N·H_out·W_out, C·kh·kw) agrees with the library's windows "
    "for a 2×3 kernel at stride 1 and at stride 2 with padding 1",
)
def check_im2col(im2col: Callable[..., Any]) -> Problems:
    X = columns_problem()
    kh, kw = 2, 3
    parts: dict[str, list[str]] = {}
    for label, s, p in CASES:
        got = call_safely(im2col, X, kh, kw, s, p, name="im2col")
        right = m.columns(X, kh, kw, s, p)
        texts = {
            "columns u v c": COLUMNS_CHANNEL_LAST,
            "columns c v u": COLUMNS_COLUMN_FIRST,
            "rows i j n": ROWS_EXAMPLE_LAST,
        }
        slips = [Slip(texts[k], v) for k, v in m.column_slips(X, kh, kw, s, p).items()]
        width = X.shape[1] * kh * kw
        hints = {right.shape[::-1]: f"one row per window, not one column: cols has shape {COLUMNS}"}
        for hint_s, hint_p, text in (
            (1, p, "the stride is ignored"),
            (s, 0, "the padding is ignored"),
        ):
            n = int(np.prod(out_shape(X, np.zeros((1, 1, kh, kw)), hint_s, hint_p)))
            if (n, width) != right.shape:
                hints[(n, width)] = f"{text}: that is not the number of windows"
        said = compare(right, got, "cols", slips, [], layout=COLUMNS, shape_hints=hints)
        parts[label] = _at(said, "cols", label)
    return parts


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_output_shape",
    1,
    NOTEBOOK,
    "fa75560ada8b2487d10be3017337d544d3f7f460d02e143fcb86637dcadc767b",
    kind="shape",
    revisit="H_out = ⌊(H + 2p − k)/s⌋ + 1, and which axis holds the output channels",
)
question(
    "q_dw_shape",
    1,
    NOTEBOOK,
    "1ed8ab6d2f11cc22ac2f7ac9c9de0bf4baa821a7b55ddbd98b05db8b178c342e",
    kind="shape",
    revisit="what a gradient with respect to a parameter has in common with the parameter",
)
question(
    "q_maxpool_positions",
    1,
    NOTEBOOK,
    "f9057d55410d18ab0035a9f6e25ab4fd0200a267ca884bb2a49d3e562084fc41",
    kind="integer",
    revisit="how many entries of one max-pool window reach its output",
)
question(
    "q_dx_sum",
    1,
    NOTEBOOK,
    "f8adf8560d76fa5692bbf7534041b9f70dda167e720fb87302bad80e6e0a59da",
    kind="letter",
    revisit="which outputs an input pixel reached, and through which kernel entry",
)
