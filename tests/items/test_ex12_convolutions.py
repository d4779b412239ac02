"""What is particular to the items of exercises/12_convolutions.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex12.py` in `test_contract.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as sg
from answers_ex12 import conv2d_backward, conv2d_forward, max_pool_backward
from item_contract import assert_full_marks, run

from bpcourse.checking.items import ex12_convolutions as ex12
from bpcourse.checking.items import ex12_mistakes as mistakes
from bpcourse.gradcheck import relative_error


def _text(result) -> str:
    return "\n".join(result.messages)


# --- the checker's own references ----------------------------------------------------------------


@pytest.mark.parametrize(("label", "s", "p"), ex12.CASES)
def test_the_finite_differences_agree_with_the_librarys_backward(label, s, p):
    dY, X, W, b = ex12.backward_problem(s, p)
    numeric = ex12.by_differences(dY, X, W, b, s, p)
    for got, right in zip(numeric, mistakes.backward(dY, X, W, s, p), strict=True):
        assert relative_error(got, right) < 1e-7, label


def test_the_loop_slips_without_the_slip_are_the_right_gradients():
    for _, s, p in ex12.CASES:
        dY, X, W, _ = ex12.backward_problem(s, p)
        dX, dW, _ = mistakes.backward(dY, X, W, s, p)
        assert relative_error(mistakes.dX_scatter(dY, W, X.shape, s, p), dX) < 1e-12
        assert relative_error(mistakes.dW_loops(dY, X, W.shape, s, p), dW) < 1e-12


def test_the_average_pool_differences_spread_dout_over_each_window():
    for dY, X, k in ex12.pool_problem(False):
        spread = np.kron(dY, np.ones((k, k))) / k**2
        assert relative_error(ex12.pooled_by_differences(dY, X, k), spread) < 1e-7


def test_the_tied_inputs_have_ties_and_the_tie_rules_differ():
    for dY, X, k in ex12.pool_problem(True):
        w = mistakes.windows(X, k)
        assert ((w == w.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).mean() > 0.2
        routes = mistakes.pool_routes(dY, X, k)
        assert not np.allclose(routes["every tie"], routes["last tie"])
    for dY, X, k in ex12.pool_problem(False):  # no ties: every tie rule is the right one
        routes = mistakes.pool_routes(dY, X, k)
        assert np.allclose(routes["every tie"], routes["last tie"])


def test_the_full_correlation_with_the_rotated_kernel_is_the_input_gradient():
    dY, W, shape = ex12.input_gradient_problem()
    right = mistakes.backward(dY, np.zeros(shape), W, 1, 0)[0]
    assert relative_error(mistakes.full_correlation(dY, mistakes.flipped(W)), right) < 1e-12


def test_the_slips_differ_from_the_right_answer_and_from_each_other():
    X, W, b = ex12.problem()
    for _, s, p in ex12.CASES:
        right = mistakes.forward(X, W, b, s, p)
        values = [
            mistakes.forward(X, mistakes.flipped(W), b, s, p),
            mistakes.forward_last_term(X, W, b, s, p),
            mistakes.forward_last_channel(X, W, b, s, p),
        ]
        for i, a in enumerate(values):
            assert relative_error(a, right) > 1e-3
            for c in values[i + 1 :]:
                assert relative_error(a, c) > 1e-3


# --- partial credit ------------------------------------------------------------------------------


def test_a_forward_pass_that_ignores_the_stride_keeps_the_stride_1_half():
    result = run("conv2d_forward", lambda X, W, b, s=1, p=0: conv2d_forward(X, W, b, 1, p))
    assert result.points == pytest.approx(1.5), str(result)


def test_a_backward_pass_with_a_wrong_db_keeps_dx_and_dw():
    def answer(dOut, X, W, stride=1, padding=0):
        dX, dW, _ = conv2d_backward(dOut, X, W, stride, padding)
        return dX, dW, dOut.sum(axis=(2, 3))

    result = run("conv2d_backward", answer)
    assert result.points == pytest.approx(4), str(result)
    assert "one entry per output channel" in _text(result)


def test_max_pooling_that_gives_every_tie_the_gradient_keeps_the_no_ties_half():
    result = run("max_pool_backward", lambda d, X, k: max_pool_backward(d, X, k, slip="every tie"))
    assert result.points == pytest.approx(1.5), str(result)


# --- other right answers get full marks ----------------------------------------------------------


def test_vectorised_answers_get_full_marks():
    def conv2d_forward(X, W, b, stride=1, padding=0):
        Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        kh, kw = W.shape[2:]
        H_out = (Xp.shape[2] - kh) // stride + 1
        W_out = (Xp.shape[3] - kw) // stride + 1
        out = np.empty((X.shape[0], W.shape[0], H_out, W_out))
        for i in range(H_out):
            for j in range(W_out):
                window = Xp[:, :, stride * i : stride * i + kh, stride * j : stride * j + kw]
                out[:, :, i, j] = np.einsum("ncuv,ocuv->no", window, W) + b
        return out

    def max_pool_backward(dOut, X, k):
        N, C, H, W = X.shape
        w = X.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5)
        w = w.reshape(N, C, H // k, W // k, k * k)
        mask = np.arange(k * k) == w.argmax(axis=-1)[..., None]
        d = (mask * dOut[..., None]).reshape(N, C, H // k, W // k, k, k)
        return d.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)

    assert_full_marks("conv2d_forward", conv2d_forward, run=run)
    assert_full_marks("max_pool_backward", max_pool_backward, run=run)


# --- shortcuts outside the library ---------------------------------------------------------------


def test_numpy_and_scipy_convolutions_are_shortcuts_in_the_notebook_too():
    """In the notebook `check` reads the live functions' source: numpy and scipy names must
    be kept (the registry adds the forbidden names' packages to the roots it follows)."""

    def conv2d_input_gradient(dOut, W):
        return np.convolve(dOut.ravel(), W.ravel())

    def conv2d_forward(X, W, b, stride=1, padding=0):
        return sg.correlate(X, W)

    def im2col(X, kh, kw, stride=1, padding=0):
        return np.lib.stride_tricks.sliding_window_view(X, (kh, kw), axis=(2, 3))

    for grade_id, answer, name in (
        ("conv2d_input_gradient", conv2d_input_gradient, "numpy.convolve"),
        ("conv2d_forward", conv2d_forward, "scipy.signal"),
        ("im2col", im2col, "stride_tricks"),
    ):
        result = run(grade_id, answer)
        assert (result.status, result.points) == ("failed", 0), str(result)
        assert "write it yourself" in _text(result) and name in _text(result), str(result)


# --- review fixes --------------------------------------------------------------------------------


def test_a_float32_answer_is_not_called_1_times_the_right_value():
    """A close float32 answer is a dtype slip; "1 × the right value" would be nonsense."""
    result = run("conv2d_forward", lambda *a: conv2d_forward(*a).astype(np.float32))
    assert result.points == 0 and "float32" in _text(result), str(result)
    assert "× the right value" not in _text(result), str(result)


def _input_gradient_with(forward, flipped="W[:, :, ::-1, ::-1]"):
    """A right conv2d_input_gradient, as written in a notebook whose conv2d_forward is
    `forward` (the item calls the learner's own forward pass, found in its globals)."""
    namespace = {"np": np, "conv2d_forward": forward}
    exec(
        "def conv2d_input_gradient(dOut, W):\n"
        "    k = W.shape[2]\n"
        f"    rotated = {flipped}.transpose(1, 0, 2, 3)\n"
        "    return conv2d_forward(dOut, rotated, np.zeros(W.shape[1]), 1, k - 1)\n",
        namespace,
    )
    return namespace["conv2d_input_gradient"]


def test_the_input_gradient_blames_a_wrong_forward_pass_not_the_kernel():
    """With a forward that flips the kernel, the right rotation looks unrotated: the feedback
    must send the learner to item 1, not tell them to rotate a kernel they did rotate."""
    result = run(
        "conv2d_input_gradient",
        _input_gradient_with(lambda *a: conv2d_forward(*a, slip="flipped")),
    )
    assert result.points == 0, str(result)
    assert result.messages[0] == ex12.OWN_FORWARD, str(result)
    assert "likely mistake" not in _text(result) and "rotated" not in _text(result), str(result)
    right = run("conv2d_input_gradient", _input_gradient_with(conv2d_forward))
    assert right.passed, str(right)


def test_an_unwritten_forward_pass_is_named_in_the_input_gradient():
    def forward(X, W, b, stride=1, padding=0):
        raise NotImplementedError()

    result = run("conv2d_input_gradient", _input_gradient_with(forward))
    assert result.status == "not attempted", str(result)
    assert result.messages == [ex12.OWN_FORWARD_MISSING], str(result)


def test_a_forward_pass_that_raises_is_named_in_the_input_gradient():
    def forward(X, W, b, stride=1, padding=0):
        return X[:, :, 99]

    result = run("conv2d_input_gradient", _input_gradient_with(forward))
    assert result.status == "error", str(result)
    assert result.messages[0] == ex12.OWN_FORWARD_RAISES and "IndexError" in _text(result)


def test_a_wrong_input_gradient_with_a_right_forward_keeps_its_diagnosis():
    result = run("conv2d_input_gradient", _input_gradient_with(conv2d_forward, "W"))
    assert ex12.OWN_FORWARD not in result.messages, str(result)
    assert "likely mistake: dX is dOut correlated with the kernel as it is" in _text(result)


def test_a_db_summed_over_everything_is_told_which_axis_to_keep():
    """db = dOut.sum() is a single number: the feedback says why it is one per channel (and
    neither prints np.float64(...) nor hands over the line of code)."""

    def answer(dOut, X, W, stride=1, padding=0):
        dX, dW, _ = conv2d_backward(dOut, X, W, stride, padding)
        return dX, dW, dOut.sum()

    result = run("conv2d_backward", answer)
    assert result.points == pytest.approx(4), str(result)
    text = _text(result)
    assert "one entry per output channel" in text and "np.float64" not in text, text
    assert "axis=(0, 2, 3)" not in text, text
