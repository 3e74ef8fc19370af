"""Symmetry-breaking order and histograms through the sims layer (docs/model.md §5.4, Fig. 9)."""

import numpy as np

from sims.analyses.symmetry import symmetry_analysis


def test_slab_collapsing_before_the_spikes_decide_is_reported_as_continuous_first():
    rng = np.random.default_rng(0)
    n_epochs, shape = 10, (5, 5)
    xi = np.stack([np.full(shape, 0.1 if e < 3 else 1e-5) for e in range(n_epochs)])
    final_pi = (rng.random(shape) < 0.3).astype(float)
    pi = np.stack([np.full(shape, 0.5) if e < 7 else final_pi for e in range(n_epochs)])
    frozen = np.zeros((n_epochs, 5, 2))  # an input layer that never trains
    snapshots = {
        "rec.pi": pi,
        "rec.xi": xi,
        "out.pi": pi[:, :2],
        "out.xi": xi[:, :2],
        "inp.pi": frozen,
        "inp.xi": frozen,
    }
    epochs = np.arange(n_epochs) * 10
    summary, arrays = symmetry_analysis(snapshots, epochs)
    rec = summary["layers"]["rec"]
    assert rec["continuous_break_epoch"] == 30 and rec["discrete_break_epoch"] == 70
    assert summary["first_to_break"] == "continuous"
    assert summary["first_to_order"] == "continuous"  # both entropies fell
    assert rec["exclude_diagonal"] is True
    assert summary["layers"]["inp"]["first_to_break"] == "undetermined"
    # Histograms: every off-diagonal recurrent entry counted once per epoch.
    assert np.all(arrays["rec_pi_counts"].sum(axis=1) == 20)
    assert arrays["rec_log10_xi_counts"].shape == (n_epochs, 30)


def test_a_spike_part_that_starts_decided_and_becomes_uncertain_does_not_count_as_ordering():
    # MNIST presets start at π = 0: ⟨S_π⟩ rises during training, Ξ collapses.
    n_epochs, shape = 8, (4, 4)
    pi = np.stack([np.full(shape, min(0.05 * e, 0.3)) for e in range(n_epochs)])
    xi = np.stack([np.full(shape, 0.1 if e < 6 else 1e-5) for e in range(n_epochs)])
    summary, _ = symmetry_analysis({"rec.pi": pi, "rec.xi": xi}, layers=("rec",))
    rec = summary["layers"]["rec"]
    # S_π(0.1) = 0.325 already exceeds half of S_π(0.3) = 0.611: halfway at epoch 2.
    assert rec["discrete_break_epoch"] == 2 and rec["continuous_break_epoch"] == 6
    assert rec["first_to_break"] == "discrete"  # halfway criterion, either direction
    assert rec["discrete_entropy_change"] > 0 > rec["continuous_entropy_change"]
    assert summary["first_to_order"] == "not testable"  # S_π starts at 0
