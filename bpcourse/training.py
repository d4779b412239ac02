"""Training loops: full-batch, stochastic and mini-batch gradient descent.

The batch size chooses the mode, as in the notes:

| mode | `batch_size` | one step uses |
|---|---|---|
| batch (standard) | `None` | the whole training set |
| stochastic | `1` | one example |
| mini-batch | e.g. `32` | a small random subset |

    history = train(net, X, y, epochs=20, batch_size=32, lr=0.1,
                    validation=(X_val, y_val), patience=5)

Each epoch shuffles the examples (seeded), takes one optimiser step per batch, then records
the loss and accuracy on the training and validation data. Training stops with a
`TrainingDivergedError` naming the step if the loss becomes NaN or infinite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bpcourse.clipping import clip_by_global_norm, clip_by_value
from bpcourse.diagnostics import Diagnostics
from bpcourse.layers import ActivationLayer
from bpcourse.losses import Loss, get_loss
from bpcourse.metrics import accuracy, is_classification
from bpcourse.network import Sequential
from bpcourse.optim import GradientDescent, Optimizer
from bpcourse.regularization import l1_penalty, l2_penalty
from bpcourse.validation import (
    NonFiniteError,
    ShapeError,
    as_float_array,
    check_finite,
    check_int,
)


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during training."""


@dataclass
class History:
    """What happened during training: one entry per epoch, and one per step."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    examples_seen: list[int] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def __repr__(self) -> str:
        last = {
            k: getattr(self, k)[-1]
            for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
            if getattr(self, k)
        }
        shown = ", ".join(f"{k}={v:.4f}" for k, v in last.items())
        return f"History(epochs={self.epochs}, {shown})"


def batches(n: int, batch_size: int | None, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index arrays covering range(n) once, shuffled when `rng` is given."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    size = n if batch_size is None else batch_size
    return [order[i : i + size] for i in range(0, n, size)]


@dataclass(frozen=True)
class StepOptions:
    """What happens between backward and the optimiser's step (all off by default).

    `l2`, `l1`: penalty strengths (see `regularization`); `clip_norm`, `clip_value`: gradient
    clipping (see `clipping`); `diagnostics`: a `Diagnostics` that records every few steps.
    """

    l2: float = 0.0
    l1: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None
    diagnostics: Diagnostics | None = None


def train_step(
    net: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    loss: Loss,
    optimizer: Optimizer,
    options: StepOptions = StepOptions(),
    validated: bool = False,
) -> float:
    """Forward, backward, penalties, clipping, one optimiser step; returns the batch's loss.

    The returned loss is the data loss plus any penalty: the quantity the step minimises.
    `validated=True` skips the input check (`train` checks its data once, before the loop).
    """
    value = net.loss_and_backward(X, y, loss, validated=validated)
    clipping = options.clip_value is not None or options.clip_norm is not None
    params = net.parameters() if options.l2 or options.l1 or clipping else []
    if options.l2:
        value += l2_penalty(params, options.l2)
    if options.l1:
        value += l1_penalty(params, options.l1)
    if options.clip_value is not None:
        clip_by_value(params, options.clip_value)
    if options.clip_norm is not None:
        clip_by_global_norm(params, options.clip_norm)
    if options.diagnostics is not None:
        options.diagnostics.before_step(net)
    optimizer.step()
    if options.diagnostics is not None:
        options.diagnostics.after_step(net)
    return value


def run_epoch(
    net: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    loss: Loss,
    optimizer: Optimizer,
    batch_size: int | None,
    rng: np.random.Generator | None,
    history: History | None = None,
    epoch: int = 0,
    options: StepOptions = StepOptions(),
    validated: bool = False,
) -> float:
    """One pass over the data, one optimiser step per batch; returns the mean step loss.

    X is checked once here (not on every batch) unless `validated` says it already was.

    Raises TrainingDivergedError, naming the epoch and step, as soon as a loss or any
    computation in the step overflows or becomes NaN.
    """
    if not validated:
        X, y = _check_data(net, X, y, "training data")
    y = np.asarray(y)
    if len(X) == 0:
        raise ShapeError(f"training data: the batch is empty (X has shape {X.shape})")
    total = 0.0
    start = time.perf_counter()
    order = batches(len(X), batch_size, rng)
    # Each batch is gathered into the same two arrays, allocated once per epoch: a fresh
    # (batch, n_in) array every step costs more than the copy itself (new pages each time).
    X_batch = np.empty((len(order[0]), *X.shape[1:]), X.dtype)
    y_batch = np.empty((len(order[0]), *y.shape[1:]), y.dtype)
    for step, idx in enumerate(order, start=1):
        n = len(idx)
        Xb = np.take(X, idx, axis=0, out=X_batch[:n], mode="clip")  # idx: always in range
        yb = np.take(y, idx, axis=0, out=y_batch[:n], mode="clip")
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                value = train_step(net, Xb, yb, loss, optimizer, options, validated=True)
            problem = "" if np.isfinite(value) else f"the loss became {value}"
        except (FloatingPointError, NonFiniteError) as exc:
            problem = f"a computation failed ({exc})"
        if problem:
            raise TrainingDivergedError(
                f"{problem} at epoch {epoch}, step {step} (batch of {len(idx)}); "
                f"the learning rate ({optimizer.lr:g}) may be too high or the inputs unscaled"
            )
        total += value * len(idx)
        if history is not None:
            history.step_loss.append(value)
            seen = history.examples_seen[-1] if history.examples_seen else 0
            history.examples_seen.append(seen + len(idx))
            elapsed = history.wall_time[-1] if history.wall_time else 0.0
            history.wall_time.append(elapsed + time.perf_counter() - start)
            start = time.perf_counter()
    return total / len(X)


def evaluate(
    net: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    loss: str | Loss = "softmax_cross_entropy",
    validated: bool = False,
) -> tuple[float, float]:
    """(loss, accuracy) of `net` on (X, y) in evaluation mode; accuracy is NaN for regression."""
    loss_fn = get_loss(loss)
    out = net.predict(X, validated=validated)
    value = loss_fn(out, y)[0]
    acc = accuracy(out, y, loss_fn) if is_classification(y) else float("nan")
    return value, acc


def _check_data(
    net: Sequential, X: np.ndarray, y: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    X = net.check_input(X)
    if len(X) == 0:
        raise ShapeError(f"{name}: the batch is empty (X has shape {X.shape}): nothing to train on")
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        y = check_finite(as_float_array(y, f"{name} targets"), f"{name} targets")
    if len(y) != len(X):
        raise ShapeError(f"{name}: {len(X)} inputs but {len(y)} targets")
    return X, y


def _check_output_matches_loss(net: Sequential, loss: Loss) -> None:
    last = net.layers[-1] if net.layers else None
    if loss.output == "logits" and isinstance(last, ActivationLayer):
        if last.activation.name in ("softmax", "sigmoid"):
            raise ValueError(
                f"{loss.name} takes logits, but the network ends with a {last.activation.name} "
                "layer, which would be applied twice; build it with output_activation='identity'"
            )


def train(
    net: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    loss: str | Loss = "softmax_cross_entropy",
    optimizer: Optimizer | None = None,
    lr: float = 0.1,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    patience: int | None = None,
    restore_best: bool = True,
    progress: bool = True,
    schedule: Callable[[int], float] | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    diagnostics: Diagnostics | None = None,
) -> History:
    """Train `net` on (X, y) and return its History.

    X (N, n_in), or (N, C, H, W) for a CNN; y labels (N,) or targets (N, C).
    `optimizer` defaults to plain gradient descent with learning rate `lr`; `schedule(epoch)`
    (epochs from 0) sets its learning rate before each epoch. With `validation` and
    `patience`, training stops when the validation loss has not improved for `patience`
    epochs, and (with `restore_best`) the best weights are put back. `l2`, `l1`, `clip_norm`,
    `clip_value` and `diagnostics` act on every step (see `train_step`). `progress` shows a
    tqdm bar (notebook or terminal).
    """
    loss_fn = get_loss(loss)
    X, y = _check_data(net, X, y, "training data")
    val = _check_data(net, *validation, "validation data") if validation is not None else None
    _check_output_matches_loss(net, loss_fn)
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size (None: the full batch)", allow_none=True)
    patience = check_int(patience, "patience (epochs)", allow_none=True)
    if patience is not None:
        if val is None:
            raise ValueError("early stopping (patience) needs validation data")
    options = StepOptions(l2, l1, clip_norm, clip_value, diagnostics)
    optimizer = optimizer or GradientDescent(net.parameters(), lr)
    rng = np.random.default_rng(seed) if shuffle else None

    history = History()
    best_loss, best_state, waited = np.inf, None, 0
    from tqdm.auto import tqdm

    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        if schedule is not None:
            optimizer.lr = schedule(epoch - 1)
        run_epoch(
            net, X, y, loss_fn, optimizer, batch_size, rng, history, epoch, options, validated=True
        )
        train_loss, train_acc = evaluate(net, X, y, loss_fn, validated=True)
        history.train_loss.append(train_loss)
        history.train_accuracy.append(train_acc)
        shown = {"loss": f"{train_loss:.4f}"}
        if val is not None:
            val_loss, val_acc = evaluate(net, *val, loss_fn, validated=True)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_acc)
            shown["val_loss"] = f"{val_loss:.4f}"
            if val_loss < best_loss:
                best_loss, waited, history.best_epoch = val_loss, 0, epoch
                best_state = net.state() if restore_best and patience is not None else None
            else:
                waited += 1
        bar.set_postfix(shown)
        if patience is not None and waited >= patience:
            history.stopped_early = True
            break
    bar.close()
    if best_state is not None and history.stopped_early:
        net.load_state(best_state)
    return history
