"""Where the lazy (kernel) regime holds: GD stability bound and lazy parameter displacement.

Setting (docs/model.md §5.1): an NTK-parameterised network f(x; θ̃) trained by full-batch gradient
descent
θ̃ ← θ̃ − η ∂L/∂θ̃ on L = ½ Σ_μ (f(x_μ) − y_μ)², with tangent kernel Θ = J Jᵀ, J = ∂f(X)/∂θ̃
(n × P).  In the infinite-width limit Θ is the constant analytic RNTK (:func:`theory.rntk`), and
the training residual r_t = f_t(X) − Y obeys the linear map r_{t+1} = (I − ηΘ) r_t.

Two derived statements, no fitted constants:

1. **Stability bound.**  In the eigenbasis Θ = U Λ Uᵀ the map multiplies mode k by (1 − ηλ_k),
   so it converges iff |1 − ηλ_k| < 1 for every λ_k > 0, i.e.

       η < η_max = 2 / λ_max(Θ).

   Above η_max GD diverges *even in the lazy limit*; below it the infinite-width kernel drift is
   zero at any η.  (Θ is the kernel of the summed loss, so λ_max grows ∝ n_train.)

2. **Lazy parameter displacement.**  Summing the steps, Σ_{s<t} (I − ηΘ)^s = (ηΘ)⁻¹ A_t with
   A_t = I − (I − ηΘ)^t, so the linearised trajectory moves the parameters by

       Δθ̃_t = −η Jᵀ Σ_{s<t} r_s = −Jᵀ Θ⁻¹ A_t r_0,
       ‖Δθ̃_t‖² = r_0ᵀ A_t Θ⁻¹ A_t r_0 = Σ_k a_k(t)² / λ_k · (u_kᵀ r_0)²,
       a_k(t) = 1 − (1 − ηλ_k)^t   (gradient flow: a_k = 1 − e^{−ηλ_k t}).

   For ηλ_k t ≪ 1, a_k ≈ ηλ_k t and ‖Δθ̃_t‖ ≈ ηt √(r_0ᵀ Θ r_0): the displacement grows ∝ ηt.
   Once the stiff modes have converged it saturates at √(r_0ᵀ Θ⁻¹ r_0) (η < η_max).  Averaged
   over the random initial output f_0 ~ GP(0, K_f) (the NNGP kernel of the readout; for the SaS
   RNN K_f = σ_out² K^{L,L} = Θ_m_out, :func:`theory.rntk_blocks`), E[r_0 r_0ᵀ] = Y Yᵀ + K_f.

**Finite-width kernel drift** (scaling argument, one unknown constant).  In NTK parameterisation
Θ and ‖Δθ̃‖ are O(1) in the width N while ∂Θ/∂θ̃ along a unit displacement is O(1/√N) (the
Hessian of f in θ̃ has norm O(1/√N); Jacot et al. 2018, Liu, Zhu & Belkin 2020).  To first order
in the displacement

       ‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F ≈ c · ‖Δθ̃_t‖ / √N,

with c an O(1) constant set by the data and the architecture (it needs the third-order
derivative tensor of f, which is not computed here: c is *fitted*, see
:mod:`sims.learning_regime`).  For small ηt this is the familiar ηt/√N scaling, whose contours
are curves η ∝ √N.  The prediction is first order: it fails once the drift is O(1).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gd_stability_bound",
    "lazy_parameter_displacement",
    "lazy_kernel_drift",
    "width_at_kernel_drift",
]

#: Eigenvalues below this fraction of the largest one are treated as exact zero modes.
ZERO_MODE_RTOL = 1e-12


def _check_kernel(kernel):
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] < 1:
        raise ValueError(f"k_train_train must be a square (n, n) matrix, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError("k_train_train contains NaN or inf")
    if not np.allclose(k, k.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(k).max())):
        raise ValueError("k_train_train must be symmetric (pass Θ(X, X) of the training inputs)")
    return 0.5 * (k + k.T)


def gd_stability_bound(k_train_train) -> tuple[float, float]:
    """Largest stable learning rate of lazy full-batch GD: η_max = 2 / λ_max(Θ).

    The linear map r ← (I − ηΘ) r converges iff |1 − ηλ| < 1 for all eigenvalues λ > 0 of
    Θ(X, X) (module docstring, item 1; docs/model.md §5.1).

    Example:
        >>> gd_stability_bound(np.diag([4.0, 1.0]))
        (0.5, 4.0)

    Args:
        k_train_train: Θ(X, X) of the training inputs, symmetric positive semi-definite (n, n),
            for the summed loss ½ Σ_μ (f − y)².

    Returns:
        (eta_max, lambda_max).

    Raises:
        ValueError: non-square, asymmetric or non-finite kernel, or λ_max <= 0.
    """
    k = _check_kernel(k_train_train)
    lambda_max = float(np.linalg.eigvalsh(k)[-1])
    if not lambda_max > 0:
        raise ValueError(f"k_train_train has no positive eigenvalue (λ_max = {lambda_max})")
    return 2.0 / lambda_max, lambda_max


def lazy_parameter_displacement(k_train_train, residual, *, discrete=True):
    """RMS parameter displacement ‖Δθ̃_t‖ of lazy GD from the initial residual r_0 = f_0 − Y.

    ::

        ‖Δθ̃_t‖² = Σ_k a_k(η, t)² / λ_k · M_kk,   M = Uᵀ E[r_0 r_0ᵀ] U,
        a_k = 1 − (1 − ηλ_k)^t  (discrete GD)   or   1 − e^{−ηλ_k t}  (gradient flow),

    with Θ(X, X) = U Λ Uᵀ (module docstring, item 2; docs/model.md §5.1).  Zero modes contribute
    (ηλt)²/λ → 0.  The eigendecomposition is done once; the returned closure is cheap.

    Example:
        >>> displacement = lazy_parameter_displacement(np.eye(2), np.array([1.0, 0.0]))
        >>> round(float(displacement(0.1, 1)), 12)   # one step: η ‖Jᵀ r_0‖ = 0.1
        0.1

    Args:
        k_train_train: Θ(X, X), symmetric (n, n).
        residual: r_0 of shape (n,) (one network), or the second moment E[r_0 r_0ᵀ] of shape
            (n, n), e.g. Y Yᵀ + K_f for f_0 ~ GP(0, K_f).
        discrete: discrete GD steps (True) or gradient flow with t in units of steps.

    Returns:
        ``displacement_fn(lr, t)``: ‖Δθ̃_t‖ (RMS over f_0 for a second-moment ``residual``),
        broadcasting over array ``lr`` and ``t`` (t >= 0; t may be non-integer).  It grows
        without bound in t when lr > η_max (discrete).

    Raises:
        ValueError: bad kernel, residual of the wrong shape, non-positive lr, negative t.
    """
    k = _check_kernel(k_train_train)
    n = k.shape[0]
    eigenvalues, eigenvectors = np.linalg.eigh(k)
    residual = np.asarray(residual, dtype=float)
    if residual.shape == (n,):
        weights = (eigenvectors.T @ residual) ** 2
    elif residual.shape == (n, n):
        weights = np.einsum("ik,ij,jk->k", eigenvectors, residual, eigenvectors)
    else:
        raise ValueError(
            f"residual must be r_0 of shape ({n},) or E[r_0 r_0ᵀ] of shape ({n}, {n}), "
            f"got {residual.shape}"
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError("residual contains NaN or inf")
    zero_mode = eigenvalues <= ZERO_MODE_RTOL * max(abs(eigenvalues).max(), 1e-300)
    live = eigenvalues[~zero_mode]
    live_weights = np.maximum(weights[~zero_mode], 0.0)

    def displacement_fn(lr, t):
        """‖Δθ̃_t‖ at learning rate(s) ``lr`` after ``t`` steps (see the factory docstring)."""
        lr, t = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(t, dtype=float))
        if np.any(~(lr > 0)) or np.any(~(t >= 0)):
            raise ValueError(f"need lr > 0 and t >= 0, got lr={lr!r}, t={t!r}")
        rate = lr[..., None] * live
        if discrete:
            with np.errstate(over="ignore"):
                a = 1.0 - (1.0 - rate) ** t[..., None]
        else:
            a = -np.expm1(-rate * t[..., None])
        with np.errstate(over="ignore", invalid="ignore"):
            squared = np.sum(a**2 / live * live_weights, axis=-1)
        return np.sqrt(squared)

    return displacement_fn


def lazy_kernel_drift(displacement, width, constant):
    """First-order finite-width kernel drift c ‖Δθ̃‖ / √N (module docstring; c fitted elsewhere).

    Args:
        displacement: ‖Δθ̃_t‖ (any shape).
        width: N (broadcastable).
        constant: c > 0.

    Returns:
        c · displacement / √width.

    Raises:
        ValueError: width <= 0 or constant <= 0.
    """
    width = np.asarray(width, dtype=float)
    if np.any(width <= 0) or not constant > 0:
        raise ValueError(f"need width > 0 and constant > 0, got {width!r}, {constant!r}")
    return constant * np.asarray(displacement, dtype=float) / np.sqrt(width)


def width_at_kernel_drift(level, displacement, constant):
    """Width at which the first-order drift c ‖Δθ̃‖/√N equals ``level``: N = (c ‖Δθ̃‖ / level)².

    Along a learning-rate grid this traces the contour "drift = level" of the regime diagram;
    for small ηt (‖Δθ̃‖ ∝ η) it is the curve η ∝ √N.

    Raises:
        ValueError: level <= 0 or constant <= 0.
    """
    if not (level > 0 and constant > 0):
        raise ValueError(f"need level > 0 and constant > 0, got {level!r}, {constant!r}")
    return (constant * np.asarray(displacement, dtype=float) / level) ** 2
