"""Lesson 06's explorer: train an MLP on a 2-D data set and watch the loss and the regions."""

from __future__ import annotations

import time
from typing import Any

from bpcourse.data import make_moons, make_spirals
from bpcourse.network import MLP
from bpcourse.plots.classification import plot_decision_boundary
from bpcourse.plots.training import plot_metric
from bpcourse.training import History, TrainingDivergedError, evaluate, train
from bpcourse.widgets.base import Explorer, _ipywidgets, dropdown, int_slider, log_slider

__all__ = ["BATCH_SIZES", "DATASETS", "TrainingExplorer", "training_explorer"]

DATASETS = ("moons", "spirals")
CHUNKS = 10  # a run trains its epochs in this many chunks, redrawing the live curve between
LIVE_EVERY = 0.5  # seconds between redraws of the live loss curve (drawing only, not results)
BATCH_SIZES = {"1 (stochastic)": 1, "8": 8, "32": 32, "full batch": 0}  # 0 = the whole set
CHANGED = "<i>settings changed: press Train</i>"


def _dataset(name: str, seed: int) -> tuple[Any, Any]:
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
    `MLP([2, hidden, classes], activation, seed=seed)` with `bpcourse.training.train` for
    exactly `epochs` epochs (the same settings always give the same network, on any machine),
    redrawing the loss curve between chunks while the widget is shown.
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
        self.trained_values: dict[str, Any] = {}  # the settings of the network shown
        self._start((10, 4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        train_button = widgets.Button(description="Train", button_style="primary")
        train_button.on_click(lambda _: self.update())
        v = self.values
        return {
            "dataset": dropdown(widgets, DATASETS, v["dataset"], "data"),
            "activation": dropdown(
                widgets, ["relu", "tanh", "sigmoid"], v["activation"], "activation"
            ),
            "hidden": int_slider(widgets, v["hidden"], 2, 64, "hidden units"),
            "batch_size": dropdown(
                widgets, list(BATCH_SIZES.items()), v["batch_size"], "batch size"
            ),
            "lr": log_slider(widgets, v["lr"], 0.001, 10, "learning rate η"),
            "epochs": int_slider(widgets, v["epochs"], 5, 300, "epochs", step=5),
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
            stale = self.values != self.trained_values
            self._html.value = CHANGED if stale else self.html()

    def compute(self) -> None:
        v = self.values
        self.trained_values = dict(v)
        X, y = _dataset(v["dataset"], self.seed)
        X_val, y_val = _dataset(v["dataset"], self.seed + 1)
        n_classes = int(y.max()) + 1
        self.data = (X, y)
        self.net = MLP([2, int(v["hidden"]), n_classes], v["activation"], seed=self.seed)
        self.history = History()
        self.initial_loss = evaluate(self.net, X, y)[0]  # about ln(classes) before training
        batch = int(v["batch_size"]) or None
        epochs, chunk = int(v["epochs"]), max(1, int(v["epochs"]) // CHUNKS)
        done, next_draw = 0, time.perf_counter() + LIVE_EVERY
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
            if self._output is not None and done < epochs and time.perf_counter() > next_draw:
                self.redraw()  # the live loss curve, at most every LIVE_EVERY seconds
                next_draw = time.perf_counter() + LIVE_EVERY
        if not self.status:
            self.status = f"trained {done} epochs"
        losses = self.history.train_loss
        if losses and losses[-1] > self.initial_loss:
            self.status += "; the loss went up: lower the learning rate"

    def draw(self) -> None:
        ax_loss, ax_regions = self.figure.subplots(1, 2)
        if self.history.epochs:
            plot_metric(self.history, "loss", ax=ax_loss, mark_best=False)
        ax_loss.set_xlim(0.5, int(self.trained_values["epochs"]) + 0.5)
        status = self.status.replace("; ", "\n")  # one line each, to fit above the panel
        ax_loss.set_title(f"loss per epoch\n{status}", fontsize=10)
        if self.net is not None:
            X, y = self.data
            plot_decision_boundary(self.net, X, y, ax=ax_regions, resolution=120)
        self.figure.suptitle(self._settings(), fontsize=10)

    def _settings(self) -> str:
        v = self.trained_values or self.values
        batch = int(v["batch_size"]) or "full"
        classes = 2 if v["dataset"] == "moons" else 3
        return (
            f"{v['dataset']}: MLP([2, {v['hidden']}, {classes}], {v['activation']}), "
            f"batch size {batch}, "
            f"η = {float(v['lr']):g}, {v['epochs']} epochs"
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


training_explorer = TrainingExplorer  # lesson 06 calls it by this name
