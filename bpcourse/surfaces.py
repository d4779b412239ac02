r"""Two-dimensional test surfaces, and the path an optimiser from `bpcourse.optim` takes on one.

Lesson 08 races the optimisers on three classic surfaces of a point $w = (w_1, w_2)$:

| surface | $\mathcal L(w)$ | what it tests |
|---|---|---|
| `quadratic(1, 20)` | $\tfrac12 w^\top H w$, eigenvalues of $H$ 1 and 20 | a narrow valley |
| `rosenbrock()` | $(a - w_1)^2 + b\,(w_2 - w_1^2)^2$ | a curved, flat-bottomed valley |
| `saddle()` | $\tfrac12 w_1^2 + \tfrac14 w_2^4 - \tfrac12 w_2^2$ | escaping a saddle point at 0 |

    surface = rosenbrock()
    path = trajectory(surface, "adam", steps=200, lr=0.05)   # or Momentum, or a factory
    path.points      # (K + 1, 2): w_0 .. w_K
    path.losses      # (K + 1,):  the loss at each point

A `Surface`'s `loss` and `grad` take one point of shape (2,) or a whole grid of shape
(2, ny, nx) (as `bpcourse.plots.descent.plot_path_on_contours` passes it), and return a number
(or an (ny, nx) array) and an array of the point's shape. `trajectory` wraps the point in a
`bpcourse.layers.Parameter`, so the optimiser is exactly the one that trains networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from bpcourse.layers import Parameter
from bpcourse.optim import OPTIMIZERS, Optimizer
from bpcourse.validation import as_float_array, check_int, check_positive, lookup

__all__ = [
    "DIVERGED",
    "RACERS",
    "SURFACES",
    "Surface",
    "Trajectory",
    "get_surface",
    "quadratic",
    "race",
    "rosenbrock",
    "saddle",
    "trajectory",
]

DIVERGED = 1e6  # a coordinate this large (or not finite) ends a path: the optimiser diverged


@dataclass(frozen=True)
class Surface:
    """A loss $\\mathcal L(w)$ of a point $w$ of shape (2,), its gradient, and where to look.

    `loss(w)` and `grad(w)` also accept a grid of shape (2, ny, nx). `minimum` is the
    global minimiser (one of them, for the saddle), `minimum_value` the loss there, `start`
    the point the lesson starts from, `xlim`/`ylim` the region worth drawing, `hessian` the
    constant Hessian $H$ of a quadratic (None for the others).
    """

    name: str
    formula: str
    loss: Callable[[np.ndarray], Any]
    grad: Callable[[np.ndarray], np.ndarray]
    minimum: tuple[float, float]
    minimum_value: float
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    hessian: np.ndarray | None = None

    def __call__(self, w: np.ndarray) -> Any:
        return self.loss(w)

    def gap(self, w: np.ndarray) -> Any:
        r"""$\mathcal L(w) - \mathcal L(w^*)$, never below 0: what a log scale can show."""
        return np.maximum(np.asarray(self.loss(w), dtype=float) - self.minimum_value, 0.0)

    def __repr__(self) -> str:
        return f"Surface({self.name!r}: {self.formula})"


def _point(w: Any) -> np.ndarray:
    """w as a float array whose first axis holds the two coordinates."""
    w = as_float_array(w, "w")
    if w.ndim == 0 or w.shape[0] != 2:
        raise ValueError(f"w must have 2 coordinates on its first axis, got shape {w.shape}")
    return w


def quadratic(lambda_min: float = 1.0, lambda_max: float = 20.0, angle: float = 0.0) -> Surface:
    r"""$\mathcal L(w) = \tfrac12 w^\top H w$ with eigenvalues `lambda_min`, `lambda_max` of $H$.

    The eigenvector of `lambda_min` points along `angle` (radians) from the $w_1$ axis, so
    `angle=0` gives $\tfrac12(\lambda_{min} w_1^2 + \lambda_{max} w_2^2)$. Gradient $H w$.
    """
    low = check_positive(lambda_min, "lambda_min")
    high = check_positive(lambda_max, "lambda_max")
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    H = rotation @ np.diag([low, high]) @ rotation.T
    h11, h12, h22 = float(H[0, 0]), float(H[0, 1]), float(H[1, 1])

    def loss(w: np.ndarray) -> Any:
        w = _point(w)
        return 0.5 * (h11 * w[0] ** 2 + 2 * h12 * w[0] * w[1] + h22 * w[1] ** 2)

    def grad(w: np.ndarray) -> np.ndarray:
        w = _point(w)
        return np.stack([h11 * w[0] + h12 * w[1], h12 * w[0] + h22 * w[1]])

    formula = r"\frac{1}{2}\,w^\top H w"
    if angle == 0:
        formula = rf"\frac{{1}}{{2}}\left({low:g}\,w_1^2 + {high:g}\,w_2^2\right)"
    start = rotation @ np.array([-3.0, 1.0])
    return Surface(
        name=f"quadratic (eigenvalues {low:g}, {high:g})",
        formula=formula,
        loss=loss,
        grad=grad,
        minimum=(0.0, 0.0),
        minimum_value=0.0,
        start=(float(start[0]), float(start[1])),
        xlim=(-3.5, 3.5),
        ylim=(-1.5, 1.5) if angle == 0 else (-3.5, 3.5),
        hessian=H,
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana valley $\mathcal L(w) = (a - w_1)^2 + b\,(w_2 - w_1^2)^2$.

    Gradient $\big(-2(a - w_1) - 4 b\, w_1 (w_2 - w_1^2),\; 2 b\,(w_2 - w_1^2)\big)$; the
    minimum is 0 at $(a, a^2)$, at the end of a long, curved, almost flat valley floor.
    """
    a = float(a)
    b = check_positive(b, "b")

    def loss(w: np.ndarray) -> Any:
        w = _point(w)
        return (a - w[0]) ** 2 + b * (w[1] - w[0] ** 2) ** 2

    def grad(w: np.ndarray) -> np.ndarray:
        w = _point(w)
        valley = w[1] - w[0] ** 2
        return np.stack([-2 * (a - w[0]) - 4 * b * w[0] * valley, 2 * b * valley])

    return Surface(
        name="Rosenbrock",
        formula=rf"({a:g} - w_1)^2 + {b:g}\,(w_2 - w_1^2)^2",
        loss=loss,
        grad=grad,
        minimum=(a, a * a),
        minimum_value=0.0,
        start=(-1.2, 1.0),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
    )


def saddle() -> Surface:
    r"""$\mathcal L(w) = \tfrac12 w_1^2 + \tfrac14 w_2^4 - \tfrac12 w_2^2$: a saddle at 0.

    Gradient $(w_1,\; w_2^3 - w_2)$. At the origin the gradient is 0 and the Hessian is
    diag(1, -1): a minimum along $w_1$, a maximum along $w_2$. The two minima, $(0, \pm 1)$
    with loss $-\tfrac14$, are reached only by moving away from $w_2 = 0$, where the
    gradient is tiny.
    """

    def loss(w: np.ndarray) -> Any:
        w = _point(w)
        return 0.5 * w[0] ** 2 + 0.25 * w[1] ** 4 - 0.5 * w[1] ** 2

    def grad(w: np.ndarray) -> np.ndarray:
        w = _point(w)
        return np.stack([w[0], w[1] ** 3 - w[1]])

    return Surface(
        name="saddle",
        formula=r"\frac{1}{2}w_1^2 + \frac{1}{4}w_2^4 - \frac{1}{2}w_2^2",
        loss=loss,
        grad=grad,
        minimum=(0.0, 1.0),
        minimum_value=-0.25,
        start=(-1.8, 0.01),
        xlim=(-2.0, 2.0),
        ylim=(-1.5, 1.5),
    )


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
}


def get_surface(surface: str | Surface) -> Surface:
    """A Surface by name ('quadratic', 'rosenbrock', 'saddle'), or the Surface itself."""
    if isinstance(surface, Surface):
        return surface
    return lookup(surface, SURFACES, "surface")()


@dataclass
class Trajectory:
    """The points an optimiser visited: `points` (K + 1, 2), `losses` (K + 1,).

    `diverged` is True when the path was stopped early because a coordinate became
    non-finite or larger than `DIVERGED`; the offending point is not kept.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool
    label: str = ""

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final_loss(self) -> float:
        """The loss at the last point, or infinity if the optimiser diverged."""
        return math.inf if self.diverged else float(self.losses[-1])


OptimizerSpec = str | type[Optimizer] | Callable[[list[Parameter]], Optimizer]


def _make_optimizer(
    optimizer: OptimizerSpec, params: list[Parameter], options: dict[str, Any]
) -> Optimizer:
    if isinstance(optimizer, str):
        return lookup(optimizer, OPTIMIZERS, "optimiser")(params, **options)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer(params, **options)
    if options:
        raise TypeError(
            f"options {sorted(options)} go with an optimiser's name or class, not a factory"
        )
    factory = cast(Callable[[list[Parameter]], Any], optimizer)
    made = factory(params)
    if not isinstance(made, Optimizer):
        raise TypeError(f"the optimiser factory returned {type(made).__name__}, not an Optimizer")
    return made


def trajectory(
    surface: str | Surface,
    optimizer: OptimizerSpec,
    steps: int,
    start: tuple[float, float] | np.ndarray | None = None,
    label: str = "",
    **options: Any,
) -> Trajectory:
    """Run an optimiser from `bpcourse.optim` for `steps` steps on a surface, from `start`.

    `optimizer` is a name of `bpcourse.optim.OPTIMIZERS` ('sgd', 'momentum', 'adagrad',
    'rmsprop', 'adam') or an Optimizer class, with its keyword `options` (lr=..., momentum=...,
    nesterov=..., betas=...), or a factory `params -> Optimizer`. The point is one float64
    `Parameter` of shape (2,); each step sets its gradient from `surface.grad` and calls
    `optimizer.step()`. `start` defaults to the surface's own start.

    Returns a Trajectory with points (K + 1, 2), K = steps unless the path diverged.
    """
    surface = get_surface(surface)
    steps = check_int(steps, "steps", minimum=0)
    point = as_float_array(surface.start if start is None else start, "start", dtype=np.float64)
    if point.shape != (2,):
        raise ValueError(f"start must be a point of shape (2,), got shape {point.shape}")
    param = Parameter(point.copy(), name="w")
    opt = _make_optimizer(optimizer, [param], dict(options))
    points = [param.value.copy()]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            param.grad[...] = surface.grad(param.value)
            opt.step()
            if not np.all(np.isfinite(param.value)) or np.max(np.abs(param.value)) > DIVERGED:
                diverged = True
                break
            points.append(param.value.copy())
    path = np.array(points)
    losses = np.array([float(surface.loss(w)) for w in path])
    return Trajectory(points=path, losses=losses, diverged=diverged, label=label or repr(opt))


# The optimisers of lesson 08, by label: (name in bpcourse.optim.OPTIMIZERS, how β is passed).
RACERS: dict[str, tuple[str, Callable[[float], dict[str, Any]]]] = {
    "gradient descent": ("sgd", lambda beta: {}),
    "momentum": ("momentum", lambda beta: {"momentum": beta}),
    "Nesterov": ("momentum", lambda beta: {"momentum": beta, "nesterov": True}),
    "AdaGrad": ("adagrad", lambda beta: {}),
    "RMSProp": ("rmsprop", lambda beta: {}),
    "Adam": ("adam", lambda beta: {"betas": (beta, 0.999)}),
}


def race(
    surface: str | Surface,
    lr: float | dict[str, float],
    beta: float = 0.9,
    steps: int = 100,
    start: tuple[float, float] | np.ndarray | None = None,
    racers: tuple[str, ...] | None = None,
) -> dict[str, Trajectory]:
    """Every optimiser of `RACERS` (or the labels in `racers`) from the same start.

    `lr` is one learning rate for all, or a dict label -> learning rate. `beta` is the
    momentum coefficient of momentum and Nesterov and Adam's β₁; RMSProp's α and Adam's β₂
    keep the library's defaults (0.99 and 0.999). Returns label -> Trajectory.
    """
    canonical = {k.lower(): k for k in RACERS}
    labels = list(RACERS) if racers is None else [lookup(r, canonical, "racer") for r in racers]
    if isinstance(lr, dict):
        rates = {lookup(k, canonical, "racer"): v for k, v in lr.items()}
        missing = [label for label in labels if label not in rates]
        if missing:
            raise ValueError(f"no learning rate given for {missing}")
    paths = {}
    for label in labels:
        name, options = RACERS[label]
        rate = rates[label] if isinstance(lr, dict) else lr
        paths[label] = trajectory(
            surface, name, steps, start=start, label=label, lr=rate, **options(beta)
        )
    return paths
