"""The machinery every explorer shares: the `Explorer` base, the slider builders, and the
choice between the interactive widget and the static picture (see `bpcourse.widgets`)."""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "Explorer",
    "dropdown",
    "figure_png",
    "int_slider",
    "log_choices",
    "log_slider",
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
        # JupyterLab can deliver control changes on more than one kernel thread (the main
        # shell and a subshell): one update at a time, or two would draw into one figure.
        self._lock = threading.RLock()

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
        # Under the lock: a change arriving on another kernel thread while an update runs
        # waits for it, so the figure and text of that update name the settings it ran with.
        with self._lock:
            self.values[name] = change["new"]
            if not self._muted:
                self.update()

    def set(self, **values: Any) -> None:
        """Change settings by name (and their controls, if any), then update once."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise KeyError(f"{type(self).__name__} has no setting {unknown}; it has {self.values}")
        with self._lock:  # no change from another thread in between (see `_on_change`)
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
        """Recompute from the current settings and redraw the figure (and the widget).

        One at a time: a second caller (another kernel thread) waits for the first.
        """
        with self._lock:
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


# --- the slider builders: one place for the style every control shares ----------------------

STYLE = {"description_width": "initial"}


def log_choices(low: float, high: float, value: float) -> list[float]:
    """1, 2, 3, 5 times each power of ten from `low` to `high`, and `value` itself.

    A log slider over these shows exactly the value that is used: no 0.3 shown as 0.316.
    """
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    choices = {
        float(f"{m * 10.0**e:.6g}")
        for e in range(first, last + 1)
        for m in (1, 2, 3, 5)
        if low <= m * 10.0**e <= high
    }
    choices.add(float(value))
    return sorted(choices)


def log_slider(
    widgets: Any, value: float, low: float, high: float, description: str, **options: Any
) -> Any:
    """A slider over `log_choices(low, high, value)`, its readout the value itself."""
    return widgets.SelectionSlider(
        options=[(f"{v:g}", v) for v in log_choices(low, high, value)],
        value=float(value),
        description=description,
        continuous_update=False,
        style=STYLE,
        **options,
    )


def int_slider(
    widgets: Any, value: int, low: int, high: int, description: str, step: int = 1, **options: Any
) -> Any:
    """An integer slider from `low` to `high` (it updates when released)."""
    return widgets.IntSlider(
        value=int(value),
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        style=STYLE,
        **options,
    )


def dropdown(widgets: Any, options: Sequence[Any], value: Any, description: str) -> Any:
    """A drop-down list of `options` (a list of values or of (label, value) pairs)."""
    return widgets.Dropdown(
        options=list(options),
        value=value,
        description=description,
        layout=widgets.Layout(width="230px"),
        style=STYLE,
    )
