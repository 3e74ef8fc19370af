"""Analyses over seeds: per-seed values, seed means with t-intervals, paired differences."""

import pytest
from scipy import stats

from sims.analyses.over_seeds import seed_statistic, symmetry_over_seeds, vip_over_seeds


def test_a_seed_statistic_is_the_mean_with_its_t_interval_and_none_for_one_seed():
    statistic = seed_statistic([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / 3**0.5  # sample s.d. 1 over √3 seeds
    assert statistic["per_seed"] == [1.0, 2.0, 3.0]
    assert (statistic["low"], statistic["high"]) == pytest.approx((2 - half, 2 + half))
    assert seed_statistic([0.5])["low"] is None


def _vip(fractions, vip, magnitude, intact=0.95):
    return {
        "vip_fraction": 0.01,
        "fractions": fractions,
        "n_removed": [round(12 * p) for p in fractions],
        "accuracy_intact": intact,
        "curves": ["vip", "magnitude"],
        "accuracy_vip_mean": [intact, *vip],
        "accuracy_magnitude_mean": [intact, *magnitude],
    }


def test_the_vip_removal_is_read_at_p_1_and_paired_with_each_control_by_seed():
    summaries = [
        _vip([0.0, 0.5, 1.0], [0.8, 0.5], [0.9, 0.85]),  # the drawn seed: the whole curve
        _vip([0.0, 1.0], [0.6], [0.9]),
    ]
    out = vip_over_seeds(summaries)
    assert out["accuracy_removed"]["vip"]["per_seed"] == [0.5, 0.6]
    assert out["vip_minus_control"]["magnitude"]["per_seed"] == pytest.approx([-0.35, -0.3])
    assert out["removed_minus_intact"]["magnitude"]["per_seed"] == pytest.approx([-0.1, -0.05])
    assert out["n_removed"] == [12, 12]
    with pytest.raises(ValueError, match="add 1.0 to vip_fractions"):
        vip_over_seeds([_vip([0.0, 0.5], [0.8], [0.9])])


def test_a_part_that_never_orders_is_censored_one_epoch_past_the_last_snapshot():
    def summary(continuous, discrete, verdict):
        rec = {
            "first_to_order": verdict,
            "continuous_order_epoch": continuous,
            "discrete_order_epoch": discrete,
            "first_to_break": verdict,
            "continuous_break_epoch": continuous,
            "discrete_break_epoch": discrete,
            "continuous_entropy_change": -1.0,
            "discrete_entropy_change": 0.1,
        }
        return {"epochs": [0, 5, 10, 15, 20], "layers": {"rec": rec}}

    out = symmetry_over_seeds(
        [
            summary(5, None, "continuous"),
            summary(None, 10, "discrete"),
            summary(5, 15, "continuous"),
        ]
    )
    assert out["discrete_minus_continuous"]["per_seed"] == [16, -11, 10]
    assert out["verdict_counts"]["continuous"] == 2 and out["verdict_counts"]["discrete"] == 1
