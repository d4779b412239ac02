"""Lesson 10's explorer: depth, learning rate and initial weight scale against the training
loss of a deep ReLU network on the digits, trained with and without batch normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.data import Split, load_digits
from bpcourse.deep_training import DeepRun, train_deep
from bpcourse.plots.batchnorm import loss_axis
from bpcourse.widgets.base import Explorer, dropdown, int_slider, log_slider

__all__ = ["INIT_SCALES", "BatchNormTrainingExplorer", "batchnorm_training_explorer"]

INIT_SCALES = (0.5, 1.0, 2.0)  # times He's standard deviation sqrt(2 / n_in)
PLAIN_COLOR, BN_COLOR = "C0", "C3"


class BatchNormTrainingExplorer(Explorer):
    """Train the same deep ReLU network twice, without and with batch norm; see both losses.

    Every change trains `bpcourse.deep_training.train_deep(data, depth, lr, batchnorm,
    init_scale, width, epochs, batch_size, seed)` for both settings of `batchnorm`, from the
    same seeded weights and batches, for exactly `epochs` epochs (a few seconds at the
    defaults; runs are cached). The figure shows the training loss per epoch on a log
    scale, a cross where a run diverged.
    State: `runs`, {False: the run without batch norm, True: the run with it}.
    """

    title = "batch-norm training explorer"

    def __init__(
        self,
        depth: int = 10,
        lr: float = 0.1,
        init_scale: float = 1.0,
        width: int = 32,
        epochs: int = 10,
        batch_size: int = 64,
        seed: int = 0,
        data: Split | None = None,
    ) -> None:
        super().__init__()
        self.values = {"depth": depth, "lr": lr, "init_scale": init_scale}
        self.options: dict[str, Any] = {
            "width": width,
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
        }
        self.data = data if data is not None else load_digits()
        self._cache: dict[tuple[int, float, float, bool], DeepRun] = {}
        self.runs: dict[bool, DeepRun] = {}
        self._start((10, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        v = self.values
        return {
            "depth": int_slider(widgets, v["depth"], 2, 16, "depth (Dense layers)"),
            "lr": log_slider(widgets, v["lr"], 0.001, 10.0, "learning rate η"),
            "init_scale": dropdown(widgets, list(INIT_SCALES), v["init_scale"], "init × He"),
        }

    def compute(self) -> None:
        v, o = self.values, self.options
        depth, lr, scale = int(v["depth"]), float(v["lr"]), float(v["init_scale"])
        for batchnorm in (False, True):
            key = (depth, lr, scale, batchnorm)
            if key not in self._cache:
                self._cache[key] = train_deep(
                    self.data,
                    depth,
                    lr,
                    batchnorm,
                    scale,
                    int(o["width"]),
                    int(o["epochs"]),
                    int(o["batch_size"]),
                    int(o["seed"]),
                )
            self.runs[batchnorm] = self._cache[key]

    def draw(self) -> None:
        ax = self.figure.subplots()
        for batchnorm, color in ((False, PLAIN_COLOR), (True, BN_COLOR)):
            run = self.runs[batchnorm]
            epochs = np.arange(len(run.train_loss))
            ax.plot(epochs, run.train_loss, "o-", color=color, markersize=3, label=run.label())
            if run.diverged_at is not None:
                last = run.diverged_at - 1
                ax.plot(
                    [run.diverged_at],
                    [run.train_loss[last]],
                    "x",
                    color=color,
                    markersize=12,
                    markeredgewidth=3,
                    label=f"{run.label()}: diverged in epoch {run.diverged_at}",
                )
        loss_axis(ax, chance_label="chance: ln 10")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss ℒ (cross-entropy)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
        ax.set_title(self._settings(), fontsize=10)

    def _settings(self) -> str:
        v, o = self.values, self.options
        return (
            f"depth {int(v['depth'])}, width {o['width']}, η = {float(v['lr']):g}, "
            f"init {float(v['init_scale']):g} × He, batch {o['batch_size']}, "
            f"{o['epochs']} epochs"
        )

    def text(self) -> str:
        lines = [self._settings()]
        for batchnorm in (False, True):
            run = self.runs[batchnorm]
            if run.diverged_at is not None:
                end = f"diverged in epoch {run.diverged_at}"
            else:
                end = f"final training loss {run.final_loss:.4f}"
            lines.append(f"{run.label():<20}: {end}")
        return "\n".join(lines)


batchnorm_training_explorer = BatchNormTrainingExplorer  # lesson 10 calls it by this name
