"""Networks sampled from the ensemble (docs/model.md §2.6): real weights drawn from P(w).

Three named modes:

- ``"quenched"``: one weight draw per network, shared by every trial of the batch: one network
  sampled from the ensemble (the MSI ``sub_tasks.py`` protocol).
- ``"per_step"``: new weights at every time step, shared by the batch; the readout uses the draw
  of its step (the official MNIST ``sample_forward``).
- ``"mean"``: the noise-free mean network, W = μ = (1 − π) m (the mean-field pass with ε = 0).

The weights are drawn inside compiled code from a counter-based stream (``dynamics/_random.py``):
w = N(m, √Ξ) · 1[U > π] (docs/model.md §1.2), every weight a pure function of (key, network,
step, layer, postsynaptic row, presynaptic column), exactly 0 where π = 1 (structural absences).
Network k of a key in quenched mode has the weights of :func:`sampled_weights` ``(key, k,
step=0)``; in per-step mode those of step t at step t, so its step 0 is the quenched network k.
Nothing but the current state is stored, and several networks run on both cores at once.

Example:
    >>> z = sampled_readouts(net, x, mode="per_step", key=generator_key(rng), networks=10)
    >>> z.shape                                          # (10, B, n_out): one row per network
    >>> w_in, w_rec, w_out = sampled_weights(net, key=key, network=3, step=0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _eval_kernels as kernels
from .evaluation import (
    generator_key,
    prepare_inputs,
    raise_nonfinite,
    sample_blocks,
    state_noise,
)
from .meanfield import _ACTIVATION_CODES, _chunks, _map_chunks
from .network import SaSNetwork
from .noise import CounterNormals

__all__ = ["MODES", "sampled_forward", "sampled_readout", "sampled_readouts", "sampled_weights"]

MODES = ("quenched", "per_step", "mean")
_WEIGHT_MODES = {"quenched": kernels.QUENCHED, "per_step": kernels.PER_STEP, "mean": kernels.FIXED}
_WORD = 2**32


def _check_key(key) -> tuple[np.uint32, np.uint32]:
    """The weight stream's key as its two uint32 words (checked as a stream key is)."""
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
        raise ValueError(f"key must be an integer in [0, 2**64), got {key!r}.")
    k0, k1 = CounterNormals(int(key), 0).words()
    return k0, k1


def _check_index(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [0, 2**32), got {value!r}.")
    if not 0 <= int(value) < _WORD:
        raise ValueError(f"{name}={value} must be an integer in [0, 2**32).")
    return int(value)


def _layer_operands(net: SaSNetwork, mode: str) -> list[tuple[np.ndarray, ...]]:
    """(m, π, √Ξ) of the layers inp, rec, out (the kernels' layer codes 0, 1, 2) for the kernels;
    the mean network passes μ as m."""
    operands = []
    for name, layer in net.layers().items():
        if layer.shape[0] >= kernels.MAX_ROWS:
            raise ValueError(
                f"net.{name} has {layer.shape[0]} rows; sampled weights are drawn for at most "
                f"{kernels.MAX_ROWS - 1} rows per layer."
            )
        m = layer.mu if mode == "mean" else layer.m
        arrays = (m, layer.pi, np.sqrt(layer.xi))
        operands.append(tuple(np.ascontiguousarray(a, dtype=net.dtype) for a in arrays))
    return operands


def sampled_weights(net: SaSNetwork, *, key: int, network: int = 0, step: int = 0):
    """The weights the compiled passes draw for ``network`` at ``step`` (module docstring).

    Args:
        net: the ensemble.
        key: the stream key (e.g. :func:`dynamics.generator_key`).
        network: the network's index in the stream.
        step: the time step (quenched networks use step 0 throughout).

    Returns:
        ``(w_in, w_rec, w_out)``, arrays of the layers' shapes and the network's dtype.

    Raises:
        ValueError: a key, network or step outside [0, 2**64) / [0, 2**32).
    """
    k0, k1 = _check_key(key)
    network, step = _check_index("network", network), _check_index("step", step)
    operands = _layer_operands(net, "quenched")
    size = max(net.n_in, net.n_rec)
    normals, uniforms = np.empty(size), np.empty(size)
    words = np.empty(size + 1, dtype=np.uint64)
    weights = []
    for code, (m, pi, sd) in enumerate(operands):
        dest = np.empty(m.shape, dtype=net.dtype)
        kernels.draw_layer(
            dest,
            m,
            pi,
            sd,
            k0,
            k1,
            np.uint32(network),
            np.uint32(step),
            code,
            normals,
            uniforms,
            words,
        )
        weights.append(dest)
    return tuple(weights)


def _run_jobs(net, x, h0, mode, key, jobs, rec_noise, return_states):
    """Run (network, batch slice) jobs on up to two threads; returns ``[(z, rates), …]``.

    z is (T, C, n_out) for readout "all" or (1, C, n_out) for "last"; rates (T + 1, C, n_rec) or
    None. Network k draws its ξ from block ``rec_noise.block + k`` of a noise stream.
    """
    n_steps, batch, _ = x.shape
    dtype, n_rec, n_out = net.dtype, net.n_rec, net.n_out
    k0, k1 = _check_key(key) if mode != "mean" else (np.uint32(0), np.uint32(0))
    source, noise, noise_key, noise_block, scale = state_noise(
        net, rec_noise, (n_steps, batch, n_rec)
    )
    operands = [array for layer in _layer_operands(net, mode) for array in layer]
    read_all = net.readout == "all"
    alpha, activation = dtype.type(net.alpha), _ACTIVATION_CODES[net.activation]

    def work(job):
        network, chunk = job
        size = chunk.stop - chunk.start
        z = np.empty((n_steps if read_all else 1, size, n_out), dtype=dtype)
        rates = np.empty((n_steps + 1 if return_states else 0, size, n_rec), dtype=dtype)
        finite = kernels.sampled_chunk(
            x,
            *operands,
            _WEIGHT_MODES[mode],
            k0,
            k1,
            np.uint32(network),
            source,
            noise,
            noise_key,
            np.uint32((int(noise_block) + network) % _WORD),
            scale,
            h0[chunk],
            chunk.start,
            alpha,
            activation,
            read_all,
            z,
            rates,
        )
        if not finite:
            raise_nonfinite("rec_noise", noise, chunk)
        return z, rates if return_states else None

    return _map_chunks(work, jobs)


def _parts(mode: str, samples: slice, alone: bool) -> list[slice]:
    """The batch slices of one network's jobs. Fixed weights: blocks of at most 64 samples,
    each job drawing the network once, so that the work arrays stay in cache. Per-step weights,
    which a job draws at every step: the whole slice, or its two halves (both cores) when the
    network runs alone."""
    size = samples.stop - samples.start
    if mode == "per_step":
        parts = _chunks(size) if alone else [slice(0, size)]
    else:
        parts = sample_blocks(size)
    return [slice(samples.start + p.start, samples.start + p.stop) for p in parts]


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {MODES}.")


def _networks(networks) -> list[int]:
    if isinstance(networks, (int, np.integer)) and not isinstance(networks, bool):
        if networks < 1:
            raise ValueError(f"networks={networks} must be >= 1 (or a list of indices).")
        return list(range(int(networks)))
    if not isinstance(networks, (Sequence, np.ndarray)) or len(networks) == 0:
        raise ValueError(f"networks must be a count >= 1 or a non-empty list, got {networks!r}.")
    return [_check_index("network", k) for k in networks]


def sampled_readouts(
    net: SaSNetwork, x, *, mode: str, key: int | None, networks=1, rec_noise=None
) -> np.ndarray:
    """Readouts of several networks sampled from the ensemble, each on the whole batch.

        h(t+1) = (1 − α) h(t) + α (W r(t) + W_in x(t)) + √(2α) σ_rec ξ(t),   z = W_out r

    The networks run on both cores (one BLAS thread each); a single network's batch is split
    over them instead.

    Args:
        net: the ensemble.
        x: (T, B, n_in) inputs.
        mode: "quenched", "per_step" or "mean" (module docstring).
        key: the weight stream's key (e.g. :func:`dynamics.generator_key`); unused for "mean".
        networks: K (networks 0 … K − 1) or a list of network indices.
        rec_noise: None, (T, B, n_rec) standard normals ξ shared by every network, or a
            :class:`dynamics.CounterNormals` from which network k draws block ``block + k``
            (row (b, t, block + k) for sample b at step t).

    Returns:
        (K, B, n_out) for readout "last", (K, T, B, n_out) for "all".

    Raises:
        ValueError: unknown mode, a missing or invalid key, wrong shapes, NaN or inf.
    """
    _check_mode(mode)
    indices = _networks(networks)
    x, h0 = prepare_inputs(net, x)
    batch = x.shape[1]
    parts = _parts(mode, slice(0, batch), alone=len(indices) == 1)
    jobs = [(k, part) for k in indices for part in parts]
    results = _run_jobs(net, x, h0, mode, key, jobs, rec_noise, False)
    count = len(parts)
    z = np.stack(
        [
            np.concatenate([z for z, _ in results[n * count : (n + 1) * count]], axis=1)
            for n in range(len(indices))
        ]
    )
    return z if net.readout == "all" else z[:, 0]


def sampled_readout(
    net: SaSNetwork,
    x,
    *,
    mode: str,
    key: int | None,
    network=0,
    rec_noise=None,
    return_states: bool = False,
):
    """Readout of the batch with each sample run by one network sampled from the ensemble.

    Args:
        net, x, mode, key, rec_noise: see :func:`sampled_readouts` (sample b of network k draws
            ξ from block ``rec_noise.block + k`` of a stream).
        network: the network of every sample (an index), or (B,) indices, one per sample
            (e.g. one network per test batch of a concatenated set).
        return_states: also return the (T + 1, B, n_rec) rates.

    Returns:
        z, (B, n_out) for readout "last" or (T, B, n_out) for "all"; ``(z, r)`` if
        ``return_states``.

    Raises:
        ValueError: unknown mode, a missing or invalid key, wrong shapes, NaN or inf.
    """
    _check_mode(mode)
    x, h0 = prepare_inputs(net, x)
    batch = x.shape[1]
    if np.ndim(network) == 0:
        runs = [(_check_index("network", network), slice(0, batch))]
    else:
        assigned = np.asarray(network)
        if assigned.shape != (batch,) or assigned.dtype.kind not in "iu":
            raise ValueError(
                f"network must be an index or a ({batch},) integer array, one per sample; "
                f"got {assigned.dtype} of shape {assigned.shape}."
            )
        starts = np.flatnonzero(np.diff(assigned, prepend=-1) != 0).tolist() + [batch]
        runs = [
            (_check_index("network", assigned[a]), slice(a, b))
            for a, b in zip(starts[:-1], starts[1:], strict=True)
        ]
    jobs = [(k, part) for k, run in runs for part in _parts(mode, run, alone=len(runs) == 1)]
    results = _run_jobs(net, x, h0, mode, key, jobs, rec_noise, return_states)
    z = np.concatenate([z for z, _ in results], axis=1)
    z = z if net.readout == "all" else z[0]
    if return_states:
        return z, np.concatenate([rates for _, rates in results], axis=1)
    return z


def sampled_forward(
    net: SaSNetwork,
    x,
    *,
    mode: str = "quenched",
    rng=None,
    rec_noise=None,
    return_states: bool = False,
):
    """Run one network with weights drawn from the ensemble (compiled, both cores).

        h(t+1) = (1 − α) h(t) + α (W r(t) + W_in x(t)) + √(2α) σ_rec ξ(t),   z = W_out r

    The weight stream's key is :func:`dynamics.generator_key` ``(rng)`` (one draw from ``rng``);
    the network is network 0 of that key (:func:`sampled_weights`).

    Args:
        net: the ensemble.
        x: (T, B, n_in) inputs.
        mode: ``"quenched"``, ``"per_step"`` or ``"mean"`` (see module docstring).
        rng: ``numpy.random.Generator`` for the weight draws (not needed for ``"mean"``).
        rec_noise: optional (T, B, n_rec) standard normals ξ of the private noise, or a
            :class:`dynamics.CounterNormals`.
        return_states: also return the (T + 1, B, n_rec) rates.

    Returns:
        z, shaped (B, n_out) for readout "last" or (T, B, n_out) for "all"; ``(z, r)`` if
        ``return_states``.

    Raises:
        ValueError: unknown mode, missing rng, wrong shapes or non-finite input.
    """
    if mode not in MODES:
        raise ValueError(f"sampled_forward: unknown mode {mode!r}; choose one of {MODES}.")
    if mode != "mean" and not isinstance(rng, np.random.Generator):
        raise ValueError(
            "sampled_forward: pass rng=np.random.default_rng(seed) for the weight draws."
        )
    key = generator_key(rng) if mode != "mean" else None
    return sampled_readout(
        net, x, mode=mode, key=key, rec_noise=rec_noise, return_states=return_states
    )
