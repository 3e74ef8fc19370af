"""Networks sampled from the ensemble (docs/model.md §2.6): real weights drawn from P(w).

Three named modes:

- ``"quenched"``: one weight draw per call, shared by every trial of the batch: one network
  sampled from the ensemble (the MSI ``sub_tasks.py`` protocol).
- ``"per_step"``: new weights at every time step, shared by the batch; the readout uses the draw
  of its step (the official MNIST ``sample_forward``).
- ``"mean"``: the noise-free mean network, W = μ = (1 − π) m (the mean-field pass with ε = 0).
"""

from __future__ import annotations

import numpy as np

from .network import SaSNetwork

MODES = ("quenched", "per_step", "mean")


def _rate(activation: str, h: np.ndarray) -> np.ndarray:
    return np.maximum(h, 0.0) if activation == "relu" else np.tanh(h)


def sampled_forward(
    net: SaSNetwork,
    x,
    *,
    mode: str = "quenched",
    rng=None,
    rec_noise=None,
    return_states: bool = False,
):
    """Run a network with weights drawn from the ensemble.

        h(t+1) = (1 − α) h(t) + α (W r(t) + W_in x(t)) + √(2α) σ_rec ξ(t),   z = W_out r

    Args:
        net: the ensemble.
        x: (T, B, n_in) inputs.
        mode: ``"quenched"``, ``"per_step"`` or ``"mean"`` (see module docstring).
        rng: ``numpy.random.Generator`` for the weight draws (not needed for ``"mean"``).
        rec_noise: optional (T, B, n_rec) standard normals ξ of the private noise.
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
    x = np.asarray(x, dtype=net.dtype)
    if x.ndim != 3 or x.shape[2] != net.n_in:
        raise ValueError(f"x has shape {x.shape}, expected (T, B, n_in) with n_in = {net.n_in}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf.")
    n_steps, batch, _ = x.shape
    noise = None
    if rec_noise is not None and net.sigma_rec > 0.0:
        rec_noise = np.asarray(rec_noise)
        if rec_noise.shape != (n_steps, batch, net.n_rec):
            raise ValueError(
                f"rec_noise has shape {rec_noise.shape}, expected {(n_steps, batch, net.n_rec)}."
            )
        noise = rec_noise * (np.sqrt(2.0 * net.alpha) * net.sigma_rec)

    def draw():
        if mode == "mean":
            return net.inp.mu, net.rec.mu, net.out.mu
        return net.inp.sample(rng), net.rec.sample(rng), net.out.sample(rng)

    w_in, w_rec, w_out = draw()
    h = np.broadcast_to(np.asarray(net.h0, dtype=net.dtype), (batch, net.n_rec)).copy()
    rates = np.empty((n_steps + 1, batch, net.n_rec), dtype=net.dtype)
    rates[0] = _rate(net.activation, h)
    outputs = []
    for t in range(n_steps):
        if mode == "per_step" and t > 0:
            w_in, w_rec, w_out = draw()
        h *= 1.0 - net.alpha
        h += net.alpha * (rates[t] @ w_rec.T + x[t] @ w_in.T)
        if noise is not None:
            h += noise[t]
        rates[t + 1] = _rate(net.activation, h)
        if net.readout == "all":
            outputs.append(rates[t + 1] @ w_out.T)
    z = np.stack(outputs) if net.readout == "all" else rates[-1] @ w_out.T
    return (z, rates) if return_states else z
