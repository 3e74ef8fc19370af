"""Known answers for the VIP criteria and target removal (paper Fig. 4, docs/official-code.md
§1.10)."""

import numpy as np
import pytest

from dynamics.removal import (
    random_removal_indices,
    removal_count,
    removal_sets,
    remove_connections,
    vip_mask,
    vip_removal_indices,
)

N = 30
FRACTIONS = [i / 10 for i in range(11)]


def planted_layer(seed=0, n_vip=40):
    """A recurrent layer where exactly n_vip random entries meet π ≤ 0.1, Ξ < 0.1, |m| > 0.08.

    Every other entry violates at least one criterion (weak m, or large π, or large Ξ).
    """
    rng = np.random.default_rng(seed)
    flat_vip = rng.choice(N * N, size=n_vip, replace=False)
    truth = np.zeros(N * N, dtype=bool)
    truth[flat_vip] = True
    truth = truth.reshape(N, N)
    m = rng.uniform(-0.07, 0.07, (N, N))
    pi = rng.uniform(0.0, 0.1, (N, N))
    xi = rng.uniform(0.0, 0.099, (N, N))
    violator = rng.integers(0, 3, (N, N))
    pi = np.where(~truth & (violator == 1), rng.uniform(0.11, 1.0, (N, N)), pi)
    xi = np.where(~truth & (violator == 2), rng.uniform(0.1, 1.0, (N, N)), xi)
    strong = rng.choice([-1.0, 1.0], (N, N)) * rng.uniform(0.081, 1.0, (N, N))
    m = np.where(truth | (violator != 0), strong, m)
    return m, pi, xi, truth


def test_planted_vip_set_is_recovered_exactly():
    m, pi, xi, truth = planted_layer()
    np.testing.assert_array_equal(vip_mask(m, pi, xi), truth)


def test_thresholds_are_inclusive_or_strict_as_in_the_official_code():
    m = np.array([0.08, 0.0801, 0.5, 0.5])
    pi = np.array([0.1, 0.1, 0.1, 0.0])
    xi = np.array([0.0, 0.0, 0.1, 0.0999])
    np.testing.assert_array_equal(vip_mask(m, pi, xi), [False, True, False, True])


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_vip_and_random_removals_have_equal_counts_and_disjoint_pools(fraction):
    m, pi, xi, truth = planted_layer()
    out = removal_sets(m, pi, xi, fraction, np.random.default_rng(1))
    n = removal_count(40, fraction)
    assert out["n_removed"] == n
    assert out["vip_indices"].size == out["random_indices"].size == n
    flat_truth = truth.ravel()
    assert flat_truth[out["vip_indices"]].all()
    assert not flat_truth[out["random_indices"]].any()
    assert len(set(out["vip_indices"].tolist())) == n


def test_removed_entries_and_only_they_get_pi_one():
    m, pi, xi, _ = planted_layer()
    out = removal_sets(m, pi, xi, 0.5, np.random.default_rng(2))
    for key in ("vip", "random"):
        new_m, new_pi, new_xi = out[key]
        idx = out[f"{key}_indices"]
        assert np.all(new_pi.ravel()[idx] == 1.0)
        untouched = np.setdiff1d(np.arange(N * N), idx)
        np.testing.assert_array_equal(new_pi.ravel()[untouched], pi.ravel()[untouched])
        np.testing.assert_array_equal(new_m, m)
        np.testing.assert_array_equal(new_xi, xi)
    assert not np.any(pi == 1.0)  # the input was not modified in place


def test_full_vip_removal_removes_every_vip():
    m, pi, xi, truth = planted_layer()
    idx = vip_removal_indices(truth, 1.0, np.random.default_rng(3))
    np.testing.assert_array_equal(idx, np.flatnonzero(truth))


def test_legacy_first_n_reproduces_the_official_index_choice():
    _, _, _, truth = planted_layer()
    n = removal_count(40, 0.3)
    np.testing.assert_array_equal(
        vip_removal_indices(truth, 0.3, legacy_first_n=True), np.flatnonzero(truth)[:n]
    )
    np.testing.assert_array_equal(
        random_removal_indices(truth, 0.3, legacy_first_n=True), np.arange(n)
    )


def test_removal_count_floors_like_the_official_code_without_round_off_loss():
    assert removal_count(10, 0.3) == 3
    assert removal_count(100, 0.29) == 29  # 0.29*100 = 28.999999999999996 in floats
    assert removal_count(7, 0.5) == 3
    assert removal_count(7, 1.0) == 7


def test_same_generator_seed_gives_the_same_sets():
    m, pi, xi, _ = planted_layer()
    a = removal_sets(m, pi, xi, 0.4, np.random.default_rng(5))
    b = removal_sets(m, pi, xi, 0.4, np.random.default_rng(5))
    np.testing.assert_array_equal(a["vip_indices"], b["vip_indices"])
    np.testing.assert_array_equal(a["random_indices"], b["random_indices"])


def test_bad_inputs_raise_one_clear_value_error():
    m, pi, xi, truth = planted_layer()
    with pytest.raises(ValueError, match="Generator"):
        vip_removal_indices(truth, 0.5)
    with pytest.raises(ValueError, match="fraction"):
        removal_count(10, 1.5)
    with pytest.raises(ValueError, match="boolean"):
        random_removal_indices(truth.astype(int), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pi must lie"):
        vip_mask(m, pi + 2.0, xi)
    with pytest.raises(ValueError, match="flat_indices"):
        remove_connections(m, pi, xi, [N * N])
