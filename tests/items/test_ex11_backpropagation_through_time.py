"""What is particular to the items of exercises/11_backpropagation_through_time.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex11.py` in `test_contract.py`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from answers_ex11 import bptt, jacobian_norms, rnn_step_backward, truncated_bptt
from item_contract import assert_full_marks, run

from bpcourse.checking.items import ex11_backpropagation_through_time as ex11
from bpcourse.gradcheck import relative_error
from bpcourse.recurrent import rnn_backward
from bpcourse.recurrent import rnn_step_backward as library_step


def _text(result) -> str:
    return "\n".join(result.messages)


def _close(a, b, tolerance: float = 1e-7) -> bool:
    return all(relative_error(x, y) < tolerance for x, y in zip(a, b, strict=True))


# --- the checker's own references ----------------------------------------------------------------


def test_the_step_by_differences_is_the_librarys_step_backward():
    dh, cache = ex11.step_problem()
    dx, dh_prev, dW_xh, dW_hh, db = library_step(dh, cache)
    assert _close(ex11.step_by_differences(dh, cache), (dx, dh_prev, dW_xh, dW_hh, db))


def test_the_sequence_by_differences_is_the_librarys_full_bptt():
    dH, caches = ex11.sequence_problem()
    assert _close(ex11.sequence_by_differences(dH, caches), rnn_backward(dH, caches)[:5])


@pytest.mark.parametrize("k", [None, 1, 2, 3, 5, 7, 10])
def test_the_checkers_own_backward_is_the_librarys_at_every_window(k):
    dH, caches = ex11.sequence_problem()
    assert _close(ex11.backward(dH, caches, k), rnn_backward(dH, caches, truncate=k)[:5])


def test_a_window_that_covers_the_sequence_is_full_bptt_and_a_short_one_is_not():
    dH, caches = ex11.sequence_problem()
    full = rnn_backward(dH, caches)[:5]
    for k in ex11.FULL_WINDOWS:
        assert k >= ex11.T
        assert _close(rnn_backward(dH, caches, truncate=k)[:5], full)
    for k in ex11.WINDOWS:
        assert relative_error(rnn_backward(dH, caches, truncate=k).dW_hh, full[3]) > 1e-3


def test_the_jacobians_by_differences_are_the_products_of_the_step_jacobians():
    x, h0, W_xh, W_hh, b = ex11.jacobian_problem()
    H = ex11.states(x, h0, W_xh, W_hh, b)
    found = ex11.jacobians_by_differences()
    J = np.eye(ex11.N_JACOBIAN)
    for i in range(ex11.T_JACOBIAN - 1, -1, -1):
        assert relative_error(found[i], J) < 1e-7, i
        if i:
            J = J @ (np.diag(1 - H[i] ** 2) @ W_hh)


def test_the_problems_are_neither_saturated_nor_trivial():
    _, caches = ex11.sequence_problem()
    H = np.stack([c[4] for c in caches], axis=1)
    assert np.abs(H).max() < 0.99 and np.abs(H).mean() > 0.2
    W_hh = ex11.jacobian_problem()[3]
    assert np.isclose(np.max(np.abs(np.linalg.eigvals(W_hh))), 1.2)
    norms = np.array([np.linalg.norm(J, 2) for J in ex11.jacobians_by_differences()])
    assert norms.max() / norms.min() > 2  # the norms change with the distance


def test_every_known_mistake_is_told_apart_from_the_right_answer_and_the_others():
    dH, caches = ex11.sequence_problem()
    mistakes = {**ex11.SEQUENCE_MISTAKES, **ex11.TRUNCATION_MISTAKES}
    windows = (*ex11.WINDOWS, *ex11.FULL_WINDOWS)
    answers = {m: [ex11.truncation_variant(dH, caches, k, m) for k in windows] for m in mistakes}
    right = [ex11.backward(dH, caches, k) for k in windows]
    for m, a in answers.items():
        assert not all(_close(x, y, 1e-6) for x, y in zip(a, right, strict=True)), m
    for (m1, a1), (m2, a2) in itertools.combinations(answers.items(), 2):
        assert not all(_close(x, y, 1e-6) for x, y in zip(a1, a2, strict=True)), (m1, m2)
    x, h0, W_xh, W_hh, b = ex11.jacobian_problem()
    H = ex11.states(x, h0, W_xh, W_hh, b)
    norms = {m: ex11.norms_with(W_hh, H, m) for m in ("", *ex11.JACOBIAN_MISTAKES)}
    for (m1, a1), (m2, a2) in itertools.combinations(norms.items(), 2):
        assert relative_error(a1, a2) > 1e-6, (m1, m2)


# --- other right answers get full marks ----------------------------------------------------------


def test_bptt_in_column_form_with_einsum_gets_full_marks():
    def bptt(dH, caches):
        N, T, n = dH.shape
        W_xh, W_hh = caches[0][2], caches[0][3]
        dX = np.zeros((N, T, W_xh.shape[1]))
        dW_xh, dW_hh, db = 0 * W_xh, 0 * W_hh, np.zeros(n)
        delta = np.zeros((N, n))
        for t in range(T - 1, -1, -1):
            x, h_prev, _, _, h = caches[t]
            dz = (dH[:, t] + delta) * (1 - h * h)
            dX[:, t] = np.einsum("ni,ij->nj", dz, W_xh)
            dW_xh = dW_xh + np.einsum("ni,nj->ij", dz, x)
            dW_hh = dW_hh + np.einsum("ni,nj->ij", dz, h_prev)
            db = db + dz.sum(0)
            delta = (W_hh.T @ dz.T).T
        return dX, delta, dW_xh, dW_hh, db

    assert_full_marks("bptt", bptt, run=run)


def test_an_answer_that_changes_dh_in_place_still_gets_full_marks():
    def bptt(dH, caches):
        for t in range(dH.shape[1] - 1, 0, -1):
            _, dh_prev, *_ = rnn_step_backward(dH[:, t], caches[t])
            dH[:, t - 1] += dh_prev  # accumulate into the array the checker passed
        return _sum_steps(dH, caches)

    def _sum_steps(dH, caches):
        grads = [rnn_step_backward(dH[:, t], c) for t, c in enumerate(caches)]
        dX = np.stack([g[0] for g in grads], axis=1)
        return dX, grads[0][1], *(sum(g[i] for g in grads) for i in (2, 3, 4))

    assert_full_marks("bptt", bptt, run=run)


def test_truncation_chunk_by_chunk_forward_in_time_gets_full_marks():
    def truncated_bptt(dH, caches, k):
        T = dH.shape[1]
        total = None
        dX = np.zeros((dH.shape[0], T, caches[0][2].shape[1]))
        dh0 = None
        for start in range(0, T, k):  # each chunk's exact BPTT, its first state held fixed
            chunk = bptt(dH[:, start : start + k], caches[start : start + k])
            dX[:, start : start + k] = chunk[0]
            if start == 0:
                dh0 = chunk[1]
            weights = chunk[2:]
            if total is not None:
                weights = tuple(a + b for a, b in zip(total, weights, strict=True))
            total = weights
        return (dX, dh0, *total)

    assert_full_marks("truncated_bptt", truncated_bptt, run=run)


def test_jacobian_norms_from_singular_values_and_as_a_list_get_full_marks():
    def by_svd(W_hh, H):
        T, n = H.shape
        out, J = [], np.eye(n)
        for i in range(T - 1, -1, -1):
            out.append(float(np.linalg.svd(J, compute_uv=False)[0]))
            J = J @ ((1 - H[i] ** 2)[:, None] * W_hh)
        return out[::-1]  # a list of floats

    assert_full_marks("jacobian_norms", by_svd, run=run)


# --- partial credit and wording ------------------------------------------------------------------


def test_a_truncation_right_for_short_windows_but_not_for_long_ones_earns_half():
    def truncated(dH, caches, k):
        if k >= dH.shape[1]:
            k = 1  # wrong where it should be full BPTT
        return truncated_bptt(dH, caches, k)

    result = run("truncated_bptt", truncated)
    assert result.points == 2, str(result)
    assert "with k = 7 (T = 7)" in _text(result)


def test_equal_weight_sums_but_the_wrong_dX_loses_only_that_third():
    def wrong_dx(dH, caches):
        dX, *rest = bptt(dH, caches)
        return (2 * dX, *rest)

    result = run("bptt", wrong_dx)
    assert result.points == 4, str(result)
    assert "dX" in _text(result)


def test_the_step_returned_in_another_order_is_said():
    result = run("rnn_step_backward", lambda dh, cache: rnn_step_backward(dh, cache, "order"))
    assert result.points < result.max_points
    text = _text(result)
    assert "holds what belongs in dh_prev" in text, text
    assert "(dx, dh_prev, dW_xh, dW_hh, db)" in text


def _reordered(answer, order):
    return lambda *args: tuple(answer(*args)[i] for i in order)


@pytest.mark.parametrize(
    ("grade_id", "answer", "order", "said"),
    [
        ("rnn_step_backward", rnn_step_backward, (0, 1, 2, 4, 3), "dW_hh holds what belongs in db"),
        ("bptt", bptt, (0, 1, 3, 2, 4), "dW_xh holds what belongs in dW_hh"),
        ("bptt", bptt, (0, 2, 3, 4, 1), "dh0 holds what belongs in dW_xh"),
        ("truncated_bptt", truncated_bptt, (0, 1, 3, 2, 4), "dW_xh holds what belongs in dW_hh"),
    ],
)
def test_gradients_returned_in_another_order_are_said_not_blamed_on_a_sum(
    grade_id, answer, order, said
):
    result = run(grade_id, _reordered(answer, order))
    text = _text(result)
    assert result.status == "failed" and said in text, text
    assert "did you sum" not in text and "forget to sum" not in text, text


@pytest.mark.parametrize(
    ("grade_id", "answer"),
    [
        ("rnn_step_backward", rnn_step_backward),
        ("bptt", bptt),
        ("truncated_bptt", truncated_bptt),
        ("jacobian_norms", jacobian_norms),
    ],
)
def test_a_right_answer_in_float32_is_told_its_dtype_and_nothing_else(grade_id, answer):
    def in_float32(*args):
        value = answer(*args)
        if isinstance(value, np.ndarray):
            return value.astype(np.float32)
        return tuple(v.astype(np.float32) for v in value)

    result = run(grade_id, in_float32)
    text = _text(result)
    assert result.status == "failed" and "float32" in text, text
    assert "× the right value" not in text and "likely mistake" not in text, text
    assert "entries are right" not in text, text


def test_jacobian_norms_as_a_ragged_list_is_feedback_not_a_checker_error():
    result = run("jacobian_norms", lambda W, H: [1.0, [2.0, 3.0]])
    assert result.status == "failed", str(result)
    assert "please report" not in _text(result)


def test_jacobian_norms_as_a_list_of_none_is_not_called_nan():
    result = run("jacobian_norms", lambda W, H: [None] * len(H))
    assert result.status == "failed" and "NaN" not in _text(result), str(result)


def test_jacobian_norms_as_a_tuple_of_numbers_is_accepted_like_a_list():
    assert_full_marks("jacobian_norms", lambda W, H: tuple(jacobian_norms(W, H).tolist()))


def test_jacobian_norms_one_short_names_the_missing_last_entry():
    result = run("jacobian_norms", lambda W, H: jacobian_norms(W, H, "no last"))
    assert "‖∂h_T/∂h_T‖" in _text(result), str(result)


def test_an_overflowing_answer_raises_no_warning_in_the_checker():
    result = run("jacobian_norms", lambda W, H: np.full(len(H), np.inf))
    assert result.status == "failed" and "infinite" in _text(result), str(result)


def test_jacobian_norms_without_the_last_entry_is_a_shape_error():
    result = run("jacobian_norms", lambda W, H: jacobian_norms(W, H, "no last"))
    assert result.points == 0 and "(T,)" in _text(result)


def test_close_jacobian_norms_are_told_the_items_own_tolerance():
    result = run("jacobian_norms", lambda W, H: jacobian_norms(W, H) * (1 + 1e-5))
    assert "not within the 1e-6 asked for" in _text(result), str(result)
    assert "× the right value" not in _text(result), "no slip is guessed for a rounding error"


def test_bptt_with_dh0_left_at_zero_is_told_where_dh0_comes_from():
    result = run("bptt", lambda dH, caches: bptt(dH, caches, "dh0 zero"))
    assert "step 0's h_prev" in _text(result), str(result)


def test_bptt_returning_the_gradient_of_h1_as_dh0_is_told_so():
    result = run("bptt", lambda dH, caches: bptt(dH, caches, "dh0 is dh_1"))
    assert "dh0 is the gradient reaching H[:, 0]" in _text(result), str(result)
