r"""Lesson 11's explorer: the spectral radius of $W_{hh}$ and the truncation window k of BPTT.

Two measurements on the library's tanh RNN (`bpcourse.recurrent`), both seeded:

- `gradient_decay(radius)`: $\lVert\partial\mathcal L/\partial h_t\rVert$ when the loss sees only
  the last state $h_T$ (a unit-norm gradient there), against the distance $T - t$. With $W_{hh}$
  orthogonal times `radius`, every singular value of $W_{hh}$ is `radius`, so near the linear
  regime of tanh (small inputs) the norm behaves like $\text{radius}^{T-t}$.
- `truncation_errors(radius, ks)`: the relative error
  $\lVert g_k - g\rVert / \lVert g\rVert$ of the truncated-BPTT gradient $g_k$ (window k) of all
  the RNN's weights against the full-BPTT gradient $g$, for a loss at every step. It is 0 for
  $k \ge T$ (truncation cuts nothing).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from bpcourse.recurrent import RNN, rnn_backward, rnn_forward
from bpcourse.validation import check_int, check_positive
from bpcourse.widgets.base import STYLE, Explorer, int_slider

__all__ = ["FLOOR", "BPTTExplorer", "bptt_explorer", "gradient_decay", "truncation_errors"]

FLOOR = 1e-3  # a relative error of exactly 0 (k >= T) is drawn at this height on the log scale


def _inputs(N: int, T: int, n_in: int, input_scale: float, seed: int) -> np.ndarray:
    """The fixed input sequences X (N, T, n_in) both measurements use."""
    return input_scale * np.random.default_rng(seed).normal(size=(N, T, n_in))


def gradient_decay(
    radius: float,
    T: int = 60,
    n_hidden: int = 32,
    n_in: int = 3,
    N: int = 16,
    input_scale: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    r"""$\lVert\partial\mathcal L/\partial h_t\rVert$ (mean over N sequences) against distance.

    The loss sees only $h_T$: $\partial\mathcal L/\partial h_T$ is a random unit vector per
    sequence. Returns an array (T,) whose entry n is the norm at $t = T - n$ (entry 0 is 1).
    """
    radius = check_positive(radius, "radius")
    T = check_int(T, "T")
    layer = RNN(n_in, n_hidden, seed=seed, recurrent_gain=radius)
    H = layer.forward(_inputs(N, T, n_in, input_scale, seed))
    g = np.random.default_rng(seed + 1).normal(size=(N, n_hidden))
    dH = np.zeros_like(H)
    dH[:, -1] = g / np.linalg.norm(g, axis=1, keepdims=True)
    layer.backward(dH, input_grad=False)
    assert layer.dH_norms is not None
    return layer.dH_norms[::-1].copy()


def truncation_errors(
    radius: float,
    ks: list[int] | np.ndarray,
    T: int = 30,
    n_hidden: int = 16,
    n_in: int = 3,
    N: int = 16,
    input_scale: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    r"""Relative error of the truncated gradient for each window k in `ks`: an array (len(ks),).

    The loss is $\sum_t G_t \cdot h_t$ with a fixed random $G$ (N, T, n_hidden): every step
    sends a gradient. The gradient compared is (dW_xh, dW_hh, db) taken together.
    """
    radius = check_positive(radius, "radius")
    T = check_int(T, "T")
    layer = RNN(n_in, n_hidden, seed=seed, recurrent_gain=radius)
    X = _inputs(N, T, n_in, input_scale, seed)
    h0 = np.zeros((N, n_hidden))
    _, cache = rnn_forward(X, h0, layer.W_xh.value, layer.W_hh.value, layer.b.value)
    G = np.random.default_rng(seed + 1).normal(size=(N, T, n_hidden))

    def flat(truncate: int | None) -> np.ndarray:
        grads = rnn_backward(G, cache, truncate=truncate)
        return np.concatenate([grads.dW_xh.ravel(), grads.dW_hh.ravel(), grads.db])

    full = flat(None)
    return np.array(
        [np.linalg.norm(flat(int(k)) - full) / np.linalg.norm(full) for k in ks], dtype=float
    )


class BPTTExplorer(Explorer):
    r"""Spectral radius of $W_{hh}$ and window k: the gradient's decay and the truncation error.

    State after `update()`: `decay` (T,) from `gradient_decay`, `ks` and `errors` from
    `truncation_errors` over k = 1..T_trunc, and `error` (the relative error at the chosen k).
    """

    title = "BPTT explorer"
    RADII = (0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5)

    def __init__(
        self, radius: float = 0.9, k: int = 10, T_decay: int = 60, T_trunc: int = 30
    ) -> None:
        super().__init__()
        self.T_decay = check_int(T_decay, "T_decay")
        self.T_trunc = check_int(T_trunc, "T_trunc")
        self.values = {"radius": float(radius), "k": int(k)}
        self.decay = np.ones(self.T_decay)
        self.ks = np.arange(1, self.T_trunc + 1)
        self.errors = np.zeros(self.T_trunc)
        self.error = 0.0
        self._start((11, 4.2))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "radius": widgets.SelectionSlider(
                options=[(f"{r:g}", r) for r in sorted({*self.RADII, self.values["radius"]})],
                value=self.values["radius"],
                description=r"spectral radius of $W_{hh}$",
                continuous_update=False,
                style=STYLE,
            ),
            "k": int_slider(widgets, self.values["k"], 1, self.T_trunc, "window k"),
        }

    def compute(self) -> None:
        radius, k = float(self.values["radius"]), int(self.values["k"])
        self.decay = gradient_decay(radius, T=self.T_decay)
        self.errors = truncation_errors(radius, self.ks, T=self.T_trunc)
        self.error = float(truncation_errors(radius, [k], T=self.T_trunc)[0])

    def draw(self) -> None:
        radius, k = float(self.values["radius"]), int(self.values["k"])
        ax_decay, ax_trunc = self.figure.subplots(1, 2)
        distance = np.arange(self.T_decay)
        ax_decay.semilogy(distance, self.decay, "o-", ms=3, color="C0", label="measured")
        ax_decay.semilogy(
            distance, radius ** distance.astype(float), "--", color="gray", label=r"$\rho^{T-t}$"
        )
        ax_decay.set_ylim(max(1e-12, 0.3 * self.decay.min()), 3 * max(self.decay.max(), 1.0))
        ax_decay.set_xlabel("distance $T - t$ (steps back from the loss)")
        ax_decay.set_ylabel(r"$\Vert\partial\mathcal{L}/\partial h_t\Vert$")
        ax_decay.set_title(
            rf"gradient reaching $h_t$, spectral radius $\rho$ = {radius:g}", fontsize=10
        )
        ax_decay.grid(True, which="both", alpha=0.3)
        ax_decay.legend(fontsize=8)
        shown = np.maximum(self.errors, FLOOR)
        ax_trunc.semilogy(self.ks, shown, "o-", ms=3, color="C1", label="truncated vs full")
        zero = self.errors == 0
        ax_trunc.plot(self.ks[zero], shown[zero], "v", ms=8, color="C2", label="exactly 0")
        ax_trunc.semilogy(
            [k],
            [max(self.error, FLOOR)],
            "s",
            ms=9,
            mfc="none",
            mew=2,
            color="C3",
            label=f"k = {k}",
        )
        ax_trunc.set_ylim(FLOOR / 2, 2)
        ax_trunc.set_xlabel("window k")
        ax_trunc.set_ylabel(r"$\Vert g_k - g\Vert\,/\,\Vert g\Vert$")
        ax_trunc.set_title(
            f"truncated-BPTT error, T = {self.T_trunc} steps, loss at every step", fontsize=10
        )
        ax_trunc.grid(True, which="both", alpha=0.3)
        ax_trunc.legend(fontsize=8)

    def _window(self) -> str:
        k = int(self.values["k"])
        return (
            f"window k = {k} on T = {self.T_trunc} steps: relative error of the truncated "
            f"gradient {self.error:.3g}" + (" (k >= T: full BPTT)" if k >= self.T_trunc else "")
        )

    def text(self) -> str:
        radius, back = float(self.values["radius"]), self.T_decay - 1
        return (
            f"spectral radius ρ = {radius:g}: ‖∂ℒ/∂h_t‖ is {self.decay[-1]:.3g} at {back} steps "
            f"back (ρ^{back} = {radius**back:.3g}).\n{self._window()}"
        )

    def html(self) -> str:
        """The same two lines with the symbols as rendered maths (no literal h_t)."""
        radius, back = float(self.values["radius"]), self.T_decay - 1
        decay = (
            rf"spectral radius $\rho$ = {radius:g}: "
            rf"$\lVert\partial\mathcal{{L}}/\partial h_t\rVert$ = {self.decay[-1]:.3g} at "
            rf"$T - t$ = {back} steps back ($\rho^{{{back}}}$ = {radius**back:.3g})."
        )
        return f"<p>{decay}<br>{html.escape(self._window())}</p>"


bptt_explorer = BPTTExplorer  # lesson 11 calls it by this name
