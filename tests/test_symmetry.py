"""Known answers for the symmetry-breaking order parameters (docs/model.md §5.4, Fig. 9)."""

import numpy as np
import pytest

from dynamics.symmetry import (
    CONTINUOUS_PARAMETERS,
    DISCRETE_PARAMETERS,
    break_epoch,
    parameter_histograms,
    sarle_bimodality,
    symmetry_breaking_summary,
    symmetry_order_parameters,
)

N_EPOCHS = 12
XI_COLLAPSE_EPOCH = 3
PI_SPLIT_EPOCH = 7
N_UNITS = 20
#: Sarle's b of a large sample is within ~0.01 of its population value for n = 1e5 draws.
LARGE_SAMPLE_TOL = 0.01


def planted_trajectories(seed=0):
    """Ξ collapses from 0.1·U(0.5, 1) to 1e-6 at epoch 3; π splits from ~0.45 to {0, 1} at 7."""
    rng = np.random.default_rng(seed)
    shape = (N_UNITS, N_UNITS)
    epochs = np.arange(N_EPOCHS)[:, None, None]
    broad_xi = 0.1 * rng.uniform(0.5, 1.0, size=shape)
    xi = np.where(epochs < XI_COLLAPSE_EPOCH, broad_xi, 1e-6)
    undecided_pi = np.clip(0.45 + 0.01 * rng.standard_normal(shape), 0.0, 0.49)
    decided_pi = (rng.uniform(size=shape) < 0.3).astype(float)
    pi = np.where(epochs < PI_SPLIT_EPOCH, undecided_pi, decided_pi)
    return pi, xi


def test_planted_slab_collapse_breaks_at_epoch_3_and_spike_split_at_epoch_7():
    pi, xi = planted_trajectories()
    out = symmetry_breaking_summary(pi, xi)
    for name in CONTINUOUS_PARAMETERS:
        assert out["break_epochs"][name] == XI_COLLAPSE_EPOCH, name
    for name in DISCRETE_PARAMETERS:
        assert out["break_epochs"][name] == PI_SPLIT_EPOCH, name
    assert out["continuous_break_epoch"] == XI_COLLAPSE_EPOCH
    assert out["discrete_break_epoch"] == PI_SPLIT_EPOCH
    assert out["first_to_break"] == "continuous"


def test_swapped_timing_reports_the_discrete_part_first():
    pi, xi = planted_trajectories()
    late_xi = np.concatenate([np.repeat(xi[:1], 9, axis=0), xi[-3:]])
    out = symmetry_breaking_summary(pi, late_xi)
    assert out["first_to_break"] == "discrete"


def test_order_parameters_have_their_planted_values():
    pi, xi = planted_trajectories()
    order = symmetry_order_parameters(pi, xi)
    assert order["xi_fraction_collapsed"][0] == 0.0
    assert order["xi_fraction_collapsed"][-1] == 1.0
    assert order["xi_mean_entropy"][-1] == pytest.approx(0.5 * np.log(2 * np.pi * 1e-4) + 0.5)
    assert order["xi_log_spread"][-1] == pytest.approx(0.0, abs=1e-12)  # std of a constant
    assert order["pi_fraction_undecided"][0] == 1.0
    assert order["pi_fraction_undecided"][-1] == 0.0
    assert order["pi_mean_entropy"][-1] == 0.0
    assert order["pi_fraction_above_half"][0] == 0.0


def test_pi_rising_from_zero_breaks_when_it_spreads():
    """The MNIST presets start at π = 0, so ⟨S_π⟩ rises; the halfway rule still dates the break."""
    rng = np.random.default_rng(1)
    epochs = np.arange(N_EPOCHS)[:, None, None]
    spread = rng.uniform(size=(N_UNITS, N_UNITS))
    pi = np.where(epochs < PI_SPLIT_EPOCH, 0.0, spread)
    xi = np.full_like(pi, 0.1)
    out = symmetry_breaking_summary(pi, xi)
    assert (
        out["order_parameters"]["pi_mean_entropy"][-1]
        > out["order_parameters"]["pi_mean_entropy"][0]
    )
    assert out["discrete_break_epoch"] == PI_SPLIT_EPOCH
    assert out["continuous_break_epoch"] is None
    assert out["first_to_break"] == "undetermined"


def test_break_epoch_is_the_first_halfway_crossing_in_either_direction():
    epochs = np.arange(11)
    rising = 1.0 / (1.0 + np.exp(-(epochs - 5.3)))
    assert break_epoch(rising) == 6
    assert break_epoch(1.0 - rising) == 6
    assert break_epoch(rising, epochs=10 * epochs) == 60
    assert break_epoch(np.ones(5)) is None


def test_sarle_coefficient_matches_known_distributions():
    rng = np.random.default_rng(2)
    n = 100_000
    assert sarle_bimodality(rng.standard_normal(n)) == pytest.approx(1 / 3, abs=LARGE_SAMPLE_TOL)
    assert sarle_bimodality(rng.uniform(size=n)) == pytest.approx(5 / 9, abs=LARGE_SAMPLE_TOL)
    two_points = (rng.uniform(size=n) < 0.5).astype(float)
    assert sarle_bimodality(two_points) == pytest.approx(1.0, abs=LARGE_SAMPLE_TOL)
    assert sarle_bimodality(np.zeros(10)) == 0.0


def test_diagonal_is_excluded_from_the_order_parameters_when_asked():
    pi = np.zeros((2, 4, 4))
    pi[:, np.arange(4), np.arange(4)] = 0.5
    xi = np.full_like(pi, 0.1)
    assert symmetry_order_parameters(pi, xi, exclude_diagonal=True)["pi_mean_entropy"][0] == 0.0
    assert symmetry_order_parameters(pi, xi)["pi_mean_entropy"][0] > 0.0


def test_histograms_share_bins_and_count_every_entry():
    pi, xi = planted_trajectories()
    out = parameter_histograms(pi, xi, exclude_diagonal=True)
    n_entries = N_UNITS * (N_UNITS - 1)
    assert out["n_entries"] == n_entries
    assert out["pi_counts"].shape == (N_EPOCHS, 20)
    assert out["log10_xi_counts"].shape == (N_EPOCHS, 30)
    np.testing.assert_array_equal(out["pi_counts"].sum(axis=1), n_entries)
    np.testing.assert_array_equal(out["log10_xi_counts"].sum(axis=1), n_entries)
    assert out["log10_xi_counts"][-1, 0] == n_entries  # collapsed slabs sit in the floor bin


def test_bad_inputs_raise_one_clear_value_error():
    with pytest.raises(ValueError, match="epochs, n_post, n_pre"):
        symmetry_order_parameters(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="pi must lie"):
        symmetry_order_parameters(np.full((2, 3, 3), 2.0), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="at least 4"):
        sarle_bimodality([0.1, 0.2])


def _planted(xi_fall_epoch, pi_fall_epoch, n_epochs=12, pi0=0.5, seed=0):
    """Snapshots (E, 6, 6) whose slab entropy falls at ``xi_fall_epoch`` and spike entropy at
    ``pi_fall_epoch`` (None: that part never orders), with small noise."""
    rng = np.random.default_rng(seed)
    shape = (n_epochs, 6, 6)
    xi = np.full(shape, 0.1) * (1 + 0.01 * rng.random(shape))
    pi = np.full(shape, pi0) + 0.01 * rng.random(shape)
    if xi_fall_epoch is not None:
        xi[xi_fall_epoch:] = 1e-4 * (1 + 0.01 * rng.random((n_epochs - xi_fall_epoch, 6, 6)))
    if pi_fall_epoch is not None:
        decided = rng.random((6, 6)) < 0.5
        pi[pi_fall_epoch:] = np.where(decided, 0.01, 0.99)
    return pi, xi


@pytest.mark.parametrize(
    "xi_epoch, pi_epoch, verdict",
    [
        (3, 7, "continuous"),
        (7, 3, "discrete"),
        (5, 5, "simultaneous"),
        (4, None, "continuous"),
        (None, 4, "discrete"),
        (None, None, "none"),
    ],
)
def test_first_to_order_recovers_every_planted_answer(xi_epoch, pi_epoch, verdict):
    from dynamics.symmetry import first_to_order

    pi, xi = _planted(xi_epoch, pi_epoch)
    order = symmetry_order_parameters(pi, xi)
    result = first_to_order(order["xi_mean_entropy"], order["pi_mean_entropy"])
    assert result["verdict"] == verdict
    assert result["continuous_epoch"] == xi_epoch and result["discrete_epoch"] == pi_epoch


def test_first_to_order_is_not_testable_when_pi_starts_decided():
    """From π₀ = 0 the spike entropy can only rise: no verdict, whatever the slab does."""
    from dynamics.symmetry import first_to_order

    pi, xi = _planted(3, None, pi0=0.0)
    pi[0] = 0.0
    pi[6:] = 0.3  # π moves away from 0 later: S_π rises
    order = symmetry_order_parameters(pi, xi)
    result = first_to_order(order["xi_mean_entropy"], order["pi_mean_entropy"])
    assert result["verdict"] == "not testable"
