"""train() with its options on: penalties, clipping, schedules, diagnostics, other optimisers.

Each option is checked by what it must do to training (smaller weights, bounded gradients,
high accuracy), through an optimiser subclass that sees exactly what the optimiser sees.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse.clipping import global_norm
from bpcourse.data import make_moons
from bpcourse.diagnostics import Diagnostics
from bpcourse.losses import get_loss
from bpcourse.network import MLP
from bpcourse.optim import Adam, GradientDescent, Momentum
from bpcourse.schedules import StepDecay
from bpcourse.training import StepOptions, run_epoch, train, train_step

LOSS = get_loss("softmax_cross_entropy")


class Watching(GradientDescent):
    """Gradient descent that keeps, for every step, the gradients it is about to apply."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norms: list[float] = []
        self.largest: list[float] = []
        self.grads: list[dict[str, np.ndarray]] = []

    def step(self) -> None:
        self.norms.append(global_norm(self.params))
        self.largest.append(max(float(np.abs(p.grad).max()) for p in self.params))
        self.grads.append({p.name: p.grad.copy() for p in self.params})
        super().step()


def moons(n: int = 200, seed: int = 0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, y


def weight_norm(net: MLP, order: int = 2) -> float:
    weights = [p.value.ravel() for p in net.parameters() if p.name.endswith(".W")]
    return float(np.linalg.norm(np.concatenate(weights), ord=order))


def test_l2_training_makes_the_weights_smaller():
    X, y = moons()
    plain = MLP([2, 16, 16, 2], "tanh", seed=0)
    decayed = MLP([2, 16, 16, 2], "tanh", seed=0)
    kwargs = {"epochs": 15, "batch_size": 20, "lr": 0.2, "progress": False}
    train(plain, X, y, **kwargs)
    train(decayed, X, y, l2=0.05, **kwargs)
    assert weight_norm(decayed) < 0.8 * weight_norm(plain)


def test_l1_training_makes_the_l1_norm_smaller():
    X, y = moons()
    plain = MLP([2, 16, 16, 2], "tanh", seed=0)
    sparse = MLP([2, 16, 16, 2], "tanh", seed=0)
    kwargs = {"epochs": 15, "batch_size": 20, "lr": 0.2, "progress": False}
    train(plain, X, y, **kwargs)
    train(sparse, X, y, l1=0.01, **kwargs)
    assert weight_norm(sparse, order=1) < 0.8 * weight_norm(plain, order=1)


def test_clip_norm_bounds_the_gradients_the_optimiser_sees():
    X, y = moons()
    c = 0.05
    unclipped = MLP([2, 16, 2], "relu", seed=1)
    free = Watching(unclipped.parameters(), 0.1)
    train(unclipped, X, y, optimizer=free, epochs=2, batch_size=16, progress=False)
    assert max(free.norms) > 4 * c  # without clipping the threshold is exceeded

    net = MLP([2, 16, 2], "relu", seed=1)
    opt = Watching(net.parameters(), 0.1)
    diag = Diagnostics()
    options = {"clip_norm": c, "diagnostics": diag, "progress": False}
    train(net, X, y, optimizer=opt, epochs=2, batch_size=16, **options)
    assert len(opt.norms) == 2 * 13
    assert max(opt.norms) <= c * (1 + 1e-12)
    assert max(opt.norms) == pytest.approx(c, rel=1e-12)  # clipped steps land exactly on c
    for record in diag.grad_norms:  # the diagnostics see the clipped gradients too
        assert np.sqrt(sum(v**2 for v in record.values())) <= c * (1 + 1e-12)


def test_clip_norm_applies_after_the_penalty():
    X, y = moons(40)
    net = MLP([2, 8, 2], "tanh", seed=2)
    opt = Watching(net.parameters(), 0.1)
    train_step(net, X, y, LOSS, opt, StepOptions(l2=100.0, clip_norm=0.5))
    assert opt.norms == [pytest.approx(0.5, rel=1e-12)]  # a huge penalty gradient, clipped


def test_clip_value_bounds_every_gradient_entry():
    X, y = moons()
    net = MLP([2, 16, 2], "relu", seed=1)
    opt = Watching(net.parameters(), 0.1)
    train(net, X, y, optimizer=opt, epochs=2, batch_size=16, clip_value=0.01, progress=False)
    assert max(opt.largest) == pytest.approx(0.01, rel=1e-15)


def test_a_clipped_step_is_the_unclipped_step_scaled():
    X, y = moons(32)
    twin = MLP([2, 8, 2], "tanh", seed=3)
    twin.loss_and_backward(X, y)
    grads = {p.name: p.grad.copy() for p in twin.parameters()}
    norm = np.sqrt(sum((g**2).sum() for g in grads.values()))
    c = norm / 4
    net = MLP([2, 8, 2], "tanh", seed=3)
    before = {p.name: p.value.copy() for p in net.parameters()}
    train_step(net, X, y, LOSS, GradientDescent(net.parameters(), 0.5), StepOptions(clip_norm=c))
    for p in net.parameters():
        np.testing.assert_allclose(p.value, before[p.name] - 0.5 * grads[p.name] / 4, rtol=1e-12)


def test_default_step_options_are_a_plain_gradient_descent_step():
    X, y = moons(32)
    twin = MLP([2, 8, 2], "tanh", seed=4)
    loss_value = twin.loss_and_backward(X, y)
    expected = {p.name: p.value - 0.3 * p.grad for p in twin.parameters()}
    net = MLP([2, 8, 2], "tanh", seed=4)
    assert StepOptions() == StepOptions(0.0, 0.0, None, None, None)
    value = train_step(net, X, y, LOSS, GradientDescent(net.parameters(), 0.3))
    assert value == pytest.approx(loss_value, rel=1e-15)
    for p in net.parameters():
        np.testing.assert_allclose(p.value, expected[p.name], rtol=1e-14, atol=1e-16)


def test_run_epoch_passes_its_options_to_every_step():
    X, y = moons(50)
    net = MLP([2, 8, 2], "tanh", seed=5)
    opt = Watching(net.parameters(), 0.1)
    diag = Diagnostics(every=2)
    rng = np.random.default_rng(0)
    options = StepOptions(clip_value=0.02, diagnostics=diag)
    run_epoch(net, X, y, LOSS, opt, 10, rng, options=options)
    assert len(opt.norms) == 5
    assert max(opt.largest) <= 0.02
    assert diag.steps == [2, 4]


def test_adam_trains_an_mlp_on_moons_to_high_accuracy():
    X, y = moons(300)
    X_val, y_val = make_moons(200, noise=0.1, seed=1)
    net = MLP([2, 32, 32, 2], "tanh", seed=0)
    opt = Adam(net.parameters(), lr=0.01)
    options = {"validation": (X_val, y_val), "progress": False}
    history = train(net, X, y, optimizer=opt, epochs=40, batch_size=32, **options)
    assert history.train_accuracy[-1] >= 0.98
    assert history.val_accuracy[-1] >= 0.97
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]


def test_adam_beats_plain_gradient_descent_at_the_same_small_learning_rate():
    X, y = moons(200)
    results = {}
    for name, make in (
        ("gd", lambda ps: GradientDescent(ps, 0.01)),
        ("adam", lambda ps: Adam(ps, lr=0.01)),
    ):
        net = MLP([2, 16, 16, 2], "tanh", seed=0)
        history = train(net, X, y, optimizer=make(net.parameters()), epochs=10, progress=False)
        results[name] = history.train_loss[-1]
    assert results["adam"] < 0.75 * results["gd"]


def run_with_everything(seed: int = 0):
    X, y = moons(120)
    net = MLP([2, 12, 12, 2], "tanh", seed=7)
    opt = Momentum(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    diag = Diagnostics(every=3)
    options = {
        "schedule": StepDecay(0.1, 2, 0.5),
        "l2": 1e-3,
        "l1": 1e-4,
        "clip_norm": 1.0,
        "clip_value": 0.5,
        "diagnostics": diag,
        "progress": False,
    }
    history = train(net, X, y, optimizer=opt, epochs=4, batch_size=16, seed=seed, **options)
    return net.state(), history, diag


def test_training_with_every_option_on_is_deterministic():
    state1, history1, diag1 = run_with_everything()
    state2, history2, diag2 = run_with_everything()
    for name in state1:
        np.testing.assert_array_equal(state1[name], state2[name], err_msg=name)
    assert history1.step_loss == history2.step_loss
    assert history1.train_loss == history2.train_loss
    assert diag1.steps == diag2.steps and diag1.grad_norms == diag2.grad_norms
    assert diag1.update_ratios == diag2.update_ratios
    state3, _, _ = run_with_everything(seed=1)  # another shuffle, other weights
    assert not all(np.array_equal(state1[name], state3[name]) for name in state1)


@pytest.mark.parametrize(
    "options",
    [{"l2": -0.1}, {"l1": -1.0}, {"clip_norm": 0.0}, {"clip_value": -1.0}],
    ids=["l2", "l1", "clip_norm", "clip_value"],
)
def test_invalid_options_are_refused(options):
    X, y = moons(20)
    net = MLP([2, 4, 2], "tanh")
    with pytest.raises(ValueError, match="must be a finite number"):
        train(net, X, y, epochs=1, progress=False, **options)
