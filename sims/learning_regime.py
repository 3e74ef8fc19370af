"""Learning-regime diagram: kernel drift (lazy vs feature learning) over width N × learning rate.

Probe ``kernel-drift`` (registered for :mod:`sims.scan`): one NTK-parameterised SaS RNN
(:func:`sims.kernels.init_ntk_network`) trained by full-batch GD on the MNIST 0/1 row task
(docs/model.md §3.4) next to the analytic lazy prediction
(:func:`sims.kernels.train_lazy_comparison`),
reporting the relative kernel drift ‖Θ̂_E − Θ̂_0‖_F / ‖Θ̂_0‖_F after E epochs on ``n_probe``
training inputs.  Every cell of a scan shares one data split (``data_seed``), so all cells share
the analytic kernel Θ; ``seed`` draws the network and its frozen noise.

Theory overlay (:mod:`theory.regime`, docs/model.md §5.1):

* derived, no fitting: the GD stability bound η_max = 2/λ_max(Θ) of the infinite-width map
  (Θ = :func:`theory.rntk` on the training inputs), and the lazy parameter displacement
  ‖Δθ̃_E‖ = √(r_0ᵀ A Θ⁻¹ A r_0), A = I − (I − ηΘ)^E — per cell from the network's own
  r_0 = f_0 − Y (metric ``lazy_displacement``), and on average over f_0 ~ GP(0, Θ_m_out) for the
  overlay curves;
* fitted, ONE constant: the first-order drift c ‖Δθ̃_E‖ / √N.  c is fitted by least squares on
  log drift over the cells whose measured drift is below ``FIT_MAX_DRIFT`` (the first-order
  regime), and the fit quality (r.m.s. log10 residual, on the fitted and on all cells) is stored
  with the scan.  Diagnostics, not used in the overlay: a free-exponent fit
  drift = c ‖Δθ̃‖^b N^(−γ) (theory: b = 1, γ = ½) and the naive scaling c' ηE/√N.

Run the diagram (one job at a time; ~6 min on one core at the defaults)::

    sasrnn regime --out results/phase/learning_regime --seeds 2

or scan the probe with ``sasrnn phase --probe kernel-drift --x N=... --y lr=...`` (linear axes,
η_max overlay only; the fitted curves are added by :func:`attach_drift_fit`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.optimize import curve_fit

from sims.kernels import (
    init_ntk_network,
    mnist01_sequences,
    network_interval,
    train_lazy_comparison,
)
from sims.probes import register_probe
from sims.scan import SCAN_FILE, Axis, run_scan
from sims.store import read_json, to_json, write_json
from theory.regime import (
    gd_stability_bound,
    lazy_parameter_displacement,
    width_at_kernel_drift,
)
from theory.rntk import BLOCK_NAMES, rntk_blocks

__all__ = [
    "KERNEL_DRIFT_DEFAULTS",
    "KERNEL_DRIFT_METRICS",
    "attach_drift_fit",
    "expected_lazy_displacement",
    "fit_drift_scaling",
    "network_bootstrap",
    "kernel_drift",
    "kernel_drift_theory",
    "run_learning_regime",
]

KERNEL_DRIFT_DEFAULTS = {
    "N": 64,
    "lr": 1e-3,
    "epochs": 40,
    "n_train": 128,
    "n_test": 64,
    "n_probe": 32,
    "alpha": 1.0,
    "early_fraction": 0.2,
    "resample_noise": False,
    "data_seed": 0,
    "mnist_source": "embedded",
    "seed": 0,
}
KERNEL_DRIFT_METRICS = (
    "kernel_drift",
    "early_gap",
    "final_train_loss",
    "final_lazy_loss",
    "init_kernel_error",
    "lazy_displacement",
)
#: Default diagram grid: widths (log-spaced) and learning rates around the paper's η = 1e-3.
DEFAULT_WIDTHS = (32, 64, 128, 256, 512)
DEFAULT_LEARNING_RATES = (1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3)
#: The first-order drift c‖Δθ̃‖/√N is fitted only where the measured drift is below this
#: (an O(1) relative kernel change is outside first-order perturbation theory).
FIT_MAX_DRIFT = 1.0
#: Resamples of the network bootstrap of the drift fit (:func:`network_bootstrap`).
FIT_RESAMPLES = 1000
#: Drift levels drawn as theory contours: 10 % (a common "still lazy" threshold) and 100 %.
CONTOUR_LEVELS = (0.1, 1.0)
#: Learning-rate points of the theory curves.
THEORY_GRID_POINTS = 161


# ----------------------------------------------------------------------------------------------
# Data and analytic kernels, cached per process (every cell of a scan shares them)


@lru_cache(maxsize=4)
def _mnist_split(n_train, n_test, data_seed, source):
    from sims.data import load_mnist

    data = load_mnist(source)
    return mnist01_sequences(data, np.random.default_rng(data_seed), n_train, n_test)


@lru_cache(maxsize=4)
def _analytic_kernels(n_train, n_test, data_seed, source, alpha):
    """(Θ on train + test inputs, Θ_m_out on the training inputs) of theory.rntk (σ's = 1)."""
    x_train, _, x_test, _ = _mnist_split(n_train, n_test, data_seed, source)
    blocks = rntk_blocks(np.concatenate([x_train, x_test], axis=1), alpha)
    theta = sum(blocks[name] for name in BLOCK_NAMES if name in blocks)
    return theta, blocks["out.m"][:n_train, :n_train]


def _check_config(config):
    problems = []
    if int(config["N"]) < 1:
        problems.append(f"N must be >= 1 (got {config['N']})")
    if not float(config["lr"]) > 0:
        problems.append(f"lr must be > 0 (got {config['lr']})")
    if int(config["epochs"]) < 1:
        problems.append(f"epochs must be >= 1 (got {config['epochs']})")
    if int(config["n_train"]) < 2 or int(config["n_test"]) < 1:
        problems.append(
            f"need n_train >= 2 and n_test >= 1 (got {config['n_train']}, {config['n_test']})"
        )
    if not 2 <= int(config["n_probe"]) <= int(config["n_train"]):
        problems.append(f"n_probe must lie in [2, n_train] (got {config['n_probe']})")
    if not 0 < float(config["alpha"]) <= 1:
        problems.append(f"alpha must lie in (0, 1] (got {config['alpha']})")
    if not 0 < float(config["early_fraction"]) <= 1:
        problems.append(f"early_fraction must lie in (0, 1] (got {config['early_fraction']})")
    if problems:
        raise ValueError("kernel-drift config: " + "; ".join(problems))


def expected_lazy_displacement(config):
    """``displacement_fn(lr, t)``: RMS lazy displacement over f_0 ~ GP(0, Θ_m_out) for ``config``.

    E[r_0 r_0ᵀ] = Y Yᵀ + Θ_m_out(X, X) (theory.regime, item 2), Θ of theory.rntk on the
    config's training inputs.
    """
    _, y_train, _, _ = _mnist_split(
        int(config["n_train"]),
        int(config["n_test"]),
        int(config["data_seed"]),
        str(config["mnist_source"]),
    )
    theta, k_readout = _analytic_kernels(
        int(config["n_train"]),
        int(config["n_test"]),
        int(config["data_seed"]),
        str(config["mnist_source"]),
        float(config["alpha"]),
    )
    n = int(config["n_train"])
    return lazy_parameter_displacement(theta[:n, :n], np.outer(y_train, y_train) + k_readout)


# ----------------------------------------------------------------------------------------------
# The probe


def kernel_drift_theory(x_key, x_values, y_key, y_values, config) -> dict | None:
    """Derived lazy-limit overlay: η_max = 2/λ_max(Θ) and the expected displacement along lr.

    Returns None unless "lr" is a scanned axis.

    Returns:
        {"quantity", "eta_max", "lambda_max", "lr" (grid), "expected_displacement" (on the grid,
         after ``epochs`` steps), "reference_lines": [{"axis", "value", "label"}]}.
    """
    if "lr" not in (x_key, y_key):
        return None
    n = int(config["n_train"])
    theta, _ = _analytic_kernels(
        n,
        int(config["n_test"]),
        int(config["data_seed"]),
        str(config["mnist_source"]),
        float(config["alpha"]),
    )
    eta_max, lambda_max = gd_stability_bound(theta[:n, :n])
    lrs = np.asarray(x_values if x_key == "lr" else y_values, dtype=float)
    grid = np.geomspace(lrs.min() / 2, lrs.max() * 2, THEORY_GRID_POINTS)
    displacement = expected_lazy_displacement(config)(grid, int(config["epochs"]))
    return {
        "quantity": "lazy limit (theory.regime): GD stability bound eta_max = 2/lambda_max(Theta) "
        "and RMS lazy parameter displacement after `epochs` steps",
        "eta_max": eta_max,
        "lambda_max": lambda_max,
        "lr": grid.tolist(),
        "expected_displacement": displacement.tolist(),
        "reference_lines": [
            {
                "axis": "y" if y_key == "lr" else "x",
                "value": eta_max,
                "label": rf"GD stability bound $\eta_{{\max}}=2/\lambda_{{\max}}(\Theta)$"
                rf" = {eta_max:.3g}: lazy GD diverges above",
            }
        ],
    }


@register_probe(
    "kernel-drift",
    defaults=KERNEL_DRIFT_DEFAULTS,
    metrics=KERNEL_DRIFT_METRICS,
    theory=kernel_drift_theory,
    description=(
        "kernel drift and lazy-theory gap of full-batch GD on MNIST 0/1 (docs/model.md §3.4, §5.1)"
    ),
)
def kernel_drift(config: dict) -> dict[str, float]:
    """Train one NTK-parameterised SaS RNN on MNIST 0/1; measure how far it leaves the lazy regime.

    Data: ``mnist01_sequences`` with ``default_rng(data_seed)`` (rows as T = 28 steps of 28
    inputs).  Network and noise: ``init_ntk_network(28, N, alpha, rng)`` then
    ``train_lazy_comparison(..., rng)`` with ``rng = default_rng(seed)``: ``epochs`` full-batch
    GD steps at η = ``lr`` on L = ½ Σ_μ (f − y)², frozen noise unless ``resample_noise``.

    Args:
        config: keys of :data:`KERNEL_DRIFT_DEFAULTS`: N (width), lr (η), epochs (E), n_train,
            n_test, n_probe (inputs of the drift kernel), alpha, early_fraction, resample_noise,
            data_seed, mnist_source (sims.data.load_mnist), seed.

    Returns:
        {"kernel_drift": ‖Θ̂_E − Θ̂_0‖_F/‖Θ̂_0‖_F on the first n_probe training inputs,
         "early_gap": mean |L_sim − L_lazy|/L_lazy (train) over the first early_fraction of the
         epochs, "final_train_loss", "final_lazy_loss": ½ Σ (f − y)² over the training set at
         epoch E (simulated; analytic discrete lazy map from the same f_0),
         "init_kernel_error": ‖Θ̂_0 − Θ‖_F/‖Θ‖_F on the probe inputs,
         "lazy_displacement": ‖Δθ̃_E‖ of the lazy map from this network's r_0 (theory.regime)}.
        NaN where GD diverged.

    Raises:
        ValueError: a config value out of range (the message names it).
    """
    _check_config(config)
    n_train, n_test = int(config["n_train"]), int(config["n_test"])
    data_seed, source = int(config["data_seed"]), str(config["mnist_source"])
    split = _mnist_split(n_train, n_test, data_seed, source)  # x_train, y_train, x_test, y_test
    x_train, y_train = split[:2]
    theta, _ = _analytic_kernels(n_train, n_test, data_seed, source, float(config["alpha"]))
    rng = np.random.default_rng(int(config["seed"]))
    net = init_ntk_network(x_train.shape[2], int(config["N"]), float(config["alpha"]), rng)
    lr, epochs = float(config["lr"]), int(config["epochs"])
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            run = train_lazy_comparison(
                net,
                *split,
                rng,
                lr=lr,
                epochs=epochs,
                n_probe=int(config["n_probe"]),
                drift_every=epochs,
                resample_noise=bool(config["resample_noise"]),
                theta=theta,
            )
        except ValueError as error:  # GD diverged: the parameters became NaN or inf
            if "NaN or inf" not in str(error):
                raise
            return dict.fromkeys(KERNEL_DRIFT_METRICS, np.nan)
        residual = run.extras["f0_train"] - y_train
        displacement = lazy_parameter_displacement(theta[:n_train, :n_train], residual)
        metrics = {
            "kernel_drift": float(run.kernel_drift[-1]),
            "early_gap": run.early_gap(float(config["early_fraction"])),
            "final_train_loss": float(run.train_loss[-1]),
            "final_lazy_loss": float(run.train_loss_lazy[-1]),
            "init_kernel_error": float(run.analytic_vs_empirical_probe),
            "lazy_displacement": float(displacement(lr, epochs)),
        }
    return {k: (v if np.isfinite(v) else np.nan) for k, v in metrics.items()}


# ----------------------------------------------------------------------------------------------
# Fitting the one constant of the first-order drift


def _log_linear(features, *coefficients):
    return features.T @ np.asarray(coefficients)


def _least_squares(features, target, with_intervals=False):
    """Coefficients of target ≈ featuresᵀ coefficients (scipy curve_fit, linear model), the
    residual, and with ``with_intervals`` the 95% t-intervals of the coefficients from curve_fit's
    covariance (residual variance estimated from the fit, n − p degrees of freedom)."""
    coefficients, covariance = curve_fit(
        _log_linear, features, target, p0=np.zeros(features.shape[0])
    )
    residual = target - _log_linear(features, *coefficients)
    if not with_intervals:
        return coefficients, residual
    dof = target.size - coefficients.size
    half = (
        stats.t.ppf(0.975, dof) * np.sqrt(np.diag(covariance))
        if dof > 0 and np.all(np.isfinite(covariance))
        else np.full(coefficients.size, np.nan)
    )
    return coefficients, residual, np.stack([coefficients - half, coefficients + half], axis=1)


def _format(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _leave_one_width_out(widths, log_drift, scaled) -> dict:
    """Out-of-sample score of the one-constant fit: for every width, c is fitted on the other
    widths' points and scored on that width's. Returns the r.m.s. log10 residual over all held-out
    points and per width (None with fewer than two widths)."""
    distinct = np.unique(widths)
    if distinct.size < 2:
        return {"rms_log10_residual": None, "per_width": {}}
    held_out, per_width = [], {}
    for width in distinct:
        train, test = widths != width, widths == width
        (log_c,), _ = _least_squares(np.ones((1, train.sum())), log_drift[train] - scaled[train])
        residual = log_drift[test] - scaled[test] - log_c
        held_out.append(residual)
        per_width[str(int(width))] = float(np.sqrt(np.mean(residual**2)))
    return {
        "rms_log10_residual": float(np.sqrt(np.mean(np.concatenate(held_out) ** 2))),
        "per_width": per_width,
    }


def fit_drift_scaling(
    widths, displacement, drift, *, lr=None, epochs=None, max_drift=FIT_MAX_DRIFT
) -> dict:
    """Fit the one constant c of drift ≈ c ‖Δθ̃‖ / √N (theory.regime) in log space.

    ``log10 drift = log10 c + log10(‖Δθ̃‖/√N)`` by least squares (scipy.optimize.curve_fit) over
    the points with 0 < drift < ``max_drift``.  Also reported, as diagnostics: the free-exponent
    fit log drift = a + b log ‖Δθ̃‖ − γ log N (theory b = 1, γ = ½) and, if ``lr`` and
    ``epochs`` are given, the one-constant fit of the naive scaling c' η E / √N.

    Args:
        widths, displacement, drift: equal-shape arrays (N, ‖Δθ̃_E‖, measured drift per point).
        lr, epochs: optional, for the naive ηE/√N fit (lr of the same shape).
        max_drift: fit only points with measured drift below this.

    Returns:
        {"constant", "max_drift", "n_fitted", "n_points", "rms_log10_residual" (fitted points,
         in sample), "leave_one_width_out": {"rms_log10_residual", "per_width"} (each width's
         points scored with c fitted on the other widths), "rms_log10_residual_all",
         "residual_log10" (all points, NaN where not finite), "free_exponents":
         {"displacement", "displacement_ci", "width", "width_ci" (95% t-intervals from the
         fit's covariance, which treats the points as independent; :func:`network_bootstrap`
         gives intervals over networks),
         "rms_log10_residual"},
         "naive": {"constant", "rms_log10_residual"} (only with lr and epochs)}.

    Raises:
        ValueError: shapes differ, or fewer than 3 usable points.
    """
    widths, displacement, drift = (
        np.asarray(a, dtype=float).ravel() for a in (widths, displacement, drift)
    )
    if not widths.shape == displacement.shape == drift.shape:
        raise ValueError("widths, displacement and drift must have the same number of points")
    usable = np.isfinite(drift) & (drift > 0) & np.isfinite(displacement) & (displacement > 0)
    fitted = usable & (drift < max_drift)
    if fitted.sum() < 3:
        raise ValueError(
            f"need >= 3 points with 0 < drift < {max_drift} to fit; got "
            f"{int(fitted.sum())} (lower lr or raise N)"
        )
    log_drift = np.log10(np.where(usable, drift, 1.0))
    scaled = np.log10(np.where(usable, displacement, 1.0) / np.sqrt(widths))
    (log_c,), _ = _least_squares(np.ones((1, fitted.sum())), log_drift[fitted] - scaled[fitted])
    residual = np.where(usable, log_drift - scaled - log_c, np.nan)
    features = np.stack(
        [np.ones(fitted.sum()), np.log10(displacement[fitted]), np.log10(widths[fitted])]
    )
    free, free_residual, free_intervals = _least_squares(
        features, log_drift[fitted], with_intervals=True
    )
    result = {
        "constant": float(10**log_c),
        "max_drift": float(max_drift),
        "n_fitted": int(fitted.sum()),
        "n_points": int(drift.size),
        "rms_log10_residual": float(np.sqrt(np.mean(residual[fitted] ** 2))),
        "rms_log10_residual_all": float(np.sqrt(np.nanmean(residual[usable] ** 2))),
        "leave_one_width_out": _leave_one_width_out(
            widths[fitted], log_drift[fitted], scaled[fitted]
        ),
        "residual_log10": residual.tolist(),
        "free_exponents": {
            "intercept_log10": float(free[0]),
            "displacement": float(free[1]),
            "displacement_ci": free_intervals[1].tolist(),
            "width": float(-free[2]),
            "width_ci": sorted((-free_intervals[2]).tolist()),
            "rms_log10_residual": float(np.sqrt(np.mean(free_residual**2))),
        },
    }
    if lr is not None and epochs is not None:
        naive = np.log10(np.asarray(lr, dtype=float).ravel() * epochs / np.sqrt(widths))
        (log_c_naive,), naive_residual = _least_squares(
            np.ones((1, fitted.sum())), log_drift[fitted] - naive[fitted]
        )
        result["naive"] = {
            "constant": float(10**log_c_naive),
            "rms_log10_residual": float(np.sqrt(np.mean(naive_residual**2))),
        }
    return result


def _fitted_numbers(widths, displacement, drift, max_drift) -> np.ndarray:
    """(c, b, γ) of :func:`fit_drift_scaling` on seed means, NaN where it cannot fit."""
    try:
        fit = fit_drift_scaling(widths, displacement, drift, max_drift=max_drift)
    except ValueError:
        return np.full(3, np.nan)
    free = fit["free_exponents"]
    return np.array([fit["constant"], free["displacement"], free["width"]])


def network_bootstrap(
    widths, displacement, drift, *, max_drift=FIT_MAX_DRIFT, n_resamples=FIT_RESAMPLES, seed=0
) -> dict:
    """95% intervals of the drift fit's c and free exponents b, γ that resample the networks.

    The networks of a width are the same at every learning rate, so the unit of resampling is a
    network: each resample draws every width's K networks with replacement (independently across
    widths, :func:`sims.kernels.network_interval`), recomputes the seed
    means of the displacement and the drift at every grid point and refits
    (:func:`fit_drift_scaling`). The t-intervals of ``fit_drift_scaling`` treat the grid
    points' means as independent, which they are not.

    Args:
        widths: (L, W) the width N of every grid point, constant down each column.
        displacement, drift: (L, W, K) per-network values (K networks per width).
        max_drift, n_resamples, seed: the fit's cut, the resamples and the generator's seed.

    Returns:
        {"constant_ci", "displacement_ci", "width_ci" (pairs), "n_resamples", "n_networks",
         "method"}.
    """
    widths = np.asarray(widths, dtype=float)
    displacement, drift = (np.asarray(a, dtype=float) for a in (displacement, drift))
    n_networks = drift.shape[2]

    def statistic(*chosen):
        columns = [
            (displacement[:, w, index].mean(axis=1), drift[:, w, index].mean(axis=1))
            for w, index in enumerate(chosen)
        ]
        return _fitted_numbers(
            widths,
            np.stack([c[0] for c in columns], axis=1),
            np.stack([c[1] for c in columns], axis=1),
            max_drift,
        )

    low, high = network_interval(
        [np.arange(n_networks)] * widths.shape[1], statistic, n_resamples, seed
    )
    return {
        "constant_ci": [float(low[0]), float(high[0])],
        "displacement_ci": [float(low[1]), float(high[1])],
        "width_ci": [float(low[2]), float(high[2])],
        "n_resamples": int(n_resamples),
        "n_networks": int(n_networks),
        "method": "percentile bootstrap over networks, resampled within each width",
    }


def attach_drift_fit(scan_dir, *, max_drift=FIT_MAX_DRIFT, levels=CONTOUR_LEVELS) -> dict:
    """Fit c on a stored (N × lr) kernel-drift scan and add the fit and its curves to scan.json.

    Adds ``theory["fit"]`` (:func:`fit_drift_scaling` on the seed-mean drift and lazy
    displacement per grid point) and ``theory["curves"]``: for each level, the contour
    drift = level of c ‖Δθ̃_E‖ / √N with the RMS displacement over f_0 — N(η) =
    (c ‖Δθ̃_E(η)‖ / level)² (theory.regime.width_at_kernel_drift), as {"x", "y", "level",
    "label"} in the scan's axes — plus, marked "kind": "free fit", the drift = levels[0] contour
    of the free-exponent fit (a diagnostic of where the data depart from the lazy scaling).

    Returns:
        The updated scan.json content.

    Raises:
        FileNotFoundError: no scan.json in ``scan_dir``.
        ValueError: not a kernel-drift scan over N and lr, or too few points to fit.
    """
    path = Path(scan_dir) / SCAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no scan summary at {path}; run the scan first")
    scan = read_json(path, "scan", fix="rerun the scan into an empty directory")
    keys = (scan["x"]["key"], scan["y"]["key"])
    if scan.get("probe") != "kernel-drift" or set(keys) != {"N", "lr"}:
        raise ValueError(
            f"{path} is not a kernel-drift scan over N and lr (probe "
            f"{scan.get('probe')!r}, axes {keys}); nothing to fit"
        )
    x, y = (np.asarray(scan[a]["values"], dtype=float) for a in ("x", "y"))
    grid_x, grid_y = np.meshgrid(x, y)
    widths, lrs = (grid_x, grid_y) if keys[0] == "N" else (grid_y, grid_x)

    def metric(name):
        return np.array(
            [[np.nan if v is None else v for v in row] for row in scan["metrics"][name]],
            dtype=float,
        )

    config = {**scan["config"], "N": 1, "lr": 1.0}
    epochs = int(config["epochs"])
    fit = fit_drift_scaling(
        widths,
        metric("lazy_displacement"),
        metric("kernel_drift"),
        lr=lrs,
        epochs=epochs,
        max_drift=max_drift,
    )
    per_seed = scan.get("per_seed_metrics", {})
    if {"kernel_drift", "lazy_displacement"} <= set(per_seed) and len(scan["seeds"]) > 1:
        columns = (0, 1, 2) if keys[0] == "N" else (1, 0, 2)  # to (lr, N, seed)
        fit["network_bootstrap"] = network_bootstrap(
            widths if keys[0] == "N" else widths.T,
            *(  # None (NaN in the file) becomes NaN
                np.transpose(np.array(per_seed[name], dtype=float), columns)
                for name in ("lazy_displacement", "kernel_drift")
            ),
            max_drift=max_drift,
        )
    theory = scan.setdefault("theory", {})
    grid = np.geomspace(lrs.min() / 2, lrs.max() * 2, THEORY_GRID_POINTS)
    displacement = expected_lazy_displacement(config)(grid, epochs)
    curves = []
    for level in levels:
        width = width_at_kernel_drift(level, displacement, fit["constant"])
        xs, ys = (width, grid) if keys[0] == "N" else (grid, width)
        curves.append(
            {
                "x": xs.tolist(),
                "y": ys.tolist(),
                "level": level,
                "label": rf"lazy theory $c\,\|\Delta\tilde\theta\|/\sqrt{{N}}$ = {level:g}"
                + (rf" ($c$ = {fit['constant']:.2g} fitted)" if level == levels[0] else ""),
            }
        )
    free = fit["free_exponents"]
    level = levels[0]
    width = (10 ** free["intercept_log10"] * displacement ** free["displacement"] / level) ** (
        1 / free["width"]
    )
    xs, ys = (width, grid) if keys[0] == "N" else (grid, width)
    curves.append(
        {
            "x": xs.tolist(),
            "y": ys.tolist(),
            "level": level,
            "kind": "free fit",
            "label": r"free fit $\propto\|\Delta\tilde\theta\|^{"
            rf"{free['displacement']:.2f}}}N^{{-{free['width']:.2f}}}$"
            rf" = {level:g} (diagnostic)",
        }
    )
    theory["fit"] = fit
    theory["curves"] = curves
    theory["curves_note"] = (
        f"c = {fit['constant']:.3g} fitted on {fit['n_fitted']} grid points "
        f"with drift < {max_drift:g}; rms log10 residual "
        f"{fit['rms_log10_residual']:.2f} in sample, "
        f"{_format(fit['leave_one_width_out']['rms_log10_residual'])} leaving one width out"
    )
    write_json(path, "scan", scan)
    return to_json(scan, allow_nan=True)


def run_learning_regime(
    out,
    *,
    widths=DEFAULT_WIDTHS,
    learning_rates=DEFAULT_LEARNING_RATES,
    seeds=2,
    fixed=None,
    jobs=1,
    progress=True,
) -> dict:
    """Scan kernel-drift over width × learning rate (explicit, log-spaced values) and fit c.

    Args:
        out: output directory (cells/ and scan.json, :func:`sims.scan.run_scan`).
        widths: N values (x axis).
        learning_rates: η values (y axis).
        seeds: networks per grid point.
        fixed: other probe config overrides (e.g. {"epochs": 40, "n_train": 256}).
        jobs: local worker processes.
        progress: tqdm bar.

    Returns:
        The scan.json content with ``theory["fit"]`` and ``theory["curves"]``.
    """
    run_scan(
        "kernel-drift",
        Axis("N", tuple(sorted(float(n) for n in widths)), "log"),
        Axis("lr", tuple(sorted(float(v) for v in learning_rates)), "log"),
        "kernel_drift",
        out=out,
        fixed=fixed,
        seeds=seeds,
        jobs=jobs,
        progress=progress,
    )
    return attach_drift_fit(out)
