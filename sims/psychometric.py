"""Psychometric fits for multisensory choices by binomial maximum likelihood (docs/model.md §2.6.3).

A psychometric curve is a set of counts: at frequency f_i (Hz), n_i "high" choices out of N_i
trials. The model is the cumulative Gaussian (probit) with optional lapse rates,

    P(high | f) = γ + (1 − γ − λ) Φ((f − μ)/σ),

with the threshold (point of subjective equality) μ and the width σ in Hz; γ = λ = 0 unless the
lapses are fitted (each within :data:`LAPSE_BOUNDS`). The log-likelihood is binomial,

    ℓ(μ, σ, γ, λ) = Σ_i [log C(N_i, n_i) + n_i log P_i + (N_i − n_i) log(1 − P_i)],

maximised by :func:`scipy.optimize.minimize` (L-BFGS-B, analytic gradient) over (μ, log σ[, γ, λ]).
log P and log(1 − P) are evaluated with :func:`scipy.special.log_ndtr`, so a steep curve whose Φ
underflows far from μ still has a finite likelihood (``scipy.stats.binom.logpmf`` would give −inf
there); where both are finite the two agree.

Intervals come from a parametric bootstrap: counts n*_i ~ Binomial(N_i, P̂_i) are drawn from the
fitted curve at the same trial counts and refitted. The reported interval is the bias-corrected
(BC) percentile interval of the replicates (:func:`_interval`) rather than the plain one: the ML σ̂
is skewed (on 9–16 Hz with 100 trials a point and σ = 0.6 Hz, the 2.5/50/97.5 % quantiles of
log(σ̂/σ) are −0.20/−0.01/+0.14), which the plain percentile interval mirrors the wrong way, so
that nearly all of its misses lie above the interval. Measured over 300 simulated curves each
(400 replicates): σ = 0.3 Hz, plain 91.3 % coverage with 23 of 26 misses above, BC 96.7 % (6 of
10 above); σ = 0.6 Hz, plain 94.3 % (15 of 17 above), BC 95.7 % (10 of 13 above).

**Separated (step-like) data.** If the counts are all-or-none (n_i = 0 or N_i) and monotone, or
all-or-none except at a single frequency with every point below it 0 and every point above it
N_i, the likelihood increases all the way to σ → 0: there is no finite maximum-likelihood σ, and
the data carry only an upper bound on σ (least squares stops wherever its optimiser gives up).
Such a curve is reported as ``step_like``, with no point σ and the upper bound of
:func:`_sigma_upper`. With lapses, a step whose stray counts the lapse rates absorb is a step too
(:func:`_lapse_step`). The same holds for bootstrap replicates; their handling is described in
:func:`fit_psychometric`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import gammaln, log_ndtr, ndtr, ndtri
from scipy.stats import binom

from dynamics._blas import one_blas_thread
from sims.analyses.training import CONFIDENCE

__all__ = [
    "CONFIDENCE",
    "LAPSE_BOUNDS",
    "STEP_LEVEL",
    "fit_psychometric",
    "optimal_integration",
]

#: Allowed range of each lapse rate γ (low end) and λ (high end) when ``lapse=True``.
LAPSE_BOUNDS = (0.0, 0.1)
#: Significance level of the all-or-none test that gives ``sigma_upper``.
STEP_LEVEL = 0.05
#: The three multisensory modalities (``sims.tasks.multisensory.MODALITIES``).
_MODALITIES = ("v", "a", "va")
#: σ search range, relative to the smallest frequency spacing (below) and the grid span (above).
_SIGMA_FLOOR = 1e-3
_SIGMA_CEILING = 10.0
#: μ may lie this many grid spans outside the tested frequencies.
_MU_MARGIN = 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: A fit within this much log-likelihood of its σ → 0 limit is a step (σ̂ = 0).
_STEP_TOLERANCE = 1e-6
#: The bootstrap band of the fitted curve: this many frequencies, from half a hertz below the
#: tested range to half a hertz above it.
BAND_POINTS = 121
BAND_MARGIN_HZ = 0.5


def _check_counts(frequencies, n_high, n_trials):
    """Validate, pool repeated frequencies, drop frequencies without trials; sorted arrays."""
    arrays = []
    for name, value in (
        ("frequencies", frequencies),
        ("n_high", n_high),
        ("n_trials", n_trials),
    ):
        array = np.asarray(value, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}.")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinite values; pass finite numbers.")
        arrays.append(array)
    frequencies, n_high, n_trials = arrays
    if not frequencies.shape == n_high.shape == n_trials.shape:
        raise ValueError(
            "frequencies, n_high and n_trials must have the same shape, got "
            f"{frequencies.shape}, {n_high.shape} and {n_trials.shape}."
        )
    if frequencies.size < 2:
        raise ValueError(
            f"A psychometric fit needs at least 2 frequencies, got {frequencies.size}."
        )
    for name, array in (("n_high", n_high), ("n_trials", n_trials)):
        if np.any(array < 0):
            raise ValueError(f"{name} must be non-negative counts.")
        if np.any(array != np.round(array)):
            raise ValueError(
                f"{name} must be whole counts (pass numbers of trials, not proportions)."
            )
    if np.any(n_high > n_trials):
        raise ValueError("n_high exceeds n_trials at some frequency; n_high counts a subset.")
    if not np.any(n_trials > 0):
        raise ValueError("n_trials is zero at every frequency: there is nothing to fit.")
    grid, index = np.unique(frequencies, return_inverse=True)
    n_high = np.bincount(index, weights=n_high, minlength=grid.size)
    n_trials = np.bincount(index, weights=n_trials, minlength=grid.size)
    keep = n_trials > 0
    if np.count_nonzero(keep) < 2:
        raise ValueError("Trials are needed at 2 or more distinct frequencies to fit a curve.")
    return grid[keep], n_high[keep], n_trials[keep]


def _separation(grid, n_high, n_trials):
    """The (quasi-)separation of sorted counts, or None when the ML σ is finite.

    Returns ``(n_intermediate, low, high, mu)``: the number of frequencies with 0 < n_i < N_i
    (0 or 1), the open interval (low, high) of frequencies bracketing the transition (None on a
    side where the grid does not bracket it) and the σ → 0 limit of the ML threshold (the
    midpoint of the step, or the single intermediate frequency; ±inf when off the grid).
    """
    none = n_high == 0
    every = n_high == n_trials
    mixed = ~(none | every)
    n_mixed = int(np.count_nonzero(mixed))
    if n_mixed > 1:
        return None
    if n_mixed == 1:
        k = int(np.flatnonzero(mixed)[0])
        if not (np.all(none[:k]) and np.all(every[k + 1 :])):
            return None
        low = float(grid[k - 1]) if k > 0 else None
        high = float(grid[k + 1]) if k + 1 < grid.size else None
        return 1, low, high, float(grid[k])
    # all-or-none: separated when no "all high" frequency lies below an "all low" one
    first_high = int(np.argmax(every)) if np.any(every) else grid.size
    if np.any(none[first_high:]):
        return None
    low = float(grid[first_high - 1]) if first_high > 0 else None
    high = float(grid[first_high]) if first_high < grid.size else None
    if low is None:
        mu = -math.inf
    elif high is None:
        mu = math.inf
    else:
        mu = 0.5 * (low + high)
    return 0, low, high, mu


def _lapse_step(grid, n_high, n_trials):
    """The σ → 0 limit of the lapse model: the best step with lapse rates, over every cut.

    With σ → 0 the curve is γ below μ and 1 − λ above it; a frequency at μ itself may take any
    P(high) in [γ, 1 − λ]. For each cut (between two frequencies, or at one) the ML lapse rates
    are the pooled proportions of "high" below and "low" above, clipped to :data:`LAPSE_BOUNDS`.
    Returns (sup ℓ, μ, low, high, γ, λ) of the best cut, with the interval (low, high) of
    frequencies bracketing it (None on an open side) and μ its midpoint or the frequency at it.
    """
    size = grid.size
    best = None
    # even cuts lie between frequencies cut/2 − 1 and cut/2, odd ones at a frequency; the even
    # ones go first, so that a tie is resolved for the cut between frequencies
    for cut in [*range(0, 2 * size + 1, 2), *range(1, 2 * size, 2)]:
        at = cut // 2 if cut % 2 else None
        below = slice(0, cut // 2)
        above = slice(cut // 2 + 1 if cut % 2 else cut // 2, size)
        gamma = np.clip(n_high[below].sum() / max(n_trials[below].sum(), 1.0), *LAPSE_BOUNDS)
        n_low = n_trials - n_high
        lam = np.clip(n_low[above].sum() / max(n_trials[above].sum(), 1.0), *LAPSE_BOUNDS)
        value = np.sum(binom.logpmf(n_high[below], n_trials[below], gamma)) + np.sum(
            binom.logpmf(n_high[above], n_trials[above], 1.0 - lam)
        )
        if at is not None:
            p = np.clip(n_high[at] / n_trials[at], gamma, 1.0 - lam)
            value += binom.logpmf(n_high[at], n_trials[at], p)
        if best is None or value > best[0]:
            if at is not None:
                low = float(grid[at - 1]) if at > 0 else None
                high = float(grid[at + 1]) if at + 1 < size else None
                mu = float(grid[at])
            else:
                low = float(grid[cut // 2 - 1]) if cut > 0 else None
                high = float(grid[cut // 2]) if cut // 2 < size else None
                mu = 0.5 * (low + high) if low is not None and high is not None else None
            best = (float(value), mu, low, high, float(gamma), float(lam))
    return best


def _unpack(theta, lapse):
    gamma, lam = (float(theta[2]), float(theta[3])) if lapse else (0.0, 0.0)
    return float(theta[0]), math.exp(theta[1]), gamma, lam


def _log_p(theta, grid, lapse):
    """log P(high) and log P(low) at each frequency; also z, log Φ(±z) and log(1 − γ − λ)."""
    mu, sigma, gamma, lam = _unpack(theta, lapse)
    z = (grid - mu) / sigma
    log_phi_z, log_phi_minus_z = log_ndtr(z), log_ndtr(-z)
    if not lapse:
        return log_phi_z, log_phi_minus_z, z, log_phi_z, log_phi_minus_z, 0.0
    log_a = math.log1p(-(gamma + lam))
    with np.errstate(divide="ignore"):
        log_p = np.logaddexp(np.log(gamma), log_a + log_phi_z)
        log_q = np.logaddexp(np.log(lam), log_a + log_phi_minus_z)
    return log_p, log_q, z, log_phi_z, log_phi_minus_z, log_a


def _weighted(count, log_ratio):
    """count · exp(log_ratio), 0 where count is 0; the ratio is capped at e⁷⁰⁰ so that the
    gradient stays finite where a tail probability underflows (the line search then backs off)."""
    return np.where(count > 0, count * np.exp(np.minimum(log_ratio, 700.0)), 0.0)


def _negative_log_likelihood(theta, grid, n_high, n_low, lapse):
    """−ℓ without the binomial coefficients, and its gradient in (μ, log σ[, γ, λ])."""
    log_p, log_q, z, log_phi_z, log_phi_minus_z, log_a = _log_p(theta, grid, lapse)
    value = -(n_high @ log_p + n_low @ log_q)
    log_density = log_a - 0.5 * z**2 - _LOG_SQRT_2PI  # log of ∂P/∂z = (1 − γ − λ) φ(z)
    with np.errstate(over="ignore", invalid="ignore"):
        d_z = _weighted(n_high, log_density - log_p) - _weighted(n_low, log_density - log_q)
        sigma = math.exp(theta[1])
        gradient = [d_z.sum() / sigma, d_z @ z]  # ∂z/∂μ = −1/σ, ∂z/∂log σ = −z; sign of −ℓ
        if lapse:  # ∂P/∂γ = Φ(−z), ∂P/∂λ = −Φ(z)
            d_gamma = _weighted(n_high, log_phi_minus_z - log_p) - _weighted(
                n_low, log_phi_minus_z - log_q
            )
            d_lambda = _weighted(n_low, log_phi_z - log_q) - _weighted(n_high, log_phi_z - log_p)
            gradient += [-d_gamma.sum(), -d_lambda.sum()]
    return value, np.asarray(gradient)


def _log_binomial_coefficients(n_high, n_trials):
    return float(
        np.sum(gammaln(n_trials + 1) - gammaln(n_high + 1) - gammaln(n_trials - n_high + 1))
    )


def _bounds(grid, lapse):
    span = float(grid[-1] - grid[0])
    spacing = float(np.min(np.diff(grid)))
    bounds = [
        (grid[0] - _MU_MARGIN * span, grid[-1] + _MU_MARGIN * span),
        (math.log(_SIGMA_FLOOR * spacing), math.log(_SIGMA_CEILING * span)),
    ]
    return bounds + [LAPSE_BOUNDS, LAPSE_BOUNDS] if lapse else bounds


def _start(grid, n_high, n_trials, lapse):
    """A start for the optimiser: weighted probit regression on the empirical proportions."""
    p = np.clip(n_high / n_trials, 0.5 / n_trials, 1.0 - 0.5 / n_trials)
    z = ndtri(p)
    weight = n_trials * np.exp(-(z**2)) / (p * (1.0 - p))  # ∝ 1/var of the probit (delta method)
    slope, intercept = np.polyfit(grid, z, 1, w=np.sqrt(weight))
    span = float(grid[-1] - grid[0])
    if slope > 1.0 / (_SIGMA_CEILING * span):
        mu, sigma = -intercept / slope, 1.0 / slope
    else:
        mu, sigma = 0.5 * (grid[0] + grid[-1]), 0.25 * span
    bounds = _bounds(grid, lapse)
    theta = [np.clip(mu, *bounds[0]), np.clip(math.log(sigma), *bounds[1])]
    return np.array(theta + [0.01, 0.01] if lapse else theta)


def _maximise(grid, n_high, n_trials, lapse, start):
    """Maximum-likelihood θ = (μ, log σ[, γ, λ]) and whether it converged inside the ranges."""
    bounds = _bounds(grid, lapse)
    result = minimize(
        _negative_log_likelihood,
        start,
        args=(grid, n_high, n_trials - n_high, lapse),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-12, "gtol": 1e-8, "maxiter": 500},
    )
    theta = result.x
    # L-BFGS-B can stop "abnormally" on a line search at the optimum (e.g. started there): judge
    # by the projected gradient of −ℓ, relative to the number of trials
    low, high = np.array(bounds).T
    gradient = np.where((theta <= low) & (result.jac > 0), 0.0, result.jac)
    gradient = np.where((theta >= high) & (gradient < 0), 0.0, gradient)
    stationary = result.success or np.max(np.abs(gradient)) <= 1e-6 * np.sum(n_trials)
    inside = all(lo < value < hi for value, (lo, hi) in zip(theta[:2], bounds[:2], strict=True))
    return theta, bool(stationary and inside)


def _log_p_all_or_none(mu, sigma, grid, n_trials, n_intermediate):
    """log P(at most ``n_intermediate`` frequencies have 0 < n_i < N_i | μ, σ), no lapses.

    A frequency is all-or-none with probability q_i = P_i^{N_i} + (1 − P_i)^{N_i}, independently;
    P(T = 0) = Π q_i and P(T ≤ 1) = Π q_i · (1 + Σ_j (1 − q_j)/q_j).
    """
    z = (grid - mu) / sigma
    log_q = np.logaddexp(n_trials * log_ndtr(z), n_trials * log_ndtr(-z))
    total = float(log_q.sum())
    if n_intermediate == 0:
        return total
    with np.errstate(divide="ignore"):
        log_odds = np.log(-np.expm1(log_q)) - log_q
    return total + math.log1p(float(np.exp(log_odds).sum()))


def _sigma_upper(grid, n_trials, n_intermediate, low, high):
    """Largest σ at which data as all-or-none as observed are unsurprising at :data:`STEP_LEVEL`.

    With T the number of frequencies whose counts are intermediate (0 < n_i < N_i) and t its
    observed value (0 for a perfect step, 1 when a single frequency is intermediate), the bound
    is the root in σ of

        max_{μ ∈ (low, high)} P(T ≤ t | μ, σ) = STEP_LEVEL,

    at the given trial counts, without lapses (lapses only lower P(T ≤ t)). For each μ,
    P(T ≤ t) falls as σ grows (every P_i moves towards ½), so the maximum over μ does too and the
    root is unique: σ above it makes data this steep a less-than-5 % event wherever the
    transition lies within the bracketing interval. The maximum over μ is a bounded scalar search
    (:func:`scipy.optimize.minimize_scalar`) started from the best of a grid of μ, the root a
    Brent search (:func:`scipy.optimize.brentq`) in log σ. Returns None when no σ up to
    ten grid spans is rejected (e.g. one trial per frequency: every point is then all-or-none).
    """
    width = high - low
    mus = low + width * np.linspace(0.0, 1.0, 43)[1:-1]
    level = math.log(STEP_LEVEL)

    def excess(log_sigma):
        sigma = math.exp(log_sigma)
        values = [_log_p_all_or_none(mu, sigma, grid, n_trials, n_intermediate) for mu in mus]
        best = int(np.argmax(values))
        search = minimize_scalar(
            lambda mu: -_log_p_all_or_none(mu, sigma, grid, n_trials, n_intermediate),
            bounds=(mus[max(best - 1, 0)], mus[min(best + 1, mus.size - 1)]),
            method="bounded",
            options={"xatol": 1e-6 * width},
        )
        return max(values[best], -search.fun) - level

    lowest = math.log(_SIGMA_FLOOR * width)
    highest = math.log(_SIGMA_CEILING * float(grid[-1] - grid[0]))
    if excess(highest) >= 0.0:
        return None
    return math.exp(brentq(excess, lowest, highest, xtol=1e-8))


def _interval(samples, estimate, floor=-math.inf):
    """The :data:`CONFIDENCE` bias-corrected percentile interval of bootstrap ``samples``.

    With z₀ = Φ⁻¹(fraction of samples below ``estimate``, ties counting one half) and
    z = Φ⁻¹((1 − CONFIDENCE)/2), the ends are the Φ(2z₀ ± z) quantiles of the samples (Efron &
    Tibshirani 1993, §14.3; z₀ = 0 gives the plain percentile interval), as order statistics
    rounded outwards. NaN samples (undefined) count as ties for z₀, as ``floor`` for the lower end
    and +∞ for the upper end: the widest choice. Infinite ends are None.
    """
    samples = np.asarray(samples, dtype=np.float64)
    undefined = np.isnan(samples)
    ties = np.count_nonzero(samples == estimate) + np.count_nonzero(undefined)
    below = (np.count_nonzero(samples < estimate) + 0.5 * ties) / samples.size
    z0 = ndtri(np.clip(below, 0.5 / samples.size, 1.0 - 0.5 / samples.size))
    z = ndtri(0.5 * (1.0 - CONFIDENCE))
    low = np.quantile(np.where(undefined, floor, samples), ndtr(2.0 * z0 + z), method="lower")
    high = np.quantile(np.where(undefined, np.inf, samples), ndtr(2.0 * z0 - z), method="higher")
    return [float(end) if math.isfinite(end) else None for end in (low, high)]


def _curve(theta, grid, lapse):
    return np.exp(_log_p(theta, grid, lapse)[0])


def _step_curve(mu, frequencies, low_level=0.0, high_level=1.0):
    """A step at ``mu`` (± infinity: flat) from ``low_level`` to ``high_level``; ½ on the step."""
    mid = 0.5 * (low_level + high_level)
    return np.where(frequencies < mu, low_level, np.where(frequencies > mu, high_level, mid))


def _bootstrap(grid, trials, theta, lapse, n_boot, rng, band_grid):
    """μ*, σ* of ``n_boot`` refits to counts drawn from the fitted curve, each refit's curve on
    ``band_grid`` (n_boot, len(band_grid)), and the number of step-like ones.

    A separated replicate has σ* = 0 and μ* its σ → 0 limit (:func:`_separation`), its curve a
    step there; a fit that ends at the bottom of the σ range is given σ* = 0 too.
    """
    replicates = rng.binomial(
        trials.astype(np.int64), _curve(theta, grid, lapse), (n_boot, grid.size)
    )
    sigma_floor = _bounds(grid, lapse)[1][0]
    mu_boot = np.empty(n_boot)
    sigma_boot = np.empty(n_boot)
    curves = np.empty((n_boot, band_grid.size))
    n_step = 0
    for b, counts in enumerate(replicates.astype(np.float64)):
        separated = _separation(grid, counts, trials)
        if separated is not None:
            mu_boot[b], sigma_boot[b] = separated[3], 0.0
            curves[b] = _step_curve(mu_boot[b], band_grid)
            n_step += 1
            continue
        theta_b, _ = _maximise(grid, counts, trials, lapse, theta)
        mu_boot[b] = theta_b[0]
        curves[b] = _curve(theta_b, band_grid, lapse)
        if lapse:
            step_value, mu, low, _, gamma, lam = _lapse_step(grid, counts, trials)
            fitted = (
                _log_binomial_coefficients(counts, trials)
                - _negative_log_likelihood(theta_b, grid, counts, trials - counts, True)[0]
            )
            if step_value >= fitted - _STEP_TOLERANCE:
                mu_boot[b], sigma_boot[b] = (-math.inf if low is None else math.inf), 0.0
                if mu is not None:
                    mu_boot[b] = mu
                curves[b] = _step_curve(mu_boot[b], band_grid, gamma, 1.0 - lam)
                n_step += 1
                continue
        if theta_b[1] <= sigma_floor + 1e-9:
            sigma_boot[b] = 0.0
            n_step += 1
        else:
            sigma_boot[b] = math.exp(theta_b[1])
    return mu_boot, sigma_boot, curves, n_step


def _band(grid, curves) -> dict:
    """The pointwise :data:`CONFIDENCE` percentile band of the bootstrap curves on ``grid``."""
    tail = 0.5 * (1.0 - CONFIDENCE)
    low, high = np.quantile(curves, [tail, 1.0 - tail], axis=0)
    return {"frequencies": grid.tolist(), "low": low.tolist(), "high": high.tolist()}


def fit_psychometric(
    frequencies,
    n_high,
    n_trials,
    *,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    lapse: bool = False,
) -> dict:
    """Fit P(high | f) = γ + (1 − γ − λ) Φ((f − μ)/σ) to counts by binomial maximum likelihood.

    Args:
        frequencies: (F,) event rates in Hz, F ≥ 2 (repeated frequencies are pooled, frequencies
            without trials are ignored).
        n_high: (F,) numbers of "high" choices (whole counts, not proportions).
        n_trials: (F,) numbers of trials, n_trials ≥ n_high.
        n_boot: parametric-bootstrap replicates for the intervals (0: point estimates only, the
            intervals are None).
        seed: seed of the bootstrap's :func:`numpy.random.default_rng`, or a Generator (used and
            advanced). Curves compared by :func:`optimal_integration` need independent
            replicates: a different integer seed each, or one shared Generator.
        lapse: fit the lapse rates γ, λ within :data:`LAPSE_BOUNDS`; otherwise γ = λ = 0.

    Returns:
        dict with

        - ``"mu"``, ``"sigma"`` (Hz): the ML threshold and width; ``"gamma"``, ``"lambda"``: the
          lapse rates (0 without ``lapse``);
        - ``"mu_ci"``, ``"sigma_ci"``: 95 % parametric-bootstrap intervals (bias-corrected
          percentile, :func:`_interval`), pairs;
        - ``"step_like"`` (bool), ``"sigma_upper"``, ``"n_intermediate"``: see below;
        - ``"log_likelihood"``: ℓ at the estimate (its supremum for a step-like curve);
        - ``"converged"``: the optimiser succeeded with μ and σ inside their search ranges
          (False e.g. for a flat or falling curve, whose σ runs to the range's top);
        - ``"sigma_boot"``: the n_boot bootstrap σ* (list, 0.0 for a step-like replicate, see
          below), used by :func:`optimal_integration`; ``"n_boot"``; ``"n_boot_step_like"``;
        - ``"band"``: the pointwise 95 % band of the refitted curves, {"frequencies" (the
          :data:`BAND_POINTS` frequencies from :data:`BAND_MARGIN_HZ` below the tested range to
          as far above it), "low", "high" (probabilities)}, a step-like replicate counting as a
          step at its μ*; None without a bootstrap;
        - ``"lapse"``, ``"seed"`` (the integer seed, None for a Generator).

        **Step-like curves.** When the counts are separated (every n_i is 0 or N_i and no "all
        high" frequency lies below an "all low" one; or so except at one intermediate frequency)
        the likelihood grows as σ → 0 and no σ is estimated: ``step_like`` is True, ``sigma`` and
        ``sigma_ci`` are None, and ``sigma_upper`` is the largest σ at which so few intermediate
        frequencies (``n_intermediate``: 0 or 1) still have probability ≥ 5 % for some μ between
        the all-or-none frequencies that bracket the transition (:func:`_sigma_upper`). ``mu`` is
        the midpoint of the step (or the intermediate frequency: the σ → 0 limit of the ML μ),
        ``mu_ci`` the bracketing interval. If the grid does not bracket the transition (all
        counts on one side, or the intermediate frequency is at the grid's edge) the open side of
        ``mu_ci`` is None, and ``sigma_upper`` is None: μ far outside the grid makes every point
        all-or-none at any σ. No bootstrap is run (``n_boot`` = 0).

        **Step-like bootstrap replicates.** A replicate drawn from a fitted curve can be
        separated too. Its ML σ* is then 0 (the supremum is approached as σ → 0), and it enters
        ``sigma_boot`` as 0.0, ranked below every finite σ*; a replicate whose fit ends at the
        bottom of the σ range (possible with lapses) is treated alike. Its μ* is the σ → 0 limit
        above (± infinity when off the grid). Percentile intervals need only the ranks, so these
        replicates take part like any other (and count below σ̂ in the bias correction): if the
        lower percentile falls among them, the lower end of ``sigma_ci`` is 0.0, i.e. the data
        cannot exclude an arbitrarily steep curve; an interval end that falls on an off-grid μ*
        is None.

    Raises:
        ValueError: arrays of different shapes or not 1-D, fewer than 2 frequencies, NaN,
            negative or fractional counts, n_high > n_trials, no trials at 2 distinct
            frequencies, or a negative n_boot.
    """
    grid, high, trials = _check_counts(frequencies, n_high, n_trials)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}.")
    with one_blas_thread():  # tiny L-BFGS-B steps lose badly to threaded BLAS
        return _fit(grid, high, trials, int(n_boot), seed, bool(lapse))


def _fit(grid, high, trials, n_boot, seed, lapse):
    record_seed = int(seed) if isinstance(seed, (int, np.integer)) else None
    constant = _log_binomial_coefficients(high, trials)
    result = {"lapse": lapse, "seed": record_seed}

    separated = _separation(grid, high, trials)
    if separated is not None:
        n_intermediate, low, top, mu = separated
        bracketed = low is not None and top is not None
        upper = _sigma_upper(grid, trials, n_intermediate, low, top) if bracketed else None
        if not bracketed:
            note = "the grid does not bracket the transition: widen the frequency range"
        elif upper is None:
            note = "too few trials a frequency for all-or-none counts to bound σ"
        else:
            note = None
        result.update(
            mu=mu if math.isfinite(mu) else None,
            mu_ci=[low, top],
            sigma=None,
            sigma_ci=None,
            gamma=0.0,
            **{"lambda": 0.0},
            step_like=True,
            sigma_upper=upper,
            n_intermediate=n_intermediate,
            log_likelihood=float(np.sum(binom.logpmf(high, trials, high / trials))),
            converged=True,
            sigma_boot=None,
            band=None,
            n_boot=0,
            n_boot_step_like=0,
            note=note,
        )
        return result

    theta, converged = _maximise(grid, high, trials, lapse, _start(grid, high, trials, lapse))
    if lapse:  # a second start from the fit without lapses (the lapse likelihood is not concave)
        plain, _ = _maximise(grid, high, trials, False, _start(grid, high, trials, False))
        other, other_converged = _maximise(grid, high, trials, True, np.r_[plain, 0.01, 0.01])
        if (
            _negative_log_likelihood(other, grid, high, trials - high, True)[0]
            < (_negative_log_likelihood(theta, grid, high, trials - high, True)[0])
        ):
            theta, converged = other, other_converged
    value, _ = _negative_log_likelihood(theta, grid, high, trials - high, lapse)
    log_likelihood = constant - float(value)
    n_intermediate = int(np.count_nonzero((high > 0) & (high < trials)))
    if lapse:
        step_value, mu, low, top, gamma, lam = _lapse_step(grid, high, trials)
        if step_value >= log_likelihood - _STEP_TOLERANCE:
            result.update(
                mu=mu,
                mu_ci=[low, top],
                sigma=None,
                sigma_ci=None,
                gamma=gamma,
                **{"lambda": lam},
                step_like=True,
                sigma_upper=None,
                n_intermediate=n_intermediate,
                log_likelihood=step_value,
                converged=True,
                sigma_boot=None,
                band=None,
                n_boot=0,
                n_boot_step_like=0,
                note=(
                    "the lapse rates absorb every count off the step, so the likelihood grows as "
                    "σ → 0; no upper bound on σ is computed with lapses (fit without them)"
                ),
            )
            return result
    mu, sigma, gamma, lam = _unpack(theta, lapse)
    result.update(
        mu=mu,
        sigma=sigma,
        gamma=gamma,
        **{"lambda": lam},
        step_like=False,
        sigma_upper=None,
        n_intermediate=n_intermediate,
        log_likelihood=log_likelihood,
        converged=converged,
        note=None
        if converged
        else "the fit ended at the edge of its search range (a flat or falling curve?)",
    )
    if n_boot == 0:
        result.update(
            mu_ci=None, sigma_ci=None, sigma_boot=None, band=None, n_boot=0, n_boot_step_like=0
        )
        return result

    band_grid = np.linspace(grid[0] - BAND_MARGIN_HZ, grid[-1] + BAND_MARGIN_HZ, BAND_POINTS)
    mu_boot, sigma_boot, curves, n_step = _bootstrap(
        grid, trials, theta, lapse, n_boot, np.random.default_rng(seed), band_grid
    )
    result.update(
        mu_ci=_interval(mu_boot, mu),
        sigma_ci=_interval(sigma_boot, sigma),
        sigma_boot=sigma_boot.tolist(),
        band=_band(band_grid, curves),
        n_boot=n_boot,
        n_boot_step_like=n_step,
    )
    return result


def optimal_integration(fits: Mapping[str, dict]) -> dict:
    """Compare 1/σ_va² with the optimal-integration prediction 1/σ_v² + 1/σ_a² (the pycog test).

    The ratio R = σ_va⁻² / (σ_v⁻² + σ_a⁻²) is 1 for optimal cue combination. Its 95 % interval is
    the bias-corrected percentile interval (:func:`_interval`) of R* over the paired bootstrap
    replicates of the three fits
    (independent curves, so replicate b of each is an independent draw). A step-like replicate
    has σ* = 0 (:func:`fit_psychometric`), so σ*⁻² = ∞: R* = ∞ when only σ_va* = 0, R* = 0 when
    only σ_v* or σ_a* = 0; when both sides are infinite R* is undefined and counts as 0 for the
    lower end and ∞ for the upper end (the conservative choice). An infinite upper end is None.

    Args:
        fits: {"v", "a", "va": the dicts of :func:`fit_psychometric`, with the same n_boot > 0
            and independent bootstrap replicates}.

    Returns:
        ``{"resolvable": False, "reason": str}`` when a curve is step-like (σ has only an upper
        bound there); otherwise ``{"resolvable": True, "inverse_sigma_va_sq",
        "inverse_sigma_v_sq_plus_a_sq", "sigma_va_predicted", "ratio", "ratio_ci",
        "consistent_with_optimal" (1 ∈ ratio_ci), "n_boot", "n_boot_undefined"}``.

    Raises:
        ValueError: a modality is missing, a fit has no bootstrap samples, the fits differ in
            n_boot, or two fits share an integer seed (their replicates would be correlated).
    """
    missing = [name for name in _MODALITIES if name not in fits]
    if missing:
        raise ValueError(f"optimal_integration needs fits for v, a and va; missing {missing}.")
    step = [name for name in _MODALITIES if fits[name]["step_like"]]
    if step:
        return {
            "resolvable": False,
            "reason": (
                f"step-like psychometric curve(s) {', '.join(step)}: the data give only an upper "
                "bound on σ there, so σ_va⁻² cannot be compared with σ_v⁻² + σ_a⁻²"
            ),
        }
    if any(fits[name].get("sigma_boot") is None for name in _MODALITIES):
        raise ValueError("Each fit needs bootstrap samples: call fit_psychometric with n_boot > 0.")
    boot = {name: np.asarray(fits[name]["sigma_boot"], dtype=np.float64) for name in _MODALITIES}
    sizes = {boot[name].size for name in _MODALITIES}
    if len(sizes) != 1:
        raise ValueError("The three fits must use the same n_boot to pair their replicates.")
    seeds = [fits[name].get("seed") for name in _MODALITIES if fits[name].get("seed") is not None]
    if len(seeds) != len(set(seeds)):
        raise ValueError(
            "Two fits share an integer bootstrap seed, so their replicates are correlated: fit "
            "each modality with its own seed (or pass one shared Generator)."
        )
    sigma = {name: fits[name]["sigma"] for name in _MODALITIES}
    inverse_va = sigma["va"] ** -2
    inverse_sum = sigma["v"] ** -2 + sigma["a"] ** -2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_boot = boot["va"] ** -2 / (boot["v"] ** -2 + boot["a"] ** -2)
    undefined = np.isnan(ratio_boot)
    ratio = inverse_va / inverse_sum
    low, high = _interval(ratio_boot, ratio, floor=0.0)
    return {
        "resolvable": True,
        "inverse_sigma_va_sq": inverse_va,
        "inverse_sigma_v_sq_plus_a_sq": inverse_sum,
        "sigma_va_predicted": inverse_sum**-0.5,
        "ratio": ratio,
        "ratio_ci": [low, high],
        "consistent_with_optimal": bool(low <= 1.0 and (high is None or high >= 1.0)),
        "n_boot": int(ratio_boot.size),
        "n_boot_undefined": int(np.count_nonzero(undefined)),
    }
