"""Lesson 09's explorer: penalty strength and dropout rate against the training and
validation curves of a network trained on a small subset of the digits."""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.data import Split
from bpcourse.overfitting import FitResult, Regulariser, fit, small_digits
from bpcourse.widgets.base import STYLE, Explorer, dropdown, log_choices

__all__ = ["TRAINING_SIZES", "RegularisationExplorer", "regularisation_explorer"]

TRAINING_SIZES = (50, 100, 200, 500)  # of the 1,079 training images (more: too slow to retrain)
TRAIN_COLOR, VAL_COLOR, BASE_COLOR = "C0", "C1", "0.55"


def strength_slider(widgets: Any, value: float, low: float, high: float, description: str) -> Any:
    """A slider over 0 and `log_choices(low, high, value)`: off, then 1, 2, 3, 5 per decade."""
    choices = [0.0, *log_choices(low, high, float(value) or low)]
    return widgets.SelectionSlider(
        options=[(f"{v:g}", v) for v in choices],
        value=float(value),
        description=description,
        continuous_update=False,
        style=STYLE,
    )


class RegularisationExplorer(Explorer):
    """Train on `n_train` digits with an L2 or L1 penalty and dropout; see both curves.

    Every change trains a new `dropout_mlp([64, hidden, 10])` with
    `bpcourse.overfitting.fit` for exactly `epochs` epochs from the same seeded start (a
    second or so at the defaults). The left panel shows the loss per epoch (the data
    loss, without the penalty, measured in evaluation mode), the right one the accuracy; the
    grey dashed curve is the validation curve of the same network trained without any
    regularisation, for comparison.
    State: `result` (a `bpcourse.overfitting.FitResult`), `baseline` (the unregularised run),
    `shown` (the settings they were trained with: the figure and the text name these, not
    `values`, which a control may already have changed while a run was going on).
    """

    title = "regularisation explorer"

    def __init__(
        self,
        l2: float = 0.0,
        l1: float = 0.0,
        dropout: float = 0.0,
        n_train: int = 100,
        hidden: int = 256,
        epochs: int = 100,
        lr: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.values = {"l2": l2, "l1": l1, "dropout": dropout, "n_train": n_train}
        self.options: dict[str, Any] = {"hidden": hidden, "epochs": epochs, "lr": lr, "seed": seed}
        self._data: dict[int, Split] = {}
        self._baselines: dict[int, FitResult] = {}
        self.result: FitResult | None = None
        self.baseline: FitResult | None = None
        self.shown: dict[str, Any] = dict(self.values)
        self._start((10, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        v = self.values
        return {
            "l2": strength_slider(widgets, v["l2"], 1e-4, 1.0, "L2 strength λ"),
            "l1": strength_slider(widgets, v["l1"], 1e-5, 0.1, "L1 strength λ"),
            "dropout": widgets.FloatSlider(
                value=float(v["dropout"]),
                min=0.0,
                max=0.9,
                step=0.1,
                description="dropout p",
                continuous_update=False,
                style=STYLE,
            ),
            "n_train": dropdown(widgets, list(TRAINING_SIZES), v["n_train"], "training images"),
        }

    def regulariser(self, values: dict[str, Any] | None = None) -> Regulariser:
        v = self.values if values is None else values
        return Regulariser(l2=float(v["l2"]), l1=float(v["l1"]), dropout=float(v["dropout"]))

    def compute(self) -> None:
        values = dict(self.values)  # what this run trains with, kept with its result
        n = int(values["n_train"])
        if n not in self._data:
            self._data[n] = small_digits(n, seed=int(self.options["seed"]))
        data = self._data[n]
        o = self.options
        settings: dict[str, Any] = {"hidden": o["hidden"], "epochs": o["epochs"], "lr": o["lr"]}
        settings["seed"] = int(o["seed"])
        if n not in self._baselines:
            self._baselines[n] = fit(data, Regulariser(), **settings)
        regulariser = self.regulariser(values)
        plain = regulariser == Regulariser()
        result = self._baselines[n] if plain else fit(data, regulariser, **settings)
        self.baseline, self.result, self.shown = self._baselines[n], result, values

    def draw(self) -> None:
        assert self.result is not None and self.baseline is not None
        ax_loss, ax_acc = self.figure.subplots(1, 2)
        h, base = self.result.history, self.baseline.history
        epochs = np.arange(1, h.epochs + 1)
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(epochs, getattr(h, f"train_{metric}"), color=TRAIN_COLOR, label="training")
            ax.plot(epochs, getattr(h, f"val_{metric}"), color=VAL_COLOR, label="validation")
            ax.plot(
                epochs,
                getattr(base, f"val_{metric}"),
                color=BASE_COLOR,
                linestyle="--",
                label="validation, no regularisation",
            )
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.grid(True, alpha=0.3)
        ax_loss.set_yscale("log")
        ax_loss.set_title("loss per epoch (data loss, without the penalty)", fontsize=10)
        ax_acc.set_ylim(top=1.01)
        ax_acc.set_title(
            f"accuracy: training {self.result.train_accuracy:.1%}, "
            f"validation {self.result.val_accuracy:.1%}",
            fontsize=10,
        )
        ax_loss.legend(loc="best", fontsize=9)
        ax_acc.legend(loc="lower right", fontsize=9)
        self.figure.suptitle(self._settings(), fontsize=10)

    def _settings(self) -> str:
        v, o = self.shown, self.options
        return (
            f"{v['n_train']} training digits, MLP([64, {o['hidden']}, 10]), "
            f"L2 λ = {float(v['l2']):g}, L1 λ = {float(v['l1']):g}, dropout p = "
            f"{float(v['dropout']):g}, {o['epochs']} epochs, η = {o['lr']:g}"
        )

    def text(self) -> str:
        assert self.result is not None and self.baseline is not None
        r, b = self.result, self.baseline
        return (
            f"{self._settings()}\n"
            f"final accuracy: training {r.train_accuracy:.1%}, validation {r.val_accuracy:.1%} "
            f"(gap {r.train_accuracy - r.val_accuracy:.1%}); without regularisation: "
            f"training {b.train_accuracy:.1%}, validation {b.val_accuracy:.1%}"
        )


regularisation_explorer = RegularisationExplorer  # lesson 09 calls it by this name
