r"""Interactive explorers for the lessons, built on ipywidgets and matplotlib.

| function | lesson | what the learner changes | what they see |
|---|---|---|---|
| `learning_rate_explorer()` | 03 | learning rate $\eta$, steps | E per step, the path of (w, b) |
| `backward_stepper()` | 04 | Next / Back | each $\delta$ and gradient, its formula and value |
| `activation_explorer()` | 05 | activation, range of z | f and f' from the library's table |
| `training_explorer()` | 06 | data, hidden size, batch size, $\eta$, epochs | loss, regions |

Each function returns an explorer object that holds its state:

- `.values`: the current settings (a dict), `.controls`: the ipywidgets that change them
  (empty when ipywidgets is missing), `.set(**values)`: change settings from code;
- `.update()`: recompute and redraw (every control's callback calls it; for the training
  explorer it is the Train button that does, the other controls only change `.values`);
- `.figure`: the matplotlib Figure, redrawn by `update()`; `.text()`: the same as words.

**How an explorer is shown, and the static fallback.** `explorer.show(static=None)` (or the
explorer as the last value of a cell) chooses:

- `static=True` or `False`: as asked;
- `static=None`: static if the environment variable `BPCOURSE_STATIC` is `1`, `true` or
  `yes`, or if ipywidgets cannot be imported, or if Python is not running in a Jupyter
  kernel (a plain script, terminal IPython, the tests); interactive otherwise.

Interactive shows the controls above the figure, which every change redraws. Static shows the
figure for the current (default) settings and prints the text, so a notebook run by nbconvert
or read as HTML still shows something meaningful. The interactive display also carries that
picture as a fallback: a saved notebook whose widget state was not stored shows the picture
where the widget would be.

Everything is seeded: the same settings always draw the same figure.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bpcourse.activations import get_activation, sigmoid
from bpcourse.data import make_moons, make_spirals
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.plots.classification import plot_decision_boundary
from bpcourse.plots.descent import gradient_descent, plot_path_on_contours
from bpcourse.plots.functions import ELEMENTWISE, mathtext, plot_activation
from bpcourse.plots.network import diagram_limits, draw_network
from bpcourse.plots.training import plot_metric
from bpcourse.training import History, TrainingDivergedError, evaluate, train

__all__ = [
    "ActivationExplorer",
    "BackpropStep",
    "BackwardStepper",
    "Explorer",
    "LearningRateExplorer",
    "TrainingExplorer",
    "activation_explorer",
    "backward_stepper",
    "learning_rate_explorer",
    "training_explorer",
    "use_static",
]

DPI = 100  # of the pictures shown in the notebook


# --- choosing between the widget and the static picture ------------------------------------


def _ipywidgets() -> Any:
    """The ipywidgets module, or None if it cannot be imported."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def _ipython_shell() -> Any:
    """The running IPython shell, or None (plain Python, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def use_static(static: bool | None = None) -> bool:
    """Whether to show the static picture rather than the widget (see the module docstring)."""
    if static is not None:
        return static
    if os.environ.get("BPCOURSE_STATIC", "").strip().lower() in ("1", "true", "yes"):
        return True
    if _ipywidgets() is None:
        return True
    return getattr(_ipython_shell(), "kernel", None) is None


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (no pyplot, no backend: it works anywhere)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


class Explorer:
    """What every explorer shares: settings, controls, a figure, and the two ways to show them.

    A subclass sets `self.values` and calls `self._start(figsize)`, and writes `compute`
    (new state from the values), `draw` (the state into `self.figure`), `text`, and
    `_make_controls` (the ipywidgets, keyed like `values` where they set one).
    """

    title = "explorer"

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.controls: dict[str, Any] = {}
        self.figure = Figure()
        self._muted = False  # set() changes several controls, then updates once
        self._output: Any = None  # the ipywidgets.Output showing the figure, once built
        self._html: Any = None  # the ipywidgets.HTMLMath showing the text, once built
        self._box: Any = None

    def _start(self, figsize: tuple[float, float]) -> None:
        self.figure = Figure(figsize=figsize, layout="constrained")
        widgets = _ipywidgets()
        if widgets is not None:
            self.controls = self._make_controls(widgets)
            for name, control in self.controls.items():
                if name in self.values and hasattr(control, "value"):
                    control.observe(functools.partial(self._on_change, name), names="value")
        self.update()

    # -- to write in a subclass
    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {}

    def compute(self) -> None:
        """Recompute the state from `self.values`."""

    def draw(self) -> None:
        """Draw the state into `self.figure`."""

    def text(self) -> str:
        """The state in words (printed by the static fallback)."""
        return self.title

    def html(self) -> str:
        """The text for the widget's HTMLMath panel (LaTeX between $ signs is rendered)."""
        return f"<pre>{html.escape(self.text())}</pre>"

    # -- the shared machinery
    def _on_change(self, name: str, change: dict[str, Any]) -> None:
        self.values[name] = change["new"]
        if not self._muted:
            self.update()

    def set(self, **values: Any) -> None:
        """Change settings by name (and their controls, if any), then update once."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise KeyError(f"{type(self).__name__} has no setting {unknown}; it has {self.values}")
        self._muted = True
        try:
            for name, value in values.items():
                self.values[name] = value
                if name in self.controls:
                    self.controls[name].value = value
                    self.values[name] = self.controls[name].value  # as the control clipped it
        finally:
            self._muted = False
        self.update()

    def update(self) -> None:
        """Recompute from the current settings and redraw the figure (and the widget)."""
        self.compute()
        self.redraw()

    def redraw(self) -> None:
        self.figure.clear()
        self.draw()
        self.refresh()

    def refresh(self) -> None:
        """Put the current figure and text into the widget, if it has been built."""
        if self._output is not None:
            png = base64.b64encode(figure_png(self.figure)).decode("ascii")
            data = {"image/png": png, "text/plain": f"<{self.title} figure>"}
            self._output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)
        if self._html is not None:
            self._html.value = self.html()

    def widget(self) -> Any:
        """The ipywidgets box: the controls, the figure and the text (built once)."""
        widgets = _ipywidgets()
        if widgets is None:
            raise ImportError("ipywidgets is not installed: use show(static=True)")
        if self._box is None:
            self._output = widgets.Output()
            self._html = widgets.HTMLMath()
            self._box = widgets.VBox(
                [widgets.HBox(list(self.controls.values())), self._output, self._html]
            )
            self.refresh()
        return self._box

    def mimebundle(self, static: bool) -> dict[str, Any]:
        """What a notebook shows: the picture and the text, plus the widget unless static.

        A front-end that renders widgets shows the widget; one that cannot (or a notebook
        saved without widget state, read as HTML) shows the picture and text instead.
        """
        png = base64.b64encode(figure_png(self.figure)).decode("ascii")
        page = (
            f'<img src="data:image/png;base64,{png}" alt="{html.escape(self.title)}"/>'
            f"<pre>{html.escape(self.text())}</pre>"
        )
        bundle: dict[str, Any] = {"text/html": page, "image/png": png, "text/plain": self.text()}
        if not static:
            view = self.widget()._repr_mimebundle_()
            bundle["application/vnd.jupyter.widget-view+json"] = view[
                "application/vnd.jupyter.widget-view+json"
            ]
        return bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.mimebundle(use_static())

    def show(self, static: bool | None = None) -> None:
        """Show the widget, or the static picture and text (see the module docstring)."""
        if use_static(static):
            if _ipython_shell() is not None:
                from IPython.display import Image, display

                display(Image(data=figure_png(self.figure), format="png"))
            print(self.text())
        else:
            from IPython.display import display

            display(self.mimebundle(static=False), raw=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values})"


# --- lesson 03: the learning rate of one neuron ---------------------------------------------

# Six inputs with 0/1 targets that no sigmoid fits exactly (x = -0.5 says 1, x = 0.5 says 0),
# so E has a finite minimum, near (w, b) = (1.03, 0).
NEURON_X = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
NEURON_T = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
NEURON_START = (-2.0, 2.0)
NEURON_XLIM, NEURON_YLIM = (-3.0, 4.0), (-3.0, 3.0)


def neuron_loss(w: Any, b: Any) -> Any:
    r"""$E(w, b) = \frac1N \sum_n \tfrac12(\sigma(w x_n + b) - t_n)^2$ (w, b may be grids)."""
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    y = sigmoid(w[..., None] * NEURON_X + b[..., None])
    return 0.5 * np.mean((y - NEURON_T) ** 2, axis=-1)


def neuron_gradient(p: np.ndarray) -> np.ndarray:
    r"""$(\partial E/\partial w, \partial E/\partial b)$ at p = (w, b), by the chain rule:
    $\partial E/\partial w = \frac1N\sum_n (y_n - t_n)\, y_n(1-y_n)\, x_n$, the same without
    $x_n$ for b."""
    w, b = p
    y = sigmoid(w * NEURON_X + b)
    delta = (y - NEURON_T) * y * (1 - y)
    return np.array([np.mean(delta * NEURON_X), np.mean(delta)])


@functools.cache
def neuron_minimum() -> tuple[np.ndarray, float]:
    """The (w, b) that minimises E, and E there (found by a long, safe gradient descent)."""
    p = gradient_descent(neuron_gradient, np.zeros(2), lr=5.0, steps=5000)[-1]
    return np.round(p, 6) + 0.0, float(neuron_loss(*p))  # + 0.0 turns -0.0 into 0.0


def _widened(limits: tuple[float, float], values: np.ndarray) -> tuple[float, float]:
    """`limits` widened to show `values` too (up to 40 from 0), so a big jump stays in view."""
    low = max(-40.0, min(limits[0], float(values.min()) - 0.5))
    high = min(40.0, max(limits[1], float(values.max()) + 0.5))
    return low, high


class LearningRateExplorer(Explorer):
    r"""Gradient descent on one sigmoid neuron $y = \sigma(w x + b)$ for a learning rate $\eta$.

    State after `update()`: `path` (the iterates (w, b), shape (steps + 1, 2)), `losses`
    (E at each), `verdict` (converged / too slow / too large, in words).
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
        style = {"description_width": "initial"}
        return {
            "lr": widgets.FloatLogSlider(
                value=self.values["lr"],
                base=10,
                min=-1,
                max=3,
                step=0.05,
                description="learning rate η",
                continuous_update=False,
                style=style,
            ),
            "steps": widgets.IntSlider(
                value=self.values["steps"],
                min=5,
                max=200,
                step=5,
                description="steps",
                continuous_update=False,
                style=style,
            ),
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
            return "good: E reached its minimum"
        if rises > 2 and np.ptp(self.losses[-10:]) < 1e-6:
            return (
                f"too large: E went up in {rises} of {steps} steps, then a jump left (w, b) "
                "where σ is flat, and E is stuck"
            )
        if rises > 2:
            return f"too large: E went up in {rises} of {steps} steps (overshooting)"
        return "too small: E is still going down slowly"

    def draw(self) -> None:
        (w_best, b_best), best = neuron_minimum()
        lr = float(self.values["lr"])
        ax_loss, ax_path = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
        ax_loss.plot(np.arange(len(self.losses)), self.losses, "o-", ms=3, color="C3", label="E")
        ax_loss.axhline(best, color="0.4", linestyle="--", label=f"minimum E = {best:.3f}")
        ax_loss.set_xlabel("gradient-descent step")
        ax_loss.set_ylabel("loss E")
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
        ax_path.set_title("path of $(w, b)$ on the contours of E")
        ax_path.legend(loc="lower right", fontsize=8)

    def text(self) -> str:
        (w_best, b_best), best = neuron_minimum()
        w, b = self.path[-1]
        return (
            f"One sigmoid neuron y = σ(w·x + b) on {len(NEURON_X)} examples, "
            f"E = mean of ½(y − t)², start (w, b) = {NEURON_START}.\n"
            f"η = {float(self.values['lr']):.3g}, {len(self.path) - 1} steps: E went from "
            f"{self.losses[0]:.4f} to {self.losses[-1]:.4f} (minimum {best:.4f} at "
            f"w = {w_best:.2f}, b = {b_best:.2f}); now w = {w:.3f}, b = {b:.3f}.\n"
            f"Verdict: {self.verdict}."
        )


def learning_rate_explorer(lr: float = 3.0, steps: int = 60) -> LearningRateExplorer:
    """Lesson 03: how the learning rate η changes gradient descent on one sigmoid neuron."""
    return LearningRateExplorer(lr, steps)


# --- lesson 04: the backward pass, one step at a time --------------------------------------


@dataclass
class BackpropStep:
    """One step of the backward pass: what is computed, its formula, and its value.

    `value` comes from the library's backprop (the forward caches and the gradients that
    `MLP.backward` wrote); `hand` is the formula evaluated on the cached numbers; they agree.
    `nodes` (l, j) and `edges` (l, j, k) are what the diagram highlights.
    """

    kind: str  # "forward", "delta", "gradient" or "update"
    title: str
    formula: str  # LaTeX, in symbols
    numbers: str  # LaTeX: the formula with the numbers put in
    value: np.ndarray
    hand: np.ndarray
    nodes: tuple[tuple[int, int], ...] = ()
    edges: tuple[tuple[int, int, int], ...] = ()
    explanation: str = ""


def _n(x: float) -> str:
    """A number for a formula: 4 significant digits, a real minus sign in parentheses."""
    return f"{x:.4g}" if x >= 0 else f"({x:.4g})"


@dataclass
class ForwardBackward:
    """The numbers of one forward and backward pass of a sigmoid MLP on one example.

    Lists are indexed by layer l = 0..L (index 0 unused for z, W, delta, dW, db).
    """

    x: np.ndarray
    t: np.ndarray
    loss: float
    z: list[np.ndarray] = field(default_factory=list)
    a: list[np.ndarray] = field(default_factory=list)
    W: list[np.ndarray] = field(default_factory=list)
    b: list[np.ndarray] = field(default_factory=list)
    delta: list[np.ndarray] = field(default_factory=list)  # = db for one example
    dW: list[np.ndarray] = field(default_factory=list)
    db: list[np.ndarray] = field(default_factory=list)


def forward_backward(net: MLP, x: np.ndarray, t: np.ndarray) -> ForwardBackward:
    """Run the library's forward and backward pass on one example and read off every number:
    z and a from the activation layers' caches, W and the gradients from the dense layers.
    For one example $\\partial E/\\partial b^{(l)} = \\delta^{(l)}$, so delta is read from b.grad.
    """
    loss = net.loss_and_backward(x[None, :], t[None, :], "half_squared_error")
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    activations = [layer for layer in net.layers if isinstance(layer, ActivationLayer)]
    if len(activations) != len(dense):
        raise ValueError("the stepper needs an activation after every layer (output_activation)")
    empty = np.zeros(0)
    fb = ForwardBackward(x, t, loss, [empty], [x], [empty], [empty], [empty], [empty], [empty])
    for d, act in zip(dense, activations, strict=True):
        z, a, _ = act.cache
        fb.z.append(z[0].copy())
        fb.a.append(a[0].copy())
        fb.W.append(d.W.value.copy())
        fb.b.append(d.b.value.copy())
        fb.delta.append(d.b.grad.copy())
        fb.dW.append(d.W.grad.copy())
        fb.db.append(d.b.grad.copy())
    return fb


class BackwardStepper(Explorer):
    r"""The backward pass of a small sigmoid network on one example, one $\delta$ at a time.

    The network is `MLP(sizes, "sigmoid", output_activation="sigmoid", seed=seed)` with the
    half squared error $E = \tfrac12\lVert a^{(L)} - t\rVert^2$. `steps` lists every
    `BackpropStep`; the setting "step" is the index shown (Next/Back move it).
    """

    title = "backward-pass stepper"

    def __init__(
        self,
        sizes: Sequence[int] = (2, 2, 1),
        x: Sequence[float] = (1.0, 0.5),
        t: Sequence[float] = (1.0,),
        seed: int = 3,
        lr: float = 0.5,
    ) -> None:
        super().__init__()
        self.sizes = list(sizes)
        if not 2 <= len(self.sizes) <= 4 or max(self.sizes) > 3:
            raise ValueError(
                f"the stepper draws small networks (2 to 4 layers of 1 to 3 units), got {sizes}"
            )
        self.net = MLP(self.sizes, "sigmoid", output_activation="sigmoid", seed=seed)
        self.lr = lr
        self.fb = forward_backward(self.net, np.asarray(x, float), np.asarray(t, float))
        self.steps = self._make_steps()
        self.values = {"step": 0}
        (x0, x1), (y0, y1) = diagram_limits(self.sizes)
        width = 4.5 * max(2, len(self.sizes) - 1)  # inches: 9 for one hidden layer
        self._diagram_height = width * (y1 - y0) / (x1 - x0)
        self._start((width, self._diagram_height + 1.4))

    # the steps
    def _make_steps(self) -> list[BackpropStep]:
        fb, L = self.fb, len(self.sizes) - 1
        y = fb.a[L]
        squares = " + ".join(f"({_n(y[j])} - {_n(fb.t[j])})^2" for j in range(len(y)))
        steps = [
            BackpropStep(
                "forward",
                "forward pass: every z and a, then the loss",
                rf"E = \frac{{1}}{{2}}\sum_j (a^{{({L})}}_j - t_j)^2",
                rf"E = \frac{{1}}{{2}}\left[{squares}\right] = {fb.loss:.4g}",
                np.array([fb.loss]),
                np.array([0.5 * np.sum((y - fb.t) ** 2)]),
                explanation="The forward pass stores every z and a: the backward pass needs them.",
            )
        ]
        for layer in range(L, 0, -1):
            for j in range(self.sizes[layer]):
                steps.append(self._delta_step(layer, j))
            steps.append(self._gradient_step(layer))
        steps.append(self._update_step())
        for step in steps:  # the formula and the library agree, or the stepper teaches nothing
            if not np.allclose(step.value, step.hand, rtol=1e-10, atol=1e-14):
                raise AssertionError(f"{step.title}: backprop {step.value} vs hand {step.hand}")
        return steps

    def _delta_step(self, layer: int, j: int) -> BackpropStep:
        fb, L = self.fb, len(self.sizes) - 1
        a = fb.a[layer][j]
        slope = a * (1 - a)  # sigma'(z) = a (1 - a)
        sup, sub = f"^{{({layer})}}", f"_{j + 1}"
        if layer == L:
            hand = (a - fb.t[j]) * slope
            formula = rf"\delta{sup}{sub} = (a{sup}{sub} - t{sub})\; a{sup}{sub}(1 - a{sup}{sub})"
            numbers = rf"= ({_n(a)} - {_n(fb.t[j])}) \cdot {_n(a)}\,(1 - {_n(a)})"
            edges: tuple[tuple[int, int, int], ...] = ()
            explanation = "Output unit: how E changes with y, times how y changes with z."
        else:
            above = fb.delta[layer + 1]
            weights = fb.W[layer + 1][:, j]
            hand = slope * float(np.sum(weights * above))
            up = f"^{{({layer + 1})}}"
            formula = (
                rf"\delta{sup}{sub} = a{sup}{sub}(1 - a{sup}{sub})"
                rf"\sum_k w{up}_{{k{j + 1}}}\, \delta{up}_k"
            )
            terms = " + ".join(
                f"{_n(w)} \\cdot {_n(d)}" for w, d in zip(weights, above, strict=True)
            )
            numbers = rf"= {_n(a)}\,(1 - {_n(a)}) \cdot [{terms}]"
            edges = tuple((layer + 1, k, j) for k in range(self.sizes[layer + 1]))
            explanation = (
                "Hidden unit: the δ of the layer above flow back along the weights that "
                "leave this unit, and are scaled by σ'(z) = a(1 − a)."
            )
        value = fb.delta[layer][j]
        return BackpropStep(
            "delta",
            f"δ of unit {j + 1} in layer {layer}" + (" (output)" if layer == L else " (hidden)"),
            formula,
            f"{numbers} = {value:.4g}",
            np.array([value]),
            np.array([hand]),
            ((layer, j),),
            edges,
            explanation,
        )

    def _gradient_step(self, layer: int) -> BackpropStep:
        fb = self.fb
        sup = f"^{{({layer})}}"
        below = f"^{{({layer - 1})}}"
        hand = np.concatenate([np.outer(fb.delta[layer], fb.a[layer - 1]).ravel(), fb.delta[layer]])
        value = np.concatenate([fb.dW[layer].ravel(), fb.db[layer]])
        entries = r";\ ".join(", ".join(f"{v:.3g}" for v in row) for row in fb.dW[layer])
        return BackpropStep(
            "gradient",
            f"the gradients of layer {layer}'s weights and biases",
            rf"\frac{{\partial E}}{{\partial w{sup}_{{jk}}}} = \delta{sup}_j\, a{below}_k, \quad"
            rf"\frac{{\partial E}}{{\partial b{sup}_j}} = \delta{sup}_j",
            rf"\frac{{\partial E}}{{\partial W{sup}}} = \delta{sup} (a{below})^\top = [{entries}]",
            value,
            hand,
            tuple((layer, j) for j in range(self.sizes[layer])),
            tuple(
                (layer, j, k)
                for j in range(self.sizes[layer])
                for k in range(self.sizes[layer - 1])
            ),
            "Each weight's gradient is the δ at its output end times the a at its input end.",
        )

    def _update_step(self) -> BackpropStep:
        fb, L = self.fb, len(self.sizes) - 1
        state = self.net.state()
        GradientDescent(self.net.parameters(), self.lr).step()  # the library's update
        new_loss = float(0.5 * np.sum((self.net.predict(fb.x[None, :])[0] - fb.t) ** 2))
        self.net.load_state(state)
        a = fb.a[0]  # by hand: forward with W - lr dW, b - lr db
        for layer in range(1, L + 1):
            W = fb.W[layer] - self.lr * fb.dW[layer]
            b = fb.b[layer] - self.lr * fb.db[layer]
            a = sigmoid(W @ a + b)
        return BackpropStep(
            "update",
            f"one gradient-descent step with η = {self.lr:g}",
            r"W^{(l)} \leftarrow W^{(l)} - \eta\, \frac{\partial E}{\partial W^{(l)}},\quad"
            r"b^{(l)} \leftarrow b^{(l)} - \eta\, \delta^{(l)}",
            rf"E: {fb.loss:.4g} \rightarrow {new_loss:.4g}",
            np.array([new_loss]),
            np.array([0.5 * np.sum((a - fb.t) ** 2)]),
            edges=tuple(
                (layer, j, k)
                for layer in range(1, L + 1)
                for j in range(self.sizes[layer])
                for k in range(self.sizes[layer - 1])
            ),
            explanation="Every weight moves against its gradient: the loss goes down.",
        )

    # the widget
    @property
    def step(self) -> BackpropStep:
        return self.steps[int(self.values["step"])]

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        back = widgets.Button(description="◀ Back", layout=widgets.Layout(width="90px"))
        forward = widgets.Button(description="Next ▶", layout=widgets.Layout(width="90px"))
        slider = widgets.IntSlider(
            value=0, min=0, max=len(self.steps) - 1, description="step", readout=True
        )
        back.on_click(lambda _: self.back())
        forward.on_click(lambda _: self.next())
        return {"back": back, "next": forward, "step": slider}

    def go_to(self, index: int) -> None:
        """Show step `index` (clipped to the steps that exist)."""
        self.set(step=int(np.clip(index, 0, len(self.steps) - 1)))

    def next(self) -> None:
        self.go_to(int(self.values["step"]) + 1)

    def back(self) -> None:
        self.go_to(int(self.values["step"]) - 1)

    def compute(self) -> None:
        if "back" in self.controls:
            index = int(self.values["step"])
            self.controls["back"].disabled = index == 0
            self.controls["next"].disabled = index == len(self.steps) - 1

    def _known(self, index: int) -> tuple[set[tuple[int, int]], set[int]]:
        """The units whose δ, and the layers whose gradients, steps 0..index have computed."""
        deltas: set[tuple[int, int]] = set()
        layers: set[int] = set()
        for step in self.steps[1 : index + 1]:
            if step.kind == "delta":
                deltas |= set(step.nodes)
            elif step.kind == "gradient":
                layers |= {layer for layer, _, _ in step.edges}
        return deltas, layers

    def draw(self) -> None:
        fb, index = self.fb, int(self.values["step"])
        step = self.steps[index]
        deltas, layers = self._known(index)
        node_text = {(0, k): f"x = {fb.x[k]:.3g}" for k in range(self.sizes[0])}
        for layer in range(1, len(self.sizes)):
            for j in range(self.sizes[layer]):
                lines = [f"z = {fb.z[layer][j]:.3f}", f"a = {fb.a[layer][j]:.3f}"]
                if layer == len(self.sizes) - 1:
                    lines.append(f"t = {fb.t[j]:g}")
                if (layer, j) in deltas:
                    lines.append(f"δ = {fb.delta[layer][j]:.4f}")
                node_text[(layer, j)] = "\n".join(lines)
        edge_text = {}
        for layer in range(1, len(self.sizes)):
            for j in range(self.sizes[layer]):
                for k in range(self.sizes[layer - 1]):
                    label = f"w = {fb.W[layer][j, k]:.3f}"
                    if layer in layers:
                        label += f"\n∂E/∂w = {fb.dW[layer][j, k]:.4f}"
                    edge_text[(layer, j, k)] = label
        ax, text_ax = self.figure.subplots(
            2, 1, gridspec_kw={"height_ratios": [self._diagram_height, 1.1]}
        )
        draw_network(
            self.sizes,
            ax,
            node_text=node_text,
            edge_text=edge_text,
            highlight_nodes=step.nodes,
            highlight_edges=step.edges,
        )
        ax.set_title(f"step {index} of {len(self.steps) - 1}: {step.title}", fontsize=11)
        text_ax.axis("off")
        for y, latex, size in ((0.75, step.formula, 12), (0.2, step.numbers, 11)):
            shown = text_ax.text(0.5, y, f"${latex}$", ha="center", va="center", fontsize=size)
            shown.set_in_layout(False)  # a long line must not squeeze the diagram

    def html(self) -> str:
        step, index = self.step, int(self.values["step"])
        return (
            f"<b>Step {index} of {len(self.steps) - 1}: {html.escape(step.title)}</b><br>"
            f"$${step.formula}$$ $${step.numbers}$$ {html.escape(step.explanation)}"
        )

    def text(self) -> str:
        lines = [
            f"Backward pass of MLP({self.sizes}, sigmoid) on x = {self.fb.x.tolist()}, "
            f"t = {self.fb.t.tolist()}, E = ½‖a − t‖²; values from the library's backprop."
        ]
        for i, step in enumerate(self.steps):
            values = ", ".join(f"{v:.6g}" for v in step.value)
            lines.append(f"{i}. {step.title}: {values}")
        return "\n".join(lines)

    def show(self, static: bool | None = None) -> None:
        """As Explorer.show; the static picture is the last backward step (every gradient)."""
        if use_static(static):
            self.go_to(len(self.steps) - 2)
        super().show(static)


def backward_stepper(
    sizes: Sequence[int] = (2, 2, 1),
    x: Sequence[float] = (1.0, 0.5),
    t: Sequence[float] = (1.0,),
    seed: int = 3,
) -> BackwardStepper:
    """Lesson 04: step through backprop on a small sigmoid network, one δ at a time."""
    return BackwardStepper(sizes, x, t, seed)


# --- lesson 05: an activation and its derivative -------------------------------------------


class ActivationExplorer(Explorer):
    """An activation f and its derivative f' from the library's table, over a range of z."""

    title = "activation explorer"

    def __init__(self, name: str = "sigmoid", x_range: tuple[float, float] = (-5.0, 5.0)) -> None:
        super().__init__()
        self.values = {"name": get_activation(name).name, "x_range": tuple(x_range)}
        self._start((6.5, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "name": widgets.Dropdown(
                options=list(ELEMENTWISE), value=self.values["name"], description="activation"
            ),
            "x_range": widgets.FloatRangeSlider(
                value=self.values["x_range"],
                min=-10,
                max=10,
                step=0.5,
                description="z range",
                continuous_update=False,
            ),
        }

    def draw(self) -> None:
        ax = self.figure.subplots()
        low, high = self.values["x_range"]
        if high <= low:
            high = low + 1.0
        act = get_activation(self.values["name"])
        plot_activation(act, ax=ax, x_range=(low, high), title=False)
        ax.set_title(f"{act.name}:  {mathtext(act.formula)}\n{mathtext(act.derivative_formula)}")

    def html(self) -> str:
        act = get_activation(self.values["name"])
        return f"$${act.formula}$$ $${act.derivative_formula}$$"

    def text(self) -> str:
        act = get_activation(self.values["name"])
        return f"{act.name}: {act.formula}\nderivative: {act.derivative_formula}"


def activation_explorer(
    name: str = "sigmoid", x_range: tuple[float, float] = (-5.0, 5.0)
) -> ActivationExplorer:
    """Lesson 05: pick an activation and see f and f' (from bpcourse.activations)."""
    return ActivationExplorer(name, x_range)


# --- lesson 06: training an MLP on a 2-D data set -------------------------------------------

DATASETS = ("moons", "spirals")
TIME_BUDGET = 2.0  # seconds: a run stops after the chunk of epochs that passes it
LIVE_EVERY = 0.5  # seconds between redraws of the live loss curve
BATCH_SIZES = {"1 (stochastic)": 1, "8": 8, "32": 32, "full batch": 0}  # 0 = the whole set


def _dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "moons":
        return make_moons(200, noise=0.2, seed=seed)
    if name == "spirals":
        return make_spirals(100, 3, noise=0.2, seed=seed)
    raise ValueError(f"data set must be one of {DATASETS}, got {name!r}")


def _append(history: History, part: History) -> None:
    """Add the epochs and steps of `part` (a later run of train) to `history`."""
    seen = history.examples_seen[-1] if history.examples_seen else 0
    elapsed = history.wall_time[-1] if history.wall_time else 0.0
    history.train_loss += part.train_loss
    history.train_accuracy += part.train_accuracy
    history.val_loss += part.val_loss
    history.val_accuracy += part.val_accuracy
    history.step_loss += part.step_loss
    history.examples_seen += [seen + n for n in part.examples_seen]
    history.wall_time += [elapsed + s for s in part.wall_time]


class TrainingExplorer(Explorer):
    """Train an MLP on moons or spirals with chosen settings; watch the loss and the regions.

    The settings only change `values`; the Train button (or `update()`) trains a new network
    `MLP([2, hidden, classes], activation, seed=seed)` with `bpcourse.training.train`, a few
    epochs at a time, redrawing the loss curve after each chunk while the widget is shown.
    State: `net`, `history`, `initial_loss` (before training), `status`.
    """

    title = "training explorer"

    def __init__(
        self,
        dataset: str = "moons",
        hidden: int = 16,
        activation: str = "relu",
        batch_size: int = 32,
        lr: float = 0.3,
        epochs: int = 100,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.values = {
            "dataset": dataset,
            "hidden": hidden,
            "activation": activation,
            "batch_size": batch_size,
            "lr": lr,
            "epochs": epochs,
        }
        self.seed = seed
        self.history = History()
        self.status = ""
        self.initial_loss = float("nan")
        self.net: MLP | None = None
        self._start((10, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        style = {"description_width": "initial"}
        layout = widgets.Layout(width="230px")
        train_button = widgets.Button(description="Train", button_style="primary")
        train_button.on_click(lambda _: self.update())
        return {
            "dataset": widgets.Dropdown(
                options=list(DATASETS),
                value=self.values["dataset"],
                description="data",
                layout=layout,
                style=style,
            ),
            "activation": widgets.Dropdown(
                options=["relu", "tanh", "sigmoid"],
                value=self.values["activation"],
                description="activation",
                layout=layout,
                style=style,
            ),
            "hidden": widgets.IntSlider(
                value=self.values["hidden"], min=2, max=64, description="hidden units", style=style
            ),
            "batch_size": widgets.Dropdown(
                options=list(BATCH_SIZES.items()),
                value=self.values["batch_size"],
                description="batch size",
                layout=layout,
                style=style,
            ),
            "lr": widgets.FloatLogSlider(
                value=self.values["lr"],
                base=10,
                min=-3,
                max=1,
                step=0.1,
                description="learning rate η",
                style=style,
            ),
            "epochs": widgets.IntSlider(
                value=self.values["epochs"],
                min=5,
                max=300,
                step=5,
                description="epochs",
                style=style,
            ),
            "train": train_button,
        }

    def widget(self) -> Any:
        """Controls in two rows, then the figure and the status."""
        box = super().widget()
        widgets = _ipywidgets()
        names = [["dataset", "activation", "batch_size", "train"], ["hidden", "lr", "epochs"]]
        rows = [widgets.HBox([self.controls[n] for n in row]) for row in names]
        box.children = (*rows, *box.children[1:])
        return box

    def _on_change(self, name: str, change: dict[str, Any]) -> None:
        self.values[name] = change["new"]  # settings wait for the Train button
        if self._html is not None:
            self._html.value = "<i>settings changed: press Train</i>"

    def compute(self) -> None:
        v = self.values
        X, y = _dataset(v["dataset"], self.seed)
        X_val, y_val = _dataset(v["dataset"], self.seed + 1)
        n_classes = int(y.max()) + 1
        self.data = (X, y)
        self.net = MLP([2, int(v["hidden"]), n_classes], v["activation"], seed=self.seed)
        self.history = History()
        self.initial_loss = evaluate(self.net, X, y)[0]  # about ln(classes) before training
        batch = int(v["batch_size"]) or None
        epochs, chunk = int(v["epochs"]), max(1, int(v["epochs"]) // 10)
        start, done = time.perf_counter(), 0
        next_draw = start + LIVE_EVERY
        self.status = ""
        while done < epochs:
            n = min(chunk, epochs - done)
            try:
                part = train(
                    self.net,
                    X,
                    y,
                    epochs=n,
                    batch_size=batch,
                    lr=float(v["lr"]),
                    seed=self.seed + done,
                    validation=(X_val, y_val),
                    progress=False,
                )
            except TrainingDivergedError:
                self.status = f"diverged in epoch {done + 1}: lower the learning rate"
                break
            _append(self.history, part)
            done += n
            if time.perf_counter() - start > TIME_BUDGET and done < epochs:
                self.status = f"stopped after {done} epochs (time limit {TIME_BUDGET:g} s)"
                break
            if self._output is not None and done < epochs and time.perf_counter() > next_draw:
                self.redraw()  # the live loss curve, at most every LIVE_EVERY seconds
                next_draw = time.perf_counter() + LIVE_EVERY
        seconds = time.perf_counter() - start
        if not self.status:
            self.status = f"trained {done} epochs in {seconds:.2f} s"
        losses = self.history.train_loss
        if losses and losses[-1] > self.initial_loss:
            self.status += "; the loss went up: lower the learning rate"

    def draw(self) -> None:
        ax_loss, ax_regions = self.figure.subplots(1, 2)
        if self.history.epochs:
            plot_metric(self.history, "loss", ax=ax_loss, mark_best=False)
        ax_loss.set_xlim(0.5, int(self.values["epochs"]) + 0.5)
        status = self.status.replace("; ", "\n")  # one line each, to fit above the panel
        ax_loss.set_title(f"loss per epoch\n{status}", fontsize=10)
        if self.net is not None:
            X, y = self.data
            plot_decision_boundary(self.net, X, y, ax=ax_regions, resolution=120)
        self.figure.suptitle(self._settings(), fontsize=10)

    def _settings(self) -> str:
        v = self.values
        batch = int(v["batch_size"]) or "full"
        classes = 2 if v["dataset"] == "moons" else 3
        return (
            f"{v['dataset']}: MLP([2, {v['hidden']}, {classes}], {v['activation']}), "
            f"batch size {batch}, "
            f"η = {float(v['lr']):.3g}, {v['epochs']} epochs"
        )

    def text(self) -> str:
        h = self.history
        if not h.epochs:
            return f"{self._settings()}\n{self.status}"
        return (
            f"{self._settings()}\n{self.status}; training loss {h.train_loss[0]:.3f} -> "
            f"{h.train_loss[-1]:.3f}, training accuracy {h.train_accuracy[-1]:.1%}, "
            f"validation accuracy {h.val_accuracy[-1]:.1%}"
        )


def training_explorer(
    dataset: str = "moons",
    hidden: int = 16,
    activation: str = "relu",
    batch_size: int = 32,
    lr: float = 0.3,
    epochs: int = 100,
    seed: int = 0,
) -> TrainingExplorer:
    """Lesson 06: train an MLP on a 2-D data set; batch_size 0 means the full batch."""
    return TrainingExplorer(dataset, hidden, activation, batch_size, lr, epochs, seed)
