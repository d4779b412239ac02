"""Deep ReLU networks with and without batch normalisation, trained on the digits (lesson 10).

    net = deep_mlp(depth=10, batchnorm=True)              # 9 x (Dense, BatchNorm, ReLU), Dense
    run = train_deep(load_digits(), depth=10, lr=0.1, batchnorm=True)
    run.train_loss                                        # (epochs + 1,): epoch 0 is the start

Everything is seeded and trains a fixed number of epochs, so a run is the same every time.
A run whose loss overflows (a `TrainingDivergedError`) is kept, with `diverged_at` set and the
remaining losses NaN, so that a learning-rate sweep can show where training breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpcourse.batchnorm import BatchNorm
from bpcourse.data import Split
from bpcourse.layers import ActivationLayer, Dense, Layer
from bpcourse.losses import get_loss
from bpcourse.network import Sequential
from bpcourse.optim import GradientDescent
from bpcourse.training import History, TrainingDivergedError, evaluate, run_epoch
from bpcourse.validation import check_int, check_positive

__all__ = ["DeepRun", "deep_mlp", "hidden_signal_sizes", "initial_loss", "train_deep"]


def deep_mlp(
    depth: int,
    width: int = 32,
    batchnorm: bool = False,
    init_scale: float = 1.0,
    n_in: int = 64,
    n_out: int = 10,
    seed: int = 0,
) -> Sequential:
    """`depth` Dense layers: (depth - 1) x [Dense(width), BatchNorm if asked, ReLU], then Dense.

    Weights are He-normal, $N(0, 2/n_{in})$, multiplied by `init_scale` (1: He; 0.5 or 2:
    a deliberately bad start); biases 0. The same seed gives the same weights with and
    without batch norm, so the two networks differ only by the BatchNorm layers.
    Input (N, n_in), output logits (N, n_out).
    """
    depth = check_int(depth, "deep_mlp: depth (number of Dense layers)")
    width = check_int(width, "deep_mlp: width")
    check_positive(init_scale, "deep_mlp: init_scale")
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    size = n_in
    for i in range(1, depth + 1):
        out = n_out if i == depth else width
        dense = Dense(size, out, "he_normal", rng, name=f"dense{i}")
        dense.W.value *= init_scale
        layers.append(dense)
        if i < depth:
            if batchnorm:
                layers.append(BatchNorm(out, name=f"bn{i}"))
            layers.append(ActivationLayer("relu", name=f"relu{i}"))
        size = out
    return Sequential(layers)


@dataclass
class DeepRun:
    """One training run: its settings, its network and its training loss per epoch.

    `train_loss` (epochs + 1,) is the loss on the whole training set: before training
    (index 0, see `initial_loss`), then after each epoch in evaluation mode; NaN after a
    divergence.
    `diverged_at` is the epoch in which the loss overflowed, or None.
    """

    depth: int
    lr: float
    batchnorm: bool
    init_scale: float
    net: Sequential
    history: History
    train_loss: np.ndarray
    diverged_at: int | None

    @property
    def final_loss(self) -> float:
        """The last training loss (NaN if the run diverged)."""
        return float(self.train_loss[-1])

    def label(self) -> str:
        return "with batch norm" if self.batchnorm else "without batch norm"


def train_deep(
    data: Split,
    depth: int = 10,
    lr: float = 0.1,
    batchnorm: bool = False,
    init_scale: float = 1.0,
    width: int = 32,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
) -> DeepRun:
    """Train `deep_mlp(depth, width, batchnorm, init_scale, seed=seed)` on `data`'s training
    part with plain mini-batch gradient descent (softmax cross-entropy), for `epochs` epochs.

    Returns a `DeepRun`; a run that diverges is returned too (see the module docstring).
    """
    epochs = check_int(epochs, "train_deep: epochs")
    X, y = data.X_train, data.y_train
    net = deep_mlp(depth, width, batchnorm, init_scale, X.shape[1], int(y.max()) + 1, seed)
    loss = get_loss("softmax_cross_entropy")
    optimizer = GradientDescent(net.parameters(), lr)
    rng = np.random.default_rng(seed)
    history, diverged_at = History(), None
    losses = np.full(epochs + 1, np.nan)
    losses[0] = initial_loss(net, X, y)
    for epoch in range(1, epochs + 1):
        try:
            run_epoch(net, X, y, loss, optimizer, batch_size, rng, history, epoch)
        except TrainingDivergedError:
            diverged_at = epoch
            break
        with np.errstate(over="ignore", invalid="ignore"):  # a loss may grow without diverging
            value, acc = evaluate(net, X, y, loss)
        history.train_loss.append(value)
        history.train_accuracy.append(acc)
        losses[epoch] = value if np.isfinite(value) else np.nan
    return DeepRun(depth, lr, batchnorm, init_scale, net, history, losses, diverged_at)


def initial_loss(net: Sequential, X: np.ndarray, y: np.ndarray) -> float:
    """The loss of the untrained `net` on (X (N, n_in), y (N,)), batch norm using the batch
    statistics of all of X (training mode: the running averages have seen nothing yet).

    The running averages are left as they were.
    """
    saved = {name: value.copy() for name, value in net.buffers().items()}
    with np.errstate(over="ignore", invalid="ignore"):
        value = get_loss("softmax_cross_entropy")(net.forward(X, training=True), y)[0]
    buffers = net.buffers()
    for name, before in saved.items():
        buffers[name][...] = before
    return float(value)


def hidden_signal_sizes(net: Sequential, X: np.ndarray) -> np.ndarray:
    """The standard deviation of every hidden activation a(l) (each ReLU's output) when X
    (N, n_in) goes through `net` in training mode; shape (number of ReLU layers,).

    The running averages are left as they were.
    """
    saved = {name: value.copy() for name, value in net.buffers().items()}
    sizes, a = [], X
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in net.layers:
            a = layer.forward(a, training=True)
            if isinstance(layer, ActivationLayer):
                sizes.append(float(a.std()))
    buffers = net.buffers()
    for name, before in saved.items():
        buffers[name][...] = before
    return np.array(sizes)
