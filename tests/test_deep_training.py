"""bpcourse.deep_training: deep ReLU networks with and without batch norm, trained on digits.

Small settings throughout (a few epochs on a small slice), so the file runs in seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bpcourse.batchnorm import BatchNorm
from bpcourse.data import load_digits
from bpcourse.deep_training import deep_mlp, hidden_signal_sizes, initial_loss, train_deep
from bpcourse.gradcheck import check_network
from bpcourse.layers import Dense


@pytest.fixture(scope="module")
def data():
    split = load_digits()
    return dataclasses.replace(split, X_train=split.X_train[:256], y_train=split.y_train[:256])


def test_layers_in_order_and_same_weights_with_and_without_batchnorm():
    plain, normed = deep_mlp(4, 8), deep_mlp(4, 8, batchnorm=True)
    assert [layer.name for layer in normed] == [
        "dense1", "bn1", "relu1", "dense2", "bn2", "relu2", "dense3", "bn3", "relu3", "dense4"
    ]  # fmt: skip
    assert sum(isinstance(layer, BatchNorm) for layer in plain) == 0
    dense = [(a, b) for a in plain for b in normed if isinstance(a, Dense) and a.name == b.name]
    assert len(dense) == 4
    for a, b in dense:
        np.testing.assert_array_equal(a.W.value, b.W.value)
    assert normed[-1].W.shape == (10, 8) and normed[0].W.shape == (8, 64)


def test_init_scale_multiplies_the_he_weights():
    base, doubled = deep_mlp(3, 8, init_scale=1.0), deep_mlp(3, 8, init_scale=2.0)
    np.testing.assert_allclose(doubled[0].W.value, 2 * base[0].W.value, rtol=1e-15)
    assert np.std(base[0].W.value) == pytest.approx(np.sqrt(2 / 64), rel=0.15)


def test_deep_network_with_batchnorm_passes_the_gradient_check():
    """Every tensor but the biases feeding a batch norm, whose gradient is exactly 0 (the
    batch mean removes any constant shift), so that their relative error compares noise."""
    net = deep_mlp(4, 6, batchnorm=True, n_in=5, n_out=3, seed=1)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, size=12)
    report = check_network(net, X, y, "softmax_cross_entropy")
    shifted = {"dense1.b", "dense2.b", "dense3.b"}
    for row in report.rows:
        if row.name not in shifted:
            assert row.passed, str(report)
    for p in net.parameters():
        if p.name in shifted:
            assert np.abs(p.grad).max() < 1e-14


def test_initial_loss_uses_batch_statistics_and_leaves_running_averages_alone(data):
    net = deep_mlp(3, 8, batchnorm=True, init_scale=2.0)
    before = {k: v.copy() for k, v in net.buffers().items()}
    value = initial_loss(net, data.X_train, data.y_train)
    for k, v in net.buffers().items():
        np.testing.assert_array_equal(v, before[k])
    plain = initial_loss(deep_mlp(3, 8, init_scale=2.0), data.X_train, data.y_train)
    assert value < plain  # batch norm undoes the too-large scale; without it the logits blow up


def test_a_run_records_the_loss_per_epoch_and_is_reproducible(data):
    a = train_deep(data, depth=4, lr=0.1, batchnorm=True, width=16, epochs=3)
    b = train_deep(data, depth=4, lr=0.1, batchnorm=True, width=16, epochs=3)
    assert a.train_loss.shape == (4,) and a.diverged_at is None
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    np.testing.assert_allclose(a.train_loss[1:], a.history.train_loss)
    assert a.final_loss < a.train_loss[0]
    assert a.label() == "with batch norm"


def test_a_diverging_run_is_kept_with_its_epoch_and_nan_losses(data):
    run = train_deep(data, depth=10, lr=0.1, init_scale=2.0, epochs=3)
    assert run.diverged_at == 1
    assert np.isfinite(run.train_loss[0]) and np.all(np.isnan(run.train_loss[1:]))
    assert np.isnan(run.final_loss)
    saved = train_deep(data, depth=10, lr=0.1, init_scale=2.0, batchnorm=True, epochs=3)
    assert saved.diverged_at is None and np.all(np.isfinite(saved.train_loss))


def test_bad_settings_raise_clear_errors():
    with pytest.raises((TypeError, ValueError), match="depth"):
        deep_mlp(2.5, 8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="init_scale"):
        deep_mlp(3, 8, init_scale=-1.0)


def test_hidden_signal_sizes_per_relu_and_buffers_untouched():
    X = np.random.default_rng(0).normal(size=(64, 64))
    plain = deep_mlp(5, 16, init_scale=0.5)
    sizes = hidden_signal_sizes(plain, X)
    assert sizes.shape == (4,)
    assert np.all(np.diff(np.log(sizes)) < 0)  # c = 0.5: the signal shrinks layer by layer
    a = X
    for layer in plain:
        a = layer.forward(a)
        if layer.name == "relu1":
            assert sizes[0] == pytest.approx(a.std())
    normed = deep_mlp(5, 16, batchnorm=True, init_scale=0.5)
    before = {k: v.copy() for k, v in normed.buffers().items()}
    normed_sizes = hidden_signal_sizes(normed, X)
    # after batch norm each ReLU sees mean 0, variance 1 per feature, whatever the scale
    assert np.all((normed_sizes > 0.3) & (normed_sizes < 1.0))
    scaled = hidden_signal_sizes(deep_mlp(5, 16, batchnorm=True, init_scale=2.0), X)
    np.testing.assert_allclose(scaled, normed_sizes, rtol=1e-3)  # BN(cWa) = BN(Wa), up to eps
    for k, v in normed.buffers().items():
        np.testing.assert_array_equal(v, before[k])
