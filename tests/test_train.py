"""Training runs write the output contract for every task; bad input fails with one clear error."""

import json

import numpy as np
import pytest
from conftest import TINY_ROW

from dynamics import batch_loss
from sims import store
from sims.cli import main
from sims.evaluate import predict
from sims.presets import resolve_config
from sims.runs import Run
from sims.train import (
    Trainer,
    TrainingDiverged,
    build_network,
    build_task,
    train_run,
)

CLASSIFICATION_FINAL_KEYS = {
    "test_accuracy_meanfield",
    "test_accuracy_meanfield_eps0",
    "test_accuracy_sampled_quenched",
    "test_accuracy_sampled_per_step",
}
#: The same float64 forward pass run by the gradient and by the forward-only code: round-off.
ROUNDOFF = 1e-12


def tiny_row_config(extra=(), **settings):
    return resolve_config(
        "row-mnist",
        overrides=[*TINY_ROW, *extra],
        **{"epochs": 2, "batches_per_epoch": 3, **settings},
    )


def test_row_mnist_run_writes_config_metadata_metrics_params_and_snapshots(tmp_path):
    out = tmp_path / "run"
    config = tiny_row_config()
    result = train_run(config, out, progress=False)
    assert store.read_toml(out / "config.toml") == config
    info = json.loads((out / "run.json").read_text())
    assert info["seed"] == 0 and info["status"] == "finished"
    assert info["config_hash"] == store.config_hash(config)
    assert info["git_commit"] and "numpy" in info["versions"]
    assert info["blas"] and all(lib["architecture"] for lib in info["blas"])  # kernels used
    assert [e["epoch"] for e in result.metrics["epochs"]] == [0, 1]
    assert all(np.isfinite(e["train_loss"]) for e in result.metrics["epochs"])
    assert CLASSIFICATION_FINAL_KEYS <= set(result.metrics["final"])
    # snapshots: the initial state and one per epoch, stacked lazily per block
    assert result.snapshots.epochs.tolist() == [0, 1, 2]
    assert result.snapshots["rec.m"].shape == (3, 16, 16)
    np.testing.assert_array_equal(result.snapshots["rec.m"][0], np.eye(16))
    np.testing.assert_array_equal(result.snapshots["rec.pi"][-1], result.params["rec.pi"])
    # the rebuilt network carries the final parameters
    for block, array in result.network().parameters().items():
        np.testing.assert_array_equal(array, result.params[block])


def test_pixel_mnist_trains_end_to_end_on_the_full_784_step_sequence(tmp_path):
    config = resolve_config(
        "pixel-mnist",
        epochs=1,
        batches_per_epoch=2,
        overrides=[
            "batch_size=8",
            "evaluation.test_samples=16",
            "evaluation.n_samples=1",
            "evaluation.test_batch_size=16",
        ],
    )
    result = train_run(config, tmp_path / "pixel", progress=False)
    assert result.task.n_steps == 784
    assert CLASSIFICATION_FINAL_KEYS <= set(result.metrics["final"])
    assert result.snapshots["out.m"].shape == (2, 10, 100)
    # the deterministic input layer stays deterministic (docs/model.md §1.4)
    assert np.all(result.params["inp.pi"] == 0) and np.all(result.params["inp.xi"] == 0)


def test_multisensory_run_reports_psychometric_curves_thresholds_and_train_mse(tmp_path):
    config = resolve_config(
        "multisensory",
        epochs=3,
        overrides=["network.n_rec=15", "evaluation.n_test_batches=1", "evaluation.test_dt=20.0"],
    )
    result = train_run(config, tmp_path / "msi", progress=False)
    final = result.metrics["final"]
    assert set(final["psychometric"]) == {"v", "a", "va"}
    assert all(len(final["psychometric"][m]) == 8 for m in ("v", "a", "va"))
    assert set(final["sigma"]) == {"v", "a", "va"}
    assert final["final_train_mse"] == result.metrics["epochs"][-1]["train_loss"]
    assert len(result.metrics["epochs"]) == 3  # one "epoch" = one iteration
    # structurally absent inputs stay absent through training (docs/model.md §3.3)
    assert np.all(result.params["inp.pi"][:5, [0, 2]] == 1)


def test_multisensory_stops_early_once_past_min_epoch_with_small_loss():
    config = resolve_config(
        "multisensory",
        epochs=10,
        overrides=[
            "network.n_rec=15",
            "evaluation.n_test_batches=1",
            "evaluation.test_dt=20.0",
            "early_stop.min_epoch=1",
            "early_stop.max_loss=1e9",
        ],
    )
    trainer = Trainer(config).fit(progress=False)
    assert trainer.stopped_early_ and len(trainer.history_) == 2  # epochs 0 and 1


def test_binary_mnist_is_a_mean_field_mse_run_on_the_scalar_output():
    config = resolve_config(
        "binary-mnist", epochs=2, overrides=["network.n_rec=16", "evaluation.n_samples=1"]
    )
    trainer = Trainer(config).fit(progress=False)
    assert trainer.network_.loss == "mse" and trainer.network_.n_out == 1
    assert 0.0 <= trainer.final_["test_accuracy_meanfield"] <= 1.0


def test_sine_runs_the_toy_model_and_stores_its_per_epoch_records(tmp_path):
    config = resolve_config("sine", epochs=20, overrides=["toy.n_synapses=200"])
    result = train_run(config, tmp_path / "sine", progress=False)
    epochs = result.metrics["epochs"]
    assert len(epochs) == 20 and {
        "loss",
        "forward_mean",
        "forward_std",
        "gradient_mean_part",
        "gradient_variance_part",
    } <= set(epochs[0])
    assert not result.task.has_network and result.params["m"].shape == (200,)
    assert result.snapshots.epochs.tolist() == [0, 20]


def test_a_diverging_run_stops_with_a_clear_message_and_keeps_its_last_checkpoint(tmp_path):
    out = tmp_path / "diverge"
    config = tiny_row_config(extra=['optimizer.method="sgd"', "optimizer.lr.out.m=1e300"])
    with pytest.raises(TrainingDiverged, match="training diverged.*last good checkpoint"):
        train_run(config, out, progress=False)
    assert json.loads((out / "run.json").read_text())["status"] == "diverged"
    with np.load(out / "checkpoint.npz") as data:
        assert all(np.all(np.isfinite(data[key])) for key in data.files if key.startswith("param/"))


def test_an_existing_run_is_not_overwritten_without_resume(tmp_path):
    out = tmp_path / "run"
    train_run(tiny_row_config(epochs=1), out, progress=False)
    with pytest.raises(ValueError, match="already holds a run; pass --resume"):
        train_run(tiny_row_config(epochs=1), out, progress=False)
    with pytest.raises(ValueError, match="config differs.*seed"):
        train_run(tiny_row_config(epochs=1, seed=5), out, resume=True, progress=False)


def run_cli(capsys, *argv):
    code = main(["train", *argv])
    return code, capsys.readouterr().err


def test_cli_rejects_unknown_set_keys_with_the_list_of_valid_keys(capsys, tmp_path):
    code, err = run_cli(
        capsys,
        "--task",
        "row-mnist",
        "--set",
        "optimizer.lr.rec.mean=1",
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 2
    assert "unknown config key 'optimizer.lr.rec.mean'" in err and "optimizer.lr.rec.pi" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert not (tmp_path / "x").exists()


def test_cli_rejects_bad_values_naming_the_key(capsys, tmp_path):
    code, err = run_cli(
        capsys,
        "--task",
        "multisensory",
        "--set",
        "network.sigma_rec=-1",
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 2 and "'network.sigma_rec'" in err and "must be >= 0" in err
    code, err = run_cli(
        capsys, "--task", "row-mnist", "--epochs", "0", "--out", str(tmp_path / "x")
    )
    assert code == 2 and "'epochs'" in err


def test_cli_reports_a_missing_data_directory(capsys, tmp_path):
    missing = tmp_path / "no-mnist-here"
    code, err = run_cli(
        capsys, "--task", "row-mnist", "--data", str(missing), "--out", str(tmp_path / "x")
    )
    assert code == 2 and "does not exist" in err and str(missing) in err
    assert not (tmp_path / "x").exists()


def test_loading_an_unfinished_run_says_how_to_finish_it(tmp_path):
    out = tmp_path / "run"
    train_run(tiny_row_config(epochs=1), out, progress=False)
    (out / "params.npz").unlink()
    with pytest.raises(FileNotFoundError, match="has not finished.*--resume"):
        Run.open(out).network()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Run.open(tmp_path / "nowhere")


def test_without_fluctuation_the_training_loss_is_that_of_the_mean_network():
    """fluctuation = false sets ε = ε_out = 0: the first loss is the ε = 0 loss of the initial net
    on the first minibatch of the documented streams (init = spawn 0, data = spawn 1)."""
    config = tiny_row_config(epochs=1, batches_per_epoch=1, extra=["fluctuation=false"])
    trainer = Trainer(config).fit(progress=False)
    init_rng, data_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config["seed"]).spawn(4)[:2]
    )
    task = build_task(config)
    net = build_network(config, task, init_rng)
    batch = next(task.shuffled_batches(data_rng, batch_size=16, n_minibatches=1))
    z = predict(net, batch.x, mode="meanfield_eps0")
    expected, _ = batch_loss(net, z, batch.target)
    assert trainer.history_[0]["train_loss"] == pytest.approx(expected, rel=ROUNDOFF)
