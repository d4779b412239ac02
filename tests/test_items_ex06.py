"""The checks of exercises/06_training_a_multilayer_perceptron.ipynb (backprop by hand).

For every graded item: the reference solution gets full marks; the exercise's stub is "not
attempted"; bad values get feedback, never a traceback; and the catalogue of known wrong
answers is tested both ways: each mistake gets its own diagnosis, and no other mistake of the
catalogue gets it. The checker's own reference is itself checked against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import item_contract as contract
import numpy as np
import pytest
from item_contract import fresh_session  # noqa: F401 (autouse)

from bpcourse.checking import check
from bpcourse.checking.items import ex06_training_a_multilayer_perceptron as ex06
from bpcourse.gradcheck import relative_error

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def init_params(hidden, seed):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, np.sqrt(2 / 64), size=(hidden, 64)),
        "b1": np.zeros(hidden),
        "W2": rng.normal(0.0, np.sqrt(2 / hidden), size=(10, hidden)),
        "b2": np.zeros(10),
    }


def mlp_forward(X, y, params, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    Z1 = X @ params["W1"].T + (0 if "no b1" in slip else params["b1"])
    if "no relu" in slip:
        A1 = Z1
    elif "sigmoid" in slip:
        A1 = 1 / (1 + np.exp(-Z1))
    elif "negative part" in slip:
        A1 = np.minimum(Z1, 0)
    else:
        A1 = np.maximum(Z1, 0)
    logits = (Z1 if "logits from Z1" in slip else A1) @ params["W2"].T
    logits = logits + (0 if "no b2" in slip else params["b2"])
    unshifted = "unstable" in slip or "axis 0" in slip
    shifted = logits if unshifted else logits - logits.max(axis=1, keepdims=True)
    axis = 0 if "axis 0" in slip else 1
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    terms = -log_p[np.arange(len(y)), y]
    if "sum" in slip:
        loss = terms.sum()
    elif "all classes" in slip:
        loss = -log_p.sum(axis=1).mean()
    elif "over N*C" in slip:
        loss = terms.sum() / log_p.size
    else:
        loss = terms.mean()
    if "negative loss" in slip:
        loss = -loss
    return {"Z1": Z1, "A1": A1, "logits": logits, "loss": float(loss)}


def mlp_backward(X, y, params, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    f = mlp_forward(X, y, params)
    Z1, A1, logits, W2, N = f["Z1"], f["A1"], f["logits"], params["W2"], len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    axis = 0 if "softmax axis 0" in slip else 1
    e = np.exp(logits if axis == 0 else shifted)
    P = e / e.sum(axis=axis, keepdims=True)
    dlogits = P.copy()
    if "columns" in slip:
        dlogits[:, y] -= 1
    elif "no one-hot" not in slip:
        dlogits[np.arange(N), y] -= 1
    if "sign" in slip:
        dlogits = -dlogits
    if "no 1/N" not in slip:
        dlogits /= N
    dW2 = dlogits.T @ (Z1 if "dW2 from Z1" in slip else A1)
    if "dW2 /N" in slip:
        dW2 /= N
    if "dW2 =" in slip:  # a loop over the examples with `=` for `+=`
        for n in range(N):
            dW2 = np.outer(dlogits[n], A1[n])
    db2 = dlogits.sum(axis=0)
    if "db2 mean" in slip:
        db2 = dlogits.mean(axis=0)
    elif "db2 axis 1" in slip:
        db2 = dlogits.sum(axis=1)
    elif "db2 no sum" in slip:
        db2 = dlogits
    elif "db2 =" in slip:
        db2 = dlogits[-1]
    dA1 = dlogits @ W2
    if "dA1 masked" in slip:
        dA1 = dA1 * (Z1 > 0)
    if "dA1 /N" in slip:
        dA1 = dA1 / N
    if "no mask" in slip:
        dZ1 = dA1.copy()
    elif "mask from dA1" in slip:
        dZ1 = dA1 * (dA1 > 0)
    elif "mask inverted" in slip:
        dZ1 = dA1 * (Z1 <= 0)
    elif "times A1" in slip:
        dZ1 = dA1 * A1
    else:
        dZ1 = dA1 * (Z1 > 0)
    dW1 = (dA1 if "dW1 from dA1" in slip else dZ1).T @ X
    if "dW1 /N" in slip:
        dW1 /= N
    if "dW1 =" in slip:
        dW1 = np.outer(dZ1[-1], X[-1])
    db1 = (dA1 if "db1 from dA1" in slip else dZ1).sum(axis=0)
    if "db1 mean" in slip:
        db1 = dZ1.mean(axis=0)
    elif "db1 axis 1" in slip:
        db1 = dZ1.sum(axis=1)
    return {
        "dlogits": dlogits,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }


def train_mlp(X, y, seed=0, lr=0.1, epochs=15, slip=""):
    params = init_params(64, seed)
    rng = np.random.default_rng(None if slip == "unseeded" else seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), 32):
            idx = order[start : start + 32]
            total += mlp_forward(X[idx], y[idx], params)["loss"] * len(idx)
            grads = mlp_backward(X[idx], y[idx], params)
            for name in params:
                if slip == "uphill":
                    params[name] += lr * grads["d" + name]
                elif slip == "local copy":
                    value = params[name]
                    value = value - lr * grads["d" + name]
                else:
                    params[name] -= lr * grads["d" + name]
        losses.append(total / len(X))
    return params, losses


RIGHT: dict[str, Callable[..., Any]] = {
    "mlp_forward": mlp_forward,
    "mlp_backward": mlp_backward,
    "train_mlp": train_mlp,
}


def test_the_notebooks_items_are_registered_in_order_with_their_points():
    assert contract.items_of(ex06.NOTEBOOK)[:3] == [
        ("mlp_forward", 4),
        ("mlp_backward", 7),
        ("train_mlp", 6),
    ]


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_solution_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id])


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_exercise_stub_is_not_attempted(grade_id):
    contract.assert_not_attempted(grade_id)


BAD_HERE = {
    **contract.BAD,
    "returns an empty dict": lambda *args: {},
    "returns a tuple of arrays": lambda *args: (np.zeros(3), np.zeros(3)),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad])
    if bad == "raises":
        contract.assert_raise_is_reported(result, "raised KeyError")


# --- the checker's own reference -----------------------------------------------------------------


def test_the_reference_backward_agrees_with_finite_differences():
    X, y, params = ex06.problem()
    analytic, numeric = ex06.backward(X, y, params), ex06.finite_differences(X, y, params)
    for key in ex06.GRADIENTS:
        assert relative_error(analytic[key], numeric[key]) < 1e-7, key


def test_the_problem_stays_away_from_the_relu_kink_and_has_repeated_labels():
    X, y, params = ex06.problem()
    assert np.abs(ex06.forward(X, y, params)["Z1"]).min() > 1e-3
    assert (ex06.forward(X, y, params)["Z1"] > 0).mean() not in (0.0, 1.0)


def test_a_stub_forward_called_from_backward_is_not_attempted():
    def backward_on_a_blank_forward(X, y, params):
        contract.stub()

    contract.assert_not_attempted("mlp_backward", backward_on_a_blank_forward)


# --- the catalogues: each mistake gets its diagnosis, and no other mistake gets it ---------------

BACKWARD = {
    "no 1/N": "dlogits forgets the 1/N",
    "no one-hot": "dlogits is the softmax P alone",
    "columns": "dlogits subtracts 1 from whole columns",
    "softmax axis 0": "dlogits normalises the softmax over the batch (axis=0)",
    "sign": "dlogits has the opposite sign: ∂ℒ/∂logits is the prediction minus",
    "dW2 from Z1": "dW2 uses Z1, the hidden layer before ReLU",
    "dW2 /N": "dW2 is N = 8 times too small: the 1/N is already in dlogits",
    "dW2 =": "dW2 equals the contribution of the last example of the batch only",
    "db2 mean": "db2 is the mean of dlogits over the batch",
    "db2 axis 1": "db2 is summed over the wrong axis",
    "db2 no sum": "db2 keeps the batch axis",
    "db2 =": "db2 equals the contribution of the last example",
    "dA1 masked": "dA1 already has the ReLU mask",
    "dA1 /N": "dA1 is N = 8 times too small",
    "no mask": "dZ1 equals dA1: the ReLU derivative is missing",
    "mask from dA1": "dZ1 takes the ReLU mask from the wrong quantity",
    "mask inverted": "dZ1 has the ReLU mask on the wrong side",
    "times A1": "dZ1 multiplies by A1 = ReLU(Z1)",
    "dW1 from dA1": "dW1 uses dA1 where dZ1 belongs",
    "dW1 /N": "dW1 is N = 8 times too small",
    "dW1 =": "dW1 equals the contribution of the last example",
    "db1 mean": "db1 is the mean of dZ1 over the batch",
    "db1 axis 1": "db1 is summed over the wrong axis",
    "db1 from dA1": "db1 sums dA1, before the ReLU mask",
}

FIRST_WRONG = {
    "no 1/N": "dlogits",
    "no one-hot": "dlogits",
    "columns": "dlogits",
    "softmax axis 0": "dlogits",
    "sign": "dlogits",
}


def _text(result) -> str:
    return "\n".join(result.messages)


@pytest.mark.parametrize("slip", list(BACKWARD))
def test_a_backward_slip_gets_its_diagnosis_and_no_other(slip):
    result = contract.assert_fails_with(
        "mlp_backward", contract.slipped(mlp_backward, slip), BACKWARD[slip]
    )
    others = [says for other, says in BACKWARD.items() if other != slip]
    assert not [says for says in others if says in _text(result)], str(result)
    first = FIRST_WRONG.get(slip, slip.split()[0] if slip[0] == "d" else "dZ1")
    if slip.startswith("dA1"):
        first = "dA1"
    assert result.messages[0] == f"the first wrong value of the backward pass is {first}"


def test_gradients_after_the_first_wrong_one_say_they_follow_from_it():
    result = check("mlp_backward", contract.slipped(mlp_backward, "no 1/N"))
    assert "dW2 follows correctly from your dlogits: it is wrong only because dlogits is" in _text(
        result
    )
    assert result.points == 0  # every gradient depends on dlogits


@pytest.mark.parametrize(
    ("slips", "says"),
    [
        (("no one-hot", "no 1/N"), ("dlogits is the softmax P alone", "8 times too large")),
        (("no 1/N", "sign"), ("forgets the 1/N", "opposite sign")),
        (("no mask", "dA1 /N"), ("dA1 is N = 8 times too small",)),
    ],
)
def test_two_slips_together_are_named_both(slips, says):
    result = check("mlp_backward", contract.slipped(mlp_backward, slips))
    assert not result.passed
    for text in says:
        assert text in _text(result), str(result)


def test_a_wrong_gradient_outside_the_catalogue_is_described_without_a_cause():
    def scaled(X, y, params):
        grads = mlp_backward(X, y, params)
        grads["dW1"] = grads["dW1"] * -3.7
        return grads

    result = check("mlp_backward", scaled)
    assert "dW1 is -3.7 × the right value: every entry has the wrong sign" in _text(result)
    assert "likely mistake" not in _text(result)


FORWARD = {
    "no b1": "Z1 has no bias",
    "no relu": "A1 equals Z1: the ReLU is missing",
    "sigmoid": "A1 is the sigmoid of Z1",
    "negative part": "A1 keeps the negative part",
    "logits from Z1": "logits is computed from Z1",
    "no b2": "logits has no bias",
    "sum": "loss is the sum over the batch",
    "over N*C": "loss is averaged over all N × 10 entries",
    "axis 0": "loss normalises the softmax over the batch (axis=0)",
    "all classes": "loss sums −log P over all 10 classes",
    "negative loss": "loss is negative",
    "unstable": "exp of a large logit overflows",
}


@pytest.mark.parametrize("slip", list(FORWARD))
def test_a_forward_slip_gets_its_diagnosis_and_no_other(slip):
    result = contract.assert_fails_with(
        "mlp_forward", contract.slipped(mlp_forward, slip), FORWARD[slip]
    )
    others = [says for other, says in FORWARD.items() if other != slip]
    assert not [says for says in others if says in _text(result)], str(result)


def test_a_forward_value_that_follows_from_an_earlier_mistake_says_so():
    result = check("mlp_forward", contract.slipped(mlp_forward, "no b1"))
    assert "A1 follows correctly from your Z1" in _text(result)
    assert "loss follows correctly from your logits" in _text(result)


TRAINING = {
    "η = 0.001": (
        lambda X, y, seed=0: train_mlp(X, y, seed, lr=0.001),
        "the learning rate η is too small",
    ),
    "uphill": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="uphill"),
        "the training loss went up",
    ),
    "local copy": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="local copy"),
        "the parameters are never updated",
    ),
    "η = 5": (lambda X, y, seed=0: train_mlp(X, y, seed, lr=5.0), "training diverged"),
    "2 epochs": (
        lambda X, y, seed=0: train_mlp(X, y, seed, lr=0.01, epochs=3),
        "train for more epochs",
    ),
    "unseeded": (
        lambda X, y, seed=0: train_mlp(X, y, seed, slip="unseeded"),
        "two runs with seed=0 gave different parameters",
    ),
}


@pytest.mark.parametrize("mistake", list(TRAINING))
def test_a_training_mistake_gets_its_diagnosis_and_no_other(mistake):
    answer, says = TRAINING[mistake]
    result = contract.assert_fails_with("train_mlp", answer, says)
    others = [s for other, (_, s) in TRAINING.items() if other != mistake]
    assert not [s for s in others if s in _text(result)], str(result)
    # the wrong diagnoses of the first edition (issue 11) never come back
    for wrong in ("optimizer.step", "array_split", "(y − t)"):
        assert wrong not in _text(result)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda X, y, seed=0: train_mlp(X, y, seed)[0], "should return (params, losses)"),
        (lambda X, y, seed=0: (init_params(64, seed), []), "non-empty list"),
        (
            lambda X, y, seed=0: ({**init_params(64, seed), "W1": np.zeros((32, 64))}, [1.0]),
            "params['b1'] has shape (64,), expected (32,)",
        ),
    ],
)
def test_a_malformed_training_answer_is_told_what_to_return(answer, says):
    contract.assert_fails_with("train_mlp", answer, says)
