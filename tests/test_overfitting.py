"""bpcourse.overfitting: the small digits subset, the dropout MLP, and regularised training."""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse.dropout import Dropout
from bpcourse.gradcheck import NETWORK_TOLERANCE, check_network
from bpcourse.network import MLP
from bpcourse.overfitting import Regulariser, compare, dropout_mlp, fit, small_digits
from bpcourse.training import evaluate, train


@pytest.fixture(scope="module")
def data():
    return small_digits(100, seed=0)


def test_small_digits_is_a_stratified_seeded_subset(data):
    assert data.X_train.shape == (100, 64) and data.y_train.shape == (100,)
    assert np.bincount(data.y_train, minlength=10).tolist() == [10] * 10
    assert len(data.y_val) == 359 and len(data.y_test) == 359
    again = small_digits(100, seed=0)
    np.testing.assert_array_equal(again.X_train, data.X_train)
    other = small_digits(100, seed=1)
    assert not np.array_equal(other.X_train, data.X_train)
    counts = np.bincount(small_digits(155).y_train, minlength=10)
    assert counts.sum() == 155 and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("n", [0, 9, 2000])
def test_small_digits_rejects_impossible_sizes(n):
    with pytest.raises(ValueError):
        small_digits(n)


def test_dropout_mlp_without_dropout_is_the_mlp():
    plain, ours = MLP([64, 16, 10], "relu", seed=3), dropout_mlp([64, 16, 10], 0.0, seed=3)
    assert not any(isinstance(layer, Dropout) for layer in ours)
    for a, b in zip(plain.parameters(), ours.parameters(), strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(a.value, b.value)


def test_dropout_mlp_drops_in_training_only_and_passes_a_gradient_check():
    net = dropout_mlp([6, 8, 8, 3], 0.5, activation="tanh", seed=0)
    assert sum(isinstance(layer, Dropout) for layer in net) == 2
    X = np.random.default_rng(0).normal(size=(5, 6))
    y = np.array([0, 1, 2, 1, 0])
    plain = dropout_mlp([6, 8, 8, 3], 0.0, activation="tanh", seed=0)
    np.testing.assert_allclose(net.predict(X), plain.predict(X))  # eval mode: identity
    assert not np.allclose(net.forward(X, training=True), plain.predict(X))
    report = check_network(net, X, y)
    assert report.passed and report.worst < NETWORK_TOLERANCE


def test_regulariser_rejects_bad_settings():
    for bad in ({"l2": -1.0}, {"l1": -0.1}, {"dropout": 1.0}, {"patience": 0}):
        with pytest.raises(ValueError):
            Regulariser(**bad)


def test_fit_without_regularisation_is_plain_training(data):
    result = fit(data, Regulariser(), hidden=16, epochs=5, lr=0.1, seed=2)
    net = MLP([64, 16, 10], "relu", seed=2)
    history = train(
        net,
        data.X_train,
        data.y_train,
        lr=0.1,
        epochs=5,
        batch_size=32,
        seed=2,
        validation=(data.X_val, data.y_val),
        progress=False,
    )
    np.testing.assert_allclose(result.history.val_loss, history.val_loss, rtol=1e-12)
    assert result.val_accuracy == evaluate(net, data.X_val, data.y_val)[1]
    assert result.test_accuracy == evaluate(net, data.X_test, data.y_test)[1]


def test_penalties_shrink_the_weights_and_l1_makes_them_small(data):
    options = {"hidden": 32, "epochs": 30, "lr": 0.1}
    runs = compare(
        data,
        {"none": Regulariser(), "L2": Regulariser(l2=0.05), "L1": Regulariser(l1=0.01)},
        **options,
    )
    W = {name: r.net[0].W.value for name, r in runs.items()}
    assert np.linalg.norm(W["L2"]) < 0.7 * np.linalg.norm(W["none"])
    assert np.abs(W["L1"]).sum() < 0.7 * np.abs(W["none"]).sum()
    tiny = {name: np.mean(np.abs(w) < 1e-2) for name, w in W.items()}
    assert tiny["L1"] > 2 * tiny["L2"] and tiny["L1"] > 2 * tiny["none"]
    biases = {name: r.net[0].b.value for name, r in runs.items()}  # not penalised
    assert np.linalg.norm(biases["L2"]) > 0


def test_early_stopping_returns_the_best_epochs_network(data):
    result = fit(data, Regulariser(patience=3), hidden=32, epochs=200, lr=0.5)
    h = result.history
    assert h.stopped_early and h.best_epoch is not None
    assert h.epochs == h.best_epoch + 3
    best_loss = evaluate(result.net, data.X_val, data.y_val)[0]
    assert np.isclose(best_loss, min(h.val_loss))
    assert result.val_accuracy == h.val_accuracy[h.best_epoch - 1]
