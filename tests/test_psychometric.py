"""Binomial maximum-likelihood psychometric fits: known answers, step-like curves, calibration."""

import numpy as np
import pytest
from scipy.stats import binom, norm

from figures.resultfiles import to_json
from sims.analyses.behaviour import psychometric_summary
from sims.psychometric import STEP_LEVEL, fit_psychometric, optimal_integration

#: The paper's psychometric grid (Hz) and the threshold of the calibration curves.
GRID = np.arange(9.0, 17.0)
MU = 12.5
#: Counts rounded from N = 10⁶ trials perturb the proportions by ≤ 5·10⁻⁷: the ML estimates sit
#: within this relative distance of the generating μ and σ.
NOISELESS_RTOL = 1e-4


def expected_counts(sigma, n_trials, mu=MU, gamma=0.0, lam=0.0, grid=GRID):
    p = gamma + (1.0 - gamma - lam) * norm.cdf((grid - mu) / sigma)
    return np.round(n_trials * p), np.full(grid.size, float(n_trials))


def probability_all_or_none(mu, sigma, n_trials, at_most=0, grid=GRID):
    """P(at most ``at_most`` frequencies have intermediate counts), from binomial pmfs."""
    p = norm.cdf((grid - mu) / sigma)
    q = binom.pmf(0, n_trials, p) + binom.pmf(n_trials, n_trials, p)
    total = np.prod(q)
    if at_most == 1:
        total += sum((1 - q[j]) * np.prod(np.delete(q, j)) for j in range(grid.size))
    return total


def coverage(sigma, n_replicates, n_boot, seed=0):
    """Fraction of replicates (100 trials a point) whose interval or upper bound covers σ."""
    rng = np.random.default_rng(seed)
    n_trials = np.full(GRID.size, 100)
    covered = 0
    for replicate in range(n_replicates):
        counts = rng.binomial(n_trials, norm.cdf((GRID - MU) / sigma))
        fit = fit_psychometric(GRID, counts, n_trials, n_boot=n_boot, seed=replicate)
        if fit["step_like"]:
            covered += fit["sigma_upper"] is None or fit["sigma_upper"] >= sigma
        else:
            covered += fit["sigma_ci"][0] <= sigma <= fit["sigma_ci"][1]
    return covered / n_replicates


@pytest.mark.parametrize("sigma", [0.3, 0.6, 1.0, 3.0])
def test_noiseless_counts_with_many_trials_recover_the_generating_curve(sigma):
    fit = fit_psychometric(GRID, *expected_counts(sigma, 1_000_000), n_boot=0)
    assert not fit["step_like"] and fit["converged"]
    assert fit["mu"] == pytest.approx(MU, rel=NOISELESS_RTOL)
    assert fit["sigma"] == pytest.approx(sigma, rel=NOISELESS_RTOL)
    assert fit["gamma"] == fit["lambda"] == 0.0 and fit["sigma_ci"] is None


def test_the_estimate_maximises_the_binomial_likelihood_of_scipy_stats():
    n_high = np.array([0, 1, 3, 8, 14, 18, 20, 20])
    n_trials = np.full(8, 20)
    fit = fit_psychometric(GRID, n_high, n_trials, n_boot=0)

    def log_likelihood(mu, sigma):
        return binom.logpmf(n_high, n_trials, norm.cdf((GRID - mu) / sigma)).sum()

    best = log_likelihood(fit["mu"], fit["sigma"])
    assert fit["log_likelihood"] == pytest.approx(best, rel=1e-10)
    for d_mu, factor in [(0.01, 1), (-0.01, 1), (0, 1.01), (0, 0.99)]:
        assert log_likelihood(fit["mu"] + d_mu, fit["sigma"] * factor) < best


def test_order_and_repeated_frequencies_do_not_change_the_fit():
    n_high = np.array([0, 1, 3, 8, 14, 18, 20, 20])
    reference = fit_psychometric(GRID, n_high, np.full(8, 20), n_boot=0)
    order = np.array([3, 7, 0, 5, 1, 6, 2, 4])
    split = fit_psychometric(
        np.concatenate([GRID[order], GRID]),
        np.concatenate([n_high[order] // 2, n_high - n_high // 2]),
        np.full(16, 10),
        n_boot=0,
    )
    assert split["mu"] == pytest.approx(reference["mu"], rel=1e-8)
    assert split["sigma"] == pytest.approx(reference["sigma"], rel=1e-6)


def test_lapse_rates_planted_in_noiseless_counts_are_recovered():
    counts = expected_counts(1.0, 1_000_000, gamma=0.03, lam=0.05)
    fit = fit_psychometric(GRID, *counts, n_boot=0, lapse=True)
    assert fit["gamma"] == pytest.approx(0.03, abs=2e-3)
    assert fit["lambda"] == pytest.approx(0.05, abs=2e-3)
    assert fit["sigma"] == pytest.approx(1.0, rel=1e-2)
    assert fit["mu"] == pytest.approx(MU, abs=1e-2)
    # without lapses the flattened tails are read as a wider curve
    assert fit_psychometric(GRID, *counts, n_boot=0)["sigma"] > 1.2


def test_lapse_rates_from_binomial_counts_are_roughly_right():
    rng = np.random.default_rng(3)
    p = 0.04 + (1 - 0.04 - 0.06) * norm.cdf((GRID - MU) / 0.8)
    n_trials = np.full(GRID.size, 2000)
    fit = fit_psychometric(GRID, rng.binomial(n_trials, p), n_trials, n_boot=0, lapse=True)
    assert fit["gamma"] == pytest.approx(0.04, abs=0.015)
    assert fit["lambda"] == pytest.approx(0.06, abs=0.015)
    assert fit["sigma"] == pytest.approx(0.8, rel=0.15)


def test_a_perfect_step_gives_an_upper_bound_on_sigma_and_never_a_point_value():
    n_trials = np.full(8, 20)
    fit = fit_psychometric(GRID, 20 * (GRID > MU), n_trials)
    assert fit["step_like"] and fit["n_intermediate"] == 0
    assert fit["sigma"] is None and fit["sigma_ci"] is None and fit["sigma_boot"] is None
    assert fit["mu"] == MU and fit["mu_ci"] == [12.0, 13.0]
    assert fit["log_likelihood"] == 0.0
    upper = fit["sigma_upper"]
    # the definition, recomputed from binomial pmfs on a grid of μ inside the step
    mus = np.linspace(12.0, 13.0, 201)[1:-1]
    at = max(probability_all_or_none(mu, upper, 20) for mu in mus)
    assert at == pytest.approx(STEP_LEVEL, rel=1e-3)
    assert max(probability_all_or_none(mu, 1.02 * upper, 20) for mu in mus) < STEP_LEVEL
    assert max(probability_all_or_none(mu, 0.98 * upper, 20) for mu in mus) > STEP_LEVEL


def test_more_trials_tighten_the_step_bound():
    bound = {
        n: fit_psychometric(GRID, n * (GRID > MU), np.full(8, n))["sigma_upper"]
        for n in (5, 20, 100)
    }
    assert bound[5] > bound[20] > bound[100] > 0


def test_one_intermediate_frequency_between_all_or_none_ones_is_step_like_too():
    n_high = np.array([0, 0, 0, 7, 20, 20, 20, 20])
    fit = fit_psychometric(GRID, n_high, np.full(8, 20))
    assert fit["step_like"] and fit["n_intermediate"] == 1 and fit["sigma"] is None
    assert fit["mu"] == 12.0 and fit["mu_ci"] == [11.0, 13.0]
    assert fit["log_likelihood"] == pytest.approx(binom.logpmf(7, 20, 7 / 20))
    mus = np.linspace(11.0, 13.0, 401)[1:-1]
    at = max(probability_all_or_none(mu, fit["sigma_upper"], 20, at_most=1) for mu in mus)
    assert at == pytest.approx(STEP_LEVEL, rel=1e-3)


def test_with_lapses_a_step_plus_one_lapse_is_step_like_not_a_tiny_sigma():
    n_high, n_trials = [0, 0, 0, 0, 20, 20, 20, 19], np.full(8, 20)
    plain = fit_psychometric(GRID, n_high, n_trials, n_boot=0)
    assert not plain["step_like"] and 0.5 < plain["sigma"] < 1.5
    fit = fit_psychometric(GRID, n_high, n_trials, lapse=True)
    assert fit["step_like"] and fit["sigma"] is None and fit["sigma_upper"] is None
    assert fit["mu"] == MU and fit["mu_ci"] == [12.0, 13.0]
    assert fit["gamma"] == 0.0 and fit["lambda"] == pytest.approx(1 / 80)
    assert fit["log_likelihood"] == pytest.approx(
        binom.logpmf(19, 20, 79 / 80) + 3 * (binom.logpmf(20, 20, 79 / 80))
    )
    assert fit["log_likelihood"] > plain["log_likelihood"]


def test_a_transition_off_the_grid_bounds_neither_mu_nor_sigma():
    n_trials = np.full(8, 20)
    low = fit_psychometric(GRID, np.zeros(8), n_trials)
    assert low["step_like"] and low["mu"] is None and low["mu_ci"] == [16.0, None]
    assert low["sigma_upper"] is None
    edge = fit_psychometric(GRID, [7, 20, 20, 20, 20, 20, 20, 20], n_trials)
    assert edge["step_like"] and edge["mu"] == 9.0 and edge["mu_ci"] == [None, 10.0]
    assert edge["sigma_upper"] is None


def test_one_trial_per_frequency_cannot_bound_a_step():
    fit = fit_psychometric(GRID, (GRID > MU).astype(int), np.ones(8))
    assert fit["step_like"] and fit["sigma_upper"] is None


def test_a_falling_curve_is_flagged_as_not_converged():
    fit = fit_psychometric(GRID, [20, 19, 17, 12, 8, 3, 1, 0], np.full(8, 20), n_boot=0)
    assert not fit["step_like"] and not fit["converged"]


def test_bootstrap_intervals_are_seeded_and_contain_the_estimate():
    n_high = np.array([0, 1, 3, 8, 14, 18, 20, 20])
    n_trials = np.full(8, 20)
    fit = fit_psychometric(GRID, n_high, n_trials, n_boot=200, seed=4)
    assert fit["n_boot"] == len(fit["sigma_boot"]) == 200
    assert fit["mu_ci"][0] < fit["mu"] < fit["mu_ci"][1]
    assert 0 < fit["sigma_ci"][0] < fit["sigma"] < fit["sigma_ci"][1]
    assert fit_psychometric(GRID, n_high, n_trials, n_boot=200, seed=4) == fit
    assert (
        fit_psychometric(GRID, n_high, n_trials, n_boot=200, seed=5)["sigma_ci"]
        != (fit["sigma_ci"])
    )


def test_step_like_bootstrap_replicates_open_the_interval_down_to_zero():
    # a steep curve on 20 trials a point: many replicates are perfect steps (σ* = 0)
    fit = fit_psychometric(GRID, [0, 0, 0, 1, 19, 20, 20, 20], np.full(8, 20), n_boot=200)
    assert not fit["step_like"] and fit["sigma"] > 0
    assert fit["n_boot_step_like"] > 0.025 * 200
    assert fit["sigma_boot"].count(0.0) == fit["n_boot_step_like"]
    assert fit["sigma_ci"][0] == 0.0 and fit["sigma_ci"][1] > fit["sigma"]


def test_the_bootstrap_band_holds_the_fitted_curve_and_narrows_with_more_trials():
    """The band's ends bracket the fitted curve and lie in [0, 1]; it spans the tested range
    plus the margin; the curve's uncertainty falls with the trials (about as 1/√N)."""
    widths = []
    for n_trials in (20, 500):
        n_high, trials = expected_counts(0.6, n_trials)
        fit = fit_psychometric(GRID, n_high, trials, n_boot=200, seed=1)
        band = {k: np.asarray(v) for k, v in fit["band"].items()}
        assert band["frequencies"][0] == GRID[0] - 0.5 and band["frequencies"][-1] == GRID[-1] + 0.5
        fitted = norm.cdf((band["frequencies"] - fit["mu"]) / fit["sigma"])
        assert np.all((0 <= band["low"]) & (band["low"] <= fitted + 1e-12))
        assert np.all((fitted - 1e-12 <= band["high"]) & (band["high"] <= 1))
        widths.append(np.max(band["high"] - band["low"]))
    assert 0.1 < widths[1] / widths[0] < 0.4  # √(20/500) = 0.2
    assert fit_psychometric(GRID, [0, 0, 0, 0, 20, 20, 20, 20], np.full(8, 20))["band"] is None


def test_the_pooled_summary_keeps_each_fit_and_its_band_for_the_figure():
    """psychometric_summary pools the seeds' counts and passes every fit's interval and band on
    (Fig. 3 draws them from the stored result)."""
    rng = np.random.default_rng(2)
    sigmas = {"v": 0.8, "a": 0.9, "va": 0.5}
    finals = []
    for _ in range(2):
        counts = {m: rng.binomial(50, norm.cdf((GRID - MU) / s)) for m, s in sigmas.items()}
        finals.append(
            {
                "frequencies": GRID.tolist(),
                "psychometric": {m: counts[m] / 50 for m in sigmas},
                "psychometric_counts": {
                    "n_high": counts,
                    "n_trials": {m: np.full(GRID.size, 50) for m in sigmas},
                },
                "sigma": {
                    m: fit_psychometric(GRID, counts[m], np.full(8, 50))["sigma"] for m in sigmas
                },
                "test_accuracy": 0.9,
            }
        )
    summary = psychometric_summary(finals, n_boot=100, seed=0)
    pooled = {m: sum(f["psychometric_counts"]["n_high"][m] for f in finals) for m in sigmas}
    for m in sigmas:
        alone = fit_psychometric(GRID, pooled[m], np.full(GRID.size, 100), n_boot=0)
        assert summary["fit"][m]["sigma"] == pytest.approx(alone["sigma"])
        band = summary["fit"][m]["band"]
        assert len(band["low"]) == len(band["high"]) == len(band["frequencies"])
        assert np.all(np.asarray(band["low"]) <= np.asarray(band["high"]))
    assert summary["va_steeper"] is True
    over = summary["over_seeds"]
    assert over["sigma"]["va"]["n"] == 2 and over["n_seeds_va_steepest"] == 2
    assert over["va_minus_steeper_single"]["mean"] < 0
    assert len(over["optimal_ratio"]["per_seed"]) == 2


def test_bootstrap_intervals_cover_the_generating_sigma_in_a_few_seeded_replicates():
    # the default-suite slice of test_bootstrap_intervals_are_calibrated: 15 curves; calibrated
    # 95 % intervals miss more than 3 of them with probability 0.5 %
    covered = [coverage(sigma, n_replicates=5, n_boot=200, seed=11) for sigma in (0.3, 0.6, 1.0)]
    assert round(5 * sum(covered)) >= 12


@pytest.mark.slow
@pytest.mark.parametrize("sigma", [0.3, 0.6, 1.0])
def test_bootstrap_intervals_are_calibrated(sigma):
    covered = coverage(sigma, n_replicates=100, n_boot=1000)
    print(f"σ = {sigma} Hz: 95 % intervals cover the generating σ in {covered:.0%} of 100")
    assert 0.90 <= covered <= 0.99


@pytest.mark.parametrize(
    "frequencies, n_high, n_trials, match",
    [
        (GRID, np.zeros(7), np.ones(8), "same shape"),
        ([12.0], [0], [1], "at least 2"),
        (GRID, np.full(8, 3), np.full(8, 2), "exceeds"),
        (GRID, np.full(8, -1), np.full(8, 2), "non-negative"),
        (GRID, np.full(8, 0.5), np.ones(8), "not proportions"),
        (np.where(GRID == 12, np.nan, GRID), np.zeros(8), np.ones(8), "NaN"),
        (GRID, np.zeros(8), np.zeros(8), "zero at every"),
        (GRID, np.zeros(8), np.eye(8)[0], "2 or more distinct"),
        (np.ones((2, 4)), np.zeros((2, 4)), np.ones((2, 4)), "1-D"),
    ],
)
def test_bad_input_is_a_clear_value_error(frequencies, n_high, n_trials, match):
    with pytest.raises(ValueError, match=match):
        fit_psychometric(frequencies, n_high, n_trials)


def test_a_negative_bootstrap_count_is_a_value_error():
    with pytest.raises(ValueError, match="n_boot"):
        fit_psychometric(GRID, [0, 1, 3, 8, 14, 18, 20, 20], np.full(8, 20), n_boot=-1)


def test_every_kind_of_result_is_storable_as_json():
    n_trials = np.full(8, 20)
    for n_high in ([0, 1, 3, 8, 14, 18, 20, 20], 20 * (GRID > MU), np.zeros(8), [0] * 7 + [3]):
        for lapse in (False, True):
            to_json(fit_psychometric(GRID, n_high, n_trials, n_boot=20, lapse=lapse))


def modality_fits(sigmas, n_trials=10_000, n_boot=100):
    rng = np.random.default_rng(7)
    fits = {}
    for seed, (name, sigma) in enumerate(sigmas.items()):
        counts = rng.binomial(n_trials, norm.cdf((GRID - MU) / sigma))
        fits[name] = fit_psychometric(
            GRID, counts, np.full(GRID.size, n_trials), n_boot=n_boot, seed=seed
        )
    return fits


def test_optimal_integration_recovers_an_optimal_combination():
    sigma_v, sigma_a = 1.2, 0.9
    sigma_va = (sigma_v**-2 + sigma_a**-2) ** -0.5
    result = optimal_integration(modality_fits({"v": sigma_v, "a": sigma_a, "va": sigma_va}))
    assert result["resolvable"] and result["consistent_with_optimal"]
    assert result["ratio"] == pytest.approx(1.0, abs=0.05)
    low, high = result["ratio_ci"]
    assert 0.85 < low < result["ratio"] < high < 1.15
    assert result["sigma_va_predicted"] == pytest.approx(sigma_va, rel=0.03)
    assert result["inverse_sigma_va_sq"] == pytest.approx(sigma_va**-2, rel=0.05)
    to_json(result)


def test_optimal_integration_rejects_a_combined_curve_no_steeper_than_vision():
    result = optimal_integration(modality_fits({"v": 1.2, "a": 0.9, "va": 1.2}))
    assert result["resolvable"] and not result["consistent_with_optimal"]
    assert result["ratio_ci"][1] < 1.0


def test_optimal_integration_is_not_resolvable_with_a_step_like_curve():
    fits = modality_fits({"v": 1.2, "a": 0.9}, n_boot=20)
    fits["va"] = fit_psychometric(GRID, 20 * (GRID > MU), np.full(8, 20))
    result = optimal_integration(fits)
    assert result["resolvable"] is False and "va" in result["reason"]


def test_optimal_integration_refuses_correlated_or_missing_bootstraps():
    fits = modality_fits({"v": 1.2, "a": 0.9, "va": 0.7}, n_boot=20)
    with pytest.raises(ValueError, match="missing"):
        optimal_integration({"v": fits["v"], "a": fits["a"]})
    with pytest.raises(ValueError, match="own seed"):
        optimal_integration({**fits, "a": {**fits["a"], "seed": fits["v"]["seed"]}})
    with pytest.raises(ValueError, match="n_boot > 0"):
        optimal_integration({**fits, "va": {**fits["va"], "sigma_boot": None}})
    with pytest.raises(ValueError, match="same n_boot"):
        optimal_integration({**fits, "va": {**fits["va"], "sigma_boot": [1.0]}})
