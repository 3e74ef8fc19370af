"""Effective couplings and the quiescent-state boundary of untrained SaS networks (theory.phase)."""

import math

import numpy as np
import pytest
import sympy as sp

from dynamics.init_dynamics import draw_sas_ensemble, lyapunov_mean_field, sample_weights
from theory.phase import (
    critical_g,
    derive_coupling_statistics,
    effective_couplings,
    quiescent_growth_factor,
    relu_gain,
    tanh_bulk_growth,
)

#: Monte Carlo over N^2 = 250,000 weights of one network: relative standard errors of a mean or
#: variance are ~ sqrt(2 / N^2) ~ 3e-3; 3e-2 leaves a margin for the O(1/N) terms.
MONTE_CARLO_RELATIVE_TOLERANCE = 3e-2
#: The Gaussian map iterated with 400,000 samples: relative error of the gain ~ 2e-3.
GAUSSIAN_MAP_RELATIVE_TOLERANCE = 1e-2
#: Growth of a decaying linear(ised) mean-field network of N = 600 units over 600 steps: the
#: log-norm slope fluctuates by ~1e-2 (finite N edge of the quenched part, finite time).
SIMULATED_GROWTH_TOLERANCE = 2e-2


def test_sympy_derivation_gives_the_leading_order_effective_couplings():
    d = derive_coupling_statistics()
    g, j0, pi, xi = sp.symbols("g J0 pi xi", positive=True)
    assert sp.simplify(d["J0_eff"] - (1 - pi) * j0) == 0
    assert sp.simplify(d["g_eff2"] - (1 - pi) * (g**2 + xi)) == 0
    assert sp.simplify(d["quenched_limit"] - (1 - pi) ** 2 * g**2) == 0
    assert sp.simplify(d["annealed_limit"] - ((1 - pi) * xi + pi * (1 - pi) * g**2)) == 0


def test_quenched_and_annealed_parts_add_up_to_the_exact_weight_variance():
    d = derive_coupling_statistics()
    n, j0, pi = sp.symbols("N J0 pi", positive=True)
    assert sp.simplify(d["quenched"] + d["annealed"] - d["total"]) == 0
    # the only finite-N correction: pi (1 - pi) J0^2 / N in the annealed part
    assert sp.simplify(d["total"] - d["g_eff2"] - pi * (1 - pi) * j0**2 / n) == 0


def test_effective_couplings_match_a_sampled_ensemble():
    n, params = 500, {"g": 1.3, "J0": 2.0, "pi": 0.4, "xi": 0.8}
    rng = np.random.default_rng(0)
    m, pi, xi = draw_sas_ensemble(n, rng=rng, **params)
    w = sample_weights(m, pi, xi, rng)
    mu, v = (1 - pi) * m, (1 - pi) * xi + pi * (1 - pi) * m**2
    expected = effective_couplings(**params)
    # N E[w] is a mean of N^2 weights of variance g_eff^2 / N: standard error sqrt(g_eff^2 / N)
    assert abs(n * w.mean() - expected["J0_eff"]) < 4 * math.sqrt(expected["g_eff2"] / n)
    measured = {"g_eff2": n * w.var(), "quenched": n * mu.var(), "annealed": n * v.mean()}
    for name, value in measured.items():
        assert value == pytest.approx(expected[name], rel=MONTE_CARLO_RELATIVE_TOLERANCE), name


def test_relu_gain_reduces_to_its_known_limits():
    assert relu_gain(1.7, 0.0) == pytest.approx(1.7 / math.sqrt(2))
    assert relu_gain(1e-6, 1.3) == pytest.approx(1.3, rel=1e-4)
    assert relu_gain(0.0, -1.0) == 0.0
    assert critical_g(pi=0.0, activation="relu") == pytest.approx(math.sqrt(2))


@pytest.mark.parametrize("g_eff, J0_eff", [(1.0, 0.8), (0.6, 1.5), (1.2, -1.0)])
def test_relu_gain_is_the_growth_factor_of_the_gaussian_map(g_eff, J0_eff):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(400_000)
    mean, spread = 0.3, 1.0
    for _ in range(60):  # (M, s) -> (J0 E[r], g sqrt(E[r^2])), renormalised to s = 1
        r = np.maximum(mean + spread * z, 0.0)
        mean, spread = J0_eff * r.mean(), g_eff * math.sqrt(np.mean(r * r))
        gain = spread
        mean, spread = mean / spread, 1.0
    assert gain == pytest.approx(relu_gain(g_eff, J0_eff), rel=GAUSSIAN_MAP_RELATIVE_TOLERANCE)


def test_tanh_bulk_growth_reduces_to_quenched_and_annealed_limits():
    assert tanh_bulk_growth(0.5, 0.3, 1.0) == pytest.approx(math.sqrt(0.8))
    assert tanh_bulk_growth(0.81, 0.0, 0.4) == pytest.approx(0.6 + 0.4 * 0.9)
    alpha = 0.25  # pure annealed disorder is marginal at sigma_a^2 = (2 - alpha) / alpha
    assert tanh_bulk_growth(0.0, (2 - alpha) / alpha, alpha) == pytest.approx(1.0)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.2])
def test_sampled_network_boundary_is_unit_effective_gain_for_every_leak(alpha):
    for pi, xi in [(0.0, 0.0), (0.5, 0.2), (0.8, 1.0)]:
        g_c = critical_g(pi=pi, xi=xi, alpha=alpha)
        assert g_c == pytest.approx(math.sqrt(1 / (1 - pi) - xi))
        assert critical_g(pi=pi, xi=xi, alpha=alpha, activation="relu") == pytest.approx(
            math.sqrt(2 / (1 - pi) - xi)
        )


def test_mean_field_boundary_matches_sampled_one_only_without_leak():
    assert critical_g(pi=0.5, network="mean-field") == pytest.approx(math.sqrt(2))
    # with leak, annealed variance is less destabilising: the boundary moves to larger g
    assert critical_g(pi=0.5, alpha=0.5, network="mean-field") > math.sqrt(2) + 0.1


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_tanh_growth_factor_matches_a_simulated_decaying_mean_field_network(alpha):
    n, params = 600, {"g": 0.8, "J0": 0.0, "pi": 0.5, "xi": 0.6}
    rng = np.random.default_rng(2)
    m, pi, xi = draw_sas_ensemble(n, rng=rng, **params)
    mu, var = (1 - pi) * m, (1 - pi) * xi + pi * (1 - pi) * m**2
    eps = rng.standard_normal((800, n))
    result = lyapunov_mean_field(
        mu, var, 1e-3 * rng.standard_normal(n), eps, activation="tanh", alpha=alpha, transient=200
    )
    gamma = quiescent_growth_factor(**params, alpha=alpha, network="mean-field")
    assert result.phase == "decay"
    assert result.norm_growth == pytest.approx(math.log(gamma), abs=SIMULATED_GROWTH_TOLERANCE)


def test_bad_parameters_raise_one_clear_error():
    with pytest.raises(ValueError, match="pi"):
        effective_couplings(1.0, 0.0, 1.2, 0.0)
    with pytest.raises(ValueError, match="network"):
        quiescent_growth_factor(g=1.0, J0=0.0, pi=0.0, xi=0.0, network="sampled")
    with pytest.raises(ValueError, match="alpha = 1"):
        quiescent_growth_factor(
            g=1.0, J0=0.0, pi=0.0, xi=0.0, alpha=0.5, activation="relu", network="mean-field"
        )
