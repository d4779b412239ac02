r"""Momentum, Nesterov, AdaGrad, RMSProp and Adam against their published update equations.

Every optimiser runs on the quadratic $L(\theta) = \frac12\theta^\top A\theta - b^\top\theta$ with a
fixed symmetric positive-definite A, whose gradient is $A\theta - b$ and whose minimum is
$A^{-1}b$. The expected trajectories are written out here, step by step, from the papers and
PyTorch's documentation, never taken from the library:

- momentum (heavy ball), torch.optim.SGD:  v ← μv + g, θ ← θ − ηv;
  Nesterov: the same v, θ ← θ − η(g + μv);
- AdaGrad (Duchi et al. 2011), torch.optim.Adagrad:  G ← G + g², θ ← θ − ηg/(√G + ε);
- RMSProp (Hinton 2012), torch.optim.RMSprop:  s ← αs + (1−α)g², θ ← θ − ηg/(√s + ε);
- Adam (Kingma & Ba 2015, Algorithm 1):  m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − ηm̂/(√v̂ + ε).

Where PyTorch is installed, the trajectories are also compared with torch.optim's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from bpcourse.layers import Parameter
from bpcourse.network import MLP
from bpcourse.optim import (
    OPTIMIZERS,
    AdaGrad,
    Adam,
    GradientDescent,
    Momentum,
    Optimizer,
    RMSProp,
)

A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])  # SPD: eigenvalues 0.71..3.64
B = np.array([1.0, -2.0, 0.5])
THETA0 = np.array([0.5, 1.5, -1.0])
MINIMUM = np.linalg.solve(A, B)


def gradient(theta: np.ndarray) -> np.ndarray:
    return A @ theta - B


def loss(theta: np.ndarray) -> float:
    return float(0.5 * theta @ A @ theta - B @ theta)


def learning_rates(lr: float | Sequence[float], steps: int) -> list[float]:
    return [lr] * steps if isinstance(lr, (int, float)) else list(lr)


# ---------------------------------------------------------------- the published equations


def reference_gradient_descent(theta0, lr, steps):
    theta, path = theta0.copy(), []
    for eta in learning_rates(lr, steps):
        theta = theta - eta * gradient(theta)
        path.append(theta)
    return path


def reference_momentum(theta0, lr, steps, momentum, nesterov=False):
    theta, v, path = theta0.copy(), np.zeros_like(theta0), []
    for eta in learning_rates(lr, steps):
        g = gradient(theta)
        v = momentum * v + g  # torch.optim.SGD: the first step sets v = g, as mu*0 + g does
        theta = theta - eta * ((g + momentum * v) if nesterov else v)
        path.append(theta)
    return path


def reference_adagrad(theta0, lr, steps, eps=1e-10):
    theta, G, path = theta0.copy(), np.zeros_like(theta0), []
    for eta in learning_rates(lr, steps):
        g = gradient(theta)
        G = G + g**2
        theta = theta - eta * g / (np.sqrt(G) + eps)
        path.append(theta)
    return path


def reference_rmsprop(theta0, lr, steps, alpha=0.99, eps=1e-8):
    theta, s, path = theta0.copy(), np.zeros_like(theta0), []
    for eta in learning_rates(lr, steps):
        g = gradient(theta)
        s = alpha * s + (1 - alpha) * g**2
        theta = theta - eta * g / (np.sqrt(s) + eps)  # eps outside the square root
        path.append(theta)
    return path


def reference_adam(theta0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v, path = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0), []
    for t, eta in enumerate(learning_rates(lr, steps), start=1):
        g = gradient(theta)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - eta * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta)
    return path


def run_library(
    make: Callable[[list[Parameter]], Optimizer],
    theta0: np.ndarray,
    steps: int,
    lr: float | Sequence[float] | None = None,
) -> list[np.ndarray]:
    """The library optimiser's trajectory on the quadratic (lr changed per step if given)."""
    p = Parameter(theta0.copy(), "theta")
    opt = make([p])
    path = []
    for eta in learning_rates(lr, steps) if lr is not None else [None] * steps:
        if eta is not None:
            opt.lr = eta
        p.grad = gradient(p.value)
        opt.step()
        path.append(p.value.copy())
    return path


# (name, library factory, reference trajectory(theta0, lr, steps), lr used)
CASES = [
    (
        "gradient descent",
        lambda ps, lr: GradientDescent(ps, lr=lr),
        lambda t0, lr, n: reference_gradient_descent(t0, lr, n),
        0.2,
    ),
    (
        "momentum",
        lambda ps, lr: Momentum(ps, lr=lr, momentum=0.8),
        lambda t0, lr, n: reference_momentum(t0, lr, n, momentum=0.8),
        0.1,
    ),
    (
        "nesterov",
        lambda ps, lr: Momentum(ps, lr=lr, momentum=0.8, nesterov=True),
        lambda t0, lr, n: reference_momentum(t0, lr, n, momentum=0.8, nesterov=True),
        0.1,
    ),
    (
        "adagrad",
        lambda ps, lr: AdaGrad(ps, lr=lr),
        lambda t0, lr, n: reference_adagrad(t0, lr, n),
        0.3,
    ),
    (
        "adagrad eps 0.1",
        lambda ps, lr: AdaGrad(ps, lr=lr, eps=0.1),
        lambda t0, lr, n: reference_adagrad(t0, lr, n, eps=0.1),
        0.3,
    ),
    (
        "rmsprop",
        lambda ps, lr: RMSProp(ps, lr=lr),
        lambda t0, lr, n: reference_rmsprop(t0, lr, n),
        0.01,
    ),
    (
        "rmsprop alpha 0.9 eps 0.01",
        lambda ps, lr: RMSProp(ps, lr=lr, alpha=0.9, eps=0.01),
        lambda t0, lr, n: reference_rmsprop(t0, lr, n, alpha=0.9, eps=0.01),
        0.05,
    ),
    (
        "adam",
        lambda ps, lr: Adam(ps, lr=lr),
        lambda t0, lr, n: reference_adam(t0, lr, n),
        0.1,
    ),
    (
        "adam betas 0.8 0.95 eps 0.001",
        lambda ps, lr: Adam(ps, lr=lr, betas=(0.8, 0.95), eps=1e-3),
        lambda t0, lr, n: reference_adam(t0, lr, n, beta1=0.8, beta2=0.95, eps=1e-3),
        0.1,
    ),
]
CASE_IDS = [case[0] for case in CASES]


@pytest.mark.parametrize(("name", "make", "reference", "lr"), CASES, ids=CASE_IDS)
def test_steps_follow_the_published_equations(name, make, reference, lr):
    steps = 12
    ours = run_library(lambda ps: make(ps, lr), THETA0, steps)
    expected = reference(THETA0, lr, steps)
    for t, (got, want) in enumerate(zip(ours, expected, strict=True), start=1):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{name}, step {t}")
    assert not np.allclose(ours[-1], THETA0)  # the steps really moved


@pytest.mark.parametrize(("name", "make", "reference", "lr"), CASES, ids=CASE_IDS)
def test_changing_the_learning_rate_between_steps_takes_effect(name, make, reference, lr):
    rates = [lr, lr, lr / 2, lr / 2, lr * 1.5, lr / 10, lr]
    ours = run_library(lambda ps: make(ps, lr), THETA0, len(rates), lr=rates)
    expected = reference(THETA0, rates, len(rates))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    constant = reference(THETA0, lr, len(rates))
    assert not np.allclose(ours[-1], constant[-1], rtol=1e-6, atol=0)  # the rate mattered


def test_the_first_two_momentum_steps_by_hand():
    # theta0 = (0.5, 1.5, -1.0): g1 = A theta0 - b = (3.0, 3.0, -0.25) - b = (2.0, 5.0, -0.75)
    g1 = np.array([2.0, 5.0, -0.75])
    np.testing.assert_allclose(gradient(THETA0), g1, atol=1e-15)
    lr, mu = 0.1, 0.8
    theta1 = THETA0 - lr * g1  # v1 = g1
    g2 = A @ theta1 - B
    v2 = mu * g1 + g2
    theta2 = theta1 - lr * v2
    heavy = run_library(lambda ps: Momentum(ps, lr=lr, momentum=mu), THETA0, 2)
    np.testing.assert_allclose(heavy, [theta1, theta2], atol=1e-15)
    nesterov_theta1 = THETA0 - lr * (g1 + mu * g1)  # g + mu*v with v1 = g1
    nest = run_library(lambda ps: Momentum(ps, lr=lr, momentum=mu, nesterov=True), THETA0, 1)
    np.testing.assert_allclose(nest[0], nesterov_theta1, atol=1e-15)


def test_nesterov_differs_from_heavy_ball():
    heavy = run_library(lambda ps: Momentum(ps, lr=0.1, momentum=0.9), THETA0, 20)
    nesterov = run_library(lambda ps: Momentum(ps, lr=0.1, momentum=0.9, nesterov=True), THETA0, 20)
    for t in range(20):
        assert not np.allclose(heavy[t], nesterov[t], rtol=1e-6, atol=0), f"step {t + 1}"
    # Looking ahead damps the oscillation: after 20 steps Nesterov is nearer the minimum.
    assert loss(nesterov[-1]) < loss(heavy[-1])


def test_the_first_adam_step_has_magnitude_lr_in_every_coordinate():
    # Bias correction: m1_hat = g and v1_hat = g**2, so the first step is lr * g / (|g| + eps),
    # lr in every coordinate whatever the scale of its gradient.
    lr = 0.01
    p = Parameter(np.array([1.0, -2.0, 3.0, 0.5]), "w")
    p.grad = np.array([1e-3, -1.0, 1e3, 5.0])
    start = p.value.copy()
    Adam([p], lr=lr).step()
    step = p.value - start
    np.testing.assert_allclose(np.abs(step), lr, rtol=2e-5)
    np.testing.assert_array_equal(np.sign(step), -np.sign(p.grad))
    # Without the correction it would have been lr (1-b1)|g| / sqrt((1-b2) g^2) = 3.16 lr.
    uncorrected = lr * 0.1 / math.sqrt(0.001)
    assert uncorrected == pytest.approx(3.1623 * lr, rel=1e-4)
    assert np.all(np.abs(step) < uncorrected / 3)


def test_the_first_rmsprop_and_adagrad_steps_by_hand():
    g = np.array([0.5, -4.0])
    p = Parameter(np.zeros(2), "w")
    p.grad = g.copy()
    RMSProp([p], lr=0.01).step()  # s1 = 0.01 g^2: step = lr g / (0.1 |g| + eps) = 0.1 sign(g)
    np.testing.assert_allclose(p.value, -0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(p.value, [-0.1, 0.1], rtol=1e-6)
    q = Parameter(np.zeros(2), "w")
    q.grad = g.copy()
    AdaGrad([q], lr=0.5).step()  # G1 = g^2: step = lr sign(g) (up to eps)
    np.testing.assert_allclose(q.value, [-0.5, 0.5], rtol=1e-9)


# ---------------------------------------------------------------- convergence


def rmsprop_rates(steps: int) -> list[float]:
    # RMSProp with a constant rate hovers about lr/2 from the minimum (its steps do not shrink
    # as g -> 0: g/sqrt(s) stays of order 1); with a decaying rate it converges.
    return [0.02 * 0.5 ** (t // 150) for t in range(steps)]


CONVERGENCE = [
    ("gradient descent", lambda ps: GradientDescent(ps, lr=0.3), 200, None),
    ("momentum", lambda ps: Momentum(ps, lr=0.1, momentum=0.9), 500, None),
    ("nesterov", lambda ps: Momentum(ps, lr=0.1, momentum=0.9, nesterov=True), 500, None),
    ("adagrad", lambda ps: AdaGrad(ps, lr=0.5), 1000, None),
    ("rmsprop, decaying rate", lambda ps: RMSProp(ps, lr=0.02), 3000, rmsprop_rates(3000)),
    ("adam", lambda ps: Adam(ps, lr=0.05), 2000, None),
]


@pytest.mark.parametrize(
    ("name", "make", "steps", "rates"), CONVERGENCE, ids=[c[0] for c in CONVERGENCE]
)
def test_every_optimiser_converges_to_the_minimum_of_the_quadratic(name, make, steps, rates):
    path = run_library(make, THETA0, steps, lr=rates)
    np.testing.assert_allclose(path[-1], MINIMUM, atol=1e-8, err_msg=name)
    np.testing.assert_allclose(gradient(path[-1]), 0, atol=1e-7)


# ---------------------------------------------------------------- state, dtype, arguments


ALL = {
    "gradient descent": lambda ps: GradientDescent(ps, lr=0.1),
    "momentum": lambda ps: Momentum(ps, lr=0.1, momentum=0.9),
    "nesterov": lambda ps: Momentum(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adagrad": lambda ps: AdaGrad(ps, lr=0.1),
    "rmsprop": lambda ps: RMSProp(ps, lr=0.01),
    "adam": lambda ps: Adam(ps, lr=0.01),
}


def two_parameters(seed: int, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [
        Parameter(rng.normal(size=(3, 2)).astype(dtype), "dense.W"),
        Parameter(rng.normal(size=3).astype(dtype), "dense.b"),
    ]


def set_gradients(params: list[Parameter], step: int) -> None:
    """Deterministic, different gradients for each parameter and step (a 'loss' x^2 + c x)."""
    for k, p in enumerate(params):
        c = np.cos(step + k + np.arange(p.value.size)).reshape(p.shape)
        p.grad = (2 * p.value + c).astype(p.value.dtype)


@pytest.mark.parametrize("name", list(ALL))
def test_state_is_kept_per_parameter(name):
    # One optimiser over two parameters must do what two optimisers, one per parameter, do.
    together = two_parameters(0)
    apart = two_parameters(0)
    opt = ALL[name](together)
    separate = [ALL[name]([p]) for p in apart]
    for step in range(6):
        set_gradients(together, step)
        set_gradients(apart, step)
        opt.step()
        for o in separate:
            o.step()
    for p, q in zip(together, apart, strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    states = [opt.state[id(p)] for p in together]
    assert set(opt.state) == {id(p) for p in together}
    for key in states[0]:  # each parameter has its own arrays, of its own shape
        assert states[0][key] is not states[1][key]
        assert [s[key].shape for s in states] == [p.shape for p in together]


def test_momentum_and_adam_state_holds_the_published_quantities():
    p = Parameter(np.zeros(2), "w")
    momentum, adam = Momentum([p], lr=0.1, momentum=0.5), Adam([p], lr=0.1)
    g1, g2 = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    for g in (g1, g2):
        p.grad = g.copy()
        momentum.step()
        adam.step()
    np.testing.assert_allclose(momentum.state[id(p)]["velocity"], 0.5 * g1 + g2, atol=1e-15)
    np.testing.assert_allclose(adam.state[id(p)]["m"], 0.9 * 0.1 * g1 + 0.1 * g2, atol=1e-15)
    np.testing.assert_allclose(
        adam.state[id(p)]["v"], 0.999 * 0.001 * g1**2 + 0.001 * g2**2, atol=1e-15
    )


@pytest.mark.parametrize("name", list(ALL))
def test_float32_parameters_stay_float32(name):
    params32 = two_parameters(1, np.float32)
    params64 = two_parameters(1, np.float64)
    arrays = [p.value for p in params32]
    opt32, opt64 = ALL[name](params32), ALL[name](params64)
    for step in range(5):
        set_gradients(params32, step)
        set_gradients(params64, step)
        opt32.step()
        opt64.step()
        for p in params32:
            assert p.value.dtype == np.float32, f"{p.name} became {p.value.dtype}"
    for p, array in zip(params32, arrays, strict=True):
        assert p.value is array  # updated in place
    for p, q in zip(params32, params64, strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-4, atol=1e-5)
    for state in opt32.state.values():
        assert all(a.dtype == np.float32 for a in state.values())


@pytest.mark.parametrize("name", list(ALL))
def test_steps_update_in_place_and_count(name):
    params = two_parameters(2)
    arrays = [p.value for p in params]
    opt = ALL[name](params)
    for step in range(3):
        set_gradients(params, step)
        opt.step()
    assert opt.steps == 3
    assert all(p.value is a for p, a in zip(params, arrays, strict=True))


def test_the_optimizers_table():
    assert OPTIMIZERS["sgd"] is GradientDescent
    assert OPTIMIZERS["gradient_descent"] is GradientDescent
    assert OPTIMIZERS["momentum"] is Momentum
    assert OPTIMIZERS["adagrad"] is AdaGrad
    assert OPTIMIZERS["rmsprop"] is RMSProp
    assert OPTIMIZERS["adam"] is Adam
    for cls in OPTIMIZERS.values():
        opt = cls(two_parameters(3), lr=0.01)
        assert isinstance(opt, Optimizer)
        assert repr(opt) == f"{cls.__name__}(lr=0.01)"


def test_published_defaults():
    ps = two_parameters(4)
    assert (Momentum(ps, lr=0.1).momentum, Momentum(ps, lr=0.1).nesterov) == (0.9, False)
    adagrad, rmsprop, adam = AdaGrad(ps), RMSProp(ps), Adam(ps)
    assert (adagrad.lr, adagrad.eps) == (0.01, 1e-10)  # torch.optim.Adagrad
    assert (rmsprop.lr, rmsprop.alpha, rmsprop.eps) == (0.01, 0.99, 1e-8)  # torch.optim.RMSprop
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps) == (0.001, 0.9, 0.999, 1e-8)  # the paper


BAD = [
    (
        lambda ps: Momentum(ps, lr=-0.1),
        "Momentum: learning rate must be a finite number > 0, got -0.1",
    ),
    (lambda ps: AdaGrad(ps, lr=-1), "AdaGrad: learning rate must be a finite number > 0, got -1"),
    (lambda ps: RMSProp(ps, lr=0), "RMSProp: learning rate must be a finite number > 0, got 0"),
    (lambda ps: Adam(ps, lr=-0.001), "Adam: learning rate must be a finite number > 0, got -0.001"),
    (lambda ps: Momentum(ps, lr=0.1, momentum=1.0), "momentum must be in [0, 1), got 1.0"),
    (lambda ps: Momentum(ps, lr=0.1, momentum=1.5), "momentum must be in [0, 1), got 1.5"),
    (
        lambda ps: Momentum(ps, lr=0.1, momentum=-0.1),
        "momentum must be a finite number >= 0, got -0.1",
    ),
    (
        lambda ps: Momentum(ps, lr=0.1, momentum=float("nan")),
        "momentum must be a finite number >= 0, got nan",
    ),
    (lambda ps: RMSProp(ps, alpha=1.0), "alpha must be in [0, 1), got 1.0"),
    (lambda ps: RMSProp(ps, alpha=-0.5), "alpha must be a finite number >= 0, got -0.5"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), "beta1 must be in [0, 1), got 1.0"),
    (lambda ps: Adam(ps, betas=(-0.1, 0.999)), "beta1 must be a finite number >= 0, got -0.1"),
    (lambda ps: Adam(ps, betas=(0.9, 1.0)), "beta2 must be in [0, 1), got 1.0"),
    (lambda ps: Adam(ps, betas=(0.9, 2)), "beta2 must be in [0, 1), got 2.0"),
    (lambda ps: Adam(ps, betas=(0.9, -0.999)), "beta2 must be a finite number >= 0, got -0.999"),
    (lambda ps: Adam(ps, eps=0), "eps must be a finite number > 0, got 0"),
    (lambda ps: Adam(ps, eps=-1e-8), "eps must be a finite number > 0, got -1e-08"),
    (lambda ps: AdaGrad(ps, eps=0.0), "eps must be a finite number > 0, got 0.0"),
    (lambda ps: RMSProp(ps, eps=-1.0), "eps must be a finite number > 0, got -1.0"),
    (lambda ps: RMSProp(ps, eps=float("inf")), "eps must be a finite number > 0, got inf"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_hyper_parameters_are_refused_naming_the_value(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make(two_parameters(5))


@pytest.mark.parametrize("name", list(ALL))
def test_a_refused_learning_rate_leaves_the_old_one(name):
    opt = ALL[name](two_parameters(6))
    before = opt.lr
    with pytest.raises(ValueError, match=r"learning rate must be a finite number > 0, got -0.5"):
        opt.lr = -0.5
    assert opt.lr == before


def test_zero_momentum_and_zero_betas_are_allowed():
    # momentum 0 is plain gradient descent; beta1 = 0 makes Adam RMSProp-like, with correction.
    p, q = Parameter(np.ones(2), "w"), Parameter(np.ones(2), "w")
    p.grad = q.grad = np.array([0.5, -1.0])
    Momentum([p], lr=0.1, momentum=0).step()
    GradientDescent([q], lr=0.1).step()
    np.testing.assert_array_equal(p.value, q.value)
    r = Parameter(np.ones(2), "w")
    r.grad = np.array([0.5, -1.0])
    Adam([r], lr=0.1, betas=(0.0, 0.0)).step()  # m = g, v = g^2: a sign step
    np.testing.assert_allclose(r.value, [0.9, 1.1], rtol=1e-7)


# ---------------------------------------------------------------- against PyTorch


TORCH_CASES = [
    # (name, our optimiser, torch optimiser class name and keyword arguments, steps)
    (
        "SGD momentum",
        lambda ps: Momentum(ps, lr=0.1, momentum=0.9),
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        40,
    ),
    (
        "SGD nesterov",
        lambda ps: Momentum(ps, lr=0.1, momentum=0.9, nesterov=True),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        40,
    ),
    ("Adagrad defaults", lambda ps: AdaGrad(ps), ("Adagrad", {}), 40),
    ("Adagrad lr 0.5", lambda ps: AdaGrad(ps, lr=0.5), ("Adagrad", {"lr": 0.5}), 40),
    ("RMSprop defaults", lambda ps: RMSProp(ps), ("RMSprop", {}), 40),
    (
        "RMSprop alpha 0.9",
        lambda ps: RMSProp(ps, lr=0.05, alpha=0.9),
        ("RMSprop", {"lr": 0.05, "alpha": 0.9}),
        40,
    ),
    ("Adam defaults", lambda ps: Adam(ps), ("Adam", {}), 40),
    ("Adam lr 0.1", lambda ps: Adam(ps, lr=0.1), ("Adam", {"lr": 0.1}), 40),
]


@pytest.mark.parametrize(
    ("name", "make", "torch_spec", "steps"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES]
)
def test_trajectories_agree_with_torch_optim(name, make, torch_spec, steps):
    torch = pytest.importorskip("torch")
    cls_name, kwargs = torch_spec
    theta = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    A_t = torch.tensor(A, dtype=torch.float64)
    B_t = torch.tensor(B, dtype=torch.float64)
    opt = getattr(torch.optim, cls_name)([theta], **kwargs)
    theirs = []
    for _ in range(steps):
        opt.zero_grad()
        value = 0.5 * theta @ A_t @ theta - B_t @ theta
        value.backward()
        opt.step()
        theirs.append(theta.detach().numpy().copy())
    ours = run_library(make, THETA0, steps)
    for t, (got, want) in enumerate(zip(ours, theirs, strict=True), start=1):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, err_msg=f"{name}, step {t}")
    assert not np.allclose(ours[-1], THETA0, rtol=1e-3)


# --- gradient descent and the optimiser interface (was tests/test_optim.py) -----------------


def parameters_with_gradients(seed: int = 0, dtype=np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    params = [
        Parameter(rng.normal(size=(3, 2)).astype(dtype), "W"),
        Parameter(rng.normal(size=3).astype(dtype), "b"),
    ]
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(dtype)
    return params


def test_one_step_is_w_minus_eta_times_gradient_for_every_parameter():
    params = parameters_with_gradients()
    before = [(p.value.copy(), p.grad.copy()) for p in params]
    opt = GradientDescent(params, lr=0.3)
    opt.step()
    for p, (value, grad) in zip(params, before, strict=True):
        for idx in np.ndindex(*p.shape):  # entry by entry, as the update table reads
            assert p.value[idx] == pytest.approx(value[idx] - 0.3 * grad[idx], abs=1e-15)
        np.testing.assert_array_equal(p.grad, grad)  # the step reads gradients, never changes them
    assert opt.steps == 1


def test_steps_update_in_place_and_accumulate():
    params = parameters_with_gradients(1)
    arrays = [p.value for p in params]
    start = [p.value.copy() for p in params]
    opt = GradientDescent(params, lr=0.1)
    for _ in range(3):
        opt.step()
    for p, array, value in zip(params, arrays, start, strict=True):
        assert p.value is array  # in place: a network holding the array sees the update
        np.testing.assert_allclose(p.value, value - 3 * 0.1 * p.grad, atol=1e-14)
    assert opt.steps == 3


def test_changing_the_learning_rate_between_steps_takes_effect_in_gradient_descent():
    (p,) = parameters_with_gradients(2)[:1]
    start = p.value.copy()
    opt = GradientDescent([p], lr=0.1)
    opt.step()
    opt.lr = 0.5
    opt.step()
    np.testing.assert_allclose(p.value, start - 0.6 * p.grad, atol=1e-14)
    assert opt.lr == 0.5 and isinstance(opt.lr, float)


def test_a_step_on_a_network_lowers_the_loss():
    rng = np.random.default_rng(3)
    net = MLP([4, 8, 3], "tanh")
    X, y = rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)
    opt = GradientDescent(net.parameters(), lr=0.05)
    before = net.loss_and_backward(X, y)
    expected = {p.name: p.value - 0.05 * p.grad for p in net.parameters()}
    opt.step()
    for p in net.parameters():
        np.testing.assert_allclose(p.value, expected[p.name], atol=1e-15)
    assert net.loss_and_backward(X, y) < before


def test_float32_parameters_stay_float32_in_gradient_descent():
    params = parameters_with_gradients(4, dtype=np.float32)
    GradientDescent(params, lr=0.1).step()
    assert all(p.value.dtype == np.float32 for p in params)


def test_zero_grad_zeroes_every_gradient():
    params = parameters_with_gradients(5)
    opt = GradientDescent(params, lr=0.1)
    opt.zero_grad()
    assert all(not p.grad.any() for p in params)
    values = [p.value.copy() for p in params]
    opt.step()  # a zero gradient changes nothing
    for p, value in zip(params, values, strict=True):
        np.testing.assert_array_equal(p.value, value)


def test_parameters_may_come_from_a_generator():
    net = MLP([2, 3, 1])
    opt = GradientDescent((p for p in net.parameters()), lr=0.1)
    assert opt.params == net.parameters()
    assert repr(opt) == "GradientDescent(lr=0.1)"


def test_a_new_optimiser_keeps_state_per_parameter():
    class Momentum(Optimizer):
        def update(self, p, state):
            state["v"] = 0.9 * state.get("v", 0) + p.grad
            p.value -= self.lr * state["v"]

    params = parameters_with_gradients(6)
    start = [p.value.copy() for p in params]
    opt = Momentum(params, lr=0.1)
    opt.step()
    opt.step()
    for p, value in zip(params, start, strict=True):  # v1 = g, v2 = 1.9 g
        np.testing.assert_allclose(p.value, value - 0.1 * (1 + 1.9) * p.grad, atol=1e-14)
        np.testing.assert_allclose(opt.state[id(p)]["v"], 1.9 * p.grad, atol=1e-14)


def test_the_base_class_has_no_update_rule():
    with pytest.raises(NotImplementedError):
        Optimizer(parameters_with_gradients(), lr=0.1).step()


@pytest.mark.parametrize("lr", [-0.1, 0, 0.0, float("nan"), float("inf"), -float("inf")])
def test_invalid_learning_rates_are_refused(lr):
    with pytest.raises(
        ValueError, match=r"GradientDescent: learning rate must be a finite number > 0"
    ):
        GradientDescent(parameters_with_gradients(), lr=lr)
    opt = GradientDescent(parameters_with_gradients(), lr=0.1)
    with pytest.raises(ValueError, match=r"learning rate must be a finite number > 0"):
        opt.lr = lr
    assert opt.lr == 0.1  # a refused value leaves the old one


@pytest.mark.parametrize("lr", ["0.1", None, True, [0.1]])
def test_non_numeric_learning_rates_are_refused(lr):
    with pytest.raises(TypeError, match="learning rate must be a number"):
        GradientDescent(parameters_with_gradients(), lr=lr)


def test_no_parameters_is_refused():
    with pytest.raises(ValueError, match="GradientDescent was given no parameters"):
        GradientDescent([], lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        GradientDescent(iter(()), lr=0.1)


def test_arrays_instead_of_parameters_are_refused():
    with pytest.raises(TypeError, match=r"needs Parameters \(net.parameters\(\)\), got ndarray"):
        GradientDescent([np.zeros(3)], lr=0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_gradient_descent_updates_in_place_in_every_dtype_and_layout(dtype, layout):
    """One pass (BLAS axpy) for contiguous float32/64; NumPy for the rest: the same step."""
    rng = np.random.default_rng(0)
    value = rng.standard_normal((4, 3)).astype(dtype)
    grad = rng.standard_normal((4, 3)).astype(dtype)
    if layout == "transposed":
        value, grad = value.T, grad.T
    p = Parameter(value, "w")
    p.grad = grad
    expected = value.astype(np.float64) - 0.1 * grad.astype(np.float64)
    GradientDescent([p], lr=0.1).step()
    assert p.value is value and p.value.dtype == dtype  # updated in place
    tol = {np.float16: 2e-3, np.float32: 1e-6, np.float64: 1e-15}[dtype]
    np.testing.assert_allclose(p.value, expected, rtol=tol, atol=tol)
