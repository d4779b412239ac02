"""The 2-D test surfaces of lesson 08 (gradients by finite differences) and `trajectory`,
checked against hand-written update loops and the quadratic's stability limit η < 2/λ_max."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcourse.optim import Adam, GradientDescent, Momentum
from bpcourse.surfaces import (
    RACERS,
    SURFACES,
    Surface,
    get_surface,
    quadratic,
    race,
    rosenbrock,
    saddle,
    trajectory,
)

ALL = {
    "quadratic": quadratic(),
    "rotated quadratic": quadratic(0.5, 8.0, angle=0.6),
    "rosenbrock": rosenbrock(),
    "rosenbrock a=2 b=10": rosenbrock(a=2.0, b=10.0),
    "saddle": saddle(),
}


def central_difference(f, w: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        grad[i] = (f(w + e) - f(w - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("name", ALL)
def test_gradients_agree_with_central_differences(name):
    surface = ALL[name]
    rng = np.random.default_rng(0)
    for w in rng.uniform(-1.5, 1.5, size=(10, 2)):
        analytic = surface.grad(w)
        numeric = central_difference(surface.loss, w)
        error = np.linalg.norm(analytic - numeric) / max(
            np.linalg.norm(analytic), np.linalg.norm(numeric), 1e-300
        )
        assert analytic.shape == (2,) and analytic.dtype == np.float64
        assert error < 1e-7, (name, w, error)


@pytest.mark.parametrize("name", ALL)
def test_a_grid_gives_what_each_point_gives(name):
    surface = ALL[name]
    xs, ys = np.linspace(-1, 1, 4), np.linspace(-0.5, 2, 3)
    grid = np.stack(np.meshgrid(xs, ys))
    values, grads = surface.loss(grid), surface.grad(grid)
    assert values.shape == (3, 4) and grads.shape == (2, 3, 4)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            np.testing.assert_allclose(values[j, i], surface.loss(np.array([x, y])), rtol=1e-14)
            np.testing.assert_allclose(grads[:, j, i], surface.grad(np.array([x, y])), rtol=1e-14)


@pytest.mark.parametrize("name", ALL)
def test_the_minimum_is_where_the_gradient_vanishes(name):
    surface = ALL[name]
    w_star = np.array(surface.minimum)
    np.testing.assert_allclose(surface.grad(w_star), 0.0, atol=1e-12)
    assert surface(w_star) == pytest.approx(surface.minimum_value, abs=1e-12)
    assert surface.gap(w_star) == pytest.approx(0.0, abs=1e-12)
    assert float(surface.loss(np.array(surface.start))) > surface.minimum_value + 0.1


def test_the_quadratic_has_the_asked_eigenvalues_and_gradient_hw():
    surface = quadratic(2.0, 50.0, angle=0.3)
    assert surface.hessian is not None
    np.testing.assert_allclose(np.linalg.eigvalsh(surface.hessian), [2.0, 50.0])
    w = np.array([0.7, -1.1])
    np.testing.assert_allclose(surface.grad(w), surface.hessian @ w, rtol=1e-14)
    np.testing.assert_allclose(surface.loss(w), 0.5 * w @ surface.hessian @ w, rtol=1e-14)
    axis = quadratic(1.0, 20.0)
    assert axis.loss(np.array([1.0, 1.0])) == pytest.approx(0.5 * (1 + 20))


def test_the_saddle_has_a_saddle_at_the_origin():
    surface = saddle()
    np.testing.assert_array_equal(surface.grad(np.zeros(2)), [0.0, 0.0])
    h = 1e-4  # the loss rises along w1 and falls along w2
    assert surface.loss(np.array([h, 0.0])) > 0 > surface.loss(np.array([0.0, h]))


def test_trajectory_is_the_hand_written_gradient_descent_loop():
    surface = rosenbrock()
    lr, steps = 1e-3, 50
    w = np.array(surface.start)
    expected = [w.copy()]
    for _ in range(steps):
        w = w - lr * surface.grad(w)
        expected.append(w.copy())
    for spec in ("sgd", GradientDescent, lambda ps: GradientDescent(ps, lr=lr)):
        options = {} if callable(spec) and not isinstance(spec, type) else {"lr": lr}
        path = trajectory(surface, spec, steps, **options)
        np.testing.assert_allclose(path.points, expected, rtol=1e-13)
        np.testing.assert_allclose(path.losses, [surface.loss(p) for p in expected], rtol=1e-13)
        assert path.steps == steps and not path.diverged


def test_trajectory_momentum_and_adam_follow_their_equations():
    surface = quadratic()
    lr, beta, steps = 0.02, 0.8, 30
    w, v = np.array([0.5, -1.0]), np.zeros(2)
    for _ in range(steps):
        v = beta * v + surface.grad(w)
        w = w - lr * v
    path = trajectory(surface, Momentum, steps, start=(0.5, -1.0), lr=lr, momentum=beta)
    np.testing.assert_allclose(path.points[-1], w, rtol=1e-12)

    w, m, s = np.array([0.5, -1.0]), np.zeros(2), np.zeros(2)
    for t in range(1, steps + 1):
        g = surface.grad(w)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        w = w - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    path = trajectory(surface, "adam", steps, start=np.array([0.5, -1.0]), lr=0.1)
    np.testing.assert_allclose(path.points[-1], w, rtol=1e-10)
    assert isinstance(path.label, str) and "Adam" in path.label


def test_gradient_descent_on_the_quadratic_is_stable_exactly_below_2_over_lambda_max():
    surface = quadratic(1.0, 20.0)  # 2 / lambda_max = 0.1
    stable = trajectory(surface, "sgd", 300, lr=0.099)
    assert not stable.diverged and stable.final_loss < 1e-3 * stable.losses[0]
    growing = trajectory(surface, "sgd", 300, lr=0.101)  # |1 - 0.101 * 20| = 1.02 > 1
    assert growing.losses[-1] > 100 * growing.losses[0]
    unstable = trajectory(surface, "sgd", 300, lr=0.11)
    assert unstable.diverged and unstable.final_loss == math.inf
    assert np.all(np.isfinite(unstable.points)) and unstable.steps < 300
    # each step multiplies w2 by (1 - eta * 20): a sign flip every step (the zig-zag)
    zigzag = trajectory(surface, "sgd", 5, lr=0.09).points[:, 1]
    np.testing.assert_allclose(zigzag[1:] / zigzag[:-1], 1 - 0.09 * 20)


def test_race_runs_every_optimiser_from_one_start_with_one_learning_rate():
    paths = race("saddle", lr=0.05, beta=0.8, steps=20)
    assert list(paths) == list(RACERS)
    for label, path in paths.items():
        assert path.label == label and path.points.shape == (21, 2)
        np.testing.assert_array_equal(path.points[0], saddle().start)
    adam = trajectory("saddle", Adam, 20, lr=0.05, betas=(0.8, 0.999))
    np.testing.assert_array_equal(paths["Adam"].points, adam.points)
    nesterov = trajectory("saddle", "momentum", 20, lr=0.05, momentum=0.8, nesterov=True)
    np.testing.assert_array_equal(paths["Nesterov"].points, nesterov.points)
    rates = {"adam": 0.1, "Momentum": 0.01}
    some = race(quadratic(), lr=rates, steps=5, racers=("adam", "Momentum"))
    assert list(some) == ["Adam", "momentum"]


def test_surfaces_by_name():
    for name in SURFACES:
        assert isinstance(get_surface(name), Surface)
    surface = saddle()
    assert get_surface(surface) is surface
    assert "saddle" in repr(surface)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: get_surface("bowl"), ValueError, "valid names are: quadratic, rosenbrock"),
        (lambda: trajectory("saddle", "newton", 5, lr=0.1), ValueError, "unknown optimiser"),
        (lambda: trajectory("saddle", "sgd", 5, start=(1.0, 2.0, 3.0), lr=0.1), ValueError, "(3,)"),
        (lambda: trajectory("saddle", "sgd", -1, lr=0.1), ValueError, "steps"),
        (lambda: trajectory("saddle", "sgd", 5, lr=-0.1), ValueError, "learning rate"),
        (
            lambda: trajectory("saddle", lambda ps: GradientDescent(ps, lr=0.1), 5, lr=0.1),
            TypeError,
            "not a factory",
        ),
        (lambda: trajectory("saddle", lambda ps: ps, 5), TypeError, "not an Optimizer"),
        (lambda: saddle().loss(np.zeros(3)), ValueError, "2 coordinates"),
        (lambda: quadratic(0.0, 1.0), ValueError, "lambda_min"),
        (lambda: race("saddle", 0.1, racers=("LBFGS",)), ValueError, "unknown racer"),
    ],
)
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
