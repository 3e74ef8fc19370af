"""Faults under the command line: each damaged run file and each system error ends in its
documented exit code and one line on stderr, no traceback, and no valid file is changed; each
damaged file of the reproduce cache is reported in one line and computed again, and nothing else
is touched; a reproduction stopped by Ctrl-C or SIGTERM leaves no process and resumes from its
cache."""

from __future__ import annotations

import errno
import fnmatch
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_ROW

import figures.resultfiles
import figures.style
from sims import cli, reproduce, runs, store
from sims.cli import EXIT_DAMAGED_FILE, EXIT_INTERRUPTED, EXIT_SYSTEM_ERROR, main
from sims.presets import resolve_config
from sims.reproduce.scheduler import STAGES_FILE, run_stages, stored_files
from sims.scan import load_scan
from sims.train import Trainer, train_run

ROOT = Path(__file__).resolve().parent.parent

#: The fixture runs' schedule on the command line.
TRAIN = [
    "train",
    "--task",
    "row-mnist",
    "--epochs",
    "2",
    "--batches-per-epoch",
    "3",
    *[arg for setting in TINY_ROW for arg in ("--set", setting)],
    "--quiet",
]
#: Minibatch call at which the interrupted run is stopped (epoch 1, minibatch 2 of 3): its newest
#: checkpoint is (epoch 1, minibatch 2), the previous one (epoch 1, minibatch 0).
INTERRUPT_AT_CALL = 6


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def zero_bytes(data: bytes) -> bytes:
    return b""


def random_bytes(data: bytes) -> bytes:
    return np.random.default_rng(7).bytes(max(len(data), 64))


DAMAGES = [truncated, zero_bytes, random_bytes]


def damage(path: Path, how) -> None:
    path.write_bytes(how(path.read_bytes()))


def contents(directory: Path) -> dict[str, bytes]:
    """Relative path → bytes of every file under ``directory``."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def run_cli(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


def assert_one_line(err: str) -> None:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("sasrnn "), err


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """The row-MNIST run of ``row_run`` stopped by Ctrl-C in epoch 1 (two checkpoints kept)."""
    config = resolve_config("row-mnist", overrides=TINY_ROW, epochs=2, batches_per_epoch=3)
    real_step, calls = Trainer._step, {"n": 0}

    def interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == INTERRUPT_AT_CALL:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    out = tmp_path_factory.mktemp("runs") / "row-interrupted"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Trainer, "_step", interrupt)
        with pytest.raises(KeyboardInterrupt):
            train_run(config, out, progress=False)
    assert (out / "checkpoint.previous.npz").is_file()
    return out


#: (command, damaged file) pairs of a finished run: the command reads the file.
FINISHED_CASES = [
    ("evaluate", "config.toml"),
    ("evaluate", "params.npz"),
    ("vip", "config.toml"),
    ("vip", "params.npz"),
    ("symmetry", "snapshots/epoch_000001.npz"),
    ("resume", "config.toml"),
    ("resume", "metrics.json"),
]


def command(kind: str, run_dir: Path) -> list[str]:
    if kind == "evaluate":
        return ["evaluate", str(run_dir)]
    if kind in ("vip", "symmetry"):
        return ["analyze", kind, str(run_dir), "--batches", "1"][: 5 if kind == "vip" else 3]
    return [*TRAIN, "--out", str(run_dir), "--resume"]


@pytest.mark.parametrize("how", DAMAGES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("kind", "name"), FINISHED_CASES, ids=lambda v: v.replace("/", "-"))
def test_a_damaged_file_of_a_finished_run_is_exit_code_3_and_one_line(
    row_run, tmp_path, capsys, monkeypatch, kind, name, how
):
    run_dir = tmp_path / "run"
    shutil.copytree(row_run.directory, run_dir)
    damage(run_dir / name, how)
    before = contents(run_dir)
    code, err = run_cli(command(kind, run_dir), capsys, monkeypatch)
    assert code == EXIT_DAMAGED_FILE, err
    assert_one_line(err)
    assert Path(name).name in err
    assert contents(run_dir) == before


@pytest.mark.parametrize("how", DAMAGES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "names", [("run.json",), ("checkpoint.npz", "checkpoint.previous.npz")], ids=["run", "both"]
)
def test_a_damaged_state_of_an_interrupted_run_stops_resume_with_exit_code_3(
    interrupted_run, tmp_path, capsys, monkeypatch, names, how
):
    run_dir = tmp_path / "run"
    shutil.copytree(interrupted_run, run_dir)
    for name in names:
        damage(run_dir / name, how)
    before = contents(run_dir)
    code, err = run_cli(command("resume", run_dir), capsys, monkeypatch)
    assert code == EXIT_DAMAGED_FILE, err
    assert_one_line(err)
    assert names[-1] in err
    assert contents(run_dir) == before


@pytest.mark.parametrize("how", DAMAGES, ids=lambda f: f.__name__)
def test_a_damaged_newest_checkpoint_resumes_from_the_previous_to_the_same_run(
    interrupted_run, row_run, tmp_path, capsys, monkeypatch, how
):
    run_dir = tmp_path / "run"
    shutil.copytree(interrupted_run, run_dir)
    damage(run_dir / "checkpoint.npz", how)
    code, err = run_cli(command("resume", run_dir), capsys, monkeypatch)
    assert code == 0, err
    assert err.count("\n") == 1 and "resuming from the previous checkpoint" in err, err
    resumed, reference = contents(run_dir), contents(row_run.directory)
    for name in ["params.npz", *(n for n in reference if n.startswith("snapshots"))]:
        assert resumed[name] == reference[name], name


def _raise(error_number: int):
    def fail(*args, **kwargs):
        raise OSError(error_number, os.strerror(error_number), str(args[0]))

    return fail


#: Where the operating system fails: the atomic writer itself, its fsync, its final rename.
OS_FAULTS = {
    "permission": (errno.EACCES, [(figures.resultfiles, "atomic_write_bytes")]),
    "disk-full": (errno.ENOSPC, [(os, "fsync")]),
    "read-only": (errno.EROFS, [(os, "replace")]),
}


@pytest.mark.parametrize("fault", list(OS_FAULTS))
@pytest.mark.parametrize("kind", ["evaluate-write", "vip", "resume", "new-run"])
def test_a_system_error_while_writing_is_exit_code_4_one_line_and_loses_nothing(
    interrupted_run, row_run, tmp_path, capsys, monkeypatch, fault, kind
):
    source = interrupted_run if kind == "resume" else row_run.directory
    run_dir = tmp_path / "run"
    shutil.copytree(source, run_dir)
    before = contents(run_dir)
    if kind == "evaluate-write":
        argv = ["evaluate", str(run_dir), "--write"]
    elif kind == "new-run":
        argv = [*TRAIN, "--out", str(tmp_path / "new")]
    else:
        argv = command(kind, run_dir)
    number, targets = OS_FAULTS[fault]
    for module, name in targets:
        monkeypatch.setattr(module, name, _raise(number))
        if module is figures.resultfiles:
            monkeypatch.setattr(store, name, _raise(number))
    code, err = run_cli(argv, capsys, monkeypatch)
    monkeypatch.undo()
    assert code == EXIT_SYSTEM_ERROR, err
    assert_one_line(err)
    assert os.strerror(number) in err
    assert contents(run_dir) == before


@pytest.mark.parametrize("only", ["", " , "])
def test_reproduce_only_naming_no_figure_is_bad_input_not_everything(
    tmp_path, capsys, monkeypatch, only
):
    out = tmp_path / "reproduce"
    code, err = run_cli(
        ["reproduce", "--quick", "--only", only, "--out", str(out)], capsys, monkeypatch
    )
    assert code == cli.EXIT_BAD_INPUT
    assert_one_line(err)
    assert "--only names no figure" in err and not out.exists()


def test_projection_of_a_run_without_snapshots_says_the_synaptic_part_was_skipped(
    row_run, tmp_path, capsys, monkeypatch
):
    run_dir = tmp_path / "run"
    shutil.copytree(row_run.directory, run_dir)
    shutil.rmtree(run_dir / "snapshots")
    capsys.readouterr()
    code = main(["analyze", "projection", str(run_dir)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "synaptic = skipped: " in printed.out and "holds no snapshots" in printed.out
    result = figures.resultfiles.read_json(run_dir / "analysis-projection.json", "projection")
    assert result["synaptic"] is None


# -- the reproduce cache -------------------------------------------------------------------------
#: A directory without Fashion-MNIST files: the smoke reproductions here train no Fashion runs.
NO_FASHION = "no-fashion"
#: The smoke stages that read no training run: the cache tests of the default suite run these.
INDEPENDENT_STAGES = ("kernel-circle", "toy")
#: What the report of a damaged file says of it (random bytes keep the size of a file of at
#: least 64 bytes; ``truncate -s 2000`` cuts a larger file and grows a smaller one).
DAMAGE_WORDS = ("is truncated", "is empty", "has changed", "has grown")
#: Files every reproduction rewrites: the stage record, the summary, the figures.
BOOKKEEPING = (f"{store.RESULTS_DIR}/{STAGES_FILE}", store.SUMMARY_FILE, store.FIGURES_DIR)
#: The reader of each kind of stored file.
READERS = {".npz": store.read_arrays, ".json": store.read_json, ".toml": store.read_toml}


def truncate_s_2000(data: bytes) -> bytes:
    """What ``truncate -s 2000`` makes of a file: cut to 2000 bytes, or grown with zero bytes."""
    return data[:2000].ljust(2000, b"\0")


def smoke_plan(out, only=None) -> list:
    """The stages of a smoke reproduction into ``out`` (no Fashion-MNIST)."""
    settings = reproduce.settings_for("smoke", fashion=NO_FASHION)
    return reproduce.plan_stages(settings, reproduce.Context(Path(out)), only=only)


def _inside(name: str, outputs) -> bool:
    return any(name == output or name.startswith(f"{output}/") for output in outputs)


def _arrays(data: bytes) -> dict:
    with np.load(io.BytesIO(data)) as archive:
        return {key: archive[key] for key in archive.files}


def assert_computed_again(out, stage, name, original, before, record, cached, messages):
    """File ``name`` (relative to ``out``) of ``stage``, damaged, was reported in one line and
    computed again with the arrays it held (``original``: the files before the damage), and no
    file outside the stage's outputs changed (``before``: the files after the damage)."""
    reports = [message for message in messages if str(Path(out) / name) in message]
    assert len(reports) == 1 and reports[0].startswith(f"stage {stage.name}: "), messages
    assert any(word in reports[0] for word in DAMAGE_WORDS), reports[0]
    assert [stage_name for stage_name, hit in cached.items() if not hit] == [stage.name]
    after = contents(out)
    outside = (*stage.outputs, *BOOKKEEPING)
    assert {n: data for n, data in after.items() if not _inside(n, outside)} == {
        n: data for n, data in before.items() if not _inside(n, outside)
    }
    written = record[stage.name]["files"]
    assert written[name] == stored_files(out, [name])[name]
    READERS[Path(name).suffix](Path(out) / name)
    for file in written:  # every stage is seeded: the same numbers again (timings aside)
        if file.endswith(".npz"):
            recomputed, stored = _arrays(after[file]), _arrays(original[file])
            assert recomputed.keys() == stored.keys(), file
            for key, array in stored.items():
                if array.dtype.kind in "biuf":
                    np.testing.assert_array_equal(recomputed[key], array, err_msg=file)


@pytest.fixture(scope="module")
def independent_cache(tmp_path_factory):
    """OUT of the smoke stages that read no training run, computed once (no figures)."""
    out = tmp_path_factory.mktemp("cache") / "out"
    stages = [stage for stage in smoke_plan(out) if stage.name in INDEPENDENT_STAGES]
    run_stages(stages, reproduce.Context(out), progress=False, log=lambda message: None)
    return out


#: Damaged files of the default suite: a result's summary and arrays, and ``truncate -s 2000``
#: of toy.npz (which the smoke tier writes smaller than 2000 bytes: a zip reader accepts it).
INDEPENDENT_CASES = [
    *[
        (f"{store.RESULTS_DIR}/kernel_circle.{kind}", how)
        for kind in ("json", "npz")
        for how in DAMAGES
    ],
    (f"{store.RESULTS_DIR}/toy.npz", truncate_s_2000),
]


@pytest.mark.parametrize(
    ("name", "how"), INDEPENDENT_CASES, ids=lambda v: getattr(v, "__name__", v)
)
def test_a_damaged_cached_result_is_reported_and_computed_again_and_nothing_else_changes(
    independent_cache, tmp_path, name, how
):
    out = tmp_path / "out"
    shutil.copytree(independent_cache, out)
    original = contents(out)
    damage(out / name, how)
    before = contents(out)
    stages = [stage for stage in smoke_plan(out) if stage.name in INDEPENDENT_STAGES]
    messages = []
    record = run_stages(stages, reproduce.Context(out), progress=False, log=messages.append)
    stage = next(stage for stage in stages if name in stage.outputs)
    cached = {s.name: record[s.name]["cached"] for s in stages}
    assert_computed_again(out, stage, name, original, before, record, cached, messages)


def test_a_cached_result_of_an_older_schema_version_is_computed_again(independent_cache, tmp_path):
    """A result file intact as recorded but written in a schema version this sasrnn no longer
    writes (its layout changed since) is reported and its stage computed again."""
    out = tmp_path / "out"
    shutil.copytree(independent_cache, out)
    name = f"{store.RESULTS_DIR}/kernel_circle.json"
    document = json.loads((out / name).read_text())
    document["schema"]["version"] -= 1
    (out / name).write_text(json.dumps(document))
    record_path = out / store.RESULTS_DIR / STAGES_FILE
    record = store.read_json(record_path, "stages")
    record["kernel-circle"]["files"][name] = stored_files(out, [name])[name]
    store.write_json(record_path, "stages", record)
    stages = [stage for stage in smoke_plan(out) if stage.name in INDEPENDENT_STAGES]
    messages = []
    record = run_stages(stages, reproduce.Context(out), progress=False, log=messages.append)
    assert {n: entry["cached"] for n, entry in record.items()} == {
        "kernel-circle": False,
        "toy": True,
    }
    assert len(messages) == 1 and "schema" in messages[0] and "kernel_circle.json" in messages[0]
    store.read_json(out / name, "kernel-circle")  # the current version again
    assert set(record["kernel-circle"]["computed_by"]) == {"git_commit", "versions", "blas"}


def test_a_cache_recorded_without_fingerprints_is_read_back_once_and_then_fingerprinted(
    independent_cache, tmp_path
):
    """A stages.json of an older sasrnn: its stages count as cached while their files read
    back; a damaged one is computed again; the others get their fingerprints."""
    out = tmp_path / "out"
    shutil.copytree(independent_cache, out)
    path = out / store.RESULTS_DIR / STAGES_FILE
    old = {
        name: {key: value for key, value in entry.items() if key != "files"}
        for name, entry in store.read_json(path, "stages").items()
    }
    store.write_json(path, "stages", old)
    damage(out / store.RESULTS_DIR / "toy.json", truncated)
    stages = [stage for stage in smoke_plan(out) if stage.name in INDEPENDENT_STAGES]
    messages = []
    record = run_stages(stages, reproduce.Context(out), progress=False, log=messages.append)
    assert {name: entry["cached"] for name, entry in record.items()} == {
        "kernel-circle": True,
        "toy": False,
    }
    assert len(messages) == 1 and "stage toy:" in messages[0] and "toy.json" in messages[0]
    stored = store.read_json(path, "stages")
    for stage in stages:
        assert stored[stage.name]["files"] == stored_files(out, stage.outputs), stage.name


#: The files of a training run (:mod:`sims.runs`), as patterns relative to its directory.
RUN_FILES = (
    runs.CONFIG_FILE,
    runs.RUN_FILE,
    runs.METRICS_FILE,
    runs.PARAMS_FILE,
    runs.CHECKPOINT_FILE,
    runs.PREVIOUS_CHECKPOINT_FILE,
    f"{runs.SNAPSHOT_DIR}/*.npz",
)


def _kind(output: str) -> tuple[str, str]:
    """A result file's kind: its schema (a scan's file name) and its suffix."""
    path = Path(output)
    return store.RESULT_STEMS.get(path.stem, path.name), path.suffix


def cache_kinds(stages) -> list[tuple[str, str]]:
    """(stage, file pattern relative to OUT): one file of every kind the cache of ``stages``
    holds, from the first stage that writes it: the summary and the arrays of each result
    schema, the scan summaries, and every file of the first training run."""
    kinds, seen = [], set()
    for stage in stages:
        for output in stage.outputs:
            kind = "run" if output.startswith(f"{store.RUNS_DIR}/") else _kind(output)
            if kind in seen:
                continue
            seen.add(kind)
            patterns = [f"{output}/{name}" for name in RUN_FILES] if kind == "run" else [output]
            kinds += [(stage.name, pattern) for pattern in patterns]
    return kinds


def smallest_figures(stages) -> dict[str, str]:
    """{stage: the figure whose ``--only`` plan holds it with the fewest stages}."""
    plans = {
        figure: [stage.name for stage in smoke_plan("out", only=[figure])]
        for figure in reproduce.FIGURE_NAMES
    }
    return {
        stage.name: min((f for f in plans if stage.name in plans[f]), key=lambda f: len(plans[f]))
        for stage in stages
    }


def kind_id(stage_name: str, pattern: str) -> str:
    """ "train-msi-seed0/params.npz" for a run's file, "vip.npz" for a result."""
    if pattern.startswith(f"{store.RUNS_DIR}/"):
        return f"{stage_name}/{pattern.split('/', 2)[2]}"
    return Path(pattern).name


SMOKE_STAGES = smoke_plan("out")
CACHE_KINDS = cache_kinds(SMOKE_STAGES)
FIGURE_OF = smallest_figures(SMOKE_STAGES)


@pytest.fixture(scope="module")
def smoke_reproduction(tmp_path_factory):
    """A smoke reproduction of every figure (no Fashion-MNIST), drawn at a low resolution, in
    BASE/out. OUT is given relative to BASE, so that a copy of it elsewhere is the same cache
    (stage parameters name the run directories under OUT)."""
    base = tmp_path_factory.mktemp("smoke")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)
        patch.setitem(figures.style.RC, "savefig.dpi", 40)  # renders; looks are not tested
        reproduce.reproduce(
            "out", mode="smoke", jobs=2, fashion=NO_FASHION, progress=False, log=print
        )
    return base / "out"


@pytest.mark.slow
def test_the_damage_matrix_covers_every_file_the_smoke_cache_records(smoke_reproduction):
    record = store.read_json(smoke_reproduction / store.RESULTS_DIR / STAGES_FILE, "stages")
    patterns = [pattern for _, pattern in CACHE_KINDS]
    kinds = {_kind(pattern) for pattern in patterns}
    run_files = {pattern.split("/", 2)[2] for pattern in patterns if pattern.startswith("runs/")}
    for stage in SMOKE_STAGES:
        files = record[stage.name]["files"]
        assert files, stage.name
        for name in files:
            if name.startswith(f"{store.RUNS_DIR}/"):
                inside = name.split("/", 2)[2]
                assert any(fnmatch.fnmatch(inside, p) for p in run_files), name
            else:
                assert _kind(name) in kinds, name


@pytest.mark.slow
@pytest.mark.parametrize("how", DAMAGES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("stage_name", "pattern"), CACHE_KINDS, ids=[kind_id(*kind) for kind in CACHE_KINDS]
)
def test_every_kind_of_damaged_cache_file_is_reported_computed_again_and_redrawn(
    smoke_reproduction, tmp_path, monkeypatch, stage_name, pattern, how
):
    shutil.copytree(smoke_reproduction, tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(figures.style.RC, "savefig.dpi", 40)
    out = Path("out")
    record = store.read_json(out / store.RESULTS_DIR / STAGES_FILE, "stages")
    name = sorted(fnmatch.filter(record[stage_name]["files"], pattern))[-1]
    figure = FIGURE_OF[stage_name]
    png = out / store.FIGURES_DIR / f"{figure}.png"
    drawn = png.stat().st_mtime_ns
    original = contents(out)
    damage(out / name, how)
    before = contents(out)
    messages = []
    summary = reproduce.reproduce(
        out, mode="smoke", only=[figure], fashion=NO_FASHION, progress=False, log=messages.append
    )
    record = store.read_json(out / store.RESULTS_DIR / STAGES_FILE, "stages")
    cached = {name: entry["cached"] for name, entry in summary["stages"].items()}
    stage = next(stage for stage in smoke_plan(out) if stage.name == stage_name)
    assert_computed_again(out, stage, name, original, before, record, cached, messages)
    assert "files" in summary["figures"][figure], summary["figures"]
    assert png.stat().st_mtime_ns > drawn


@pytest.mark.slow
def test_the_reported_example_a_scan_cut_to_2000_bytes_is_reported_and_computed_again(
    tmp_path, capsys, monkeypatch
):
    """``sasrnn reproduce --only phase-g-pi``, ``truncate -s 2000 .../scan.json``, the same
    command again: the scan is reported in one line, computed again and drawn; exit code 0."""
    monkeypatch.setitem(figures.style.RC, "savefig.dpi", 40)
    out = tmp_path / "out"
    argv = ["reproduce", "--smoke", "--only", "phase-g-pi", "--jobs", "1", "--quiet"]
    argv += ["--out", str(out)]
    assert run_cli(argv, capsys, monkeypatch)[0] == 0
    scan = out / store.RESULTS_DIR / store.PHASE_DIR / store.PHASE_SCANS[0] / store.SCAN_FILE
    os.truncate(scan, 2000)
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    reports = [line for line in printed.out.splitlines() if str(scan) in line]
    assert len(reports) == 1 and "is truncated (2000 of " in reports[0], printed.out
    assert load_scan(scan)["cells"]["cached"] == load_scan(scan)["cells"]["total"]
    assert "figures in" in printed.out and "FAILED" not in printed.out


def session_processes(session: int) -> list[int]:
    """The live processes of ``session`` (zombies count as gone; Linux /proc)."""
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getsid(int(entry.name)) == session:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(int(entry.name))
        except OSError:  # the process ended meanwhile
            continue
    return alive


#: Figures whose smoke stages keep both workers busy for several seconds.
INTERRUPTED_FIGURES = "fig3,phase-g-pi"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_reproduction_stopped_mid_run_exits_130_leaves_no_process_and_resumes(
    tmp_path, signum, whole_group
):
    """Ctrl-C reaches the whole process group (the workers too), ``kill`` the main process
    only. Either way: exit code 130, one line on stderr (no traceback, no leaked-semaphore
    warning of the process pool), no process of the run left, and the stages that had finished
    are reused by the next run, which ends with exit code 0."""
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "sims.cli", "reproduce", "--smoke", "--jobs", "2"]
    argv += ["--only", INTERRUPTED_FIGURES, "--fashion", str(tmp_path / NO_FASHION)]
    argv += ["--no-figures", "--quiet", "--out", str(out)]
    env = {key: value for key, value in os.environ.items() if key != cli.DEBUG_VARIABLE}
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    record = out / store.RESULTS_DIR / STAGES_FILE
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not record.is_file():
        time.sleep(0.05)
    finished = set(store.read_json(record, "stages"))
    assert process.poll() is None, "the run ended before it could be stopped"
    if whole_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    assert stderr.splitlines() == ["sasrnn reproduce: error: interrupted"], stderr
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(process.pid) == []
    rerun = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    stages = store.read_json(out / store.SUMMARY_FILE, "summary")["stages"]
    assert finished and all(stages[name]["cached"] for name in finished), stages
