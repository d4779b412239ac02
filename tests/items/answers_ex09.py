"""Answers to exercises/09_overfitting_and_regularisation.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip (or a tuple of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex09_overfitting_and_regularisation import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "l2_penalty": 3,
    "l1_penalty": 3,
    "dropout_forward": 4,
    "dropout_backward": 3,
    "early_stopping": 4,
    "q_decay_factor": 1,
    "q_overfitting_curve": 1,
    "q_l1_sparsity": 1,
    "q_dropout_eval": 1,
}
RECALL = {"q_overfitting_curve"}  # the picture of overfitting: recall

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def l2_penalty(params, lam, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if name.startswith("W") or "biases" in slip:
            penalty += np.sum(value**2) if "no half" not in slip else 2 * np.sum(value**2)
            if "norms" in slip:
                penalty += np.sqrt(np.sum(value**2)) - np.sum(value**2)
            grads[name] = lam * value
            if "2λW" in slip:
                grads[name] = 2 * lam * value
            elif "λW/2" in slip:
                grads[name] = lam * value / 2
            elif "no λ" in slip:
                grads[name] = value.copy()
            elif "sign" in slip:
                grads[name] = -lam * value
            elif "W × 1.7" in slip:
                grads[name] = 1.7 * lam * value
            elif "in place" in slip:
                grads[name] = value  # the same array as the weight ...
                grads[name] *= lam  # ... so this scales the weight itself
        else:
            grads[name] = np.zeros_like(value)
    if "no bias keys" in slip:
        grads = {k: v for k, v in grads.items() if k.startswith("W")}
    if "order" in slip:
        return grads, float(lam / 2 * penalty)
    return float(lam / 2 * penalty), grads


def l1_penalty(params, lam, slip=()):
    slip = (slip,) if isinstance(slip, str) else slip
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if name.startswith("W") or "biases" in slip:
            if "no abs" in slip:
                penalty += np.sum(value)
            elif "squares" in slip:
                penalty += np.sum(value**2)
            else:
                penalty += np.sum(np.abs(value))
            if "±λ at 0" in slip:
                grads[name] = np.where(value >= 0, lam, -lam)
            elif "−λ at 0" in slip:
                grads[name] = lam * np.where(value > 0, 1.0, -1.0)
            elif "W/|W|" in slip:
                grads[name] = lam * value / np.abs(value)
            elif "sign" in slip:
                grads[name] = -lam * np.sign(value)
            elif "λW" in slip:
                grads[name] = lam * value
            elif "no λ" in slip:
                grads[name] = np.sign(value)
            else:
                grads[name] = lam * np.sign(value)
        else:
            grads[name] = np.zeros_like(value)
    return float(lam * penalty), grads


def dropout_forward(X, p, rng, training=True, slip=""):
    if not training and slip not in ("eval dropout", "eval scaled"):
        return X, None
    if slip == "eval scaled" and not training:
        return X * (1 - p), None
    if slip == "global rng":
        u = np.random.random(X.shape)  # noqa: NPY002  (the slip: the global generator)
    elif slip == "new rng":
        u = np.random.default_rng(0).random(X.shape)
    else:
        u = rng.random(X.shape)
    mask = (u < p) if slip in ("keep p", "keep p, ÷p") else (u >= p)
    mask = mask.astype(np.float64)
    if slip == "no rescale":
        out = X * mask
    elif slip in ("÷p", "keep p, ÷p"):
        out = X * mask / p
    elif slip == "×(1−p)":
        out = X * mask * (1 - p)
    else:
        out = X * mask / (1 - p)
    if slip == "scaled mask":
        mask = mask / (1 - p)
    if slip == "dropped mask":
        mask = 1 - mask  # 1 marks a dropped unit
    if slip == "order":
        return mask, out
    return out, mask


def dropout_backward(dout, mask, p, slip=""):
    if slip == "no rescale":
        return dout * mask
    if slip == "÷p":
        return dout * mask / p
    if slip == "no mask":
        return dout.copy()
    if slip == "no mask, ÷(1−p)":
        return dout / (1 - p)
    if slip == "inverted mask":
        return dout * (1 - mask) / (1 - p)
    if slip == "fresh mask":
        fresh = np.random.default_rng(1).random(dout.shape) >= p
        return dout * fresh / (1 - p)
    if slip == "sign":
        return -dout * mask / (1 - p)
    if slip == "fresh mask, no rescale":
        return dout * (np.random.default_rng(1).random(dout.shape) >= p)
    return dout * mask / (1 - p)


def early_stopping(train_losses, val_losses, patience, slip=""):
    losses = train_losses if slip == "training loss" else val_losses
    best, best_epoch, waited, previous = float("inf"), 0, 0, float("inf")
    for epoch, loss in enumerate(losses, start=1):
        improved = loss <= best if slip == "ties" else loss < best
        if improved:
            best, best_epoch = loss, epoch
            if slip != "no reset":
                waited = 0
        elif slip != "previous":
            waited += 1
        if slip == "previous":
            waited = 0 if loss < previous else waited + 1
            previous = loss
        limit = {"late": patience + 1, "late, last": patience + 1, "early": patience - 1}.get(
            slip, patience
        )
        if waited >= limit and slip != "never stops":
            return _answer(epoch, best_epoch, val_losses, slip)
    if slip == "never stops":  # the best of the whole history, and no early stop
        return len(losses), int(np.argmin(val_losses)) + 1
    return _answer(len(losses), best_epoch, val_losses, slip)


def _answer(stop, best, val_losses, slip):
    if slip == "last":
        return stop, stop
    if slip == "from 0":
        return stop - 1, best - 1
    if slip == "future":
        return stop, int(np.argmin(val_losses)) + 1
    if slip == "late, last":
        return stop, stop
    if slip == "order":
        return best, stop
    if slip == "best from 0":
        return stop, best - 1
    return stop, best


RIGHT: dict[str, Callable[..., Any]] = {
    "l2_penalty": l2_penalty,
    "l1_penalty": l1_penalty,
    "dropout_forward": dropout_forward,
    "dropout_backward": dropout_backward,
    "early_stopping": early_stopping,
    "q_decay_factor": lambda: 0.999,
    "q_overfitting_curve": lambda: "d",
    "q_l1_sparsity": lambda: "a",
    "q_dropout_eval": lambda: "c",
}
for _name in ("q_decay_factor", "q_overfitting_curve", "q_l1_sparsity", "q_dropout_eval"):
    RIGHT[_name].__name__ = _name

BIASES = "biases are not penalised"

L2 = {
    "biases": BIASES,
    "no half": "penalty has no ½",
    "norms": "penalty sums the norms ‖W‖, not their squares",
    "2λW": "is 2λW: the ½ of (λ/2)w² cancels the 2",
    "λW/2": "is λW/2: the ½ stays",
    "no λ": "forgets the strength λ: the gradient of (λ/2)w² is λw",
    "sign": "has the opposite sign",
    "no bias keys": "grads lack the key(s) 'b1', 'b2'",
    "W × 1.7": None,  # no catalogued cause: described as a factor
    "in place": "changed params['W1'], params['W2'] in place",
    "order": "returns (grads, penalty): return the two in the order (penalty, grads)",
}

L1 = {
    "biases": BIASES,
    "no abs": "penalty sums the weights themselves",
    "squares": "penalty is the L2 penalty",
    "±λ at 0": "is ±λ where w = 0",
    "−λ at 0": "is ±λ where w = 0",
    "W/|W|": "is NaN where w = 0: W / |W| divides 0 by 0",
    "sign": "is −λ·sign(W)",
    "λW": "is λW, the L2 gradient",
    "no λ": "forgets the strength λ: the subgradient is λ·sign(w)",
}

FORWARD = {
    "no rescale": "out (given your mask) is not rescaled",
    "÷p": "out (given your mask) divides by p, the drop probability",
    "×(1−p)": "out (given your mask) multiplies by 1 − p",
    "keep p": "you keep each unit with probability p",
    "keep p, ÷p": "you keep each unit with probability p",
    "eval dropout": "dropout is applied in evaluation mode",
    "eval scaled": "out is scaled by 1 − p in evaluation mode",
    "scaled mask": "mask holds 0 and 1/(1 − p)",
    "global rng": "draw the mask from the rng passed in",
    "new rng": "every forward pass draws a fresh mask from rng",
    "dropped mask": "your mask is 1 where a unit is dropped",
    "order": "returns (mask, out): return the two in the order (out, mask)",
}

BACKWARD = {
    "no rescale": "dX is not rescaled",
    "÷p": "dX divides by p",
    "no mask": "dX passes the gradient to the dropped units: a dropped unit",
    "no mask, ÷(1−p)": "dX passes the gradient to the dropped units: a dropped unit",
    "inverted mask": "dX passes the gradient to the dropped units only",
    "fresh mask": "dX uses another mask than the forward pass's",
    "fresh mask, no rescale": "dX uses another mask than the forward pass's",
    "sign": "dX has the opposite sign",
}

STOPPING = {
    "late": "it stops one epoch late",
    "early": "it stops one epoch early",
    "last": "the best epoch it returns is the stopping epoch",
    "training loss": "it stops on the training loss",
    "ties": "an equal validation loss counts as an improvement",
    "from 0": "its epochs count from 0",
    "no reset": "is never reset",
    "future": "the best epoch is taken over the whole history",
    "previous": "it compares each loss with the previous epoch's",
    "late, last": None,  # two slips at once: no single cause fits
    "order": "it returns (best_epoch, stop_epoch)",
    "best from 0": "its best epoch counts from 0",
    "never stops": "it never stops early",
}

CATALOGUE: dict[str, list[Wrong]] = {
    "l2_penalty": [Wrong(s, slipped(l2_penalty, s), d) for s, d in L2.items()],
    "l1_penalty": [Wrong(s, slipped(l1_penalty, s), d) for s, d in L1.items()],
    "dropout_forward": [Wrong(s, slipped(dropout_forward, s), d) for s, d in FORWARD.items()],
    "dropout_backward": [Wrong(s, slipped(dropout_backward, s), d) for s, d in BACKWARD.items()],
    "early_stopping": [Wrong(s, slipped(early_stopping, s), d) for s, d in STOPPING.items()],
}

BAD: dict[str, object] = {
    "returns an empty dict": lambda *args: {},
    "returns a tuple of strings": lambda *args: ("a", "b"),
}
