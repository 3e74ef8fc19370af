"""Analytic recurrent neural tangent kernel (RNTK) of the leaky spike-and-slab RNN.

Infinite-width (lazy-regime) kernel of docs/model.md §5.1 for the NTK-parameterised SaS network
(m = σ m̃/√fan_in, Ξ_rec = Ξ̃/N with Ξ̃ ~ U(0, 1), π = 0, h^{-1} ~ N(0, σ_h0²) per sample,
scalar readout at the last step).

Time indices follow docs/model.md §5.1: a sequence has ``T`` steps t = 0..T-1 and the last index is
L = T-1; h^{-1} is the initial state.  Internally the forward arrays carry T+1 "slots"
s = t+1 (slot 0 is h^{-1}), so ``K[s, s']`` holds K^{s-1, s'-1}.

Forward kernels (docs/model.md §5.1)::

    Ω^{t,t'} = σ_rec² K^{t-1,t'-1} + (σ_in²/N_in) x(t)·x'(t')
               + δ_{tt'} δ_{xx'} E[Ξ̃] K^{t-1,t-1}(x,x)
    Σ^{t,t'} = (1-α)² Σ^{t-1,t'-1} + α² Ω^{t,t'}
               + α² Σ_{d=1}^{t'} (1-α)^d Ω^{t,t'-d} + α² Σ_{d=1}^{t} (1-α)^d Ω^{t-d,t'}
    Σ^{-1,t'} = (1-α)^{t'+1} σ_h0² δ_{xx'}

Backward kernels::

    Π^{L,L} = σ_out² K̇^{L,L},  Π^{L,t'} = (1-α)^{L-t'} Π^{L,L}
    Γ^{t,t'} = σ_rec² K̇^{t,t'} Π^{t+1,t'+1}
    Π^{t,t'} = (1-α)² Π^{t+1,t'+1} + α² Γ^{t,t'} + α² Σ_{d≥1} (1-α)^d [Γ^{t,t'+d} + Γ^{t+d,t'}]

The d-sums are carried as running sums A^{t,t'} = Ω^{t,t'} + (1-α) A^{t,t'-1} (and the three
mirror images), so every kernel entry costs O(1): O(T² B²) work and memory in total, vectorised
over all sample pairs (B × B at once).  Each wavefront computes one row of a kernel; the column
follows from the exchange symmetry Σ^{t',t}(x', x) = Σ^{t,t'}(x, x').  At α = 1 the default fast
path is diagonal in time: O(T B²).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "BLOCK_NAMES",
    "gaussian_pair_expectations",
    "relu_arccos_kernels",
    "rntk",
    "rntk_blocks",
]

#: Activations the analytic kernel supports.
ACTIVATIONS = ("relu", "tanh")

#: Kernel blocks returned by :func:`rntk_blocks`, in the order of docs/model.md §5.1: the trainable
#: blocks of the RNTK, spelled and ordered as ``dynamics.BLOCK_NAMES`` (layer.parameter; the input
#: layer has no π or Ξ block).
BLOCK_NAMES = ("inp.m", "rec.m", "rec.pi", "rec.xi", "out.m", "out.pi", "out.xi")


# ------------------------------------------------------------------------------------------
# Gaussian integrals
# ------------------------------------------------------------------------------------------


def relu_arccos_kernels(cov, var_a, var_b):
    """ReLU Gaussian integrals: the arc-cosine kernels of degree 1 and 0.

    For (a, b) ~ N(0, [[var_a, cov], [cov, var_b]]) and c = cov / √(var_a var_b)::

        K  = E[relu(a) relu(b)] = (1/2π) √(var_a var_b) [c (π - arccos c) + √(1 - c²)]
        K̇ = E[relu'(a) relu'(b)] = (1/2π) (π - arccos c)

    (docs/model.md §5.1; derived from Price's theorem in :mod:`theory.derivations`).  Where a
    variance is
    zero the unit is silent (relu'(0) = 0), so K = K̇ = 0 there.

    Args:
        cov: covariance, any shape.
        var_a, var_b: variances, broadcastable against ``cov``.

    Returns:
        (K, K̇), arrays of the broadcast shape.
    """
    norm = np.sqrt(np.asarray(var_a) * np.asarray(var_b))
    live = norm > 0
    safe_norm = np.where(live, norm, 1.0)
    c = np.clip(np.where(live, cov / safe_norm, 0.0), -1.0, 1.0)
    angle_term = np.pi - np.arccos(c)
    k1 = norm / (2 * np.pi) * (c * angle_term + np.sqrt(1.0 - c * c))
    k0 = np.where(live, angle_term / (2 * np.pi), 0.0)
    return np.where(live, k1, 0.0), k0


@lru_cache(maxsize=8)
def _hermite_rule(order: int):
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / np.sqrt(2 * np.pi)


def gaussian_pair_expectations(cov, var_a, var_b, activation="relu", quadrature_order=48):
    """E[φ(a)φ(b)] and E[φ'(a)φ'(b)] for a centred bivariate Gaussian.

    ReLU uses the closed forms of :func:`relu_arccos_kernels`.  tanh uses a tensor
    Gauss–Hermite rule of ``quadrature_order``² nodes on a = √var_a z₁,
    b = √var_b (c z₁ + √(1-c²) z₂), z₁, z₂ ~ N(0, 1) independent.

    Args:
        cov: covariance, shape (...).
        var_a, var_b: variances broadcastable against ``cov``.
        activation: "relu" or "tanh".
        quadrature_order: Gauss–Hermite nodes per dimension (tanh only).

    Returns:
        (K, K̇) with the broadcast shape.

    Raises:
        ValueError: unknown activation.
    """
    if activation == "relu":
        return relu_arccos_kernels(cov, var_a, var_b)
    if activation != "tanh":
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    cov, var_a, var_b = np.broadcast_arrays(
        np.asarray(cov, float), np.asarray(var_a, float), np.asarray(var_b, float)
    )
    sd_a, sd_b = np.sqrt(var_a), np.sqrt(var_b)
    norm = sd_a * sd_b
    c = np.clip(np.where(norm > 0, cov / np.where(norm > 0, norm, 1.0), 0.0), -1.0, 1.0)
    # a = √q_a (p z₁ + q z₂), b = √q_b (p z₁ − q z₂), p = √((1+c)/2), q = √((1−c)/2): the rule is
    # mirror-symmetric in z₂, so exchanging the two samples gives the same value (Θ symmetric).
    p = np.sqrt((1.0 + c) / 2.0)[..., None, None]
    q = np.sqrt((1.0 - c) / 2.0)[..., None, None]
    z, w = _hermite_rule(int(quadrature_order))
    weights = w[:, None] * w[None, :]
    common, split = p * z[:, None], q * z[None, :]
    tanh_a = np.tanh(sd_a[..., None, None] * (common + split))
    tanh_b = np.tanh(sd_b[..., None, None] * (common - split))
    k = np.einsum("...ij,...ij,ij->...", tanh_a, tanh_b, weights)
    kdot = np.einsum("...ij,...ij,ij->...", 1.0 - tanh_a**2, 1.0 - tanh_b**2, weights)
    return k, kdot


# ------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------


def _validate(x, alpha, sigmas, xi_mean, activation):
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(
            f"x must have shape (T, B, n_in) (time-major, batch second), got shape {x.shape}"
        )
    if x.shape[0] < 1 or x.shape[1] < 1 or x.shape[2] < 1:
        raise ValueError(f"x must have T, B, n_in >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf; pass finite input sequences")
    if not (np.isscalar(alpha) and 0.0 < float(alpha) <= 1.0):
        raise ValueError(f"alpha must be a number in (0, 1], got {alpha!r}")
    for name, value in sigmas.items():
        if not (np.isscalar(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not (np.isscalar(xi_mean) and np.isfinite(xi_mean) and xi_mean >= 0):
        raise ValueError(f"xi_mean (= E[Ξ̃]) must be a finite number >= 0, got {xi_mean!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return x, float(alpha)


def _leaky_scan(values, decay):
    """Running sum y_j = values_j + decay · y_{j-1} along the first axis (O(1) per entry)."""
    out = np.array(values, copy=True)
    if decay != 0.0:
        for j in range(1, out.shape[0]):
            out[j] += decay * out[j - 1]
    return out


# ------------------------------------------------------------------------------------------
# General recursion
# ------------------------------------------------------------------------------------------


def _input_gram(x):
    """x(t)·x'(t') for all time and sample pairs, shape (T, T, B, B), via one BLAS product."""
    n_steps, batch, n_in = x.shape
    flat = x.reshape(n_steps * batch, n_in)
    return (flat @ flat.T).reshape(n_steps, batch, n_steps, batch).transpose(0, 2, 1, 3)


def _forward_general(x, alpha, s_in, s_rec, s_h0, xi_mean, gauss):
    """Σ, Ω, K, K̇ by the leaky forward recursion, wavefront by wavefront (docs/model.md §5.1).

    Wavefront t computes the row Σ^{t, j}, j <= t; the column follows from the exchange
    symmetry Σ^{j,t}(x, x') = Σ^{t,j}(x', x) (likewise Ω, K, K̇).
    """
    n_steps, batch, n_in = x.shape
    decay = 1.0 - alpha
    a2 = alpha * alpha
    slots = n_steps + 1
    gram = _input_gram(x) * (s_in**2 / n_in)  # (T, T, B, B): x(t)·x'(t')

    sigma = np.zeros((slots, slots, batch, batch))
    kernel = np.zeros((slots, slots, batch, batch))
    kernel_dot = np.zeros((slots, slots, batch, batch))
    omega = np.zeros((n_steps, n_steps, batch, batch))
    # Running sums A^{t,j} = Σ_{d>=0} (1-α)^d Ω^{t,j-d} (scanned along the row) and
    # B^{t,j} = Σ_{d>=0} (1-α)^d Ω^{t-d,j} (carried from the previous row).
    b_row = np.zeros((n_steps, batch, batch))

    # Boundary: Σ^{-1,t'} = (1-α)^{t'+1} σ_h0² δ_{xx'}  (slot 0 is h^{-1}).
    powers = decay ** np.arange(slots)
    sigma[0] = powers[:, None, None] * (s_h0**2) * np.eye(batch)
    sigma[:, 0] = sigma[0]
    var = np.zeros((slots, batch))  # Σ^{t,t}(x, x) per slot
    var[0] = s_h0**2

    def gaussian_row(s):
        """K^{s-1, j-1}, K̇^{s-1, j-1} for slots j = 0..s, stored with their transposes."""
        k_row, kd_row = gauss(sigma[s, : s + 1], var[s][None, :, None], var[: s + 1, None, :])
        kernel[s, : s + 1], kernel_dot[s, : s + 1] = k_row, kd_row
        kernel[: s + 1, s] = k_row.transpose(0, 2, 1)
        kernel_dot[: s + 1, s] = kd_row.transpose(0, 2, 1)
        return k_row

    for t in range(n_steps):
        k_row = gaussian_row(t)  # slot t holds h^{t-1}
        # Ω^{t, j}, j = 0..t.
        omega_row = s_rec**2 * k_row + gram[t, : t + 1]
        omega_row[t] += xi_mean * np.diag(np.diagonal(k_row[t]))
        omega[t, : t + 1] = omega_row
        omega[: t + 1, t] = omega_row.transpose(0, 2, 1)
        a_row = _leaky_scan(omega_row, decay)
        b_row[:t] = omega_row[:t] + decay * b_row[:t]
        b_row[t] = a_row[t].T  # B^{t,t} = (A^{t,t})ᵀ by exchange symmetry
        # Σ^{t, j} (slots t+1, j+1), j = 0..t.
        new = t + 1
        row = decay**2 * sigma[t, :new] + a2 * (a_row + b_row[:new] - omega_row)
        sigma[new, 1 : new + 1] = row
        sigma[1 : new + 1, new] = row.transpose(0, 2, 1)
        var[new] = np.diagonal(row[t])
    gaussian_row(n_steps)  # K^{L, j}: readout and K̇ for Γ
    return sigma, omega, kernel, kernel_dot, gram


def _backward_general(alpha, s_rec, s_out, kernel_dot):
    """Π and Γ by the leaky backward recursion (docs/model.md §5.1), unit readout error at t = L.

    Wavefront t computes the row Π^{t, j}, j >= t; the column follows from the exchange
    symmetry Π^{j,t}(x, x') = Π^{t,j}(x', x) (likewise Γ).
    """
    slots = kernel_dot.shape[0]
    n_steps = slots - 1
    last = n_steps - 1
    decay = 1.0 - alpha
    a2 = alpha * alpha
    kd = kernel_dot[1:, 1:]  # K̇^{t,t'} for t, t' = 0..L
    batch = kd.shape[-1]
    pi = np.zeros((n_steps, n_steps, batch, batch))
    gamma = np.zeros((last, last, batch, batch))
    # Running sums C^{t,j} = Σ_{d>=0} (1-α)^d Γ^{t,j+d} (scanned along the row) and
    # D^{t,j} = Σ_{d>=0} (1-α)^d Γ^{t+d,j} (carried from the next row).
    d_row = np.zeros((last, batch, batch))

    pi[last, last] = s_out**2 * kd[last, last]
    powers = decay ** np.arange(n_steps)[::-1]  # (1-α)^{L-t'}, t' = 0..L
    pi[last, :] = powers[:, None, None] * pi[last, last]
    pi[:, last] = pi[last, :].transpose(0, 2, 1)
    for t in range(last - 1, -1, -1):
        # Γ^{t, j}, j = t..L-1.
        gamma_row = s_rec**2 * kd[t, t:last] * pi[t + 1, t + 1 :]
        gamma[t, t:] = gamma_row
        gamma[t:, t] = gamma_row.transpose(0, 2, 1)
        c_row = _leaky_scan(gamma_row[::-1], decay)[::-1]
        d_row[t + 1 :] = gamma_row[1:] + decay * d_row[t + 1 :]
        d_row[t] = c_row[0].T  # D^{t,t} = (C^{t,t})ᵀ by exchange symmetry
        row = decay**2 * pi[t + 1, t + 1 :] + a2 * (c_row + d_row[t:] - gamma_row)
        pi[t, t:last] = row
        pi[t:last, t] = row.transpose(0, 2, 1)
    return pi, gamma


def _blocks_from_kernels(alpha, s_rec, s_out, pi, kernel, gram, sas_readout):
    n_steps = pi.shape[0]
    a2 = alpha * alpha
    # Θ_m_rec = α² σ_rec² Σ_{t,t'} Π^{t,t'} K^{t-1,t'-1}  (K slots t, t' hold K^{t-1, t'-1}).
    m_rec = a2 * s_rec**2 * np.einsum("tsab,tsab->ab", pi, kernel[:n_steps, :n_steps])
    # Θ_m_in = α² (σ_in²/N_in) Σ_{t,t'} Π^{t,t'} x(t)·x'(t').
    m_in = a2 * np.einsum("tsab,tsab->ab", pi, gram)  # gram already carries σ_in²/N_in
    return _assemble(m_in, m_rec, s_out**2 * kernel[n_steps, n_steps], sas_readout)


def _assemble(m_in, m_rec, readout, sas_readout):
    zeros = np.zeros_like(m_rec)
    blocks = {
        "inp.m": m_in,
        "rec.m": m_rec,
        "rec.pi": m_rec.copy(),  # at π = 0, E[m²] = σ²/N: same second moment as ∂μ/∂m̃
        "rec.xi": zeros,  # O(1/N) under Ξ = Ξ̃/N
        "out.m": readout,
    }
    if sas_readout:
        blocks["out.pi"] = readout.copy()
        blocks["out.xi"] = zeros.copy()
    return blocks


# ------------------------------------------------------------------------------------------
# α = 1 fast path
# ------------------------------------------------------------------------------------------


def _rntk_no_leak(x, s_in, s_rec, s_out, s_h0, xi_mean, gauss, sas_readout):
    """Diagonal-in-time RNTK at α = 1 (docs/model.md §5.1 "α = 1 special case"): O(T B²) work.

    Σ^{t,t} = Ω^{t,t};  Π^{t,t} = σ_rec² K̇^{t,t} Π^{t+1,t+1};
    Θ = Σ_t Π^{t,t} [2 σ_rec² K^{t-1,t-1} + (σ_in²/N_in) x(t)·x'(t)] + σ_out² K^{L,L}.
    """
    n_steps, batch, n_in = x.shape
    eye = np.eye(batch)
    gram = np.einsum("tbi,tci->tbc", x, x) * (s_in**2 / n_in)
    sigma = np.zeros((n_steps + 1, batch, batch))
    kernel = np.zeros_like(sigma)
    kernel_dot = np.zeros_like(sigma)
    sigma[0] = s_h0**2 * eye
    for s in range(n_steps + 1):
        var = np.diagonal(sigma[s])
        kernel[s], kernel_dot[s] = gauss(sigma[s], var[:, None], var[None, :])
        if s < n_steps:
            omega = s_rec**2 * kernel[s] + gram[s] + xi_mean * np.diag(np.diagonal(kernel[s]))
            sigma[s + 1] = omega
    pi = np.zeros((n_steps, batch, batch))
    pi[-1] = s_out**2 * kernel_dot[n_steps]
    for t in range(n_steps - 2, -1, -1):
        pi[t] = s_rec**2 * kernel_dot[t + 1] * pi[t + 1]
    m_rec = s_rec**2 * np.einsum("tab,tab->ab", pi, kernel[:n_steps])
    m_in = np.einsum("tab,tab->ab", pi, gram)
    blocks = _assemble(m_in, m_rec, s_out**2 * kernel[n_steps], sas_readout)
    return blocks, sigma, kernel, kernel_dot, pi


# ------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------


def rntk_blocks(
    x,
    alpha,
    *,
    sigma_in=1.0,
    sigma_rec=1.0,
    sigma_out=1.0,
    sigma_h0=1.0,
    xi_mean=0.5,
    sas_readout=False,
    activation="relu",
    quadrature_order=48,
    fast_path=True,
    return_intermediates=False,
):
    """Per-parameter-block analytic RNTK of the leaky SaS RNN (docs/model.md §5.1).

    Blocks (sums over t, t' = 0..L, L = T-1)::

        Θ_m_rec = α² σ_rec² Σ Π^{t,t'} K^{t-1,t'-1},   Θ_π_rec = Θ_m_rec,   Θ_Ξ_rec = 0
        Θ_m_in  = α² (σ_in²/N_in) Σ Π^{t,t'} x(t)·x'(t')
        Θ_m_out = σ_out² K^{L,L}    [SaS readout: Θ_π_out = σ_out² K^{L,L}, Θ_Ξ_out = 0]

    Example:
        >>> x = np.array([[[1.0], [np.cos(1.0)]], [[-1.0], [np.sin(1.0)]]])  # (T=2, B=2, 1)
        >>> blocks = rntk_blocks(x, 0.5, sas_readout=True)
        >>> list(blocks)[:3]
        ['inp.m', 'rec.m', 'rec.pi']

    Args:
        x: input sequences, shape (T, B, n_in).
        alpha: leak α ∈ (0, 1].
        sigma_in, sigma_rec, sigma_out, sigma_h0: NTK scales (docs/model.md §5.1), >= 0.
        xi_mean: E[Ξ̃] of the slab-variance initialisation (½ for Ξ̃ ~ U(0, 1)).
        sas_readout: add the SaS readout blocks π_out and Ξ_out (docs/model.md §3.5).
        activation: "relu" (closed forms) or "tanh" (Gauss–Hermite quadrature).
        quadrature_order: Gauss–Hermite nodes per dimension for tanh.
        fast_path: at α = 1 use the O(T B²) diagonal-in-time recursion.
        return_intermediates: also return the kernels under key "intermediates": dict with
            "sigma" (T+1, T+1, B, B) slot-indexed Σ (slot s = t+1; slot 0 is h^{-1}),
            "omega" (T, T, B, B), "K" and "Kdot" (T+1, T+1, B, B) slot-indexed,
            "pi" (T, T, B, B) and "gamma" (T-1, T-1, B, B).  On the α = 1 fast path the arrays
            are time-diagonal: "sigma", "K", "Kdot" (T+1, B, B), "pi" (T, B, B).

    Returns:
        dict block name -> (B, B) array (keys of :data:`BLOCK_NAMES`; the two readout blocks
        only if ``sas_readout``), plus "intermediates" if requested.

    Raises:
        ValueError: bad shapes, non-finite input, α outside (0, 1], negative scales, unknown
        activation.
    """
    sigmas = dict(sigma_in=sigma_in, sigma_rec=sigma_rec, sigma_out=sigma_out, sigma_h0=sigma_h0)
    x, alpha = _validate(x, alpha, sigmas, xi_mean, activation)
    s_in, s_rec, s_out, s_h0 = (float(v) for v in sigmas.values())
    xi_mean = float(xi_mean)

    def gauss(cov, var_a, var_b):
        return gaussian_pair_expectations(cov, var_a, var_b, activation, quadrature_order)

    if alpha == 1.0 and fast_path:
        blocks, sigma, kernel, kernel_dot, pi = _rntk_no_leak(
            x, s_in, s_rec, s_out, s_h0, xi_mean, gauss, sas_readout
        )
        if return_intermediates:
            blocks["intermediates"] = {"sigma": sigma, "K": kernel, "Kdot": kernel_dot, "pi": pi}
        return blocks

    sigma, omega, kernel, kernel_dot, gram = _forward_general(
        x, alpha, s_in, s_rec, s_h0, xi_mean, gauss
    )
    pi, gamma = _backward_general(alpha, s_rec, s_out, kernel_dot)
    blocks = _blocks_from_kernels(alpha, s_rec, s_out, pi, kernel, gram, sas_readout)
    if return_intermediates:
        blocks["intermediates"] = {
            "sigma": sigma,
            "omega": omega,
            "K": kernel,
            "Kdot": kernel_dot,
            "pi": pi,
            "gamma": gamma,
        }
    return blocks


def rntk(
    x,
    alpha,
    *,
    sigma_in=1.0,
    sigma_rec=1.0,
    sigma_out=1.0,
    sigma_h0=1.0,
    xi_mean=0.5,
    sas_readout=False,
    activation="relu",
    quadrature_order=48,
    fast_path=True,
):
    """Analytic RNTK Θ(x, x') of the leaky SaS RNN, summed over parameter blocks (docs/model.md
    §5.1).

    Θ = Θ_m_in + Θ_m_rec + Θ_π_rec + Θ_Ξ_rec + Θ_m_out [+ Θ_π_out + Θ_Ξ_out]; see
    :func:`rntk_blocks` for the blocks and the arguments.

    Example:
        >>> x = np.array([[[1.0], [np.cos(1.0)]], [[-1.0], [np.sin(1.0)]]])
        >>> round(float(rntk(x, 0.5, sas_readout=True)[0, 0]), 3)
        0.621

    Returns:
        (B, B) symmetric positive semi-definite kernel matrix.

    Raises:
        ValueError: as :func:`rntk_blocks`.
    """
    blocks = rntk_blocks(
        x,
        alpha,
        sigma_in=sigma_in,
        sigma_rec=sigma_rec,
        sigma_out=sigma_out,
        sigma_h0=sigma_h0,
        xi_mean=xi_mean,
        sas_readout=sas_readout,
        activation=activation,
        quadrature_order=quadrature_order,
        fast_path=fast_path,
    )
    return sum(blocks[name] for name in BLOCK_NAMES if name in blocks)
