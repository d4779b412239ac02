"""The checks of exercises/06_training_a_multilayer_perceptron.ipynb, tested as learners meet them.

For every graded item: the reference solution gets full marks; the exercise's stub
(NotImplementedError) is "not attempted", 0 points, no exception; realistic wrong answers
fail with the diagnosis that names their mistake; and bad values (None, a list, NaN, a
raising function) get feedback, never a traceback. Training on the digits takes a fraction
of a second, so `train_mlp` is checked for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import item_contract as contract
import numpy as np
import pytest
from item_contract import fresh_session  # noqa: F401 (autouse)

from bpcourse.checking import ITEMS, check
from bpcourse.checking.items import ex06_training_a_multilayer_perceptron as ex06
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.training import train

# --- reference solutions, written as a learner would ---------------------------------------------


def minibatch_indices(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start : start + batch_size] for start in range(0, n, batch_size)]


def expected_initial_loss(n_classes):
    return float(np.log(n_classes))


def train_step(net, X, y, lr):
    loss = net.loss_and_backward(X, y)
    GradientDescent(net.parameters(), lr).step()
    return loss


def train_mlp(X, y, seed=0, slip=""):
    sizes = [X.shape[1], 64, 10]
    net = MLP(sizes, "relu", "softmax" if slip == "softmax out" else "identity", seed=seed)
    optimizer = GradientDescent(net.parameters(), lr=0.1)
    rng = np.random.default_rng(None if slip == "unseeded" else seed)
    for _ in range(1 if slip in ("uphill", "no step") else 10):
        for idx in minibatch_indices(len(X), 32, rng):
            net.loss_and_backward(X[idx], y[idx])
            if slip == "uphill":
                for p in net.parameters():
                    p.value += 0.1 * p.grad
            elif slip != "no step":
                optimizer.step()
    return net


RIGHT: dict[str, Callable[..., Any]] = {
    "minibatch_indices": minibatch_indices,
    "expected_initial_loss": expected_initial_loss,
    "train_step": train_step,
    "train_mlp": train_mlp,
}


def test_the_notebooks_items_are_registered_in_order_with_their_points():
    mine = {i.grade_id: i.points for i in ITEMS.values() if i.notebook == ex06.NOTEBOOK}
    assert mine == {
        "minibatch_indices": 2,
        "expected_initial_loss": 1,
        "train_step": 3,
        "train_mlp": 4,
    }


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_solution_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id])


def test_minibatches_may_be_yielded():
    def generator(n, batch_size, rng):
        yield from minibatch_indices(n, batch_size, rng)

    assert check("minibatch_indices", generator).passed


def test_the_train_step_problem_stays_away_from_the_relu_kink():
    net, X, _ = ex06._step_problem()
    Z1 = net[0].forward(X)
    assert np.abs(Z1).min() > 1e-3  # far beyond the finite-difference step 1e-5


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_exercise_stub_is_not_attempted(grade_id):
    contract.assert_not_attempted(grade_id)


def test_a_stub_called_from_train_mlp_points_to_the_other_items():
    def calls_a_blank_train_step(X, y, seed=0):
        return train_step(MLP([64, 10]), X, y, 0.1) and contract.stub()

    result = check("train_mlp", calls_a_blank_train_step)
    assert result.status == "not attempted"
    assert "finish those first" in result.messages[0]


BAD_HERE = {
    **contract.BAD,
    "returns an empty list": lambda *args: [],
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad])
    if bad == "raises":
        contract.assert_raise_is_reported(result, "raised KeyError")


# --- known-wrong answers and the diagnosis each must get ---------------------------------------


def batches_of(make_order: Callable[[int, Any], np.ndarray], stop: int = 0):
    """minibatch_indices with the order made by make_order(n, rng); stop > 0 drops the tail."""

    def answer(n, batch_size, rng):
        order = make_order(n, rng)
        end = n - n % batch_size if stop else n
        return [order[i : i + batch_size] for i in range(0, end, batch_size)]

    return answer


def step_with(slip):
    def answer(net, X, y, lr):
        loss = net.loss_and_backward(X, y)
        for p in net.parameters():
            if slip == "sign":
                p.value += lr * p.grad
            elif slip == "no lr":
                p.value -= p.grad
            elif slip == "local":
                W = p.value
                W = W - lr * p.grad  # the slip: a new local array
            elif slip == "weights only" and p.name.endswith(".W"):
                p.value -= lr * p.grad
        return loss

    return answer


def step_loss_after(net, X, y, lr):
    train_step(net, X, y, lr)
    return net.loss_and_backward(X, y)


def history_instead(X, y, seed=0):
    return train(MLP([64, 16, 10], seed=seed), X, y, epochs=1, progress=False)


WRONG = [
    (
        "minibatch_indices",
        batches_of(lambda n, rng: np.arange(n)),
        "the examples come in their original order",
    ),
    (
        "minibatch_indices",
        batches_of(lambda n, rng: rng.permutation(n), stop=1),
        "leaves out the last 2 examples",
    ),
    (
        "minibatch_indices",
        batches_of(lambda n, rng: rng.integers(0, n, size=n)),
        "draw the order without replacement",
    ),
    (
        "minibatch_indices",
        batches_of(lambda n, rng: np.random.default_rng().permutation(n)),
        "shuffle with the rng you are given",
    ),
    (
        "minibatch_indices",
        batches_of(lambda n, rng: np.random.default_rng(0).permutation(n)),
        "use the rng argument, not a generator or seed of your own",
    ),
    (
        "minibatch_indices",
        lambda n, b, rng: [rng.permutation(np.arange(i, min(i + b, n))) for i in range(0, n, b)],
        "only the order inside each batch is shuffled",
    ),
    (
        "minibatch_indices",
        lambda n, b, rng: np.array_split(rng.permutation(n), -(-n // b)),
        "np.array_split evens the sizes out",
    ),
    (
        "minibatch_indices",
        batches_of(lambda n, rng: rng.permutation(n) + 1),
        "Python counts from 0",
    ),
    ("minibatch_indices", lambda n, b, rng: rng.permutation(n), "split the shuffled order"),
    (
        "minibatch_indices",
        lambda n, b, rng: [i.astype(float) for i in minibatch_indices(n, b, rng)],
        "integer indices",
    ),
    ("expected_initial_loss", lambda c: np.log10(c), "base-10 log"),
    ("expected_initial_loss", lambda c: 1 / c, "the probability p = 1/C"),
    ("expected_initial_loss", lambda c: -np.log(c), "opposite sign"),
    ("expected_initial_loss", lambda c: c * np.log(c), "only the true class's term counts"),
    ("train_step", step_with("sign"), "each went uphill"),
    ("train_step", step_with("no lr"), "each moved by the whole gradient"),
    ("train_step", step_with("local"), "W = W - lr * dW makes a new local array"),
    ("train_step", step_with("weights only"), "dense1.b and dense2.b: each did not change"),
    ("train_step", step_loss_after, "that is the loss after the update"),
    ("train_mlp", lambda X, y, seed=0: train_mlp(X, y, seed, "uphill"), "the steps went uphill"),
    ("train_mlp", lambda X, y, seed=0: train_mlp(X, y, seed, "no step"), "hardly changed"),
    ("train_mlp", lambda X, y, seed=0: train_mlp(X, y, seed, "softmax out"), "softmax layer"),
    (
        "train_mlp",
        lambda X, y, seed=0: train_mlp(X, y, seed, "unseeded"),
        "two runs with seed=0 gave different networks",
    ),
    ("train_mlp", history_instead, "returned a History"),
    ("train_mlp", lambda X, y, seed=0: MLP([64, 10]).predict, "should return the trained network"),
]


@pytest.mark.parametrize(("grade_id", "answer", "says"), WRONG)
def test_a_wrong_answer_fails_with_its_diagnosis(grade_id, answer, says):
    contract.assert_fails_with(grade_id, answer, says)


def test_train_step_gives_a_share_for_each_right_part():
    result = check("train_step", step_with("weights only"))
    assert result.points == pytest.approx(1.8)
    assert result.messages[-1] == "right: loss, dense1.W, dense2.W"


def test_an_untrained_network_gets_no_points_for_being_reproducible():
    result = check("train_mlp", lambda X, y, seed=0: MLP([64, 32, 10], seed=seed))
    assert result.points == 0
    assert "below the 95% asked for" in result.messages[0]
