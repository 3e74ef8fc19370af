"""Empirical tangent kernels and lazy-regime learning of NTK-parameterised SaS networks.

The finite-width side of docs/model.md §5.1, in three modules:

* :mod:`sims.kernels.network` — the NTK-parameterised network, its noise, outputs, parameter
  gradients and empirical tangent kernel Θ̂;
* :mod:`sims.kernels.lazy` — full-batch GD of a finite network next to the closed-form lazy
  prediction of :mod:`theory` on MNIST 0/1 rows;
* :mod:`sims.kernels.experiments` — the experiments of ``sasrnn kernel`` and of a reproduction,
  and their reductions to the stored "kernel-circle" and "kernel-curves" results
  (:func:`circle_result`, :func:`curves_result`).
"""

from sims.kernels.experiments import (
    circle_experiment,
    circle_result,
    curves_result,
    learning_curve_experiment,
    loglog_slope,
    network_interval,
    slope_interval,
)
from sims.kernels.lazy import LazyComparison, mnist01_sequences, train_lazy_comparison
from sims.kernels.network import (
    NetworkNoise,
    NTKNetwork,
    circle_inputs,
    circle_kernel_entries,
    draw_noise,
    empirical_ntk,
    init_ntk_network,
    network_output,
    parameter_gradients,
    per_sample_tangent,
    relative_frobenius_error,
)

__all__ = [
    "LazyComparison",
    "NTKNetwork",
    "NetworkNoise",
    "circle_experiment",
    "circle_inputs",
    "circle_kernel_entries",
    "circle_result",
    "curves_result",
    "draw_noise",
    "empirical_ntk",
    "init_ntk_network",
    "learning_curve_experiment",
    "loglog_slope",
    "mnist01_sequences",
    "network_output",
    "parameter_gradients",
    "per_sample_tangent",
    "network_interval",
    "relative_frobenius_error",
    "slope_interval",
    "train_lazy_comparison",
]
