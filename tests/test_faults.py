"""Faults under the command line: each damaged run file and each system error ends in its
documented exit code and one line on stderr, no traceback, and no valid file is changed."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_ROW

import figures.resultfiles
import sims.store
from sims import cli
from sims.cli import EXIT_DAMAGED_FILE, EXIT_SYSTEM_ERROR, main
from sims.presets import resolve_config
from sims.train import Trainer, train_run

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
            monkeypatch.setattr(sims.store, name, _raise(number))
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
