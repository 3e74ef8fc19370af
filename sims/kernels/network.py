"""NTK-parameterised SaS networks, their outputs, parameter gradients and empirical kernels.

The finite-width side of docs/model.md §5.1: networks in NTK parameterisation (docs/model.md §5.1
"Parameterization"), their empirical kernel

    Θ̂(x, x') = Σ_blocks Σ_θ̃ ∂f(x)/∂θ̃ ∂f(x')/∂θ̃,
    ∂/∂m̃ = (σ/√fan_in) ∂/∂m,   ∂/∂Ξ̃ = (1/N) ∂/∂Ξ,   ∂/∂π̃ = ∂/∂π,

from per-sample gradients of :func:`dynamics.mean_field_vjp` (one-hot output errors; no doubled
``gm_rec`` and no ``K + Kᵀ − diag`` symmetrisation, docs/official-code.md §1 items 12–13).
Training such a network next to the lazy prediction is :mod:`sims.kernels.lazy`.

Trainable blocks (docs/model.md §1.4, RNTK row): ``inp.m``, ``rec.m``, ``rec.pi``, ``rec.xi``,
``out.m``, plus ``out.pi`` and ``out.xi`` with ``sas_readout``.

π domain.  The linearised theory treats π̃ as a free coordinate around π = 0 (it gives
Θ_π_rec = Θ_m_rec).  With ``pi_domain="free"`` (default) π may leave [0, 1] slightly; the
mean-field pass only sees the moments μ = (1−π)m and v = (1−π)Ξ + π(1−π)m², so the network is
run through ``dynamics`` as the *moment-matched* network (m' = μ, π' = 0, Ξ' = max(v, 0)) and the
gradients are mapped back with the chain rule ∂L/∂θ = ∂L/∂μ ∂μ/∂θ + ∂L/∂v ∂v/∂θ (exact, since at
π' = 0: ∂L/∂m' = ∂L/∂μ and ∂L/∂Ξ' = ∂L/∂v).  ``pi_domain="clipped"`` follows the official code:
the forward pass uses clip(π̃, 0, 1) and the gradient there is applied to π̃.

Noise.  ε, ε_out and h0 ~ N(0, σ_h0²) are drawn per sample (:func:`draw_noise`) and passed
explicitly, so f is a deterministic function of θ for given noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics import (
    SaSLayer,
    SaSNetwork,
    mean_field_forward,
    mean_field_vjp,
    sas_moment_derivatives,
    sas_moments,
)

__all__ = [
    "NTKNetwork",
    "NetworkNoise",
    "circle_inputs",
    "circle_kernel_entries",
    "draw_noise",
    "empirical_ntk",
    "init_ntk_network",
    "network_output",
    "parameter_gradients",
    "per_sample_tangent",
    "relative_frobenius_error",
]

PI_DOMAINS = ("free", "clipped")


# ------------------------------------------------------------------------------------------
# Networks and noise
# ------------------------------------------------------------------------------------------


@dataclass
class NTKNetwork:
    """An NTK-parameterised SaS RNN with scalar readout at the last step (docs/model.md §5.1).

    Attributes:
        params: actual parameters by block, (n_post, n_pre) arrays: "inp.m", "rec.m", "rec.pi",
            "rec.xi", "out.m", "out.pi", "out.xi" (π of rec/out may be "free", see module doc).
        alpha: leak α ∈ (0, 1].
        sigma_in, sigma_rec, sigma_out, sigma_h0: NTK scales.
        sas_readout: whether out.pi and out.xi are trained / enter the kernel (docs/model.md §3.5).
        pi_domain: "free" or "clipped" (module docstring).
    """

    params: dict
    alpha: float
    sigma_in: float = 1.0
    sigma_rec: float = 1.0
    sigma_out: float = 1.0
    sigma_h0: float = 1.0
    sas_readout: bool = False
    pi_domain: str = "free"

    @property
    def n_in(self) -> int:
        return self.params["inp.m"].shape[1]

    @property
    def n_rec(self) -> int:
        return self.params["rec.m"].shape[0]

    def trainable_blocks(self) -> tuple[str, ...]:
        """Blocks that are trained and enter the tangent kernel (docs/model.md §5.1)."""
        blocks = ("inp.m", "rec.m", "rec.pi", "rec.xi", "out.m")
        return blocks + (("out.pi", "out.xi") if self.sas_readout else ())

    def kernel_settings(self) -> dict:
        """The keyword arguments of :func:`theory.rntk` describing this network's kernel."""
        return {
            "sigma_in": self.sigma_in,
            "sigma_rec": self.sigma_rec,
            "sigma_out": self.sigma_out,
            "sigma_h0": self.sigma_h0,
            "sas_readout": self.sas_readout,
        }

    def chain_factors(self) -> dict:
        """∂θ/∂θ̃ per block: σ/√fan_in for m, 1 for π, 1/N for Ξ (docs/model.md §2.4, §5.1)."""
        n, n_in = self.n_rec, self.n_in
        return {
            "inp.m": self.sigma_in / np.sqrt(n_in),
            "rec.m": self.sigma_rec / np.sqrt(n),
            "rec.pi": 1.0,
            "rec.xi": 1.0 / n,
            "out.m": self.sigma_out / np.sqrt(n),
            "out.pi": 1.0,
            "out.xi": 1.0 / n,
        }

    def effective(self, block: str) -> np.ndarray:
        """The parameter the forward pass uses (π clipped in the "clipped" domain, Ξ >= 0)."""
        value = self.params[block]
        if block.endswith(".pi") and self.pi_domain == "clipped":
            return np.clip(value, 0.0, 1.0)
        if block.endswith(".xi"):
            return np.maximum(value, 0.0)
        return value

    def layer_parameters(self, layer: str):
        """(m, π, Ξ) of ``layer`` as the forward pass uses them (inp: π = Ξ = 0)."""
        m = self.params[f"{layer}.m"]
        if layer == "inp":
            return m, np.zeros_like(m), np.zeros_like(m)
        return m, self.effective(f"{layer}.pi"), self.effective(f"{layer}.xi")

    def moment_matched(self, h0) -> SaSNetwork:
        """The ``dynamics`` network with m' = μ, π' = 0, Ξ' = max(v, 0) and initial state h0."""
        layers = {}
        for name in ("inp", "rec", "out"):
            mu, _, var = sas_moments(*self.layer_parameters(name))
            layers[name] = SaSLayer(mu, np.zeros_like(mu), np.maximum(var, 0.0))
        return SaSNetwork(
            layers["inp"],
            layers["rec"],
            layers["out"],
            alpha=self.alpha,
            h0=h0,
            activation="relu",
            readout="last",
            loss="mse",
        )

    def copy(self) -> NTKNetwork:
        return NTKNetwork(
            {k: v.copy() for k, v in self.params.items()},
            self.alpha,
            self.sigma_in,
            self.sigma_rec,
            self.sigma_out,
            self.sigma_h0,
            self.sas_readout,
            self.pi_domain,
        )


def init_ntk_network(
    n_in,
    n_rec,
    alpha,
    rng,
    *,
    sigma_in=1.0,
    sigma_rec=1.0,
    sigma_out=1.0,
    sigma_h0=1.0,
    sas_readout=False,
    pi_domain="free",
):
    """Draw an NTK-parameterised SaS RNN (docs/model.md §5.1 "Parameterization",
    ``SaS_RNTK.rescale``).

    m^in = σ_in m̃/√N_in, m^rec = σ_rec m̃/√N, m^out = σ_out m̃/√N with m̃ ~ N(0, 1);
    Ξ^rec = Ξ̃/N with Ξ̃ ~ U(0, 1); π = 0; Ξ^in = Ξ^out = 0 (docs/official-code.md §1 item 14).

    Args:
        n_in, n_rec: input size and width N.
        alpha: leak α ∈ (0, 1].
        rng: ``numpy.random.Generator``.
        sigma_in, sigma_rec, sigma_out, sigma_h0: NTK scales (the initial state is drawn with
            the noise, see :func:`draw_noise`).
        sas_readout: train and include out.pi / out.xi.
        pi_domain: "free" or "clipped".

    Returns:
        :class:`NTKNetwork`.

    Raises:
        ValueError: sizes < 1, α outside (0, 1], unknown ``pi_domain`` or a non-Generator rng.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if int(n_in) < 1 or int(n_rec) < 1:
        raise ValueError(f"n_in and n_rec must be >= 1, got {n_in}, {n_rec}")
    if not 0.0 < float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    if pi_domain not in PI_DOMAINS:
        raise ValueError(f"pi_domain must be one of {PI_DOMAINS}, got {pi_domain!r}")
    n_in, n_rec = int(n_in), int(n_rec)
    params = {
        "inp.m": sigma_in * rng.standard_normal((n_rec, n_in)) / np.sqrt(n_in),
        "rec.m": sigma_rec * rng.standard_normal((n_rec, n_rec)) / np.sqrt(n_rec),
        "rec.pi": np.zeros((n_rec, n_rec)),
        "rec.xi": rng.uniform(0.0, 1.0, (n_rec, n_rec)) / n_rec,
        "out.m": sigma_out * rng.standard_normal((1, n_rec)) / np.sqrt(n_rec),
        "out.pi": np.zeros((1, n_rec)),
        "out.xi": np.zeros((1, n_rec)),
    }
    return NTKNetwork(
        params, float(alpha), sigma_in, sigma_rec, sigma_out, sigma_h0, sas_readout, pi_domain
    )


@dataclass
class NetworkNoise:
    """Per-sample noise of a mean-field pass: eps (T, B, N), eps_out (B, 1), h0 (B, N)."""

    eps: np.ndarray
    eps_out: np.ndarray
    h0: np.ndarray

    def sample(self, index) -> NetworkNoise:
        """The noise of samples ``index`` (a slice or index array)."""
        return NetworkNoise(self.eps[:, index], self.eps_out[index], self.h0[index])


def draw_noise(net: NTKNetwork, n_steps, batch, rng) -> NetworkNoise:
    """Standard-normal ε, ε_out and h0 ~ N(0, σ_h0²), independent per sample (docs/model.md §1.1,
    §1.3)."""
    n = net.n_rec
    return NetworkNoise(
        eps=rng.standard_normal((n_steps, batch, n)),
        eps_out=rng.standard_normal((batch, 1)),
        h0=net.sigma_h0 * rng.standard_normal((batch, n)),
    )


# ------------------------------------------------------------------------------------------
# Outputs, gradients and kernels
# ------------------------------------------------------------------------------------------


def _check_inputs(net, x, noise):
    x = np.asarray(x, dtype=float)
    if x.ndim != 3 or x.shape[2] != net.n_in:
        raise ValueError(f"x must have shape (T, B, {net.n_in}), got {x.shape}")
    if noise.eps.shape != (x.shape[0], x.shape[1], net.n_rec):
        raise ValueError(
            f"noise.eps has shape {noise.eps.shape}, expected {(x.shape[0], x.shape[1], net.n_rec)}"
            " (draw it with draw_noise(net, T, B, rng))"
        )
    return x


def network_output(net: NTKNetwork, x, noise: NetworkNoise) -> np.ndarray:
    """Scalar outputs f(x_b) of the mean-field pass with the given noise, shape (B,)."""
    x = _check_inputs(net, x, noise)
    sas = net.moment_matched(noise.h0)
    return mean_field_forward(sas, x, eps=noise.eps, eps_out=noise.eps_out).z[:, 0]


def _layer_derivatives(net):
    """sas_moment_derivatives of the rec/out/inp layers at the current parameters."""
    return {layer: sas_moment_derivatives(*net.layer_parameters(layer)) for layer in LAYERS}


LAYERS = ("inp", "rec", "out")


def _moment_to_parameter_gradients(net, moment_grads, derivatives=None, scale=None):
    """∂L/∂θ from ∂L/∂μ (= grad of m') and ∂L/∂v (= grad of Ξ') of the moment-matched network.

    ``scale`` optionally multiplies each block (chain factors); ``derivatives`` may be cached.
    """
    derivatives = derivatives or _layer_derivatives(net)
    blocks = net.trainable_blocks()
    out = {}
    for layer in LAYERS:
        g_mu, g_var = moment_grads[f"{layer}.m"], moment_grads[f"{layer}.xi"]
        d = derivatives[layer]
        for parameter, (d_mu, d_var) in {
            "m": ("dmu_dm", "dvar_dm"),
            "pi": ("dmu_dpi", "dvar_dpi"),
            "xi": (None, "dvar_dxi"),
        }.items():
            block = f"{layer}.{parameter}"
            if block not in blocks:
                continue
            value = d[d_var] * g_var
            if d_mu is not None:
                value += d[d_mu] * g_mu
            if scale is not None:
                value *= scale[block]
            out[block] = value
    return out


def parameter_gradients(net: NTKNetwork, x, noise: NetworkNoise, output_error) -> dict:
    """Σ_b e_b ∂f(x_b)/∂θ for the trainable blocks (actual parameters θ, not θ̃).

    Args:
        net: the network.
        x: (T, B, n_in) inputs.
        noise: the pass's noise (B samples).
        output_error: (B,) errors e_b.

    Returns:
        dict block -> gradient array of the block's shape.
    """
    x = _check_inputs(net, x, noise)
    sas = net.moment_matched(noise.h0)
    error = np.asarray(output_error, dtype=float).reshape(-1, 1)
    grads = mean_field_vjp(sas, x, error, eps=noise.eps, eps_out=noise.eps_out).blocks()
    return _moment_to_parameter_gradients(net, grads)


class _TangentMap:
    """Per-sample tangents ∂f(x_b)/∂θ̃ of one network, with its moment network cached."""

    def __init__(self, net: NTKNetwork, x, noise: NetworkNoise):
        self.net, self.noise = net, noise
        self.x = _check_inputs(net, x, noise)
        self.sas = net.moment_matched(noise.h0[:1])
        self.derivatives = _layer_derivatives(net)
        self.factors = net.chain_factors()

    def __call__(self, index: int) -> dict:
        self.sas.h0 = self.noise.h0[index : index + 1]
        sample = slice(index, index + 1)
        grads = mean_field_vjp(
            self.sas,
            self.x[:, sample],
            np.ones((1, 1)),
            eps=self.noise.eps[:, sample],
            eps_out=self.noise.eps_out[sample],
        ).blocks()
        return _moment_to_parameter_gradients(self.net, grads, self.derivatives, self.factors)


def per_sample_tangent(net: NTKNetwork, x, noise: NetworkNoise, index: int) -> dict:
    """∂f(x_b)/∂θ̃ for one sample b, block by block (chain factors of :meth:`chain_factors`)."""
    return _TangentMap(net, x, noise)(index)


def _tangent_dot(tangent_a, tangent_b):
    return sum(float(np.vdot(tangent_a[k], tangent_b[k])) for k in tangent_a)


def empirical_ntk(net: NTKNetwork, x, noise: NetworkNoise) -> np.ndarray:
    """Empirical tangent kernel Θ̂(x_a, x_b) = Σ_θ̃ ∂f(x_a)/∂θ̃ ∂f(x_b)/∂θ̃, shape (B, B).

    Per-sample gradients come from :func:`dynamics.mean_field_vjp` with a unit error on one
    sample at a time (docs/model.md §5.1 empirical check); each sample keeps its own ε and h0.

    Args:
        net: the network.
        x: (T, B, n_in) inputs.
        noise: per-sample noise for the B samples.

    Returns:
        (B, B) symmetric positive semi-definite matrix.
    """
    tangents = _TangentMap(net, x, noise)
    blocks = net.trainable_blocks()
    jacobian = np.stack(
        [
            np.concatenate([tangent[k].ravel() for k in blocks])
            for tangent in map(tangents, range(tangents.x.shape[1]))
        ]
    )
    return jacobian @ jacobian.T


def circle_inputs(phis, n_steps):
    """docs/model.md §3.5 inputs: x1 = (1, -1[, 1]) then x2(φ) = (cos φ, sin φ[, -cos φ]) per φ.

    Returns:
        (T, 1 + len(phis), 1) array: sample 0 is x1, sample 1 + k is x2(φ_k).

    Raises:
        ValueError: T not 2 or 3.
    """
    phis = np.atleast_1d(np.asarray(phis, dtype=float))
    if n_steps == 2:
        first, second = [1.0, -1.0], [np.cos(phis), np.sin(phis)]
    elif n_steps == 3:
        first, second = [1.0, -1.0, 1.0], [np.cos(phis), np.sin(phis), -np.cos(phis)]
    else:
        raise ValueError(
            f"n_steps must be 2 or 3 for the two-input check (docs/model.md §3.5), got {n_steps}"
        )
    x = np.empty((n_steps, 1 + phis.size, 1))
    x[:, 0, 0] = first
    x[:, 1:, 0] = np.stack(second)
    return x


def circle_kernel_entries(net: NTKNetwork, x, noise: NetworkNoise) -> np.ndarray:
    """Θ̂(x1, x1), Θ̂(x1, x2), Θ̂(x2, x2) for every x2 of a :func:`circle_inputs` batch.

    Needs only 1 + n_φ per-sample gradients (sample 0 is x1), without storing them all.

    Returns:
        (n_φ, 3) array of the three kernel entries per φ.
    """
    tangents = _TangentMap(net, x, noise)
    first = tangents(0)
    k11 = _tangent_dot(first, first)
    entries = np.empty((tangents.x.shape[1] - 1, 3))
    for k in range(1, tangents.x.shape[1]):
        second = tangents(k)
        entries[k - 1] = (k11, _tangent_dot(first, second), _tangent_dot(second, second))
    return entries


def relative_frobenius_error(estimate, reference) -> float:
    """‖estimate − reference‖_F / ‖reference‖_F over all entries."""
    reference = np.asarray(reference, dtype=float)
    return float(np.linalg.norm(np.asarray(estimate) - reference) / np.linalg.norm(reference))
