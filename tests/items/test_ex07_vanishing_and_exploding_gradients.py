"""What is particular to the items of exercises/07_vanishing_and_exploding_gradients.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex07.py` in `test_contract.py`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from answers_ex07 import (
    cache_bytes,
    clip_by_global_norm,
    gradient_norms,
    he_normal,
    mlp_flops,
    xavier_normal,
)
from item_contract import run, slipped

from bpcourse.checking.items import ex07_reference as reference
from bpcourse.checking.items import ex07_vanishing_and_exploding_gradients as ex07
from bpcourse.gradcheck import NETWORK_TOLERANCE, numerical_gradient, relative_error


def _text(result) -> str:
    return "\n".join(result.messages)


@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
def test_the_reference_backward_agrees_with_finite_differences(activation):
    X, Y, weights, biases = reference.network()
    analytic = reference.backward(X, Y, weights, biases, activation)["dW"]
    for W, dW in zip(weights, analytic, strict=True):
        numeric = numerical_gradient(lambda: reference.loss(X, Y, weights, biases, activation), W)
        assert relative_error(dW, numeric) < NETWORK_TOLERANCE  # a whole network: 1e-6


def test_the_network_stays_away_from_the_relu_kink_and_uses_both_sides_of_it():
    X, _, weights, biases = reference.network()
    Zs, _ = reference.forward(X, weights, biases, "relu")
    for Z in Zs[:-1]:
        assert np.abs(Z).min() > 1e-3
        assert 0.0 < (Z > 0).mean() < 1.0


def test_the_sigmoid_network_shows_vanishing_gradients_and_relu_does_not():
    X, Y, weights, biases = reference.network()
    sigmoid = reference.norms_of(reference.backward(X, Y, weights, biases, "sigmoid")["dW"])
    relu = reference.norms_of(reference.backward(X, Y, weights, biases, "relu")["dW"])
    assert sigmoid[0] / sigmoid[-1] < 1e-2
    assert relu[0] / relu[-1] > 1e-1


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["xavier", "he"])
def test_a_right_initialiser_passes_the_deep_stack_whatever_the_draws(kind, seed):
    """The stack's mean square wanders with the draws: the tolerance must cover it."""

    def init(n_out, n_in, rng):  # another route through the generator than the reference's
        variance = 2 / (n_in + n_out) if kind == "xavier" else 2 / n_in
        return rng.standard_normal(size=(n_in, n_out)).T * np.sqrt(variance)

    assert not ex07.stack_problems(init, kind, "init", seed=seed)


def test_he_weights_in_a_linear_stack_and_xavier_weights_in_a_relu_stack_fail_the_stack():
    """The deep stack tells the two rules apart (square layers: Xavier is 1/n, He 2/n)."""
    assert ex07.stack_problems(he_normal, "xavier", "xavier_normal")
    assert ex07.stack_problems(xavier_normal, "he", "he_normal")


def test_a_learner_who_modifies_the_gradients_in_place_still_passes():
    def in_place(grads, max_norm):
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        if norm > max_norm:
            for g in grads:
                g *= max_norm / norm
        return grads, norm

    assert run("clip_by_global_norm", in_place).passed


def test_clipping_keeps_the_direction_of_the_whole_gradient():
    grads = reference.gradients()
    clipped = reference.clip_reference(grads, 1.0)
    g, c = reference.flat(grads), reference.flat(clipped)
    assert np.linalg.norm(c) == pytest.approx(1.0)
    assert g @ c / (np.linalg.norm(g) * np.linalg.norm(c)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda *a: clip_by_global_norm(*a)[0], "the clipped gradients alone: return the pair"),
        (lambda g, c: (g, 1.0, 2.0), "should return 2 values (clipped, norm)"),
        (lambda g, c: (g[:2], 1.0), "should be a list of 4 arrays"),
        (lambda g, c: ([x.ravel() for x in g], 1.0), "expected a float array of shape (4, 3)"),
    ],
)
def test_a_malformed_clip_is_told_what_to_return(answer, says):
    result = run("clip_by_global_norm", answer)
    assert result.points == 0 and says in _text(result), str(result)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda *a: gradient_norms(*a)[:-1], "returned 7 numbers, expected L = 8"),
        (lambda *a: [np.ones((2, 2))] * 8, "one norm per layer"),
        (lambda *a: None, "forget to `return`"),
    ],
)
def test_a_malformed_list_of_norms_is_told_what_to_return(answer, says):
    result = run("gradient_norms", answer)
    assert result.points == 0 and says in _text(result), str(result)


def test_norms_may_be_a_list_of_numpy_scalars_or_an_array():
    assert run("gradient_norms", lambda *a: np.array(gradient_norms(*a))).passed
    assert run("gradient_norms", lambda *a: [np.float64(v) for v in gradient_norms(*a)]).passed


def test_two_slips_in_the_norms_are_both_named():
    result = run("gradient_norms", slipped(gradient_norms, ("no ½", "no 1/N")))
    text = _text(result)
    assert "two slips" in text and "twice the right norms" in text and "N = 6" in text


def test_flop_counts_may_be_numpy_integers_or_whole_floats_but_not_fractions():
    assert run("mlp_flops", lambda N, s: tuple(np.int64(v) for v in mlp_flops(N, s))).passed
    assert run("mlp_flops", lambda N, s: tuple(float(v) for v in mlp_flops(N, s))).passed
    result = run("mlp_flops", lambda N, s: (0.5, 1.5))
    assert result.points == 0 and "two whole numbers" in _text(result)
    assert run("cache_bytes", lambda N, s: float(cache_bytes(N, s))).passed
    result = run("cache_bytes", lambda N, s: cache_bytes(N, s) + 0.5)
    assert result.points == 0 and "a whole number of bytes" in _text(result)


def test_the_backward_pass_costs_about_twice_the_forward_for_deep_networks():
    """The rule of thumb of q_backward_cost follows from the convention of mlp_flops."""
    forward, backward = reference.flops(256, [1024] * 20)
    assert backward / forward == pytest.approx(2.0, abs=0.06)


def test_the_counts_agree_with_the_lessons_formulas_for_a_uniform_width():
    """Lesson 07: forward 2·N·n_in·n_out per layer; memory 8·N·(n_in + 2(L − 1)·n)."""
    N, n_in, n, L = 32, 64, 128, 5
    sizes = [n_in] + [n] * (L - 1) + [10]
    forward, backward = reference.flops(N, sizes)
    products = [2 * N * a * b for a, b in itertools.pairwise(sizes)]
    assert forward == sum(products) and backward == 2 * sum(products) - products[0]
    assert reference.cache_bytes(N, sizes) == 8 * N * (n_in + 2 * (L - 1) * n)


def test_a_clip_that_calls_the_library_scores_nothing():
    from bpcourse.checking import ITEMS

    source = (
        "from bpcourse.clipping import clip_by_global_norm as clip\n\n"
        "def clip_by_global_norm(grads, max_norm):\n"
        "    return clip(grads, max_norm)\n"
    )
    item = ITEMS["clip_by_global_norm"]
    result = item.run(clip_by_global_norm, source=source)
    assert result.points == 0 and "bpcourse.clipping" in _text(result)


def test_wrong_clipped_gradients_are_located_by_tensor_and_wrong_norms_by_layer():
    clip = _text(run("clip_by_global_norm", slipped(clip_by_global_norm, "by value")))
    assert "the largest difference is in clipped[0] at index (1, 2)" in clip
    norms = _text(run("gradient_norms", slipped(gradient_norms, "no f'")))
    assert "the largest difference is for layer 2" in norms and "index" not in norms


@pytest.mark.parametrize("slip", ["per tensor", "by value"])
def test_a_clip_that_is_not_by_the_global_norm_earns_at_most_a_third(slip):
    """Below max_norm any clipping leaves the gradients alone: that alone is not the work."""
    result = run("clip_by_global_norm", slipped(clip_by_global_norm, slip))
    assert result.points <= result.max_points / 3, str(result)


def test_a_clip_that_always_rescales_still_gets_the_scaling_right():
    result = run("clip_by_global_norm", slipped(clip_by_global_norm, "always"))
    assert result.points == 2, str(result)


@pytest.mark.parametrize("init", ["xavier_normal", "he_normal"])
def test_uniform_weights_are_named_uniform_whatever_their_variance(init):
    answer = {"xavier_normal": xavier_normal, "he_normal": he_normal}[init]
    result = run(init, slipped(answer, "uniform ± std"))
    text = _text(result)
    assert "not rng.uniform" in text and "variance is" in text, str(result)


@pytest.mark.parametrize(
    ("grade_id", "answer"),
    [
        ("xavier_normal", lambda n_out, n_in, rng: np.full((n_out, n_in), 1e300)),
        ("he_normal", lambda n_out, n_in, rng: rng.normal(0.0, 1e200, size=(n_out, n_in))),
        ("gradient_norms", lambda *a: [np.inf] * 8),
        ("gradient_norms", lambda *a: [1e308] * 8),
        ("clip_by_global_norm", lambda g, c: ([x * np.inf for x in g], np.inf)),
        ("clip_by_global_norm", lambda g, c: ([x * 1e300 for x in g], 1e300)),
    ],
)
def test_infinite_or_huge_answers_get_feedback_not_a_failed_check(grade_id, answer):
    """RuntimeWarnings are errors here: the checker's own arithmetic must not raise them."""
    result = run(grade_id, answer)
    assert result.status == "failed" and "the check itself failed" not in _text(result), str(result)


def test_a_norm_measured_after_clipping_is_not_called_right_where_it_is_wrong():
    """The norm's messages sit in the part they cost, and name the call they come from."""
    result = run("clip_by_global_norm", slipped(clip_by_global_norm, "norm after"))
    text = _text(result)
    assert result.points == 2 and text.count("measured after clipping") == 1, str(result)
    right = next(m for m in result.messages if m.startswith("right: "))
    norm_lines = [m for m in result.messages if m.startswith("the norm returned when ")]
    assert len(norm_lines) == 2 and "and the norm returned" not in right, str(result)


def test_a_slip_repeated_in_every_case_is_explained_once():
    result = run("clip_by_global_norm", slipped(clip_by_global_norm, "× 0.9"))
    assert _text(result).count("0.9 × the right value") == 1, str(result)


def test_a_norm_that_adds_the_tensors_norms_is_named():
    result = run("clip_by_global_norm", slipped(clip_by_global_norm, "sum of norms"))
    assert "your norm adds the tensors' norms" in _text(result), str(result)
