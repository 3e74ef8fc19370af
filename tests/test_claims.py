"""The headline claims table: every number has a path in the stored results, every verdict a
rule that can go either way, and the summary and the report are generated from it."""

import numpy as np
import pytest
from training_fakes import mnist_runs, write_idx_directory

from sims import reproduce, store
from sims.analyses.training import preset_comparison, training_curves
from sims.reproduce.claims import At, Comparable, LearnsBy, headline, markdown_table

#: A VIP fraction inside and one outside the 0.5–2% band of the "≈ 1%" claim.
VIP_FRACTION_NEAR_ONE_PERCENT, VIP_FRACTION_FAR_FROM_ONE_PERCENT = 0.01, 0.05


def _ats(spec):
    if isinstance(spec, At):
        return [spec]
    return [at for item in spec.values() for at in _ats(item)]


def test_every_claim_reads_a_result_that_a_planned_stage_writes(tmp_path):
    fashion = write_idx_directory(tmp_path / "fashion")
    settings = reproduce.settings_for("standard", fashion=str(fashion))
    stages = reproduce.plan_stages(settings, reproduce.Context(tmp_path))
    written = {name for stage in stages for name in stage.outputs}
    for claim in reproduce.CLAIMS:
        for at in _ats(claim.ours):
            assert at.stem in store.RESULT_STEMS, (claim.quantity, at)
            assert f"{store.RESULTS_DIR}/{at.stem}.json" in written, (claim.quantity, at)


def _write_vip_results(results, fraction):
    summary = {
        "vip_fraction": fraction,
        "accuracy_vip_mean": [0.99, 0.52],
        "accuracy_vip_std": [0.0, 0.01],
        "accuracy_random_mean": [0.99, 0.98],
        "accuracy_random_std": [0.0, 0.01],
        "n_removed": [0, 12],
        "accuracy_intact": 0.99,
    }
    store.write_result(results / "vip", "vip", summary, {"vip_mask": np.zeros((3, 3), bool)})
    store.write_result(
        results / "parameters_msi",
        "trained-parameters",
        {"task": "multisensory", "seed": 0, "run_dir": "r", "vip_fraction_per_seed": [fraction]},
        {"rec.m": np.zeros((3, 3))},
    )


@pytest.mark.parametrize(
    ("fraction", "verdict"),
    [
        (VIP_FRACTION_NEAR_ONE_PERCENT, "holds"),
        (VIP_FRACTION_FAR_FROM_ONE_PERCENT, "does not hold"),
    ],
)
def test_the_vip_claim_reads_its_number_from_the_results_and_judges_it(tmp_path, fraction, verdict):
    _write_vip_results(tmp_path, fraction)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["fraction of VIP recurrent weights"]
    assert row["ours"] == {"seed0": fraction, "per_seed": [fraction]}
    assert row["source"] == {
        "seed0": "vip.vip_fraction",
        "per_seed": "parameters_msi.vip_fraction_per_seed",
    }
    assert row["verdict"] == verdict
    removal = rows["accuracy after removing all VIP weights"]
    assert removal["ours"]["accuracy_mean"] == 0.52 and removal["verdict"] == "holds"


def test_a_claim_whose_result_is_missing_is_not_tested_and_says_which_file(tmp_path):
    rows = headline(tmp_path, reproduce.settings_for("smoke"))
    assert len(rows) == len(reproduce.CLAIMS)
    for row in rows:
        assert "does not exist" in row["ours"]["missing"]
        assert row["verdict"] == "not tested"


def test_the_markdown_table_has_one_row_per_claim_with_its_verdict(tmp_path):
    _write_vip_results(tmp_path, VIP_FRACTION_NEAR_ONE_PERCENT)
    table = markdown_table(headline(tmp_path, reproduce.settings_for("quick"))).splitlines()
    assert len(table) == 2 + len(reproduce.CLAIMS)
    vip_row = next(line for line in table if line.startswith("| fraction of VIP"))
    assert "per_seed 0.01" in vip_row and vip_row.endswith("**holds** |")


#: The paired differences (ensemble − BPTT) of three seeds, and the comparison's verdict.
COMPARISONS = [
    ([0.004, 0.0, 0.008], "holds", "within ±0.03"),  # [−0.006, +0.014]
    ([0.10, 0.12, 0.11], "does not hold", "ensemble better"),
    ([-0.10, -0.12, -0.11], "does not hold", "ensemble worse"),
    ([0.05, -0.05, 0.0], "not resolvable", "crosses the ±0.03 margin"),
]


def _write_comparison(results, prefix, differences, bptt=0.8):
    ensemble = mnist_runs("paper", [bptt + d for d in differences])
    baseline = mnist_runs("bptt", [bptt] * len(differences))
    summary = preset_comparison(ensemble, baseline)
    store.write_result(results / f"comparison_{prefix}", "preset-comparison", summary)


@pytest.mark.parametrize(("differences", "verdict", "reason"), COMPARISONS)
def test_ensemble_against_bptt_is_judged_by_its_paired_interval(
    tmp_path, differences, verdict, reason
):
    _write_comparison(tmp_path, "row", differences)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["row-MNIST: ensemble − BPTT final test accuracy, paired by seed"]
    assert row["ours"]["n_pairs"] == 3
    assert row["ours"]["mean_difference"] == pytest.approx(np.mean(differences))
    assert (row["verdict"], reason in row["reason"]) == (verdict, True)
    assert row["rule"] == {"rule": "Comparable", "margin": 0.03, "min_pairs": 2}
    table = markdown_table([row])
    assert f"**{verdict}** ({row['reason']})" in table


def test_one_seed_pair_is_not_resolvable_and_a_missing_task_is_not_tested(tmp_path):
    _write_comparison(tmp_path, "pixel", [0.0])
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    pixel = rows["pixel-MNIST: ensemble − BPTT final test accuracy, paired by seed"]
    assert pixel["verdict"] == "not resolvable" and "1 seed pair" in pixel["reason"]
    fashion = rows["Fashion-MNIST rows: ensemble − BPTT final test accuracy, paired by seed"]
    assert fashion["verdict"] == "not tested" and "comparison_fashion" in fashion["ours"]["missing"]


@pytest.mark.parametrize(
    ("finals", "n_epochs", "verdict"),
    [
        ([0.62, 0.66, 0.70], 15, "holds"),
        ([0.50, 0.55, 0.60], 15, "does not hold"),
        ([0.70], 15, "not resolvable"),  # the criterion needs 3 seeds
        ([0.62, 0.66, 0.70], 12, "not tested"),  # epoch 15 was never reached
    ],
)
def test_the_pixel_learning_criterion_reads_epoch_15_of_three_seeds(
    tmp_path, finals, n_epochs, verdict
):
    curves = training_curves(mnist_runs("paper", finals, n_epochs=n_epochs))
    store.write_result(tmp_path / "training_pixel", "training-curves", curves)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["pixel-MNIST: the ensemble learns by epoch 15"]
    assert row["verdict"] == verdict
    if verdict != "not tested":
        assert row["ours"]["mean"] == pytest.approx(np.mean(finals))
        assert row["rule"] == {"rule": "LearnsBy", "epoch": 15, "threshold": 0.6, "min_seeds": 3}


def test_criteria_state_their_thresholds_in_words():
    assert "±0.03" in Comparable().text and "before the runs" in Comparable().text
    assert "epoch 15" in LearnsBy(15, 0.6, 3).text and "≥ 0.6" in LearnsBy(15, 0.6, 3).text
