"""Numba-jitted time loops of the mean-field pass and its adjoint, for one batch chunk.

Shapes: T steps, C samples in the chunk, N recurrent units, K inputs. ``r`` has T + 1 slots; slot
0 is the initial rate and slot t + 1 the rate after step t. Each step costs two C×N×N GEMMs
forward (mean and variance paths) and two backward; the elementwise work of a step is fused into
one pass over the (C, N) tile, and only the arrays the backward pass needs are written, since the
loops are bound by memory traffic. The functions release the GIL so that batch chunks can run on
separate cores. They compile with NumPy's error model (a division by zero gives inf instead of
raising), which lets LLVM vectorise the guarded ε/Δ division; every such division here is guarded,
so results are unchanged.
"""

from __future__ import annotations

import numba
import numpy as np

from ._random import fill_normal_rows, normal_rows_workspace

#: Activation names; an activation's code inside the compiled kernels is its index here.
ACTIVATIONS = ("relu", "tanh")
RELU, TANH = 0, 1
#: Up to this many inputs, input currents are summed inline rather than by a GEMM call.
FEW_INPUTS = 4


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})
def forward_chunk(
    x,
    mu_in_t,
    var_in_t,
    mu_rec_t,
    var_rec_t,
    eps,
    noise,
    streams,
    block,
    noise_scale,
    fluctuation,
    h0,
    first,
    alpha,
    activation,
    r,
    gain,
    h,
):
    """Mean-field forward over T steps (docs/model.md §1.3), writing ``r``, ``gain`` and ``h`` in
    place.

        G(t) = μ_rec r(t) + μ_in x(t),   Δ(t)² = v_rec r(t)² + v_in x(t)²,
        h(t+1) = (1 − α) h(t) + α (G(t) + ε(t) Δ(t)) + noise(t),   r = f(h)

    The chunk is samples ``first … first + C − 1`` of the batch; ``x``, ``eps`` and ``noise`` are
    the whole batch's arrays (read in place, not copied), the outputs are the chunk's own.

    Args:
        x: (T, B, K) inputs.
        mu_in_t, var_in_t: (K, N) transposed input moments μ_inᵀ, v_inᵀ (C-contiguous).
        mu_rec_t, var_rec_t: (N, N) transposed recurrent moments μ_recᵀ, v_recᵀ.
        eps: (T, B, N) standard normals ε, or (0, B, N) to draw them from the stream.
        noise: (T, B, N) additive state noise already scaled by √(2α)σ_rec, or (0, B, N).
        streams: (S, 2) uint32 keys of the counter-based streams (dynamics/_random.py) that
            replace the arrays: row 0 draws ε when ``eps`` is empty, row 1 the state noise ξ
            (scaled by ``noise_scale``) when S = 2; (0, 2) when both are arrays. ε(t) of sample
            b is row (b, t, block) of its stream, b counted in the whole batch.
        block: uint32, the stream's block, e.g. the minibatch's index in the run.
        noise_scale: √(2α)σ_rec, of the arrays' dtype (used with a ξ stream only).
        fluctuation: False when ε ≡ 0 (``eps`` then unread): outside trace mode the variance
            products are skipped, Δ-dependent work vanishes and ``gain`` is 0, which is exact,
            since ε Δ and ε/Δ are then 0; the ordinary deterministic forward pass.
        h0: (C, N) initial state of the chunk.
        first: index of the chunk's first sample in the batch.
        alpha: leak, of the arrays' dtype. activation: RELU or TANH.
        r: (T + 1, C, N) output rates.
        gain: (T, C, N) output; ε(t)/Δ(t) (0 where Δ = 0), the factor of the fluctuation path,
            or Δ(t) itself in trace mode.
        h: (T + 1, C, N) output states in trace mode, or (0, C, N) to skip storing them.

    Returns:
        Whether every ε and state-noise value of the chunk was finite; checking them here, as
        they are read, spares the caller a separate pass over the largest arrays.
    """
    n_steps = x.shape[0]
    chunk, n_rec = h0.shape
    n_in = x.shape[2]
    trace = h.shape[0] > 0
    variance_path = fluctuation or trace
    draw_eps = fluctuation and eps.shape[0] == 0
    draw_noise = streams.shape[0] > 1
    has_noise = noise.shape[0] > 0 or draw_noise
    fast = activation == RELU and not trace and not has_noise
    zero = alpha - alpha  # constants in the arrays' dtype: an int or float literal would
    leak = alpha / alpha - alpha  # promote float32 arithmetic to float64
    mean = np.empty((chunk, n_rec), dtype=r.dtype)
    var = np.zeros((chunk, n_rec), dtype=r.dtype)  # stays 0 without the variance path
    mean_in = np.zeros((chunk, n_rec), dtype=r.dtype)
    var_in = np.zeros((chunk, n_rec), dtype=r.dtype)
    x_now = np.empty((chunk, n_in), dtype=r.dtype)
    x_sq = np.empty((chunk, n_in), dtype=r.dtype)
    r_sq = np.empty((chunk, n_rec), dtype=r.dtype)
    state = np.empty((chunk, n_rec), dtype=r.dtype)
    eps_drawn = np.zeros((chunk, n_rec), dtype=r.dtype)  # ε ≡ 0 without fluctuation
    noise_drawn = np.empty((chunk, n_rec), dtype=r.dtype)
    words, flags, pending = normal_rows_workspace(chunk, n_rec)
    finite = True
    for b in range(chunk):
        for i in range(n_rec):
            value = h0[b, i]
            state[b, i] = value
            rate = (value if value > zero else zero) if activation == RELU else np.tanh(value)
            r[0, b, i] = rate
            r_sq[b, i] = rate * rate
            if trace:
                h[0, b, i] = value
    for t in range(n_steps):
        step = np.uint32(t)
        if draw_eps:
            k0, k1 = _key(streams, 0)
            fill_normal_rows(eps_drawn, first, step, block, k0, k1, words, flags, pending)
        if draw_noise:
            k0, k1 = _key(streams, 1)
            fill_normal_rows(noise_drawn, first, step, block, k0, k1, words, flags, pending)
            for b in range(chunk):
                for i in range(n_rec):
                    noise_drawn[b, i] *= noise_scale
        np.dot(r[t], mu_rec_t, mean)
        if variance_path:
            np.dot(r_sq, var_rec_t, var)
        if n_in > FEW_INPUTS:
            for b in range(chunk):
                for k in range(n_in):
                    value = x[t, first + b, k]
                    x_now[b, k] = value
                    x_sq[b, k] = value * value
            np.dot(x_now, mu_in_t, mean_in)
            if variance_path:
                np.dot(x_sq, var_in_t, var_in)
        for b in range(chunk):
            row_mean_in = mean_in[b]
            row_var_in = var_in[b]
            if n_in <= FEW_INPUTS:  # a GEMM call costs more than the few products it would do
                row_mean_in[:] = zero
                row_var_in[:] = zero
                for k in range(n_in):
                    value = x[t, first + b, k]
                    value_sq = value * value if variance_path else zero
                    for i in range(n_rec):
                        row_mean_in[i] += value * mu_in_t[k, i]
                        row_var_in[i] += value_sq * var_in_t[k, i]
            if fluctuation and not draw_eps:
                row_eps = eps[t, first + b]
            else:
                row_eps = eps_drawn[b]
            if has_noise and not draw_noise:
                row_noise = noise[t, first + b]
            else:
                row_noise = noise_drawn[b]  # not read without state noise
            if fast:
                finite &= _relu_training_row(
                    mean[b],
                    var[b],
                    row_mean_in,
                    row_var_in,
                    row_eps,
                    alpha,
                    leak,
                    state[b],
                    r[t + 1, b],
                    r_sq[b],
                    gain[t, b],
                )
                continue
            for i in range(n_rec):
                variance = var[b, i] + row_var_in[i]
                sd = np.sqrt(variance) if variance > zero else zero
                noise_draw = row_eps[i]
                finite &= np.isfinite(noise_draw)
                if trace:
                    gain[t, b, i] = sd
                else:
                    gain[t, b, i] = noise_draw / sd if sd > zero else zero
                value = leak * state[b, i] + alpha * (mean[b, i] + row_mean_in[i] + noise_draw * sd)
                if has_noise:
                    state_noise = row_noise[i]
                    finite &= np.isfinite(state_noise)
                    value += state_noise
                state[b, i] = value
                rate = (value if value > zero else zero) if activation == RELU else np.tanh(value)
                r[t + 1, b, i] = rate
                r_sq[b, i] = rate * rate
                if trace:
                    h[t + 1, b, i] = value
    return finite


@numba.njit(nogil=True, cache=True, inline="always")
def _key(streams, row):
    """The (k0, k1) uint32 key of stream ``row``."""
    return streams[row, 0], streams[row, 1]


@numba.njit(
    nogil=True,
    cache=True,
    inline="always",
    error_model="numpy",
    fastmath={"nsz", "arcp", "contract"},
)
def _relu_training_row(
    mean, var, mean_in, var_in, eps, alpha, leak, state, rate_out, rate_sq, gain
):
    """The fused elementwise work of one sample and step in its common case, written
    branch-free over contiguous rows so that LLVM vectorises it (ReLU, no state noise, ε/Δ
    stored for the backward pass). Returns whether every ε of the row is finite."""
    zero = alpha - alpha
    finite = True
    for i in range(state.shape[0]):
        sd = np.sqrt(max(var[i] + var_in[i], zero))
        noise_draw = eps[i]
        finite &= np.isfinite(noise_draw)
        gain[i] = noise_draw / sd if sd > zero else zero
        value = leak * state[i] + alpha * (mean[i] + mean_in[i] + noise_draw * sd)
        state[i] = value
        rate = max(value, zero)
        rate_out[i] = rate
        rate_sq[i] = rate * rate
    return finite


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"nsz", "arcp", "contract"})
def backward_chunk(
    x,
    first,
    r,
    gain,
    mu_rec,
    var_rec,
    grad_r,
    read_start,
    alpha,
    activation,
    fluctuation,
    s_mean_in,
    s_var_in,
    s_mean_rec,
    s_var_rec,
):
    """Adjoint recursion of the generalized BPTT (docs/model.md §2.1) with the gradient sums over
    time.

        δ(t) ≡ ∂L/∂h(t+1),   a(t) = δ(t) ε(t)/Δ(t) · 1[Δ(t) > 0],
        δ(t−1) = (1 − α) δ(t) + f'(h(t)) ⊙ [α (μ_recᵀ δ(t) + r(t) ⊙ v_recᵀ a(t)) + ∂L/∂r(t)],
        S_mean += δ(t) y(t)ᵀ,   S_var += a(t) (y(t)²)ᵀ   with y = r(t) (rec) or x(t) (inp).

    The sums are accumulated step by step from cache-resident tiles, so the (T, C, N) adjoints
    are never stored.

    Args:
        x: (T, B, K) inputs of the whole batch; the chunk starts at sample ``first``.
        r: (T + 1, C, N) rates of the forward pass.
        gain: (T, C, N) ε/Δ of the forward pass.
        mu_rec, var_rec: (N, N) recurrent moments (not transposed).
        grad_r: (T − read_start, C, N) readout gradients ∂L/∂r(t + 1) for steps t ≥ read_start.
        read_start: first step with a readout (T − 1 for readout "last", 0 for "all").
        alpha: leak, of the arrays' dtype. activation: RELU or TANH (f' is recovered from r).
        fluctuation: False when the forward pass had ε ≡ 0: a ≡ 0, so the variance products are
            skipped and S_var stays 0.
        s_mean_in, s_var_in: (N, K) outputs. s_mean_rec, s_var_rec: (N, N) outputs.
    """
    n_steps, chunk, n_rec = gain.shape
    n_in = x.shape[2]
    zero = alpha - alpha  # constants in the arrays' dtype (see forward_chunk)
    one = alpha / alpha
    leak = one - alpha
    delta = np.empty((chunk, n_rec), dtype=r.dtype)
    a = np.empty((chunk, n_rec), dtype=r.dtype)
    pre_sq = np.empty((chunk, n_rec), dtype=r.dtype)
    x_now = np.empty((chunk, n_in), dtype=r.dtype)
    x_sq = np.empty((chunk, n_in), dtype=r.dtype)
    back_mean = np.empty((chunk, n_rec), dtype=r.dtype)
    back_var = np.zeros((chunk, n_rec), dtype=r.dtype)  # stays 0 without fluctuation
    term_rec = np.empty((n_rec, n_rec), dtype=r.dtype)
    term_in = np.empty((n_rec, n_in), dtype=r.dtype)
    s_mean_in[:] = zero
    s_var_in[:] = zero
    s_mean_rec[:] = zero
    s_var_rec[:] = zero
    last = n_steps - 1
    for b in range(chunk):
        for i in range(n_rec):
            rate = r[n_steps, b, i]
            slope = (one if rate > zero else zero) if activation == RELU else one - rate * rate
            value = slope * grad_r[last - read_start, b, i]
            delta[b, i] = value
            a[b, i] = value * gain[last, b, i]
            pre = r[last, b, i]
            pre_sq[b, i] = pre * pre
    for t in range(last, -1, -1):
        # gradient sums of step t: presynaptic r(t) and x(t)
        np.dot(delta.T, r[t], term_rec)
        _accumulate(s_mean_rec, term_rec)
        if fluctuation:
            np.dot(a.T, pre_sq, term_rec)
            _accumulate(s_var_rec, term_rec)
        if n_in <= FEW_INPUTS:  # as in the forward pass: a GEMM call would cost more
            for b in range(chunk):
                for k in range(n_in):
                    value = x[t, first + b, k]
                    value_sq = value * value
                    for i in range(n_rec):
                        s_mean_in[i, k] += delta[b, i] * value
                        s_var_in[i, k] += a[b, i] * value_sq
        else:
            for b in range(chunk):
                for k in range(n_in):
                    value = x[t, first + b, k]
                    x_now[b, k] = value
                    x_sq[b, k] = value * value
            np.dot(delta.T, x_now, term_in)
            _accumulate(s_mean_in, term_in)
            if fluctuation:
                np.dot(a.T, x_sq, term_in)
                _accumulate(s_var_in, term_in)
        if t == 0:
            break
        # adjoint of step t − 1
        np.dot(delta, mu_rec, back_mean)
        if fluctuation:
            np.dot(a, var_rec, back_var)
        read = t - 1 - read_start
        for b in range(chunk):
            for i in range(n_rec):
                rate = r[t, b, i]
                slope = (one if rate > zero else zero) if activation == RELU else one - rate * rate
                drive = alpha * (back_mean[b, i] + rate * back_var[b, i])
                if read >= 0:
                    drive += grad_r[read, b, i]
                value = leak * delta[b, i] + slope * drive
                delta[b, i] = value
                a[b, i] = value * gain[t - 1, b, i]
                pre = r[t - 1, b, i]
                pre_sq[b, i] = pre * pre


@numba.njit(nogil=True, cache=True, inline="always")
def _accumulate(total, term):
    """``total += term`` for C-contiguous arrays of one shape, as one flat loop that LLVM
    vectorises (Numba's array expression ``+=`` on 2-D arrays does not)."""
    total_flat = total.reshape(total.size)
    term_flat = term.reshape(term.size)
    for i in range(total_flat.size):
        total_flat[i] += term_flat[i]
