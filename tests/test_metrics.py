"""Predictions and scores (bpcourse.metrics): thresholds, argmax, accuracy, confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.metrics import (
    accuracy,
    confusion_matrix,
    is_classification,
    predicted_labels,
    true_labels,
)

FAST = settings(max_examples=15, deadline=None)


# --- predicted_labels --------------------------------------------------------------------


def test_several_outputs_predict_the_argmax():
    out = np.array([[0.1, 2.0, -1.0], [5.0, 4.9, 0.0], [-3.0, -2.0, -1.0]])
    np.testing.assert_array_equal(predicted_labels(out), [1, 0, 2])
    np.testing.assert_array_equal(predicted_labels(out, "mse"), [1, 0, 2])  # loss irrelevant


def test_one_logit_is_thresholded_at_zero():
    """A logit z > 0 means sigmoid(z) > 1/2: class 1."""
    out = np.array([[-2.0], [-0.01], [0.01], [0.3], [7.0]])
    expected = [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(predicted_labels(out, "binary_cross_entropy"), expected)
    np.testing.assert_array_equal(predicted_labels(out, "softmax_cross_entropy"), expected)


@pytest.mark.parametrize("loss", ["mse", "half_squared_error"])
def test_one_probability_is_thresholded_at_one_half(loss):
    """A sigmoid output trained with squared error: 0.3 is class 0 (as a logit it would be 1)."""
    out = np.array([[0.0], [0.3], [0.49], [0.51], [0.9]])
    np.testing.assert_array_equal(predicted_labels(out, loss), [0, 0, 0, 1, 1])


def test_thresholds_agree_through_the_sigmoid():
    z = np.random.default_rng(0).normal(size=(50, 1)) * 3
    z = z[np.abs(z[:, 0]) > 1e-6]
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_array_equal(
        predicted_labels(z, "binary_cross_entropy"), predicted_labels(p, "mse")
    )


def test_predicted_labels_unknown_loss_lists_names():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; valid names are: .*mse"):
        predicted_labels(np.zeros((2, 1)), "hinge")


# --- true_labels and is_classification ----------------------------------------------------


def test_true_labels_from_labels_one_hot_and_binary_columns():
    np.testing.assert_array_equal(true_labels(np.array([2, 0, 1])), [2, 0, 1])
    np.testing.assert_array_equal(true_labels(np.array([2.0, 0.0, 1.0])), [2, 0, 1])
    one_hot = np.eye(4)[[3, 1, 0, 2]]
    np.testing.assert_array_equal(true_labels(one_hot), [3, 1, 0, 2])
    np.testing.assert_array_equal(true_labels(np.array([[1.0], [0.0], [1.0]])), [1, 0, 1])
    soft = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])  # class probabilities: the largest
    np.testing.assert_array_equal(true_labels(soft), [1, 0])
    assert true_labels(np.array([1, 0])).dtype.kind == "i"


def test_is_classification():
    assert is_classification(np.array([0, 3, 2]))
    assert is_classification(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert is_classification(np.array([[1.0], [0.0]]))
    assert not is_classification(np.array([[0.5], [0.0]]))
    assert not is_classification(np.array([1.7, 2.0]))


# --- accuracy ----------------------------------------------------------------------------


def test_accuracy_by_hand():
    out = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5], [0.2, 0.1]])
    assert accuracy(out, np.array([0, 1, 1, 1])) == 0.5
    assert accuracy(out, np.eye(2)[[0, 1, 0, 0]]) == 1.0
    binary, target = np.array([[-1.0], [2.0], [0.3]]), np.array([[0.0], [1.0], [1.0]])
    assert accuracy(binary, target, "binary_cross_entropy") == 1.0  # 0.3 > 0: class 1
    assert accuracy(binary, target, "mse") == 2 / 3  # 0.3 < 0.5: class 0


@FAST
@given(n=st.integers(1, 40), c=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_accuracy_matches_a_loop(n, c, seed):
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(n, c))
    labels = rng.integers(0, c, size=n)
    correct = 0
    for row, label in zip(out, labels, strict=True):
        best = max(range(c), key=lambda j, row=row: row[j])
        correct += best == label
    assert accuracy(out, labels) == pytest.approx(correct / n, abs=1e-15)
    assert accuracy(out, np.eye(c)[labels]) == pytest.approx(correct / n, abs=1e-15)


# --- confusion_matrix --------------------------------------------------------------------


def naive_confusion(true, predicted, c):
    counts = [[0] * c for _ in range(c)]
    for t, p in zip(true, predicted, strict=True):
        counts[t][p] += 1
    return np.array(counts)


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype.kind == "i"


@FAST
@given(n=st.integers(0, 60), c=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_confusion_matrix_matches_a_loop(n, c, seed):
    rng = np.random.default_rng(seed)
    true, pred = rng.integers(0, c, size=n), rng.integers(0, c, size=n)
    cm = confusion_matrix(true, pred, c)
    np.testing.assert_array_equal(cm, naive_confusion(true, pred, c))
    assert cm.shape == (c, c) and cm.sum() == n
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(true, minlength=c))
    assert np.trace(cm) == np.sum(true == pred)


def test_confusion_matrix_with_a_label_too_large_fails_loudly():
    with pytest.raises((ValueError, IndexError)):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)


def test_confusion_matrix_refuses_negative_labels():
    with pytest.raises(ValueError, match=r"-1"):
        confusion_matrix(np.array([-1, 0]), np.array([0, 0]), 2)
