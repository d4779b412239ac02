"""Lesson 05's explorer: an activation f and its derivative f′ over a chosen range of z."""

from __future__ import annotations

from typing import Any

from bpcourse.activations import get_activation
from bpcourse.plots.functions import ELEMENTWISE, mathtext, plot_activation
from bpcourse.widgets.base import STYLE, Explorer, dropdown

__all__ = ["ActivationExplorer", "activation_explorer"]


class ActivationExplorer(Explorer):
    """An activation f and its derivative f' from the library's table, over a range of z.

    The formulas of f and f′ are drawn once, in the figure's title; the range of z is read
    out in words beside its slider (the slider's own readout is too narrow for two numbers).
    """

    title = "activation explorer"

    def __init__(self, name: str = "sigmoid", x_range: tuple[float, float] = (-5.0, 5.0)) -> None:
        super().__init__()
        self.values = {"name": get_activation(name).name, "x_range": tuple(x_range)}
        self._start((6.5, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        return {
            "name": dropdown(widgets, list(ELEMENTWISE), self.values["name"], "activation"),
            "x_range": widgets.FloatRangeSlider(
                value=self.values["x_range"],
                min=-10,
                max=10,
                step=0.5,
                description="z range",
                readout=False,
                continuous_update=False,
                style=STYLE,
            ),
            "x_range_readout": widgets.Label(layout=widgets.Layout(width="auto")),
        }

    def _range(self) -> tuple[float, float]:
        low, high = (float(v) for v in self.values["x_range"])
        return (low, high) if high > low else (low, low + 1.0)

    def compute(self) -> None:
        if "x_range_readout" in self.controls:
            low, high = self._range()
            self.controls["x_range_readout"].value = f"z from {low:g} to {high:g}"

    def draw(self) -> None:
        ax = self.figure.subplots()
        act = get_activation(self.values["name"])
        plot_activation(act, ax=ax, x_range=self._range(), title=False)
        ax.set_title(f"{act.name}:  {mathtext(act.formula)}\n{mathtext(act.derivative_formula)}")

    def html(self) -> str:
        low, high = self._range()
        return f"f (solid) and its derivative f′ (dashed) for z from {low:g} to {high:g}."

    def text(self) -> str:
        act = get_activation(self.values["name"])
        return f"{act.name}: {act.formula}\nderivative: {act.derivative_formula}"


activation_explorer = ActivationExplorer  # lesson 05 calls it by this name
