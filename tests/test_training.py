"""Training loops: batch, stochastic and mini-batch modes, determinism, learning, stopping.

Step counts come from the data size and the batch size; learning is checked on XOR, two
2-D toy sets and the handwritten digits; early stopping must put the best weights back.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bpcourse.data import load_digits, make_moons, make_spirals, xor
from bpcourse.losses import get_loss
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.training import (
    History,
    TrainingDivergedError,
    batches,
    evaluate,
    run_epoch,
    train,
)
from bpcourse.validation import NonFiniteError, ShapeError

# --- the digits recipe ------------------------------------------------------------------------
# On the fixed split (load_digits(), seed 2026) this reaches 349/359 = 97.21% test accuracy.
# Over init seeds 0-5 it gives 97.2, 97.2, 96.9, 97.2, 97.8, 96.9%: the target holds for this
# seed, with a margin of one example, so a change to the library's arithmetic shows up here.
DIGITS_SIZES = [64, 256, 10]
DIGITS_ACTIVATION = "relu"
DIGITS_SEED = 0
DIGITS_LR = 0.1
DIGITS_BATCH_SIZE = 32
DIGITS_EPOCHS = 30
DIGITS_TARGET_ACCURACY = 0.97
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices gain nothing from BLAS threads, and on a busy machine they thrash:
    the digits run took 6-17 s with OpenBLAS's default threads and 0.6 s with one."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def small_data(n: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def quiet_train(net, X, y, **kwargs) -> History:
    return train(net, X, y, progress=False, **kwargs)


# --- batches and step counts -----------------------------------------------------------------


def test_batches_cover_every_index_once():
    parts = batches(10, 4, None)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.tolist() for p in batches(5, None, None)] == [[0, 1, 2, 3, 4]]
    shuffled = batches(10, 3, np.random.default_rng(0))
    assert [len(p) for p in shuffled] == [3, 3, 3, 1]
    together = np.concatenate(shuffled)
    assert sorted(together.tolist()) == list(range(10))
    assert together.tolist() != list(range(10))


@pytest.mark.parametrize(
    ("batch_size", "steps_per_epoch", "sizes"),
    [
        (None, 1, [10]),  # batch (standard): the whole set per step
        (1, 10, [1] * 10),  # stochastic: one example per step
        (4, 3, [4, 4, 2]),  # mini-batch: ceil(10 / 4) steps, the last one short
        (32, 1, [10]),  # a batch larger than the data set is the whole set
    ],
)
def test_steps_per_epoch_and_examples_seen(batch_size, steps_per_epoch, sizes):
    X, y = small_data(10)
    h = quiet_train(MLP([3, 4, 2]), X, y, batch_size=batch_size, epochs=3)
    assert h.epochs == 3 and len(h.train_loss) == 3 and len(h.train_accuracy) == 3
    assert len(h.step_loss) == 3 * steps_per_epoch
    assert h.examples_seen == np.cumsum(sizes * 3).tolist()
    assert h.examples_seen[-1] == 30
    assert len(h.wall_time) == len(h.step_loss)
    assert all(b >= a for a, b in zip(h.wall_time, h.wall_time[1:], strict=False))
    assert h.val_loss == [] and h.val_accuracy == [] and h.best_epoch is None
    assert not h.stopped_early


def test_full_batch_step_loss_is_the_loss_before_each_step():
    X, y = small_data(10)
    net = MLP([3, 4, 2], seed=1)
    twin = MLP([3, 4, 2], seed=1)
    h = quiet_train(net, X, y, batch_size=None, epochs=3, lr=0.2)
    loss = get_loss("softmax_cross_entropy")
    opt = GradientDescent(twin.parameters(), lr=0.2)
    for epoch in range(3):
        # the whole set in one step: shuffling the rows changes the mean loss only by rounding
        assert h.step_loss[epoch] == pytest.approx(twin.loss_and_backward(X, y, loss), rel=1e-12)
        opt.step()
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-10, atol=1e-13)


def test_unshuffled_training_takes_the_batches_in_order():
    X, y = small_data(10)
    net, twin = MLP([3, 4, 2], seed=2), MLP([3, 4, 2], seed=2)
    h = quiet_train(net, X, y, batch_size=4, epochs=2, lr=0.3, shuffle=False)
    opt = GradientDescent(twin.parameters(), lr=0.3)
    expected = []
    for _ in range(2):
        for start in (0, 4, 8):
            expected.append(twin.loss_and_backward(X[start : start + 4], y[start : start + 4]))
            opt.step()
    np.testing.assert_allclose(h.step_loss, expected, rtol=1e-12)
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-12, atol=1e-14)


def test_run_epoch_returns_the_example_weighted_mean_step_loss():
    X, y = small_data(10)
    net = MLP([3, 4, 2])
    h = History()
    mean = run_epoch(
        net,
        X,
        y,
        get_loss("softmax_cross_entropy"),
        GradientDescent(net.parameters(), 0.1),
        4,
        None,
        h,
    )
    assert mean == pytest.approx(
        (4 * h.step_loss[0] + 4 * h.step_loss[1] + 2 * h.step_loss[2]) / 10
    )


def test_train_loss_is_the_loss_of_the_trained_network_at_the_end_of_each_epoch():
    X, y = small_data(12)
    net = MLP([3, 5, 2], "tanh")
    h = quiet_train(net, X, y, epochs=4, batch_size=5, validation=(X[:6], y[:6]))
    loss, acc = evaluate(net, X, y)
    assert h.train_loss[-1] == pytest.approx(loss, rel=1e-12)
    assert h.train_accuracy[-1] == acc
    assert acc == np.mean(np.argmax(net.predict(X), axis=1) == y)
    assert h.val_loss[-1] == pytest.approx(evaluate(net, X[:6], y[:6])[0], rel=1e-12)


def test_a_given_optimizer_is_used_instead_of_lr():
    X, y = small_data(10)
    net = MLP([3, 4, 2])
    opt = GradientDescent(net.parameters(), lr=0.01)
    quiet_train(net, X, y, optimizer=opt, lr=5.0, epochs=2, batch_size=5)
    assert opt.steps == 4


def test_regression_accuracy_is_nan():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 2))
    h = quiet_train(MLP([2, 4, 1], "tanh"), X, X.sum(axis=1), loss="mse", epochs=2)
    assert all(math.isnan(a) for a in h.train_accuracy)
    assert all(math.isfinite(v) for v in h.train_loss)


# --- determinism -------------------------------------------------------------------------------


def run(seed: int, **kwargs):
    X, y = small_data(20)
    net = MLP([3, 6, 2], "tanh", seed=0)
    h = quiet_train(net, X, y, epochs=3, batch_size=3, seed=seed, validation=(X, y), **kwargs)
    return h, net


def comparable(h: History) -> dict:
    fields = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "step_loss")
    return {f: getattr(h, f) for f in fields} | {"seen": h.examples_seen, "best": h.best_epoch}


def test_same_seed_gives_identical_history_and_weights():
    (h1, net1), (h2, net2) = run(5), run(5)
    assert comparable(h1) == comparable(h2)
    for p, q in zip(net1.parameters(), net2.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)


def test_different_seeds_shuffle_differently():
    (h1, net1), (h2, net2) = run(5), run(6)
    assert h1.step_loss != h2.step_loss
    assert not np.array_equal(net1[0].W.value, net2[0].W.value)
    (h3, _) = run(5, shuffle=False)
    assert h3.step_loss != h1.step_loss


# --- learning -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "activation"), [([2, 2, 1], "sigmoid"), ([2, 4, 1], "tanh")])
def test_xor_is_learned_by_a_small_network(sizes, activation):
    X, labels = xor()
    t = labels[:, None].astype(float)
    net = MLP(sizes, activation, output_activation="sigmoid", seed=0)
    h = quiet_train(net, X, t, loss="half_squared_error", lr=2.0, epochs=2000, batch_size=None)
    assert h.train_loss[-1] < 0.01 < h.train_loss[0]
    assert h.train_accuracy[-1] == 1.0
    out = net.predict(X)[:, 0]
    np.testing.assert_array_equal(out > 0.5, labels.astype(bool))


def test_moons_loss_falls_and_accuracy_is_high():
    X, y = make_moons(200, noise=0.1, seed=0)
    net = MLP([2, 16, 16, 2], "tanh", seed=0)
    h = quiet_train(net, X, y, lr=0.5, epochs=100, batch_size=32)
    assert h.train_loss[0] > 0.2
    assert h.train_loss[-1] < h.train_loss[0] / 10
    assert h.train_accuracy[-1] >= 0.97
    assert np.mean(h.train_loss[-10:]) < np.mean(h.train_loss[:10])


def test_spirals_are_learned_by_a_relu_network():
    X, y = make_spirals(seed=0)
    net = MLP([2, 64, 3], "relu", seed=0)
    h = quiet_train(net, X, y, lr=0.5, epochs=300, batch_size=32)
    assert h.train_loss[0] > 0.5 and h.train_loss[-1] < 0.2
    assert h.train_accuracy[-1] >= 0.9


def test_digits_reach_the_target_test_accuracy():
    split = load_digits()
    net = MLP(DIGITS_SIZES, DIGITS_ACTIVATION, seed=DIGITS_SEED)
    quiet_train(
        net,
        split.X_train,
        split.y_train,
        lr=DIGITS_LR,
        batch_size=DIGITS_BATCH_SIZE,
        epochs=DIGITS_EPOCHS,
        seed=DIGITS_SEED,
    )
    predicted = np.argmax(net.predict(split.X_test), axis=1)
    accuracy = float(np.mean(predicted == split.y_test))
    assert accuracy >= DIGITS_TARGET_ACCURACY, f"test accuracy {accuracy:.4f}"


# --- early stopping -----------------------------------------------------------------------------


def overfitting_problem():
    """30 noisy training points and a big network: validation loss turns up quickly."""
    Xt, yt = make_moons(30, noise=0.3, seed=1)
    Xv, yv = make_moons(300, noise=0.3, seed=2)
    return MLP([2, 64, 64, 2], "relu", seed=0), Xt, yt, Xv, yv


def test_early_stopping_restores_the_best_weights():
    net, Xt, yt, Xv, yv = overfitting_problem()
    h = quiet_train(
        net, Xt, yt, lr=0.3, epochs=2000, batch_size=None, validation=(Xv, yv), patience=10
    )
    assert h.stopped_early
    best = int(np.argmin(h.val_loss))
    assert h.best_epoch == best + 1
    assert h.epochs == h.best_epoch + 10 < 2000
    assert h.val_loss[-1] > h.val_loss[best]
    assert evaluate(net, Xv, yv)[0] == pytest.approx(h.val_loss[best], rel=1e-12)
    assert evaluate(net, Xv, yv)[1] == h.val_accuracy[best]


def test_early_stopping_without_restoring_keeps_the_last_weights():
    net, Xt, yt, Xv, yv = overfitting_problem()
    h = quiet_train(
        net,
        Xt,
        yt,
        lr=0.3,
        epochs=2000,
        batch_size=None,
        validation=(Xv, yv),
        patience=10,
        restore_best=False,
    )
    assert h.stopped_early
    assert evaluate(net, Xv, yv)[0] == pytest.approx(h.val_loss[-1], rel=1e-12)
    assert h.val_loss[-1] > min(h.val_loss)


def test_validation_without_patience_runs_every_epoch():
    net, Xt, yt, Xv, yv = overfitting_problem()
    h = quiet_train(net, Xt, yt, lr=0.3, epochs=40, batch_size=None, validation=(Xv, yv))
    assert h.epochs == 40 and len(h.val_loss) == 40 and len(h.val_accuracy) == 40
    assert not h.stopped_early
    assert h.best_epoch == int(np.argmin(h.val_loss)) + 1
    assert evaluate(net, Xv, yv)[0] == pytest.approx(h.val_loss[-1], rel=1e-12)


# --- progress and History ------------------------------------------------------------------------


def test_progress_bar_goes_to_stderr(capsys):
    X, y = small_data(10)
    train(MLP([3, 4, 2]), X, y, epochs=3, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "training" in captured.err and "3/3" in captured.err and "epoch" in captured.err


def test_no_progress_prints_nothing(capsys):
    X, y = small_data(10)
    train(MLP([3, 4, 2]), X, y, epochs=3, progress=False, validation=(X, y))
    assert capsys.readouterr() == ("", "")


def test_history_repr_shows_the_last_epoch():
    X, y = small_data(10)
    h = quiet_train(MLP([3, 4, 2]), X, y, epochs=3, validation=(X[:5], y[:5]))
    expected = (
        f"History(epochs=3, train_loss={h.train_loss[2]:.4f}, "
        f"train_accuracy={h.train_accuracy[2]:.4f}, val_loss={h.val_loss[2]:.4f}, "
        f"val_accuracy={h.val_accuracy[2]:.4f})"
    )
    assert repr(h) == expected


# --- divergence ----------------------------------------------------------------------------------


def diverging_run():
    rng = np.random.default_rng(0)
    X, t = rng.normal(size=(20, 1)), 1e6 * rng.normal(size=(20, 1))
    net = MLP([1, 8, 1], "tanh")
    return train(
        net, X, t, loss="half_squared_error", lr=100.0, epochs=500, batch_size=5, progress=False
    )


def test_a_diverging_loss_raises_naming_the_epoch_and_step():
    with pytest.raises(
        TrainingDivergedError,
        match=r"(the loss became (nan|inf)|a computation failed \(overflow.*\)) "
        r"at epoch \d+, step \d+ \(batch of 5\).*learning rate \(100\)",
    ):
        diverging_run()
    assert issubclass(TrainingDivergedError, FloatingPointError)


def test_a_diverging_loss_raises_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TrainingDivergedError):
            diverging_run()


# --- bad arguments ---------------------------------------------------------------------------


def test_labels_outside_the_class_range_are_refused():
    X, _ = small_data(10)
    y = np.array([0, 1, 2, 1, 0, 1, 0, 1, 0, 1])
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 2\) for 2 classes; got 2 at index 2"
    ):
        quiet_train(MLP([3, 4, 2]), X, y, batch_size=None)
    with pytest.raises(ValueError, match=r"got -1 at index 0"):
        quiet_train(MLP([3, 4, 2]), X, -np.ones(10, dtype=int))


def test_float_labels_are_refused():
    X, y = small_data(10)
    with pytest.raises(TypeError, match=r"integer labels expected.*float64"):
        quiet_train(MLP([3, 4, 2]), X, y.astype(float))


def test_mismatched_lengths_are_refused():
    X, y = small_data(10)
    with pytest.raises(ShapeError, match="training data: 10 inputs but 9 targets"):
        quiet_train(MLP([3, 4, 2]), X, y[:9])
    with pytest.raises(ShapeError, match="validation data: 4 inputs but 5 targets"):
        quiet_train(MLP([3, 4, 2]), X, y, validation=(X[:4], y[:5]))


def test_wrong_input_width_and_non_finite_data_are_refused():
    X, y = small_data(10)
    with pytest.raises(ShapeError, match=r"'dense1' \(3 -> 4\).*\(N, 3\).*\(10, 2\)"):
        quiet_train(MLP([3, 4, 2]), X[:, :2], y)
    X[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"at index \(3, 1\)"):
        quiet_train(MLP([3, 4, 2]), X, y)
    with pytest.raises(NonFiniteError, match=r"targets.*at index \(0, 0\)"):
        quiet_train(MLP([3, 4, 1]), X[:3] * 0, np.full((3, 1), np.inf), loss="mse")


@pytest.mark.parametrize(
    ("output", "loss"), [("softmax", "softmax_cross_entropy"), ("sigmoid", "binary_cross_entropy")]
)
def test_an_output_activation_before_a_logits_loss_is_refused(output, loss):
    X, y = small_data(10)
    t = y if loss == "softmax_cross_entropy" else y[:, None].astype(float)
    n_out = 2 if loss == "softmax_cross_entropy" else 1
    net = MLP([3, 4, n_out], output_activation=output)
    with pytest.raises(ValueError, match=rf"{loss} takes logits.*ends with a {output} layer"):
        quiet_train(net, X, t, loss=loss)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, True, "3", None])
def test_invalid_epochs_are_refused(epochs):
    X, y = small_data(10)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        quiet_train(MLP([3, 4, 2]), X, y, epochs=epochs)


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, True, "8"])
def test_invalid_batch_sizes_are_refused(batch_size):
    X, y = small_data(10)
    with pytest.raises(ValueError, match=r"batch_size .*must be a positive int or None, got"):
        quiet_train(MLP([3, 4, 2]), X, y, batch_size=batch_size)


def test_patience_without_validation_data_is_refused():
    X, y = small_data(10)
    with pytest.raises(ValueError, match=r"early stopping \(patience\) needs validation data"):
        quiet_train(MLP([3, 4, 2]), X, y, patience=3)


def test_unknown_loss_lists_the_valid_ones():
    X, y = small_data(10)
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'.*half_squared_error.*mse"):
        quiet_train(MLP([3, 4, 2]), X, y, loss="hinge")


@pytest.mark.parametrize("patience", [0, -1])
def test_invalid_patience_is_refused(patience):
    X, y = small_data(10)
    with pytest.raises(ValueError, match="patience"):
        quiet_train(MLP([3, 4, 2]), X, y, epochs=5, validation=(X, y), patience=patience)


# --- validation once per call, and the empty batch (issue 12) -----------------------------------


def test_train_checks_its_input_once_per_call_not_per_batch(monkeypatch):
    X, y = np.random.default_rng(0).normal(size=(90, 4)), np.arange(90) % 3
    X_val, y_val = X[:10], y[:10]
    net = MLP([4, 5, 3], "tanh")
    calls = []
    real = net.check_input
    monkeypatch.setattr(net, "check_input", lambda X: calls.append(X.shape) or real(X))
    history = train(net, X, y, epochs=3, batch_size=10, validation=(X_val, y_val), progress=False)
    assert history.epochs == 3
    assert calls == [(90, 4), (10, 4)]  # the training data and the validation data, once each


def test_an_empty_training_set_is_refused_by_name(recwarn):
    net = MLP([4, 5, 3], "tanh")
    with pytest.raises(ShapeError, match=r"training data: the batch is empty .*\(0, 4\)"):
        train(net, np.zeros((0, 4)), np.zeros(0, dtype=int), progress=False)
    with pytest.raises(ShapeError, match=r"validation data: the batch is empty"):
        X, y = np.ones((6, 4)), np.zeros(6, dtype=int)
        train(net, X, y, validation=(np.zeros((0, 4)), np.zeros(0, dtype=int)), progress=False)
    assert not recwarn.list


def test_logits_that_become_inf_still_end_training_with_the_divergence_error():
    net = MLP([2, 3, 2], "relu")
    net.layers[-1].b.value[0] = np.inf  # the logits are inf without any overflow
    X, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(TrainingDivergedError, match="epoch 1, step 1"):
        train(net, X, y, epochs=1, progress=False)


def test_run_epoch_on_validated_but_empty_data_names_the_empty_batch():
    net = MLP([3, 2])
    with pytest.raises(ShapeError, match="the batch is empty"):
        run_epoch(
            net,
            np.zeros((0, 3)),
            np.zeros(0, int),
            get_loss("softmax_cross_entropy"),
            GradientDescent(net.parameters(), 0.1),
            4,
            None,
            validated=True,
        )


def test_run_epoch_gathers_batches_without_changing_the_result():
    """The batches gathered into reused arrays give the same step losses as fresh copies."""
    from bpcourse.training import train_step

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(23, 4)), rng.integers(0, 3, 23)
    loss = get_loss("softmax_cross_entropy")
    a, b = MLP([4, 5, 3], seed=1), MLP([4, 5, 3], seed=1)
    mean = run_epoch(
        a, X, y, loss, GradientDescent(a.parameters(), 0.1), 5, np.random.default_rng(0)
    )
    opt = GradientDescent(b.parameters(), 0.1)
    steps = [
        train_step(b, X[idx], y[idx], loss, opt) * len(idx)
        for idx in batches(23, 5, np.random.default_rng(0))
    ]
    assert mean == pytest.approx(sum(steps) / 23, rel=1e-12)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
