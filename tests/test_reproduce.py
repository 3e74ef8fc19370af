"""The reproduce orchestration: settings and reductions, stage planning, caching, smoke runs."""

from pathlib import Path

import pytest

from sims import reproduce, store
from sims.cli import main

#: Stage groups every figure's simulations fall in (planning of --only).
MSI_TRAINING_PREFIX = "train-msi-seed"


def test_paper_settings_have_no_reductions_and_quick_lists_every_change():
    assert reproduce.reductions(reproduce.settings_for("full", data="/mnist")) == [
        {"setting": "data", "used": "/mnist", "paper": "env"}
    ]
    quick = reproduce.settings_for("quick")
    changed = {item["setting"] for item in reproduce.reductions(quick)}
    assert changed == set(reproduce.QUICK_CHANGES)
    for item in reproduce.reductions(quick):
        assert item["used"] != item["paper"]


def test_unknown_mode_and_unknown_figure_are_clear_value_errors(tmp_path):
    with pytest.raises(ValueError, match="mode 'fast' is unknown"):
        reproduce.settings_for("fast")
    with pytest.raises(ValueError, match="unknown figure"):
        reproduce.plan_stages(
            reproduce.settings_for("smoke"), reproduce.Context(tmp_path), only=["fig42"]
        )


def test_only_plans_the_stages_a_figure_reads_and_their_training_runs(tmp_path):
    settings = reproduce.settings_for("quick")
    stages = reproduce.plan_stages(settings, reproduce.Context(tmp_path), only=["fig3"])
    names = [s.name for s in stages]
    trainings = [f"{MSI_TRAINING_PREFIX}{k}" for k in range(settings.msi_seeds)]
    assert names == [*trainings, "training-msi", "behaviour"]
    kernel_only = reproduce.plan_stages(settings, reproduce.Context(tmp_path), only=["fig6"])
    assert [s.name for s in kernel_only] == ["kernel-circle", "kernel-curves"]


def test_cache_keys_change_with_settings_and_propagate_to_dependent_stages(tmp_path):
    context = reproduce.Context(tmp_path)
    quick = {s.name: s.key for s in reproduce.plan_stages(reproduce.settings_for("quick"), context)}
    again = {s.name: s.key for s in reproduce.plan_stages(reproduce.settings_for("quick"), context)}
    assert quick == again
    smoke = {s.name: s.key for s in reproduce.plan_stages(reproduce.settings_for("smoke"), context)}
    assert quick["train-msi-seed0"] != smoke["train-msi-seed0"]
    assert quick["selectivity"] != smoke["selectivity"]  # through its training dependency
    assert quick["toy"] != smoke["toy"]


def test_full_mode_without_mnist_files_says_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.delenv("SASRNN_MNIST_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="--data DIR"):
        reproduce.reproduce(tmp_path, mode="full")


def test_dry_run_prints_the_cost_in_hours_and_runs_nothing(tmp_path, capsys):
    code = main(
        [
            "reproduce",
            "--full",
            "--data",
            str(tmp_path),
            "--dry-run",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "core-hours" in printed and "train-pixel" in printed
    assert not (tmp_path / "out").exists()


def test_kernel_figure_reproduces_from_cold_then_warm_cache(tmp_path):
    """Smoke-size orchestration of the kernel-circle stage: cold run computes, warm run reuses
    (every figure, Fig. 6 included, is drawn by the slow smoke reproduction below)."""
    out = tmp_path / "repro"
    only = ["appendix-kernel"]
    cold = reproduce.reproduce(out, mode="smoke", only=only, progress=False)
    assert not any(entry["cached"] for entry in cold["stages"].values())
    for name in only:
        for path in cold["figures"][name]["files"]:
            assert Path(path).stat().st_size > 1000
    rows = {row["quantity"]: row for row in cold["headline"]}
    kernel = rows["RNTK at initialization"]["ours"]
    assert set(kernel["per_width"]) == {str(w) for w in reproduce.SMOKE_CHANGES["circle_widths"]}
    assert "missing" in rows["fraction of VIP recurrent weights"]["ours"]  # not run with --only
    warm = reproduce.reproduce(out, mode="smoke", only=only, progress=False, draw=False)
    assert all(entry["cached"] for entry in warm["stages"].values())
    summary = store.read_json(out / store.SUMMARY_FILE, "summary")
    assert len(summary["headline"]) == 14
    paper = reproduce.Settings()
    assert {item["setting"] for item in summary["reductions"]} == {
        key for key, value in reproduce.SMOKE_CHANGES.items() if getattr(paper, key) != value
    }


def test_a_damaged_cached_result_is_reported_and_computed_again(tmp_path):
    out = tmp_path / "repro"
    reproduce.reproduce(out, mode="smoke", only=["appendix-kernel"], progress=False, draw=False)
    arrays = out / store.RESULTS_DIR / "kernel_circle.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])  # a truncated archive
    messages = []
    again = reproduce.reproduce(
        out,
        mode="smoke",
        only=["appendix-kernel"],
        progress=False,
        draw=False,
        log=messages.append,
    )
    assert not again["stages"]["kernel-circle"]["cached"]
    assert any("kernel-circle" in m and "damaged" in m for m in messages), messages
    assert store.read_result(out / store.RESULTS_DIR / "kernel_circle", "kernel-circle").arrays


def test_the_report_flag_prints_the_claims_table_of_a_finished_run(tmp_path, capsys):
    out = tmp_path / "repro"
    reproduce.reproduce(out, mode="smoke", only=["fig1"], progress=False, draw=False)
    assert main(["reproduce", "--smoke", "--out", str(out), "--report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| claim (figure) |")
    assert len(table) == 2 + len(reproduce.CLAIMS)


@pytest.mark.slow
def test_smoke_reproduction_draws_every_figure_and_fills_every_summary_row(tmp_path):
    out = tmp_path / "smoke"
    summary = reproduce.reproduce(out, mode="smoke", jobs=2, progress=False)
    assert set(summary["figures"]) == set(reproduce.FIGURE_NAMES)
    assert all("files" in outcome for outcome in summary["figures"].values()), summary["figures"]
    for row in summary["headline"]:
        assert not (isinstance(row["ours"], dict) and "missing" in row["ours"]), row
    index = store.read_json(out / store.RESULTS_DIR / "runs.json", "runs-index")
    assert len(index["multisensory"]) == reproduce.SMOKE_CHANGES["msi_seeds"]
