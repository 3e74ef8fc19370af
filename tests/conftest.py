"""Shared fixtures: tiny finished runs written by the real trainer (a few seconds each)."""

import pytest

from sims.presets import resolve_config
from sims.train import train_run

#: A row-MNIST run small enough for the default suite.
TINY_ROW = [
    "network.n_rec=16",
    "batch_size=16",
    "evaluation.test_samples=64",
    "evaluation.n_samples=2",
    "checkpoint_every=2",
]
#: A multisensory run small enough for the default suite (test step = training step).
TINY_MSI = [
    "network.n_rec=15",
    "evaluation.n_test_batches=1",
    "evaluation.test_dt=20.0",
    "evaluation.n_boot=20",
]


@pytest.fixture(scope="session")
def row_run(tmp_path_factory):
    """A finished row-MNIST run: 2 epochs of 3 minibatches, snapshots at epochs 0, 1, 2."""
    config = resolve_config("row-mnist", overrides=TINY_ROW, epochs=2, batches_per_epoch=3)
    return train_run(config, tmp_path_factory.mktemp("runs") / "row-seed0", progress=False)


@pytest.fixture(scope="session")
def msi_run(tmp_path_factory):
    """A finished multisensory run: 3 iterations, snapshots at every one."""
    config = resolve_config("multisensory", overrides=TINY_MSI, epochs=3)
    return train_run(config, tmp_path_factory.mktemp("runs") / "msi-seed0", progress=False)
