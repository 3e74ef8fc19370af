"""Stochastic plasticity through the sims layer: toy curves and the ε = 0 ablation (docs/model.md
§5.3)."""

import numpy as np

from sims.analyses.plasticity import fluctuation_ablation, toy_curves
from sims.presets import resolve_config
from sims.runs import Run

#: At initialisation |G| = O(1/√N)·|x| while |Δ| = O(1)·|x| (docs/model.md §5.3): with N = 10,000,
#: m ~ N(0, 1/N) and Ξ ~ 0.1·U(0, 1), |Δ|/|G| ≈ √(0.05 N)/E|N(0,1)| ≈ 28; 5 is a safe floor.
MIN_INITIAL_VARIANCE_OVER_MEAN = 5.0


def test_toy_forward_signal_is_carried_by_the_variance_part_at_initialisation():
    summary, arrays = toy_curves(n_runs=2, seed=0, n_epochs=3)
    assert summary["forward_variance_over_mean_first_epoch"] > MIN_INITIAL_VARIANCE_OVER_MEAN
    assert arrays["loss"].shape == (2, 3)
    np.testing.assert_allclose(summary["curves"]["loss"]["mean"], arrays["loss"].mean(axis=0))


def test_training_without_fluctuations_leaves_the_slab_variances_to_weight_decay(tmp_path):
    config = resolve_config(
        "row-mnist",
        epochs=2,
        batches_per_epoch=2,
        batch_size=16,
        overrides=["network.n_rec=8", "evaluation.n_samples=1", "eval_every=0"],
    )
    summary, arrays = fluctuation_ablation(
        config, tmp_path, n_batches=2, n_samples=1, fractions=(0.0, 0.5)
    )
    off = Run.open(tmp_path / "fluctuation_off")
    initial = off.snapshots.at(0)
    # ∂L/∂Ξ flows only through the ε/Δ path: with ε = 0 only Adam's decoupled decay
    # Ξ ← Ξ(1 − lr·1e-4) acts, 4 steps at lr = 1e-3 → relative change ≤ 4e-7.
    np.testing.assert_allclose(off.params["rec.xi"], initial["rec.xi"], rtol=1e-6)
    on = Run.open(tmp_path / "fluctuation_on")
    assert np.max(np.abs(on.params["rec.xi"] - initial["rec.xi"])) > 1e-5
    for name in ("on", "off"):
        assert 0.0 <= summary[name]["accuracy_meanfield_mean"] <= 1.0
        assert len(summary[name]["robustness_accuracy_mean"]) == 2
        assert arrays[f"{name}_robustness"].shape == (2, 2)
