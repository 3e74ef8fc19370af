"""The headline claims table: every number has a path in the stored results, every verdict a
rule that can go either way, and the summary and the report are generated from it."""

import numpy as np
import pytest

from sims import reproduce, store
from sims.reproduce.claims import At, headline, markdown_table

#: A VIP fraction inside and one outside the 0.5–2% band of the "≈ 1%" claim.
VIP_FRACTION_NEAR_ONE_PERCENT, VIP_FRACTION_FAR_FROM_ONE_PERCENT = 0.01, 0.05


def _ats(spec):
    if isinstance(spec, At):
        return [spec]
    return [at for item in spec.values() for at in _ats(item)]


def test_every_claim_reads_a_result_that_a_planned_stage_writes(tmp_path):
    stages = reproduce.plan_stages(reproduce.settings_for("quick"), reproduce.Context(tmp_path))
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
