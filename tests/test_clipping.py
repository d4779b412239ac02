r"""Gradient clipping: by value (each entry into [-c, c]) and by global norm.

The global norm is the norm of every gradient taken together as one long vector,
$\lVert g\rVert = \sqrt{\sum_p \lVert g_p\rVert^2}$; above the threshold c, every gradient is
scaled by $c/\lVert g\rVert$ (Pascanu et al. 2013), which keeps the direction of the whole.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpcourse.clipping import clip_by_global_norm, clip_by_value, global_norm
from bpcourse.layers import Parameter


def parameters(seed: int = 0, scale: float = 1.0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    params = [
        Parameter(rng.normal(size=(4, 3)), "dense1.W"),
        Parameter(rng.normal(size=4), "dense1.b"),
        Parameter(rng.normal(size=(2, 1, 3, 3)), "conv.W"),
    ]
    for p in params:
        p.grad = scale * rng.normal(size=p.shape)
    return params


def flat(params: list[Parameter]) -> np.ndarray:
    return np.concatenate([p.grad.ravel() for p in params])


def test_global_norm_is_the_norm_of_all_gradients_as_one_vector():
    params = parameters(1)
    assert global_norm(params) == pytest.approx(np.linalg.norm(flat(params)), rel=1e-14)
    by_hand = [Parameter(np.zeros(2), "a.W"), Parameter(np.zeros((1, 1)), "b.W")]
    by_hand[0].grad = np.array([3.0, 0.0])
    by_hand[1].grad = np.array([[4.0]])
    assert global_norm(by_hand) == 5.0
    assert global_norm(iter(by_hand)) == 5.0  # any iterable


def test_clip_by_value_clips_each_entry_in_place():
    params = parameters(2, scale=3.0)
    before = [p.grad.copy() for p in params]
    arrays = [p.grad for p in params]
    values = [p.value.copy() for p in params]
    c = 1.5
    assert clip_by_value(params, c) is None
    for p, g, array, v in zip(params, before, arrays, values, strict=True):
        assert p.grad is array  # in place
        for idx in np.ndindex(*p.shape):
            want = c if g[idx] > c else (-c if g[idx] < -c else g[idx])
            assert p.grad[idx] == want
        np.testing.assert_array_equal(p.value, v)  # values untouched
    assert any((np.abs(g) > c).any() for g in before)  # the test clipped something


def test_clip_by_value_can_change_the_direction():
    p = Parameter(np.zeros(2), "w")
    p.grad = np.array([10.0, 0.1])
    clip_by_value([p], 1.0)
    np.testing.assert_array_equal(p.grad, [1.0, 0.1])
    cosine = p.grad @ np.array([10.0, 0.1]) / np.linalg.norm(p.grad) / np.hypot(10.0, 0.1)
    assert cosine < 0.999


def test_clip_by_global_norm_above_the_threshold_scales_every_gradient():
    params = parameters(3, scale=2.0)
    before = [p.grad.copy() for p in params]
    arrays = [p.grad for p in params]
    norm_before = float(np.sqrt(sum((g**2).sum() for g in before)))
    c = 1.0
    assert norm_before > c
    returned = clip_by_global_norm(params, c)
    assert returned == pytest.approx(norm_before, rel=1e-14)  # the norm before clipping
    for p, g, array in zip(params, before, arrays, strict=True):
        assert p.grad is array  # in place
        np.testing.assert_allclose(p.grad, g * (c / norm_before), rtol=1e-14)
    assert np.linalg.norm(flat(params)) == pytest.approx(c, rel=1e-14)
    # The direction of the whole gradient is kept.
    old = np.concatenate([g.ravel() for g in before])
    new = flat(params)
    assert old @ new / (np.linalg.norm(old) * np.linalg.norm(new)) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("c", [100.0, "exactly"])
def test_clip_by_global_norm_at_or_below_the_threshold_changes_nothing(c):
    params = parameters(4)
    before = [p.grad.copy() for p in params]
    norm = float(np.linalg.norm(flat(params)))
    threshold = norm if c == "exactly" else c
    assert clip_by_global_norm(params, threshold) == pytest.approx(norm, rel=1e-14)
    for p, g in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.grad, g)


def test_clip_by_global_norm_of_zero_gradients():
    params = parameters(5, scale=0.0)
    assert clip_by_global_norm(params, 1.0) == 0.0
    assert all(not p.grad.any() and np.isfinite(p.grad).all() for p in params)


def test_clip_by_global_norm_accepts_a_generator():
    params = parameters(6, scale=5.0)
    norm = clip_by_global_norm((p for p in params), 0.5)
    assert norm > 0.5
    assert np.linalg.norm(flat(params)) == pytest.approx(0.5, rel=1e-14)


BAD_THRESHOLDS = [0, 0.0, -1.0, -0.5, float("nan"), float("inf")]


@pytest.mark.parametrize("c", BAD_THRESHOLDS)
def test_invalid_thresholds_are_refused(c):
    params = parameters(7)
    before = [p.grad.copy() for p in params]
    with pytest.raises(
        ValueError, match=re.escape(f"max_norm must be a finite number > 0, got {c}")
    ):
        clip_by_global_norm(params, c)
    with pytest.raises(
        ValueError, match=re.escape(f"clip_value must be a finite number > 0, got {c}")
    ):
        clip_by_value(params, c)
    for p, g in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("c", ["1", None, True])
def test_non_numeric_thresholds_are_refused(c):
    with pytest.raises(TypeError, match="max_norm must be a number"):
        clip_by_global_norm(parameters(), c)
    with pytest.raises(TypeError, match="clip_value must be a number"):
        clip_by_value(parameters(), c)
