"""What is particular to the items of exercises/10_batch_normalisation.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex10.py` in `test_contract.py`.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from answers_ex10 import (
    batchnorm_backward,
    batchnorm_backward_compact,
    batchnorm_forward,
    batchnorm_running,
    bn_network_backward,
)
from item_contract import assert_full_marks, run

from bpcourse.batchnorm import batchnorm_backward as library_backward
from bpcourse.batchnorm import batchnorm_forward as library_forward
from bpcourse.checking import ITEMS
from bpcourse.checking.items import ex10_batch_normalisation as ex10
from bpcourse.checking.items import ex10_math as bm
from bpcourse.checking.items import ex10_probe as probe
from bpcourse.gradcheck import relative_error


def _text(result) -> str:
    return "\n".join(result.messages)


# --- the checker's own math agrees with the library's --------------------------------------------


def test_the_forward_and_the_backward_by_differences_agree_with_the_library():
    p = bm.problem()
    X, gamma, beta, dOut = p["X"], p["gamma"], p["beta"], p["dOut"]
    out, cache = library_forward(X, gamma, beta, np.zeros(bm.F), np.ones(bm.F), eps=bm.EPS)
    assert relative_error(bm.forward(X, gamma, beta, bm.EPS), out) < 1e-12
    numeric = bm.by_differences(dOut, X, gamma, beta, bm.EPS)
    for mine, library in zip(numeric, library_backward(dOut, cache), strict=True):
        assert relative_error(mine, library) < 1e-7
    assert relative_error(bm.backward_slipped(dOut, X, gamma, bm.EPS), numeric[0]) < 1e-7
    assert relative_error(bm.compact(dOut, X, gamma), numeric[0]) < 1e-7


def test_the_running_averages_follow_the_librarys_convention():
    p = bm.running_problem()
    mean, var = p["running_mean"].copy(), p["running_var"].copy()
    library_forward(p["X"], p["gamma"], p["beta"], mean, var, bm.MOMENTUM, bm.EPS)
    _, got_mean, got_var = batchnorm_running(
        p["X"], p["gamma"], p["beta"], p["running_mean"], p["running_var"], 0.1, 0.1, True
    )
    assert np.allclose(got_mean, mean) and np.allclose(got_var, var)


def test_every_slip_changes_the_answer_and_no_two_slips_coincide():
    p = bm.problem()
    X, gamma, beta, dOut = p["X"], p["gamma"], p["beta"], p["dOut"]
    right_out = bm.forward(X, gamma, beta, bm.EPS)
    right_dX = bm.backward_slipped(dOut, X, gamma, bm.EPS)
    for right, slips in (
        (right_out, ex10.forward_slips(X, gamma, beta)),
        (right_dX, ex10.dx_slips(dOut, X, gamma)),
    ):
        values = [np.asarray(s.value) for s in slips]
        for i, value in enumerate(values):
            assert relative_error(value, right) > 1e-3, slips[i].text
            for other in values[i + 1 :]:
                assert relative_error(value, other) > 1e-3


def test_the_running_problem_is_far_from_the_batch_statistics():
    p = bm.running_problem()
    assert relative_error(p["running_mean"], p["X"].mean(axis=0)) > 0.1
    assert relative_error(p["running_var"], p["X"].var(axis=0, ddof=1)) > 0.1
    assert relative_error(p["X_eval"].mean(axis=0), p["running_mean"]) > 0.1


def test_the_network_has_no_relu_kink_near_its_pre_activations_and_the_masks_differ():
    X, Y, params = bm.network_problem()
    f = bm.network_nodes(X, params)
    assert np.abs(f["H"]).min() > 1e-3  # far from the kink: finite differences are exact
    assert ((f["Z"] > 0) != (f["H"] > 0)).mean() > 0.1  # a mask taken from Z is caught
    numeric = bm.network_by_differences(X, Y, params)
    analytic = bm.network_gradients(X, Y, params)
    for key in bm.NET_KEYS:
        assert relative_error(analytic[key], numeric[key]) < 1e-7, key


# --- the row guard: a loop over the batch is caught without timing anything ----------------------


def _guarded() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dOut, X, gamma = bm.guarded_problem()
    return dOut.view(probe.RowGuard), X.view(probe.RowGuard), gamma


def test_the_row_guard_refuses_rows_and_allows_whole_batch_operations():
    dOut, X, gamma = _guarded()
    with pytest.raises(probe.RowLoopError):
        X[3]
    with pytest.raises(probe.RowLoopError):
        X[np.int64(3), 1]
    with pytest.raises(probe.RowLoopError):
        next(iter(dOut * 2.0))  # an intermediate array of N rows is guarded too
    mu, var = X.mean(axis=0), X.var(axis=0)
    assert mu.shape == var.shape == (3,) and np.isclose(mu[0], np.asarray(X)[:, 0].mean())
    assert X[:5].shape == (5, 3) and X[:, 1].shape == (probe.GUARD_ROWS,)
    assert next(iter(X.T)).shape == (probe.GUARD_ROWS,)  # a loop over the features is allowed
    assert (
        relative_error(
            np.asarray(batchnorm_backward_compact(dOut, X, gamma, 0.1)),
            np.asarray(bm.backward_slipped(np.asarray(dOut), np.asarray(X), gamma, 0.1)),
        )
        < 1e-12
    )


def test_the_guarded_problem_is_plain_data():
    """No ndarray subclass crosses to the learner's kernel: the probe builds the guard there."""
    for array in bm.guarded_problem():
        assert type(array) is np.ndarray and array.dtype == np.float64


def _npy(array: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    buffer.seek(0)
    return np.load(buffer, allow_pickle=False)


def _by_the_grader(answer):
    """The answer as the grader runs it: the adapter applied in the kernel, the arguments
    round-tripped through .npy (allow_pickle=False) or JSON, and the report through JSON."""
    (adapted,) = ITEMS["batchnorm_backward_compact"].adapt(answer)

    def crossed(*args):
        args = tuple(_npy(np.asarray(a)) if isinstance(a, (np.ndarray, list)) else a for a in args)
        lists = [a.tolist() if isinstance(a, np.ndarray) else a for a in args]
        return json.loads(json.dumps(adapted(*json.loads(json.dumps(lists)))))

    crossed.__name__ = adapted.__name__
    return crossed


def _looping(dOut, X, gamma, eps):
    n = X.shape[0]
    s = np.sqrt(X.var(axis=0) + eps)
    xh = (X - X.mean(axis=0)) / s
    a, b = dOut.sum(axis=0), np.sum(dOut * xh, axis=0)
    return np.array([gamma / (n * s) * (n * d - a - h * b) for d, h in zip(dOut, xh, strict=True)])


def _float32(dOut, X, gamma, eps):
    return batchnorm_backward_compact(dOut, X, gamma, eps).astype(np.float32)


def _a_list(dOut, X, gamma, eps):
    return batchnorm_backward_compact(dOut, X, gamma, eps).tolist()


@pytest.mark.parametrize(
    "answer", [batchnorm_backward_compact, _looping, _float32, _a_list, lambda *a: None]
)
def test_the_vectorisation_check_agrees_in_the_notebook_and_in_the_grader(answer):
    item = ITEMS["batchnorm_backward_compact"]
    here = item.evaluate(answer)
    there = item.run(_by_the_grader(answer))
    assert (here.points, here.messages) == (there.points, there.messages)


def test_the_row_guard_needs_no_pickle():
    """The grader moves .npy without pickles: the guard is built from plain numbers."""
    report = probe.probe_compact(_looping)(*(a.tolist() for a in bm.guarded_problem()), 0.1, True)
    assert json.loads(json.dumps(report)) == report and "row_loop" in report


def test_a_loop_over_the_features_is_vectorised_enough():
    def batchnorm_backward_compact(dOut, X, gamma, eps):
        n = X.shape[0]
        dX = np.empty(X.shape)
        for f in range(X.shape[1]):
            d, x = dOut[:, f], X[:, f]
            s = np.sqrt(x.var() + eps)
            xh = (x - x.mean()) / s
            dX[:, f] = gamma[f] / (n * s) * (n * d - d.sum() - xh * np.sum(d * xh))
        return dX

    assert_full_marks("batchnorm_backward_compact", batchnorm_backward_compact, run=run)


def test_a_comprehension_over_the_examples_is_caught():
    def batchnorm_backward_compact(dOut, X, gamma, eps):
        n = X.shape[0]
        s = np.sqrt(X.var(axis=0) + eps)
        xh = (X - X.mean(axis=0)) / s
        a, b = dOut.sum(axis=0), np.sum(dOut * xh, axis=0)
        return np.array(
            [gamma / (n * s) * (n * d - a - h * b) for d, h in zip(dOut, xh, strict=True)]
        )

    result = run("batchnorm_backward_compact", batchnorm_backward_compact)
    assert result.points == 2 and "is not vectorised" in _text(result)
    assert "a Python loop over the rows" in _text(result)


def test_the_three_gradients_from_the_compact_item_are_told_to_return_dx_alone():
    def batchnorm_backward_compact(dOut, X, gamma, eps):
        return batchnorm_backward(dOut, X, gamma, eps)

    result = run("batchnorm_backward_compact", batchnorm_backward_compact)
    assert result.points == 0 and "should return dX alone" in _text(result)


def test_the_compact_item_may_call_the_learners_own_node_by_node_backward():
    def batchnorm_backward_compact(dOut, X, gamma, eps):
        return batchnorm_backward(dOut, X, gamma, eps)[0]

    assert_full_marks("batchnorm_backward_compact", batchnorm_backward_compact, run=run)


def test_running_averages_changed_in_place_are_accepted():
    def batchnorm_running(X, gamma, beta, running_mean, running_var, momentum, eps, training):
        if training:
            n = X.shape[0]
            mean, var = X.mean(axis=0), X.var(axis=0)
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * n / (n - 1)
        else:
            mean, var = running_mean, running_var
        return gamma * (X - mean) / np.sqrt(var + eps) + beta, running_mean, running_var

    assert_full_marks("batchnorm_running", batchnorm_running, run=run)


def test_the_backward_item_gives_partial_credit_per_gradient():
    def batchnorm_backward_wrong_dbeta(dOut, X, gamma, eps):
        dX, dgamma, dbeta = batchnorm_backward(dOut, X, gamma, eps)
        return dX, dgamma, 2 * dbeta

    result = run("batchnorm_backward", batchnorm_backward_wrong_dbeta)
    assert result.points == 4 and "right: dX, dgamma" in _text(result)


# --- feedback found wanting in review, and fixed -----------------------------------------------


def _as_float32(answer):
    def cast(*args):
        value = answer(*args)
        if isinstance(value, tuple):
            return tuple(v.astype(np.float32) if isinstance(v, np.ndarray) else v for v in value)
        if isinstance(value, dict):
            return {k: v.astype(np.float32) for k, v in value.items()}
        return value.astype(np.float32)

    return cast


@pytest.mark.parametrize(
    ("grade_id", "answer"),
    [
        ("batchnorm_forward", batchnorm_forward),
        ("batchnorm_backward", batchnorm_backward),
        ("batchnorm_backward_compact", batchnorm_backward_compact),
        ("batchnorm_running", batchnorm_running),
        ("bn_network_backward", bn_network_backward),
    ],
)
def test_a_float32_answer_is_told_its_dtype_and_nothing_else(grade_id, answer):
    """Not '1 × the right value', not 'all entries right', not 'evaluation changed them'."""
    text = _text(run(grade_id, _as_float32(answer)))
    assert "dtype float32, expected float64" in text
    for wrong in ("× the right value", "entries are right", "changed running"):
        assert wrong not in text, text


@pytest.mark.parametrize(
    ("order", "says"),
    [
        ((0, 2, 1), "dbeta where dgamma belongs and dgamma where dbeta belongs"),
        ((1, 2, 0), "dgamma where dX belongs"),
    ],
)
def test_gradients_in_another_order_are_named_so_not_misdiagnosed(order, says):
    def swapped(dOut, X, gamma, eps):
        grads = batchnorm_backward(dOut, X, gamma, eps)
        return tuple(grads[i] for i in order)

    text = _text(run("batchnorm_backward", swapped))
    assert says in text and "return (dX, dgamma, dbeta) in that order" in text
    assert "likely mistake" not in text and "forgets x̂" not in text


def test_running_results_in_another_order_are_named_so():
    def reversed_running(*args):
        return batchnorm_running(*args)[::-1]

    text = _text(run("batchnorm_running", reversed_running))
    assert "return (out, running_mean, running_var) in that order" in text
    assert "did you sum over it" not in text


def test_the_forward_pass_returning_cache_then_out_is_told_the_order():
    def backwards(X, gamma, beta, eps):
        out, cache = batchnorm_forward(X, gamma, beta, eps)
        return cache, out

    assert "return (out, cache) in that order" in _text(run("batchnorm_forward", backwards))


def test_gradients_under_d_prefixed_keys_are_told_the_keys_of_params():
    def d_keys(*args):
        return {"d" + k: v for k, v in bn_network_backward(*args).items()}

    text = _text(run("bn_network_backward", d_keys))
    assert "the keys of params" in text and "'dW1'" in text


def test_the_network_layouts_do_not_reuse_H_the_batch_norm_output():
    assert all("H" not in layout for layout in bm.NET_LAYOUT.values())


def test_an_odd_compact_result_is_described_after_crossing_as_data():
    text = _text(run("batchnorm_backward_compact", lambda *args: {"dX": 1}))
    assert "a dict" in text and "should return dX" in text


def test_the_dgamma_and_dbeta_diagnoses_do_not_write_out_the_answer():
    def x_for_x_hat(dOut, X, gamma, eps):
        dX, _, dbeta = batchnorm_backward(dOut, X, gamma, eps)
        return dX, np.sum(dOut * X, axis=0), gamma * dbeta

    text = _text(run("batchnorm_backward", x_for_x_hat))
    assert "uses X where x̂ belongs" in text and "multiplies by γ" in text
    assert "dgamma = Σ" not in text and "dbeta = Σ" not in text
