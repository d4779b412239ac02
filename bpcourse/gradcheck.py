r"""Gradient checking: compare backprop's gradients with central finite differences.

For each entry $\theta_i$ of a parameter, the numerical derivative is
$$\frac{\partial L}{\partial \theta_i} \approx \frac{L(\theta_i + h) - L(\theta_i - h)}{2h},$$
whose error shrinks like $h^2$. The policy (one for the whole course): in float64, for each
parameter tensor the relative error $\lVert a-n\rVert / \max(\lVert a\rVert, \lVert n\rVert,
\epsilon)$ must be below 1e-7 for a single layer or loss, and below 1e-6 for a whole network.
The largest element-wise relative error is reported too (with an absolute floor, since it
grows where an entry is near zero). Points at a kink (ReLU at 0) are avoided, not tolerated:
the report counts ReLU inputs within $h$ of 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import numpy as np

from bpcourse.layers import ActivationLayer, Layer, Parameter
from bpcourse.losses import Loss, get_loss
from bpcourse.network import Sequential

LAYER_TOLERANCE = 1e-7
NETWORK_TOLERANCE = 1e-6
TINY = 1e-12
ELEMENT_FLOOR = 1e-8


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / max(||a||, ||n||, tiny): 0 when they agree, about 1 when unrelated."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(n), TINY)
    return float(np.linalg.norm(a - n) / scale)


def elementwise_relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """|a - n| / max(|a|, |n|, floor) for each entry."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), ELEMENT_FLOOR)


def numerical_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    h: float = 1e-5,
    indices: Sequence[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Central differences of the scalar `f()` with respect to the array `x`, changed in place.

    `x` is restored after each entry. With `indices`, only those entries are computed (the
    rest of the result is NaN). Returns an array of x's shape.
    """
    if x.dtype != np.float64:
        raise TypeError(
            f"gradient checks need float64 arrays (float32 is for speed, never for checking); "
            f"got {x.dtype}"
        )
    grad = np.full(x.shape, np.nan)
    for idx in indices if indices is not None else np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


@dataclass
class CheckRow:
    """The comparison for one parameter (or input) tensor."""

    name: str
    shape: tuple[int, ...]
    checked: int
    relative_error: float
    max_elementwise_error: float
    passed: bool


@dataclass
class GradientCheckReport:
    """The result of a gradient check: one row per tensor, and the tolerance used."""

    rows: list[CheckRow]
    tolerance: float
    kinks: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def worst(self) -> float:
        return max((row.relative_error for row in self.rows), default=0.0)

    def __getitem__(self, name: str) -> CheckRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no tensor named {name!r}; checked: {[r.name for r in self.rows]}")

    def __str__(self) -> str:
        w = max([16] + [len(r.name) + 2 for r in self.rows])
        lines = [
            f"{'tensor':<{w}}{'shape':<14}{'checked':>8}{'rel. error':>12}{'max elem.':>12}  result"
        ]
        for r in self.rows:
            lines.append(
                f"{r.name:<{w}}{r.shape!s:<14}{r.checked:>8}{r.relative_error:>12.2e}"
                f"{r.max_elementwise_error:>12.2e}  {'ok' if r.passed else 'FAIL'}"
            )
        verdict = "passed" if self.passed else "FAILED"
        lines.append(
            f"{verdict}: worst relative error {self.worst:.2e} (tolerance {self.tolerance:.0e})"
        )
        if self.kinks:
            lines.append(
                f"warning: {self.kinks} ReLU input(s) within 2h of 0: a kink; choose another point"
            )
        lines.extend(self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{h}</th>"
            for h in ("tensor", "shape", "checked", "relative error", "max element-wise", "")
        )
        body = "".join(
            f"<tr><td>{r.name}</td><td>{r.shape}</td><td>{r.checked}</td>"
            f"<td>{r.relative_error:.2e}</td><td>{r.max_elementwise_error:.2e}</td>"
            f"<td>{'passed' if r.passed else '<b>FAILED</b>'}</td></tr>"
            for r in self.rows
        )
        foot = str(self).splitlines()[len(self.rows) + 1 :]
        return f"<table><tr>{head}</tr>{body}</table><p>{'<br>'.join(foot)}</p>"

    def raise_if_failed(self) -> GradientCheckReport:
        if not self.passed:
            raise AssertionError(f"gradient check failed:\n{self}")
        return self


def _sample_indices(
    shape: tuple[int, ...], limit: int | None, rng: np.random.Generator
) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if limit is None or size <= limit else rng.choice(size, limit, False)
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in np.sort(flat)]


def compare(
    f: Callable[[], float],
    tensors: Sequence[tuple[str, np.ndarray, np.ndarray]],
    tolerance: float,
    max_per_tensor: int | None = None,
    h: float = 1e-5,
    seed: int = 0,
) -> GradientCheckReport:
    """Check each (name, value, analytic gradient) against central differences of f()."""
    if not tensors:
        raise ValueError("nothing to check: no parameters and no input gradient")
    rng = np.random.default_rng(seed)
    rows = []
    for name, value, analytic in tensors:
        idx = _sample_indices(value.shape, max_per_tensor, rng)
        numeric = numerical_gradient(f, value, h, idx)
        a = np.array([analytic[i] for i in idx])
        n = np.array([numeric[i] for i in idx])
        err = relative_error(a, n)
        elem = float(elementwise_relative_error(a, n).max()) if len(idx) else 0.0
        rows.append(CheckRow(name, value.shape, len(idx), err, elem, err < tolerance))
    return GradientCheckReport(rows, tolerance)


def _count_kinks(layers: Sequence[Layer], h: float) -> int:
    kinks = 0
    for layer in layers:
        if isinstance(layer, ActivationLayer) and layer.activation.name in ("relu", "leaky_relu"):
            kinks += int(np.sum(np.abs(layer.cache[0]) < 2 * h))
    return kinks


def _require_float64(params: Sequence[Parameter]) -> None:
    for p in params:
        if p.value.dtype != np.float64:
            raise TypeError(
                f"gradient checks need float64; parameter {p.name!r} is {p.value.dtype} "
                "(build the network with dtype=np.float64: float32 is for speed, not checking)"
            )


@contextmanager
def _deterministic(layers: Sequence[Layer]) -> Iterator[None]:
    """Hold random layers fixed (dropout reuses one mask) and undo side effects (batch-norm
    running averages) while a check runs the forward pass many times."""
    saved = {k: v.copy() for layer in layers for k, v in layer.buffers().items()}
    with ExitStack() as stack:
        for layer in layers:
            freeze = getattr(layer, "freeze_mask", None)
            if freeze is not None:
                stack.enter_context(freeze())
        yield
    for layer in layers:
        for k, v in layer.buffers().items():
            v[...] = saved[k]


def check_network(
    net: Sequential,
    X: np.ndarray,
    target: np.ndarray,
    loss: str | Loss = "softmax_cross_entropy",
    max_per_tensor: int | None = None,
    h: float = 1e-5,
    seed: int = 0,
    tolerance: float = NETWORK_TOLERANCE,
) -> GradientCheckReport:
    """Check every parameter of `net` (a random sample of `max_per_tensor` entries of each)."""
    params = net.parameters()
    _require_float64(params)
    loss_fn = get_loss(loss)
    X = net.check_input(X)
    with _deterministic(net.layers):
        net.loss_and_backward(X, target, loss_fn)
        analytic = [(p.name, p.value, p.grad.copy()) for p in params]
        kinks = _count_kinks(net.layers, h)

        def f() -> float:
            return loss_fn(net.forward(X, training=True), target)[0]

        report = compare(f, analytic, tolerance, max_per_tensor, h, seed)
    report.kinks = kinks
    return report


def check_layer(
    layer: Layer,
    X: np.ndarray,
    seed: int = 0,
    h: float = 1e-5,
    tolerance: float = LAYER_TOLERANCE,
) -> GradientCheckReport:
    """Check a layer's backward (its parameters and its input) through L = sum(G * layer(X)).

    G is a fixed random upstream gradient, so every output entry matters to the check.
    """
    params = layer.parameters()
    _require_float64(params)
    X = np.array(X, dtype=np.float64)
    with _deterministic([layer]):
        G = np.random.default_rng(seed).normal(size=layer.forward(X, training=True).shape)
        dX = layer.backward(G, input_grad=True)
        assert dX is not None
        tensors = [(p.name or f"param{i}", p.value, p.grad.copy()) for i, p in enumerate(params)]
        tensors.append(("input", X, dX.copy()))

        def f() -> float:
            return float(np.sum(G * layer.forward(X, training=True)))

        report = compare(f, tensors, tolerance, h=h, seed=seed)
    report.kinks = _count_kinks([layer], h)
    return report


def check_loss(
    loss: str | Loss, prediction: np.ndarray, target: np.ndarray, h: float = 1e-5
) -> GradientCheckReport:
    """Check a loss's gradient with respect to its prediction."""
    loss_fn = get_loss(loss)
    y = np.array(prediction, dtype=np.float64)
    _, analytic = loss_fn(y, target)
    return compare(
        lambda: loss_fn(y, target)[0], [(loss_fn.name, y, analytic)], LAYER_TOLERANCE, h=h
    )
