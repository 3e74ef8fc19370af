"""Selectivity classes and per-group counts through the sims layer (paper Fig. 5)."""

import numpy as np
import pytest

from dynamics.selectivity import MIXED, NON_SELECTIVE, UNI_SELECTIVE
from sims.analyses.selectivity import CONDITIONS, selectivity_analysis
from sims.tasks import make_task

N_REC = 6
TEST_DT = 20.0  # coarse test step: 90 steps per trial keeps the test fast


def planted_rates(task, responses):
    """Rates (T+1, 4, N) equal to ``responses[i, s]`` inside the stimulus+decision window, 0
    before it."""
    epochs = task.epoch_steps("test", TEST_DT)
    n_steps = epochs["decision"][1]
    rates = np.zeros((n_steps + 1, len(CONDITIONS), N_REC))
    rates[epochs["stimulus"][0] + 1 :] = np.asarray(responses).T[None]
    return rates


@pytest.fixture(scope="module")
def task():
    return make_task("multisensory")


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
    summary, arrays = selectivity_analysis(
        _FakeNet(), task, test_dt=TEST_DT, rates=planted_rates(task, responses)
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


class _FakeNet:
    """With precomputed rates the analysis reads only the unit count of the network."""

    n_rec = N_REC


def test_selectivity_of_a_row_mnist_run_says_in_one_line_it_applies_to_multisensory(
    row_run, capsys
):
    from sims.cli import main

    assert main(["analyze", "selectivity", str(row_run.directory)]) == 2
    err = capsys.readouterr().err.strip()
    assert "applies to runs of multisensory" in err and "row-mnist run" in err
    assert len(err.splitlines()) == 1


def test_condition_rates_in_time_segments_are_those_of_one_whole_pass(task, monkeypatch):
    from sims.analyses.common import network_pass
    from sims.analyses.selectivity import condition_rates
    from sims.presets import resolve_config
    from sims.runs import build_network

    config = resolve_config("multisensory", overrides=["network.n_rec=8"])
    net = build_network(config, task, np.random.default_rng(0))
    monkeypatch.setattr("sims.analyses.common.SEGMENT_BYTES", 7 * 40 * 8 * 8)  # 7 steps each
    rates = condition_rates(net, task, np.random.default_rng(4), n_repeats=10, test_dt=TEST_DT)
    # The same trials and draws through one pass that keeps every trial's rates (B = 40).
    rng = np.random.default_rng(4)
    modality = np.repeat([c[1] for c in CONDITIONS], 10)
    frequency = np.repeat([c[2] for c in CONDITIONS], 10)
    batch = task.condition_batch(rng, modality, frequency, phase="test", dt=TEST_DT)
    _, whole = network_pass(task.test_network(net, TEST_DT), batch.x, "meanfield", rng, True)
    expected = whole.reshape(whole.shape[0], len(CONDITIONS), 10, -1).mean(axis=2)
    assert rates.shape == (91, len(CONDITIONS), 8)
    assert np.ptp(rates[1:], axis=0).max() > 1e-3  # the rates move: the comparison can fail
    np.testing.assert_array_equal(rates, expected)
