"""Stochastic plasticity through the sims layer: toy curves and the ε = 0 ablation (docs/model.md
§5.3)."""

import numpy as np
import pytest

from sims.analyses import plasticity
from sims.analyses.plasticity import (
    aggregate_ablation,
    compare_runs,
    fluctuation_ablation,
    toy_curves,
)
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
        config, tmp_path, n_batches=2, n_samples=1, fractions=(0.0, 0.5), n_draws=3
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
        table = arrays[f"{name}_robustness"]
        assert table.shape == (2, 3, 2)  # fractions × removal draws × test batches
        assert summary[name]["robustness_draw_std"][0] == pytest.approx(
            0.0, abs=1e-12
        )  # one network
        np.testing.assert_allclose(
            summary[name]["robustness_draw_std"][1], table[1].mean(axis=1).std(ddof=1)
        )


def test_the_seed_aggregate_is_the_paired_difference_with_its_t_interval():
    def summary(on, off):
        return {
            "fractions": [0.0, 0.5],
            **{
                name: {
                    "accuracy_meanfield_mean": value,
                    "accuracy_meanfield_eps0_mean": value,
                    "accuracy_sampled_mean": value,
                    "robustness_accuracy_mean": [value, value - 0.1],
                    "robustness_draw_std": [0.0, 0.02],
                }
                for name, value in (("on", on), ("off", off))
            },
        }

    result = aggregate_ablation([summary(0.9, 0.8), summary(0.95, 0.8), summary(0.85, 0.8)])
    difference = np.array([0.1, 0.15, 0.05])
    half = 4.302652729911275 * difference.std(ddof=1) / np.sqrt(3)  # t(0.975, 2) · s/√n
    meanfield = result["accuracy_meanfield_mean"]
    assert meanfield["difference_mean"] == pytest.approx(0.1)
    assert meanfield["difference_ci"] == pytest.approx([0.1 - half, 0.1 + half])
    assert result["robustness"]["difference_mean"] == pytest.approx([0.1, 0.1])
    assert result["removal_draw_std"]["on"] == pytest.approx([0.0, 0.02])
    with pytest.raises(ValueError, match=">= 2 seeds"):
        aggregate_ablation([summary(0.9, 0.8)])


def test_robustness_networks_lack_exactly_the_drawn_fraction_of_connections(msi_run, monkeypatch):
    """Every pruned network of the robustness curve has ⌊q·N²⌋ more absent recurrent
    connections than the trained one, a new draw for every removal draw."""
    seen = []

    def record(networks, task, rng, n_batches, mode, n_jobs=-1):
        seen.append(list(networks))
        return np.zeros((len(networks), n_batches))

    monkeypatch.setattr(plasticity, "crn_accuracies", record)
    compare_runs(
        {"on": msi_run.directory}, n_batches=1, n_samples=1, fractions=(0.0, 0.5), n_draws=2
    )
    intact, *pruned = seen[0]
    count = int(np.floor(0.5 * intact.rec.pi.size + 1e-9))
    assert len(pruned) == 2
    for net in pruned:
        assert np.all(net.rec.pi[intact.rec.pi == 1] == 1)  # what was absent stays absent
        assert int((net.rec.pi == 1).sum()) >= count
    assert not np.array_equal(pruned[0].rec.pi, pruned[1].rec.pi)
