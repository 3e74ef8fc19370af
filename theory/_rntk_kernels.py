"""Compiled recursions of the analytic RNTK, one block of sample pairs at a time.

Every quantity of docs/model.md §5.1 at a sample pair (x_a, x_b) depends only on that pair, on
the two samples' variance trajectories Σ^{t,t}(x_a, x_a), Σ^{t,t}(x_b, x_b) and on the inputs
x_a(t)·x_b(t'), eqs. (5.3)–(5.9).  So the kernel is computed pair by pair: first the diagonal
pairs (a, a), which also produce the variance trajectories, then the pairs a < b, which give Θ at
(a, b) and, by the exchange symmetry Θ(x_b, x_a) = Θ(x_a, x_b), at (b, a).  A block holds n pairs
(vectorised innermost) and carries the full T × T time grid of each pair: both orders of (t, t'),
since Σ^{t',t}(x_a, x_b) = Σ^{t,t'}(x_b, x_a) is the mirror pair's entry.

The arithmetic of every entry is that of a B × B wavefront recursion, entry for entry and in the
same order (running sums A, C, D, E below), except for the order of the input Gram sums and the
arccos (:func:`_arccos`, within 1 ulp of libm's), so the two agree to round-off.  The caller
runs slices of the blocks on several threads (the function releases the GIL); each call holds its
own scratch grids.

Shapes: T steps, slots s = t + 1 (slot 0 is h^{-1}); n pairs in a block, at most ``width``.
"""

from __future__ import annotations

import numba
import numpy as np

#: Activation codes of the compiled kernels: the index in ``theory.rntk.ACTIVATIONS``.
RELU, TANH = 0, 1
TWO_PI = 2.0 * np.pi

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}


# Rational approximation of arcsin on [0, 1/4] (fdlibm/musl ``acos``): asin(x) = x + x R(x²).
_PIO2_HI = 1.57079632679489655800e00
_PIO2_LO = 6.12323399573676603587e-17
_P = (
    1.66666666666666657415e-01,
    -3.25565818622400915405e-01,
    2.01212532134862925881e-01,
    -4.00555345006794114027e-02,
    7.91534994289814532176e-04,
    3.47933107596021167570e-05,
)
_Q = (-2.40339491173441421878e00, 2.02094576023350569471e00, -6.88283971605453293030e-01)
_Q4 = 7.70381505559019352791e-02


@numba.njit(inline="always", **_JIT)
def _arccos(c):
    """arccos(c) for c ∈ [-1, 1] within 2 ulp, branch-free so that loops over it vectorise (the
    libm call does not).  fdlibm's reduction: |c| < ½ by the rational R(c²); |c| >= ½ by
    arccos c = 2 arcsin √((1-|c|)/2), reflected for c < 0."""
    small = abs(c) < 0.5
    z = c * c if small else (1.0 - abs(c)) * 0.5
    num = z * (_P[0] + z * (_P[1] + z * (_P[2] + z * (_P[3] + z * (_P[4] + z * _P[5])))))
    den = 1.0 + z * (_Q[0] + z * (_Q[1] + z * (_Q[2] + z * _Q4)))
    r = num / den
    s = np.sqrt(z)
    if small:
        return _PIO2_HI - (c - (_PIO2_LO - c * r))
    if c > 0.0:
        return 2.0 * (s + s * r)
    return 2.0 * (_PIO2_HI - (s + (r * s - _PIO2_LO)))


@numba.njit(**_JIT)
def _tanh_pair(cov, var_a, var_b, nodes, weights):
    """(K, K̇) for tanh by the tensor Gauss–Hermite rule of
    ``theory.rntk.gaussian_pair_expectations``: a = √var_a (p z₁ + q z₂),
    b = √var_b (p z₁ − q z₂), p = √((1+c)/2), q = √((1−c)/2)."""
    sd_a = np.sqrt(var_a)
    sd_b = np.sqrt(var_b)
    norm = sd_a * sd_b
    c = min(max(cov / norm, -1.0), 1.0) if norm > 0.0 else 0.0
    p = np.sqrt((1.0 + c) / 2.0)
    q = np.sqrt((1.0 - c) / 2.0)
    k = 0.0
    kdot = 0.0
    for i in range(nodes.size):
        common = p * nodes[i]
        for j in range(nodes.size):
            split = q * nodes[j]
            tanh_a = np.tanh(sd_a * (common + split))
            tanh_b = np.tanh(sd_b * (common - split))
            weight = weights[i] * weights[j]
            k += tanh_a * tanh_b * weight
            kdot += (1.0 - tanh_a * tanh_a) * (1.0 - tanh_b * tanh_b) * weight
    return k, kdot


@numba.njit(**_JIT)
def pair_blocks(
    x,
    x_t,
    blocks,
    variances,
    diagonal,
    prm,
    boundary,
    decay_powers,
    activation,
    nodes,
    weights,
    out,
    store,
):
    """All kernels of the sample pairs of ``blocks``, one block of n pairs at a time, writing the
    sums of docs/model.md eq. (5.9) into ``out`` at (a, b) and (b, a).

    Per block (every loop over p is over its n pairs):

    * gram[t, t'] = (σ_in²/N_in) x_a(t)·x_b(t').
    * Forward, level t = 0..T-1, entries (t, j), j <= t, and their mirrors (j, t): K, K̇ at
      slots (t, j) by eq. (5.3); Ω^{t,j} = σ_rec² K^{t-1,j-1} + gram[t, j]
      [+ E[Ξ̃] K^{t-1,t-1} at j = t of a diagonal pair], eq. (5.4); the running sums
      A^{t,j} = Ω^{t,j} + (1-α) A^{t,j-1} along the row and C^{t,j} = Ω^{t,j} + (1-α) C^{t-1,j}
      down the column turn eq. (5.6) into Σ^{t,j} = (1-α)² Σ^{t-1,j-1} + α² (A + C - Ω).
    * Backward, level t = L-1..0, eqs. (5.7)–(5.8): Γ^{t,j} = σ_rec² K̇^{t,j} Π^{t+1,j+1}; the
      running sums D^{t,j} = Γ^{t,j} + (1-α) D^{t,j+1} and E^{t,j} = Γ^{t,j} + (1-α) E^{t+1,j}
      give Π^{t,j} = (1-α)² Π^{t+1,j+1} + α² (D + E - Γ).
    * Θ_m_rec = α² σ_rec² Σ Π^{t,t'} K^{t-1,t'-1}, Θ_m_in = α² Σ Π^{t,t'} gram[t, t'],
      σ_out² K^{L,L}.

    Args:
        x, x_t: inputs (T, B, n_in) and their (T, n_in, B) transpose.
        blocks: (n_blocks, 3) int rows (first, second, n): the pairs (first + p, first + p) of a
            diagonal pass, or (first, second + p), p < n.
        variances: (T+1, B) Σ^{s-1,s-1}(x_a, x_a) by slot s; slot 0 given.  Filled by the
            diagonal pass, read by the other.
        diagonal: whether the blocks hold diagonal pairs (boundary and slab terms present).
        prm: (1-α, (1-α)², α², σ_rec², σ_out², E[Ξ̃], α² σ_rec², σ_in²/N_in).
        boundary: (T+1,) Σ^{-1,s-1} = (1-α)^s σ_h0² of a diagonal pair.
        decay_powers: (T,) (1-α)^{L-t'}, for Π^{L,t'} = (1-α)^{L-t'} Π^{L,L}.
        activation, nodes, weights: RELU or TANH, and the Gauss–Hermite rule (tanh only).
        out: (3, B, B) output Θ_m_rec, Θ_m_in, σ_out² K^{L,L}.
        store: (Σ, K, K̇, Ω, Π, Γ) full (·, ·, B, B) arrays to fill, or six empty arrays.
    """
    decay, decay2, a2, s_rec2, s_out2, xi_mean, a2_s_rec2, scale = prm
    n_steps, n_in = x_t.shape[0], x_t.shape[1]
    slots = n_steps + 1
    last = n_steps - 1
    width = 1
    for block in range(blocks.shape[0]):
        width = max(width, blocks[block, 2])
    # Scratch, (time, time, pair) with the pair innermost: about 7 (T+1)² width doubles.
    sigma = np.zeros((slots, slots, width))
    kern = np.zeros((slots, slots, width))
    kdot = np.zeros((slots, slots, width))
    omega = np.zeros((n_steps, n_steps, width))
    pi = np.zeros((n_steps, n_steps, width))
    gamma = np.zeros((max(last, 0), max(last, 0), width))
    gram = np.zeros((n_steps, n_steps, width))
    batch = x_t.shape[2]
    row_gram = np.zeros((n_steps, n_steps, 0 if diagonal else batch))
    row_of = -1
    var_l = np.zeros((slots, width))
    var_r = np.zeros((slots, width))
    row_carry = np.zeros((n_steps, width))
    col_carry = np.zeros((n_steps, width))
    scan = np.zeros(width)
    gram_sum = np.zeros(width)
    grids = (sigma, kern, kdot, omega, pi, gamma)
    storing = store[0].size > 0

    for block in range(blocks.shape[0]):
        first, second, n = blocks[block, 0], blocks[block, 1], blocks[block, 2]
        for p in range(n):
            for s in range(slots):
                var_l[s, p] = variances[s, first + p if diagonal else first]
                var_r[s, p] = variances[s, second + p]
        # The input Gram products of the block: of a row of pairs (first, b >= second) at once,
        # which keeps the innermost loops long.  (Views from the offsets, so that the innermost
        # indices count from 0 and need no negative-index handling.)
        if diagonal:
            for t in range(n_steps):
                for tp in range(n_steps):
                    for p in range(n):
                        gram[t, tp, p] = 0.0
                    for k in range(n_in):
                        left = x_t[t, k, first:]
                        right = x_t[tp, k, second:]
                        for p in range(n):
                            gram[t, tp, p] += left[p] * right[p]
                    for p in range(n):
                        gram[t, tp, p] *= scale
        else:
            if first != row_of:
                row_of = first
                for t in range(n_steps):
                    for tp in range(n_steps):
                        target = row_gram[t, tp, second:]
                        for q in range(target.size):
                            target[q] = 0.0
                        k = 0
                        while k + 1 < n_in:  # two inputs per sweep, summed in order
                            value_0, value_1 = x[t, first, k], x[t, first, k + 1]
                            source_0 = x_t[tp, k, second:]
                            source_1 = x_t[tp, k + 1, second:]
                            for q in range(target.size):
                                target[q] = (
                                    target[q] + value_0 * source_0[q]
                                ) + value_1 * source_1[q]
                            k += 2
                        if k < n_in:
                            value_0 = x[t, first, k]
                            source_0 = x_t[tp, k, second:]
                            for q in range(target.size):
                                target[q] += value_0 * source_0[q]
                        for q in range(target.size):
                            target[q] *= scale
            for t in range(n_steps):
                for tp in range(n_steps):
                    source = row_gram[t, tp, second:]
                    for p in range(n):
                        gram[t, tp, p] = source[p]

        # ---- forward.  Slot 0 is h^{-1}: Σ^{-1,s-1} = (1-α)^s σ_h0² δ_{ab}.
        for s in range(slots):
            value = boundary[s] if diagonal else 0.0
            for p in range(n):
                sigma[0, s, p] = value
                sigma[s, 0, p] = value
        for t in range(slots):
            # K, K̇ at slots (t, j) and (j, t), j <= t, eq. (5.3): one arccos for both.
            for entry in range(2 * t + 1):
                s, j = (t, entry) if entry <= t else (entry - t - 1, t)
                if activation == RELU:
                    for p in range(n):
                        norm = np.sqrt(var_l[s, p] * var_r[j, p])
                        live = norm > 0.0
                        c = min(max(sigma[s, j, p] / norm, -1.0), 1.0) if live else 0.0
                        angle = np.pi - _arccos(c)
                        k = norm / TWO_PI * (c * angle + np.sqrt(1.0 - c * c))
                        kern[s, j, p] = k if live else 0.0
                        kdot[s, j, p] = angle / TWO_PI if live else 0.0
                else:
                    for p in range(n):
                        kern[s, j, p], kdot[s, j, p] = _tanh_pair(
                            sigma[s, j, p], var_l[s, p], var_r[j, p], nodes, weights
                        )
            if t == n_steps:
                break
            # Ω^{t,j} and Ω^{j,t}, eq. (5.4).
            for j in range(t + 1):
                for p in range(n):
                    omega[t, j, p] = s_rec2 * kern[t, j, p] + gram[t, j, p]
                    omega[j, t, p] = s_rec2 * kern[j, t, p] + gram[j, t, p]
            if diagonal:
                for p in range(n):
                    omega[t, t, p] += xi_mean * kern[t, t, p]
            # Column t, entries (j, t), j < t: C scanned down the column (ending in C^{t,t}),
            # A carried from column t-1 (row_carry[j] = A^{j,t-1}).
            for p in range(n):
                scan[p] = omega[0, t, p]
            for j in range(t + 1):
                if j > 0:
                    for p in range(n):
                        scan[p] = omega[j, t, p] + decay * scan[p]
                if j < t:
                    for p in range(n):
                        a_sum = omega[j, t, p] + decay * row_carry[j, p]
                        row_carry[j, p] = a_sum
                        sigma[j + 1, t + 1, p] = decay2 * sigma[j, t, p] + a2 * (
                            a_sum + scan[p] - omega[j, t, p]
                        )
            for p in range(n):
                col_carry[t, p] = scan[p]
            # Row t, entries (t, j), j <= t: A scanned along the row, C carried from row t-1
            # (col_carry[j] = C^{t-1,j}).
            for p in range(n):
                scan[p] = omega[t, 0, p]
            for j in range(t + 1):
                if j > 0:
                    for p in range(n):
                        scan[p] = omega[t, j, p] + decay * scan[p]
                if j < t:
                    for p in range(n):
                        col_carry[j, p] = omega[t, j, p] + decay * col_carry[j, p]
                for p in range(n):  # col_carry[t] = C^{t,t} from the column pass
                    sigma[t + 1, j + 1, p] = decay2 * sigma[t, j, p] + a2 * (
                        scan[p] + col_carry[j, p] - omega[t, j, p]
                    )
            for p in range(n):
                row_carry[t, p] = scan[p]
            if diagonal:  # the pair's own variance Σ^{t,t}(x_a, x_a) feeds the next level
                for p in range(n):
                    var_l[t + 1, p] = sigma[t + 1, t + 1, p]
                    var_r[t + 1, p] = sigma[t + 1, t + 1, p]

        # ---- backward: Π^{L,L} = σ_out² K̇^{L,L}, Π^{L,t'} = Π^{t',L} = (1-α)^{L-t'} Π^{L,L}.
        for p in range(n):
            pi[last, last, p] = s_out2 * kdot[n_steps, n_steps, p]
        for j in range(n_steps):
            for p in range(n):
                value = decay_powers[j] * pi[last, last, p]
                pi[last, j, p] = value
                pi[j, last, p] = value
        for t in range(last - 1, -1, -1):
            for j in range(t, last):
                for p in range(n):
                    gamma[t, j, p] = s_rec2 * kdot[t + 1, j + 1, p] * pi[t + 1, j + 1, p]
                    gamma[j, t, p] = s_rec2 * kdot[j + 1, t + 1, p] * pi[j + 1, t + 1, p]
            # Column t, entries (j, t), j > t: E scanned up the column (ending in E^{t,t}),
            # D carried from column t+1 (row_carry[j] = D^{j,t+1}).
            for p in range(n):
                scan[p] = gamma[last - 1, t, p]
            for j in range(last - 1, t - 1, -1):
                if j < last - 1:
                    for p in range(n):
                        scan[p] = gamma[j, t, p] + decay * scan[p]
                if j > t:
                    for p in range(n):
                        d_sum = gamma[j, t, p] + decay * row_carry[j, p]
                        row_carry[j, p] = d_sum
                        pi[j, t, p] = decay2 * pi[j + 1, t + 1, p] + a2 * (
                            d_sum + scan[p] - gamma[j, t, p]
                        )
            for p in range(n):
                col_carry[t, p] = scan[p]
            # Row t, entries (t, j), j >= t: D scanned along the row, E carried from row t+1
            # (col_carry[j] = E^{t+1,j}).
            for p in range(n):
                scan[p] = gamma[t, last - 1, p]
            for j in range(last - 1, t - 1, -1):
                if j < last - 1:
                    for p in range(n):
                        scan[p] = gamma[t, j, p] + decay * scan[p]
                if j > t:
                    for p in range(n):
                        col_carry[j, p] = gamma[t, j, p] + decay * col_carry[j, p]
                for p in range(n):  # col_carry[t] = E^{t,t} from the column pass
                    pi[t, j, p] = decay2 * pi[t + 1, j + 1, p] + a2 * (
                        scan[p] + col_carry[j, p] - gamma[t, j, p]
                    )
            for p in range(n):
                row_carry[t, p] = scan[p]

        # ---- eq. (5.9).
        for p in range(n):
            scan[p] = 0.0
            gram_sum[p] = 0.0
        for t in range(n_steps):
            for j in range(n_steps):
                for p in range(n):
                    scan[p] += pi[t, j, p] * kern[t, j, p]
                    gram_sum[p] += pi[t, j, p] * gram[t, j, p]
        for p in range(n):
            a = first + p if diagonal else first
            b = second + p
            values = (a2_s_rec2 * scan[p], a2 * gram_sum[p], s_out2 * kern[n_steps, n_steps, p])
            for index in range(3):
                out[index, a, b] = values[index]
                out[index, b, a] = values[index]
            if diagonal:
                for s in range(slots):
                    variances[s, a] = var_l[s, p]
        if storing:  # the full intermediates, with their mirrors (b, a)
            for index in range(6):
                grid = grids[index]
                full = store[index]
                for s in range(grid.shape[0]):
                    for j in range(grid.shape[1]):
                        for p in range(n):
                            a = first + p if diagonal else first
                            b = second + p
                            full[s, j, a, b] = grid[s, j, p]
                            if not diagonal:
                                full[j, s, b, a] = grid[s, j, p]


@numba.njit(**_JIT)
def no_leak_blocks(
    x, x_t, blocks, variances, diagonal, prm, activation, nodes, weights, out, store
):
    """The α = 1 kernels of the sample pairs of ``blocks``, diagonal in time (docs/model.md
    eq. (5.10)), writing Θ_m_rec, Θ_m_in and σ_out² K^{L,L} into ``out`` at (a, b) and (b, a).

    Per pair: Σ^{t,t} = Ω^{t,t} = σ_rec² K^{t-1,t-1} + (σ_in²/N_in) x_a(t)·x_b(t)
    [+ E[Ξ̃] K^{t-1,t-1} on a diagonal pair], K, K̇ by eq. (5.3);
    Π^{L,L} = σ_out² K̇^{L,L}, Π^{t,t} = σ_rec² K̇^{t,t} Π^{t+1,t+1};
    Θ_m_rec = σ_rec² Σ_t Π^{t,t} K^{t-1,t-1}, Θ_m_in = Σ_t Π^{t,t} (σ_in²/N_in) x_a(t)·x_b(t).

    Args:
        As :func:`pair_blocks` (``prm`` the same tuple; 1-α = 0 makes Σ^{-1,-1} = σ_h0² δ_ab
        the only boundary term), but ``store`` holds the time-diagonal (Σ, K, K̇) as
        (T+1, B, B) and Π as (T, B, B) arrays, or four empty arrays.
    """
    s_rec2, s_out2, xi_mean, scale = prm[3], prm[4], prm[5], prm[7]
    n_steps, n_in = x_t.shape[0], x_t.shape[1]
    slots = n_steps + 1
    width = 1
    for block in range(blocks.shape[0]):
        width = max(width, blocks[block, 2])
    sigma = np.zeros((slots, width))
    kern = np.zeros((slots, width))
    kdot = np.zeros((slots, width))
    pi = np.zeros((n_steps, width))
    gram = np.zeros((n_steps, width))
    var_l = np.zeros((slots, width))
    var_r = np.zeros((slots, width))
    grids = (sigma, kern, kdot, pi)
    storing = store[0].size > 0
    for block in range(blocks.shape[0]):
        first, second, n = blocks[block, 0], blocks[block, 1], blocks[block, 2]
        for p in range(n):
            for s in range(slots):
                var_l[s, p] = variances[s, first + p if diagonal else first]
                var_r[s, p] = variances[s, second + p]
        for t in range(n_steps):
            for p in range(n):
                gram[t, p] = 0.0
            for k in range(n_in):
                right = x_t[t, k, second:]
                if diagonal:
                    left = x_t[t, k, first:]
                    for p in range(n):
                        gram[t, p] += left[p] * right[p]
                else:
                    value = x[t, first, k]
                    for p in range(n):
                        gram[t, p] += value * right[p]
            for p in range(n):
                gram[t, p] *= scale
        for p in range(n):
            sigma[0, p] = var_l[0, p] if diagonal else 0.0
        for s in range(slots):
            if activation == RELU:
                for p in range(n):
                    norm = np.sqrt(var_l[s, p] * var_r[s, p])
                    live = norm > 0.0
                    c = min(max(sigma[s, p] / norm, -1.0), 1.0) if live else 0.0
                    angle = np.pi - _arccos(c)
                    k = norm / TWO_PI * (c * angle + np.sqrt(1.0 - c * c))
                    kern[s, p] = k if live else 0.0
                    kdot[s, p] = angle / TWO_PI if live else 0.0
            else:
                for p in range(n):
                    kern[s, p], kdot[s, p] = _tanh_pair(
                        sigma[s, p], var_l[s, p], var_r[s, p], nodes, weights
                    )
            if s == n_steps:
                break
            for p in range(n):
                sigma[s + 1, p] = s_rec2 * kern[s, p] + gram[s, p]
            if diagonal:
                for p in range(n):
                    sigma[s + 1, p] += xi_mean * kern[s, p]
                    var_l[s + 1, p] = sigma[s + 1, p]
                    var_r[s + 1, p] = sigma[s + 1, p]
        for p in range(n):
            pi[n_steps - 1, p] = s_out2 * kdot[n_steps, p]
        for t in range(n_steps - 2, -1, -1):
            for p in range(n):
                pi[t, p] = s_rec2 * kdot[t + 1, p] * pi[t + 1, p]
        for p in range(n):
            m_rec = 0.0
            m_in = 0.0
            for t in range(n_steps):
                m_rec += pi[t, p] * kern[t, p]
                m_in += pi[t, p] * gram[t, p]
            a = first + p if diagonal else first
            b = second + p
            values = (s_rec2 * m_rec, m_in, s_out2 * kern[n_steps, p])
            for index in range(3):
                out[index, a, b] = values[index]
                out[index, b, a] = values[index]
            if diagonal:
                for s in range(slots):
                    variances[s, a] = var_l[s, p]
            if storing:
                for index in range(4):
                    grid = grids[index]
                    for s in range(grid.shape[0]):
                        store[index][s, a, b] = grid[s, p]
                        store[index][s, b, a] = grid[s, p]
