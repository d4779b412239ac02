"""Data sets and preprocessing (bpcourse.data).

The toy sets are checked against their geometry (with noise 0 every point lies on a known
circle or at a known radius), the digits split against scikit-learn's raw data: the three
parts together are exactly the 1,797 examples, stratified by class, standardised with the
training part's statistics, and each part's images are its rows.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.data import (
    Standardizer,
    load_digits,
    make_circles,
    make_moons,
    make_spirals,
    one_hot,
    standardize,
    xor,
)
from bpcourse.validation import ShapeError

FAST = settings(max_examples=15, deadline=None)


# --- XOR ---------------------------------------------------------------------------------


def test_xor():
    X, y = xor()
    assert X.dtype == np.float64 and y.dtype.kind == "i"
    assert X.shape == (4, 2) and y.shape == (4,)
    assert {tuple(r) for r in X} == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}
    for (a, b), label in zip(X, y, strict=True):
        assert label == (int(a) ^ int(b))


# --- moons, circles, spirals --------------------------------------------------------------

GENERATORS = [
    ("moons", lambda n, seed, **kw: make_moons(n, seed=seed, **kw)),
    ("circles", lambda n, seed, **kw: make_circles(n, seed=seed, **kw)),
]


@pytest.mark.parametrize(("name", "make"), GENERATORS)
@pytest.mark.parametrize("n", [2, 7, 200])
def test_two_class_toy_sets_shapes_labels_and_balance(name, make, n):
    X, y = make(n, 0)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype.kind == "i"
    assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(np.bincount(y), [n // 2, n - n // 2])
    assert np.isfinite(X).all()


@pytest.mark.parametrize(("name", "make"), GENERATORS)
def test_two_class_toy_sets_are_seeded(name, make):
    X1, y1 = make(100, 3)
    X2, y2 = make(100, 3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(100, 4)
    assert not np.allclose(X1, X3)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(60, noise=0.0, seed=0)
    x0, x1 = X[:, 0], X[:, 1]
    outer = y == 0  # the upper half of the unit circle
    np.testing.assert_allclose(x0[outer] ** 2 + x1[outer] ** 2, 1.0, rtol=1e-12)
    assert (x1[outer] >= -1e-12).all()
    inner = ~outer  # the lower half of the unit circle centred at (1, 0.5)
    np.testing.assert_allclose((x0[inner] - 1) ** 2 + (x1[inner] - 0.5) ** 2, 1.0, rtol=1e-12)
    assert (x1[inner] <= 0.5 + 1e-12).all()


@pytest.mark.parametrize("factor", [0.5, 0.3])
def test_circles_without_noise_have_radius_1_and_factor(factor):
    X, y = make_circles(60, noise=0.0, factor=factor, seed=0)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-12)  # outer
    np.testing.assert_allclose(r[y == 1], factor, rtol=1e-12)  # inner


def test_noise_moves_the_points():
    X0, _ = make_circles(100, noise=0.0, seed=0)
    X1, _ = make_circles(100, noise=0.1, seed=0)
    assert not np.allclose(np.linalg.norm(X0, axis=1), np.linalg.norm(X1, axis=1))


@pytest.mark.parametrize(("n_per_class", "n_classes"), [(1, 2), (5, 3), (100, 3), (20, 5)])
def test_spirals_shapes_labels_and_radii(n_per_class, n_classes):
    X, y = make_spirals(n_per_class, n_classes, seed=0)
    n = n_per_class * n_classes
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype.kind == "i"
    np.testing.assert_array_equal(np.bincount(y), [n_per_class] * n_classes)
    # the noise moves the angle only: each arm's radii run evenly from 0 to 1
    radii = np.linalg.norm(X, axis=1)
    for c in range(n_classes):
        np.testing.assert_allclose(
            radii[y == c], np.linspace(0, 1, n_per_class), rtol=1e-12, atol=1e-15
        )


def test_spirals_are_seeded():
    X1, y1 = make_spirals(50, 3, seed=1)
    X2, y2 = make_spirals(50, 3, seed=1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, make_spirals(50, 3, seed=2)[0])


@pytest.mark.parametrize(("n_per_class", "n_classes"), [(0, 3), (-1, 3), (10, 1), (10, 0)])
def test_spirals_refuse_empty_or_single_class_sets(n_per_class, n_classes):
    with pytest.raises(
        ValueError, match=rf"n_per_class >= 1 and n_classes >= 2, got {n_per_class}, {n_classes}"
    ):
        make_spirals(n_per_class, n_classes)


# --- one_hot -----------------------------------------------------------------------------


@FAST
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=30), extra=st.integers(0, 3))
def test_one_hot_matches_the_identity_rows(labels, extra):
    labels = np.array(labels)
    c = labels.max() + 1 + extra
    out = one_hot(labels, c)
    assert out.shape == (labels.size, c) and out.dtype == np.float64
    for row, label in zip(out, labels, strict=True):
        expected = [1.0 if j == label else 0.0 for j in range(c)]
        assert row.tolist() == expected
    np.testing.assert_array_equal(one_hot(labels), np.eye(labels.max() + 1)[labels])


def test_one_hot_of_no_labels():
    assert one_hot(np.array([], dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        (np.array([0.0, 1.0]), r"integer labels of shape \(N,\), got float64 \(2,\)"),
        (np.array([True, False]), r"integer labels of shape \(N,\), got bool \(2,\)"),
        (np.array([[0, 1]]), r"integer labels of shape \(N,\), got int64 \(1, 2\)"),
        (np.array(["0"]), r"got <U1 \(1,\)"),
    ],
)
def test_one_hot_refuses_non_integer_or_non_flat_labels(labels, pattern):
    with pytest.raises(TypeError, match=pattern):
        one_hot(labels)


@pytest.mark.parametrize(
    ("labels", "c", "pattern"),
    [([0, 3, 1], 3, r"\[0, 3\), got values 0\.\.3"), ([-1, 1], None, r"got values -1\.\.1")],
)
def test_one_hot_refuses_labels_outside_the_classes(labels, c, pattern):
    with pytest.raises(ValueError, match=pattern):
        one_hot(np.array(labels), c)


# --- Standardizer ------------------------------------------------------------------------


@FAST
@given(n=st.integers(2, 30), d=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_standardized_training_data_has_mean_0_and_std_1(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 100, size=d) + rng.uniform(-50, 50, size=d)
    Z = Standardizer.fit(X).transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-10)


def test_other_data_uses_the_training_statistics():
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(3, 2, size=(50, 4)), rng.normal(-1, 5, size=(10, 4))
    scaler = Standardizer.fit(X_train)
    expected = (X_test - X_train.mean(axis=0)) / X_train.std(axis=0)
    np.testing.assert_allclose(scaler.transform(X_test), expected, rtol=1e-12)
    train, test = standardize(X_train, X_test)
    np.testing.assert_allclose(test, expected, rtol=1e-12)
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-12)


def test_constant_features_are_centred_not_divided():
    X = np.c_[np.zeros(6), np.arange(6.0), np.full(6, 5.0)]  # exactly representable constants
    Z = Standardizer.fit(X).transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_array_equal(Z[:, [0, 2]], 0.0)
    new = Standardizer.fit(X).transform(np.array([[1.0, 2.5, 7.0]]))
    np.testing.assert_allclose(new[0, [0, 2]], [1.0, 2.0])  # shifted by the mean, not divided


@pytest.mark.parametrize("value", [0.1, 0.3])
def test_constant_features_with_rounding_are_still_centred(value):
    X = np.c_[np.full(10, value), np.arange(10.0)]
    Z = Standardizer.fit(X).transform(X)
    np.testing.assert_allclose(Z[:, 0], 0.0, atol=1e-6)


def test_standardizer_errors():
    scaler = Standardizer.fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^fitted on 3 features, got 2$"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(ShapeError, match=r"X must have shape \(N, n_features\), got shape \(3,\)"):
        Standardizer.fit(np.zeros(3))
    with pytest.raises(TypeError, match=r"dtype complex128"):
        Standardizer.fit(np.zeros((2, 2), dtype=complex))


# --- the handwritten digits ---------------------------------------------------------------


@pytest.fixture(scope="module")
def raw():
    """scikit-learn's digits, the independent reference: (X as float64, y as int)."""
    from sklearn.datasets import load_digits as sk_load_digits

    d = sk_load_digits()
    return d.data.astype(np.float64), d.target.astype(int)


@pytest.fixture(scope="module")
def split():
    return load_digits()


@pytest.fixture(scope="module")
def unscaled():
    return load_digits(standardized=False)


def parts(s):
    return [(s.X_train, s.y_train), (s.X_val, s.y_val), (s.X_test, s.y_test)]


def test_digits_parts_are_a_partition_of_the_1797_examples(unscaled, raw):
    X, y = raw
    assert len(y) == 1797
    assert sum(len(yp) for _, yp in parts(unscaled)) == 1797
    full = Counter((row.tobytes(), label) for row, label in zip(X, y, strict=True))
    together = Counter(
        (row.tobytes(), int(label))
        for Xp, yp in parts(unscaled)
        for row, label in zip(Xp, yp, strict=True)
    )
    assert together == full  # every example exactly once: disjoint and complete


def test_digits_shapes_and_dtypes(split):
    for Xp, yp in parts(split):
        assert Xp.ndim == 2 and Xp.shape[1] == 64 and Xp.dtype == np.float64
        assert yp.shape == (Xp.shape[0],) and yp.dtype.kind == "i"
        assert set(np.unique(yp)) == set(range(10))


@pytest.mark.parametrize(("val_fraction", "test_fraction"), [(0.2, 0.2), (0.1, 0.3)])
def test_digits_split_is_stratified(val_fraction, test_fraction, raw):
    s = load_digits(val_fraction=val_fraction, test_fraction=test_fraction)
    class_counts = np.bincount(raw[1], minlength=10)
    fractions = [1 - val_fraction - test_fraction, val_fraction, test_fraction]
    for (_, yp), fraction in zip(parts(s), fractions, strict=True):
        counts = np.bincount(yp, minlength=10)
        assert np.all(np.abs(counts - fraction * class_counts) <= 1), (counts, fraction)


def test_digits_docstring_sizes_are_the_real_ones(split):
    """The lessons quote the docstring's sizes; they must be what the defaults give."""
    doc = re.sub(r"\s+", " ", load_digits.__doc__ or "")
    found = re.search(r"([\d,]+) train, ([\d,]+) validation, ([\d,]+) test", doc)
    assert found, "load_digits' docstring no longer states the split sizes"
    documented = [int(g.replace(",", "")) for g in found.groups()]
    assert documented == [len(split.y_train), len(split.y_val), len(split.y_test)]


def test_digits_repr_states_the_sizes(split):
    assert repr(split) == (
        f"Split(train={len(split.y_train)}, val={len(split.y_val)}, "
        f"test={len(split.y_test)}, features=64)"
    )


def test_digits_are_deterministic_and_seeded(split):
    again = load_digits()
    for (X1, y1), (X2, y2) in zip(parts(split), parts(again), strict=True):
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)
    a, b = load_digits(seed=11), load_digits(seed=12)
    assert not np.array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.y_test, load_digits(seed=11).y_test)


def test_digits_images_are_the_rows(unscaled):
    for (Xp, _), images in zip(parts(unscaled), unscaled.images, strict=True):
        assert images.shape == (Xp.shape[0], 8, 8)
        np.testing.assert_array_equal(images.reshape(-1, 64), Xp)
    assert unscaled.X_train.min() == 0 and unscaled.X_train.max() == 16  # pixel intensities


def test_digits_are_standardized_with_training_statistics(split):
    train_pixels = split.images[0].reshape(-1, 64).astype(np.float64)
    mean, std = train_pixels.mean(axis=0), train_pixels.std(axis=0)
    std[std == 0] = 1.0  # always-blank pixels are only centred
    for (Xp, _), images in zip(parts(split), split.images, strict=True):
        expected = (images.reshape(-1, 64) - mean) / std
        np.testing.assert_allclose(Xp, expected, rtol=1e-12, atol=1e-12)
    varying = train_pixels.std(axis=0) > 0
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(axis=0)[varying], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(split.X_train[:, ~varying], 0.0)
    assert (~varying).sum() >= 1  # the blank corner pixel, at least
