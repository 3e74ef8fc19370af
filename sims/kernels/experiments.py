"""Kernel experiments of ``sasrnn kernel`` and of a reproduction (Fig. 6, Appendix A1).

:func:`circle_experiment` and :func:`learning_curve_experiment` return every number and array;
:func:`circle_result` and :func:`curves_result` run them from a seed and reduce them to the stored
"kernel-circle" and "kernel-curves" results (summary dict and arrays, :mod:`sims.store`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sims.analyses.training import CONFIDENCE, t_interval
from sims.kernels.lazy import mnist01_sequences, train_lazy_comparison
from sims.kernels.network import (
    circle_inputs,
    circle_kernel_entries,
    draw_noise,
    init_ntk_network,
    relative_frobenius_error,
)
from theory import rntk

__all__ = [
    "circle_experiment",
    "circle_result",
    "curves_result",
    "learning_curve_experiment",
    "loglog_slope",
    "network_interval",
    "slope_interval",
]

#: Bootstrap resamples of the interval of a log-log slope over widths (:func:`slope_interval`).
SLOPE_RESAMPLES = 2000
#: The early-gap parts a "kernel-curves" result reports per width (see
#: :meth:`sims.kernels.lazy.LazyComparison.early_gaps`).
EARLY_GAPS = ("early_gap", "early_gap_kernel", "early_gap_feature_learning")


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (numpy.polyfit, degree 1)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def network_interval(samples, statistic, n_resamples, seed=0):
    """(low, high) of the 95% percentile-bootstrap interval of ``statistic(*samples)`` when
    every sample (the networks of one width) is redrawn with replacement, independently of the
    others (``scipy.stats.bootstrap``, unpaired); arrays when ``statistic`` returns several."""
    interval = stats.bootstrap(
        samples,
        statistic,
        vectorized=False,
        paired=False,
        n_resamples=n_resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(seed),
    ).confidence_interval
    return interval.low, interval.high


def slope_interval(widths, per_network, seed=0) -> list[float] | None:
    """95% percentile-bootstrap interval of the log-log slope of the per-width mean against N.

    ``per_network`` holds one array of per-network values for each width; every resample draws
    the networks of each width with replacement, independently across widths
    (``scipy.stats.bootstrap``, unpaired samples), and refits the slope of :func:`loglog_slope`.
    None when a width has fewer than 2 networks (no spread to resample) or fewer than 2 widths.
    """
    samples = [np.asarray(values, dtype=float) for values in per_network]
    if len(samples) < 2 or min(s.size for s in samples) < 2:
        return None

    def slope(*values):
        return loglog_slope(widths, [v.mean() for v in values])

    low, high = network_interval(samples, slope, SLOPE_RESAMPLES, seed)
    return [float(low), float(high)]


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
        "train_loss_lazy", "test_loss_lazy", "train_loss_lazy_flow", "train_loss_linearised",
        "test_loss_linearised" (n_networks, E+1), "drift_epochs", "kernel_drift"
        (n_networks, n_checks), "early_gap", "early_gap_kernel", "early_gap_feature_learning"
        (n_networks,), see :meth:`LazyComparison.early_gaps`,
        "probe_kernel_error" (n_networks,); and over widths "mean_early_gap", "mean_final_drift",
        "slope_early_gap", "slope_final_drift".
    """
    split = mnist01_sequences(data, rng, n_train, n_test)  # x_train, y_train, x_test, y_test
    x_train, _, x_test, _ = split
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
                    *split,
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
                "train_loss_linearised",
                "test_loss_linearised",
                "kernel_drift",
            )
        }
        entry["drift_epochs"] = runs[0].drift_epochs
        parts = [run.early_gaps() for run in runs]
        for part in ("total", "kernel", "feature_learning"):
            name = "early_gap" if part == "total" else f"early_gap_{part}"
            entry[name] = np.array([gaps_of_run[part] for gaps_of_run in parts])
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


#: The loss curves a "kernel-curves" result stores per width (BPTT and lazy RNTK, train and test).
STORED_LOSSES = (
    "train_loss",
    "test_loss",
    "train_loss_lazy",
    "test_loss_lazy",
    "train_loss_linearised",
    "test_loss_linearised",
)


def circle_result(alpha, n_steps, widths, n_networks, n_phi, seed) -> tuple[dict, dict]:
    """The "kernel-circle" result: analytic vs empirical RNTK entries over φ (Fig. 6a, App. A1).

    Runs :func:`circle_experiment` with ``np.random.default_rng(seed)`` and the SaS readout.

    Args:
        alpha: leak α.
        n_steps: T ∈ {2, 3}.
        widths: widths N.
        n_networks: networks per width.
        n_phi: φ grid points on [0, 2π].
        seed: seed of the one generator drawing every network and its noise.

    Returns:
        ``(summary, arrays)``. Summary: the settings and, per width (key str(N)), the relative
        error of the network-mean kernel ‖mean Θ̂ − Θ‖_F/‖Θ‖_F, the mean and s.d. over networks
        of the per-network error, and the fractions of entries whose network mean lies within one
        s.d. (between networks) and within one standard error of the mean of the analytic value;
        the log-log slope of the per-network error against N (None with one width) and its 95%
        bootstrap interval over networks (:func:`slope_interval`). Arrays: ``phis`` (n_φ,),
        ``analytic`` (n_φ, 3) and ``empirical_N<N>`` (n_networks, n_φ, 3), the entries
        Θ(x1, x1), Θ(x1, x2(φ)), Θ(x2(φ), x2(φ)).
    """
    result = circle_experiment(
        alpha, n_steps, widths, n_networks, np.random.default_rng(seed), n_phi=n_phi
    )
    analytic = result["analytic"]
    per_width, arrays = {}, {"phis": result["phis"], "analytic": analytic}
    for width in widths:
        entry = result[str(width)]
        empirical = entry["empirical"]
        arrays[f"empirical_N{width}"] = empirical
        deviation = np.abs(empirical.mean(0) - analytic)
        per_width[str(width)] = {
            "mean_relative_error": entry["mean_relative_error"],
            "per_network_error_mean": float(entry["per_network_relative_error"].mean()),
            "per_network_error_std": float(entry["per_network_relative_error"].std()),
            "within_one_sd_fraction": float(np.mean(deviation <= empirical.std(0))),
            "within_one_se_fraction": float(
                np.mean(deviation <= empirical.std(0, ddof=1) / np.sqrt(len(empirical)))
                if len(empirical) > 1
                else np.nan
            ),
        }
    summary = {
        "alpha": alpha,
        "n_steps": n_steps,
        "widths": list(widths),
        "n_networks": n_networks,
        "n_phi": n_phi,
        "sas_readout": True,
        "per_width": per_width,
        "slope_per_network_error": result["slope_per_network_error"],
        "slope_per_network_error_ci": slope_interval(
            widths, [result[str(width)]["per_network_relative_error"] for width in widths], seed
        ),
    }
    return summary, arrays


def curves_result(
    data,
    widths,
    n_networks,
    epochs,
    n_train,
    n_test,
    seed,
    *,
    lr=1e-3,
    n_probe=32,
    resample_noise=False,
) -> tuple[dict, dict]:
    """The "kernel-curves" result: BPTT vs lazy RNTK learning curves on MNIST 0/1 (Fig. 6b).

    Runs :func:`learning_curve_experiment` on ``sims.data.load_mnist(data)`` with
    ``np.random.default_rng(seed)`` (split, networks and noise) and α = 1.

    Args:
        data: MNIST source of :func:`sims.data.load_mnist` ("embedded", a directory, ...).
        widths: widths N.
        n_networks: networks per width.
        epochs: full-batch GD steps E.
        n_train, n_test: digits in the training and test split.
        seed: seed of the one generator.
        lr: learning rate η of full-batch GD.
        n_probe: the kernel drift is measured on min(n_probe, n_train) training inputs.
        resample_noise: redraw ε and h0 every epoch (official code) instead of freezing them.

    Returns:
        ``(summary, arrays)``. Summary: the settings and, per width, the mean early train-loss
        gap and its two parts, each also as ``<name>_interval`` (the 95% t-interval over the
        networks, :func:`sims.analyses.training.t_interval`), the final kernel drift (None
        without probe inputs), the final losses per sample and the relative final test-loss gap
        |L_test − L_test,lazy|/L_test,lazy; the log-log slopes of the early gap and of the drift
        against N, and "slope_early_gap_ci", the early-gap slope's 95% bootstrap interval
        (:func:`slope_interval`; None with one network a width). Arrays: ``epochs`` (E+1,) and
        ``<loss>_N<N>`` (n_networks, E+1) for each of :data:`STORED_LOSSES` (L = ½ Σ (f − y)²).
    """
    from sims.data import load_mnist

    result = learning_curve_experiment(
        load_mnist(data),
        widths,
        n_networks,
        np.random.default_rng(seed),
        epochs=epochs,
        n_train=n_train,
        lr=lr,
        n_test=n_test,
        n_probe=min(n_probe, n_train),
        resample_noise=resample_noise,
    )
    arrays = {"epochs": result["epochs"]}
    per_width = {}
    for width in widths:
        entry = result[str(width)]
        for name in STORED_LOSSES:
            arrays[f"{name}_N{width}"] = entry[name]
        final = {name: float(entry[name][:, -1].mean()) for name in STORED_LOSSES}
        per_width[str(width)] = {
            **{name: float(entry[name].mean()) for name in EARLY_GAPS},
            **{f"{name}_interval": t_interval(entry[name]) for name in EARLY_GAPS},
            "final_kernel_drift": (
                float(entry["kernel_drift"][:, -1].mean()) if entry["kernel_drift"].size else None
            ),
            "final_losses_per_sample": {
                k: v / (n_train if k.startswith("train") else n_test) for k, v in final.items()
            },
            "final_test_gap": abs(final["test_loss"] - final["test_loss_lazy"])
            / final["test_loss_lazy"],
        }
    summary = {
        "alpha": result["alpha"],
        "lr": result["lr"],
        "epochs": epochs,
        "widths": list(widths),
        "n_networks": n_networks,
        "n_train": n_train,
        "n_test": n_test,
        "n_probe": min(n_probe, n_train),
        "resample_noise": resample_noise,
        "data": data,
        "per_width": per_width,
        "slope_early_gap": result["slope_early_gap"],
        "slope_early_gap_ci": slope_interval(
            widths, [result[str(width)]["early_gap"] for width in widths], seed
        ),
        "slope_final_drift": result["slope_final_drift"],
    }
    return summary, arrays
