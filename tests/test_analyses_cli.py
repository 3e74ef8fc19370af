"""`sasrnn analyze KIND RUN_DIR` on tiny run directories written by the test: documented keys."""

import json

import numpy as np
import pytest
from analyses_run_factory import (
    N_SNAPSHOTS,
    PI_DECIDE_EPOCH,
    XI_COLLAPSE_EPOCH,
    write_tiny_msi_run,
)

from sims.cli import main

VIP_KEYS = (
    "vip_fraction",
    "fractions",
    "accuracy_vip_mean",
    "accuracy_vip_std",
    "accuracy_random_mean",
    "accuracy_random_std",
    "accuracy_intact",
    "n_vip",
    "n_connections",
)


@pytest.fixture(scope="module")
def msi_run(tmp_path_factory):
    return write_tiny_msi_run(tmp_path_factory.mktemp("runs") / "msi-seed0")


def _analyze(argv, out):
    assert main(["analyze", *argv, "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    arrays = np.load(out.with_suffix(".npz")) if out.with_suffix(".npz").is_file() else None
    return summary, arrays


def test_vip_command_writes_the_documented_keys_and_finds_the_planted_vips(msi_run, tmp_path):
    summary, arrays = _analyze(
        [
            "vip",
            str(msi_run),
            "--batches",
            "2",
            "--fractions",
            "0",
            "1",
            "--test-dt",
            "20",
            "--legacy",
        ],
        tmp_path / "vip.json",
    )
    for key in VIP_KEYS:
        assert key in summary
    assert summary["n_vip"] == 3 and summary["n_connections"] == 36
    assert summary["fractions"] == [0.0, 1.0]
    assert len(summary["accuracy_vip_mean"]) == 2
    assert "accuracy_legacy_random_mean" in summary
    assert arrays["accuracy_vip"].shape == (2, 2)


def test_selectivity_command_counts_every_unit_once_per_input_group(msi_run, tmp_path):
    summary, arrays = _analyze(
        ["selectivity", str(msi_run), "--repeats", "2", "--test-dt", "20"], tmp_path / "sel.json"
    )
    counts = summary["counts"]
    assert set(counts) == {"auditory", "visual", "neither", "all"}
    assert sum(counts["all"].values()) == 6
    for group in ("auditory", "visual", "neither"):
        assert sum(counts[group].values()) == 2
    assert arrays["responses"].shape == (6, 4)


def test_projection_command_reports_neural_and_synaptic_variance(msi_run, tmp_path):
    summary, arrays = _analyze(
        ["projection", str(msi_run), "--test-dt", "20"], tmp_path / "proj.json"
    )
    assert 0.0 < summary["neural"]["variance_3_pcs"] <= 1.0
    # The planted m drifts linearly while π and Ξ jump once each: PC1 drift is monotone.
    assert summary["synaptic"]["drift_persistence"] == 1.0
    assert arrays["synaptic_projections"].shape[0] == N_SNAPSHOTS
    assert arrays["neural_projections"].shape[1] == 8  # visual trials at 9 … 16 Hz


def test_symmetry_command_finds_the_planted_break_order(msi_run, tmp_path):
    summary, arrays = _analyze(["symmetry", str(msi_run)], tmp_path / "sym.json")
    rec = summary["layers"]["rec"]
    assert rec["continuous_break_epoch"] == XI_COLLAPSE_EPOCH
    assert rec["discrete_break_epoch"] == PI_DECIDE_EPOCH
    assert summary["first_to_break"] == "continuous"
    assert arrays["rec_pi_counts"].shape[0] == N_SNAPSHOTS


def test_entropy_command_aggregates_several_runs(tmp_path):
    runs = [str(write_tiny_msi_run(tmp_path / f"msi-seed{s}", seed=s)) for s in (0, 1)]
    summary, arrays = _analyze(["entropy", *runs, "--stride", "3"], tmp_path / "ent.json")
    assert len(summary["runs"]) == 2
    assert summary["aggregate"]["epochs"] == [0, 3, 6, 7]
    assert summary["aggregate"]["n_runs"] == [2, 2, 2, 2]
    assert arrays["rec_entropy_two"].shape == (2, 4)


def test_plasticity_toy_command_writes_mean_and_std_curves(tmp_path):
    summary, arrays = _analyze(
        ["plasticity", "--toy", "--runs", "2", "--epochs", "4", "--synapses", "200"],
        tmp_path / "toy.json",
    )
    assert len(summary["curves"]["loss"]["mean"]) == 4
    assert arrays["forward_std"].shape == (2, 4)


def test_missing_run_directory_is_one_clear_error(tmp_path, capsys):
    assert main(["analyze", "vip", str(tmp_path / "nope"), "--out", str(tmp_path / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow  # retrains two MSI runs with the fluctuation term off
def test_plasticity_over_several_runs_gives_paired_differences_with_intervals(tmp_path):
    runs = [str(write_tiny_msi_run(tmp_path / f"msi-seed{seed}", seed=seed)) for seed in (0, 1)]
    summary, arrays = _analyze(
        ["plasticity", *runs, "--batches", "1", "--samples", "1"], tmp_path / "plasticity.json"
    )
    aggregate = summary["aggregate"]
    assert aggregate["n_seeds"] == 2 and len(summary["runs"]) == 2
    low, high = aggregate["accuracy_meanfield_mean"]["difference_ci"]
    assert low <= aggregate["accuracy_meanfield_mean"]["difference_mean"] <= high
    assert len(aggregate["robustness"]["difference_ci"]) == len(aggregate["fractions"])
    assert arrays["run1_on_robustness"].shape[:2] == (len(aggregate["fractions"]), 5)
