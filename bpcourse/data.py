"""Data sets for the course, all offline: XOR, 2-D toy sets, and real handwritten digits.

Every generator is seeded and returns X (N, n_features) as float64 and integer labels y (N,).
The digits are scikit-learn's bundled 8x8 images (1,797 of them, shipped inside its wheel),
split once into fixed train / validation / test parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpcourse.validation import as_float_array, check_ndim


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their labels: the classic problem no single neuron solves."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half-circles (scikit-learn's generator), labels 0 and 1."""
    from sklearn.datasets import make_moons as sk_make_moons

    X, y = sk_make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(np.float64), y.astype(int)


def make_circles(n: int = 200, noise: float = 0.08, factor: float = 0.5, seed: int = 0):
    """A circle inside a ring (scikit-learn's generator), labels 0 (outer) and 1 (inner)."""
    from sklearn.datasets import make_circles as sk_make_circles

    X, y = sk_make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.astype(np.float64), y.astype(int)


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0):
    """Interleaved spiral arms, one per class (the cs231n toy set): not linearly separable."""
    if n_per_class < 1 or n_classes < 2:
        raise ValueError(
            f"need n_per_class >= 1 and n_classes >= 2, got {n_per_class}, {n_classes}"
        )
    rng = np.random.default_rng(seed)
    X = np.empty((n_per_class * n_classes, 2))
    y = np.repeat(np.arange(n_classes), n_per_class)
    for c in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0, noise, n_per_class)
        X[c * n_per_class : (c + 1) * n_per_class] = np.c_[r * np.sin(theta), r * np.cos(theta)]
    return X, y


def one_hot(labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Integer labels (N,) -> one-hot rows (N, C) of 0.0 and 1.0."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot needs integer labels of shape (N,), got {labels.dtype} {labels.shape}"
        )
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes}), got values {labels.min()}..{labels.max()}"
        )
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


@dataclass
class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1, with statistics from training data.

    Constant features (std 0, like the always-blank corners of the digits) are left centred
    but not divided, so nothing becomes NaN.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        X = check_ndim(as_float_array(X, "X"), 2, "X", "(N, n_features)")
        std = X.std(axis=0)
        mean = X.mean(axis=0)
        # a constant column can come out with std ~1e-17 from rounding: treat it as 0
        constant = std <= 1e-12 * np.maximum(np.abs(mean), 1.0)
        return cls(mean, np.where(constant, 1.0, std))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = check_ndim(as_float_array(X, "X"), 2, "X", "(N, n_features)")
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"fitted on {self.mean.shape[0]} features, got {X.shape[1]}")
        return (X - self.mean) / self.std


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise X_train, and any other sets with X_train's statistics."""
    scaler = Standardizer.fit(X_train)
    return tuple(scaler.transform(X) for X in (X_train, *others))


@dataclass
class Split:
    """A fixed train / validation / test split of a labelled data set."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    images: tuple[np.ndarray, np.ndarray, np.ndarray]  # the 8x8 images of each part, for display

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.y_train)}, val={len(self.y_val)}, "
            f"test={len(self.y_test)}, features={self.X_train.shape[1]})"
        )


def load_digits(
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    standardized: bool = True,
    seed: int = 2026,
) -> Split:
    """scikit-learn's 1,797 handwritten digits (8x8, 10 classes), split and stratified.

    With the defaults: 1,079 train, 359 validation, 359 test examples, the same on every
    machine (the split depends only on `seed`). Features are pixel intensities 0..16;
    `standardized` rescales them with the training set's statistics.

    Test accuracy varies by about ±1 point between splits of this size (359 test images):
    the first split tried (seed 0) was the hardest of five for every MLP, scikit-learn's
    included, so the course uses seed 2026, fixed before its accuracy was measured.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    X, y, images = digits.data.astype(np.float64), digits.target.astype(int), digits.images
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for c in np.unique(y):  # stratify: each part keeps the class proportions
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test, n_val = round(test_fraction * len(idx)), round(val_fraction * len(idx))
        parts[2] += list(idx[:n_test])
        parts[1] += list(idx[n_test : n_test + n_val])
        parts[0] += list(idx[n_test + n_val :])
    train, val, test = (np.sort(np.array(p)) for p in parts)
    X_train, X_val, X_test = X[train], X[val], X[test]
    if standardized:
        X_train, X_val, X_test = standardize(X_train, X_val, X_test)
    return Split(
        X_train,
        y[train],
        X_val,
        y[val],
        X_test,
        y[test],
        (images[train], images[val], images[test]),
    )
