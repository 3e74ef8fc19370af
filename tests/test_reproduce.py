"""The reproduce orchestration: settings and reductions, stage planning, caching, smoke runs."""

from pathlib import Path

import pytest
from training_fakes import write_idx_directory

import figures.style
from sims import reproduce, store
from sims.cli import main
from sims.reproduce.cost import estimate_wall_seconds
from sims.reproduce.plan import Stage
from sims.reproduce.scheduler import critical_paths, ready_order
from sims.scan import parse_axis, run_scan

#: Stage groups every figure's simulations fall in (planning of --only).
MSI_TRAINING_PREFIX = "train-msi-seed"


def test_paper_settings_have_no_reductions_and_quick_lists_every_change():
    assert reproduce.reductions(reproduce.settings_for("full", data="/mnist")) == [
        {"setting": "data", "used": "/mnist", "paper": "env"}
    ]
    for mode, changes in (
        ("quick", reproduce.QUICK_CHANGES),
        ("standard", reproduce.STANDARD_CHANGES),
    ):
        settings = reproduce.settings_for(mode)
        changed = {item["setting"] for item in reproduce.reductions(settings)}
        assert changed == set(changes), mode
        for item in reproduce.reductions(settings):
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
    assert len(summary["headline"]) == len(reproduce.CLAIMS)
    paper = reproduce.Settings()
    assert {item["setting"] for item in summary["reductions"]} == {
        key for key, value in reproduce.SMOKE_CHANGES.items() if getattr(paper, key) != value
    }


def test_the_report_flag_prints_the_claims_table_of_a_finished_run(tmp_path, capsys):
    out = tmp_path / "repro"
    reproduce.reproduce(out, mode="smoke", only=["fig1"], progress=False, draw=False)
    assert main(["reproduce", "--smoke", "--out", str(out), "--report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| claim (figure) |")
    assert len(table) == 2 + len(reproduce.CLAIMS)


def _names(stages, prefix):
    return sorted(stage.name for stage in stages if stage.name.startswith(prefix))


def test_the_baseline_trains_beside_the_ensemble_with_the_same_seeds(tmp_path):
    quick = reproduce.plan_stages(reproduce.settings_for("quick"), reproduce.Context(tmp_path))
    assert _names(quick, "train-pixel") == ["train-pixel-bptt-seed0", "train-pixel-seed0"]
    assert len(_names(quick, "train-row-bptt")) == len(_names(quick, "train-row-seed")) == 2
    assert not _names(quick, "train-msi-bptt") and not _names(quick, "train-fashion")
    assert {"comparison-pixel", "comparison-row"} <= {stage.name for stage in quick}
    pixel = {s.name: s.params["config"] for s in quick if s.name.startswith("train-pixel")}
    ensemble, baseline = pixel["train-pixel-seed0"], pixel["train-pixel-bptt-seed0"]
    assert (baseline["preset"], baseline["seed"], baseline["epochs"]) == (
        "bptt",
        ensemble["seed"],
        ensemble["epochs"],
    )
    assert baseline["evaluation"]["n_samples"] == 1  # its sampled networks are its mean network
    fashion = write_idx_directory(tmp_path / "fashion")
    standard = reproduce.settings_for("standard", fashion=str(fashion))
    stages = reproduce.plan_stages(standard, reproduce.Context(tmp_path))
    for prefix, seeds in (("pixel", 3), ("row", 5), ("msi", 5), ("fashion", 5)):
        assert len(_names(stages, f"train-{prefix}-seed")) == seeds, prefix
        assert len(_names(stages, f"train-{prefix}-bptt-seed")) == seeds, prefix
        assert f"comparison-{prefix}" in {stage.name for stage in stages}
    config = next(s.params["config"] for s in stages if s.name == "train-fashion-bptt-seed0")
    assert config["data"] == str(fashion) and config["task_options"] == {"kind": "fashion"}
    assert config["evaluation"]["test_samples"] == 0 and config["epochs"] == 40


def test_fashion_stages_are_skipped_with_a_note_when_its_files_are_missing(tmp_path, capsys):
    missing = tmp_path / "no-fashion"
    settings = reproduce.settings_for("standard", fashion=str(missing))
    stages = reproduce.plan_stages(settings, reproduce.Context(tmp_path))
    assert not [stage for stage in stages if "fashion" in stage.name]
    drawn, notes = reproduce.figures_and_notes(reproduce.FIGURE_NAMES, settings)
    assert "fashion-rows" not in drawn and "apt-get install dataset-fashion-mnist" in notes[0]
    args = ["reproduce", "--standard", "--fashion", str(missing), "--dry-run"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "note: fashion-rows: skipped" in printed and "train-pixel-bptt" in printed
    assert "h (" in printed.splitlines()[0] and "wall with --jobs" in printed.splitlines()[0]


def test_every_planned_stage_of_every_tier_has_a_cost_and_standard_fits_its_hours(tmp_path):
    fashion = str(write_idx_directory(tmp_path / "fashion"))
    for mode in reproduce.MODES:
        settings = reproduce.settings_for(mode, data=str(tmp_path), fashion=fashion)
        stages = reproduce.plan_stages(settings, reproduce.Context(tmp_path))
        assert all(stage.seconds > 0 for stage in stages), mode
    standard = reproduce.settings_for("standard", fashion=fashion)
    stages = reproduce.plan_stages(standard, reproduce.Context(tmp_path))
    assert 0.75 * 3600 <= estimate_wall_seconds(stages, jobs=2) <= 2 * 3600  # about 1–2 h
    quick = reproduce.plan_stages(reproduce.settings_for("quick"), reproduce.Context(tmp_path))
    assert estimate_wall_seconds(quick, jobs=2) <= 600


def _stage(name, seconds, deps=(), threads=1.0):
    return Stage(name, print, {}, deps=deps, seconds=seconds, threads=threads)


def test_the_wall_estimate_shares_the_cores_and_follows_the_dependencies():
    pair = [_stage("a", 10.0), _stage("b", 10.0)]
    assert estimate_wall_seconds(pair, jobs=2, figures=False) == pytest.approx(10.0)
    assert estimate_wall_seconds(pair, jobs=1, figures=False) == pytest.approx(20.0)
    alone = [_stage("train", 15.0, threads=1.5)]
    assert estimate_wall_seconds(alone, jobs=2, figures=False) == pytest.approx(10.0)
    # a short stage feeding a long one starts first, so the long chain overlaps the other stage
    chain = [_stage("short", 1.0), _stage("long", 20.0), _stage("after", 30.0, deps=("short",))]
    assert critical_paths(chain) == {"short": 31.0, "long": 20.0, "after": 30.0}
    assert [s.name for s in ready_order(chain[:2], critical_paths(chain))] == ["short", "long"]
    assert estimate_wall_seconds(chain, jobs=2, figures=False) == pytest.approx(31.0)


@pytest.mark.slow  # trains four runs; the figure itself is drawn in tests/test_figures.py
def test_a_smoke_fashion_reproduction_trains_both_presets_and_draws_its_figure(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(figures.style.RC, "savefig.dpi", 40)  # renders; looks are not tested
    fashion = write_idx_directory(tmp_path / "fashion")
    out = tmp_path / "repro"
    summary = reproduce.reproduce(
        out, mode="smoke", only=["fashion-rows"], fashion=str(fashion), progress=False
    )
    assert {"train-fashion-seed0", "train-fashion-bptt-seed0"} <= set(summary["stages"])
    assert "files" in summary["figures"]["fashion-rows"], summary["figures"]
    rows = {row["quantity"]: row for row in summary["headline"]}
    row = rows["Fashion-MNIST rows: ensemble − BPTT final test accuracy, paired by seed"]
    assert row["ours"]["n_pairs"] == 1 and row["verdict"] == "not resolvable"
    index = store.read_json(out / store.RESULTS_DIR / "runs.json", "runs-index")
    assert len(index["fashion-rows"]) == len(index["fashion-rows-bptt"]) == 1
    assert summary["wall_seconds"]["planned_cold_cache"] > 0
    stage = summary["stages"]["train-fashion-seed0"]  # recorded for recalibrating the costs
    assert stage["cpu_seconds"] > 0 and stage["planned_seconds"] > 0 and not stage["cached"]


@pytest.mark.parametrize(
    ("mode", "msi", "row", "pixel"), [("standard", 5, 5, 3), ("quick", 2, 2, 1)]
)
def test_the_analyses_read_the_seeds_of_the_tier_and_the_symmetry_runs_start_at_half(
    tmp_path, mode, msi, row, pixel
):
    settings = reproduce.settings_for(mode)
    stages = {s.name: s for s in reproduce.plan_stages(settings, reproduce.Context(tmp_path))}
    assert len(stages["vip"].params["run_dirs"]) == msi
    assert len(stages["selectivity"].params["run_dirs"]) == msi
    assert len(stages["projection"].params["mnist_dirs"]) == pixel
    assert len(stages["synaptic"].params["row_dirs"]) == row
    reduced = {item["setting"] for item in reproduce.reductions(settings)}
    assert ("analysis_seeds" in reduced) == (mode == "quick")  # quick lists its fewer seeds
    symmetry = [stages[f"train-symmetry-seed{k}"] for k in range(settings.symmetry_seeds)]
    assert stages["symmetry"].deps == tuple(stage.name for stage in symmetry)
    config, paper = symmetry[0].params["config"], stages["train-row-seed0"].params["config"]
    assert {layer["pi"] for layer in config["init"].values()} == {0.5}
    assert {layer["pi"] for layer in paper["init"].values()} == {0.0}  # accuracy claims' runs
    schedule = ("epochs", "batches_per_epoch", "batch_size")
    assert [config[key] for key in schedule] == [paper[key] for key in schedule]


@pytest.mark.slow
def test_smoke_reproduction_draws_every_figure_and_fills_every_summary_row(tmp_path):
    out = tmp_path / "smoke"
    fashion = write_idx_directory(tmp_path / "fashion")
    summary = reproduce.reproduce(out, mode="smoke", jobs=2, progress=False, fashion=str(fashion))
    assert set(summary["figures"]) == set(reproduce.FIGURE_NAMES)
    assert all("files" in outcome for outcome in summary["figures"].values()), summary["figures"]
    for row in summary["headline"]:  # every result is there (smoke trains no epoch 15)
        missing = row["ours"].get("missing", "") if isinstance(row["ours"], dict) else ""
        assert "does not exist" not in missing, row
    index = store.read_json(out / store.RESULTS_DIR / "runs.json", "runs-index")
    assert len(index["multisensory"]) == reproduce.SMOKE_CHANGES["msi_seeds"]


@pytest.mark.slow
def test_a_scan_after_a_reproduction_in_one_process_finds_its_process_pool_working(tmp_path):
    """The reproduction's worker pool is its own, so joblib's reusable pool, which a scan runs
    on, is still the one joblib set up."""
    args = ("init-dynamics", parse_axis("g=0.5:2.0:3"), parse_axis("pi=0:0.5:2"), "lyapunov")
    fixed = {"N": 20, "steps": 60, "transient": 20}
    before = run_scan(*args, out=tmp_path / "before", fixed=fixed, jobs=2, progress=False)
    only = ["appendix-kernel"]
    reproduce.reproduce(tmp_path / "repro", mode="smoke", only=only, jobs=2, draw=False)
    after = run_scan(*args, out=tmp_path / "after", fixed=fixed, jobs=2, progress=False)
    assert after["values"] == before["values"]
