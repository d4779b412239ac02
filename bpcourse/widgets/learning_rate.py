"""Lesson 03's explorer: gradient descent on one sigmoid neuron for a chosen learning rate η."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bpcourse.activations import sigmoid
from bpcourse.plots.descent import gradient_descent, plot_path_on_contours
from bpcourse.widgets.base import Explorer, int_slider, log_slider

__all__ = [
    "NEURON_START",
    "NEURON_T",
    "NEURON_X",
    "LearningRateExplorer",
    "learning_rate_explorer",
    "neuron_gradient",
    "neuron_loss",
    "neuron_minimum",
]

# Six inputs with 0/1 targets that no sigmoid fits exactly (x = -0.5 says 1, x = 0.5 says 0),
# so the loss has a finite minimum, near (w, b) = (1.03, 0).
NEURON_X = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
NEURON_T = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
NEURON_START = (-2.0, 2.0)
NEURON_XLIM, NEURON_YLIM = (-3.0, 4.0), (-3.0, 3.0)


def neuron_loss(w: Any, b: Any) -> Any:
    r"""$\mathcal L(w, b) = \frac1N \sum_n \tfrac12(\sigma(w x_n + b) - y_n)^2$ (w, b: grids)."""
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    y = sigmoid(w[..., None] * NEURON_X + b[..., None])
    return 0.5 * np.mean((y - NEURON_T) ** 2, axis=-1)


def neuron_gradient(p: np.ndarray) -> np.ndarray:
    r"""$(\partial \mathcal L/\partial w, \partial \mathcal L/\partial b)$ at p = (w, b), by the
    chain rule: $\partial \mathcal L/\partial w = \frac1N\sum_n (\hat y_n - y_n)\,
    \hat y_n(1-\hat y_n)\, x_n$, the same without $x_n$ for b."""
    w, b = p
    y = sigmoid(w * NEURON_X + b)
    delta = (y - NEURON_T) * y * (1 - y)
    return np.array([np.mean(delta * NEURON_X), np.mean(delta)])


@functools.cache
def neuron_minimum() -> tuple[np.ndarray, float]:
    """The (w, b) that minimises ℒ, and ℒ there (found by a long, safe gradient descent)."""
    p = gradient_descent(neuron_gradient, np.zeros(2), lr=5.0, steps=5000)[-1]
    return np.round(p, 6) + 0.0, float(neuron_loss(*p))  # + 0.0 turns -0.0 into 0.0


def _widened(limits: tuple[float, float], values: np.ndarray) -> tuple[float, float]:
    """`limits` widened to show `values` too (up to 40 from 0), so a big jump stays in view."""
    low = max(-40.0, min(limits[0], float(values.min()) - 0.5))
    high = min(40.0, max(limits[1], float(values.max()) + 0.5))
    return low, high


class LearningRateExplorer(Explorer):
    r"""Gradient descent on one sigmoid neuron $\hat y = \sigma(w x + b)$ for learning rate $\eta$.

    State after `update()`: `path` (the iterates (w, b), shape (steps + 1, 2)), `losses`
    (the loss ℒ at each), `verdict` (converged / too slow / too large, in words).
    """

    title = "learning-rate explorer"

    def __init__(self, lr: float = 3.0, steps: int = 60) -> None:
        super().__init__()
        self.values = {"lr": lr, "steps": steps}
        self.path = np.zeros((1, 2))
        self.losses = np.zeros(1)
        self.verdict = ""
        self._start((10, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "lr": log_slider(widgets, self.values["lr"], 0.1, 1000, "learning rate η"),
            "steps": int_slider(widgets, self.values["steps"], 5, 200, "steps", step=5),
        }

    def compute(self) -> None:
        lr, steps = float(self.values["lr"]), int(self.values["steps"])
        self.path = gradient_descent(neuron_gradient, np.array(NEURON_START), lr, steps)
        self.losses = np.array([neuron_loss(w, b) for w, b in self.path])
        self.verdict = self._judge()

    def _judge(self) -> str:
        _, best = neuron_minimum()
        gap = self.losses - best
        rises = int(np.sum(np.diff(self.losses) > 1e-12))
        steps = len(self.losses) - 1
        if gap[-1] < 0.01 * gap[0] and rises <= 2:
            return "good: ℒ reached its minimum"
        if rises > 2 and np.ptp(self.losses[-10:]) < 1e-6:
            return (
                f"too large: ℒ went up in {rises} of {steps} steps, then a jump left (w, b) "
                "where σ is flat, and ℒ is stuck"
            )
        if rises > 2:
            return f"too large: ℒ went up in {rises} of {steps} steps (overshooting)"
        return "too small: ℒ is still going down slowly"

    def draw(self) -> None:
        (w_best, b_best), best = neuron_minimum()
        lr = float(self.values["lr"])
        ax_loss, ax_path = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
        ax_loss.plot(
            np.arange(len(self.losses)), self.losses, "o-", ms=3, color="C3", label=r"$\mathcal{L}$"
        )
        ax_loss.axhline(
            best, color="0.4", linestyle="--", label=rf"minimum $\mathcal{{L}}$ = {best:.3f}"
        )
        ax_loss.set_xlabel("gradient-descent step")
        ax_loss.set_ylabel(r"loss $\mathcal{L}$")
        ax_loss.set_ylim(0, max(0.32, float(np.max(self.losses)) * 1.05))
        ax_loss.set_title(f"η = {lr:.3g}: {self.verdict.split(':')[0]}")
        ax_loss.grid(True, alpha=0.3)
        ax_loss.legend(loc="upper right")
        plot_path_on_contours(
            lambda p: neuron_loss(p[0], p[1]),
            {f"η = {lr:.3g}": self.path},
            ax=ax_path,
            xlim=_widened(NEURON_XLIM, self.path[:, 0]),
            ylim=_widened(NEURON_YLIM, self.path[:, 1]),
            labels=("weight $w$", "bias $b$"),
        )
        ax_path.plot([w_best], [b_best], "P", color="black", ms=9, label="minimum")
        ax_path.set_title(r"path of $(w, b)$ on the contours of $\mathcal{L}$")
        ax_path.legend(loc="lower right", fontsize=8)

    def text(self) -> str:
        (w_best, b_best), best = neuron_minimum()
        w, b = self.path[-1]
        return (
            f"One sigmoid neuron ŷ = σ(w·x + b) on {len(NEURON_X)} examples, "
            f"ℒ = mean of ½(ŷ − y)², start (w, b) = {NEURON_START}.\n"
            f"η = {float(self.values['lr']):.3g}, {len(self.path) - 1} steps: ℒ went from "
            f"{self.losses[0]:.4f} to {self.losses[-1]:.4f} (minimum {best:.4f} at "
            f"w = {w_best:.2f}, b = {b_best:.2f}); now w = {w:.3f}, b = {b:.3f}.\n"
            f"Verdict: {self.verdict}."
        )


learning_rate_explorer = LearningRateExplorer  # lesson 03 calls it by this name
