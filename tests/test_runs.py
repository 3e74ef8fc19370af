"""The run handle sims.runs.Run: create, open, resume, lazy snapshots, damaged files."""

import shutil

import numpy as np
import pytest

from sims.runs import Run
from sims.store import DamagedFileError


def test_opened_run_gives_config_task_info_metrics_and_params(row_run):
    run = Run.open(row_run.directory)
    assert run.config["task"] == "row-mnist" and run.task.n_in == 28
    assert run.finished and run.info["status"] == "finished"
    assert [e["epoch"] for e in run.metrics["epochs"]] == [0, 1]
    assert set(run.params) == {
        f"{layer}.{p}" for layer in ("inp", "rec", "out") for p in ("m", "pi", "xi")
    }


def test_network_of_the_last_snapshot_equals_the_final_network(row_run):
    final, last = row_run.network(), row_run.network(epoch=2)
    for block, array in final.parameters().items():
        assert np.array_equal(last.parameters()[block], array), block
    assert not np.array_equal(row_run.network(epoch=0).rec.m, final.rec.m)


def test_snapshots_are_stacked_per_block_in_epoch_order(row_run):
    snapshots = row_run.snapshots
    assert snapshots.epochs.tolist() == [0, 1, 2]
    assert snapshots["rec.pi"].shape == (3, 16, 16)
    assert np.array_equal(snapshots["rec.pi"][1], snapshots.at(1)["rec.pi"])
    with pytest.raises(FileNotFoundError, match="no snapshot of epoch 7"):
        snapshots.at(7)


def test_create_refuses_an_existing_run_without_resume_and_another_config_with_it(row_run):
    with pytest.raises(ValueError, match="--resume"):
        Run.create(row_run.directory, row_run.config)
    other = {**row_run.config, "seed": 5}
    with pytest.raises(ValueError, match="differs .* in seed"):
        Run.create(row_run.directory, other, resume=True)
    assert Run.create(row_run.directory, row_run.config, resume=True).directory == row_run.directory


def test_checkpoint_round_trips_arrays_and_state(tmp_path):
    run = Run.create(tmp_path / "run", {"task": "row-mnist"})
    assert run.read_checkpoint() is None
    state = {"epoch": 3, "rng": {"state": 2**100 + 1}, "loss": float("nan")}
    run.write_checkpoint({"param/rec.m": np.eye(2)}, state)
    arrays, read = run.read_checkpoint()
    assert np.array_equal(arrays["param/rec.m"], np.eye(2))
    assert read == {"epoch": 3, "rng": {"state": 2**100 + 1}, "loss": None}


def truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def test_a_new_checkpoint_keeps_the_one_before_it_as_the_previous(tmp_path):
    run = Run.create(tmp_path / "run", {"task": "row-mnist"})
    run.write_checkpoint({"param/rec.m": np.eye(2)}, {"epoch": 1, "batch": 0})
    assert not (run.directory / "checkpoint.previous.npz").exists()
    run.write_checkpoint({"param/rec.m": 2 * np.eye(2)}, {"epoch": 2, "batch": 0})
    assert Run(run.directory).read_checkpoint()[1]["epoch"] == 2
    (run.directory / "checkpoint.npz").unlink()
    assert Run(run.directory).read_checkpoint()[1]["epoch"] == 1
    assert sorted(p.name for p in run.directory.iterdir()) == [
        "checkpoint.previous.npz",
        "config.toml",
    ]


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_with_one_line(tmp_path, capsys):
    run = Run.create(tmp_path / "run", {"task": "row-mnist"})
    for epoch in (1, 2):
        run.write_checkpoint({"param/rec.m": epoch * np.eye(2)}, {"epoch": epoch, "batch": 0})
    truncate(run.directory / "checkpoint.npz")
    resumed = Run(run.directory)
    arrays, state = resumed.read_checkpoint()
    assert state["epoch"] == 1 and np.array_equal(arrays["param/rec.m"], np.eye(2))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.npz' is damaged" in err and "epoch 1" in err
    # the damaged file is replaced, and the good previous is not overwritten by it
    resumed.write_checkpoint({"param/rec.m": 3 * np.eye(2)}, {"epoch": 3, "batch": 0})
    assert Run(run.directory).read_checkpoint()[1]["epoch"] == 3
    (run.directory / "checkpoint.npz").unlink()
    assert Run(run.directory).read_checkpoint()[1]["epoch"] == 1


def test_damaged_newest_and_previous_checkpoints_are_an_error_naming_the_file(tmp_path):
    run = Run.create(tmp_path / "run", {"task": "row-mnist"})
    for epoch in (1, 2):
        run.write_checkpoint({"param/rec.m": np.eye(2)}, {"epoch": epoch, "batch": 0})
    truncate(run.directory / "checkpoint.npz")
    truncate(run.directory / "checkpoint.previous.npz")
    with pytest.raises(DamagedFileError, match="checkpoint.previous.npz"):
        Run(run.directory).read_checkpoint()


@pytest.mark.parametrize("name", ["params.npz", "metrics.json"])
def test_a_damaged_result_file_names_the_file_and_the_fix(row_run, tmp_path, name):
    copy = tmp_path / "copy"
    shutil.copytree(row_run.directory, copy)
    path = copy / name
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    run = Run.open(copy)
    with pytest.raises(DamagedFileError, match=f"{name}.*train the run again"):
        getattr(run, "params" if name == "params.npz" else "metrics")


def test_a_run_without_a_network_says_so(tmp_path):
    from sims.presets import resolve_config
    from sims.train import train_run

    run = train_run(resolve_config("sine", epochs=2), tmp_path / "toy", progress=False)
    assert run.params["m"].shape == (run.config["toy"]["n_synapses"],)
    with pytest.raises(ValueError, match="trains no network"):
        run.network()


def test_a_truncated_config_is_reported_as_damaged_not_as_a_different_config(row_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(row_run.directory, copy)
    text = (copy / "config.toml").read_text()
    (copy / "config.toml").write_text(text[: len(text) // 2].rsplit("\n", 1)[0] + "\n")
    with pytest.raises(DamagedFileError, match="config.toml.*incomplete"):
        Run.create(copy, row_run.config, resume=True)


def test_a_config_cut_at_a_line_end_is_damaged_when_it_does_not_match_the_recorded_hash(
    row_run, tmp_path
):
    copy = tmp_path / "run"
    shutil.copytree(row_run.directory, copy)
    path = copy / "config.toml"
    text = path.read_text()
    path.write_text(text[: text.rindex("\n", 0, len(text) // 2) + 1])
    with pytest.raises(DamagedFileError, match="config.toml' is damaged .*keys missing"):
        Run.open(copy)
    path.write_text("")
    with pytest.raises(DamagedFileError, match="names no task"):
        Run.open(copy)
