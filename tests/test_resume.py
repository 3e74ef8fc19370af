"""A run killed with SIGKILL mid-epoch and resumed ends bit-identical to an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sims.presets import resolve_config
from sims.runs import Run
from sims.train import Trainer, train_run

#: Row MNIST small enough that 2 epochs × 200 minibatches take about a second, with a checkpoint
#: after every minibatch so that the kill lands between two of them. A minibatch takes about
#: 3 ms, so the kill window (minibatches 1 to 194 of epoch 1) lasts about half a second, far
#: longer than one poll of the checkpoint (30 minibatches once left it under 0.1 s, and a slow
#: poll could miss it).
SETTINGS = [
    "network.n_rec=16",
    "batch_size=16",
    "checkpoint_every=1",
    "eval_every=0",
    "evaluation.test_samples=32",
    "evaluation.n_samples=1",
]
EPOCHS, BATCHES = 2, 200
#: Generous bound on a run that takes a few seconds, so that a stuck child fails the test.
TIMEOUT_SECONDS = 120


def cli_command(out: Path, *extra: str) -> list[str]:
    sets = [arg for setting in SETTINGS for arg in ("--set", setting)]
    return [
        sys.executable,
        "-m",
        "sims.cli",
        "train",
        "--task",
        "row-mnist",
        "--epochs",
        str(EPOCHS),
        "--batches-per-epoch",
        str(BATCHES),
        "--seed",
        "4",
        *sets,
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def checkpoint_position(out: Path):
    """(epoch, batch) of the checkpoint, or None before the first one."""
    path = out / "checkpoint.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        state = json.loads(str(data["state"]))
    return state["epoch"], state["batch"]


def kill_mid_epoch(out: Path) -> tuple[int, int]:
    """Start the CLI run, SIGKILL it once a mid-epoch checkpoint of epoch >= 1 exists."""
    child = subprocess.Popen(
        cli_command(out),
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            position = checkpoint_position(out)
            if position is not None and position[0] >= 1 and 0 < position[1] < BATCHES - 5:
                child.send_signal(signal.SIGKILL)
                child.wait()
                return position
            if child.poll() is not None:
                pytest.fail(
                    f"the run ended before it could be killed: "
                    f"{child.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.005)
        pytest.fail("no mid-epoch checkpoint appeared in time")
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()


def assert_same_run(resumed: Run, uninterrupted: Run) -> None:
    """Parameters, snapshots, losses and final metrics equal bit for bit."""
    for block, array in uninterrupted.params.items():
        assert np.array_equal(resumed.params[block], array), block
    for block in ("rec.m", "rec.pi", "out.xi"):
        assert np.array_equal(resumed.snapshots[block], uninterrupted.snapshots[block])
    losses = [e["train_loss"] for e in resumed.metrics["epochs"]]
    assert losses == [e["train_loss"] for e in uninterrupted.metrics["epochs"]]
    assert resumed.metrics["final"] == uninterrupted.metrics["final"]


def interrupt_at_minibatch_7_of_epoch_1(tmp_path, monkeypatch) -> tuple[dict, Run]:
    """Train a 2 × 12-minibatch run into tmp_path/reference, and the same config into
    tmp_path/interrupted until Ctrl-C at minibatch 7 of epoch 1; returns (config, reference)."""
    batches = 12
    config = resolve_config(
        "row-mnist", epochs=EPOCHS, batches_per_epoch=batches, seed=4, overrides=SETTINGS
    )
    reference = train_run(config, tmp_path / "reference", progress=False)
    real_step, calls = Trainer._step, {"n": 0}

    def interrupt_once(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == batches + 7:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "_step", interrupt_once)
        with pytest.raises(KeyboardInterrupt):
            train_run(config, tmp_path / "interrupted", progress=False)
    return config, reference


def test_run_interrupted_mid_epoch_resumes_bit_identical(tmp_path, monkeypatch):
    """In process: Ctrl-C at minibatch 7 of epoch 1, then --resume, against an uninterrupted run."""
    config, reference = interrupt_at_minibatch_7_of_epoch_1(tmp_path, monkeypatch)
    assert Run.open(tmp_path / "interrupted").info["status"] == "interrupted"
    assert checkpoint_position(tmp_path / "interrupted") == (1, 6)
    resumed = train_run(config, tmp_path / "interrupted", resume=True, progress=False)
    assert_same_run(resumed, reference)


def test_run_whose_newest_checkpoint_is_damaged_resumes_from_the_previous_bit_identical(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C at minibatch 7 of epoch 1, checkpoint.npz truncated, then --resume: the run replays
    from the previous checkpoint (minibatch 5) and ends as the uninterrupted run, wall-clock
    fields aside."""
    config, reference = interrupt_at_minibatch_7_of_epoch_1(tmp_path, monkeypatch)
    out = tmp_path / "interrupted"
    newest = out / "checkpoint.npz"
    newest.write_bytes(newest.read_bytes()[:1000])
    capsys.readouterr()
    resumed = train_run(config, out, resume=True, progress=False)
    assert "resuming from the previous checkpoint (epoch 1, minibatch 5)" in capsys.readouterr().err
    assert_same_run(resumed, reference)
    for epoch in reference.snapshots.epochs:
        assert (out / "snapshots" / f"epoch_{epoch:06d}.npz").read_bytes() == (
            reference.directory / "snapshots" / f"epoch_{epoch:06d}.npz"
        ).read_bytes()
    assert (out / "params.npz").read_bytes() == (reference.directory / "params.npz").read_bytes()

    def without_wall_clock(metrics):
        epochs = [{k: v for k, v in e.items() if k != "seconds"} for e in metrics["epochs"]]
        return {**metrics, "epochs": epochs}

    assert without_wall_clock(resumed.metrics) == without_wall_clock(reference.metrics)


@pytest.mark.slow
def test_resumed_run_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    """A real SIGKILL of the command-line process, between two checkpoint writes."""
    killed = tmp_path / "killed"
    epoch, batch = kill_mid_epoch(killed)
    assert not (killed / "params.npz").exists()  # really interrupted
    completed = subprocess.run(
        cli_command(killed, "--resume"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]

    reference = tmp_path / "reference"
    config = resolve_config(
        "row-mnist", epochs=EPOCHS, batches_per_epoch=BATCHES, seed=4, overrides=SETTINGS
    )
    train_run(config, reference, progress=False)

    resumed, uninterrupted = Run.open(killed), Run.open(reference)
    assert resumed.info["resumed_at"], f"killed at epoch {epoch}, batch {batch}"
    assert_same_run(resumed, uninterrupted)


def test_resuming_a_finished_run_returns_it_without_training_again(tmp_path):
    config = resolve_config("row-mnist", epochs=1, batches_per_epoch=2, overrides=SETTINGS)
    first = train_run(config, tmp_path / "run", progress=False)
    stamp = (tmp_path / "run" / "params.npz").stat().st_mtime_ns
    again = train_run(config, tmp_path / "run", resume=True, progress=False)
    assert (tmp_path / "run" / "params.npz").stat().st_mtime_ns == stamp
    assert again.metrics == first.metrics


def test_run_started_with_another_noise_generator_is_not_resumed(tmp_path, monkeypatch):
    """A checkpoint records the training noise's generator; resuming under another one would
    mix two streams, so it is refused with the way forward."""
    config, _ = interrupt_at_minibatch_7_of_epoch_1(tmp_path, monkeypatch)
    monkeypatch.setattr("sims.train.NOISE_STREAMS", "another generator")
    with pytest.raises(ValueError, match="another noise generator.*Start it anew"):
        train_run(config, tmp_path / "interrupted", resume=True, progress=False)
