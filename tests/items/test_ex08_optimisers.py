"""What is particular to the items of exercises/08_optimisers.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex08.py` in `test_contract.py`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from answers_ex08 import adam_step, descend_valley, momentum_step, rmsprop_step
from item_contract import run

from bpcourse.checking.items import ex08_optimisers as ex08
from bpcourse.checking.items import ex08_rules as rules
from bpcourse.layers import Parameter
from bpcourse.optim import Adam, Momentum, RMSProp


def _text(result) -> str:
    return "\n".join(result.messages)


def _library_path(kind: str, run_: rules.Run) -> np.ndarray:
    """The library optimiser's path on `run_`: the checker's reference must agree with it."""
    p = Parameter(run_.start.copy())
    h = run_.hyper
    opt = {
        "momentum": lambda: Momentum([p], lr=h[0], momentum=h[1]),
        "nesterov": lambda: Momentum([p], lr=h[0], momentum=h[1], nesterov=True),
        "rmsprop": lambda: RMSProp([p], lr=h[0], alpha=h[1], eps=h[2]),
        "adam": lambda: Adam([p], lr=h[0], betas=(h[1], h[2]), eps=h[3]),
    }[kind]()
    path = [p.value.copy()]
    for k in range(run_.steps):
        p.grad[...] = run_.gradient(k, p.value)
        opt.step()
        path.append(p.value.copy())
    return np.array(path)


RUNS = [(kind, i) for kind in rules.RULES for i in range(len(rules.RUNS[kind]))]


@pytest.mark.parametrize(("kind", "index"), RUNS)
def test_the_checkers_rules_agree_with_the_library_optimisers(kind, index):
    run_ = rules.RUNS[kind][index]
    assert np.allclose(rules.simulate(kind, run_), _library_path(kind, run_), rtol=1e-10)


@pytest.mark.parametrize(("kind", "index"), RUNS)
def test_every_known_slip_leaves_a_path_of_its_own_on_every_run(kind, index):
    """So a diagnosis names one slip, and a slip cannot pass as the right rule."""
    run_ = rules.RUNS[kind][index]
    slips = ["", "twice", *rules.SLIPS[kind]]
    paths = {s: rules.simulate(kind, run_, s) for s in slips}
    for a, b in itertools.combinations(slips, 2):
        if kind == "adam" and index == 0 and {a, b} <= {"", "eps inside", "eps before correction"}:
            continue  # ε = 1e-8 hides where it goes on the valley: the random run shows it
        assert not rules.paths_close(paths[a], paths[b]), (a, b)


def test_eps_inside_the_root_is_caught_on_the_random_run_where_it_shows():
    result = run("adam_step", lambda *a: adam_step(*a, slip="eps inside"))
    assert "on random arrays" in _text(result) and "ε is inside the square root" in _text(result)


def test_plain_gradient_descent_cannot_reach_the_valleys_target_but_momentum_can():
    best = 2 / (1 + ex08.KAPPA)  # the step that minimises GD's worst contraction
    for start in ex08.STARTS:
        gd = descend_valley(ex08.VALLEY, start, ex08.VALLEY_STEPS, lr=best, beta=0.0)
        heavy = descend_valley(ex08.VALLEY, start, ex08.VALLEY_STEPS)
        loss0 = rules.valley_loss(ex08.VALLEY, start)
        assert rules.valley_loss(ex08.VALLEY, gd[-1]) > 100 * ex08.TARGET * loss0
        assert rules.valley_loss(ex08.VALLEY, heavy[-1]) < 1e-3 * ex08.TARGET * loss0


def test_the_state_is_the_learners_own_business():
    """Any state the rule returns is passed back unread: a tuple works as well as a dict."""

    def rmsprop_with_a_tuple(params, grads, state, lr, alpha, eps):
        s = state[0] if isinstance(state, tuple) else state["s"]
        s = alpha * s + (1 - alpha) * grads**2
        return params - lr * grads / (np.sqrt(s) + eps), (s,)

    assert run("rmsprop_step", rmsprop_with_a_tuple).passed


def test_a_rule_that_ignores_its_hyper_parameters_fails():
    def momentum_hard_coded(params, grads, state, lr, beta):
        return momentum_step(params, grads, state, 0.02, 0.9)

    result = run("momentum_step", momentum_hard_coded)
    assert not result.passed and "on random arrays" in _text(result)


def test_a_path_that_goes_wrong_later_says_how_many_steps_agree():
    calls = []

    def momentum_forgetting_at_step_5(params, grads, state, lr, beta):
        calls.append(1)
        if len(calls) % 30 == 5:
            state = {"v": np.zeros_like(params)}
        return momentum_step(params, grads, state, lr, beta)

    result = run("momentum_step", momentum_forgetting_at_step_5)
    assert "the first 4 steps agree, step 5 does not" in _text(result)
    assert "likely mistake" not in _text(result)


def test_in_place_once_passes_the_path_but_not_the_item():
    result = run("momentum_step", lambda *a: momentum_step(*a, slip="in place"))
    assert result.points == 0 and "the path is right" in _text(result)
    assert "applies the step twice" not in _text(result)


def test_a_python_float_division_by_zero_is_a_diagnosis_not_an_error():
    result = run("adam_step", lambda *a: adam_step(*a, slip="t from 0, float"))
    assert result.status == "failed" and "1 − β⁰ = 0" in _text(result)


def test_other_errors_are_reported_with_the_learners_line():
    def broken(params, grads, state, lr, beta1, beta2, eps):
        return params - lr * state["m_hat"], state

    result = run("adam_step", broken)
    assert result.status == "error" and "KeyError" in result.messages[0]


def test_a_nan_path_says_so_at_the_first_non_finite_step():
    result = run("rmsprop_step", lambda *a: rmsprop_step(*a, slip="not squared"))
    assert "(NaN or inf)" in _text(result)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda A, theta0, steps: np.zeros((steps, 2)), "array of shape (101, 2)"),
        (lambda A, theta0, steps: np.ones((steps + 1, 2)), "every point of the path is"),
        (
            lambda A, theta0, steps: descend_valley(A, theta0 + 1.0, steps),
            "the path should start at theta0",
        ),
    ],
)
def test_a_malformed_path_is_told_what_to_return(answer, says):
    result = run("descend_valley", answer)
    assert result.status == "failed" and says in _text(result), str(result)


def test_a_squared_ratio_is_described_without_a_cause():
    result = run("uncorrected_first_step", lambda b1, b2: ((1 - b1) / np.sqrt(1 - b2)) ** 2)
    assert "is not the ratio" in _text(result) and "likely mistake" not in _text(result)


# --- found by working the blank exercise as a learner --------------------------------------------


def test_a_state_changed_in_place_is_seen_like_params_changed_in_place():
    """The contract says neither argument changes; the pass message says so too."""

    def momentum_mutating_its_state(params, grads, state, lr, beta):
        state["v"] *= beta
        state["v"] += grads
        return params - lr * state["v"], state

    result = run("momentum_step", momentum_mutating_its_state)
    assert result.points == 0 and "the path is right" in _text(result)
    assert "changes the state it was given" in _text(result)


def test_a_state_dict_entry_replaced_in_place_is_seen():
    def adam_counting_in_the_given_dict(params, grads, state, lr, beta1, beta2, eps):
        state["t"] += 1
        new, mine = adam_step(params, grads, {**state, "t": state["t"] - 1}, lr, beta1, beta2, eps)
        return new, mine

    result = run("adam_step", adam_counting_in_the_given_dict)
    assert not result.passed and "changes the state it was given" in _text(result)


def test_grads_changed_in_place_are_seen():
    def rmsprop_scaling_its_grads(params, grads, state, lr, alpha, eps):
        s = alpha * state["s"] + (1 - alpha) * grads**2
        grads /= np.sqrt(s) + eps
        return params - lr * grads, {"s": s}

    result = run("rmsprop_step", rmsprop_scaling_its_grads)
    assert result.points == 0 and "changes the grads array it was given" in _text(result)


def test_float32_params_are_named_by_their_dtype_not_shown_as_equal_numbers():
    def momentum_in_float32(params, grads, state, lr, beta):
        new, st = momentum_step(params, grads, state, lr, beta)
        return new.astype(np.float32), st

    result = run("momentum_step", momentum_in_float32)
    assert not result.passed and "float32" in _text(result), _text(result)


def test_a_small_error_shows_enough_digits_to_see_the_difference():
    """Values that differ beyond the 6th digit are not shown as equal numbers."""
    for run_ in rules.RUNS["momentum"]:
        right = rules.simulate("momentum", run_)
        path = right.copy()
        path[1] = path[1] * (1 + 3e-6)
        shown = ex08._where(path, right, 1, run_)
        got, expected = shown.split(", expected ")
        assert got.split("= ")[-1].split("params ")[-1] != expected.split(" (")[0], shown


def test_an_error_says_which_step_and_which_state_it_was_called_with():
    """A bare array returned as the state fails at step 2, inside the learner's own code."""

    def momentum_returning_a_bare_velocity(params, grads, state, lr, beta):
        v = beta * state["v"] + grads
        return params - lr * v, v

    text = _text(run("momentum_step", momentum_returning_a_bare_velocity))
    assert "at step 2" in text and "returned at step 1" in text, text
    assert " st " not in text and "state (2,)" in text

    def rmsprop_reading_v(params, grads, state, lr, alpha, eps):
        s = alpha * state["v"] + (1 - alpha) * grads**2
        return params - lr * grads / (np.sqrt(s) + eps), {"v": s}

    text = _text(run("rmsprop_step", rmsprop_reading_v))
    assert "at step 1" in text and "'s': zeros of shape (2,)" in text, text


def test_returning_the_given_state_is_described_as_such():
    def momentum_returning_the_old_state(params, grads, state, lr, beta):
        v = beta * state["v"] + grads
        return params - lr * v, state

    text = _text(run("momentum_step", momentum_returning_the_old_state))
    assert "the state returned is not the updated one" in text, text


@pytest.mark.parametrize(
    ("slip", "says"),
    [
        ("m only", "only m is bias-corrected"),
        ("v only", "only v is bias-corrected"),
        ("t not kept", "the step counter"),
        ("eps before correction", "ε is added to √v before"),
    ],
)
def test_more_adam_slips_are_diagnosed(slip, says):
    result = run("adam_step", lambda *a: adam_step(*a, slip=slip))
    assert not result.passed and says in _text(result), _text(result)


def test_a_path_that_never_moves_is_not_told_that_its_loss_falls():
    result = run("descend_valley", lambda A, theta0, steps: np.array([theta0] * (steps + 1)))
    text = _text(result)
    assert "the loss falls" not in text and "never leaves theta0" in text, text


@pytest.mark.parametrize(
    "answer",
    [
        lambda A, theta0, steps: descend_valley(A, theta0, steps + 1)[1:],  # theta0 left out
        lambda A, theta0, steps: np.full((steps + 1, 2), np.nan),
    ],
)
def test_a_wrong_first_point_blames_in_place_only_when_theta0_moved_with_step_1(answer):
    text = _text(run("descend_valley", answer))
    assert "the path should start at theta0" in text and "in place" not in text, text


def test_a_first_point_moved_in_place_is_blamed_on_the_in_place_update():
    def descend_moving_theta0(A, theta0, steps):
        path = descend_valley(A, theta0, steps)
        path[0] = path[1]  # what `theta = theta0; theta -= ...` leaves in path[0]
        return path

    assert "in place" in _text(run("descend_valley", descend_moving_theta0))


def test_a_constant_ratio_is_told_it_should_depend_on_the_betas():
    text = _text(run("uncorrected_first_step", lambda b1, b2: 3.1622776601683795))
    assert "for every pair" in text, text


def _figure_cell_namespace(descend_valley_answer) -> dict:
    """The solution notebook's code up to the valley figure, with the learner's answer."""
    import json
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    notebook = Path(__file__).parents[2] / "solutions" / "08_optimisers.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    (figure,) = [c for c in code if "gradient_descent_path" in c]
    setup = [c for c in code[: code.index(figure)] if "nbgrader" not in c and "check(" not in c]
    namespace: dict = {}
    for cell in [c for c in setup if "def descend_valley" not in c] + [figure]:
        namespace["descend_valley"] = descend_valley_answer
        exec(cell, namespace)
    return namespace


@pytest.mark.parametrize(
    "answer",
    [
        lambda A, theta0, steps: {}["v"],  # raises KeyError
        lambda A, theta0, steps: None,
        lambda A, theta0, steps: np.array([theta0 * 10.0**k for k in range(steps + 1)]),
        lambda A, theta0, steps: np.zeros((steps, 3)),
    ],
)
def test_the_ungraded_figure_survives_a_broken_descend_valley(answer, monkeypatch):
    """A wrong attempt must not stop "Run all" before the questions and the summary."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    namespace = _figure_cell_namespace(answer)
    assert namespace["yours"] is None or namespace["yours"].shape[1] == 2
    plt.close("all")
