"""What is particular to the items of exercises/09_overfitting_and_regularisation.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex09.py` in `test_contract.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
from answers_ex09 import early_stopping
from item_contract import assert_full_marks, run

from bpcourse.checking.items import ex09_overfitting_and_regularisation as ex09
from bpcourse.gradcheck import relative_error


def _text(result) -> str:
    return "\n".join(result.messages)


# --- the checker's own references ----------------------------------------------------------------


def test_the_penalty_gradients_by_differences_agree_with_the_formulas():
    params = ex09.problem()
    l2 = ex09.penalty_gradients(ex09.l2_reference, params)
    l1 = ex09.penalty_gradients(ex09.l1_reference, params)
    for key, value in params.items():
        weight = ex09.is_weight(key)
        assert relative_error(l2[key], ex09.LAM * value if weight else 0 * value) < 1e-7
        expected = ex09.LAM * np.sign(value) if weight else 0 * value
        assert np.allclose(l1[key], expected, rtol=1e-7, atol=1e-9), key


def test_the_weights_hold_exact_zeros_and_every_array_both_signs():
    for key, value in ex09.problem().items():
        assert (value == 0).any() or not ex09.is_weight(key), key
        assert (value > 0).any() and (value < 0).any(), key


def test_the_backward_by_differences_is_the_masked_rescaled_upstream_gradient():
    X, dout, mask = ex09.backward_problem()
    numeric = ex09.backward_by_differences(X, dout, mask)
    assert relative_error(numeric, dout * mask / (1 - ex09.P_BACK)) < 1e-7
    assert 0.3 < (mask == 0).mean() < 0.5


def test_the_stopping_rule_on_the_notebooks_example_and_on_a_curve_that_never_stops():
    assert ex09.stopping_rule([0.9, 0.7, 0.8, 0.7, 0.75, 0.6], 3) == (5, 2)
    assert ex09.stopping_rule([0.9, 0.7, 0.8, 0.7, 0.75, 0.6], 4) == (6, 6)
    assert ex09.stopping_rule([0.5, 0.6, 0.7], 1) == (2, 1)


def test_the_histories_have_ties_every_patience_and_curves_that_never_stop():
    cases = ex09.histories()
    assert {patience for _, _, patience in cases} == set(range(1, 7))
    assert any(len(set(val)) < len(val) for _, val, _ in cases)
    assert any(ex09.stopping_rule(val, p)[0] == len(val) for _, val, p in cases)
    assert any(ex09.stopping_rule(val, p)[0] < len(val) for _, val, p in cases)


def test_every_stopping_mistake_is_told_apart_from_the_rule_and_from_the_others():
    cases = ex09.histories()
    right = [ex09.stopping_rule(val, p) for _, val, p in cases]
    answers = [[rule(*c) for c in cases] for _, rule in ex09.STOPPING_MISTAKES]
    for i, a in enumerate(answers):
        assert a != right, ex09.STOPPING_MISTAKES[i][0]
        for b in answers[i + 1 :]:
            assert a != b


# --- other right answers get full marks ----------------------------------------------------------


def test_other_ways_of_writing_the_penalties_get_full_marks():
    def l2_penalty(params, lam):
        weights = {k: v for k, v in params.items() if k[0] == "W"}
        penalty = lam / 2 * sum(np.linalg.norm(W) ** 2 for W in weights.values())
        grads = {k: lam * v if k in weights else 0.0 * v for k, v in params.items()}
        return penalty, grads

    def l1_penalty(params, lam):
        grads = {k: np.where(v > 0, lam, np.where(v < 0, -lam, 0.0)) for k, v in params.items()}
        grads.update({k: np.zeros(v.shape) for k, v in params.items() if k[0] == "b"})
        return lam * sum(np.abs(v).sum() for k, v in params.items() if k[0] == "W"), grads

    assert_full_marks("l2_penalty", l2_penalty, run=run)
    assert_full_marks("l1_penalty", l1_penalty, run=run)


@pytest.mark.parametrize("draw", ["binomial", "< 1 - p", "boolean", "integers"])
def test_other_ways_of_drawing_the_dropout_mask_get_full_marks(draw):
    def dropout_forward(X, p, rng, training=True):
        if not training:
            return X.copy(), None
        if draw == "binomial":
            mask = rng.binomial(1, 1 - p, size=X.shape)
        elif draw == "< 1 - p":
            mask = (rng.uniform(size=X.shape) < 1 - p).astype(float)
        elif draw == "boolean":
            mask = rng.random(X.shape) >= p
        else:
            mask = (rng.random(X.shape) >= p).astype(np.int64)
        return X * mask / (1 - p), mask

    assert_full_marks("dropout_forward", dropout_forward, run=run)


def test_another_way_of_writing_early_stopping_gets_full_marks():
    def by_slices(train_losses, val_losses, patience):
        for stop in range(1, len(val_losses) + 1):
            seen = val_losses[:stop]
            best = int(np.argmin(seen)) + 1
            if stop - best >= patience:
                return stop, best
        return len(val_losses), int(np.argmin(val_losses)) + 1

    assert_full_marks("early_stopping", by_slices, run=run)


# --- feedback ------------------------------------------------------------------------------------


def test_a_stopping_example_is_the_shortest_history_it_fails_on():
    result = run("early_stopping", lambda t, v, p, s="late": early_stopping(t, v, p, slip=s))
    assert result.points == 0
    assert "stop_epoch is wrong on" in _text(result)
    assert "it stops one epoch late" in _text(result)
    lengths = [len(v) for _, v, _ in ex09.histories()]
    shown = _text(result).split("val_losses = [", 1)[1].split("]", 1)[0]
    assert len(shown.split(",")) <= sorted(lengths)[len(lengths) // 2]


def test_early_stopping_returning_floats_or_one_number_is_told_what_to_return():
    result = run("early_stopping", lambda t, v, p: (float(len(v)), 1.0))
    assert "an epoch is a whole number" in _text(result)
    result = run("early_stopping", lambda t, v, p: len(v))
    assert "should return two epochs (stop_epoch, best_epoch)" in _text(result)


def test_dropout_forward_with_a_mask_of_other_values_is_told_what_a_mask_holds():
    def dropout_forward(X, p, rng, training=True):
        mask = rng.random(X.shape)
        return X * mask, mask

    result = run("dropout_forward", dropout_forward)
    assert result.points == 0
    assert "mask should hold only 0 (dropped) and 1 (kept)" in _text(result)


def test_the_dropout_parts_earn_a_point_each():
    def dropout_forward(X, p, rng, training=True):
        mask = (rng.random(X.shape) >= p).astype(float)
        return X * mask, mask  # in evaluation too: two parts wrong

    result = run("dropout_forward", dropout_forward)
    assert result.points == 2
    assert "right: drop fraction, randomness" in _text(result)


def test_the_l2_penalty_and_its_gradient_earn_half_the_points_each():
    def l2_penalty(params, lam):
        return 0.0, {k: lam * v if k[0] == "W" else 0 * v for k, v in params.items()}

    result = run("l2_penalty", l2_penalty)
    assert result.points == 1.5
    assert "right: gradient" in _text(result)


# --- feedback defects found in review (each failed before its fix) -------------------------------


def _l2_right(params, lam):
    weights = {k: v for k, v in params.items() if k.startswith("W")}
    penalty = lam / 2 * sum(float(np.sum(W**2)) for W in weights.values())
    return penalty, {k: lam * v if k in weights else np.zeros_like(v) for k, v in params.items()}


def test_a_float32_gradient_is_told_its_dtype_and_no_factor_of_one():
    def l2_penalty(params, lam):
        penalty, grads = _l2_right(params, lam)
        return penalty, {k: v.astype(np.float32) for k, v in grads.items()}

    text = _text(run("l2_penalty", l2_penalty))
    assert "has dtype float32, expected float64" in text
    assert "1 × the right value" not in text
    assert "entries are right" not in text
    single = lambda dout, mask, p: (dout * mask / (1 - p)).astype(np.float32)  # noqa: E731
    text = _text(run("dropout_backward", single))
    assert "has dtype float32" in text
    assert "× the right value" not in text


def test_infinite_or_complex_answers_raise_no_warning_in_the_learners_notebook():
    import warnings

    def l2_penalty(params, lam):
        return np.inf, {k: np.full_like(v, np.inf) for k, v in params.items()}

    def dropout_forward(X, p, rng, training=True):
        mask = rng.random(X.shape) >= p
        return (X * mask / (1 - p)).astype(complex), mask

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "NaN or infinite" in _text(run("l2_penalty", l2_penalty))
        assert "complex128" in _text(run("dropout_forward", dropout_forward))


def test_a_shape_is_named_once_not_as_the_same_tuple_twice():
    def l2_penalty(params, lam):
        penalty, grads = _l2_right(params, lam)
        return penalty, {k: v.T for k, v in grads.items()}

    text = _text(run("l2_penalty", l2_penalty))
    assert "expected shape (5, 8) = params['W1'].shape, got (8, 5)" in text
    text = _text(run("dropout_backward", lambda dout, mask, p: (dout * mask / (1 - p)).T))
    assert "(30, 20) = (30, 20)" not in text


def test_changing_the_weights_in_place_costs_the_gradient_half_of_the_points():
    def l2_penalty(params, lam):
        penalty, grads = 0.0, {}
        for k, v in params.items():
            if k.startswith("W"):
                penalty += lam / 2 * float(np.sum(v**2))
                v *= lam
            grads[k] = v if k.startswith("W") else np.zeros_like(v)
        return penalty, grads

    result = run("l2_penalty", l2_penalty)
    assert result.points == 1.5
    assert "changed params['W1'], params['W2'] in place" in _text(result)
    assert "right: penalty" in _text(result)


def test_the_mean_of_out_is_mentioned_only_when_it_is_off():
    def keep_p_divide_p(X, p, rng, training=True):  # wrong mask and scale, right mean
        if not training:
            return X, None
        mask = rng.random(X.shape) < p
        return X * mask / p, mask

    def no_rescale(X, p, rng, training=True):
        if not training:
            return X, None
        mask = rng.random(X.shape) >= p
        return X * mask, mask

    assert "the mean of out" not in _text(run("dropout_forward", keep_p_divide_p))
    assert "the mean of out is 0.70" in _text(run("dropout_forward", no_rescale))


def test_a_mask_of_the_dropped_units_is_told_so_and_loses_one_point():
    def dropout_forward(X, p, rng, training=True):
        if not training:
            return X, None
        dropped = rng.random(X.shape) < p
        return X * ~dropped / (1 - p), dropped

    result = run("dropout_forward", dropout_forward)
    assert result.points == 3
    assert "your mask is 1 where a unit is dropped" in _text(result)
    assert "you keep each unit with probability p" not in _text(result)


def test_a_bad_return_in_evaluation_mode_costs_only_the_evaluation_point():
    def dropout_forward(X, p, rng, training=True):
        if not training:
            return None
        mask = rng.random(X.shape) >= p
        return X * mask / (1 - p), mask

    result = run("dropout_forward", dropout_forward)
    assert result.points == 3
    assert "in evaluation mode (training=False): dropout_forward returned None" in _text(result)


def test_early_stopping_may_return_an_array_of_two_whole_numbers():
    assert_full_marks("early_stopping", lambda t, v, p: np.array(early_stopping(t, v, p)), run=run)


def test_early_stopping_returning_none_when_training_never_stops_is_told_where():
    def early_stopping_none(train_losses, val_losses, patience):
        stop, best = early_stopping(train_losses, val_losses, patience)
        return None if stop == len(val_losses) else (stop, best)

    text = _text(run("early_stopping", early_stopping_none))
    assert "returned None on" in text
    assert "training never stops early" in text
    assert "val_losses = [" in text


def test_grads_without_the_biases_still_earn_the_penalty_half():
    def l2_penalty(params, lam):
        penalty, grads = _l2_right(params, lam)
        return penalty, {k: v for k, v in grads.items() if k.startswith("W")}

    result = run("l2_penalty", l2_penalty)
    assert result.points == 1.5
    assert "grads lack the key(s) 'b1', 'b2'" in _text(result)
    assert "right: penalty" in _text(result)


def test_a_mask_that_keeps_every_unit_is_told_it_is_not_random():
    def no_dropout(X, p, rng, training=True):
        return X, np.ones(X.shape)

    text = _text(run("dropout_forward", no_dropout))
    assert "the mask keeps every unit: it is not random" in text
    assert "new generator" not in text


def test_a_mask_scaled_by_one_over_the_keep_probability_costs_one_point():
    # the library's dropout_mask is scaled this way, so a learner may copy its convention
    def dropout_forward(X, p, rng, training=True):
        if not training:
            return X, None
        mask = (rng.random(X.shape) >= p) / (1 - p)
        return X * mask, mask

    result = run("dropout_forward", dropout_forward)
    assert result.points == 3
    assert "mask holds 0 and 1/(1 − p)" in _text(result)
    assert "right: out, evaluation, randomness" in _text(result)
