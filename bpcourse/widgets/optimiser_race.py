"""Lesson 08's explorer: the optimisers race on a 2-D surface, for a chosen η and β."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from bpcourse.plots.descent import plot_path_on_contours
from bpcourse.surfaces import SURFACES, Trajectory, get_surface, race
from bpcourse.widgets.base import STYLE, Explorer, _ipywidgets, dropdown, int_slider, log_slider

__all__ = ["OptimiserRace", "optimiser_race"]

FLOOR = 1e-12  # a loss gap below this is drawn at this height on the log scale
CEILING = 1e3  # a diverged curve is drawn up to this many times the starting gap, then ×


class OptimiserRace(Explorer):
    r"""Gradient descent, momentum, Nesterov, AdaGrad, RMSProp and Adam from one start.

    All share the learning rate $\eta$; $\beta$ is the momentum coefficient (momentum,
    Nesterov) and Adam's $\beta_1$. State after `update()`: `paths` (label -> Trajectory, from
    `bpcourse.surfaces.race`), `surface` and `shown` (the settings they were run with, which
    the figure and text name: a control may change `values` while a race is being run).
    """

    title = "optimiser race"

    def __init__(
        self, surface: str = "quadratic", lr: float = 0.05, beta: float = 0.9, steps: int = 100
    ) -> None:
        super().__init__()
        if surface.lower() not in SURFACES:
            get_surface(surface)  # raises, naming the surfaces there are
        self.values = {"surface": surface.lower(), "lr": lr, "beta": beta, "steps": steps}
        self.surface = get_surface(self.values["surface"])
        self.paths: dict[str, Trajectory] = {}
        self.shown: dict[str, Any] = dict(self.values)  # the settings `paths` were run with
        self._start((11, 4.5))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "surface": dropdown(widgets, list(SURFACES), self.values["surface"], "surface"),
            "lr": log_slider(widgets, self.values["lr"], 1e-4, 3.0, "learning rate η"),
            "beta": widgets.FloatSlider(
                value=float(self.values["beta"]),
                min=0.0,
                max=0.99,
                step=0.01,
                description="β (momentum, Adam β₁)",
                continuous_update=False,
                style=STYLE,
            ),
            "steps": int_slider(widgets, self.values["steps"], 10, 500, "steps", step=10),
        }

    def widget(self) -> Any:
        """Controls in two rows (in one, the β slider is squeezed to nothing), then the
        figure and the text."""
        box = super().widget()
        widgets = _ipywidgets()
        rows = [["surface", "lr"], ["beta", "steps"]]
        box.children = (
            *(widgets.HBox([self.controls[n] for n in row]) for row in rows),
            *box.children[1:],
        )
        return box

    def compute(self) -> None:
        values = dict(self.values)  # what this race runs with, kept with its paths
        surface = get_surface(values["surface"])
        paths = race(
            surface,
            lr=float(values["lr"]),
            beta=float(values["beta"]),
            steps=int(values["steps"]),
        )
        self.surface, self.paths, self.shown = surface, paths, values

    def gap(self, label: str) -> float:
        """Loss minus the minimum after the last step (inf if that optimiser diverged)."""
        path = self.paths[label]
        return path.final_loss - self.surface.minimum_value

    def draw(self) -> None:
        surface = self.surface
        ax_path, ax_loss = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        shown = {
            label: _until_it_leaves(path, surface.xlim, surface.ylim)
            for label, path in self.paths.items()
        }
        plot_path_on_contours(surface.loss, shown, ax=ax_path, xlim=surface.xlim, ylim=surface.ylim)
        ax_path.plot(*surface.minimum, "P", color="black", ms=10, zorder=6)
        for line in ax_path.get_lines():
            line.set_markersize(min(line.get_markersize(), 3) if line.get_marker() == "o" else 7)
        legend = ax_path.get_legend()
        if legend is not None:
            legend.remove()  # the loss panel's legend names the colours
        lr, beta = float(self.shown["lr"]), float(self.shown["beta"])
        ax_path.set_title(
            f"{surface.name}: η = {lr:g}, β = {beta:g}\n■ start  ★ end  ✚ minimum", fontsize=10
        )
        # up to 1e20 or so, a diverged curve would flatten every other one onto the bottom
        start_gap = float(surface.loss(np.asarray(surface.start))) - surface.minimum_value
        ceiling, top = CEILING * max(start_gap, FLOOR), 0.0
        for i, (label, path) in enumerate(self.paths.items()):
            gaps = np.maximum(path.losses - surface.minimum_value, FLOOR)
            if path.diverged:
                above = np.flatnonzero(~(gaps <= ceiling))  # inf and nan too
                if above.size:
                    gaps = gaps[: above[0] + 1].copy()
                    gaps[-1] = ceiling
            else:
                top = max(top, float(gaps.max()))
            label = f"{label} (diverged)" if path.diverged else label
            ax_loss.semilogy(np.arange(len(gaps)), gaps, color=f"C{(i + 3) % 10}", label=label)
            if path.diverged:
                ax_loss.plot(len(gaps) - 1, gaps[-1], "x", color=f"C{(i + 3) % 10}", ms=9)
        if any(path.diverged for path in self.paths.values()):
            ax_loss.set_ylim(top=2 * max(ceiling, top))
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel(r"$\mathcal{L}(w) - \mathcal{L}(w^*)$")
        ax_loss.set_title("loss above the minimum (× = diverged)", fontsize=10)
        ax_loss.grid(True, which="both", alpha=0.3)
        ax_loss.legend(fontsize=7)

    def _setting(self, loss: str) -> str:
        lr, beta = float(self.shown["lr"]), float(self.shown["beta"])
        return (
            f"{self.surface.name}, {loss}; start {self.surface.start}, "
            f"{int(self.shown['steps'])} steps, η = {lr:g}, β = {beta:g}."
        )

    def _gaps(self) -> list[str]:
        lines = ["loss above the minimum after the last step:"]
        for label in self.paths:
            gap = self.gap(label)
            lines.append(f"  {label:<17} {'diverged' if np.isinf(gap) else f'{gap:.3g}'}")
        return lines

    def text(self) -> str:
        return "\n".join([self._setting(f"ℒ(w) = {self.surface.formula}"), *self._gaps()])

    def html(self) -> str:
        """The settings with the loss as rendered maths (HTMLMath leaves <pre> alone), then
        the table of gaps."""
        loss = rf"$\mathcal{{L}}(w) = {self.surface.formula}$"
        setting = html.escape(self._setting("LOSS")).replace("LOSS", loss)
        return f"<p>{setting}</p><pre>{html.escape(chr(10).join(self._gaps()))}</pre>"


def _until_it_leaves(
    path: Trajectory, xlim: tuple[float, float], ylim: tuple[float, float]
) -> np.ndarray:
    """A diverged path's points (K + 1, 2) up to the first one outside the view, so that it
    leaves the picture once instead of striping it; a path that did not diverge, whole."""
    points = path.points
    if not path.diverged:
        return points
    inside = (
        (points[:, 0] >= xlim[0])
        & (points[:, 0] <= xlim[1])
        & (points[:, 1] >= ylim[0])
        & (points[:, 1] <= ylim[1])
    )
    outside = np.flatnonzero(~inside)
    return points if outside.size == 0 else points[: outside[0] + 1]


optimiser_race = OptimiserRace  # lesson 08 calls it by this name
