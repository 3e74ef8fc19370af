"""Known answers for the SaS ensemble entropies (docs/model.md §5.5, Fig. 10)."""

import numpy as np
import pytest

from dynamics.entropy import (
    DEFAULT_N_DRAWS,
    DELTA_VARIANCE,
    bernoulli_entropy,
    entropy_one,
    entropy_one_expectation,
    entropy_trajectory,
    entropy_two,
    layer_entries,
    layer_entropies,
    regularised_mixture_entropy,
    slab_entropy,
)

#: Identities that hold to float round-off of a few logs and exps.
ROUND_OFF = 1e-10
#: Number of standard errors allowed between a Monte Carlo mean and its expectation.
N_SIGMA = 4.0
#: scipy.integrate.quad was asked for 1e-11 absolute error; allow a margin.
QUADRATURE_TOL = 1e-8


def gaussian_entropy(variance):
    return 0.5 * np.log(2 * np.pi * np.e * variance)


def test_no_spike_gives_the_gaussian_entropy_to_monte_carlo_error():
    z = np.random.default_rng(0).standard_normal(DEFAULT_N_DRAWS)
    xi = np.array([0.01, 0.3, 2.0])
    s = entropy_one(np.array([0.5, -1.0, 0.0]), np.zeros(3), xi, z)
    # With π = 0 the estimator is ½ ln(2πΞ) + ½ mean(z²) exactly ...
    np.testing.assert_allclose(
        s, 0.5 * np.log(2 * np.pi * xi) + 0.5 * np.mean(z**2), atol=ROUND_OFF
    )
    # ... and mean(z²)/2 has standard error sqrt(2/K)/2 around ½.
    standard_error = np.sqrt(2.0 / z.size) / 2
    np.testing.assert_allclose(s, gaussian_entropy(xi), atol=N_SIGMA * standard_error)


def test_certain_spike_gives_the_log_peak_of_the_regulariser():
    """At π = 1 the entropy formula (docs/model.md §5.5) gives -ln δ_ε(0) = ½ ln(2πε): the entropy
    of N(0, ε) minus ½."""
    z = np.random.default_rng(1).standard_normal(DEFAULT_N_DRAWS)
    s = entropy_one(np.array([0.0, 0.7]), np.ones(2), np.array([0.0, 0.5]), z)
    np.testing.assert_allclose(s, 0.5 * np.log(2 * np.pi * DELTA_VARIANCE), atol=ROUND_OFF)
    np.testing.assert_allclose(s, gaussian_entropy(DELTA_VARIANCE) - 0.5, atol=ROUND_OFF)
    assert regularised_mixture_entropy(0.7, 1.0, 0.5) == pytest.approx(
        gaussian_entropy(DELTA_VARIANCE), abs=QUADRATURE_TOL
    )


@pytest.mark.parametrize(
    "m, pi, xi",
    [(0.3, 0.2, 0.05), (-1.0, 0.5, 0.2), (0.01, 0.7, 1e-3), (0.0, 0.4, 0.0), (2.0, 0.9, 1.0)],
)
def test_monte_carlo_entropy_one_agrees_with_quadrature_within_its_error(m, pi, xi):
    rng = np.random.default_rng(2)
    n_batches, per_batch = 40, DEFAULT_N_DRAWS
    batch_means = np.array(
        [
            entropy_one(
                np.array([m]), np.array([pi]), np.array([xi]), rng.standard_normal(per_batch)
            )[0]
            for _ in range(n_batches)
        ]
    )
    standard_error = batch_means.std(ddof=1) / np.sqrt(n_batches)
    expected = entropy_one_expectation(m, pi, xi)
    assert batch_means.mean() == pytest.approx(expected, abs=N_SIGMA * standard_error + 1e-12)
    # A single 1000-draw estimate is within N_SIGMA of its own batch spread.
    assert batch_means[0] == pytest.approx(expected, abs=N_SIGMA * batch_means.std(ddof=1) + 1e-12)


def test_expected_entropy_one_is_the_exact_entropy_when_there_is_no_spike():
    for m, xi in [(0.4, 0.02), (-2.0, 1.5)]:
        assert entropy_one_expectation(m, 0.0, xi) == pytest.approx(
            regularised_mixture_entropy(m, 0.0, xi), abs=QUADRATURE_TOL
        )
        assert regularised_mixture_entropy(m, 0.0, xi) == pytest.approx(
            gaussian_entropy(xi), abs=QUADRATURE_TOL
        )


def test_entropy_one_misses_half_a_nat_per_unit_spike_mass_for_a_separated_spike():
    """Far from the slab, the spike term is ln p(0) instead of E_δ ln p: a deficit of π/2."""
    m, pi, xi = 1.0, 0.3, 0.05
    deficit = regularised_mixture_entropy(m, pi, xi) - entropy_one_expectation(m, pi, xi)
    # Corrections come from the slab density at w ≈ 0 relative to the spike: ~1e-5.
    assert deficit == pytest.approx(pi / 2, abs=1e-4)


def test_entropy_two_is_bernoulli_plus_floored_gaussian_entropy():
    pi = np.array([0.0, 0.5, 1.0, 0.2])
    xi = np.array([0.0, 1e-5, 0.1, 1.0])
    np.testing.assert_allclose(
        bernoulli_entropy(pi),
        [0.0, np.log(2), 0.0, -0.2 * np.log(0.2) - 0.8 * np.log(0.8)],
        atol=ROUND_OFF,
    )
    floored = np.maximum(xi, DELTA_VARIANCE)
    np.testing.assert_allclose(
        slab_entropy(xi), 0.5 * np.log(2 * np.pi * floored) + 0.5, atol=ROUND_OFF
    )
    np.testing.assert_allclose(
        entropy_two(pi, xi), bernoulli_entropy(pi) + slab_entropy(xi), atol=ROUND_OFF
    )


def test_layer_average_excludes_the_recurrent_diagonal_when_asked():
    n = 6
    pi = np.full((n, n), 0.5)
    np.fill_diagonal(pi, 0.0)
    xi = np.full((n, n), 0.1)
    m = np.zeros((n, n))
    z = np.random.default_rng(3).standard_normal(DEFAULT_N_DRAWS)
    without = layer_entropies(m, pi, xi, z, exclude_diagonal=True)
    assert without["bernoulli_entropy"] == pytest.approx(np.log(2), abs=ROUND_OFF)
    with_diag = layer_entropies(m, pi, xi, z)
    assert with_diag["bernoulli_entropy"] == pytest.approx(np.log(2) * (n - 1) / n, abs=ROUND_OFF)
    assert layer_entries(pi, exclude_diagonal=True).shape == (n * (n - 1),)


def test_entropy_trajectories_fall_as_the_slabs_collapse():
    rng = np.random.default_rng(4)
    n_epochs, n = 5, 8
    shrink = np.linspace(1.0, 0.05, n_epochs)[:, None, None]
    xi = 0.5 * shrink * rng.uniform(0.5, 1.0, size=(1, n, n))
    m = rng.standard_normal((1, n, n)) * np.ones((n_epochs, 1, 1))
    z = rng.standard_normal(DEFAULT_N_DRAWS)
    out = entropy_trajectory(m, np.zeros_like(xi), xi, z, exclude_diagonal=True)
    assert out["entropy_one"].shape == (n_epochs,)
    assert np.all(np.diff(out["entropy_one"]) < 0)
    assert np.all(np.diff(out["entropy_two"]) < 0)


def test_entropy_two_falls_as_spikes_decide_and_slabs_collapse():
    n_epochs, n = 5, 8
    shrink = np.linspace(1.0, 0.0, n_epochs)[:, None, None]
    pi = 0.5 * shrink * np.ones((1, n, n))
    xi = 0.5 * shrink * np.ones((1, n, n))
    z = np.random.default_rng(5).standard_normal(DEFAULT_N_DRAWS)
    out = entropy_trajectory(np.zeros_like(pi), pi, xi, z)
    assert np.all(np.diff(out["entropy_two"]) < 0)
    assert np.all(np.diff(out["bernoulli_entropy"]) < 0)


def test_bad_inputs_raise_one_clear_value_error():
    z = np.zeros(3)
    with pytest.raises(ValueError, match="pi must lie"):
        entropy_one(np.zeros(2), np.array([0.2, 1.5]), np.zeros(2), z)
    with pytest.raises(ValueError, match="xi must be"):
        entropy_two(np.zeros(2), np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        entropy_one(np.zeros(2), np.zeros(3), np.zeros(2), z)
    with pytest.raises(ValueError, match="square"):
        layer_entries(np.zeros((2, 3)), exclude_diagonal=True)
