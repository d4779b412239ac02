r"""Graded items of exercises/10_batch_normalisation.ipynb: batch norm forward, backward, modes.

A batch X has shape (N, F), one example per row; γ and β have shape (F,). In training mode
each feature (column) is normalised with the batch's own mean and *biased* variance:
$\mu = \frac1N\sum_n x_n$, $\sigma^2 = \frac1N\sum_n (x_n-\mu)^2$,
$\hat x_n = (x_n-\mu)/\sqrt{\sigma^2+\epsilon}$, $o_n = \gamma\hat x_n + \beta$. The running
averages follow `bpcourse.batchnorm` (the PyTorch convention):
running ← (1 − momentum)·running + momentum·batch statistic, with the *unbiased* batch
variance (÷ (N − 1)) for the running variance. Only arrays and numbers cross between the
learner's code and the checker; no answer is stored.

- `batchnorm_forward(X, gamma, beta, eps) -> (out, cache)`: out against the checker's own
  math (ε = 0.1, large enough to see where it sits); the cache is the learner's.
- `batchnorm_backward(dOut, X, gamma, eps) -> (dX, dgamma, dbeta)`, node by node: each
  against central finite differences of Σ dOut ⊙ out through the checker's forward.
- `batchnorm_backward_compact(dOut, X, gamma, eps) -> dX`: the closed form, against finite
  differences, and vectorised: its adapter `ex10_probe.probe_compact` calls it in the kernel
  on a batch whose rows refuse to be read one at a time (`RowGuard`, built there from plain
  numbers), so a Python loop over the N examples is caught without timing anything; only
  JSON crosses.
- `batchnorm_running(X, gamma, beta, running_mean, running_var, momentum, eps, training)
  -> (out, running_mean, running_var)`: training mode (batch statistics, running averages
  updated) and evaluation mode (running averages used, left unchanged).
- `bn_network_backward(X, Y, params, eps) -> grads`: X → dense (no bias) → batch norm → ReLU
  → dense, half squared error averaged over the batch; each gradient against central finite
  differences of the loss.

The reference math and the problems are in `ex10_math`; the row guard in `ex10_probe`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import describe
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, transforms
from bpcourse.checking.items.ex10_math import (
    EPS,
    MOMENTUM,
    N_EVAL,
    NET_KEYS,
    NET_LAYOUT,
    F,
    N,
    by_differences,
    compact,
    forward,
    guarded_problem,
    network_by_differences,
    network_gradients,
    network_problem,
    problem,
    running_problem,
    xhat_of,
)
from bpcourse.checking.items.ex10_probe import GUARD_ROWS, Opaque, from_data, probe_compact
from bpcourse.checking.items.ex10_slips import (
    AXIS_1,
    EPS_OUTSIDE,
    UNBIASED,
    dx_slips,
    forward_slips,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, LearnerError, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY

NOTEBOOK = "10_batch_normalisation"
# the library code that would do the asked-for work: using it scores nothing
LIBRARY = ("bpcourse.batchnorm", *NETWORK_LIBRARY)
LAYOUT = "(N, F)"


def _array(value: Any) -> Any:
    """A learner's array as a plain ndarray (a RowGuard result loses its guard)."""
    return np.asarray(value) if isinstance(value, np.ndarray) else value


def _misplaced(got: tuple[Any, ...], right: tuple[Any, ...], names: tuple[str, ...], function: str):
    """BadAnswer when two or more of the returned values are right but in another's place."""

    def same(a: Any, b: np.ndarray) -> bool:
        return (
            isinstance(a, np.ndarray)
            and a.shape == b.shape
            and a.dtype.kind == "f"
            and bool(np.allclose(a, b, rtol=1e-5, atol=1e-8))
        )

    swapped = [
        f"{names[j]} where {names[i]} belongs"
        for i, value in enumerate(got)
        if not same(value, right[i])
        for j in range(len(right))
        if j != i and same(value, right[j])
    ]
    if len(swapped) >= 2:
        raise BadAnswer(
            f"{function} returns {' and '.join(swapped)}: return ({', '.join(names)}) in that order"
        )


# --- batchnorm_forward ---------------------------------------------------------------------------


@item(
    "batchnorm_forward",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"out agrees with the checker's own batch normalisation of a ({N}, {F}) batch "
    f"(ε = {EPS})",
)
def check_batchnorm_forward(batchnorm_forward: Callable[..., Any]) -> Problems:
    p = problem()
    value = call_safely(batchnorm_forward, p["X"], p["gamma"], p["beta"], EPS)
    out, cache = expect_tuple(value, 2, "(out, cache)", "batchnorm_forward")
    right = forward(p["X"], p["gamma"], p["beta"], EPS)
    if not isinstance(out, np.ndarray) and isinstance(cache, np.ndarray) and cache.shape == (N, F):
        if np.allclose(cache, right, rtol=1e-5, atol=1e-8):
            raise BadAnswer(
                "batchnorm_forward returns (cache, out): return (out, cache) in that order"
            )
    return compare(
        right,
        _array(out),
        "out",
        forward_slips(p["X"], p["gamma"], p["beta"]),
        layout=LAYOUT,
        shape_hints={(N, 1): f"computed {AXIS_1}", (1, F): "keep the (N, F) shape of X"},
    )


# --- batchnorm_backward (node by node) -----------------------------------------------------------


def _sum_hints(name: str) -> dict[tuple[int, ...], str]:
    return {
        (N,): f"summed {AXIS_1}",
        (1, F): f"{name} should be a vector of shape (F,): .sum(axis=0)",
    }


@item(
    "batchnorm_backward",
    6,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dX, dgamma and dbeta agree with central finite differences of Σ dOut ⊙ out "
    "through the checker's own forward pass (float64)",
)
def check_batchnorm_backward(batchnorm_backward: Callable[..., Any]) -> Problems:
    p = problem()
    X, gamma, beta, dOut = p["X"], p["gamma"], p["beta"], p["dOut"]
    value = call_safely(batchnorm_backward, dOut, X, gamma, EPS, name="batchnorm_backward")
    dX, dgamma, dbeta = (
        _array(v) for v in expect_tuple(value, 3, "(dX, dgamma, dbeta)", "batchnorm_backward")
    )
    num_dX, num_dgamma, num_dbeta = by_differences(dOut, X, gamma, beta, EPS)
    _misplaced(
        (dX, dgamma, dbeta),
        (num_dX, num_dgamma, num_dbeta),
        ("dX", "dgamma", "dbeta"),
        "batchnorm_backward",
    )
    generic = transforms(n=N, transpose=False, batch_text="no mean over the batch is taken here")
    xhat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + EPS)
    return {
        "dX": compare(num_dX, dX, "dX", dx_slips(dOut, X, gamma), generic, layout=LAYOUT),
        "dgamma": compare(
            num_dgamma,
            dgamma,
            "dgamma",
            [
                Slip(
                    "{name} uses X where x̂ belongs: o = γ x̂ + β, so ∂o/∂γ is x̂, the normalised "
                    "input, not X",
                    np.sum(dOut * X, axis=0),
                ),
                Slip(
                    "{name} forgets x̂: ∂o/∂γ = x̂, so each do_n is weighted by its own x̂_n",
                    dOut.sum(0),
                ),
                Slip(
                    "{name} multiplies by γ: o = γ x̂ + β, so ∂o/∂γ = x̂ (no γ)",
                    gamma * np.sum(dOut * xhat, axis=0),
                ),
                Slip(EPS_OUTSIDE, np.sum(dOut * xhat_of(X, eps_outside=True), axis=0)),
                Slip(UNBIASED, np.sum(dOut * xhat_of(X, ddof=1), axis=0)),
            ],
            generic,
            layout="(F,)",
            shape_hints=_sum_hints("dgamma"),
        ),
        "dbeta": compare(
            num_dbeta,
            dbeta,
            "dbeta",
            [Slip("{name} multiplies by γ: ∂o/∂β = 1, with no γ in it", gamma * dOut.sum(0))],
            generic,
            layout="(F,)",
            shape_hints=_sum_hints("dbeta"),
        ),
    }


# --- batchnorm_backward_compact ------------------------------------------------------------------


def _compact_call(probe: Callable[..., Any], *args: Any, guard: bool = False) -> Any:
    """The probe's report of the learner's dX (the arrays cross as plain lists)."""
    plain = [a.tolist() if isinstance(a, np.ndarray) else a for a in args]
    report = call_safely(probe, *plain, guard, name="batchnorm_backward_compact")
    if not isinstance(report, dict) or not ("value" in report or "row_loop" in report):
        raise BadAnswer(f"batchnorm_backward_compact returned {describe(report)}")
    return report


def _compact_value(report: dict[str, Any]) -> Any:
    value = from_data(report["value"])
    if isinstance(value, Opaque):
        raise BadAnswer(
            f"batchnorm_backward_compact should return dX, an array of shape {LAYOUT}, "
            f"got {value.text}"
        )
    return value


def _vectorised(batchnorm_backward_compact: Callable[..., Any]) -> list[str]:
    dOut, X, gamma = guarded_problem()
    try:
        report = _compact_call(batchnorm_backward_compact, dOut, X, gamma, EPS, guard=True)
    except (LearnerError, BadAnswer) as error:
        return [f"on a batch of N = {GUARD_ROWS}: {error}"]
    if "row_loop" in report:
        return [
            f"batchnorm_backward_compact is not vectorised: on a batch of N = {GUARD_ROWS} "
            f"it {report['row_loop']}; compute dX for the whole batch at once, with sums "
            "over axis 0 and broadcasting"
        ]
    got = from_data(report["value"])
    if not isinstance(got, np.ndarray) or got.shape != X.shape:
        return [f"on a batch of N = {GUARD_ROWS} it returned {describe(got)}"]
    return []


@item(
    "batchnorm_backward_compact",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dX agrees with central finite differences of Σ dOut ⊙ out, and the function "
    f"runs on a batch of N = {GUARD_ROWS} without reading its examples one at a time",
    adapter=probe_compact,
)
def check_batchnorm_backward_compact(batchnorm_backward_compact: Callable[..., Any]) -> Problems:
    p = problem()
    X, gamma, beta, dOut = p["X"], p["gamma"], p["beta"], p["dOut"]
    got = _compact_value(_compact_call(batchnorm_backward_compact, dOut, X, gamma, EPS))
    if isinstance(got, tuple) and len(got) == 3:
        raise BadAnswer(
            "batchnorm_backward_compact should return dX alone (one array of shape (N, F)), "
            "not (dX, dgamma, dbeta)"
        )
    num_dX, _, _ = by_differences(dOut, X, gamma, beta, EPS)
    xhat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + EPS)
    s = np.sqrt(X.var(axis=0) + EPS)
    slips = [
        Slip(
            "{name} lacks the term Σ_i do_i: it comes from the path through μ, and makes "
            "every feature's Σ_n dX_n zero",
            gamma / (N * s) * (N * dOut - xhat * np.sum(dOut * xhat, axis=0)),
        ),
        Slip(
            "{name} lacks the term x̂ Σ_i do_i x̂_i: it comes from the path through σ²",
            gamma / (N * s) * (N * dOut - dOut.sum(axis=0)),
        ),
        Slip(
            "{name} lacks γ: ∂o/∂x̂ = γ, so the whole bracket is multiplied by γ/(N σ)",
            1 / (N * s) * (N * dOut - dOut.sum(axis=0) - xhat * np.sum(dOut * xhat, axis=0)),
        ),
        Slip(
            "{name} divides by σ² + ε: the factor in front is γ/(N √(σ² + ε))",
            gamma / (N * s**2) * (N * dOut - dOut.sum(axis=0) - xhat * np.sum(dOut * xhat, axis=0)),
        ),
        Slip(
            "{name} adds ε outside the square root: the denominator is √(σ² + ε), not √σ² + ε",
            compact(dOut, X, gamma, eps_outside=True),
        ),
        Slip(
            "{name} uses the unbiased variance (÷ (N − 1)): the batch variance σ² divides by N",
            compact(dOut, X, gamma, ddof=1),
        ),
    ]
    generic = transforms(n=N, transpose=False, batch_text="the bracket is divided by N once")
    return {
        "dX": compare(num_dX, got, "dX", slips, generic, layout=LAYOUT),
        "vectorised": _vectorised(batchnorm_backward_compact),
    }


# --- batchnorm_running (training and evaluation modes) -------------------------------------------


def _normalise(X: np.ndarray, mean: np.ndarray, var: np.ndarray, p: dict[str, np.ndarray]):
    return p["gamma"] * (X - mean) / np.sqrt(var + EPS) + p["beta"]


def _running_call(answer: Callable[..., Any], p: dict[str, np.ndarray], X, training: bool):
    value = call_safely(
        answer,
        X,
        p["gamma"],
        p["beta"],
        p["running_mean"],
        p["running_var"],
        MOMENTUM,
        EPS,
        training,
        name="batchnorm_running",
    )
    got = expect_tuple(value, 3, "(out, running_mean, running_var)", "batchnorm_running")
    return tuple(_array(v) for v in got)


MOMENTUM_SWAPPED = (
    "{name} weights the old average by momentum and the batch by 1 − momentum: the convention "
    "here is running ← (1 − momentum)·running + momentum·batch"
)


@item(
    "batchnorm_running",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="training mode normalises with the batch and updates both running averages "
    f"(momentum = {MOMENTUM}, unbiased running variance); evaluation mode normalises with the "
    "running averages and leaves them unchanged",
)
def check_batchnorm_running(batchnorm_running: Callable[..., Any]) -> Problems:
    p = running_problem()
    X, old_mean, old_var = p["X"], p["running_mean"], p["running_var"]
    mean, biased, unbiased = X.mean(axis=0), X.var(axis=0), X.var(axis=0, ddof=1)
    new_mean = (1 - MOMENTUM) * old_mean + MOMENTUM * mean
    new_var = (1 - MOMENTUM) * old_var + MOMENTUM * unbiased
    out, got_mean, got_var = _running_call(batchnorm_running, p, X, True)
    _misplaced(
        (out, got_mean, got_var),
        (_normalise(X, mean, biased, p), new_mean, new_var),
        ("out", "running_mean", "running_var"),
        "batchnorm_running",
    )
    running_in_training = (
        "{name} normalises with the running averages in training mode: training uses the "
        "batch's own mean and variance (the running averages are only updated)"
    )
    parts: dict[str, list[str]] = {
        "training out": compare(
            _normalise(X, mean, biased, p),
            out,
            "training out",
            [
                Slip(running_in_training, _normalise(X, old_mean, old_var, p)),
                Slip(running_in_training, _normalise(X, new_mean, new_var, p)),
                Slip(
                    "{name} normalises with the unbiased variance (÷ (N − 1)): the "
                    "normalisation uses the biased batch variance σ² (÷ N); only the running "
                    "variance is unbiased",
                    _normalise(X, mean, unbiased, p),
                ),
            ],
            layout=LAYOUT,
        ),
        "running_mean": compare(
            new_mean,
            got_mean,
            "running_mean",
            [
                Slip(MOMENTUM_SWAPPED, MOMENTUM * old_mean + (1 - MOMENTUM) * mean),
                Slip("{name} is not updated: training mode updates the running averages", old_mean),
                Slip(
                    "{name} is the batch mean alone: blend it with the old average, "
                    "(1 − momentum)·running + momentum·batch",
                    mean,
                ),
            ],
            layout="(F,)",
        ),
        "running_var": compare(
            new_var,
            got_var,
            "running_var",
            [
                Slip(MOMENTUM_SWAPPED, MOMENTUM * old_var + (1 - MOMENTUM) * unbiased),
                Slip(
                    "{name} uses the biased batch variance (÷ N): the running variance "
                    "estimates the population's, with the unbiased σ² · N/(N − 1)",
                    (1 - MOMENTUM) * old_var + MOMENTUM * biased,
                ),
                Slip("{name} is not updated: training mode updates the running averages", old_var),
            ],
            layout="(F,)",
        ),
    }
    parts["evaluation out"] = _evaluation(batchnorm_running, p)
    return parts


def _evaluation(batchnorm_running: Callable[..., Any], p: dict[str, np.ndarray]) -> list[str]:
    X = p["X_eval"]
    try:
        out, got_mean, got_var = _running_call(batchnorm_running, p, X, False)
    except BadAnswer as bad:
        return [f"in evaluation mode (training=False): {bad}"]
    problems = compare(
        _normalise(X, p["running_mean"], p["running_var"], p),
        out,
        "evaluation out",
        [
            Slip(
                "{name} normalises with the batch's own statistics in evaluation mode: there "
                "the running averages replace μ and σ², so an example's output does not depend "
                "on the rest of its batch",
                _normalise(X, X.mean(axis=0), X.var(axis=0), p),
            ),
            Slip(
                "{name} adds ε outside the square root: the denominator is √(running_var + ε)",
                p["gamma"] * (X - p["running_mean"]) / (np.sqrt(p["running_var"]) + EPS)
                + p["beta"],
            ),
        ],
        layout=f"(N, F) = ({N_EVAL}, {F})",
    )
    for name, got, old in (
        ("running_mean", got_mean, p["running_mean"]),
        ("running_var", got_var, p["running_var"]),
    ):
        if isinstance(got, np.ndarray) and got.shape == old.shape and got.dtype != old.dtype:
            if np.allclose(got, old, rtol=1e-6, atol=0.0):
                problems.append(
                    f"evaluation mode returned {name} as {got.dtype}: return it unchanged (float64)"
                )
                continue
        if not (isinstance(got, np.ndarray) and np.array_equal(got, old)):
            problems.append(
                f"evaluation mode changed {name} (or returned something else): in evaluation "
                "the running averages are used, not updated; return them unchanged"
            )
    return problems


# --- bn_network_backward: batch norm inside a network -------------------------------------------


def _as_grads(value: Any) -> dict[str, Any]:
    wanted = "{" + ", ".join(f'"{k}": ...' for k in NET_KEYS) + "}"
    if value is None:
        raise BadAnswer(f"bn_network_backward returned None: return the dict {wanted}")
    if not isinstance(value, dict):
        raise BadAnswer(f"bn_network_backward should return a dict {wanted}, got {describe(value)}")
    missing = [k for k in NET_KEYS if k not in value]
    if missing and all(f"d{k}" in value for k in missing):
        raise BadAnswer(
            "bn_network_backward's dict should use the keys of params "
            f"({', '.join(repr(k) for k in NET_KEYS)}), not "
            f"{', '.join(repr('d' + k) for k in missing)}"
        )
    if missing:
        raise BadAnswer(
            f"bn_network_backward's dict lacks the key(s) {', '.join(repr(k) for k in missing)}"
        )
    return {k: _array(value[k]) for k in NET_KEYS}


NETWORK_SLIPS = {
    "constants": "{name} treats the batch statistics μ and σ² as constants on the way back "
    "through batch norm: every Z_n reaches H through μ and σ² too; use your full dX of item 2 "
    "or 3",
    "relu": "{name} misses the ReLU's derivative: on the way back multiply by 1[H > 0]",
    "mask_on_z": "{name} takes the ReLU's mask from Z: the ReLU acts on the normalised H, so "
    "its derivative is 1[H > 0]",
    "dW2_with_H": "{name} uses H, the ReLU's input: dW2 = dŶᵀ A with A = ReLU(H)",
}


@item(
    "bn_network_backward",
    5,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dW1, dgamma, dbeta, dW2 and db2 agree with central finite differences of the "
    "network's loss",
)
def check_bn_network_backward(bn_network_backward: Callable[..., Any]) -> Problems:
    X, Y, params = network_problem()
    given = {k: v.copy() for k, v in params.items()}
    got = _as_grads(call_safely(bn_network_backward, X, Y, given, EPS, name="bn_network_backward"))
    numeric = network_by_differences(X, Y, params)
    right = network_gradients(X, Y, params)
    slipped = {
        "constants": network_gradients(X, Y, params, constants=True),
        "relu": network_gradients(X, Y, params, relu=False),
        "mask_on_z": network_gradients(X, Y, params, mask_on_z=True),
        "dW2_with_H": network_gradients(X, Y, params, dW2_with_H=True),
    }
    generic = transforms(n=N, transpose=False)
    parts: dict[str, list[str]] = {}
    for key in NET_KEYS:
        slips = [
            Slip(NETWORK_SLIPS[name], grads[key])
            for name, grads in slipped.items()
            if not np.allclose(grads[key], right[key], rtol=1e-6, atol=1e-12)
        ]
        name = f"d{key}"
        parts[name] = compare(numeric[key], got[key], name, slips, generic, layout=NET_LAYOUT[key])
    return parts


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_sum_dx",
    1,
    NOTEBOOK,
    "af39fd74787ef8f8cef8240bc4f2c7833bf871d0b12b7f78afedef5d10c7cfb6",
    kind="letter",
    revisit="what happens to out when the same number is added to every example of a feature",
)
question(
    "q_batch_of_one",
    1,
    NOTEBOOK,
    "0aa52affbc3448edbc958f4eb230b1d6dddcbd962609fa53456aa1139358ff71",
    kind="number",
    revisit="x̂ for a batch of a single example: its mean and its variance",
)
question(
    "q_bias_redundant",
    1,
    NOTEBOOK,
    "55ed072ca1f2524443b4c8f3a2ea7bd78c744eac10dc801d61cdff79e0bc092d",
    kind="letter",
    revisit="what subtracting the batch mean does to a constant added to every example",
)
question(
    "q_what_bn_fixes",
    1,
    NOTEBOOK,
    "52ae5fa04ecfb2d721fde9fe14ee8562ec234afebc4517b69c32b3d7d33fa3f8",
    kind="letter",
    revisit="which quantities batch norm controls, and in which mode",
)
