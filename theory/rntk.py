"""Analytic recurrent neural tangent kernel (RNTK) of the leaky spike-and-slab RNN.

Infinite-width (lazy-regime) kernel of docs/model.md §5.1 for the NTK-parameterised SaS network
(m = σ m̃/√fan_in, Ξ_rec = Ξ̃/N with Ξ̃ ~ U(0, 1), π = 0, h^{-1} ~ N(0, σ_h0²) per sample,
scalar readout at the last step).

Time indices follow docs/model.md §5.1: a sequence has ``T`` steps t = 0..T-1 and the last index is
L = T-1; h^{-1} is the initial state.  Internally the forward arrays carry T+1 "slots"
s = t+1 (slot 0 is h^{-1}), so ``K[s, s']`` holds K^{s-1, s'-1}.

Forward kernels (docs/model.md §5.1, eqs. 5.3–5.6)::

    K, K̇ at (t, t'): arc-cosine kernels (ReLU) or Gauss–Hermite (tanh) of the 2 × 2 covariance
        [[Σ^{t,t}(x,x), Σ^{t,t'}(x,x')], [·, Σ^{t',t'}(x',x')]]                          (5.3)
    Ω^{t,t'} = σ_rec² K^{t-1,t'-1} + (σ_in²/N_in) x(t)·x'(t')
               + δ_{tt'} δ_{xx'} E[Ξ̃] K^{t-1,t-1}(x,x)                                    (5.4)
    Σ^{t,t'} = (1-α)² Σ^{t-1,t'-1} + α² Ω^{t,t'}
               + α² Σ_{d=1}^{t'} (1-α)^d Ω^{t,t'-d} + α² Σ_{d=1}^{t} (1-α)^d Ω^{t-d,t'}     (5.6)
    Σ^{-1,t'} = (1-α)^{t'+1} σ_h0² δ_{xx'}

Backward kernels (eqs. 5.7–5.8)::

    Π^{L,L} = σ_out² K̇^{L,L},  Π^{L,t'} = (1-α)^{L-t'} Π^{L,L}
    Γ^{t,t'} = σ_rec² K̇^{t,t'} Π^{t+1,t'+1}
    Π^{t,t'} = (1-α)² Π^{t+1,t'+1} + α² Γ^{t,t'} + α² Σ_{d≥1} (1-α)^d [Γ^{t,t'+d} + Γ^{t+d,t'}]

and the blocks of eq. (5.9).  The d-sums are carried as running sums A^{t,t'} = Ω^{t,t'} +
(1-α) A^{t,t'-1} (and the three mirror images), so every kernel entry costs O(1).

Every quantity at a sample pair (x, x') depends only on that pair and on the two samples'
variances Σ^{t,t}(x, x), Σ^{t',t'}(x', x').  The kernel is therefore computed pair by pair, in
compiled blocks of sample pairs (:mod:`theory._rntk_kernels`) shared among
``numba.get_num_threads()`` threads: first the B diagonal pairs (x, x), which give the variances,
then the B(B-1)/2 pairs x ≠ x', whose Θ also fills the mirror entry Θ(x', x) = Θ(x, x') (exchange
symmetry Σ^{t',t}(x', x) = Σ^{t,t'}(x, x')).  Work: O(T² B²), ≈ 0.5 (T+1)² B² arc-cosine
evaluations, each giving K and K̇ at once.  Each entry's arithmetic is that of a B × B
wavefront recursion, except for the order of the input Gram sums and an arccos within 1 ulp of
libm's, so the two agree to round-off.

Memory (general path, without intermediates), in bytes, for N_in inputs and n threads::

    8 [10 B² + 2 T B N_in + (T+1) B] + n · 8 [T² B + 32 · 8 (T+1)²]

the blocks and their sum, the inputs, and per thread one row of input Gram products and the
time grids of 32 pairs: ≈ 110 MB at T = 28, B = 1000, N_in = 28, n = 2.  ``return_intermediates``
adds the full kernels, ≈ 6 · 8 (T+1)² B² bytes.  The α = 1 fast path (eq. 5.10) is diagonal in
time: O(T B²) work, pair by pair the same way, within the same bound (its intermediates
≈ 4 · 8 (T+1) B² bytes).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import numba
import numpy as np

from theory import _rntk_kernels as _kernels

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


# ------------------------------------------------------------------------------------------
# General recursion
# ------------------------------------------------------------------------------------------

#: Sample pairs per compiled block: the block's time grids, about 8 (T+1)² × 32 doubles
#: (1.7 MB at T = 28), stay near one core's L2 cache.
BLOCK_WIDTH = 32
#: Slices of the blocks per thread; threads take the next slice when done, so a slower core
#: takes fewer.
TASKS_PER_THREAD = 4


def _pair_blocks(batch, width, diagonal):
    """Blocks (first, second, n) of sample pairs, shape (n_blocks, 3).

    Diagonal pass: pairs (a, a) in runs of ``width``.  Off-diagonal pass: for each a, the pairs
    (a, b), b > a, in runs of ``width``.
    """
    if diagonal:
        firsts = np.arange(0, batch, width)
        blocks = np.stack([firsts, firsts, np.minimum(width, batch - firsts)], axis=1)
    else:
        blocks = np.array(
            [
                (a, b, min(width, batch - b))
                for a in range(batch - 1)
                for b in range(a + 1, batch, width)
            ],
            dtype=np.int64,
        ).reshape(-1, 3)
    return np.ascontiguousarray(blocks, dtype=np.int64)


def _run_in_slices(function, blocks, n_threads):
    """``function(blocks[i:j])`` over slices of about equal pair counts, on ``n_threads``."""
    n_tasks = min(len(blocks), TASKS_PER_THREAD * n_threads)
    if n_tasks == 0:
        return
    cost = np.cumsum(blocks[:, 2] + 2)  # pairs, plus a per-block overhead of about two pairs
    bounds = np.searchsorted(cost, cost[-1] * np.arange(1, n_tasks) / n_tasks)
    slices = np.split(blocks, np.unique(bounds))
    if n_threads == 1:
        for part in slices:
            function(part)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(function, [part for part in slices if len(part)]))


def _run_pair_passes(
    leaky,
    x,
    alpha,
    s_in,
    s_rec,
    s_out,
    s_h0,
    xi_mean,
    activation,
    quadrature_order,
    store_shapes,
    store_names,
    return_intermediates,
):
    """The diagonal pass, then the off-diagonal pass, of the compiled pair blocks on
    ``numba.get_num_threads()`` threads: :func:`theory._rntk_kernels.pair_blocks` if ``leaky``,
    else the α = 1 :func:`theory._rntk_kernels.no_leak_blocks`.

    Returns (m_rec, m_in, readout, intermediates or None): Θ_m_rec, Θ_m_in, σ_out² K^{L,L},
    each (B, B), and the intermediates (``store_names`` → arrays of ``store_shapes``).
    """
    kernel = _kernels.pair_blocks if leaky else _kernels.no_leak_blocks
    n_steps, batch, n_in = x.shape
    slots = n_steps + 1
    decay = 1.0 - alpha
    a2 = alpha * alpha
    prm = (decay, decay**2, a2, s_rec**2, s_out**2, xi_mean, a2 * s_rec**2, s_in**2 / n_in)
    if activation == "tanh":
        nodes, weights = _hermite_rule(int(quadrature_order))
        code = _kernels.TANH
    else:
        nodes = weights = np.zeros(1)
        code = _kernels.RELU
    x = np.ascontiguousarray(x)
    x_t = np.ascontiguousarray(x.transpose(0, 2, 1))
    variances = np.zeros((slots, batch))
    variances[0] = s_h0**2
    out = np.zeros((3, batch, batch))
    # The intermediates to fill, or empty arrays of the same dimensions.
    store = tuple(
        np.zeros(shape if return_intermediates else (0,) * len(shape)) for shape in store_shapes
    )
    extra = ()
    if leaky:
        boundary = decay ** np.arange(slots) * (s_h0**2)  # Σ^{-1,s-1} = (1-α)^s σ_h0² on x = x'
        decay_powers = decay ** np.arange(n_steps)[::-1]  # (1-α)^{L-t'}, t' = 0..L
        extra = (boundary, decay_powers)
    n_threads = numba.get_num_threads()
    for diagonal in (True, False):  # the diagonal pass fills the variances the other reads

        def run(blocks, diagonal=diagonal):
            kernel(
                x, x_t, blocks, variances, diagonal, prm, *extra, code, nodes, weights, out, store
            )

        _run_in_slices(run, _pair_blocks(batch, BLOCK_WIDTH, diagonal), n_threads)
    intermediates = None
    if return_intermediates:
        intermediates = dict(zip(store_names, store, strict=True))
    return out[0], out[1], out[2], intermediates


def _rntk_general(
    x, alpha, s_in, s_rec, s_out, s_h0, xi_mean, activation, quadrature_order, return_intermediates
):
    """Θ_m_rec, Θ_m_in and σ_out² K^{L,L} (each (B, B)) by the leaky recursions of docs/model.md
    §5.1, eqs. (5.3)–(5.9), pair by pair in compiled blocks (:mod:`theory._rntk_kernels`).

    Returns (m_rec, m_in, readout, intermediates or None).
    """
    n_steps, batch, _ = x.shape
    slots, last = n_steps + 1, n_steps - 1
    store_shapes = [(slots, slots, batch, batch)] * 3 + [(n_steps, n_steps, batch, batch)] * 2
    store_shapes.append((last, last, batch, batch))
    return _run_pair_passes(
        True,
        x,
        alpha,
        s_in,
        s_rec,
        s_out,
        s_h0,
        xi_mean,
        activation,
        quadrature_order,
        store_shapes,
        ("sigma", "K", "Kdot", "omega", "pi", "gamma"),
        return_intermediates,
    )


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


def _rntk_no_leak(
    x, s_in, s_rec, s_out, s_h0, xi_mean, activation, quadrature_order, return_intermediates
):
    """Diagonal-in-time RNTK at α = 1 (docs/model.md §5.1 "α = 1 special case", eq. 5.10):
    O(T B²) work, pair by pair in compiled blocks (:func:`theory._rntk_kernels.no_leak_blocks`).

    Σ^{t,t} = Ω^{t,t};  Π^{t,t} = σ_rec² K̇^{t,t} Π^{t+1,t+1};
    Θ = Σ_t Π^{t,t} [2 σ_rec² K^{t-1,t-1} + (σ_in²/N_in) x(t)·x'(t)] + σ_out² K^{L,L}.

    Returns (m_rec, m_in, readout, intermediates or None).
    """
    n_steps, batch, n_in = x.shape
    store_shapes = [(n_steps + 1, batch, batch)] * 3 + [(n_steps, batch, batch)]
    return _run_pair_passes(
        False,
        x,
        1.0,
        s_in,
        s_rec,
        s_out,
        s_h0,
        xi_mean,
        activation,
        quadrature_order,
        store_shapes,
        ("sigma", "K", "Kdot", "pi"),
        return_intermediates,
    )


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

    compute = _rntk_no_leak if alpha == 1.0 and fast_path else partial(_rntk_general, alpha=alpha)
    m_rec, m_in, readout, intermediates = compute(
        x,
        s_in=s_in,
        s_rec=s_rec,
        s_out=s_out,
        s_h0=s_h0,
        xi_mean=xi_mean,
        activation=activation,
        quadrature_order=quadrature_order,
        return_intermediates=return_intermediates,
    )
    blocks = _assemble(m_in, m_rec, readout, sas_readout)
    if return_intermediates:
        blocks["intermediates"] = intermediates
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
