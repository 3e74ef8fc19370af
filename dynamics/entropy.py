"""Entropy of the spike-and-slab weight ensemble (docs/model.md §5.5, Fig. 10).

Each weight has the density P(w) = π δ(w) + (1-π) N(w; m, Ξ). Following the official analysis
(`sub_tasks.py` §6) the spike is regularised as a narrow Gaussian δ_ε(w) = N(w; 0, ε), ε = 1e-4,
and Ξ is floored at ε. Two estimators:

* Entropy I (full mixture, Monte Carlo over standard-normal draws z):
      S_I = -π ln[π δ_ε(0) + (1-π) N(0; m, Ξ)]
            - (1-π) E_z ln[π δ_ε(m + √Ξ z) + (1-π) N(z; 0, 1)/√Ξ]
  The slab term is an exact Monte Carlo estimate of -(1-π) E_slab[ln P(w)]; the spike term uses
  ln P at w = 0 only (the peak of δ_ε), not its average over δ_ε. At π = 1 the estimator therefore
  gives ½ ln(2πε), which is ½ below the entropy ½ ln(2πeε) of N(0, ε); for a spike well separated
  from the slab the deficit is about π/2 (see :func:`regularised_mixture_entropy`, the exact
  differential entropy by quadrature, for comparison).
* Entropy II (decomposed): S_II = S_π + S_Ξ with S_π = -π ln π - (1-π) ln(1-π) (0 at π ∈ {0,1})
  and S_Ξ = ½ ln(2π Ξ) + ½ with Ξ floored at ε.

The official code evaluates densities directly with a 1e-40 underflow guard; here every logarithm is
taken in the log domain (``logaddexp``), which agrees wherever that guard is inactive and never
produces 0·ln 0 = NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

from dynamics.layer import check_pi_xi

#: Variance ε of the Gaussian that regularises the spike δ(w), and floor of Ξ (docs/model.md §5.5).
DELTA_VARIANCE = 1e-4

#: Number of standard-normal draws used by the official Entropy I estimator (docs/model.md §5.5).
DEFAULT_N_DRAWS = 1000

#: Weights processed per Monte Carlo chunk (chunk × n_draws doubles stay below ~64 MB).
_CHUNK_ELEMENTS = 8_000_000

_LOG_2PI = np.log(2.0 * np.pi)


def _check_layer(m, pi, xi, names=("m", "pi", "xi")):
    arrays = [np.asarray(a, dtype=float) for a in (m, pi, xi)]
    shape = arrays[0].shape
    for name, a in zip(names, arrays, strict=True):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape} like {names[0]}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
    check_pi_xi(arrays[1], arrays[2])
    return arrays


def layer_entries(values, exclude_diagonal: bool = False) -> np.ndarray:
    """Entries of one layer's matrix (or of a stack of them), optionally without the diagonal.

    Args:
        values: (..., n_post, n_pre) array; leading axes (e.g. epochs) are kept.
        exclude_diagonal: drop the entries i = j (self-connections of a recurrent layer,
        docs/model.md §5.5);
            the matrix must then be square.

    Returns:
        (..., n_entries) array: the row-major flattened entries (without the diagonal if asked).

    Raises:
        ValueError: if ``values`` has fewer than two dimensions, or is not square when the diagonal
            is to be excluded.
    """
    values = np.asarray(values)
    if values.ndim < 2:
        raise ValueError(f"a layer must be (..., n_post, n_pre), got shape {values.shape}")
    n_post, n_pre = values.shape[-2:]
    if not exclude_diagonal:
        return values.reshape(*values.shape[:-2], n_post * n_pre)
    if n_post != n_pre:
        raise ValueError(f"exclude_diagonal needs a square (recurrent) layer, got {n_post}×{n_pre}")
    keep = ~np.eye(n_post, dtype=bool)
    return values[..., keep]


def bernoulli_entropy(pi) -> np.ndarray:
    """S_π = -π ln π - (1-π) ln(1-π), with S_π = 0 at π ∈ {0, 1} (docs/model.md §5.5, Entropy II).

    Args:
        pi: array of spike probabilities in [0, 1].

    Returns:
        Array of the same shape (nats).
    """
    pi = np.asarray(pi, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = -pi * np.log(pi) - (1.0 - pi) * np.log1p(-pi)
    return np.where((pi > 0.0) & (pi < 1.0), s, 0.0)


def slab_entropy(xi, floor: float = DELTA_VARIANCE) -> np.ndarray:
    """S_Ξ = ½ ln(2π max(Ξ, floor)) + ½, the entropy of the Gaussian slab (docs/model.md §5.5,
    Entropy II).

    Args:
        xi: array of slab variances (>= 0).
        floor: smallest variance used (ε = 1e-4 in the official code).

    Returns:
        Array of the same shape (nats).
    """
    xi = np.maximum(np.asarray(xi, dtype=float), floor)
    return 0.5 * (_LOG_2PI + np.log(xi)) + 0.5


def _log_normal(w, mean, variance):
    return -0.5 * (_LOG_2PI + np.log(variance)) - (w - mean) ** 2 / (2.0 * variance)


def entropy_one(m, pi, xi, z, delta_variance: float = DELTA_VARIANCE) -> np.ndarray:
    """Per-weight Entropy I of the regularised SaS density, Monte Carlo over z (docs/model.md §5.5).

    S = -π ln[π δ_ε(0) + (1-π) N(0; m, Ξ)] - (1-π) (1/K) Σ_k ln[π δ_ε(m + √Ξ z_k)
        + (1-π) N(z_k; 0, 1)/√Ξ],  with Ξ ← max(Ξ, ε) and δ_ε = N(·; 0, ε).

    The same draws z are used for every weight (as in the official code).

    Example:
        >>> z = np.random.default_rng(0).standard_normal(DEFAULT_N_DRAWS)
        >>> entropy_one(m, pi, xi, z).mean()

    Args:
        m, pi, xi: arrays of one shape (any), the SaS hyper-parameters.
        z: (K,) standard-normal draws (K = 1000 in the official code).
        delta_variance: ε, variance of the spike regulariser and floor of Ξ.

    Returns:
        Array shaped like ``m`` (nats).

    Raises:
        ValueError: on mismatched shapes, NaN, π outside [0, 1], Ξ < 0, empty or non-finite z.
    """
    m, pi, xi = _check_layer(m, pi, xi)
    z = np.asarray(z, dtype=float).ravel()
    if z.size == 0 or not np.all(np.isfinite(z)):
        raise ValueError("z must be a non-empty array of finite standard-normal draws")
    if delta_variance <= 0.0:
        raise ValueError(f"delta_variance must be > 0, got {delta_variance}")
    shape = m.shape
    m, pi, xi = m.ravel(), pi.ravel(), np.maximum(xi.ravel(), delta_variance)
    with np.errstate(divide="ignore"):
        log_pi, log_1mpi = np.log(pi), np.log1p(-pi)
    spike_at_zero = np.logaddexp(
        log_pi + _log_normal(0.0, 0.0, delta_variance), log_1mpi + _log_normal(0.0, m, xi)
    )
    spike_term = np.where(pi > 0.0, -pi * spike_at_zero, 0.0)
    slab_term = np.empty_like(m)
    chunk = max(1, _CHUNK_ELEMENTS // z.size)
    for start in range(0, m.size, chunk):
        sl = slice(start, start + chunk)
        w = m[sl, None] + np.sqrt(xi[sl, None]) * z[None, :]
        log_density = np.logaddexp(
            log_pi[sl, None] + _log_normal(w, 0.0, delta_variance),
            log_1mpi[sl, None] + _log_normal(z[None, :], 0.0, 1.0) - 0.5 * np.log(xi[sl, None]),
        )
        slab_term[sl] = np.where(pi[sl] < 1.0, -(1.0 - pi[sl]) * log_density.mean(axis=1), 0.0)
    return (spike_term + slab_term).reshape(shape)


def entropy_two(pi, xi, delta_variance: float = DELTA_VARIANCE) -> np.ndarray:
    """Per-weight Entropy II = S_π + S_Ξ (docs/model.md §5.5).

    Args:
        pi, xi: arrays of one shape.
        delta_variance: floor ε of Ξ in S_Ξ.

    Returns:
        Array shaped like ``pi`` (nats).

    Raises:
        ValueError: on mismatched shapes, NaN, π outside [0, 1] or Ξ < 0.
    """
    _, pi, xi = _check_layer(pi, pi, xi, names=("pi", "pi", "xi"))
    return bernoulli_entropy(pi) + slab_entropy(xi, delta_variance)


def layer_entropies(
    m, pi, xi, z, exclude_diagonal: bool = False, delta_variance: float = DELTA_VARIANCE
) -> dict:
    """Layer averages of Entropy I and II and of their parts (docs/model.md §5.5).

    Args:
        m, pi, xi: (n_post, n_pre) hyper-parameters of one layer.
        z: (K,) standard-normal draws for Entropy I.
        exclude_diagonal: leave out self-connections (the official protocol for the recurrent
            layer).
        delta_variance: ε of the spike regulariser and Ξ floor.

    Returns:
        {"entropy_one": ⟨S_I⟩, "entropy_two": ⟨S_π + S_Ξ⟩, "bernoulli_entropy": ⟨S_π⟩,
         "slab_entropy": ⟨S_Ξ⟩}, floats averaged over the layer's entries.

    Raises:
        ValueError: see :func:`entropy_one` and :func:`layer_entries`.
    """
    m, pi, xi = _check_layer(m, pi, xi)
    m, pi, xi = (layer_entries(a, exclude_diagonal) for a in (m, pi, xi))
    s_pi = bernoulli_entropy(pi)
    s_xi = slab_entropy(xi, delta_variance)
    return {
        "entropy_one": float(entropy_one(m, pi, xi, z, delta_variance).mean()),
        "entropy_two": float((s_pi + s_xi).mean()),
        "bernoulli_entropy": float(s_pi.mean()),
        "slab_entropy": float(s_xi.mean()),
    }


def entropy_trajectory(
    m, pi, xi, z, exclude_diagonal: bool = False, delta_variance: float = DELTA_VARIANCE
) -> dict:
    """Layer-averaged entropies at every saved epoch (docs/model.md §5.5, Fig. 10).

    Args:
        m, pi, xi: (E, n_post, n_pre) per-epoch snapshots of one layer.
        z: (K,) standard-normal draws, reused at every epoch (pass a fresh array per epoch by
            calling :func:`layer_entropies` yourself if independent draws are wanted).
        exclude_diagonal, delta_variance: as in :func:`layer_entropies`.

    Returns:
        dict with the keys of :func:`layer_entropies`, each an (E,) array.

    Raises:
        ValueError: if the snapshots are not 3-D, or see :func:`layer_entropies`.
    """
    m, pi, xi = _check_layer(m, pi, xi)
    if m.ndim != 3:
        raise ValueError(f"snapshots must be (epochs, n_post, n_pre), got shape {m.shape}")
    rows = [
        layer_entropies(m[e], pi[e], xi[e], z, exclude_diagonal, delta_variance)
        for e in range(m.shape[0])
    ]
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def regularised_mixture_entropy(
    m: float, pi: float, xi: float, delta_variance: float = DELTA_VARIANCE
) -> float:
    """Exact differential entropy of π N(0, ε) + (1-π) N(m, max(Ξ, ε)) by adaptive quadrature.

    S = -∫ p(w) ln p(w) dw, computed as -π E_{N(0,ε)}[ln p] - (1-π) E_{N(m,Ξ)}[ln p], each
    expectation by ``scipy.integrate.quad`` in standardised coordinates over ±12 standard
    deviations. A reference for Entropy I: it equals Entropy I's expectation at π = 0 and exceeds
    it by the spike-term approximation otherwise (module docstring).

    Args:
        m, pi, xi: scalar hyper-parameters of one weight.
        delta_variance: ε.

    Returns:
        The entropy in nats.

    Raises:
        ValueError: if π is outside [0, 1] or Ξ < 0.
    """
    check_pi_xi(np.asarray(pi), np.asarray(xi))
    xi = max(float(xi), delta_variance)
    with np.errstate(divide="ignore"):
        log_pi, log_1mpi = np.log(pi), np.log1p(-pi)

    def log_p(w):
        return np.logaddexp(
            log_pi + _log_normal(w, 0.0, delta_variance), log_1mpi + _log_normal(w, m, xi)
        )

    def expectation(mean, variance):
        sd = np.sqrt(variance)

        def integrand(u):
            return np.exp(_log_normal(u, 0.0, 1.0)) * log_p(mean + sd * u)

        value, _ = integrate.quad(
            integrand,
            -12.0,
            12.0,
            limit=400,
            epsabs=1e-11,
            epsrel=1e-11,
            points=[(-mean) / sd] if abs(mean / sd) < 12 else None,
        )
        return value

    s = 0.0
    if pi > 0.0:
        s -= pi * expectation(0.0, delta_variance)
    if pi < 1.0:
        s -= (1.0 - pi) * expectation(m, xi)
    return float(s)


def entropy_one_expectation(
    m: float, pi: float, xi: float, delta_variance: float = DELTA_VARIANCE
) -> float:
    """The z → ∞-draws limit of :func:`entropy_one` for one weight, by quadrature over z.

    E_z replaced by ∫ φ(z) (·) dz with ``scipy.integrate.quad``; used to check the Monte Carlo
    estimate.

    Args:
        m, pi, xi: scalar hyper-parameters.
        delta_variance: ε.

    Returns:
        The expected Entropy I (nats).

    Raises:
        ValueError: if π is outside [0, 1] or Ξ < 0.
    """
    check_pi_xi(np.asarray(pi), np.asarray(xi))
    xi = max(float(xi), delta_variance)
    with np.errstate(divide="ignore"):
        log_pi, log_1mpi = np.log(pi), np.log1p(-pi)
    s = 0.0
    if pi > 0.0:
        s -= pi * np.logaddexp(
            log_pi + _log_normal(0.0, 0.0, delta_variance), log_1mpi + _log_normal(0.0, m, xi)
        )
    if pi < 1.0:

        def integrand(z):
            w = m + np.sqrt(xi) * z
            log_density = np.logaddexp(
                log_pi + _log_normal(w, 0.0, delta_variance),
                log_1mpi + _log_normal(z, 0.0, 1.0) - 0.5 * np.log(xi),
            )
            return np.exp(_log_normal(z, 0.0, 1.0)) * log_density

        z_spike = -m / np.sqrt(xi)
        points = [z_spike] if abs(z_spike) < 12 else None
        value, _ = integrate.quad(
            integrand, -12.0, 12.0, limit=400, epsabs=1e-11, epsrel=1e-11, points=points
        )
        s -= (1.0 - pi) * value
    return float(s)
