"""Empirical tangent kernels and lazy-regime learning of NTK-parameterised SaS networks.

The finite-width side of docs/model.md §5.1: networks in NTK parameterisation (docs/model.md §5.1
"Parameterization"), their empirical kernel

    Θ̂(x, x') = Σ_blocks Σ_θ̃ ∂f(x)/∂θ̃ ∂f(x')/∂θ̃,
    ∂/∂m̃ = (σ/√fan_in) ∂/∂m,   ∂/∂Ξ̃ = (1/N) ∂/∂Ξ,   ∂/∂π̃ = ∂/∂π,

from per-sample gradients of :func:`dynamics.mean_field_vjp` (one-hot output errors; no doubled
``gm_rec`` and no ``K + Kᵀ − diag`` symmetrisation, docs/official-code.md §1 items 12–13),
full-batch gradient
descent on L = ½ Σ_μ (f(x_μ) − y_μ)² and its comparison with the analytic lazy prediction of
:mod:`theory`.

Trainable blocks (docs/model.md §1.4, RNTK row): ``inp.m``, ``rec.m``, ``rec.pi``, ``rec.xi``,
``out.m``,
plus ``out.pi`` and ``out.xi`` with ``sas_readout``.

π domain.  The linearised theory treats π̃ as a free coordinate around π = 0 (it gives
Θ_π_rec = Θ_m_rec).  With ``pi_domain="free"`` (default) π may leave [0, 1] slightly; the
mean-field pass only sees the moments μ = (1−π)m and v = (1−π)Ξ + π(1−π)m², so the network is
run through ``dynamics`` as the *moment-matched* network (m' = μ, π' = 0, Ξ' = max(v, 0)) and the
gradients are mapped back with the chain rule ∂L/∂θ = ∂L/∂μ ∂μ/∂θ + ∂L/∂v ∂v/∂θ (exact, since at
π' = 0: ∂L/∂m' = ∂L/∂μ and ∂L/∂Ξ' = ∂L/∂v).  ``pi_domain="clipped"`` follows the official code:
the forward pass uses clip(π̃, 0, 1) and the gradient there is applied to π̃.

Noise.  ε, ε_out and h0 ~ N(0, σ_h0²) are drawn per sample; by default they are frozen for the
whole run (``resample_noise=False``), so f is a deterministic function of θ and f_0 is exactly the
initial output the lazy prediction starts from.  ``resample_noise=True`` redraws them each epoch
as the official ``run_bptt`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dynamics import (
    SaSLayer,
    SaSNetwork,
    mean_field_forward,
    mean_field_grads,
    mean_field_vjp,
    sas_moment_derivatives,
    sas_moments,
)
from theory import gradient_descent_mse, rntk

__all__ = [
    "NTKNetwork",
    "NetworkNoise",
    "circle_inputs",
    "circle_experiment",
    "circle_kernel_entries",
    "draw_noise",
    "empirical_ntk",
    "init_ntk_network",
    "learning_curve_experiment",
    "loglog_slope",
    "mnist01_sequences",
    "network_output",
    "parameter_gradients",
    "per_sample_tangent",
    "relative_frobenius_error",
    "train_lazy_comparison",
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


# ------------------------------------------------------------------------------------------
# Lazy-regime learning: simulation vs closed form
# ------------------------------------------------------------------------------------------


def mnist01_sequences(data, rng, n_train=512, n_test=128):
    """MNIST 0/1 rows read row by row (docs/model.md §3.4): (28, n, 28) inputs and {0, 1} labels.

    The 0 and 1 digits of ``data`` (train and test pooled) are permuted with ``rng`` and split.

    Args:
        data: object with train_images (n, 784) in [0, 1], train_labels, test_images,
            test_labels (e.g. ``sims.data.load_mnist()``).
        rng: ``numpy.random.Generator``.
        n_train, n_test: split sizes.

    Returns:
        (x_train, y_train, x_test, y_test).

    Raises:
        ValueError: fewer 0/1 digits than n_train + n_test.
    """
    images = np.concatenate([data.train_images, data.test_images])
    labels = np.concatenate([data.train_labels, data.test_labels])
    keep = np.isin(labels, (0, 1))
    images, labels = images[keep], labels[keep].astype(float)
    if images.shape[0] < n_train + n_test:
        raise ValueError(
            f"only {images.shape[0]} digits 0/1 available, need n_train + n_test = "
            f"{n_train + n_test}; lower n_train/n_test or load a larger MNIST source"
        )
    order = rng.permutation(images.shape[0])[: n_train + n_test]
    seqs = images[order].reshape(-1, 28, 28).transpose(1, 0, 2)
    return seqs[:, :n_train], labels[order[:n_train]], seqs[:, n_train:], labels[order[n_train:]]


@dataclass
class LazyComparison:
    """Simulated vs analytic lazy learning of one network (losses L = ½ Σ (f − y)²).

    Attributes:
        epochs: (E+1,) epoch indices 0..E.
        train_loss, test_loss: simulated losses per epoch (before the epoch's update).
        train_loss_lazy, test_loss_lazy: analytic lazy-regime losses (discrete map, same f0).
        train_loss_lazy_flow: analytic losses of the continuous gradient flow (t = epoch).
        drift_epochs, kernel_drift: epochs where the probe kernel was measured and
            ‖Θ̂_t − Θ̂_0‖_F / ‖Θ̂_0‖_F there.
        analytic_vs_empirical_probe: ‖Θ̂_0 − Θ‖_F/‖Θ‖_F on the probe inputs at initialisation.
        extras: "f0_train" (n,) and "f0_test" (m,), the initial outputs the lazy curves start
            from (:func:`train_lazy_comparison`).
    """

    epochs: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_loss_lazy: np.ndarray
    test_loss_lazy: np.ndarray
    train_loss_lazy_flow: np.ndarray
    drift_epochs: np.ndarray
    kernel_drift: np.ndarray
    analytic_vs_empirical_probe: float
    extras: dict = field(default_factory=dict)

    def early_gap(self, fraction=0.2) -> float:
        """Mean of |L_sim − L_lazy| / L_lazy over the first ``fraction`` of the epochs (train)."""
        stop = max(2, int(round(fraction * (len(self.epochs) - 1))) + 1)
        sim, lazy = self.train_loss[:stop], self.train_loss_lazy[:stop]
        return float(np.mean(np.abs(sim - lazy) / lazy))


def _half_squared_error(f, y):
    return 0.5 * np.sum((np.asarray(f) - np.asarray(y)) ** 2, axis=-1)


def train_lazy_comparison(
    net: NTKNetwork,
    x_train,
    y_train,
    x_test,
    y_test,
    rng,
    *,
    lr=1e-3,
    epochs=100,
    n_probe=32,
    drift_every=None,
    resample_noise=False,
    theta=None,
):
    """Full-batch GD of a finite network next to the analytic lazy prediction (docs/model.md §5.1).

    GD on θ̃ with L = ½ Σ_μ (f(x_μ) − y_μ)²: θ̃ ← θ̃ − η ∂L/∂θ̃, i.e. θ ← θ − η c² ∂L/∂θ with the
    chain factors c of :meth:`NTKNetwork.chain_factors`.  The analytic prediction uses the
    kernel Θ of :func:`theory.rntk` on train + test inputs (α of the network), the same f0, and
    the discrete map f_{t+1} = f_t − ηΘ(f_t − Y) (plus the continuous flow, for reference).
    The kernel drift is measured on the first ``n_probe`` training inputs.

    Args:
        net: network (trained in place).
        x_train, y_train: (T, n, n_in) inputs and (n,) targets.
        x_test, y_test: (T, m, n_in) and (m,).
        rng: ``numpy.random.Generator`` for the noise.
        lr: η.
        epochs: number of GD steps E.
        n_probe: probe inputs for the kernel drift (0 disables it).
        drift_every: measure the drift every this many epochs (default: at E/4 multiples).
        resample_noise: redraw ε, ε_out, h0 every epoch (official code) instead of freezing.
        theta: optional precomputed analytic Θ on the concatenated (train, test) inputs.

    Returns:
        :class:`LazyComparison`.

    Raises:
        ValueError: mismatched shapes or lr <= 0, epochs < 1.
    """
    x_train, x_test = np.asarray(x_train, float), np.asarray(x_test, float)
    y_train, y_test = np.asarray(y_train, float), np.asarray(y_test, float)
    if x_train.shape[1] != y_train.shape[0] or x_test.shape[1] != y_test.shape[0]:
        raise ValueError("x_* must have shape (T, n, n_in) with n = len(y_*)")
    if not (lr > 0 and int(epochs) >= 1):
        raise ValueError(f"need lr > 0 and epochs >= 1, got lr={lr}, epochs={epochs}")
    n_steps, n_train = x_train.shape[:2]
    n_test = x_test.shape[1]
    epochs = int(epochs)
    noise_train = draw_noise(net, n_steps, n_train, rng)
    noise_test = draw_noise(net, n_steps, n_test, rng)

    # Analytic prediction from the same f0.
    f0_train = network_output(net, x_train, noise_train)
    f0_test = network_output(net, x_test, noise_test)
    if theta is None:
        theta = rntk(
            np.concatenate([x_train, x_test], axis=1),
            net.alpha,
            sigma_in=net.sigma_in,
            sigma_rec=net.sigma_rec,
            sigma_out=net.sigma_out,
            sigma_h0=net.sigma_h0,
            sas_readout=net.sas_readout,
        )
    k_train, k_test = theta[:n_train, :n_train], theta[n_train:, :n_train]
    steps = np.arange(epochs + 1)
    lazy = gradient_descent_mse(k_train, y_train, lr, discrete=True)(
        steps, f0_train, f0_test, k_test
    )
    flow = gradient_descent_mse(k_train, y_train, lr)(steps, f0_train)

    # Probe kernel for the drift (frozen probe noise, independent of resampling).
    n_probe = min(int(n_probe), n_train)
    probe_x = x_train[:, :n_probe]
    probe_noise = noise_train.sample(slice(0, n_probe))
    drift_every = drift_every or max(1, epochs // 4)
    drift_epochs, drift = [], []
    probe_0 = empirical_ntk(net, probe_x, probe_noise) if n_probe else None
    probe_error = (
        relative_frobenius_error(probe_0, theta[:n_probe, :n_probe]) if n_probe else np.nan
    )

    factors = net.chain_factors()
    train_loss, test_loss = np.empty(epochs + 1), np.empty(epochs + 1)
    for epoch in range(epochs + 1):
        if resample_noise and epoch > 0:
            noise_train = draw_noise(net, n_steps, n_train, rng)
            noise_test = draw_noise(net, n_steps, n_test, rng)
        sas = net.moment_matched(noise_train.h0)
        half_mse, moment_grads = mean_field_grads(
            sas, x_train, y_train[:, None], eps=noise_train.eps, eps_out=noise_train.eps_out
        )
        train_loss[epoch] = half_mse * n_train  # batch-mean ½(f−y)² → summed
        test_loss[epoch] = _half_squared_error(network_output(net, x_test, noise_test), y_test)
        if n_probe and epoch > 0 and (epoch % drift_every == 0 or epoch == epochs):
            probe_t = empirical_ntk(net, probe_x, probe_noise)
            drift_epochs.append(epoch)
            drift.append(relative_frobenius_error(probe_t, probe_0))
        if epoch == epochs:
            break
        grads = _moment_to_parameter_gradients(
            net, {k: v * n_train for k, v in moment_grads.blocks().items()}
        )
        for block, gradient in grads.items():
            net.params[block] -= lr * factors[block] ** 2 * gradient

    return LazyComparison(
        epochs=steps,
        train_loss=train_loss,
        test_loss=test_loss,
        train_loss_lazy=_half_squared_error(lazy[0], y_train),
        test_loss_lazy=_half_squared_error(lazy[1], y_test),
        train_loss_lazy_flow=_half_squared_error(flow, y_train),
        drift_epochs=np.asarray(drift_epochs, dtype=int),
        kernel_drift=np.asarray(drift),
        analytic_vs_empirical_probe=probe_error,
        extras={"f0_train": f0_train, "f0_test": f0_test},
    )


# ------------------------------------------------------------------------------------------
# Experiments (used by ``sasrnn kernel``)
# ------------------------------------------------------------------------------------------


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (numpy.polyfit, degree 1)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def circle_experiment(
    alpha, n_steps, widths, n_networks, rng, *, n_phi=41, sas_readout=True, progress=None
):
    """Analytic vs empirical kernels over the φ-circle inputs of docs/model.md §3.5, at several
    widths.

    For every width N, ``n_networks`` independent networks (each with its own noise) give the
    entries Θ̂(x1, x1), Θ̂(x1, x2(φ)), Θ̂(x2(φ), x2(φ)) for φ on an even grid of [0, 2π].

    Args:
        alpha: leak α.
        n_steps: T ∈ {2, 3}.
        widths: iterable of N.
        n_networks: networks per width.
        rng: ``numpy.random.Generator``.
        n_phi: grid points (41 in the official run: φ = 0, 0.05π, …, 2π).
        sas_readout: include out.pi / out.xi (docs/model.md §3.5: True).
        progress: optional callable(str) for progress messages.

    Returns:
        dict with "phis" (n_φ,), "analytic" (n_φ, 3), and per width N (key str(N)):
        "empirical" (n_networks, n_φ, 3), "mean_relative_error" (‖mean Θ̂ − Θ‖_F/‖Θ‖_F),
        "per_network_relative_error" (n_networks,); plus "slope_per_network_error" over widths
        (None with fewer than two widths).
    """
    phis = np.linspace(0.0, 2 * np.pi, int(n_phi))
    x = circle_inputs(phis, n_steps)
    theta = rntk(x, alpha, sas_readout=sas_readout)
    analytic = np.stack([np.full(phis.size, theta[0, 0]), theta[0, 1:], np.diag(theta)[1:]], 1)
    result = {"alpha": float(alpha), "n_steps": int(n_steps), "phis": phis, "analytic": analytic}
    widths = [int(n) for n in widths]
    mean_errors = []
    for width in widths:
        entries = np.empty((n_networks, phis.size, 3))
        for k in range(n_networks):
            net = init_ntk_network(1, width, alpha, rng, sas_readout=sas_readout)
            noise = draw_noise(net, n_steps, x.shape[1], rng)
            entries[k] = circle_kernel_entries(net, x, noise)
        per_network = np.array([relative_frobenius_error(e, analytic) for e in entries])
        result[str(width)] = {
            "empirical": entries,
            "mean_relative_error": relative_frobenius_error(entries.mean(0), analytic),
            "per_network_relative_error": per_network,
        }
        mean_errors.append(per_network.mean())
        if progress:
            progress(
                f"circle alpha={alpha} T={n_steps} N={width}: mean-kernel error "
                f"{result[str(width)]['mean_relative_error']:.4f}, per-network "
                f"{per_network.mean():.4f}"
            )
    result["widths"] = np.array(widths)
    result["slope_per_network_error"] = (
        loglog_slope(widths, mean_errors) if len(widths) > 1 else None
    )
    return result


def learning_curve_experiment(
    data,
    widths,
    n_networks,
    rng,
    *,
    alpha=1.0,
    lr=1e-3,
    epochs=100,
    n_train=512,
    n_test=128,
    n_probe=32,
    resample_noise=False,
    progress=None,
):
    """Simulated vs analytic lazy learning curves on MNIST 0/1 at several widths (docs/model.md
    §3.4).

    Args:
        data: MNIST-like object (see :func:`mnist01_sequences`).
        widths: iterable of N.
        n_networks: networks per width.
        rng: ``numpy.random.Generator`` (data split, initialisation and noise).
        alpha, lr, epochs, n_train, n_test, n_probe, resample_noise: see
            :func:`train_lazy_comparison`.
        progress: optional callable(str).

    Returns:
        dict with "epochs", per width (key str(N)) the stacked curves "train_loss", "test_loss",
        "train_loss_lazy", "test_loss_lazy", "train_loss_lazy_flow" (n_networks, E+1),
        "drift_epochs", "kernel_drift" (n_networks, n_checks), "early_gap" (n_networks,),
        "probe_kernel_error" (n_networks,); and over widths "mean_early_gap", "mean_final_drift",
        "slope_early_gap", "slope_final_drift".
    """
    x_train, y_train, x_test, y_test = mnist01_sequences(data, rng, n_train, n_test)
    theta = rntk(np.concatenate([x_train, x_test], axis=1), alpha)
    widths = [int(n) for n in widths]
    result = {"alpha": float(alpha), "lr": float(lr), "epochs": np.arange(int(epochs) + 1)}
    gaps, drifts = [], []
    for width in widths:
        runs = []
        for _ in range(n_networks):
            net = init_ntk_network(x_train.shape[2], width, alpha, rng)
            runs.append(
                train_lazy_comparison(
                    net,
                    x_train,
                    y_train,
                    x_test,
                    y_test,
                    rng,
                    lr=lr,
                    epochs=epochs,
                    n_probe=n_probe,
                    resample_noise=resample_noise,
                    theta=theta,
                )
            )
        entry = {
            name: np.stack([getattr(run, name) for run in runs])
            for name in (
                "train_loss",
                "test_loss",
                "train_loss_lazy",
                "test_loss_lazy",
                "train_loss_lazy_flow",
                "kernel_drift",
            )
        }
        entry["drift_epochs"] = runs[0].drift_epochs
        entry["early_gap"] = np.array([run.early_gap() for run in runs])
        entry["probe_kernel_error"] = np.array([run.analytic_vs_empirical_probe for run in runs])
        result[str(width)] = entry
        gaps.append(entry["early_gap"].mean())
        drifts.append(entry["kernel_drift"][:, -1].mean() if entry["kernel_drift"].size else np.nan)
        if progress:
            progress(
                f"curves N={width}: early train-loss gap {gaps[-1]:.4f}, final kernel drift "
                f"{drifts[-1]:.4f}, probe kernel error {entry['probe_kernel_error'].mean():.4f}"
            )
    result["widths"] = np.array(widths)
    result["mean_early_gap"] = np.array(gaps)
    result["mean_final_drift"] = np.array(drifts)
    several = len(widths) > 1
    result["slope_early_gap"] = loglog_slope(widths, gaps) if several else None
    result["slope_final_drift"] = loglog_slope(widths, drifts) if several and n_probe else None
    return result
