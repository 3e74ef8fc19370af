"""Forward-only mean-field pass for evaluation: the readout without the trajectories.

:func:`mean_field_readout` runs the pass of docs/model.md §1.3 like
:func:`dynamics.mean_field_forward` but keeps only the current state and rates of each batch chunk
(O(B N) memory instead of three (T + 1, B, N) traces), so that a test set runs as one batch on
both cores, with ε drawn inside the kernel from a counter-based stream. The batch runs in blocks
of whole 16-row panels (:func:`readout_blocks`), spread over two threads: their work arrays stay
in the core's cache, and OpenBLAS multiplies such blocks fastest: with its AVX2 kernels 96 rows
(N = 100) about 10 % faster than 62 or 63, with its AVX-512 kernels as fast as any block small
enough for their small-matrix path, and 1.5 times faster than a larger one (measured). For the
same ε its readout equals ``mean_field_forward(...).z`` bit for bit where the two passes split
the batch alike (e.g. B ≤ 192 for N = 100: the training pass's chunks), since the elementwise
arithmetic is the same, operation for operation; otherwise to round-off (about 1e-16 relative),
as BLAS may sum GEMMs of other shapes in another order.

Example:
    >>> key = generator_key(rng)
    >>> z = mean_field_readout(net, x, eps=CounterNormals(key, 0), eps_out=eps_out)
    >>> z0 = mean_field_readout(net, x, eps=None, eps_out=None)  # ε = 0: the mean network
"""

from __future__ import annotations

import math

import numpy as np

from . import _eval_kernels as kernels
from .meanfield import (
    _ACTIVATION_CODES,
    _as_array,
    _check_input_shape,
    _check_network,
    _chunks,
    _map_chunks,
    _noise_argument,
    _require_finite,
)
from .network import SaSNetwork
from .noise import CounterNormals

__all__ = ["generator_key", "mean_field_readout", "mean_field_readouts"]

_KEY_BOUND = 2**63
#: Largest block of the readout pass, and the row panel its blocks are whole multiples of (the
#: GEMM kernels' row blocking: 4 or 8 rows for AVX2, 16 for AVX-512).
READOUT_BLOCK = 128
ROW_PANEL = 16
#: M·N·K of a GEMM up to which OpenBLAS's AVX-512 dgemm takes its small-matrix path (measured,
#: N = K = 100: about 1.5 times the speed of the general path, 100 rows against 104).
SMALL_GEMM = 10**6


def generator_key(rng: np.random.Generator) -> int:
    """A 63-bit stream key drawn from ``rng`` (one ``rng.integers`` call), so that counter-based
    draws keyed by it are a function of the Generator's state.

    Raises:
        ValueError: ``rng`` is not a numpy Generator.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
            f"got {type(rng).__name__}."
        )
    return int(rng.integers(_KEY_BOUND))


def prepare_inputs(net: SaSNetwork, x) -> tuple[np.ndarray, np.ndarray]:
    """Checked inputs of a forward pass: ``x`` (T, B, n_in) of the network's dtype, C-contiguous,
    and the initial state h0 broadcast to (B, n_rec).

    Raises:
        ValueError: an invalid network, a wrong shape, NaN or inf in ``x``.
    """
    _check_network(net)
    x = np.asarray(x)
    _check_input_shape(net, x)
    n_steps, batch, _ = x.shape
    if n_steps < 1 or batch < 1:
        raise ValueError(f"x has shape {x.shape}; it needs at least one step and one sample.")
    x = _as_array("x", x, x.shape, net.dtype)
    return x, initial_state(net, batch)


def initial_state(net: SaSNetwork, batch: int) -> np.ndarray:
    """The network's initial state h0 broadcast to (B, n_rec), C-contiguous.

    Raises:
        ValueError: h0 is per sample, for another batch size.
    """
    h0 = np.asarray(net.h0, dtype=net.dtype)
    if h0.ndim == 2 and h0.shape[0] != batch:
        raise ValueError(f"net.h0 has shape {h0.shape}, expected (B, n_rec) with B = {batch}.")
    return np.ascontiguousarray(np.broadcast_to(h0, (batch, net.n_rec)))


def _check_shared_pass(first: SaSNetwork, other: SaSNetwork) -> None:
    """Networks that share one pass of :func:`mean_field_readouts` must have the same sizes,
    dtype, readout, α, activation and σ_rec.

    Raises:
        ValueError: naming the first setting in which ``other`` differs from ``first``.
    """
    _check_network(other)
    for name in ("n_in", "n_rec", "n_out", "dtype", "readout", "alpha", "activation", "sigma_rec"):
        if getattr(other, name) != getattr(first, name):
            raise ValueError(
                f"networks sharing a mean-field pass need one {name}: {getattr(first, name)!r} "
                f"and {getattr(other, name)!r}; evaluate them in separate calls."
            )


def noise_source(net: SaSNetwork, name: str, value, shape, scale=None):
    """A noise argument as the kernels take it: ``(source, array, key_words, block)``.

    ``value`` None gives NONE; a :class:`CounterNormals` STREAM (with its key words and block);
    an array ARRAY (shape-checked; its values are checked by the kernel as it reads them),
    multiplied by ``scale`` if given.
    """
    empty = np.zeros((0, 1, 1), dtype=net.dtype)
    no_key = np.zeros(2, dtype=np.uint32)
    if value is None:
        return kernels.NONE, empty, no_key, np.uint32(0)
    if isinstance(value, CounterNormals):
        return kernels.STREAM, empty, value.words(), np.uint32(value.block)
    array = _noise_argument(name, value, shape, net.dtype)
    if scale is not None:
        array = array * scale
    return kernels.ARRAY, array, no_key, np.uint32(0)


def state_noise(net: SaSNetwork, rec_noise, shape):
    """:func:`noise_source` of the private noise ξ, scaled by √(2α) σ_rec, and that scale. NONE
    when σ_rec = 0 (a given array must still be finite, as in :func:`dynamics.mean_field_forward`).
    """
    if net.sigma_rec == 0.0:
        if rec_noise is not None and not isinstance(rec_noise, CounterNormals):
            _require_finite("rec_noise", np.asarray(rec_noise))
        rec_noise = None
    scale = net.dtype.type(np.sqrt(2.0 * net.alpha) * net.sigma_rec)
    return (*noise_source(net, "rec_noise", rec_noise, shape, scale), scale)


def sample_blocks(batch: int, size: int = kernels.BLOCK) -> list[slice]:
    """The batch split into consecutive blocks of at most ``size`` samples, as equal as possible
    (128 → two of 64, 150 → 50 + 50 + 50)."""
    count = -(-batch // size)
    edges = [batch * i // count for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def readout_block_rows(n_rec: int) -> int:
    """Rows of a readout block: the most whole :data:`ROW_PANEL` panels, up to
    :data:`READOUT_BLOCK` rows, whose recurrent GEMM (rows × n_rec × n_rec) stays within
    :data:`SMALL_GEMM` (n_rec = 100 → 96, 150 → 32), and at least one panel."""
    fitting = SMALL_GEMM // (n_rec * n_rec) // ROW_PANEL * ROW_PANEL
    return max(ROW_PANEL, min(READOUT_BLOCK, fitting))


def readout_blocks(batch: int, n_rec: int) -> list[slice]:
    """The batch split for the mean-field readout: each of the two chunks of the training pass
    (one below ``MIN_BATCH_TO_SPLIT`` samples) in the fewest blocks of at most
    :func:`readout_block_rows` rows, as equal as whole :data:`ROW_PANEL` panels allow (1,000
    samples, n_rec = 100: 2 × (80 + 80 + 96 + 80 + 80 + 84), equal work for the two cores; up
    to 192 samples the training pass's chunks themselves)."""
    rows = readout_block_rows(n_rec)
    blocks = []
    for chunk in _chunks(batch):
        size = chunk.stop - chunk.start
        panels, count = math.ceil(size / ROW_PANEL), math.ceil(size / rows)
        edges = [
            chunk.start + min(size, ROW_PANEL * (panels * i // count)) for i in range(count + 1)
        ]
        blocks += [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return blocks


def raise_nonfinite(name: str, array: np.ndarray, window: slice) -> None:
    """After a kernel reported a non-finite value: name the argument that holds it."""
    if array.shape[0]:
        _require_finite(name, array[:, window])


def mean_field_readout(net: SaSNetwork, x, *, eps, eps_out, rec_noise=None) -> np.ndarray:
    """The readout z of the mean-field pass (docs/model.md §1.3), without storing trajectories.

        u = G + ε Δ,   z = μ_out r + ε_out √(v_out r²),   with r = r(T) (readout "last") or
        r(t + 1) at every step (readout "all")

    Memory O(B N) besides ``x`` and z; the batch runs in blocks of whole 16-row panels
    (:func:`readout_blocks`) on two threads with one BLAS thread each.

    Args:
        net: the network.
        x: (T, B, n_in) inputs.
        eps: (T, B, n_rec) standard normals ε, a :class:`dynamics.CounterNormals` block the
            kernel draws them from (ε(t) of sample b: row (b, t, block)), or None for ε ≡ 0 (the
            variance products are skipped).
        eps_out: standard normals of the readout, (B, n_out) for readout "last" or (T, B, n_out)
            for "all", or None for zeros.
        rec_noise: None, (T, B, n_rec) standard normals ξ (scaled inside by √(2α) σ_rec), or a
            :class:`dynamics.CounterNormals` (its own block; unused when σ_rec = 0).

    Returns:
        z, (B, n_out) or (T, B, n_out): ``mean_field_forward(net, x, eps=eps, eps_out=eps_out,
        rec_noise=rec_noise).z``, bit for bit where both split the batch alike (module
        docstring), else to round-off.

    Raises:
        ValueError: a shape is wrong, an input is NaN or inf, or the parameters are invalid.
    """
    return mean_field_readouts([net], x, eps=eps, eps_out=eps_out, rec_noise=rec_noise)[0]


def mean_field_readouts(nets, x, *, eps, eps_out, rec_noise=None) -> np.ndarray:
    """The readouts of :func:`mean_field_readout` for P networks on the same inputs and draws.

    One pass draws ε(t) and ξ(t) once per step for all the networks (the cost of the draws is
    shared), and runs each network's products and update as its pass alone would: row p equals
    ``mean_field_readout(nets[p], x, eps=eps, eps_out=eps_out, rec_noise=rec_noise)`` bit for
    bit, whichever networks come with it.

    Args:
        nets: P networks of one architecture (sizes, dtype, readout) with equal α, activation
            and σ_rec; their parameters and h0 may differ.
        x, eps, eps_out, rec_noise: as :func:`mean_field_readout`, shared by the networks.

    Returns:
        (P, B, n_out) or (P, T, B, n_out).

    Raises:
        ValueError: no network, networks that cannot share a pass (the error names the
            difference), a wrong shape, NaN or inf, or invalid parameters.
    """
    nets = list(nets)
    if not nets:
        raise ValueError("mean_field_readouts needs at least one network.")
    net = nets[0]
    for other in nets[1:]:
        _check_shared_pass(net, other)
    x, _ = prepare_inputs(net, x)
    h0 = np.stack([initial_state(other, x.shape[1]) for other in nets])
    n_steps, batch, _ = x.shape
    dtype, n_rec, n_out = net.dtype, net.n_rec, net.n_out
    noise_shape = (n_steps, batch, n_rec)
    eps_source, eps_array, eps_key, eps_block = noise_source(net, "eps", eps, noise_shape)
    noise_kind, noise_array, noise_key, noise_block, scale = state_noise(
        net, rec_noise, noise_shape
    )
    out_shape = net.output_shape(n_steps, batch)
    if eps_out is not None:
        eps_out = _as_array("eps_out", eps_out, out_shape, dtype)
    keys = np.stack([eps_key, noise_key])
    blocks = np.array([eps_block, noise_block], dtype=np.uint32)

    def stacked(layer_name, moment):
        return np.ascontiguousarray(
            np.stack([getattr(other.layers()[layer_name], moment).T for other in nets])
        )

    moments = {name: (stacked(name, "mu"), stacked(name, "var")) for name in ("inp", "rec", "out")}
    read_all = net.readout == "all"
    axis = net.output_batch_axis + 1

    def work(chunk):
        size = chunk.stop - chunk.start
        rate = np.empty((len(nets), size, n_rec), dtype=dtype)
        rate_sq = np.empty((len(nets), size, n_rec), dtype=dtype)
        steps_read = n_steps if read_all else 0
        out_mean = np.empty((len(nets), steps_read, size, n_out), dtype=dtype)
        out_var = np.empty(
            (len(nets), steps_read if eps_out is not None else 0, size, n_out), dtype=dtype
        )
        finite = kernels.meanfield_readout_chunk(
            x,
            *moments["inp"],
            *moments["rec"],
            eps_source,
            eps_array,
            noise_kind,
            noise_array,
            keys,
            blocks,
            scale,
            np.ascontiguousarray(h0[:, chunk]),
            chunk.start,
            dtype.type(net.alpha),
            _ACTIVATION_CODES[net.activation],
            *moments["out"],
            read_all,
            rate,
            rate_sq,
            out_mean,
            out_var,
        )
        if not finite:
            raise_nonfinite("eps", eps_array, chunk)
            raise_nonfinite("rec_noise", noise_array, chunk)
        parts = []
        for p, other in enumerate(nets):
            if read_all:
                mean_out, var_out = out_mean[p], out_var[p]
            else:  # as mean_field_forward computes it, for the same bits
                mean_out = rate[p] @ other.out.mu.T
                var_out = (rate[p] * rate[p]) @ other.out.var.T if eps_out is not None else None
            if eps_out is None:
                parts.append(mean_out)
                continue
            sd_out = np.sqrt(np.maximum(var_out, 0.0))
            index = [slice(None)] * eps_out.ndim
            index[axis - 1] = chunk
            parts.append(mean_out + eps_out[tuple(index)] * sd_out)
        return np.stack(parts)

    parts = _map_chunks(work, readout_blocks(batch, n_rec))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
