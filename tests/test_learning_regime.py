"""Learning-regime diagram: the kernel-drift probe, the lazy-limit theory and the fitted overlay."""

import json

import numpy as np
import pytest

from sims.learning_regime import (
    attach_drift_fit,
    expected_lazy_displacement,
    fit_drift_scaling,
    kernel_drift_theory,
    network_bootstrap,
)
from sims.probes import get_probe
from sims.scan import Axis, run_scan
from theory import rntk, rntk_blocks
from theory.regime import (
    gd_stability_bound,
    lazy_kernel_drift,
    lazy_parameter_displacement,
    width_at_kernel_drift,
)

#: A config whose cell runs in well under a second (MNIST 0/1, T = 28 rows).
TINY = {"N": 12, "n_train": 12, "n_test": 4, "n_probe": 6, "epochs": 6}
#: Same linear algebra in two ways (eigenbasis vs explicit sums): float64 round-off.
ROUNDOFF = 1e-9
#: Steps of the lazy map at 1 % past the stability bound: |1 - ηλ_max| = 1.01 grows the top
#: mode by 1.01^2000 ≈ 4e8.
DIVERGENCE_STEPS = 2000


def random_kernel(rng, n=6, parameters=40):
    jacobian = rng.standard_normal((n, parameters))
    return jacobian, jacobian @ jacobian.T


# ----------------------------------------------------------------------------------------------
# theory.regime


def test_stability_bound_is_two_over_the_largest_rntk_eigenvalue():
    x = np.random.default_rng(0).uniform(0, 1, (5, 7, 3))
    theta = rntk(x, 1.0)
    eta_max, lambda_max = gd_stability_bound(theta)
    assert lambda_max == pytest.approx(np.linalg.eigvalsh(theta).max(), rel=ROUNDOFF)
    assert eta_max == pytest.approx(2 / lambda_max, rel=ROUNDOFF)


def test_probe_theory_reports_the_stability_bound_of_its_own_training_kernel():
    probe = get_probe("kernel-drift")
    config = probe.resolve(TINY)
    theory = kernel_drift_theory("N", (8, 16), "lr", (1e-4, 1e-3), config)
    from sims.learning_regime import _mnist_split

    x_train = _mnist_split(12, 4, 0, "embedded")[0]
    eta_max, _ = gd_stability_bound(rntk(x_train, 1.0))
    assert theory["eta_max"] == pytest.approx(eta_max, rel=1e-9)
    assert theory["reference_lines"][0] == {
        **theory["reference_lines"][0],
        "axis": "y",
        "value": theory["eta_max"],
    }
    assert kernel_drift_theory("N", (8, 16), "epochs", (1, 2), config) is None


def test_lazy_linear_map_diverges_just_above_the_stability_bound_and_converges_below():
    rng = np.random.default_rng(1)
    _, theta = random_kernel(rng)
    eta_max, _ = gd_stability_bound(theta)
    residual0 = rng.standard_normal(theta.shape[0])
    for factor, grows in ((0.99, False), (1.01, True)):
        step = np.eye(len(theta)) - factor * eta_max * theta
        residual = np.linalg.matrix_power(step, DIVERGENCE_STEPS) @ residual0
        assert (np.linalg.norm(residual) > 1e3 * np.linalg.norm(residual0)) == grows
    displacement = lazy_parameter_displacement(theta, residual0)
    assert displacement(1.01 * eta_max, DIVERGENCE_STEPS) > 1e6
    assert displacement(0.99 * eta_max, DIVERGENCE_STEPS) == pytest.approx(
        np.sqrt(residual0 @ np.linalg.solve(theta, residual0)), rel=1e-6
    )


def test_lazy_displacement_equals_the_summed_steps_of_linearised_gd():
    rng = np.random.default_rng(2)
    jacobian, theta = random_kernel(rng)
    residual0 = rng.standard_normal(theta.shape[0])
    lr, steps = 0.3 * gd_stability_bound(theta)[0], 25
    theta_shift, residual = np.zeros(jacobian.shape[1]), residual0.copy()
    for _ in range(steps):  # θ̃ ← θ̃ − η Jᵀ r, r ← r − ηΘ r
        theta_shift -= lr * jacobian.T @ residual
        residual -= lr * theta @ residual
    displacement = lazy_parameter_displacement(theta, residual0)
    assert displacement(lr, steps) == pytest.approx(np.linalg.norm(theta_shift), rel=ROUNDOFF)
    second_moment = lazy_parameter_displacement(theta, np.outer(residual0, residual0))
    assert second_moment(lr, steps) == pytest.approx(displacement(lr, steps), rel=ROUNDOFF)


def test_lazy_displacement_grows_as_eta_t_early_and_saturates_at_the_rkhs_norm():
    rng = np.random.default_rng(3)
    _, theta = random_kernel(rng)
    residual0 = rng.standard_normal(theta.shape[0])
    displacement = lazy_parameter_displacement(theta, residual0, discrete=False)
    small = 1e-6 * gd_stability_bound(theta)[0]
    assert displacement(small, 10) == pytest.approx(
        10 * small * np.sqrt(residual0 @ theta @ residual0), rel=1e-5
    )
    values = displacement(np.geomspace(1e-4, 0.5, 12) * gd_stability_bound(theta)[0], 100)
    assert np.all(np.diff(values) > 0)
    assert displacement(1.0, 1e9) == pytest.approx(
        np.sqrt(residual0 @ np.linalg.solve(theta, residual0)), rel=1e-6
    )


def test_width_at_kernel_drift_inverts_the_first_order_drift():
    displacement, constant = np.array([0.1, 0.5, 2.0]), 0.7
    widths = width_at_kernel_drift(0.1, displacement, constant)
    np.testing.assert_allclose(lazy_kernel_drift(displacement, widths, constant), 0.1)
    with pytest.raises(ValueError, match="level"):
        width_at_kernel_drift(0.0, displacement, constant)


# ----------------------------------------------------------------------------------------------
# sims.learning_regime


def test_kernel_drift_probe_returns_finite_metrics_on_a_tiny_config():
    probe = get_probe("kernel-drift")
    metrics = probe.function(probe.resolve(TINY))
    assert set(metrics) == set(probe.metrics)
    assert all(np.isfinite(v) for v in metrics.values())
    assert metrics["kernel_drift"] > 0 and metrics["lazy_displacement"] > 0
    assert metrics["final_train_loss"] > 0 and metrics["final_lazy_loss"] > 0


def test_kernel_drift_of_one_network_grows_with_the_learning_rate():
    # Only the learning-rate trend is tested at this size: across seeds the drift of a 12-unit
    # network on 12 digits spans orders of magnitude (dead ReLU units), so a width trend is not
    # robust here; the width scaling is checked on the diagram itself (sims.learning_regime).
    probe = get_probe("kernel-drift")
    for seed in range(3):
        drifts = [
            probe.function(probe.resolve({**TINY, "lr": lr, "seed": seed}))["kernel_drift"]
            for lr in (1e-4, 3e-4, 1e-3)
        ]
        assert np.all(np.diff(drifts) > 0), drifts


def test_first_order_drift_falls_as_inverse_square_root_of_width():
    displacement = lazy_parameter_displacement(np.diag([3.0, 1.0]), np.ones(2))(1e-2, 40)
    drifts = lazy_kernel_drift(displacement, np.array([32, 128, 512]), 0.5)
    np.testing.assert_allclose(drifts[:-1] / drifts[1:], 2.0)


def test_kernel_drift_probe_rejects_a_probe_set_larger_than_the_training_set():
    probe = get_probe("kernel-drift")
    with pytest.raises(ValueError, match="n_probe"):
        probe.function(probe.resolve({**TINY, "n_probe": 50}))


def test_expected_displacement_uses_the_readout_kernel_as_output_prior():
    probe = get_probe("kernel-drift")
    config = probe.resolve(TINY)
    from sims.learning_regime import _mnist_split

    x_train, y_train, _, _ = _mnist_split(12, 4, 0, "embedded")
    blocks = rntk_blocks(x_train, 1.0)
    theta = rntk(x_train, 1.0)
    reference = lazy_parameter_displacement(theta, np.outer(y_train, y_train) + blocks["out.m"])
    assert expected_lazy_displacement(config)(1e-3, 6) == pytest.approx(
        reference(1e-3, 6), rel=1e-8
    )


def test_fit_recovers_the_constant_of_an_exact_first_order_drift():
    rng = np.random.default_rng(4)
    widths = rng.choice([32, 64, 128, 256], 20).astype(float)
    displacement = rng.uniform(0.05, 2.0, 20)
    drift = lazy_kernel_drift(displacement, widths, 0.7)
    fit = fit_drift_scaling(widths, displacement, drift)
    assert fit["constant"] == pytest.approx(0.7, rel=1e-6)
    assert fit["rms_log10_residual"] < 1e-6
    assert fit["free_exponents"]["displacement"] == pytest.approx(1.0, abs=1e-5)
    assert fit["free_exponents"]["width"] == pytest.approx(0.5, abs=1e-5)
    with pytest.raises(ValueError, match="points"):
        fit_drift_scaling(widths[:2], displacement[:2], drift[:2])


def test_tiny_scan_gets_a_fitted_overlay_and_draws_on_log_axes(tmp_path):
    widths, lrs = (4.0, 16.0, 64.0), (1e-5, 1e-4, 1e-3)
    run_scan(
        "kernel-drift",
        Axis("N", widths, "log"),
        Axis("lr", lrs, "log"),
        "kernel_drift",
        out=tmp_path,
        fixed={**{k: v for k, v in TINY.items() if k != "N"}, "epochs": 2},
        progress=False,
    )
    scan = attach_drift_fit(tmp_path)
    stored = json.loads((tmp_path / "scan.json").read_text())
    assert stored["theory"]["fit"]["constant"] == scan["theory"]["fit"]["constant"] > 0
    lazy_curves = [c for c in stored["theory"]["curves"] if c.get("kind") != "free fit"]
    assert [c["level"] for c in lazy_curves] == [0.1, 1.0]
    figures = pytest.importorskip("figures.phase_diagram")
    import matplotlib.pyplot as plt

    from sims.scan import load_scan

    fig, ax = plt.subplots()
    figures.draw_scan(ax, load_scan(tmp_path))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylim()[0] < 1e-5 and ax.get_ylim()[1] > 1e-3
    plt.close(fig)


def test_out_of_sample_score_exposes_a_scaling_that_the_in_sample_fit_hides():
    """With noisy data from the lazy law the held-out score matches the in-sample one; with a
    width exponent of 1 instead of ½ the one-constant fit looks tolerable in sample but each
    held-out width is missed by more, and the free exponent's interval excludes ½."""
    rng = np.random.default_rng(5)
    widths = np.repeat([32.0, 64.0, 128.0, 256.0], 6)
    displacement = rng.uniform(0.05, 2.0, widths.size)
    noise = 10 ** (0.02 * rng.standard_normal(widths.size))
    lazy = fit_drift_scaling(widths, displacement, 0.7 * displacement / np.sqrt(widths) * noise)
    loo = lazy["leave_one_width_out"]["rms_log10_residual"]
    assert loo < 1.5 * lazy["rms_log10_residual"] + 0.01
    low, high = lazy["free_exponents"]["width_ci"]
    assert low < 0.5 < high
    wrong = fit_drift_scaling(widths, displacement, 3.0 * displacement / widths * noise)
    assert wrong["leave_one_width_out"]["rms_log10_residual"] > 1.2 * wrong["rms_log10_residual"]
    low, high = wrong["free_exponents"]["width_ci"]
    assert 0.5 < low < 1.0 < high


def _planted_grid(spread, seed, networks=10):
    """Per-network drift 0.5·d^0.6·N^−0.8·e^(offset) on a 5 × 5 (η × N) grid; each network's
    offset ~ N(0, spread) is the same at every η of its width, as in a scan."""
    rng = np.random.default_rng(seed)
    lrs, widths = np.geomspace(1e-4, 2e-3, 5), np.array([32.0, 64, 128, 256, 512])
    grid = np.broadcast_to(widths, (lrs.size, widths.size))
    shape = (lrs.size, widths.size, networks)
    offset = rng.normal(0.0, spread, (1, widths.size, networks))
    displacement = np.broadcast_to(
        (lrs * 400)[:, None, None] * np.exp(rng.normal(0, 0.05, (1, widths.size, networks))),
        shape,
    )
    return grid, displacement, 0.5 * displacement**0.6 * grid[..., None] ** -0.8 * np.exp(offset)


def test_the_network_bootstrap_collapses_without_spread_widens_with_it_and_covers():
    """Identical networks: the intervals shrink to the planted b = 0.6, γ = 0.8. A larger spread
    between networks widens the interval of γ. Over 5 planted scans the interval of γ holds 0.8
    at least 4 times."""
    exact = network_bootstrap(*_planted_grid(0.0, 0), n_resamples=50)
    np.testing.assert_allclose(exact["displacement_ci"], [0.6, 0.6], atol=1e-3)  # curve_fit
    np.testing.assert_allclose(exact["width_ci"], [0.8, 0.8], atol=1e-3)
    narrow, wide = (
        network_bootstrap(*_planted_grid(spread, 1), n_resamples=100)["width_ci"]
        for spread in (0.05, 0.3)
    )
    assert wide[1] - wide[0] > 3 * (narrow[1] - narrow[0])
    covered = [
        low < 0.8 < high
        for low, high in (
            network_bootstrap(*_planted_grid(0.05, seed), n_resamples=100)["width_ci"]
            for seed in range(5)
        )
    ]
    assert sum(covered) >= 4
