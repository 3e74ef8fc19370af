"""Phase diagram of untrained SaS networks: effective couplings and the quiescent-state boundary.

Ensemble (docs/model.md §1.2 at initialisation): m_ij ~ N(J0/N, g^2/N), Xi_ij = xi/N, pi_ij = pi,
no input,
leak alpha, activation tanh or ReLU. A weight is w = (m + sqrt(Xi) z) * 1[U > pi].

Effective couplings (derived with sympy in :func:`derive_coupling_statistics`; exact)::

    N E[w]       = (1 - pi) J0                                   = J0_eff
    N Var[w]     = (1 - pi)(g^2 + xi) + pi (1 - pi) J0^2 / N     = g_eff^2 + O(1/N)

The variance splits, by the law of total variance over the draw of m, into

    quenched  N Var_m[mu_ij]  = (1 - pi)^2 g^2                    (variance of the mean weight)
    annealed  N E_m[v_ij]     = (1 - pi) xi + pi (1 - pi) g^2 + pi (1 - pi) J0^2 / N
                                                                 (mean per-weight variance)

with mu = (1-pi) m and v = (1-pi) Xi + pi (1-pi) m^2 (docs/model.md §1.2). The leading-order split
(1-pi)^2 g^2 + [(1-pi) xi + pi(1-pi) g^2] is exact up to the O(1/N) term pi(1-pi)J0^2/N of the
annealed part; the quenched and annealed parts sum to (1-pi)(g^2 + xi), so g_eff^2 = (1-pi)(g^2+xi)
needs no correction (the "(1-pi) g^2" of the total is (1-pi)^2 g^2 + pi(1-pi) g^2).

A sampled network sees the whole variance as quenched disorder (sigma_q^2 = g_eff^2, sigma_a^2 = 0).
The mean-field network (fresh eps each step) keeps only the quenched part in its matrix mu and
draws the annealed part anew each step (sigma_q^2 = (1-pi)^2 g^2, sigma_a^2 as above).

Stability of the quiescent state h = 0 (N -> infinity), per-step growth factor gamma of small
activity (:func:`quiescent_growth_factor`; the boundary is gamma = 1, the margin log gamma):

* tanh (f'(0) = 1, linear near 0). Sampled network: the spectrum of (1-alpha) I + alpha w is a
  disc of centre 1-alpha, radius alpha g_eff, plus an outlier 1 - alpha + alpha J0_eff when
  |J0_eff| > g_eff, so gamma = max(1 - alpha + alpha g_eff, |1 - alpha + alpha J0_eff|) and the
  boundary is max(g_eff, J0_eff) = 1 for J0 >= 0, for every alpha. Mean-field network: the bulk
  growth gamma solves the Gaussian (dynamic mean-field) condition for a linear filter driven by a
  quenched field (autocorrelation sigma_q^2 C) and a white annealed field (variance
  sigma_a^2 C(0)), with a = 1 - alpha::

      (gamma^2 + a^2 - alpha^2 sigma_q^2)^2 - 4 a^2 gamma^2 = alpha^4 sigma_a^4,
      gamma > a + alpha sigma_q

  At alpha = 1 this is gamma^2 = sigma_q^2 + sigma_a^2 = g_eff^2 (same boundary as the sampled
  network); for alpha < 1 annealed variance destabilises less than quenched variance (pure
  annealed: boundary sigma_a^2 = (2 - alpha)/alpha). The mean mode grows by |a + alpha J0_eff|
  when |J0_eff| > sigma_q.

* ReLU. The network is positively homogeneous, so small activity grows self-similarly,
  h(t) = gamma^t h*. With h* ~ N(M, s^2) across units and x = M/s the recurrent drive has mean
  J0_eff E[r] and variance g_eff^2 E[r^2]; self-similarity fixes x by

      x g_eff sqrt(B(x)) = J0_eff A(x),   A = x Phi(x) + phi(x),   B = (x^2 + 1) Phi(x) + x phi(x)

  and the drive-to-state gain kappa = g_eff sqrt(B(x*)), gamma = 1 - alpha + alpha kappa. For
  J0 = 0: x* = 0, kappa^2 = g_eff^2 / 2, boundary g_eff^2 = 2 (the second-moment map
  q <- (g_eff^2 / 2) q). For g_eff -> 0 the boundary tends to J0_eff = 1. The boundary kappa = 1
  does not depend on alpha. For the mean-field network this holds at alpha = 1 (the Gaussian map
  only sees sigma_q^2 + sigma_a^2); for alpha < 1 the mixed quenched/annealed ReLU case is not
  solved here (:func:`quiescent_growth_factor` raises).

Reference: docs/model.md §1.2 (moments), §1.3 (mean-field network); the phase diagram itself is an
extension (docs/model.md §5.6 lists no phase diagram in the released code).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize, stats

NETWORKS = ("quenched", "mean-field")
ACTIVATIONS = ("relu", "tanh")


@lru_cache(maxsize=1)
def derive_coupling_statistics() -> dict[str, sp.Expr]:
    """Derive the exact coupling statistics of the initial SaS ensemble with sympy.

    Per weight: mu = (1-pi) m, v = (1-pi) Xi + pi(1-pi) m^2 (docs/model.md §1.2 moments) with
    m ~ N(J0/N, g^2/N), Xi = xi/N. Averages over m use E[m] = J0/N, E[m^2] = g^2/N + J0^2/N^2.

    Returns:
        dict of sympy expressions in (N, g, J0, pi, xi), all scaled by N:
        "mean" = N E[w], "quenched" = N Var_m[mu], "annealed" = N E_m[v],
        "total" = N Var[w] (from E[w^2] - E[w]^2, independently of the split),
        and their N -> infinity limits "J0_eff", "g_eff2", "quenched_limit", "annealed_limit".
    """
    n, g, j0, pi, xi = sp.symbols("N g J0 pi xi", positive=True)
    m = sp.Symbol("m", real=True)
    mean_m = j0 / n
    second_m = g**2 / n + j0**2 / n**2

    def expect(expr):  # expectation over m of a polynomial of degree <= 2
        poly = sp.Poly(sp.expand(expr), m)
        moments = {0: 1, 1: mean_m, 2: second_m}
        terms = zip(poly.monoms(), poly.coeffs(), strict=True)
        return sp.expand(sum(c * moments[k[0]] for k, c in terms))

    slab_var = xi / n
    mu = (1 - pi) * m
    rho = (1 - pi) * (m**2 + slab_var)
    v = rho - mu**2
    mean_w = expect(mu)
    quenched = sp.simplify(n * (expect(mu**2) - mean_w**2))
    annealed = sp.simplify(n * expect(v))
    total = sp.simplify(n * (expect(rho) - mean_w**2))
    return {
        "mean": sp.simplify(n * mean_w),
        "quenched": quenched,
        "annealed": annealed,
        "total": total,
        "J0_eff": sp.limit(n * mean_w, n, sp.oo),
        "g_eff2": sp.limit(total, n, sp.oo),
        "quenched_limit": sp.limit(quenched, n, sp.oo),
        "annealed_limit": sp.limit(annealed, n, sp.oo),
    }


def effective_couplings(g: float, J0: float, pi: float, xi: float) -> dict[str, float]:
    """Leading-order (N -> infinity) coupling statistics of the initial ensemble.

        J0_eff = (1-pi) J0,  g_eff^2 = (1-pi)(g^2 + xi),
        quenched = (1-pi)^2 g^2,  annealed = (1-pi) xi + pi (1-pi) g^2

    Args:
        g (>= 0), J0, pi (in [0, 1]), xi (>= 0): ensemble parameters (module docstring).

    Returns:
        dict with "J0_eff", "g_eff", "g_eff2", "quenched", "annealed".

    Raises:
        ValueError: parameters out of range.
    """
    _check(g, J0, pi, xi)
    quenched = (1 - pi) ** 2 * g**2
    annealed = (1 - pi) * xi + pi * (1 - pi) * g**2
    g_eff2 = (1 - pi) * (g**2 + xi)
    return {
        "J0_eff": (1 - pi) * J0,
        "g_eff": math.sqrt(g_eff2),
        "g_eff2": g_eff2,
        "quenched": quenched,
        "annealed": annealed,
    }


def relu_gain(g_eff: float, J0_eff: float) -> float:
    """Drive-to-state gain kappa of self-similar small activity in a ReLU network (alpha = 1).

    kappa = g_eff sqrt(B(x*)) where x* solves x g_eff sqrt(B(x)) = J0_eff A(x) (module
    docstring); kappa = g_eff / sqrt(2) at J0_eff = 0 and kappa = max(J0_eff, 0) at g_eff = 0.

    Args:
        g_eff: effective coupling spread (>= 0).
        J0_eff: effective mean coupling.

    Returns:
        kappa (>= 0); the quiescent state is stable iff kappa < 1.
    """
    if g_eff < 0:
        raise ValueError(f"g_eff must be >= 0; got {g_eff}")
    if g_eff == 0:
        return max(J0_eff, 0.0)
    if J0_eff == 0:
        return g_eff / math.sqrt(2.0)

    def a_of(x):
        return x * stats.norm.cdf(x) + stats.norm.pdf(x)

    def b_of(x):
        return (x * x + 1) * stats.norm.cdf(x) + x * stats.norm.pdf(x)

    def mismatch(x):
        return x * g_eff * math.sqrt(b_of(x)) - J0_eff * a_of(x)

    direction = 1.0 if J0_eff > 0 else -1.0
    far = direction
    while np.sign(mismatch(far)) == np.sign(mismatch(0.0)):
        far *= 2.0
        if abs(far) > 1e15:
            raise ValueError(f"no self-similar ReLU state found for g_eff={g_eff}, J0={J0_eff}")
    x_star = optimize.brentq(mismatch, min(0.0, far), max(0.0, far), xtol=1e-13)
    return g_eff * math.sqrt(b_of(x_star))


def tanh_bulk_growth(sigma_q2: float, sigma_a2: float, alpha: float) -> float:
    """Bulk growth factor of small activity in a linear(ised) network with mixed disorder.

    Solves (gamma^2 + a^2 - alpha^2 sigma_q^2)^2 - 4 a^2 gamma^2 = alpha^4 sigma_a^4 with
    gamma > a + alpha sigma_q, a = 1 - alpha (module docstring). sigma_a2 = 0 gives
    gamma = a + alpha sigma_q; alpha = 1 gives gamma^2 = sigma_q^2 + sigma_a^2.

    Args:
        sigma_q2: quenched variance (times N), >= 0.
        sigma_a2: annealed variance (times N), >= 0.
        alpha: leak in (0, 1].

    Returns:
        gamma (> 0).
    """
    if sigma_q2 < 0 or sigma_a2 < 0 or not 0 < alpha <= 1:
        raise ValueError("need sigma_q2 >= 0, sigma_a2 >= 0 and alpha in (0, 1]")
    a = 1.0 - alpha
    floor = a + alpha * math.sqrt(sigma_q2)
    if sigma_a2 == 0:
        return floor

    # P = gamma^2 + a^2 - alpha^2 sigma_q^2 = sqrt(4 a^2 gamma^2 + alpha^4 sigma_a^4), a root
    # of a quadratic in gamma^2 after squaring; solve it numerically on (floor, large).
    def excess(gamma):
        p = gamma**2 + a**2 - alpha**2 * sigma_q2
        return p - math.sqrt(4 * a**2 * gamma**2 + alpha**4 * sigma_a2**2)

    high = max(2.0 * floor, 1.0)
    while excess(high) <= 0:
        high *= 2.0
    return optimize.brentq(excess, floor, high, xtol=1e-14)


def quiescent_growth_factor(
    *,
    g: float,
    J0: float,
    pi: float,
    xi: float,
    alpha: float = 1.0,
    activation: str = "tanh",
    network: str = "quenched",
) -> float:
    """Per-step growth factor gamma of small activity around h = 0 (N -> infinity).

    See the module docstring for the formulas. gamma < 1: the quiescent state is stable (activity
    decays); gamma > 1: activity grows (tanh: saturates/chaos; ReLU: explodes).

    Args:
        g, J0, pi, xi: ensemble parameters.
        alpha: leak in (0, 1].
        activation: "tanh" or "relu".
        network: "quenched" (a sampled network) or "mean-field".

    Returns:
        gamma.

    Raises:
        ValueError: bad parameters, or the mean-field ReLU network with alpha < 1 (not solved).
    """
    _check(g, J0, pi, xi)
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}; got {network!r}")
    c = effective_couplings(g, J0, pi, xi)
    a = 1.0 - alpha
    if activation == "relu":
        if network == "mean-field" and alpha < 1:
            raise ValueError("the mean-field ReLU boundary is only derived for alpha = 1")
        return a + alpha * relu_gain(c["g_eff"], c["J0_eff"])
    if network == "quenched":
        sigma_q2, sigma_a2 = c["g_eff2"], 0.0
    else:
        sigma_q2, sigma_a2 = c["quenched"], c["annealed"]
    gamma = tanh_bulk_growth(sigma_q2, sigma_a2, alpha)
    if abs(c["J0_eff"]) > math.sqrt(sigma_q2):
        gamma = max(gamma, abs(a + alpha * c["J0_eff"]))
    return gamma


def stability_margin(**parameters) -> float:
    """log of :func:`quiescent_growth_factor` (same arguments): < 0 stable, > 0 unstable."""
    gamma = quiescent_growth_factor(**parameters)
    return math.log(gamma) if gamma > 0 else -math.inf


def critical_g(
    *,
    pi: float,
    xi: float = 0.0,
    J0: float = 0.0,
    alpha: float = 1.0,
    activation: str = "tanh",
    network: str = "quenched",
    g_max: float = 100.0,
) -> float:
    """The g at which the quiescent state loses stability (other parameters fixed).

    For J0 = 0 and the sampled network: tanh g_c^2 = 1/(1-pi) - xi, ReLU g_c^2 = 2/(1-pi) - xi.

    Returns:
        g_c, 0.0 if unstable already at g = 0, inf if stable up to g_max (or pi = 1).
    """

    def margin(g):
        return stability_margin(
            g=g, J0=J0, pi=pi, xi=xi, alpha=alpha, activation=activation, network=network
        )

    if margin(0.0) >= 0:
        return 0.0
    if pi >= 1 or margin(g_max) < 0:
        return math.inf
    return optimize.brentq(margin, 0.0, g_max, xtol=1e-12)


def _check(g, J0, pi, xi):
    for name, value in (("g", g), ("J0", J0), ("pi", pi), ("xi", xi)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite; got {value}")
    if g < 0:
        raise ValueError(f"g must be >= 0; got {g}")
    if not 0 <= pi <= 1:
        raise ValueError(f"pi must lie in [0, 1]; got {pi}")
    if xi < 0:
        raise ValueError(f"xi must be >= 0; got {xi}")
