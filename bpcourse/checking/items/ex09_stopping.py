"""The early-stopping rule of exercise 09, the histories it is checked on, and its known slips.

`stopping_rule(val_losses, patience) -> (stop_epoch, best_epoch)`, epochs from 1: an epoch
improves when its validation loss is strictly lower than the best so far; training stops at
the end of the first epoch that completes `patience` epochs in a row without improvement (else
after the last), and keeps the best epoch up to the stop (the first, on a tie).
`STOPPING_MISTAKES` are the known wrong rules, each with what it tells the learner; each
differs from the right rule, and from every other, on the generated `histories()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpcourse.checking.compare import describe
from bpcourse.checking.safe import BadAnswer

HISTORY_SEED = 9

HISTORIES = 400


def stopping_rule(losses: Sequence[float], patience: int) -> tuple[int, int]:
    """(stop_epoch, best_epoch), epochs from 1: stop once `patience` epochs in a row have not
    improved on the best loss so far (an equal loss is no improvement), else after the last."""
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
        if waited >= patience:
            return epoch, best_epoch
    return len(losses), best_epoch


def histories(seed: int = HISTORY_SEED) -> list[tuple[list[float], list[float], int]]:
    """(train_losses, val_losses, patience): U-shaped, noisy validation curves rounded to 2
    decimals (so that ties happen), falling training curves, and a few special cases."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(HISTORIES):
        n = int(rng.integers(4, 31))
        t = np.arange(n)
        train = 2.0 * np.exp(-t / rng.uniform(2, 10)) + 0.05
        turn = rng.uniform(0, 1.3 * n)
        val = 0.5 + 0.02 * (t - turn) ** 2 / n + rng.normal(0, rng.uniform(0.005, 0.05), n)
        cases.append(
            (np.round(train, 3).tolist(), np.round(val, 2).tolist(), int(rng.integers(1, 7)))
        )
    falling = np.round(np.linspace(1.0, 0.4, 10), 3).tolist()
    cases += [
        (falling, falling, 3),  # never stops
        (falling, [0.9, 0.8, 0.8, 0.8, 0.7, 0.8, 0.8], 3),  # ties do not improve
        (falling, [0.9, 0.8, 0.85, 0.7, 0.75, 0.76, 0.77], 2),
        (falling, [0.5, 0.6, 0.7, 0.8], 1),
    ]
    return cases


def as_epochs(value: Any) -> tuple[int, int]:
    if value is None:
        raise BadAnswer("early_stopping returned None: return (stop_epoch, best_epoch)")
    if isinstance(value, np.ndarray) and value.shape == (2,) and value.dtype.kind in "iu":
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadAnswer(
            f"early_stopping should return two epochs (stop_epoch, best_epoch), got "
            f"{describe(value)}"
        )
    epochs = []
    for v in value:
        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise BadAnswer(f"an epoch is a whole number (counted from 1), got {describe(v)}")
        epochs.append(int(v))
    return epochs[0], epochs[1]


def _variant(rule: Callable[[Sequence[float], int], tuple[int, int]]):
    return lambda train, val, patience: rule(val, patience)


def _late(losses, patience):
    return stopping_rule(losses, patience + 1)


def _early(losses, patience):
    if patience == 1:  # waited >= 0: stops after the first epoch
        return 1, 1
    return stopping_rule(losses, patience - 1)


def _ties(losses, patience):
    return stopping_rule([x - 1e-9 * i for i, x in enumerate(losses)], patience)


def _from_zero(losses, patience):
    stop, best = stopping_rule(losses, patience)
    return stop - 1, best - 1


def _no_reset(losses, patience):
    best, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch = loss, epoch
        else:
            waited += 1
        if waited >= patience:
            return epoch, best_epoch
    return len(losses), best_epoch


def _previous(losses, patience):
    previous, best, best_epoch, waited = np.inf, np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch = loss, epoch
        waited = 0 if loss < previous else waited + 1
        previous = loss
        if waited >= patience:
            return epoch, best_epoch
    return len(losses), best_epoch


STOPPING_MISTAKES: list[tuple[str, Callable[[list[float], list[float], int], tuple[int, int]]]] = [
    (
        "it stops one epoch late: stop as soon as `patience` epochs in a row have not improved "
        "(count them, and stop when the count reaches patience)",
        _variant(_late),
    ),
    (
        "it stops one epoch early: it waits patience − 1 epochs without improvement; stop when "
        "the count of epochs without improvement reaches patience",
        _variant(_early),
    ),
    (
        "the best epoch it returns is the stopping epoch: return the epoch with the lowest "
        "validation loss seen, the one whose weights you would restore",
        lambda train, val, patience: (stopping_rule(val, patience)[0],) * 2,
    ),
    (
        "it stops on the training loss: overfitting shows in the validation loss, which is the "
        "one to watch (the training loss keeps falling)",
        lambda train, val, patience: stopping_rule(train, patience),
    ),
    (
        "an equal validation loss counts as an improvement: only a strictly lower loss resets "
        "the count",
        _variant(_ties),
    ),
    (
        "its epochs count from 0: epoch 1 is the first entry of the history (index 0)",
        _variant(_from_zero),
    ),
    (
        "the count of epochs without improvement is never reset: a new best loss sets it back to 0",
        _variant(_no_reset),
    ),
    (
        "the best epoch is taken over the whole history, including epochs after the stop: "
        "training never saw those",
        lambda train, val, patience: (
            stopping_rule(val, patience)[0],
            int(np.argmin(val)) + 1,
        ),
    ),
    (
        "it compares each loss with the previous epoch's: an improvement is a loss lower than "
        "the best so far",
        _variant(_previous),
    ),
    (
        "its best epoch counts from 0 (an index into val_losses): epochs count from 1, so the "
        "loss of epoch e is val_losses[e - 1]",
        lambda train, val, patience: (
            stopping_rule(val, patience)[0],
            stopping_rule(val, patience)[1] - 1,
        ),
    ),
    (
        "it returns (best_epoch, stop_epoch): return the two in the order (stop_epoch, best_epoch)",
        lambda train, val, patience: stopping_rule(val, patience)[::-1],
    ),
    (
        "it never stops early: it runs to the last epoch and keeps the best epoch of the whole "
        "history; stop at the end of the epoch where the count of epochs without improvement "
        "reaches patience",
        lambda train, val, patience: (len(val), int(np.argmin(val)) + 1),
    ),
]
