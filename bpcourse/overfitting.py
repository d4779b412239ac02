r"""Overfitting on purpose, and the regularisers that fight it (lesson 09).

A small stratified subset of the digits' training images is easy to memorise: a network
reaches 100% training accuracy on it while its validation accuracy stalls. `fit` trains one
network on such a subset with any mix of the course's regularisers, and `compare` trains
one per setting, all from the same initial weights and the same shuffling:

    data = small_digits(100)
    results = compare(data, {"none": Regulariser(), "L2": Regulariser(l2=0.03),
                             "dropout": Regulariser(dropout=0.5),
                             "early stopping": Regulariser(patience=10)})
    results["L2"].val_accuracy, results["L2"].history        # final numbers, curves

| `Regulariser` field | added to the loss | added to $dW$ | library |
|---|---|---|---|
| `l2` = $\lambda$ | $\frac\lambda2\sum\lVert W\rVert_F^2$ | $\lambda W$ | `l2_penalty` |
| `l1` = $\lambda$ | $\lambda\sum\lvert w\rvert$ | $\lambda\,\mathrm{sign}(W)$ | `l1_penalty` |
| `dropout` = $p$ | (drops each hidden unit with probability $p$ in training) | | `Dropout` |
| `patience` | (stops after that many epochs without a lower validation loss) | | `train` |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from bpcourse.activations import get_activation
from bpcourse.data import Split, load_digits
from bpcourse.dropout import Dropout, check_dropout_probability
from bpcourse.init import default_init_for
from bpcourse.layers import ActivationLayer, Dense, Layer
from bpcourse.network import Sequential
from bpcourse.training import History, evaluate, train
from bpcourse.validation import check_int, check_positive

__all__ = [
    "FitResult",
    "Regulariser",
    "compare",
    "dropout_mlp",
    "fit",
    "small_digits",
]


def small_digits(n_train: int = 150, seed: int = 0) -> Split:
    """`n_train` of the digits' 1,079 training images (stratified: about n_train/10 per class),
    and all 359 validation and 359 test images, standardised as `load_digits` does.

    The subset depends only on `seed`; n_train must be between 10 and 1,079.
    """
    n_train = check_int(n_train, "n_train", minimum=10)
    digits = load_digits()
    if n_train > len(digits.y_train):
        raise ValueError(f"n_train must be at most {len(digits.y_train)}, got {n_train}")
    rng = np.random.default_rng(seed)
    classes = np.unique(digits.y_train)
    per_class = [rng.permutation(np.flatnonzero(digits.y_train == c)) for c in classes]
    # deal the classes round-robin, so any n_train keeps the proportions to within one image
    order = [idx[k] for k in range(max(map(len, per_class))) for idx in per_class if k < len(idx)]
    chosen = np.sort(np.array(order[:n_train]))
    return replace(
        digits,
        X_train=digits.X_train[chosen],
        y_train=digits.y_train[chosen],
        images=(digits.images[0][chosen], *digits.images[1:]),
    )


def dropout_mlp(
    sizes: list[int],
    dropout: float = 0.0,
    activation: str = "relu",
    seed: int = 0,
) -> Sequential:
    """An MLP (logits out) with a `Dropout(dropout)` after every hidden activation.

    With `dropout=0` it has no dropout layers and the same weights as `MLP(sizes, activation,
    seed=seed)`: the layers draw their initial weights from one generator in the same order.
    """
    p = check_dropout_probability(dropout, "dropout_mlp")
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
    hidden = get_activation(activation).name
    init = default_init_for(hidden)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i in range(1, len(sizes)):
        layers.append(Dense(sizes[i - 1], sizes[i], init, rng, name=f"dense{i}"))
        if i < len(sizes) - 1:
            layers.append(ActivationLayer(hidden, name=f"{hidden}{i}"))
            if p > 0:
                layers.append(Dropout(p, seed=seed + i, name=f"dropout{i}"))
    return Sequential(layers)


@dataclass(frozen=True)
class Regulariser:
    """One way to regularise (all off by default: plain training); see the module table."""

    l2: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    patience: int | None = None

    def __post_init__(self) -> None:
        check_positive(self.l2, "L2 strength", allow_zero=True)
        check_positive(self.l1, "L1 strength", allow_zero=True)
        check_dropout_probability(self.dropout, "Regulariser")
        check_int(self.patience, "patience (epochs)", allow_none=True)


@dataclass
class FitResult:
    """A trained network, its curves, and its final accuracies (of the network returned:
    after early stopping, the restored best one)."""

    net: Sequential
    history: History
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float


def fit(
    data: Split,
    regulariser: Regulariser = Regulariser(),
    hidden: int = 256,
    epochs: int = 100,
    lr: float = 0.1,
    batch_size: int = 32,
    seed: int = 0,
) -> FitResult:
    """Train `dropout_mlp([64, hidden, 10], regulariser.dropout, seed=seed)` on the data.

    Mini-batch gradient descent with softmax cross-entropy, validating after every epoch;
    the same `seed` gives the same initial weights and the same batches for every regulariser.
    """
    r = regulariser
    n_in, n_classes = data.X_train.shape[1], int(max(data.y_train.max(), data.y_val.max())) + 1
    net = dropout_mlp([n_in, hidden, n_classes], r.dropout, seed=seed)
    history = train(
        net,
        data.X_train,
        data.y_train,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        validation=(data.X_val, data.y_val),
        patience=r.patience,
        progress=False,
        l2=r.l2,
        l1=r.l1,
    )
    train_acc = evaluate(net, data.X_train, data.y_train)[1]
    val_acc = evaluate(net, data.X_val, data.y_val)[1]
    test_acc = evaluate(net, data.X_test, data.y_test)[1]
    return FitResult(net, history, train_acc, val_acc, test_acc)


def compare(
    data: Split,
    regularisers: Mapping[str, Regulariser],
    hidden: int = 256,
    epochs: int = 100,
    lr: float = 0.1,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, FitResult]:
    """`fit` once per named regulariser, all with the same settings (and so the same start)."""
    return {
        name: fit(data, r, hidden, epochs, lr, batch_size, seed) for name, r in regularisers.items()
    }
