"""Known answers for the selectivity index and unit classification (paper Fig. 5)."""

import numpy as np
import pytest

from dynamics.selectivity import (
    MIXED,
    NON_SELECTIVE,
    SELECTIVITY_CLASSES,
    UNI_SELECTIVE,
    classify_selectivity,
    paired_selectivity_test,
    selectivity_counts,
    selectivity_index,
    shuffled_selectivity,
    window_responses,
)

#: The SLI is a ratio of sums of a few squares: exact to float round-off.
ROUND_OFF = 1e-12


def test_unit_driven_by_exactly_one_condition_has_sli_one_and_is_uni_selective():
    responses = np.array([[0.0, 0.0, 0.7, 0.0], [2.0, 0.0, 0.0, 0.0]])
    out = classify_selectivity(responses)
    np.testing.assert_allclose(out["sli"], 1.0, atol=ROUND_OFF)
    assert list(out["labels"]) == [UNI_SELECTIVE, UNI_SELECTIVE]


def test_equal_responses_give_sli_zero_and_non_selective():
    out = classify_selectivity(np.array([[0.3, 0.3, 0.3, 0.3]]))
    assert out["sli"][0] == pytest.approx(0.0, abs=ROUND_OFF)
    assert out["labels"][0] == NON_SELECTIVE


def test_two_of_four_conditions_give_sli_two_thirds_and_mixed():
    out = classify_selectivity(np.array([[1.0, 0.0, 1.0, 0.0], [0.5, 0.45, 0.0, 0.0]]))
    # SLI of k equal responses out of N_s is (N_s - k)/(N_s - 1).
    assert out["sli"][0] == pytest.approx(2 / 3, abs=ROUND_OFF)
    assert list(out["labels"]) == [MIXED, MIXED]
    assert list(out["n_responsive"]) == [2, 2]


def test_silent_unit_is_non_selective_without_nan():
    out = classify_selectivity(np.zeros((3, 4)))
    assert np.all(np.isfinite(out["sli"]))
    np.testing.assert_array_equal(out["sli"], 0.0)
    assert set(out["labels"]) == {NON_SELECTIVE}
    assert out["silent"].all()


def test_graded_response_to_every_condition_is_non_selective():
    out = classify_selectivity(np.array([[1.0, 0.9, 0.8, 0.7], [1.5, 1.0, 1.0, 1.0]]))
    assert set(out["labels"]) == {NON_SELECTIVE}


def test_window_average_selects_the_steps_of_the_window():
    n_steps, n_conditions, n_units = 10, 4, 3
    rates = np.zeros((n_steps, n_conditions, n_units))
    rates[5:, 1, 0] = 2.0  # unit 0 answers condition 1 late in the trial
    rates[:5, :, 1] = 1.0  # unit 1 answers everything early only
    responses = window_responses(rates, window=(5, 10))
    assert responses.shape == (n_units, n_conditions)
    np.testing.assert_allclose(responses[0], [0.0, 2.0, 0.0, 0.0])
    np.testing.assert_allclose(responses[1], 0.0)
    labels = classify_selectivity(responses)["labels"]
    assert list(labels) == [UNI_SELECTIVE, NON_SELECTIVE, NON_SELECTIVE]


def test_counts_per_group_add_up_to_the_population():
    responses = np.array(
        [
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 1.0, 0.0, 0.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 2.0, 0.0, 0.0],
            [0.0, 1.0, 1.0, 1.0],
        ]
    )
    labels = classify_selectivity(responses)["labels"]
    counts = selectivity_counts(labels, groups=np.array([0, 0, 0, 1, 1, 1]))
    assert counts[0] == {MIXED: 1, UNI_SELECTIVE: 1, NON_SELECTIVE: 1}
    assert counts[1] == {MIXED: 1, UNI_SELECTIVE: 1, NON_SELECTIVE: 1}
    assert counts["all"] == {MIXED: 2, UNI_SELECTIVE: 2, NON_SELECTIVE: 2}


def test_selectivity_index_is_bounded_for_random_non_negative_responses():
    rng = np.random.default_rng(0)
    sli = selectivity_index(rng.exponential(size=(500, 4)) * (rng.uniform(size=(500, 4)) < 0.6))
    assert np.all((sli >= 0.0) & (sli <= 1.0))


def test_bad_inputs_raise_one_clear_value_error():
    with pytest.raises(ValueError, match="non-negative"):
        selectivity_index(np.array([[1.0, -0.1]]))
    with pytest.raises(ValueError, match="at least 2 conditions"):
        selectivity_index(np.ones((3, 1)))
    with pytest.raises(ValueError, match="window"):
        window_responses(np.ones((5, 2, 2)), window=(4, 9))
    with pytest.raises(ValueError, match="groups"):
        selectivity_counts(np.array([MIXED, MIXED]), groups=np.array([0]))


#: Shuffles of the null tests: the smallest two-sided p-value is 2/(K + 1) ≈ 0.01.
N_SHUFFLES = 200
#: Significance level of the null tests below.
ALPHA = 0.05


def planted_trials(tuning, noise, n_repeats, rng):
    """(N_s, R, N) trial responses: a fixed tuning (N, N_s) plus |Gaussian| trial noise."""
    trials = np.asarray(tuning, float).T[:, None, :] + noise * rng.standard_normal(
        (np.shape(tuning)[1], n_repeats, np.shape(tuning)[0])
    )
    return np.abs(trials)


def test_population_with_built_in_selectivity_beats_the_condition_shuffled_null():
    rng = np.random.default_rng(1)
    uni, mixed = np.eye(4), np.eye(4) + np.roll(np.eye(4), 1, axis=1)  # every condition preferred
    tuning = np.concatenate([np.tile(uni, (3, 1)), np.tile(mixed, (3, 1))])  # 12 uni, 12 mixed
    # 100 trials per condition: a shuffle deals each condition 25 ± 4 of a unit's preferred
    # trials, so its shuffled responses are nearly equal. (With few trials they stay uneven,
    # and the rule sorts a shuffled population into the selective classes too.)
    out = shuffled_selectivity(planted_trials(tuning, 0.05, 100, rng), N_SHUFFLES, rng)
    assert out["observed"][UNI_SELECTIVE] == 0.5 and out["observed"][MIXED] == 0.5
    assert out["n_permutations"] == N_SHUFFLES
    for name in (UNI_SELECTIVE, MIXED, "mean_sli"):
        assert out["p_value"][name] < ALPHA, name
        assert out["observed"][name] > np.percentile(out["null"][name], 97.5), name
    assert out["observed"][NON_SELECTIVE] < np.percentile(out["null"][NON_SELECTIVE], 2.5)


def test_unselective_population_does_not_beat_the_condition_shuffled_null():
    rng = np.random.default_rng(2)
    tuning = np.ones((20, 4))  # every unit answers every condition equally: noise only
    out = shuffled_selectivity(planted_trials(tuning, 0.3, 20, rng), N_SHUFFLES, rng)
    for name in (*SELECTIVITY_CLASSES, "mean_sli"):
        assert out["p_value"][name] > ALPHA, name
        low, high = np.percentile(out["null"][name], [2.5, 97.5])
        assert low <= out["observed"][name] <= high, name


def test_shuffles_need_two_trials_per_condition():
    with pytest.raises(ValueError, match="at least 2 trials per condition"):
        shuffled_selectivity(np.ones((4, 1, 3)), N_SHUFFLES, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        shuffled_selectivity(-np.ones((4, 2, 3)), N_SHUFFLES, np.random.default_rng(0))


def test_paired_test_counts_the_units_that_changed_class():
    before = classify_selectivity(np.tile([1.0, 1.0, 1.0, 1.0], (30, 1)))  # all non-selective
    after_responses = np.tile([1.0, 1.0, 1.0, 1.0], (30, 1))
    after_responses[:20] = [1.0, 1.0, 0.0, 0.0]  # 20 units became mixed
    after = classify_selectivity(after_responses)
    out = paired_selectivity_test(after, before)
    assert out[MIXED]["only_here"] == 20 and out[MIXED]["only_reference"] == 0
    # McNemar exact: 20 of 20 discordant pairs one way, p = 2 · 2^-20.
    assert out[MIXED]["p_value"] == pytest.approx(2 * 0.5**20, rel=ROUND_OFF)
    assert out[MIXED]["fraction"] == pytest.approx(20 / 30)
    assert out[UNI_SELECTIVE]["p_value"] == 1.0  # no unit changed: nothing to test
    assert out["sli"]["p_value"] < ALPHA and out["sli"]["mean"] > out["sli"]["reference_mean"]
    same = paired_selectivity_test(before, before)
    assert same["sli"]["p_value"] == 1.0 and same[MIXED]["p_value"] == 1.0
