"""Weight initialisations (bpcourse.init): shape, scale from the formulas, seeds, dtype.

The expected scales come from the formulas of lesson 07: Xavier/Glorot keeps
Var(W) = 2/(n_in + n_out), He keeps Var(W) = 2/n_in; a uniform U(-a, a) has variance a²/3.
Matrices are large (n_out = 200, n_in = 600: 120 000 draws), so the sample standard
deviation is within about 0.2 % of the true one; the tests allow 2 %. n_in ≠ n_out, so a
formula with n_in and n_out swapped would be caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcourse.init import INITIALISERS, default_init_for, initialise

N_OUT, N_IN = 200, 600

# name -> (distribution, the standard deviation the formula gives)
EXPECTED_STD = {
    "uniform": ("uniform", 0.05 / math.sqrt(3)),
    "normal": ("normal", 0.01),
    "xavier_uniform": ("uniform", math.sqrt(2 / (N_IN + N_OUT))),
    "xavier_normal": ("normal", math.sqrt(2 / (N_IN + N_OUT))),
    "glorot_uniform": ("uniform", math.sqrt(2 / (N_IN + N_OUT))),
    "glorot_normal": ("normal", math.sqrt(2 / (N_IN + N_OUT))),
    "he_uniform": ("uniform", math.sqrt(2 / N_IN)),
    "he_normal": ("normal", math.sqrt(2 / N_IN)),
}


def draw(name: str, seed: int = 0, **kwargs) -> np.ndarray:
    return initialise(name, N_OUT, N_IN, np.random.default_rng(seed), **kwargs)


def test_every_documented_name_is_there():
    assert set(INITIALISERS) == set(EXPECTED_STD)


@pytest.mark.parametrize("name", list(EXPECTED_STD))
def test_empirical_scale_matches_the_formula(name):
    kind, std = EXPECTED_STD[name]
    W = draw(name)
    assert W.shape == (N_OUT, N_IN)  # (n_out, n_in), as the math and PyTorch
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 5 * std / math.sqrt(W.size)  # centred at 0
    # the distribution's shape: U(-a, a) with a = √3·std is bounded and reaches its limit;
    # P(|W| < std) is 1/√3 ≈ 0.577 for a uniform, erf(1/√2) ≈ 0.683 for a normal
    within_one_std = np.mean(np.abs(W) < std)
    if kind == "uniform":
        limit = math.sqrt(3) * std
        assert np.abs(W).max() <= limit
        assert np.abs(W).max() > 0.999 * limit
        assert within_one_std == pytest.approx(1 / math.sqrt(3), abs=0.01)
    else:
        assert within_one_std == pytest.approx(math.erf(1 / math.sqrt(2)), abs=0.01)
        assert np.abs(W).max() > 3.5 * std


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("xavier_uniform", math.sqrt(6 / (N_IN + N_OUT))),
        ("he_uniform", math.sqrt(6 / N_IN)),
        ("uniform", 0.05),
    ],
)
def test_uniform_limits(name, limit):
    W = draw(name)
    assert np.abs(W).max() <= limit
    assert W.max() > 0.999 * limit and W.min() < -0.999 * limit


@pytest.mark.parametrize(("name", "kind"), [("uniform", "uniform"), ("normal", "normal")])
def test_plain_initialisers_take_a_scale(name, kind):
    W = draw(name, scale=0.5)
    expected_std = 0.5 / math.sqrt(3) if kind == "uniform" else 0.5
    assert W.std() == pytest.approx(expected_std, rel=0.02)


@pytest.mark.parametrize(("n_out", "n_in"), [(1, 1), (3, 7), (10, 2)])
@pytest.mark.parametrize("name", list(EXPECTED_STD))
def test_shape_is_n_out_by_n_in(name, n_out, n_in):
    W = initialise(name, n_out, n_in, np.random.default_rng(0))
    assert W.shape == (n_out, n_in)
    assert np.isfinite(W).all()


@pytest.mark.parametrize("name", list(EXPECTED_STD))
def test_seeded_reproducibility(name):
    np.testing.assert_array_equal(draw(name, seed=42), draw(name, seed=42))
    assert not np.array_equal(draw(name, seed=42), draw(name, seed=43))


def test_one_generator_gives_fresh_draws_for_each_layer():
    rng = np.random.default_rng(0)
    first = initialise("he_normal", 5, 5, rng)
    second = initialise("he_normal", 5, 5, rng)
    assert not np.array_equal(first, second)


def test_glorot_is_another_name_for_xavier():
    np.testing.assert_array_equal(draw("glorot_uniform"), draw("xavier_uniform"))
    np.testing.assert_array_equal(draw("glorot_normal"), draw("xavier_normal"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXPECTED_STD))
def test_dtype(name, dtype):
    rng = np.random.default_rng(0)
    assert initialise(name, 3, 4, rng, dtype=dtype).dtype == dtype
    assert initialise(name, 3, 4, rng).dtype == np.float64  # the default: float64, for checks


def test_names_are_case_insensitive():
    np.testing.assert_array_equal(draw("He_Normal"), draw("he_normal"))


@pytest.mark.parametrize("bad", ["kaiming", "", "he"])
def test_unknown_initialiser_lists_the_valid_names(bad):
    with pytest.raises(ValueError, match=rf"unknown initialiser '{bad}'; valid names are: ") as e:
        draw(bad)
    for name in INITIALISERS:
        assert name in str(e.value)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", "he_normal"),
        ("leaky_relu", "he_normal"),
        ("sigmoid", "xavier_normal"),
        ("tanh", "xavier_normal"),
        ("identity", "xavier_normal"),
    ],
)
def test_default_pairing(activation, expected):
    """He for the ReLU family (it zeroes half its inputs), Xavier otherwise."""
    assert default_init_for(activation) == expected
    assert default_init_for(activation) in INITIALISERS
