"""Numba-jitted forward-only passes for evaluation: the mean-field readout and sampled networks.

Nothing of the trajectory is stored: a pass keeps the current state, rates and squared rates of
its chunk, (C, N) each, and writes only the readout. Shapes: T steps, C samples in the chunk, N
recurrent units, K inputs, O outputs. The functions release the GIL, so that chunks (or sampled
networks) run on separate cores, and compile with the flags of ``dynamics/_kernels.py``, whose
elementwise arithmetic the mean-field pass repeats operation for operation.

Sampled weights are drawn inside the kernels from the counter-based stream of
``dynamics/_random.py``: w = m + √Ξ n if u > π, else exactly 0, with n a standard normal and u a
uniform in [0, 1). The normals and the uniforms of row i (postsynaptic unit) of a layer are the
rows ``(network, step, code)`` of the stream, code = kind · 2³⁰ + layer · 2²⁸ + i with kind 0
(normals) or 1 (uniforms) and layer 0 (input), 1 (recurrent) or 2 (output), index j the
presynaptic unit. Every weight is therefore a pure function of (key, network, step, layer, i, j).
"""

from __future__ import annotations

import numba
import numpy as np

from ._kernels import FEW_INPUTS, RELU
from ._random import fill_normal_rows, fill_normals, fill_uniforms, normal_rows_workspace

#: Rows of one layer: the row index must fit below the layer bits of the row code.
MAX_ROWS = 1 << 28
#: How sampled weights are obtained: fixed arrays, one draw (step 0), or a draw every step.
FIXED, QUENCHED, PER_STEP = 0, 1, 2
#: Samples per block of the evaluation passes: a block's work arrays stay in the core's cache, and
#: OpenBLAS multiplies such small blocks fastest (measured: about 30 % faster than 500 rows).
BLOCK = 64
#: Where a noise term comes from: absent (zero), an array, or a counter-based stream.
NONE, ARRAY, STREAM = 0, 1, 2

_FLAGS = {"nsz", "arcp", "contract"}


@numba.njit(nogil=True, cache=True, inline="always")
def _activate(value, activation, zero):
    return (value if value > zero else zero) if activation == RELU else np.tanh(value)


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _update(state, mean, mean_in, var, var_in, eps, b, i, alpha, leak):
    """(1 − α) h + α (G + ε Δ) at [b, i], Δ = √(var + var_in) (0 where that is not positive),
    written as in ``dynamics._kernels.forward_chunk``; ``leak`` = 1 − α computed as there."""
    zero = alpha - alpha
    variance = var[b, i] + var_in[b, i]
    sd = np.sqrt(variance) if variance > zero else zero
    return leak * state[b, i] + alpha * (mean[b, i] + mean_in[b, i] + eps[b, i] * sd)


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _few_inputs(x, t, first, mu_in_t, var_in_t, fluctuation, mean_in, var_in):
    """μ_in x(t) and v_in x(t)² of the chunk for a few inputs, summed input by input as in
    ``dynamics._kernels.forward_chunk``."""
    zero = mean_in.dtype.type(0.0)
    chunk, n_rec = mean_in.shape
    for b in range(chunk):
        for i in range(n_rec):
            mean_in[b, i] = zero
            var_in[b, i] = zero
        for k in range(x.shape[2]):
            value = x[t, first + b, k]
            for i in range(n_rec):
                mean_in[b, i] += value * mu_in_t[k, i]
            if fluctuation:
                value_sq = value * value
                for i in range(n_rec):
                    var_in[b, i] += value_sq * var_in_t[k, i]


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _step_block(
    mean,
    var,
    mean_in,
    var_in,
    eps,
    noise,
    with_noise,
    activation,
    alpha,
    leak,
    state,
    rate,
    rate_sq,
    x_col,
    mu_in_t,
    var_in_t,
):
    """One step of the chunk: h ← (1 − α) h + α (G + ε Δ) [+ noise], r = f(h), r², over (C, N)
    arrays, as whole-chunk loops without per-row views (which cost reference counting) and,
    for ReLU, branch-free, so that LLVM vectorises them. With a single input ``x_col`` (C,) of
    this step (else empty), ReLU and no state noise, the input moments μ_in x, v_in x² are formed
    here instead of in ``mean_in``, ``var_in``. Returns whether every ε and noise value was
    finite."""
    zero = alpha - alpha
    finite = True
    chunk, n_rec = state.shape
    if activation == RELU and with_noise:
        for b in range(chunk):
            for i in range(n_rec):
                value = _update(state, mean, mean_in, var, var_in, eps, b, i, alpha, leak)
                finite &= np.isfinite(eps[b, i]) & np.isfinite(noise[b, i])
                value += noise[b, i]
                state[b, i] = value
                value = value if value > zero else zero
                rate[b, i] = value
                rate_sq[b, i] = value * value
    elif activation == RELU and x_col.shape[0] > 0:
        for b in range(chunk):
            x_b = x_col[b]
            x_b_sq = x_b * x_b
            for i in range(n_rec):
                m_in = zero + x_b * mu_in_t[0, i]  # as _few_inputs sums it, from 0
                v_in = zero + x_b_sq * var_in_t[0, i]
                variance = var[b, i] + v_in
                sd = np.sqrt(variance) if variance > zero else zero
                value = leak * state[b, i] + alpha * (mean[b, i] + m_in + eps[b, i] * sd)
                finite &= np.isfinite(eps[b, i])
                state[b, i] = value
                value = value if value > zero else zero
                rate[b, i] = value
                rate_sq[b, i] = value * value
    elif activation == RELU:
        for b in range(chunk):
            for i in range(n_rec):
                value = _update(state, mean, mean_in, var, var_in, eps, b, i, alpha, leak)
                finite &= np.isfinite(eps[b, i])
                state[b, i] = value
                value = value if value > zero else zero
                rate[b, i] = value
                rate_sq[b, i] = value * value
    else:
        for b in range(chunk):
            for i in range(n_rec):
                value = _update(state, mean, mean_in, var, var_in, eps, b, i, alpha, leak)
                finite &= np.isfinite(eps[b, i])
                if with_noise:
                    finite &= np.isfinite(noise[b, i])
                    value += noise[b, i]
                state[b, i] = value
                value = np.tanh(value)
                rate[b, i] = value
                rate_sq[b, i] = value * value
    return finite


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FLAGS)
def meanfield_readout_chunk(
    x,
    mu_in_t,
    var_in_t,
    mu_rec_t,
    var_rec_t,
    eps_source,
    eps,
    noise_source,
    noise,
    keys,
    blocks,
    noise_scale,
    h0,
    first,
    alpha,
    activation,
    mu_out_t,
    var_out_t,
    read_all,
    rate,
    rate_sq,
    out_mean,
    out_var,
):
    """Mean-field pass of docs/model.md §1.3 over T steps for P networks on the same inputs and
    draws, keeping only the current state.

        h(t+1) = (1 − α) h(t) + α (G(t) + ε(t) Δ(t)) + noise(t),   r = f(h),
        G = μ_rec r + μ_in x,   Δ² = v_rec r² + v_in x²

    with the arithmetic of ``dynamics._kernels.forward_chunk`` in trace mode, so that the rates
    agree with :func:`dynamics.mean_field_forward` bit for bit. ε(t) and ξ(t) are drawn once per
    step and shared by the P networks, whose products and updates are those of a pass of each
    network alone (the same GEMM shapes and operations): network p's rates do not depend on the
    other networks.

    Args:
        x: (T, B, K) inputs of the whole batch; the chunk is samples ``first … first + C − 1``.
        mu_in_t, var_in_t: (P, K, N) transposed input moments. mu_rec_t, var_rec_t: (P, N, N).
        eps_source: NONE (ε ≡ 0: the variance products are skipped), ARRAY or STREAM.
        eps: (T, B, N) standard normals when eps_source is ARRAY, else unread.
        noise_source: NONE, ARRAY (``noise`` (T, B, N), already scaled by √(2α)σ_rec) or
            STREAM (scaled here by ``noise_scale``).
        keys: (2, 2) uint32 stream keys, row 0 of ε, row 1 of ξ. blocks: (2,) uint32, their
            blocks; ε(t) of sample b is row (b, t, block) of its stream, b counted in the batch.
        h0: (P, C, N) initial states. alpha: leak. activation: RELU or TANH.
        mu_out_t, var_out_t: (P, N, O) transposed readout moments.
        read_all: write the readout moments of every step (readout "all").
        rate, rate_sq: (P, C, N) outputs, r(T) and r(T)² at the end.
        out_mean, out_var: (P, T, C, O) outputs when ``read_all``: r(t+1) μ_outᵀ and
            r(t+1)² v_outᵀ (out_var may be (P, 0, C, O): not computed); unwritten otherwise.

    Returns:
        Whether every ε and ξ read was finite.
    """
    n_steps = x.shape[0]
    n_nets, chunk, n_rec = h0.shape
    n_in = x.shape[2]
    fluctuation = eps_source != NONE
    zero = alpha - alpha  # constants in the arrays' dtype, computed as in dynamics._kernels
    leak = alpha / alpha - alpha
    dtype = rate.dtype
    mean = np.empty((chunk, n_rec), dtype=dtype)
    var = np.zeros((chunk, n_rec), dtype=dtype)
    mean_in = np.zeros((chunk, n_rec), dtype=dtype)
    var_in = np.zeros((chunk, n_rec), dtype=dtype)
    x_now = np.empty((chunk, n_in), dtype=dtype)
    x_sq = np.empty((chunk, n_in), dtype=dtype)
    state = np.empty((n_nets, chunk, n_rec), dtype=dtype)
    eps_now = np.zeros((chunk, n_rec), dtype=dtype)  # stays 0 without ε
    # one input (pixel MNIST), ReLU, no state noise: the input term is formed in the update
    one_input = n_in == 1 and activation == RELU and noise_source == NONE
    x_col = np.zeros(chunk, dtype=dtype)
    noise_now = np.zeros((chunk, n_rec), dtype=dtype)
    words, flags, pending = normal_rows_workspace(chunk, n_rec)
    finite = True
    for p in range(n_nets):
        for b in range(chunk):
            for i in range(n_rec):
                value = h0[p, b, i]
                state[p, b, i] = value
                value = _activate(value, activation, zero)
                rate[p, b, i] = value
                rate_sq[p, b, i] = value * value
    for t in range(n_steps):
        if n_in > FEW_INPUTS:
            for b in range(chunk):
                for k in range(n_in):
                    value = x[t, first + b, k]
                    x_now[b, k] = value
                    x_sq[b, k] = value * value
        elif one_input:  # read in the update itself
            for b in range(chunk):
                x_col[b] = x[t, first + b, 0]
        step = np.uint32(t)
        if eps_source == STREAM:
            fill_normal_rows(
                eps_now, first, step, blocks[0], keys[0, 0], keys[0, 1], words, flags, pending
            )
        elif eps_source == ARRAY:
            eps_now[:] = eps[t, first : first + chunk]
        if noise_source == STREAM:
            fill_normal_rows(
                noise_now, first, step, blocks[1], keys[1, 0], keys[1, 1], words, flags, pending
            )
            for b in range(chunk):
                for i in range(n_rec):
                    noise_now[b, i] *= noise_scale
        elif noise_source == ARRAY:
            noise_now[:] = noise[t, first : first + chunk]
        for p in range(n_nets):
            rate_p = rate[p]
            rate_sq_p = rate_sq[p]
            np.dot(rate_p, mu_rec_t[p], mean)
            if fluctuation:
                np.dot(rate_sq_p, var_rec_t[p], var)
            if n_in > FEW_INPUTS:
                np.dot(x_now, mu_in_t[p], mean_in)
                if fluctuation:
                    np.dot(x_sq, var_in_t[p], var_in)
            elif not one_input:  # a GEMM call costs more than the few products it would do
                _few_inputs(x, t, first, mu_in_t[p], var_in_t[p], fluctuation, mean_in, var_in)
            finite &= _step_block(
                mean,
                var,
                mean_in,
                var_in,
                eps_now,
                noise_now,
                noise_source != NONE,
                activation,
                alpha,
                leak,
                state[p],
                rate_p,
                rate_sq_p,
                x_col if one_input else x_col[:0],
                mu_in_t[p],
                var_in_t[p],
            )
            if read_all:
                np.dot(rate_p, mu_out_t[p], out_mean[p, t])
                if out_var.shape[1] > 0:
                    np.dot(rate_sq_p, var_out_t[p], out_var[p, t])
    return finite


@numba.njit(nogil=True, cache=True)
def draw_layer(dest, m, pi, sd, k0, k1, network, step, layer, normals, uniforms, words):
    """Draw one layer's weights into ``dest`` (n_post, n_pre), of the layer's shape.

    dest[i, j] = m[i, j] + sd[i, j] n_j if u_j > π[i, j] else 0, with (n, u) the rows of
    postsynaptic unit i (module docstring). ``normals``, ``uniforms`` (≥ n_pre,) float64 and
    ``words`` (≥ n_pre + 1,) uint64 are work arrays. Compiled without fast-math, so that a
    weight is the float64 value m + √Ξ n (then rounded to the layer's dtype), as in NumPy.
    """
    n_post, n_pre = m.shape
    zero = m.dtype.type(0.0)
    normals = normals[:n_pre]
    uniforms = uniforms[:n_pre]
    for i in range(n_post):
        row = np.uint32(layer << 28 | i)
        fill_normals(normals, network, step, row, k0, k1, words)
        fill_uniforms(uniforms, network, step, row | np.uint32(1 << 30), k0, k1)
        for j in range(n_pre):
            dest[i, j] = m[i, j] + sd[i, j] * normals[j] if uniforms[j] > pi[i, j] else zero


_TILE = 16


@numba.njit(nogil=True, cache=True)
def _draw_transposed(
    dest_t, scratch, m, pi, sd, k0, k1, network, step, layer, normals, uniforms, words
):
    """:func:`draw_layer` into ``scratch`` (n_post, n_pre), then its transpose into ``dest_t``
    (n_pre, n_post), the layout of the GEMMs, tile by tile (cheaper than strided stores)."""
    draw_layer(scratch, m, pi, sd, k0, k1, network, step, layer, normals, uniforms, words)
    n_post, n_pre = scratch.shape
    for i0 in range(0, n_post, _TILE):
        for j0 in range(0, n_pre, _TILE):
            for i in range(i0, min(i0 + _TILE, n_post)):
                for j in range(j0, min(j0 + _TILE, n_pre)):
                    dest_t[j, i] = scratch[i, j]


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy", fastmath=_FLAGS)
def _sampled_block(mean, mean_in, noise, with_noise, activation, alpha, leak, state, rate, rows):
    """h ← (1 − α) h + α (W r + W_in x) [+ noise], r = f(h) for the first ``rows`` samples of a
    block, as whole-block loops, branch-free for ReLU (vectorised). Returns whether every
    noise value read was finite."""
    zero = alpha - alpha
    finite = True
    n_rec = state.shape[1]
    for b in range(rows):
        if with_noise:
            for i in range(n_rec):
                finite &= np.isfinite(noise[b, i])
                state[b, i] = (
                    leak * state[b, i] + alpha * (mean[b, i] + mean_in[b, i]) + noise[b, i]
                )
        else:
            for i in range(n_rec):
                state[b, i] = leak * state[b, i] + alpha * (mean[b, i] + mean_in[b, i])
        if activation == RELU:
            for i in range(n_rec):
                value = state[b, i]
                rate[b, i] = value if value > zero else zero
        else:
            for i in range(n_rec):
                rate[b, i] = np.tanh(state[b, i])
    return finite


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath=_FLAGS)
def sampled_chunk(
    x,
    m_in,
    pi_in,
    sd_in,
    m_rec,
    pi_rec,
    sd_rec,
    m_out,
    pi_out,
    sd_out,
    weight_mode,
    k0,
    k1,
    network,
    noise_source,
    noise,
    noise_key,
    noise_block,
    noise_scale,
    h0,
    first,
    alpha,
    activation,
    read_all,
    z,
    rates,
):
    """A network with weights drawn from the ensemble, run over T steps (docs/model.md §2.6):

        h(t+1) = (1 − α) h(t) + α (W r(t) + W_in x(t)) + noise(t),   r = f(h),   z = W_out r

    Args:
        x: (T, B, K) inputs of the whole batch; the chunk is samples ``first … first + C − 1``.
        m_*, pi_*, sd_*: the layers' m, π and √Ξ ((N, K), (N, N), (O, N)).
        weight_mode: FIXED (W = m, nothing drawn), QUENCHED (one draw, the stream's step 0) or
            PER_STEP (a draw at every step t, the readout of step t with step t's W_out).
        k0, k1: uint32 key of the weight stream. network: uint32, the network's index in it.
        noise_source: NONE, ARRAY (``noise`` (T, B, N), already scaled) or STREAM (ξ(t) of sample
            b is row (b, t, noise_block) of the stream keyed by ``noise_key`` (2,) uint32,
            scaled here by ``noise_scale``).
        h0: (C, N) initial state. alpha: leak. activation: RELU or TANH.
        read_all: readout at every step (z (T, C, O)) or at the last one only (z (1, C, O)).
        z: the readout, written in place.
        rates: (T + 1, C, N) output of the rates, or (0, C, N) not to store them.

    The weights of a step are drawn once for the chunk, which is then run in blocks of at most
    :data:`BLOCK` samples (padded rows are computed and discarded).

    Returns:
        Whether every ξ read was finite.
    """
    n_steps = x.shape[0]
    chunk, n_rec = h0.shape
    n_in = x.shape[2]
    n_out = m_out.shape[0]
    dtype = h0.dtype
    zero = alpha - alpha
    leak = alpha / alpha - alpha
    store = rates.shape[0] > 0
    w_in_t = np.empty((n_in, n_rec), dtype=dtype)  # the weights transposed, as the GEMMs take them
    w_rec_t = np.empty((n_rec, n_rec), dtype=dtype)
    w_out_t = np.empty((n_rec, n_out), dtype=dtype)
    w_in = np.empty((n_rec, n_in), dtype=dtype)  # drawing scratch, the layers' shapes
    w_rec = np.empty((n_rec, n_rec), dtype=dtype)
    w_out = np.empty((n_out, n_rec), dtype=dtype)
    size = max(n_in, n_rec)
    normals = np.empty(size, dtype=np.float64)
    uniforms = np.empty(size, dtype=np.float64)
    words = np.empty(size + 1, dtype=np.uint64)
    if weight_mode == FIXED:
        w_in_t[:] = m_in.T
        w_rec_t[:] = m_rec.T
        w_out_t[:] = m_out.T
    elif weight_mode == QUENCHED:
        step0 = np.uint32(0)
        _draw_transposed(
            w_in_t, w_in, m_in, pi_in, sd_in, k0, k1, network, step0, 0, normals, uniforms, words
        )
        _draw_transposed(
            w_rec_t,
            w_rec,
            m_rec,
            pi_rec,
            sd_rec,
            k0,
            k1,
            network,
            step0,
            1,
            normals,
            uniforms,
            words,
        )
        _draw_transposed(
            w_out_t,
            w_out,
            m_out,
            pi_out,
            sd_out,
            k0,
            k1,
            network,
            step0,
            2,
            normals,
            uniforms,
            words,
        )
    # the chunk in blocks of at most BLOCK rows, padded to equal sizes, that stay in cache
    n_blocks = (chunk + BLOCK - 1) // BLOCK
    rows = (chunk + n_blocks - 1) // n_blocks
    state = np.zeros((n_blocks, rows, n_rec), dtype=dtype)
    rate = np.zeros((n_blocks, rows, n_rec), dtype=dtype)
    mean = np.empty((rows, n_rec), dtype=dtype)
    mean_in = np.zeros((rows, n_rec), dtype=dtype)
    x_now = np.zeros((rows, n_in), dtype=dtype)
    out = np.empty((rows, n_out), dtype=dtype)
    noise_now = np.zeros((rows, n_rec), dtype=dtype)
    noise_workspace = normal_rows_workspace(rows, n_rec)
    finite = True
    for b in range(chunk):
        for i in range(n_rec):
            value = h0[b, i]
            state[b // rows, b % rows, i] = value
            rate[b // rows, b % rows, i] = _activate(value, activation, zero)
            if store:
                rates[0, b, i] = rate[b // rows, b % rows, i]
    for t in range(n_steps):
        step = np.uint32(t)
        if weight_mode == PER_STEP:
            _draw_transposed(
                w_in_t, w_in, m_in, pi_in, sd_in, k0, k1, network, step, 0, normals, uniforms, words
            )
            _draw_transposed(
                w_rec_t,
                w_rec,
                m_rec,
                pi_rec,
                sd_rec,
                k0,
                k1,
                network,
                step,
                1,
                normals,
                uniforms,
                words,
            )
        readout = read_all or t == n_steps - 1
        if readout and weight_mode == PER_STEP:
            _draw_transposed(
                w_out_t,
                w_out,
                m_out,
                pi_out,
                sd_out,
                k0,
                k1,
                network,
                step,
                2,
                normals,
                uniforms,
                words,
            )
        for block in range(n_blocks):
            start = block * rows
            valid = min(rows, chunk - start)
            np.dot(rate[block], w_rec_t, mean)
            if n_in > FEW_INPUTS:
                for r in range(valid):
                    for k in range(n_in):
                        x_now[r, k] = x[t, first + start + r, k]
                np.dot(x_now, w_in_t, mean_in)
            else:
                for r in range(valid):
                    for i in range(n_rec):
                        mean_in[r, i] = zero
                    for k in range(n_in):
                        value = x[t, first + start + r, k]
                        for i in range(n_rec):
                            mean_in[r, i] += value * w_in_t[k, i]
            if noise_source == STREAM:
                fill_normal_rows(
                    noise_now[:valid],
                    first + start,
                    step,
                    noise_block,
                    noise_key[0],
                    noise_key[1],
                    *noise_workspace,
                )
                for r in range(valid):
                    for i in range(n_rec):
                        noise_now[r, i] *= noise_scale
            elif noise_source == ARRAY:
                noise_now[:valid] = noise[t, first + start : first + start + valid]
            finite &= _sampled_block(
                mean,
                mean_in,
                noise_now,
                noise_source != NONE,
                activation,
                alpha,
                leak,
                state[block],
                rate[block],
                valid,
            )
            if store:
                rates[t + 1, start : start + valid] = rate[block, :valid]
            if readout:
                np.dot(rate[block], w_out_t, out)
                z[t if read_all else 0, start : start + valid] = out[:valid]
    return finite
