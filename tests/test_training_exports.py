"""The training exports the figures and claims read: seed means with t-intervals, and the
ensemble minus the BPTT baseline paired by seed."""

import numpy as np
import pytest
from scipy import stats
from training_fakes import FakeRun, mnist_runs

from sims.analyses.training import preset_comparison, t_interval, training_curves


def test_the_t_interval_is_mean_plus_minus_t_quantile_times_standard_error():
    interval = t_interval([0.5, 0.6, 0.7])
    half = stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3)  # s = 0.1, n = 3: t = 4.303
    assert interval["mean"] == pytest.approx(0.6)
    assert interval["sd"] == pytest.approx(0.1)
    assert interval["low"] == pytest.approx(0.6 - half) and half == pytest.approx(0.2484, abs=1e-4)
    assert interval["high"] == pytest.approx(0.6 + half)
    assert t_interval([0.7]) == {"mean": 0.7, "low": None, "high": None, "sd": None, "n": 1}
    with pytest.raises(ValueError, match="finite"):
        t_interval([0.5, float("nan")])


def test_training_curves_band_the_epochs_every_seed_measured():
    runs = mnist_runs("paper", [0.6, 0.7, 0.8], n_epochs=4)
    runs[2].metrics["epochs"][1]["test_accuracy_meanfield"] = None  # not measured: no band there
    curves = training_curves(runs)
    assert curves["curve"]["epochs"] == [1, 3, 4] and curves["curve"]["n"] == 3
    last = t_interval([0.6, 0.7, 0.8])
    assert curves["curve"]["mean"][-1] == pytest.approx(last["mean"])
    assert curves["curve"]["low"][-1] == pytest.approx(last["low"])
    final = curves["final_interval"]["test_accuracy_meanfield"]
    assert final["high"] == pytest.approx(last["high"]) and final["n"] == 3
    assert (curves["preset"], curves["accuracy_key"]) == ("paper", "test_accuracy_meanfield")


def test_one_seed_has_a_mean_curve_and_no_band():
    curves = training_curves(mnist_runs("bptt", [0.55]))
    assert curves["curve"]["low"] == [None] * 4 and curves["curve"]["mean"][-1] == 0.55
    assert curves["final_interval"]["test_accuracy_meanfield"]["low"] is None


def test_the_comparison_pairs_seeds_and_intervals_the_mean_difference():
    ensemble = mnist_runs("paper", [0.80, 0.85, 0.90])
    baseline = mnist_runs("bptt", [0.79, 0.86, 0.87, 0.99])  # seed 3 has no ensemble partner
    result = preset_comparison(ensemble, baseline)
    assert result["seeds"] == [0, 1, 2]
    assert result["difference_per_seed"] == pytest.approx([0.01, -0.01, 0.03])
    expected = t_interval([0.01, -0.01, 0.03])
    assert result["difference"]["mean"] == pytest.approx(expected["mean"])
    assert result["difference"]["low"] == pytest.approx(expected["low"])
    assert result["paired"] and result["accuracy_key"] == "test_accuracy_meanfield"


def test_the_multisensory_comparison_reads_the_psychometric_test_accuracy():
    runs = {
        preset: [FakeRun("multisensory", preset, 0, [None], {"test_accuracy": accuracy})]
        for preset, accuracy in (("paper", 0.97), ("bptt", 0.99))
    }
    result = preset_comparison(runs["paper"], runs["bptt"])
    assert result["accuracy_key"] == "test_accuracy"
    assert result["difference"]["mean"] == pytest.approx(-0.02) and result["difference"]["n"] == 1


def test_comparisons_refuse_swapped_presets_other_data_and_no_shared_seed():
    ensemble, baseline = mnist_runs("paper", [0.8]), mnist_runs("bptt", [0.8])
    with pytest.raises(ValueError, match="'bptt' run"):
        preset_comparison(baseline, ensemble)
    fashion = mnist_runs("bptt", [0.8], task="row-mnist", kind="fashion", data="/fashion")
    with pytest.raises(ValueError, match="same task and data"):
        preset_comparison(mnist_runs("paper", [0.8], task="row-mnist"), fashion)
    later = [FakeRun("pixel-mnist", "bptt", 5, [0.5], {"test_accuracy_meanfield": 0.5})]
    with pytest.raises(ValueError, match="at least one seed"):
        preset_comparison(ensemble, later)
