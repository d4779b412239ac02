r"""Lesson 07's explorer: how the gradient reaching each layer depends on depth, activation,
initialisation and the scale of the weights.

For the chosen settings it builds a fresh MLP (`bpcourse.diagnostics.depth_profile`), runs one
forward and one backward pass on random data, and draws $\lVert\partial\mathcal L/\partial
W^{(l)}\rVert$ for every layer (log scale) beside the spread of each hidden activation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from bpcourse.diagnostics import DepthProfile, depth_profile
from bpcourse.widgets.base import Explorer, dropdown, int_slider

__all__ = ["ACTIVATIONS", "GAINS", "INITS", "GradientFlowExplorer", "gradient_flow_explorer"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("xavier_normal", "he_normal", "normal")  # "normal" is N(0, 0.01^2): too small
GAINS = (0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0)
MAX_DEPTH = 50
TINY_GRADIENT = 1e-8
MIN_DECADES = 2  # the gradient axis spans at least this many powers of 10


def verdict(profile: DepthProfile) -> str:
    """Vanishing, exploding or healthy, from the first layer's gradient norm against the last's.

    With weights far too small the ratio can look healthy while every layer's gradient is
    tiny (the forward signal died out, so the loss hardly depends on any weight): any
    gradient norm below `TINY_GRADIENT` everywhere is called vanished whatever the ratio.
    """
    ratio = profile.ratio
    if profile.grad_norms.max() < TINY_GRADIENT or not np.isfinite(ratio):
        return f"vanished: every layer's gradient is below {TINY_GRADIENT:g}"
    if ratio < 1e-2:
        return f"vanishing: layer 1 gets {ratio:.1e} times the last layer's gradient"
    if ratio > 1e2:
        return f"exploding: layer 1 gets {ratio:.1e} times the last layer's gradient"
    return f"healthy: layer 1 gets {ratio:.2g} times the last layer's gradient"


class GradientFlowExplorer(Explorer):
    """Per-layer gradient norms of a fresh deep MLP for a chosen depth, activation and init.

    `gain` multiplies every weight after initialisation (1: the initialiser's own scale).
    """

    title = "gradient flow explorer"

    def __init__(
        self,
        depth: int = 20,
        activation: str = "sigmoid",
        init: str = "xavier_normal",
        gain: float = 1.0,
        width: int = 64,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {init!r}")
        if not 2 <= int(depth) <= MAX_DEPTH:
            raise ValueError(f"depth must be between 2 and {MAX_DEPTH}; got {depth}")
        self.width = int(width)
        self.values = {"depth": int(depth), "activation": activation, "init": init, "gain": gain}
        self.profile: DepthProfile | None = None
        self._start((10, 3.8))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        gains = sorted({*GAINS, float(self.values["gain"])})
        return {
            "depth": int_slider(widgets, self.values["depth"], 2, MAX_DEPTH, "depth L"),
            "activation": dropdown(widgets, ACTIVATIONS, self.values["activation"], "activation"),
            "init": dropdown(widgets, INITS, self.values["init"], "init"),
            "gain": dropdown(
                widgets, [(f"× {g:g}", g) for g in gains], self.values["gain"], "weights"
            ),
        }

    def compute(self) -> None:
        v = self.values
        self.profile = depth_profile(
            v["depth"], v["activation"], v["init"], width=self.width, gain=float(v["gain"])
        )

    def draw(self) -> None:
        assert self.profile is not None
        p = self.profile
        ax_grad, ax_act = self.figure.subplots(1, 2)
        layers = np.arange(1, p.depth + 1)
        norms = np.maximum(p.grad_norms, 1e-300)  # a norm of exactly 0 cannot go on a log axis
        ax_grad.semilogy(layers, norms, "o-", ms=3, gid="grad_norms")
        low, high = norms.min(), norms.max()
        if high / low < 10.0**MIN_DECADES:  # else noise of a few percent looks like a trend
            middle = np.sqrt(low * high)
            ax_grad.set_ylim(middle / 10.0 ** (MIN_DECADES / 2), middle * 10.0 ** (MIN_DECADES / 2))
        ax_grad.set_xlabel("layer l (1 = next to the input)")
        ax_grad.set_ylabel(r"$\Vert\partial\mathcal{L}/\partial W^{(l)}\Vert$")
        ax_grad.set_title(f"gradient norm per layer\n{verdict(p)}", fontsize=10)
        ax_grad.grid(True, which="major", alpha=0.3)
        ax_grad.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_act.plot(layers[:-1], p.activation_std, "o-", ms=3, color="C1", gid="activation_std")
        ax_act.set_xlabel("hidden layer l")
        ax_act.set_ylabel(r"std of $a^{(l)}$")
        top = float(np.max(p.activation_std, initial=0.0))
        # from 0, with room above the highest point (not cut in half by the frame)
        ax_act.set_ylim(0, 1.08 * top if np.isfinite(top) and top > 0 else None)
        ax_act.set_title(
            f"spread of the activations\n{p.activation}, {p.init} × {p.gain:g}, width {p.width}",
            fontsize=10,
        )
        ax_act.grid(True, alpha=0.3)
        ax_act.xaxis.set_major_locator(MaxNLocator(integer=True))

    def text(self) -> str:
        assert self.profile is not None
        p = self.profile
        return (
            f"{p.depth} layers of width {p.width}, {p.activation}, {p.init} × {p.gain:g}\n"
            f"gradient norm: layer 1 {p.grad_norms[0]:.2e}, layer {p.depth} "
            f"{p.grad_norms[-1]:.2e}\n{verdict(p)}"
        )


gradient_flow_explorer = GradientFlowExplorer  # the lesson calls it by this name
