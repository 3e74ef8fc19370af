"""Mean-field forward pass and generalized BPTT on (m, π, Ξ) (docs/model.md §1.3, §2.1–2.2).

The pre-activation is Gaussian by the CLT given the presynaptic rates,

    u_i(t) = G_i(t) + ε_i(t) Δ_i(t),   G = μ_rec r + μ_in x,   Δ² = v_rec r² + v_in x²,

with ε ~ N(0, 1) fresh for every unit, step and sample. With ε held fixed the loss is an ordinary
differentiable function of θ = (m, π, Ξ), and the adjoint recursion of docs/model.md §2.1 gives its
exact
(pathwise) gradient. Where Δ = 0 the fluctuation path contributes zero (docs/official-code.md §4).

Work is split over the batch into a fixed number of chunks, run on separate threads with BLAS
pinned to one thread each; the chunking depends only on the batch size, so results are
bit-for-bit repeatable on any machine.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import _kernels
from ._blas import one_blas_thread
from .layer import PARAMETER_NAMES, check_parameters, sas_moment_derivatives
from .network import LAYER_NAMES, SaSNetwork
from .noise import CounterNormals

#: Batches at least this large are split in two chunks that run on two cores.
MIN_BATCH_TO_SPLIT = 32
_THREADS = max(1, min(2, os.cpu_count() or 1))
_ACTIVATION_CODES = {"relu": _kernels.RELU, "tanh": _kernels.TANH}
_executor: ThreadPoolExecutor | None = None
_workspace = threading.local()


@dataclass
class LayerGrads:
    """Gradients of one layer's (m, π, Ξ), arrays of the layer's shape."""

    m: np.ndarray
    pi: np.ndarray
    xi: np.ndarray


@dataclass
class NetworkGrads:
    """Gradients mirroring :class:`SaSNetwork`: ``grads.rec.pi`` etc."""

    inp: LayerGrads
    rec: LayerGrads
    out: LayerGrads

    def blocks(self) -> dict[str, np.ndarray]:
        """The nine gradient arrays by block name ``"inp.m"`` … ``"out.xi"``."""
        return {
            f"{ln}.{pn}": getattr(getattr(self, ln), pn)
            for ln in LAYER_NAMES
            for pn in PARAMETER_NAMES
        }


@dataclass
class ForwardTrace:
    """Result of a mean-field forward pass.

    Attributes:
        z: readout, (B, n_out) for readout "last" or (T, B, n_out) for "all".
        h: (T + 1, B, n_rec) states; h[0] is the initial state, h[t + 1] the state after step t.
        r: (T + 1, B, n_rec) rates f(h).
        sd: (T, B, n_rec) standard deviation Δ(t) of the recurrent pre-activation.
    """

    z: np.ndarray
    h: np.ndarray
    r: np.ndarray
    sd: np.ndarray


# -- input checking ------------------------------------------------------------------------------
def _as_array(name, value, shape, dtype, check_finite=True):
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}.")
    if check_finite:
        _require_finite(name, array)
    return np.ascontiguousarray(array, dtype=dtype)


def _require_finite(name, array):
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf.")


def _check_network(net: SaSNetwork) -> None:
    if not isinstance(net, SaSNetwork):
        raise ValueError(f"net must be a SaSNetwork, got {type(net).__name__}.")
    for name, layer in net.layers().items():
        check_parameters(f"net.{name}", layer.m, layer.pi, layer.xi)


def _check_input_shape(net: SaSNetwork, x: np.ndarray) -> None:
    if x.ndim != 3 or x.shape[2] != net.n_in:
        raise ValueError(f"x has shape {x.shape}, expected (T, B, n_in) with n_in = {net.n_in}.")


def _prepare(net, x, eps, eps_out, rec_noise):
    _check_network(net)
    x = np.asarray(x)
    _check_input_shape(net, x)
    n_steps, batch, _ = x.shape
    if n_steps < 1 or batch < 1:
        raise ValueError(f"x has shape {x.shape}; it needs at least one step and one sample.")
    dtype = net.dtype
    x = _as_array("x", x, x.shape, dtype)
    if eps is not None:
        eps = _noise_argument("eps", eps, (n_steps, batch, net.n_rec), dtype)
    out_shape = net.output_shape(n_steps, batch)
    if eps_out is None:
        eps_out = np.zeros(out_shape, dtype=dtype)
    eps_out = _as_array("eps_out", eps_out, out_shape, dtype)
    if rec_noise is not None:
        rec_noise = _noise_argument("rec_noise", rec_noise, (n_steps, batch, net.n_rec), dtype)
    h0 = np.asarray(net.h0, dtype=dtype)
    if h0.ndim == 2 and h0.shape[0] != batch:
        raise ValueError(f"net.h0 has shape {h0.shape}, expected (B, n_rec) with B = {batch}.")
    h0 = np.ascontiguousarray(np.broadcast_to(h0, (batch, net.n_rec)))
    return x, eps, eps_out, rec_noise, h0


def _noise_argument(name, value, shape, dtype):
    """A (T, B, N) noise array, checked, or a :class:`CounterNormals` the kernel draws from.

    The large arrays are checked for NaN and inf by the forward kernel as it reads them.
    """
    if isinstance(value, CounterNormals):
        return value
    return _as_array(name, value, shape, dtype, check_finite=False)


def _streams(net, eps, rec_noise):
    """The kernel's noise operands:
    ``(eps_array, noise_array, streams, block, noise_scale, fluctuation)``.

    A :class:`CounterNormals` becomes a row of ``streams`` (row 0 ε, row 1 ξ) and an empty array;
    ε and ξ drawn from streams share one block. ``eps`` None (ε ≡ 0) turns the fluctuation path
    off. The state noise array is pre-scaled by
    √(2α)σ_rec; it is empty when σ_rec = 0 or no noise is given.
    """
    dtype = net.dtype
    empty = np.zeros((0, 1, net.n_rec), dtype=dtype)
    scale = dtype.type(np.sqrt(2.0 * net.alpha) * net.sigma_rec)
    streams = np.zeros((0, 2), dtype=np.uint32)
    counters = [n for n in (eps, rec_noise) if isinstance(n, CounterNormals)]
    if len({n.block for n in counters}) > 1:
        raise ValueError("eps and rec_noise drawn from streams must share one block.")
    block = np.uint32(counters[0].block if counters else 0)
    eps_array, fluctuation = eps, eps is not None
    if isinstance(eps, CounterNormals):
        eps_array, streams = empty, eps.words()[None]
    elif eps is None:
        eps_array = empty
    if rec_noise is None or net.sigma_rec == 0.0:
        if isinstance(rec_noise, np.ndarray):  # unused, but a NaN in it is still a caller's error
            _require_finite("rec_noise", rec_noise)
        return eps_array, empty, streams, block, scale, fluctuation
    if isinstance(rec_noise, CounterNormals):
        first = streams if len(streams) else np.zeros((1, 2), dtype=np.uint32)
        streams = np.vstack([first, rec_noise.words()[None]])
        return eps_array, empty, streams, block, scale, fluctuation
    return eps_array, rec_noise * scale, streams, block, scale, fluctuation


def _chunks(batch: int) -> list[slice]:
    if batch < MIN_BATCH_TO_SPLIT:
        return [slice(0, batch)]
    half = (batch + 1) // 2
    return [slice(0, half), slice(half, batch)]


def _map_chunks(function, chunks):
    """Run ``function(chunk)`` for every chunk, on up to two threads, BLAS single-threaded."""
    global _executor
    with one_blas_thread():
        if len(chunks) == 1 or _THREADS == 1:
            return [function(chunk) for chunk in chunks]
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="sasrnn")
        return list(_executor.map(function, chunks))


# -- the pass on one chunk -----------------------------------------------------------------------
class _Moments:
    """Moments of every layer and their transposes, computed once per call."""

    def __init__(self, net: SaSNetwork):
        self.mu = {name: np.ascontiguousarray(layer.mu) for name, layer in net.layers().items()}
        self.var = {name: np.ascontiguousarray(layer.var) for name, layer in net.layers().items()}
        self.mu_rec_t = np.ascontiguousarray(self.mu["rec"].T)
        self.var_rec_t = np.ascontiguousarray(self.var["rec"].T)
        self.mu_in_t = np.ascontiguousarray(self.mu["inp"].T)
        self.var_in_t = np.ascontiguousarray(self.var["inp"].T)


def _forward_chunk(net, moments, x, noise, eps_out, h0, first, trace_mode):
    """Forward pass on the chunk of samples ``first … first + len(h0) − 1``.

    ``x`` and the noise operands ``noise`` (:func:`_streams`) are the whole batch's; ``eps_out``
    and ``h0`` the chunk's. Returns ``(r, gain, h, z, sd_out)``. In trace mode
    ``gain`` holds Δ(t) and ``h`` the states; otherwise ``gain`` holds ε/Δ for the backward pass
    and ``h`` is empty.
    """
    n_steps = x.shape[0]
    chunk, n_rec = h0.shape
    dtype = net.dtype
    if trace_mode:  # arrays handed to the caller
        r = np.empty((n_steps + 1, chunk, n_rec), dtype=dtype)
        gain = np.empty((n_steps, chunk, n_rec), dtype=dtype)
        h = np.empty((n_steps + 1, chunk, n_rec), dtype=dtype)
    else:  # internal to one gradient call: reuse, sparing the page faults of fresh memory
        r = _scratch("r", (n_steps + 1, chunk, n_rec), dtype)
        gain = _scratch("gain", (n_steps, chunk, n_rec), dtype)
        h = np.empty((0, chunk, n_rec), dtype=dtype)
    eps, state_noise, streams, block, noise_scale, fluctuation = noise
    all_finite = _kernels.forward_chunk(
        x,
        moments.mu_in_t,
        moments.var_in_t,
        moments.mu_rec_t,
        moments.var_rec_t,
        eps,
        state_noise,
        streams,
        block,
        noise_scale,
        fluctuation,
        h0,
        first,
        dtype.type(net.alpha),
        _ACTIVATION_CODES[net.activation],
        r,
        gain,
        h,
    )
    if not all_finite:  # the kernel checked ε and the state noise as it read them
        window = slice(first, first + chunk)
        if fluctuation:
            _require_finite("eps", eps[:, window])
        _require_finite("rec_noise", state_noise[:, window])
    flat_read = _readout_rates(net, r).reshape(-1, n_rec)
    mean_out = flat_read @ moments.mu["out"].T
    sd_out = np.sqrt(np.maximum((flat_read * flat_read) @ moments.var["out"].T, 0.0))
    z = (mean_out + eps_out.reshape(-1, net.n_out) * sd_out).reshape(eps_out.shape)
    return r, gain, h, z, sd_out


def _scratch(name, shape, dtype):
    """A per-thread work array that is reused by later calls of the same shape."""
    store = _workspace.__dict__
    array = store.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = store[name] = np.empty(shape, dtype=dtype)
    return array


def _readout_rates(net, r):
    """The rates the readout sees: r(T) for readout "last", r(1..T) for "all"."""
    return r[-1:] if net.readout == "last" else r[1:]


def _layer_grads(layer, scale, s_mean, s_var):
    """Chain rule from the moment gradients to (m, π, Ξ) (docs/model.md §2.2).

    With S_mean = Σ_t δ yᵀ and S_var = Σ_t a (y²)ᵀ:  ∂L/∂μ = c S_mean and ∂L/∂v = (c/2) S_var,
    then ∂L/∂θ = ∂L/∂μ ∂μ/∂θ + ∂L/∂v ∂v/∂θ.
    """
    g_mu = scale * s_mean
    g_var = 0.5 * scale * s_var
    d = sas_moment_derivatives(layer.m, layer.pi, layer.xi)
    grads = LayerGrads(
        m=d["dmu_dm"] * g_mu + d["dvar_dm"] * g_var,
        pi=d["dmu_dpi"] * g_mu + d["dvar_dpi"] * g_var,
        xi=d["dvar_dxi"] * g_var,
    )
    if layer.absent is not None:  # structurally absent connections are not parameters
        for array in (grads.m, grads.pi, grads.xi):
            array[layer.absent] = 0.0
    return grads


def _backward_chunk(
    net, moments, x, chunk_slice, eps_out, r, gain, sd_out, output_error, fluctuation
):
    """Adjoint pass on one chunk; returns the moment sums (S_mean, S_var) of the three layers."""
    n_steps, chunk, n_rec = gain.shape
    n_out = net.n_out
    error = output_error.reshape(-1, n_out)
    a_out = np.divide(
        error * eps_out.reshape(-1, n_out), sd_out, out=np.zeros_like(error), where=sd_out > 0
    )
    r_read = _readout_rates(net, r)
    flat_read = r_read.reshape(-1, n_rec)
    grad_r = error @ moments.mu["out"] + flat_read * (a_out @ moments.var["out"])
    grad_r = np.ascontiguousarray(grad_r.reshape(r_read.shape))
    read_start = n_steps - 1 if net.readout == "last" else 0
    n_in, dtype = x.shape[2], net.dtype
    sums = {
        "inp": (np.empty((n_rec, n_in), dtype), np.empty((n_rec, n_in), dtype)),
        "rec": (np.empty((n_rec, n_rec), dtype), np.empty((n_rec, n_rec), dtype)),
    }
    _kernels.backward_chunk(
        x,
        chunk_slice.start,
        r,
        gain,
        moments.mu["rec"],
        moments.var["rec"],
        grad_r,
        read_start,
        dtype.type(net.alpha),
        _ACTIVATION_CODES[net.activation],
        fluctuation,
        *sums["inp"],
        *sums["rec"],
    )
    sums["out"] = (error.T @ flat_read, a_out.T @ (flat_read * flat_read))
    return sums


def _run(net, x, eps, eps_out, rec_noise, error_fn=None):
    """Forward (and, if ``error_fn`` is given, backward) over batch chunks.

    ``error_fn(z_chunk, chunk_slice) -> (loss_sum, output_error)`` supplies ∂L/∂z per chunk.
    """
    x, eps, eps_out, rec_noise, h0 = _prepare(net, x, eps, eps_out, rec_noise)
    moments = _Moments(net)
    noise = _streams(net, eps, rec_noise)
    out_batch_axis = net.output_batch_axis

    def along_batch(array, chunk, axis=1):
        index = [slice(None)] * array.ndim
        index[axis] = chunk
        return np.ascontiguousarray(array[tuple(index)])

    def work(chunk):
        eps_out_c = along_batch(eps_out, chunk, out_batch_axis)
        trace_mode = error_fn is None
        r, gain, h, z, sd_out = _forward_chunk(
            net, moments, x, noise, eps_out_c, h0[chunk], chunk.start, trace_mode
        )
        if trace_mode:
            return ForwardTrace(z=z, h=h, r=r, sd=gain), None, 0.0
        loss_sum, error = error_fn(z, chunk)
        error = np.asarray(error, dtype=net.dtype)
        sums = _backward_chunk(
            net, moments, x, chunk, eps_out_c, r, gain, sd_out, error, fluctuation=noise[-1]
        )
        return None, sums, loss_sum

    return _map_chunks(work, _chunks(x.shape[1])), out_batch_axis


def _reduce_grads(net, results) -> NetworkGrads:
    grads = {}
    for name, layer in net.layers().items():
        s_mean = sum(sums[name][0] for _, sums, _ in results)
        s_var = sum(sums[name][1] for _, sums, _ in results)
        scale = 1.0 if name == "out" else net.alpha
        grads[name] = _layer_grads(layer, scale, s_mean, s_var)
    return NetworkGrads(**grads)


# -- public API ----------------------------------------------------------------------------------
def mean_field_forward(net: SaSNetwork, x, *, eps, eps_out, rec_noise=None) -> ForwardTrace:
    """Run the mean-field network (docs/model.md §1.3) and return its readout and trajectories.

    Args:
        net: the network.
        x: (T, B, n_in) inputs.
        eps: (T, B, n_rec) standard normals ε of the recurrent pre-activation (zeros give the
            noise-free mean-field pass), or a :class:`dynamics.CounterNormals` block that the
            kernel draws them from on both cores (the same numbers as its ``array``), or None:
            ε ≡ 0 with the variance products skipped, the ordinary deterministic pass at the
            cost of ordinary BPTT (exact: with ε = 0 the fluctuation path carries nothing).
        eps_out: standard normals of the readout, (B, n_out) for readout "last" or
            (T, B, n_out) for "all"; None for zeros.
        rec_noise: optional (T, B, n_rec) standard normals ξ, scaled inside by √(2α) σ_rec, or
            a :class:`dynamics.CounterNormals` (with ``eps`` a stream too, of the same block).

    Returns:
        :class:`ForwardTrace` with ``z``, ``h``, ``r`` and ``sd``.

    Raises:
        ValueError: a shape is wrong, an input is NaN or inf, or the parameters are invalid.
    """
    results, out_axis = _run(net, x, eps, eps_out, rec_noise)
    traces = [trace for trace, _, _ in results]
    if len(traces) == 1:
        return traces[0]
    return ForwardTrace(
        z=np.concatenate([t.z for t in traces], axis=out_axis),
        h=np.concatenate([t.h for t in traces], axis=1),
        r=np.concatenate([t.r for t in traces], axis=1),
        sd=np.concatenate([t.sd for t in traces], axis=1),
    )


def mean_field_vjp(
    net: SaSNetwork, x, output_error, *, eps, eps_out, rec_noise=None
) -> NetworkGrads:
    """Pull an output error back to the nine parameter blocks (generalized BPTT, docs/model.md
    §2.1–2.2).

    Computes Σ_b Σ_t e_b(t) · ∂z_b(t)/∂θ for θ ∈ {m, π, Ξ} of every layer, with ε held fixed.

    Args:
        output_error: e = ∂L/∂z, with the shape of the readout z.
        (other arguments as in :func:`mean_field_forward`)

    Returns:
        :class:`NetworkGrads`, **summed** over the batch. With a one-hot error on sample b this
        is the per-sample Jacobian used for empirical tangent kernels.
    """
    _check_input_shape(net, np.asarray(x))  # before the error, whose shape follows from x
    batch = np.shape(x)[1]
    shape = net.output_shape(np.shape(x)[0], batch)
    output_error = _as_array("output_error", output_error, shape, net.dtype)
    axis = net.output_batch_axis

    def error_fn(z, chunk):
        return 0.0, np.take(output_error, np.arange(batch)[chunk], axis=axis)

    results, _ = _run(net, x, eps, eps_out, rec_noise, error_fn)
    return _reduce_grads(net, results)


def batch_loss(net: SaSNetwork, z, target, mask=None):
    """Batch-mean loss and its output error ∂L/∂z (docs/model.md §1.5).

    - ``cross_entropy`` (readout "last"): L = (1/B) Σ_b −Σ_k y_kb log softmax(z_b)_k, computed
      exactly with log-sum-exp (the official code adds 1e-5 inside the log for display only; its
      gradient is the exact softmax error, as here), e = (softmax(z) − y)/B.
    - ``mse``: L = (1/(B T)) · ½ Σ M (z − y)² for readout "all" (T = 1 for "last"),
      e = M (z − y)/(B T).

    Returns:
        ``(loss, output_error)``.
    """
    if net.loss == "cross_entropy":
        shifted = z - z.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        log_p = shifted - log_norm
        batch = z.shape[0]
        loss = -np.sum(target * log_p) / batch
        return loss, (np.exp(log_p) * target.sum(axis=-1, keepdims=True) - target) / batch
    n_steps = z.shape[0] if net.readout == "all" else 1
    batch = z.shape[-2]
    weight = 1.0 if mask is None else mask
    diff = weight * (z - target)
    norm = batch * n_steps
    return 0.5 * np.sum(diff * (z - target)) / norm, diff / norm


def mean_field_grads(net: SaSNetwork, x, target, *, eps, eps_out, rec_noise=None, mask=None):
    """Batch-mean loss and its gradient with respect to all nine parameter blocks.

    Args:
        net: the network; its ``loss`` and ``readout`` fix the loss convention (docs/model.md §1.5).
        x: (T, B, n_in) inputs.
        target: (B, n_out) one-hot for readout "last", or (T, B, n_out) for readout "all".
        eps, eps_out, rec_noise: the noise of the pass (see :func:`mean_field_forward`).
        mask: optional 0/1 array of the target's shape (MSE only).

    Returns:
        ``(loss, grads)``: the loss of the batch and :class:`NetworkGrads` of the batch-mean loss,
        before any clipping.

    Raises:
        ValueError: wrong shapes, NaN or inf, invalid parameters.
    """
    _check_input_shape(net, np.asarray(x))  # before the target, whose shape follows from x
    batch = np.shape(x)[1]
    shape = net.output_shape(np.shape(x)[0], batch)
    target = _as_array("target", target, shape, net.dtype)
    if mask is not None:
        if net.loss != "mse":
            raise ValueError("mask applies to loss='mse' only.")
        mask = _as_array("mask", mask, shape, net.dtype)
    axis = net.output_batch_axis

    def error_fn(z, chunk):
        index = np.arange(batch)[chunk]
        t_c = np.take(target, index, axis=axis)
        m_c = None if mask is None else np.take(mask, index, axis=axis)
        loss, error = batch_loss(net, z, t_c, m_c)
        n = z.shape[axis]  # rescale chunk means to the whole batch
        return loss * n / batch, error * n / batch

    results, _ = _run(net, x, eps, eps_out, rec_noise, error_fn)
    loss = float(sum(loss_sum for _, _, loss_sum in results))
    return loss, _reduce_grads(net, results)
