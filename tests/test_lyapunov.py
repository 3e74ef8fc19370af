"""Lyapunov exponents and activity of untrained SaS networks (dynamics.init_dynamics)."""

import numpy as np
import pytest

from dynamics.init_dynamics import (
    draw_sas_ensemble,
    lyapunov_mean_field,
    lyapunov_quenched,
    perturbation_growth_exponent,
    sample_weights,
)
from sims.probes import get_probe
from sims.scan import first_upward_crossing
from theory.phase import relu_gain

#: QR and two-trajectory estimates follow the same trajectory for the same steps; in the runs
#: below they agree to ~1e-4 per step, so 3e-3 leaves room for the O(1e-8) nonlinearity of the
#: finite perturbation and the different start of the tangent vector.
QR_VS_DIRECT_TOLERANCE = 3e-3
#: A decaying tanh network ends up linear; the QR exponent then converges to the log spectral
#: radius with error ~ log(|lambda_1| / |lambda_2|)^-1 / steps, below 1e-2 for 3000 steps here.
SPECTRAL_RADIUS_TOLERANCE = 1e-2
#: Sum of all exponents = mean log|det J|; exact up to round-off once the network is linear.
LOG_DET_TOLERANCE = 1e-6
#: Limit cycles and quasi-periodic states of finite networks have lambda_max = 0 exactly; after
#: 1000 steps it is measured as |lambda| < 1e-4. The crossing is taken where the seed-mean
#: exponent rises through -LAMBDA_MARGINAL, so that those marginal states count as "crossed".
LAMBDA_MARGINAL = 1e-3
#: Distance of the crossing from g_eff = 1: a tolerance of +-0.1 at N = 1000; at N = 200 the
#: spectral edge of one sampled matrix fluctuates by ~ sqrt(log N / N) ~ 0.15, hence 0.2.
CROSSING_TOLERANCE_N1000 = 0.1
CROSSING_TOLERANCE_N200 = 0.2


def _network(n, seed, **ensemble):
    rng = np.random.default_rng(seed)
    m, pi, xi = draw_sas_ensemble(n, rng=rng, **ensemble)
    return rng, m, pi, xi


@pytest.mark.parametrize(
    "activation, network, ensemble, alpha",
    [
        ("tanh", "quenched", {"g": 1.8, "J0": 0.0, "pi": 0.0, "xi": 0.0}, 1.0),
        ("tanh", "mean-field", {"g": 2.5, "J0": 0.0, "pi": 0.3, "xi": 0.5}, 1.0),
        ("relu", "quenched", {"g": 1.2, "J0": 0.0, "pi": 0.2, "xi": 0.3}, 0.5),
        ("tanh", "quenched", {"g": 0.7, "J0": 0.0, "pi": 0.0, "xi": 0.0}, 0.5),
    ],
)
def test_qr_exponent_matches_direct_growth_of_small_perturbations(
    activation, network, ensemble, alpha
):
    n, transient, steps = 80, 300, 1500
    rng, m, pi, xi = _network(n, 3, **ensemble)
    h0 = rng.standard_normal(n)
    d0 = 1e-8 * rng.standard_normal(n)
    run = {"activation": activation, "alpha": alpha, "transient": transient}
    if network == "quenched":
        w = sample_weights(m, pi, xi, rng)
        qr = lyapunov_quenched(w, h0, steps=steps, **run).lyapunov
        direct = perturbation_growth_exponent(h0, d0, w=w, steps=steps, **run)
    else:
        mu, var = (1 - pi) * m, (1 - pi) * xi + pi * (1 - pi) * m**2
        eps = rng.standard_normal((transient + steps, n))
        qr = lyapunov_mean_field(mu, var, h0, eps, **run).lyapunov
        direct = perturbation_growth_exponent(h0, d0, mu=mu, var=var, eps=eps, steps=steps, **run)
    assert abs(qr - direct) < QR_VS_DIRECT_TOLERANCE, (qr, direct)


def test_decaying_tanh_network_exponent_is_log_spectral_radius_of_leaky_matrix():
    n, alpha = 60, 0.5
    rng, m, pi, xi = _network(n, 1, g=0.6, J0=0.0, pi=0.0, xi=0.0)
    w = sample_weights(m, pi, xi, rng)
    result = lyapunov_quenched(
        w, rng.standard_normal(n), activation="tanh", alpha=alpha, steps=3000, transient=200
    )
    radius = np.abs(np.linalg.eigvals((1 - alpha) * np.eye(n) + alpha * w)).max()
    assert result.phase == "decay"
    assert abs(result.lyapunov - np.log(radius)) < SPECTRAL_RADIUS_TOLERANCE


def test_full_qr_spectrum_sums_to_log_determinant_of_linearised_map():
    n, alpha = 12, 0.7
    rng, m, pi, xi = _network(n, 2, g=0.5, J0=0.0, pi=0.0, xi=0.0)
    w = sample_weights(m, pi, xi, rng)
    result = lyapunov_quenched(
        w,
        1e-3 * rng.standard_normal(n),
        activation="tanh",
        alpha=alpha,
        steps=400,
        transient=400,
        n_exponents=n,
    )
    _, log_det = np.linalg.slogdet((1 - alpha) * np.eye(n) + alpha * w)
    assert np.all(np.diff(result.exponents) <= 0)
    assert abs(result.exponents.sum() - log_det) < LOG_DET_TOLERANCE


def test_mean_field_network_without_variance_is_the_network_of_mean_weights():
    n = 40
    rng, m, pi, xi = _network(n, 4, g=1.5, J0=0.5, pi=0.0, xi=0.0)
    h0 = rng.standard_normal(n)
    eps = rng.standard_normal((700, n))
    mean_field = lyapunov_mean_field(
        m, np.zeros((n, n)), h0, eps, activation="tanh", alpha=0.8, transient=200
    )
    sampled = lyapunov_quenched(m, h0, activation="tanh", alpha=0.8, steps=500, transient=200)
    assert mean_field.lyapunov == sampled.lyapunov
    np.testing.assert_array_equal(mean_field.log_rms_trace, sampled.log_rms_trace)


def test_sampled_weights_have_the_spike_and_slab_moments():
    rng = np.random.default_rng(5)
    shape = (400, 400)
    m, pi, xi = np.full(shape, 0.7), np.full(shape, 0.3), np.full(shape, 0.2)
    w = sample_weights(m, pi, xi, rng)
    # 160,000 draws: standard errors ~ 1e-3 of the moments, 1e-2 tolerance
    assert abs(w.mean() - 0.7 * 0.7) < 1e-2
    assert abs(w.var() - (0.7 * 0.2 + 0.3 * 0.7 * 0.7**2)) < 1e-2
    assert abs((w == 0).mean() - 0.3) < 1e-2


def test_exploding_relu_network_grows_at_the_theory_gain_without_overflow():
    n, g = 400, 3.0
    rng, m, pi, xi = _network(n, 6, g=g, J0=0.0, pi=0.0, xi=0.0)
    w = sample_weights(m, pi, xi, rng)
    result = lyapunov_quenched(
        w, rng.standard_normal(n), activation="relu", alpha=1.0, steps=400, transient=100
    )
    assert result.phase == "explosion"
    assert np.isfinite(result.lyapunov) and result.log_rms_trace[-1] > 100
    # self-similar growth factor kappa = g / sqrt(2) (theory.phase.relu_gain); the sampled
    # matrix's edge fluctuates by ~sqrt(log N / N) ~ 0.12 in relative terms at N = 400
    assert abs(result.norm_growth - np.log(relu_gain(g, 0.0))) < 0.12


def test_bad_inputs_raise_one_clear_error():
    w = np.eye(3)
    with pytest.raises(ValueError, match="activation"):
        lyapunov_quenched(w, np.zeros(3), activation="sigmoid", alpha=1.0, steps=5)
    with pytest.raises(ValueError, match="alpha"):
        lyapunov_quenched(w, np.zeros(3), activation="tanh", alpha=0.0, steps=5)
    with pytest.raises(ValueError, match="h0"):
        lyapunov_quenched(w, np.zeros(4), activation="tanh", alpha=1.0, steps=5)
    with pytest.raises(ValueError, match="pi"):
        draw_sas_ensemble(3, g=1.0, J0=0.0, pi=1.5, xi=0.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="eps"):
        lyapunov_mean_field(
            w, w, np.zeros(3), np.zeros((2, 3)), activation="tanh", alpha=1.0, transient=5
        )


def _crossing_in_effective_gain(pi, n, seeds, alpha=1.0, metric="lyapunov", level=-LAMBDA_MARGINAL):
    probe = get_probe("init-dynamics")
    g_grid = np.linspace(0.7, 1.3, 13) / np.sqrt(1 - pi)
    values = [
        np.mean(
            [
                probe.function(
                    probe.resolve({"g": g, "pi": pi, "N": n, "alpha": alpha, "seed": seed})
                )[metric]
                for seed in range(seeds)
            ]
        )
        for g in g_grid
    ]
    crossing_g = first_upward_crossing(g_grid, values, level=level)
    assert crossing_g is not None, values
    return crossing_g * np.sqrt(1 - pi)


@pytest.mark.parametrize("pi", [0.0, 0.3, 0.6])
def test_tanh_chaos_onset_sits_at_unit_effective_gain_not_unit_g(pi):
    g_eff_crossing = _crossing_in_effective_gain(pi, n=200, seeds=2)
    assert abs(g_eff_crossing - 1.0) < CROSSING_TOLERANCE_N200
    if pi > 0:  # the crossing is nearer g_eff = 1 than g = 1 (i.e. g_eff = sqrt(1 - pi))
        assert abs(g_eff_crossing - 1.0) < abs(g_eff_crossing - np.sqrt(1 - pi))


@pytest.mark.slow
@pytest.mark.parametrize("pi", [0.0, 0.25, 0.5, 0.75])
def test_tanh_chaos_onset_at_unit_effective_gain_for_large_networks(pi):
    g_eff_crossing = _crossing_in_effective_gain(pi, n=1000, seeds=2)
    assert abs(g_eff_crossing - 1.0) < CROSSING_TOLERANCE_N1000


@pytest.mark.slow
@pytest.mark.parametrize("pi", [0.0, 0.5, 0.75])
def test_leaky_tanh_activity_onset_stays_at_unit_effective_gain(pi):
    """With leak alpha = 0.3 the quiescent state still destabilises at g_eff = 1.

    (lambda_max itself reaches 0 there from below, but finite sparse leaky networks can sit on
    stable non-zero fixed points, lambda ~ -5e-3, up to g_eff ~ 1.1 before chaos: so the onset
    is read from the phase code, decay (0) -> saturation (1), at level 0.5.)
    """
    g_eff_crossing = _crossing_in_effective_gain(
        pi, n=1000, seeds=2, alpha=0.3, metric="phase", level=0.5
    )
    assert abs(g_eff_crossing - 1.0) < CROSSING_TOLERANCE_N1000
