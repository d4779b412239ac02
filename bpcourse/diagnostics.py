r"""Diagnostics for vanishing and exploding gradients.

Three numbers tell whether a deep network is healthy:

| diagnostic | healthy | sick |
|---|---|---|
| gradient norm per layer | similar across layers | shrinks or grows towards the input |
| activation statistics | std near 1, few saturated | std near 0; saturated or dead units |
| update-to-weight ratio | about 1e-3 per step | far below (stuck), above (unstable) |

The gradient norm is $\lVert\partial \mathcal L/\partial W^{(l)}\rVert$ for each layer; the
update ratio is $\lVert\Delta W\rVert/\lVert W\rVert$ for one optimiser step.

`Diagnostics` collects them during training when passed to `train(..., diagnostics=...)`;
with `diagnostics=None` (the default) training does none of this work.

`depth_profile(depth, activation, init)` builds a fresh deep MLP, runs one forward and one
backward pass on random data, and returns the gradient norm and activations of every layer:
the experiment of lesson 07 (vanishing and exploding gradients) in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bpcourse.init import INITIALISERS, default_init_for
from bpcourse.layers import ActivationLayer
from bpcourse.network import MLP, Sequential
from bpcourse.validation import check_int, check_positive, lookup


def gradient_norms(net: Sequential) -> dict[str, float]:
    """The norm of each weight's current gradient, by parameter name, input layer first."""
    return {p.name: float(np.linalg.norm(p.grad)) for p in net.parameters() if p.value.ndim > 1}


def activation_stats(net: Sequential) -> dict[str, dict[str, float]]:
    """Mean, std and saturated fraction of each activation layer's last output.

    Saturated means |a| > 0.99 for tanh, a < 0.01 or a > 0.99 for sigmoid (where the
    derivative is nearly 0), and a == 0 for ReLU (a "dead" unit passes no gradient).
    """
    stats = {}
    for layer in net.layers:
        if not isinstance(layer, ActivationLayer) or layer.cache is None:
            continue
        a = layer.cache[1]
        name = layer.activation.name
        if name == "tanh":
            saturated = np.abs(a) > 0.99
        elif name == "sigmoid":
            saturated = (a < 0.01) | (a > 0.99)
        elif name == "relu":
            saturated = a == 0
        else:
            saturated = np.zeros(a.shape, dtype=bool)
        stats[layer.name] = {
            "mean": float(a.mean()),
            "std": float(a.std()),
            "saturated": float(saturated.mean()),
        }
    return stats


@dataclass
class Diagnostics:
    """Records gradient norms, activation statistics and update ratios every `every` steps."""

    every: int = 1
    steps: list[int] = field(default_factory=list)
    grad_norms: list[dict[str, float]] = field(default_factory=list)
    activations: list[dict[str, dict[str, float]]] = field(default_factory=list)
    update_ratios: list[dict[str, float]] = field(default_factory=list)
    _before: dict[str, np.ndarray] | None = None
    _step: int = 0

    def __post_init__(self) -> None:
        self.every = check_int(self.every, "Diagnostics(every=...)")

    def before_step(self, net: Sequential) -> None:
        """Called after backward, before the optimiser's step."""
        self._step += 1
        if self._step % self.every:
            self._before = None
            return
        self.steps.append(self._step)
        self.grad_norms.append(gradient_norms(net))
        self.activations.append(activation_stats(net))
        self._before = {p.name: p.value.copy() for p in net.parameters() if p.value.ndim > 1}

    def after_step(self, net: Sequential) -> None:
        """Called after the optimiser's step: the update-to-weight ratio of each weight."""
        if self._before is None:
            return
        ratios = {}
        for p in net.parameters():
            if p.name in self._before:
                change = np.linalg.norm(p.value - self._before[p.name])
                ratios[p.name] = float(change / max(np.linalg.norm(p.value), 1e-12))
        self.update_ratios.append(ratios)
        self._before = None

    def series(self, kind: str, name: str, stat: str = "std") -> np.ndarray:
        """One recorded quantity over steps: kind is 'grad_norms', 'update_ratios' or
        'activations' (then `stat` picks 'mean', 'std' or 'saturated')."""
        if kind == "activations":
            return np.array([rec[name][stat] for rec in self.activations])
        if kind not in ("grad_norms", "update_ratios"):
            raise ValueError(
                f"unknown kind {kind!r}; valid kinds are: activations, grad_norms, update_ratios"
            )
        return np.array([rec[name] for rec in getattr(self, kind)])


@dataclass
class DepthProfile:
    r"""Per-layer gradient norms and activations of one deep MLP after one backward pass.

    `grad_norms[l-1]` is $\lVert \partial \mathcal L / \partial W^{(l)} \rVert$ for the
    layers l = 1..depth (input layer first, the output layer last); `activations[l-1]` is the
    hidden activation $a^{(l)}$, shape (n, width), for l = 1..depth-1; `pre_activations` the
    matching $z^{(l)}$; `X` (n, width) and `y` (n,) the batch the pass ran on; `net` the
    network itself, its `Parameter.grad` filled by the pass.
    """

    depth: int
    activation: str
    init: str
    gain: float
    width: int
    grad_norms: np.ndarray
    activations: list[np.ndarray]
    pre_activations: list[np.ndarray]
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    net: MLP = field(repr=False)

    @property
    def ratio(self) -> float:
        r"""$\lVert \partial \mathcal L/\partial W^{(1)}\rVert$ over that of the last layer:
        far below 1 means vanishing, far above 1 exploding."""
        return float(self.grad_norms[0] / max(self.grad_norms[-1], 1e-300))

    @property
    def activation_std(self) -> np.ndarray:
        """The standard deviation of each hidden activation, shape (depth - 1,)."""
        return np.array([a.std() for a in self.activations])


def depth_profile(
    depth: int,
    activation: str = "tanh",
    init: str | None = None,
    width: int = 64,
    n: int = 256,
    classes: int = 10,
    gain: float = 1.0,
    seed: int = 0,
) -> DepthProfile:
    """One forward and backward pass of a fresh `depth`-layer MLP on random data.

    The network is `MLP([width] * depth + [classes], activation, init=init)` (so `depth`
    Dense layers, `depth - 1` hidden activations), every weight then multiplied by `gain`
    (gain > 1: larger weights than the initialiser's). The input X (n, width) is standard
    normal, the targets random classes, the loss softmax cross-entropy; all seeded by `seed`.
    `init=None` takes the usual pairing (He for ReLU, Xavier otherwise).
    """
    depth = check_int(depth, "depth")
    width, n, classes = check_int(width, "width"), check_int(n, "n"), check_int(classes, "classes")
    gain = check_positive(gain, "gain")
    init = init or default_init_for(activation)
    lookup(init, INITIALISERS, "initialiser")
    net = MLP([width] * depth + [classes], activation, init=init, seed=seed)
    for p in net.parameters():
        if p.value.ndim > 1:
            p.value *= gain
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(n, width))
    y = rng.integers(0, classes, size=n)
    net.loss_and_backward(X, y, "softmax_cross_entropy")
    hidden = [layer for layer in net.layers if isinstance(layer, ActivationLayer)]
    return DepthProfile(
        depth=depth,
        activation=net.activation,
        init=init,
        gain=gain,
        width=width,
        grad_norms=np.array(list(gradient_norms(net).values())),
        activations=[layer.cache[1] for layer in hidden],
        pre_activations=[layer.cache[0] for layer in hidden],
        X=X,
        y=y,
        net=net,
    )
