"""Known answers for the VIP criteria and target removal (paper Fig. 4, docs/official-code.md
§1.10)."""

import numpy as np
import pytest

from dynamics.removal import (
    REMOVAL_KINDS,
    magnitude_removal_indices,
    random_removal_indices,
    removal_count,
    removal_indices,
    removal_sets,
    remove_connections,
    uniform_removal_indices,
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
    with pytest.raises(ValueError, match="integer indices"):  # a π matrix is not a removal set
        remove_connections(m, pi, xi, pi)


# -- the controls -------------------------------------------------------------------------------
def test_magnitude_control_takes_the_strongest_non_vips_in_decreasing_order():
    m, pi, xi, truth = planted_layer()
    mu = (1.0 - pi) * m
    for fraction in FRACTIONS:
        idx = magnitude_removal_indices(truth, mu, fraction)
        n = removal_count(40, fraction)
        assert idx.size == n and not truth.ravel()[idx].any()
        strength = np.abs(mu).ravel()
        assert np.all(np.diff(strength[idx]) <= 0)  # ranked
        kept = np.setdiff1d(np.flatnonzero(~truth.ravel()), idx)
        if n:
            assert strength[idx].min() >= strength[kept].max()


def test_magnitude_ties_are_broken_by_the_lower_flat_index():
    vip = np.array([True, False, False, False, False])
    mu = np.array([9.0, 0.5, -0.7, 0.7, 0.1])
    np.testing.assert_array_equal(magnitude_removal_indices(vip, mu, 1.0), [2])
    np.testing.assert_array_equal(magnitude_removal_indices(vip[[0, 0, 1, 2, 3]], mu, 1.0), [2, 3])


def test_uniform_control_draws_from_every_connection_at_the_vip_rate():
    _, _, _, truth = planted_layer()  # 40 VIPs among 900 connections
    rng = np.random.default_rng(4)
    draws = [uniform_removal_indices(truth, 1.0, rng) for _ in range(200)]
    assert all(d.size == 40 and np.unique(d).size == 40 for d in draws)
    vips = np.array([truth.ravel()[d].sum() for d in draws])
    # hypergeometric: mean 40·40/900 = 1.78, s.d. 1.3; 200 draws put the mean within ±0.3
    assert abs(vips.mean() - 40 * 40 / 900) < 0.3
    covered = np.unique(np.concatenate(draws))
    assert truth.ravel()[covered].any() and (~truth.ravel()[covered]).any()


def test_all_kinds_remove_the_same_count_and_random_and_magnitude_no_vip():
    m, pi, xi, truth = planted_layer()
    for fraction in FRACTIONS:
        out = removal_sets(m, pi, xi, fraction, np.random.default_rng(1), kinds=REMOVAL_KINDS)
        n = removal_count(40, fraction)
        for kind in REMOVAL_KINDS:
            assert out[f"{kind}_indices"].size == np.unique(out[f"{kind}_indices"]).size == n
        flat = truth.ravel()
        assert flat[out["vip_indices"]].all()
        assert not flat[out["random_indices"]].any()
        assert not flat[out["magnitude_indices"]].any()


def test_removal_m_sets_the_slab_mean_to_zero_and_leaves_pi_and_xi():
    m, pi, xi, _ = planted_layer()
    new_m, new_pi, new_xi = remove_connections(m, pi, xi, [3, 17], removal="m")
    assert np.all(new_m.ravel()[[3, 17]] == 0.0)
    np.testing.assert_array_equal(np.delete(new_m.ravel(), [3, 17]), np.delete(m.ravel(), [3, 17]))
    np.testing.assert_array_equal(new_pi, pi)
    np.testing.assert_array_equal(new_xi, xi)


def test_unknown_kind_removal_or_legacy_control_is_rejected():
    m, pi, xi, truth = planted_layer()
    with pytest.raises(ValueError, match="kind"):
        removal_indices("strongest", truth, m, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="legacy_first_n"):
        removal_indices("magnitude", truth, m, 0.5, legacy_first_n=True)
    with pytest.raises(ValueError, match="removal"):
        remove_connections(m, pi, xi, [0], removal="xi")
