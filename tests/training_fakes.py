"""Stand-ins for finished training runs and tiny IDX directories (tests of the exports, the
claims, the figures and the reproduction plan).

:class:`FakeRun` has exactly what :func:`sims.analyses.training.training_curves` and
:func:`~sims.analyses.training.preset_comparison` read of a :class:`sims.runs.Run`: ``config``,
``metrics`` and ``directory``.
"""

from pathlib import Path

import numpy as np

from sims.data import IDX_FILE_NAMES

#: The final metrics of an MNIST run (every evaluation mode), before a per-seed offset.
MNIST_FINAL = {
    "test_accuracy_meanfield": 0.5,
    "test_accuracy_meanfield_eps0": 0.52,
    "test_accuracy_sampled_quenched": 0.4,
    "test_accuracy_sampled_quenched_std": 0.02,
    "test_accuracy_sampled_per_step": 0.45,
    "test_accuracy_sampled_per_step_std": 0.01,
}


class FakeRun:
    """A finished run of ``task`` and ``preset``: per-epoch test accuracies and final metrics."""

    def __init__(self, task, preset, seed, accuracies, final, data="embedded", kind="mnist"):
        options = {} if kind == "mnist" else {"kind": kind}
        self.config = {
            "task": task,
            "preset": preset,
            "seed": seed,
            "data": data,
            "task_options": options,
        }
        self.directory = Path(f"../runs/{task}-{preset}-seed{seed}-0123456789ab")
        epochs = [
            {"epoch": k, "train_loss": 2.0 - 0.1 * k, "test_accuracy_meanfield": a}
            for k, a in enumerate(accuracies)
        ]
        self.metrics = {"epochs": epochs, "final": dict(final)}


def mnist_runs(preset: str, finals: list[float], n_epochs: int = 4, task="pixel-mnist", **kw):
    """One FakeRun per seed whose final mean-field accuracy is ``finals[seed]`` (the other
    modes shifted alike) and whose per-epoch accuracy rises linearly to it."""
    runs = []
    for seed, final in enumerate(finals):
        shift = final - MNIST_FINAL["test_accuracy_meanfield"]
        metrics = {
            key: value + (0.0 if key.endswith("_std") else shift)
            for key, value in MNIST_FINAL.items()
        }
        curve = list(np.linspace(0.1, final, n_epochs))
        runs.append(FakeRun(task, preset, seed, curve, metrics, **kw))
    return runs


def write_idx_directory(directory: Path, n_train: int = 64, n_test: int = 32, seed: int = 0):
    """The four IDX files of a tiny random image set (28×28 bytes, labels 0–9) in ``directory``."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        header = (0x803).to_bytes(4, "big") + b"".join(
            n.to_bytes(4, "big") for n in (count, 28, 28)
        )
        (directory / IDX_FILE_NAMES[f"{split}_images"]).write_bytes(header + images.tobytes())
        header = (0x801).to_bytes(4, "big") + count.to_bytes(4, "big")
        (directory / IDX_FILE_NAMES[f"{split}_labels"]).write_bytes(header + labels.tobytes())
    return directory
