"""Lesson 04's explorer: the backward pass of a small sigmoid network, one δ at a time."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpcourse.activations import sigmoid
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.plots.network import diagram_limits, draw_network
from bpcourse.widgets.base import Explorer, use_static

__all__ = [
    "BackpropStep",
    "BackwardStepper",
    "ForwardBackward",
    "backward_stepper",
    "forward_backward",
]


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
    y: np.ndarray  # the target
    loss: float
    z: list[np.ndarray] = field(default_factory=list)
    a: list[np.ndarray] = field(default_factory=list)
    W: list[np.ndarray] = field(default_factory=list)
    b: list[np.ndarray] = field(default_factory=list)
    delta: list[np.ndarray] = field(default_factory=list)  # = db for one example
    dW: list[np.ndarray] = field(default_factory=list)
    db: list[np.ndarray] = field(default_factory=list)


def forward_backward(net: MLP, x: np.ndarray, y: np.ndarray) -> ForwardBackward:
    """Run the library's forward and backward pass on one example and read off every number:
    z and a from the activation layers' caches, W and the gradients from the dense layers.
    For one example $\\partial \\mathcal L/\\partial b^{(l)} = \\delta^{(l)}$, so delta is read
    from b.grad.
    """
    loss = net.loss_and_backward(x[None, :], y[None, :], "half_squared_error")
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    activations = [layer for layer in net.layers if isinstance(layer, ActivationLayer)]
    if len(activations) != len(dense):
        raise ValueError("the stepper needs an activation after every layer (output_activation)")
    empty = np.zeros(0)
    fb = ForwardBackward(x, y, loss, [empty], [x], [empty], [empty], [empty], [empty], [empty])
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
    half squared error $\mathcal L = \tfrac12\lVert a^{(L)} - y\rVert^2$ ($a^{(L)} = \hat y$, y the
    target). `steps` lists every `BackpropStep`; the setting "step" is the index shown (Next/Back
    move it).
    """

    title = "backward-pass stepper"

    def __init__(
        self,
        sizes: Sequence[int] = (2, 2, 1),
        x: Sequence[float] = (1.0, 0.5),
        y: Sequence[float] = (1.0,),
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
        self.fb = forward_backward(self.net, np.asarray(x, float), np.asarray(y, float))
        self.steps = self._make_steps()
        self.values = {"step": 0}
        (x0, x1), (y0, y1) = diagram_limits(self.sizes)
        width = 4.5 * max(2, len(self.sizes) - 1)  # inches: 9 for one hidden layer
        self._diagram_height = width * (y1 - y0) / (x1 - x0)
        self._start((width, self._diagram_height + 1.4))

    # the steps
    def _make_steps(self) -> list[BackpropStep]:
        fb, L = self.fb, len(self.sizes) - 1
        y_hat = fb.a[L]
        squares = " + ".join(f"({_n(y_hat[j])} - {_n(fb.y[j])})^2" for j in range(len(y_hat)))
        steps = [
            BackpropStep(
                "forward",
                "forward pass: every z and a, then the loss",
                rf"\mathcal{{L}} = \frac{{1}}{{2}}\sum_j (a^{{({L})}}_j - y_j)^2",
                rf"\mathcal{{L}} = \frac{{1}}{{2}}\left[{squares}\right] = {fb.loss:.4g}",
                np.array([fb.loss]),
                np.array([0.5 * np.sum((y_hat - fb.y) ** 2)]),
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
            hand = (a - fb.y[j]) * slope
            formula = rf"\delta{sup}{sub} = (a{sup}{sub} - y{sub})\; a{sup}{sub}(1 - a{sup}{sub})"
            numbers = rf"= ({_n(a)} - {_n(fb.y[j])}) \cdot {_n(a)}\,(1 - {_n(a)})"
            edges: tuple[tuple[int, int, int], ...] = ()
            explanation = (
                "Output unit: how ℒ changes with the output a = ŷ, times how a changes with z."
            )
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
            rf"\frac{{\partial \mathcal{{L}}}}{{\partial w{sup}_{{jk}}}} = "
            rf"\delta{sup}_j\, a{below}_k, \quad"
            rf"\frac{{\partial \mathcal{{L}}}}{{\partial b{sup}_j}} = \delta{sup}_j",
            rf"\frac{{\partial \mathcal{{L}}}}{{\partial W{sup}}} = "
            rf"\delta{sup} (a{below})^\top = [{entries}]",
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
        new_loss = float(0.5 * np.sum((self.net.predict(fb.x[None, :])[0] - fb.y) ** 2))
        self.net.load_state(state)
        a = fb.a[0]  # by hand: forward with W - lr dW, b - lr db
        for layer in range(1, L + 1):
            W = fb.W[layer] - self.lr * fb.dW[layer]
            b = fb.b[layer] - self.lr * fb.db[layer]
            a = sigmoid(W @ a + b)
        return BackpropStep(
            "update",
            f"one gradient-descent step with η = {self.lr:g}",
            r"W^{(l)} \leftarrow W^{(l)} - \eta\, "
            r"\frac{\partial \mathcal{L}}{\partial W^{(l)}},\quad"
            r"b^{(l)} \leftarrow b^{(l)} - \eta\, \delta^{(l)}",
            rf"\mathcal{{L}}: {fb.loss:.4g} \rightarrow {new_loss:.4g}",
            np.array([new_loss]),
            np.array([0.5 * np.sum((a - fb.y) ** 2)]),
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
                    lines.append(f"y = {fb.y[j]:g}")
                if (layer, j) in deltas:
                    lines.append(f"δ = {fb.delta[layer][j]:.4f}")
                node_text[(layer, j)] = "\n".join(lines)
        edge_text = {}
        for layer in range(1, len(self.sizes)):
            for j in range(self.sizes[layer]):
                for k in range(self.sizes[layer - 1]):
                    label = f"w = {fb.W[layer][j, k]:.3f}"
                    if layer in layers:
                        label += f"\n∂ℒ/∂w = {fb.dW[layer][j, k]:.4f}"
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
        # the formula and its numbers are drawn under the diagram: here only the words
        return f"<b>Step {index} of {len(self.steps) - 1}.</b> {html.escape(step.explanation)}"

    def text(self) -> str:
        lines = [
            f"Backward pass of MLP({self.sizes}, sigmoid) on x = {self.fb.x.tolist()}, "
            f"y = {self.fb.y.tolist()}, ℒ = ½‖a − y‖²; values from the library's backprop."
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


backward_stepper = BackwardStepper  # lesson 04 calls it by this name
