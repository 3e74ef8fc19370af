"""Lazy-regime learning: full-batch GD of a finite NTK network next to the closed-form lazy
prediction of :mod:`theory` (docs/model.md §3.4, §5.1).

Noise.  ε, ε_out and h0 are frozen for the whole run by default (``resample_noise=False``), so
f_0 is exactly the initial output the lazy prediction starts from; ``resample_noise=True``
redraws them each epoch as the official ``run_bptt`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dynamics import mean_field_grads
from sims.kernels.network import (
    NetworkNoise,
    NTKNetwork,
    _moment_to_parameter_gradients,
    draw_noise,
    empirical_ntk,
    network_output,
    relative_frobenius_error,
)
from theory import gradient_descent_mse, rntk

__all__ = ["LazyComparison", "mnist01_sequences", "train_lazy_comparison"]


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
        train_loss_linearised, test_loss_linearised: losses of the network linearised around
            its own initial empirical kernel Θ̂₀ (the same discrete map with Θ̂₀ in place of Θ).
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
    train_loss_linearised: np.ndarray
    test_loss_linearised: np.ndarray
    drift_epochs: np.ndarray
    kernel_drift: np.ndarray
    analytic_vs_empirical_probe: float
    extras: dict = field(default_factory=dict)

    def early_gap(self, fraction=0.2) -> float:
        """Mean of |L_sim − L_lazy| / L_lazy over the first ``fraction`` of the epochs (train)."""
        return self.early_gaps(fraction)["total"]

    def early_gaps(self, fraction=0.2) -> dict:
        """The early train-loss gap and its two parts, each a mean over the first ``fraction``
        of the epochs relative to the analytic lazy loss L_lazy:

        - "total": |L_sim − L_lazy| / L_lazy;
        - "kernel": |L_lin − L_lazy| / L_lazy, the finite-N kernel (Θ̂₀ against Θ);
        - "feature_learning": |L_sim − L_lin| / L_lazy, the trained network against its own
          linearisation (the kernel moving during training).
        """
        stop = max(2, int(round(fraction * (len(self.epochs) - 1))) + 1)
        sim, lin = self.train_loss[:stop], self.train_loss_linearised[:stop]
        lazy = self.train_loss_lazy[:stop]
        return {
            "total": float(np.mean(np.abs(sim - lazy) / lazy)),
            "kernel": float(np.mean(np.abs(lin - lazy) / lazy)),
            "feature_learning": float(np.mean(np.abs(sim - lin) / lazy)),
        }


def _concatenate(first: NetworkNoise, second: NetworkNoise) -> NetworkNoise:
    """The noise of two sample sets, one after the other."""
    return NetworkNoise(
        eps=np.concatenate([first.eps, second.eps], axis=1),
        eps_out=np.concatenate([first.eps_out, second.eps_out]),
        h0=np.concatenate([first.h0, second.h0]),
    )


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
    Beside it, the same map with the network's own initial empirical kernel Θ̂₀ on train + test
    (the linearised network), which separates the finite-N kernel from feature learning
    (:meth:`LazyComparison.early_gaps`). The kernel drift is measured on the first ``n_probe``
    training inputs.

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
        theta = rntk(np.concatenate([x_train, x_test], axis=1), net.alpha, **net.kernel_settings())
    k_train, k_test = theta[:n_train, :n_train], theta[n_train:, :n_train]
    steps = np.arange(epochs + 1)
    lazy = gradient_descent_mse(k_train, y_train, lr, discrete=True)(
        steps, f0_train, f0_test, k_test
    )
    flow = gradient_descent_mse(k_train, y_train, lr)(steps, f0_train)
    both = np.concatenate([x_train, x_test], axis=1)
    theta_0 = empirical_ntk(net, both, _concatenate(noise_train, noise_test))
    linearised = gradient_descent_mse(theta_0[:n_train, :n_train], y_train, lr, discrete=True)(
        steps, f0_train, f0_test, theta_0[n_train:, :n_train]
    )

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
        train_loss_linearised=_half_squared_error(linearised[0], y_train),
        test_loss_linearised=_half_squared_error(linearised[1], y_test),
        drift_epochs=np.asarray(drift_epochs, dtype=int),
        kernel_drift=np.asarray(drift),
        analytic_vs_empirical_probe=probe_error,
        extras={"f0_train": f0_train, "f0_test": f0_test},
    )
