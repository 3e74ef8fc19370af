"""Selectivity classes, counts per input group and their nulls through the sims layer (paper
Fig. 5)."""

import numpy as np
import pytest

from dynamics.selectivity import MIXED, NON_SELECTIVE, NULL_STATISTICS, UNI_SELECTIVE
from sims.analyses.selectivity import (
    CONDITIONS,
    ConditionTrials,
    condition_trials,
    response_window,
    selectivity_analysis,
    untrained_network,
)
from sims.tasks import make_task

N_REC = 6
TEST_DT = 20.0  # coarse test step: 90 steps per trial keeps the test fast
#: Condition shuffles in these tests (the smallest two-sided p-value is 2/201).
N_SHUFFLES = 200
#: Significance level of the null tests below.
ALPHA = 0.05


def planted_trials(task, tuning, n_repeats=2, noise=0.0, rng=None) -> ConditionTrials:
    """Trials whose window responses are ``tuning[i, s]`` plus |Gaussian| trial noise, and rates
    (T+1, 4, N) equal to their trial means inside the stimulus + decision window, 0 before it."""
    tuning = np.asarray(tuning, dtype=float)
    shape = (len(CONDITIONS), n_repeats, len(tuning))
    jitter = np.zeros(shape) if rng is None else noise * rng.standard_normal(shape)
    responses = np.abs(tuning.T[:, None, :] + jitter)
    t0, t1 = response_window(task, TEST_DT)
    rates = np.zeros((t1, len(CONDITIONS), len(tuning)))
    rates[t0:] = responses.mean(axis=1)[None]
    return ConditionTrials(rates, responses)


@pytest.fixture(scope="module")
def task():
    return make_task("multisensory")


class _FakeNet:
    """With precomputed trials the analysis reads only the unit count of the network."""

    n_rec = N_REC


def test_planted_units_fall_in_the_classes_their_responses_define(task):
    responses = np.array(
        [
            [1.0, 0.0, 0.0, 0.0],  # unit 0 (auditory group): uni-selective, SLI = 1
            [1.0, 1.0, 0.0, 0.0],  # unit 1 (auditory): mixed, SLI = 2/3
            [1.0, 1.0, 1.0, 1.0],  # unit 2 (visual): equal responses, SLI = 0 → non-selective
            [0.0, 0.0, 0.0, 0.0],  # unit 3 (visual): silent → non-selective
            [0.0, 2.0, 0.0, 0.1],  # unit 4 (neither): one dominant condition → uni-selective
            [0.9, 1.0, 0.0, 1.0],  # unit 5 (neither): three of four → mixed
        ]
    )
    trials = planted_trials(task, responses)
    summary, arrays = selectivity_analysis(
        _FakeNet(), task, test_dt=TEST_DT, n_permutations=N_SHUFFLES, trials=(trials, trials)
    )
    assert summary["labels"] == [
        UNI_SELECTIVE,
        MIXED,
        NON_SELECTIVE,
        NON_SELECTIVE,
        UNI_SELECTIVE,
        MIXED,
    ]
    np.testing.assert_allclose(summary["sli"][:3], [1.0, 2.0 / 3.0, 0.0], atol=1e-12)
    assert summary["groups"] == ["auditory"] * 2 + ["visual"] * 2 + ["neither"] * 2
    assert summary["counts"]["auditory"] == {MIXED: 1, UNI_SELECTIVE: 1, NON_SELECTIVE: 0}
    assert summary["counts"]["visual"] == {MIXED: 0, UNI_SELECTIVE: 0, NON_SELECTIVE: 2}
    assert summary["classes_found"] == [MIXED, UNI_SELECTIVE, NON_SELECTIVE]
    # Examples: the strongest non-silent unit of each class, traces saved at full resolution.
    assert summary["example_units"] == {MIXED: 1, UNI_SELECTIVE: 4, NON_SELECTIVE: 2}
    np.testing.assert_array_equal(arrays["example_traces_uni_selective"][-1], responses[4])
    # The same network as its own untrained reference: no unit changed, nothing to reject.
    for entry in summary["null"]["statistics"].values():
        assert entry["trained"] == entry["untrained"] and entry["p_untrained"] == 1.0


def test_trained_selectivity_beats_both_nulls_and_the_result_records_them(task):
    rng = np.random.default_rng(0)
    uni, mixed = np.eye(4), np.eye(4) + np.roll(np.eye(4), 1, axis=1)
    tuning = np.concatenate([np.tile(uni, (3, 1)), np.tile(mixed, (3, 1))])  # 12 uni, 12 mixed
    # 100 trials per condition: a shuffle leaves the responses nearly equal (see
    # tests/test_selectivity.py); the untrained units answer every condition alike.
    trained = planted_trials(task, tuning, 100, 0.05, rng)
    untrained = planted_trials(task, np.ones_like(tuning), 100, 0.05, rng)

    class Net:
        n_rec = len(tuning)

    summary, arrays = selectivity_analysis(
        Net(), task, test_dt=TEST_DT, n_permutations=N_SHUFFLES, trials=(trained, untrained)
    )
    null = summary["null"]
    assert null["n_permutations"] == N_SHUFFLES
    assert set(null["statistics"]) == set(NULL_STATISTICS)
    for name in (MIXED, UNI_SELECTIVE, "mean_sli"):
        entry = null["statistics"][name]
        low, high = entry["shuffled_95"]
        assert entry["trained"] > high and low <= entry["shuffled_mean"], name
        assert entry["p_shuffled"] < ALPHA and entry["p_untrained"] < ALPHA, name
        assert entry["trained"] > entry["untrained"], name
        # The untrained network is no more selective than its own shuffles.
        assert entry["untrained_p_shuffled"] > ALPHA, name
    assert summary["untrained"]["counts"]["all"][NON_SELECTIVE] == len(tuning)
    assert arrays["null_mixed"].shape == (N_SHUFFLES,)
    assert arrays["sli_untrained"].shape == (len(tuning),)


@pytest.mark.parametrize(
    ("untrained_tuning", "verdict", "reason"),
    [
        ("flat", "holds", "> untrained"),  # the untrained units answer every condition alike
        ("same", "does not hold", "not above the untrained network"),  # training changed nothing
    ],
)
def test_the_selectivity_claim_is_judged_against_both_nulls(
    task, tmp_path, untrained_tuning, verdict, reason
):
    from sims.analyses.over_seeds import selectivity_over_seeds
    from sims.reproduce.claims import SELECTIVITY_RULE

    rng = np.random.default_rng(3)
    tuning = np.concatenate(
        [np.tile(np.eye(4), (3, 1)), np.tile(np.eye(4) + np.roll(np.eye(4), 1, axis=1), (3, 1))]
    )
    tuning[:4] = 1.0  # four non-selective units
    trained = planted_trials(task, tuning, 100, 0.05, rng)
    reference = np.ones_like(tuning) if untrained_tuning == "flat" else tuning
    untrained = planted_trials(task, reference, 100, 0.05, rng)

    class Net:
        n_rec = len(tuning)

    summary, arrays = selectivity_analysis(
        Net(), task, test_dt=TEST_DT, n_permutations=N_SHUFFLES, trials=(trained, untrained)
    )
    # the rule every seed of the Fig. 5 claim is judged by, on the entry the claim reads
    (ours,) = selectivity_over_seeds([summary])["per_seed"]
    judged, why = SELECTIVITY_RULE.judge(ours)
    assert judged == verdict and reason in why


def test_selectivity_of_a_row_mnist_run_says_in_one_line_it_applies_to_multisensory(
    row_run, capsys
):
    from sims.cli import main

    assert main(["analyze", "selectivity", str(row_run.directory)]) == 2
    err = capsys.readouterr().err.strip()
    assert "applies to runs of multisensory" in err and "row-mnist run" in err
    assert len(err.splitlines()) == 1


def test_without_an_untrained_network_the_analysis_says_how_to_get_one(task):
    with pytest.raises(ValueError, match="untrained_network"):
        selectivity_analysis(_FakeNet(), task, test_dt=TEST_DT)


def test_untrained_network_is_the_epoch_zero_snapshot_or_the_same_network_rebuilt(msi_run):
    from sims.runs import Run

    stored, source = untrained_network(msi_run)
    assert source == "snapshot of epoch 0"
    trained = msi_run.network().parameters()
    assert any(not np.array_equal(stored.parameters()[b], trained[b]) for b in trained)
    snapshots = msi_run.snapshots.files
    without = Run.open(msi_run.directory)
    without.__dict__["snapshots"] = type(msi_run.snapshots)(msi_run.directory / "no-snapshots")
    rebuilt, source = untrained_network(without)
    assert source == "rebuilt from the run's seed" and snapshots
    for block, value in stored.parameters().items():
        np.testing.assert_array_equal(rebuilt.parameters()[block], value, err_msg=block)


def test_condition_trials_in_time_segments_are_those_of_one_whole_pass(task, monkeypatch):
    from sims.analyses.common import network_pass
    from sims.presets import resolve_config
    from sims.runs import build_network

    config = resolve_config("multisensory", overrides=["network.n_rec=8"])
    net = build_network(config, task, np.random.default_rng(0))
    monkeypatch.setattr("sims.analyses.common.SEGMENT_BYTES", 7 * 40 * 8 * 8)  # 7 steps each
    trials = condition_trials(net, task, np.random.default_rng(4), n_repeats=10, test_dt=TEST_DT)
    # The same trials and draws through one pass that keeps every trial's rates (B = 40).
    rng = np.random.default_rng(4)
    modality = np.repeat([c[1] for c in CONDITIONS], 10)
    frequency = np.repeat([c[2] for c in CONDITIONS], 10)
    batch = task.condition_batch(rng, modality, frequency, phase="test", dt=TEST_DT)
    _, whole = network_pass(task.test_network(net, TEST_DT), batch.x, "meanfield", rng, True)
    expected = whole.reshape(whole.shape[0], len(CONDITIONS), 10, -1)
    assert trials.rates.shape == (91, len(CONDITIONS), 8)
    assert np.ptp(trials.rates[1:], axis=0).max() > 1e-3  # the rates move: the test can fail
    np.testing.assert_array_equal(trials.rates, expected.mean(axis=2))
    t0, t1 = response_window(task, TEST_DT)
    per_trial = expected[t0:t1].mean(axis=0)  # (4, 10, N)
    assert np.ptp(per_trial, axis=1).max() > 1e-3  # trials differ: the shuffle has noise to use
    np.testing.assert_allclose(trials.responses, per_trial, rtol=1e-12, atol=1e-15)
