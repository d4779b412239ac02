r"""Learning-rate schedules, and the training loop that applies them before each epoch.

Step decay: $\eta_t = \eta_0\gamma^{\lfloor t/s\rfloor}$; exponential decay:
$\eta_t = \eta_0\gamma^t$, with epochs t counted from 0.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from bpcourse.network import MLP
from bpcourse.optim import Adam, GradientDescent
from bpcourse.schedules import ExponentialDecay, StepDecay
from bpcourse.training import train


def test_step_decay_values_by_hand():
    schedule = StepDecay(lr=0.1, step_size=3, gamma=0.5)
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
    for epoch, want in enumerate(expected):
        assert schedule(epoch) == pytest.approx(want, rel=1e-15), f"epoch {epoch}"


def test_step_decay_follows_its_formula():
    lr, s, gamma = 0.3, 4, 0.1
    schedule = StepDecay(lr, s, gamma)
    rate = lr
    for epoch in range(20):
        if epoch > 0 and epoch % s == 0:
            rate *= gamma  # one multiplication every s epochs
        assert schedule(epoch) == pytest.approx(rate, rel=1e-12)
    assert StepDecay(0.2, 1, 0.5)(3) == pytest.approx(0.025)  # step_size 1: every epoch
    assert StepDecay(0.2, 5)(5) == pytest.approx(0.02)  # default gamma 0.1


def test_exponential_decay_follows_its_formula():
    schedule = ExponentialDecay(lr=0.2, gamma=0.9)
    rate = 0.2
    for epoch in range(30):
        assert schedule(epoch) == pytest.approx(rate, rel=1e-12), f"epoch {epoch}"
        rate *= 0.9
    assert [ExponentialDecay(1.0, 0.5)(t) for t in range(4)] == [1.0, 0.5, 0.25, 0.125]
    assert ExponentialDecay(0.1)(2) == pytest.approx(0.1 * 0.95**2)  # default gamma 0.95


def test_gamma_one_is_a_constant_rate():
    assert {StepDecay(0.05, 2, 1.0)(t) for t in range(10)} == {0.05}
    assert {ExponentialDecay(0.05, 1.0)(t) for t in range(10)} == {0.05}


BAD = [
    (lambda: StepDecay(0.0, 3), ValueError, "learning rate must be a finite number > 0, got 0.0"),
    (lambda: StepDecay(-0.1, 3), ValueError, "learning rate must be a finite number > 0, got -0.1"),
    (lambda: StepDecay(0.1, 0), ValueError, "step_size must be >= 1 epoch, got 0"),
    (lambda: StepDecay(0.1, -2), ValueError, "step_size must be >= 1 epoch, got -2"),
    (lambda: StepDecay(0.1, 2.5), TypeError, "step_size must be an int, got float"),
    (lambda: StepDecay(0.1, True), TypeError, "step_size must be an int, got bool"),
    (lambda: StepDecay(0.1, 2, 0.0), ValueError, "gamma must be a finite number > 0, got 0.0"),
    (lambda: StepDecay(0.1, 2, -0.5), ValueError, "gamma must be a finite number > 0, got -0.5"),
    (lambda: StepDecay(0.1, 2, 1.5), ValueError, "gamma must be in (0, 1], got 1.5"),
    (lambda: ExponentialDecay(-1.0), ValueError, "learning rate must be a finite number > 0"),
    (
        lambda: ExponentialDecay(float("nan")),
        ValueError,
        "learning rate must be a finite number > 0, got nan",
    ),
    (lambda: ExponentialDecay(0.1, 0), ValueError, "gamma must be a finite number > 0, got 0"),
    (lambda: ExponentialDecay(0.1, 2.0), ValueError, "gamma must be in (0, 1], got 2.0"),
    (lambda: ExponentialDecay("0.1"), TypeError, "learning rate must be a number"),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_schedules_are_immutable():
    schedule = StepDecay(0.1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.lr = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------- in the training loop


class RecordingGD(GradientDescent):
    """Gradient descent that notes the learning rate of every step it takes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[float] = []

    def step(self) -> None:
        self.seen.append(self.lr)
        super().step()


def small_problem(n: int = 30):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)), rng.integers(0, 2, size=n)


@pytest.mark.parametrize(
    "schedule",
    [StepDecay(0.4, 2, 0.5), ExponentialDecay(0.3, 0.8), lambda epoch: 0.1 / (1 + epoch)],
    ids=["step decay", "exponential decay", "a plain function"],
)
def test_train_sets_the_learning_rate_before_each_epoch(schedule):
    X, y = small_problem(30)
    net = MLP([2, 4, 2], "tanh")
    opt = RecordingGD(net.parameters(), lr=123.0)  # never used: the schedule overrides it
    epochs, steps_per_epoch = 5, 3  # 30 examples, batches of 10
    train(net, X, y, optimizer=opt, epochs=epochs, batch_size=10, progress=False, schedule=schedule)
    expected = [schedule(epoch) for epoch in range(epochs) for _ in range(steps_per_epoch)]
    assert opt.seen == pytest.approx(expected, rel=1e-15)
    assert opt.lr == pytest.approx(schedule(epochs - 1), rel=1e-15)


def test_the_step_decay_rates_seen_by_the_optimiser_by_hand():
    X, y = small_problem(20)
    net = MLP([2, 3, 2], "tanh")
    opt = RecordingGD(net.parameters(), lr=1.0)
    schedule = StepDecay(0.8, 2, 0.5)
    train(net, X, y, optimizer=opt, epochs=5, batch_size=None, progress=False, schedule=schedule)
    assert opt.seen == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2], rel=1e-15)


def test_a_schedule_drives_any_optimiser():
    X, y = small_problem(16)
    net = MLP([2, 3, 2], "tanh")
    opt = Adam(net.parameters(), lr=1.0)
    train(net, X, y, optimizer=opt, epochs=4, progress=False, schedule=ExponentialDecay(0.01, 0.5))
    assert opt.lr == pytest.approx(0.01 * 0.5**3, rel=1e-15)


def test_without_a_schedule_the_learning_rate_is_left_alone():
    X, y = small_problem(16)
    net = MLP([2, 3, 2], "tanh")
    opt = RecordingGD(net.parameters(), lr=0.07)
    train(net, X, y, optimizer=opt, epochs=3, batch_size=8, progress=False)
    assert opt.seen == [0.07] * 6


def test_a_schedule_that_returns_an_invalid_rate_is_refused():
    X, y = small_problem(16)
    net = MLP([2, 3, 2], "tanh")
    with pytest.raises(ValueError, match=r"learning rate must be a finite number > 0, got -0.1"):
        train(net, X, y, epochs=2, progress=False, schedule=lambda epoch: -0.1)


def test_step_decay_takes_a_numpy_integer_step_size():
    assert StepDecay(0.1, np.int64(2), gamma=0.5)(4) == pytest.approx(0.025)
