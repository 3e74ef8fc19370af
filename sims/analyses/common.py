"""Shared plumbing of the ensemble analyses: open a stored run, rebuild its network and task,
stack its per-epoch snapshots, evaluate task accuracy per test batch, write JSON + npz.

A run directory has the layout of :mod:`sims.store` (``config.toml``, ``params.npz``,
``snapshots/epoch_XXXXXX.npz``, ``metrics.json``, ``run.json``). :func:`open_run` uses
:func:`sims.train.load_run` for complete run directories and reads ``config.toml`` +
``params.npz`` directly otherwise (directories written by hand, e.g. in tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dynamics import SaSNetwork
from sims.store import (
    CONFIG_FILE,
    METRICS_FILE,
    PARAMS_FILE,
    RUN_FILE,
    SNAPSHOT_DIR,
    atomic_savez,
    atomic_write_json,
    read_json,
    read_toml,
)
from sims.tasks import MultisensoryTask
from sims.tasks.multisensory import AUDITORY_POSITIVE, VISUAL_POSITIVE

__all__ = [
    "MSI_TEST_MODES",
    "AnalysisRun",
    "batch_accuracies",
    "build_network",
    "build_task",
    "msi_input_groups",
    "network_pass",
    "open_run",
    "snapshot_epochs",
    "stack_snapshots",
    "write_results",
]

#: Network passes an analysis can use (see :func:`network_pass`).
MSI_TEST_MODES = ("meanfield", "meanfield_eps0", "quenched", "per_step")

_SNAPSHOT_PATTERN = re.compile(r"epoch_(\d+)\.npz$")


@dataclass
class AnalysisRun:
    """What the analyses need from a stored run.

    Attributes:
        run_dir: the directory.
        config: the resolved config (``config.toml``).
        network: the trained network (``params.npz``) with the task's readout, loss and structural
            input mask.
        task: the task instance built from the config.
        metrics: ``metrics.json`` content, or None.
        snapshot_files: {epoch: path} of the per-epoch parameter snapshots (loaded lazily).
    """

    run_dir: Path
    config: dict
    network: SaSNetwork
    task: Any
    metrics: dict | None = None
    snapshot_files: dict[int, Path] = field(default_factory=dict)

    def snapshot(self, epoch: int) -> dict[str, np.ndarray]:
        """Parameters after ``epoch`` (epoch 0 = initial state) as {block: array}."""
        if epoch not in self.snapshot_files:
            raise ValueError(
                f"run {str(self.run_dir)!r} has no snapshot of epoch {epoch}; "
                f"available: {sorted(self.snapshot_files)[:5]}..."
            )
        with np.load(self.snapshot_files[epoch]) as data:
            return {key: data[key] for key in data.files}


def build_task(config: Mapping) -> Any:
    """The task of a run config (:func:`sims.train.build_task`: data source, sizes, test step)."""
    from sims.train import build_task as train_build_task

    return train_build_task(dict(config))


def build_network(config: Mapping, params: Mapping[str, np.ndarray], task) -> SaSNetwork:
    """Rebuild the network of a run from its config and nine parameter blocks.

    The structure (readout, loss, the multisensory structural input mask of docs/model.md §3.3)
    comes from
    :func:`sims.train.build_network`; the values from ``params``.

    Raises:
        ValueError: a parameter block is missing or has the wrong shape.
    """
    from sims.train import build_network as train_build_network

    missing = [
        f"{layer}.{p}"
        for layer in ("inp", "rec", "out")
        for p in ("m", "pi", "xi")
        if f"{layer}.{p}" not in params
    ]
    if missing:
        raise ValueError(f"parameters lack the blocks {missing}; is this a sasrnn params file?")
    network = train_build_network(dict(config), task, np.random.default_rng(0))
    network.set_parameters({key: params[key] for key in network.parameters()})
    return network


def _snapshot_files(run_dir: Path) -> dict[int, Path]:
    directory = run_dir / SNAPSHOT_DIR
    if not directory.is_dir():
        return {}
    files = {}
    for path in directory.iterdir():
        match = _SNAPSHOT_PATTERN.search(path.name)
        if match:
            files[int(match.group(1))] = path
    return dict(sorted(files.items()))


def open_run(run_dir) -> AnalysisRun:
    """Open a stored training run for analysis.

    Uses :func:`sims.train.load_run` (config, rebuilt network, metrics) when the run directory
    is complete; a directory with only ``config.toml`` and ``params.npz`` (and optionally
    snapshots) is read directly.

    Args:
        run_dir: a run directory (layout of :mod:`sims.store`).

    Returns:
        An :class:`AnalysisRun`.

    Raises:
        FileNotFoundError: the directory, its config or its parameters are missing.
        ValueError: a corrupt config or parameter file, or a toy-model (sine) run.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(
            f"run directory {str(run_dir)!r} does not exist; pass the "
            f"directory a training run wrote (sasrnn train --out DIR)."
        )
    config = read_toml(run_dir / CONFIG_FILE)
    if config.get("task") == "sine":
        raise ValueError(
            f"{str(run_dir)!r} is a toy-model (sine) run; the network analyses need "
            f"a pixel-mnist, row-mnist or multisensory run (toy curves: "
            f"sasrnn analyze plasticity --toy)."
        )
    params_path = run_dir / PARAMS_FILE
    if not params_path.is_file():
        raise FileNotFoundError(
            f"{str(params_path)!r} is missing: the run has not finished "
            f"(resume it) or the directory is not a run directory."
        )
    metrics_path = run_dir / METRICS_FILE
    if metrics_path.is_file() and (run_dir / RUN_FILE).is_file():
        from sims.train import load_run

        result = load_run(run_dir)
        return AnalysisRun(
            run_dir=run_dir,
            config=result.config,
            network=result.network,
            task=result.task(),
            metrics=result.metrics,
            snapshot_files=_snapshot_files(run_dir),
        )
    try:
        with np.load(params_path) as data:
            params = {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{str(params_path)!r} is not a readable npz file ({error}).") from None
    task = build_task(config)
    network = build_network(config, params, task)
    metrics = read_json(metrics_path) if metrics_path.is_file() else None
    return AnalysisRun(
        run_dir=run_dir,
        config=config,
        network=network,
        task=task,
        metrics=metrics,
        snapshot_files=_snapshot_files(run_dir),
    )


def snapshot_epochs(run: AnalysisRun, stride: int = 1) -> list[int]:
    """Saved epochs, every ``stride``-th one, always including the last.

    Raises:
        ValueError: the run has no snapshots or stride < 1.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    epochs = sorted(run.snapshot_files)
    if not epochs:
        raise ValueError(
            f"run {str(run.run_dir)!r} has no parameter snapshots "
            f"({SNAPSHOT_DIR}/epoch_*.npz); train with snapshot_every >= 1."
        )
    chosen = epochs[::stride]
    if chosen[-1] != epochs[-1]:
        chosen.append(epochs[-1])
    return chosen


def stack_snapshots(
    snapshots: Mapping[int, Mapping[str, np.ndarray]] | AnalysisRun,
    blocks: Iterable[str],
    epochs: Iterable[int] | None = None,
):
    """Stack per-epoch parameter snapshots into {block: (E, ...)} arrays.

    Args:
        snapshots: {epoch: {block: array}} or an :class:`AnalysisRun` (read lazily).
        blocks: block names, e.g. ("rec.m", "rec.pi", "rec.xi").
        epochs: which epochs (sorted); default all.

    Returns:
        (epochs as an int array (E,), {block: (E, ...) float array}).

    Raises:
        ValueError: no snapshots, or a block is missing from one of them.
    """
    if isinstance(snapshots, AnalysisRun):
        run = snapshots
        labels = sorted(run.snapshot_files) if epochs is None else list(epochs)
        getter: Callable[[int], Mapping[str, np.ndarray]] = run.snapshot
    else:
        labels = sorted(snapshots) if epochs is None else list(epochs)
        getter = snapshots.__getitem__
    if not labels:
        raise ValueError("no parameter snapshots to stack")
    blocks = list(blocks)
    stacked = {block: [] for block in blocks}
    for epoch in labels:
        values = getter(epoch)
        for block in blocks:
            if block not in values:
                raise ValueError(f"snapshot of epoch {epoch} lacks block {block!r}")
            stacked[block].append(np.asarray(values[block], dtype=float))
    return np.asarray(labels, dtype=int), {b: np.stack(v) for b, v in stacked.items()}


def msi_input_groups(task: MultisensoryTask, n_rec: int) -> np.ndarray:
    """Input group of every recurrent unit from the structural input mask (docs/model.md §3.3).

    Returns:
        (n_rec,) str array: "auditory" (auditory channels only; units 0–49 officially),
        "visual" (visual only; 50–99), "neither" (no sensory channel; 100–149) or "both".
    """
    absent = task.input_absent_mask(n_rec)
    visual = ~absent[:, VISUAL_POSITIVE]
    auditory = ~absent[:, AUDITORY_POSITIVE]
    groups = np.full(n_rec, "neither", dtype=object)
    groups[auditory & ~visual] = "auditory"
    groups[visual & ~auditory] = "visual"
    groups[visual & auditory] = "both"
    return groups.astype(str)


def network_pass(
    net: SaSNetwork, x, mode: str, rng: np.random.Generator, return_states: bool = False
):
    """Run ``net`` on inputs ``x`` (T, B, n_in) in one of :data:`MSI_TEST_MODES`.

    "meanfield": mean-field pass with fresh ε (docs/model.md §1.3); "meanfield_eps0": ε = 0 (W = μ);
    "quenched": one weight draw w ~ P(w) for the call; "per_step": new weights every step. The
    private noise ξ (MSI, σ_rec > 0) is drawn from ``rng`` in every mode.

    Returns:
        z ((B, n_out) or (T, B, n_out)), or (z, r) with r the (T+1, B, n_rec) rates if
        ``return_states``.
    """
    from dynamics import mean_field_forward, sampled_forward
    from sims.evaluate import predict

    if mode not in MSI_TEST_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {MSI_TEST_MODES}.")
    if not return_states:
        return predict(net, x, mode=mode, rng=rng)
    x = np.asarray(x, dtype=net.dtype)
    n_steps, batch, _ = x.shape
    noise = rng.standard_normal((n_steps, batch, net.n_rec)) if net.sigma_rec > 0.0 else None
    if mode in ("quenched", "per_step"):
        return sampled_forward(net, x, mode=mode, rng=rng, rec_noise=noise, return_states=True)
    out_shape = (batch, net.n_out) if net.readout == "last" else (n_steps, batch, net.n_out)
    if mode == "meanfield":
        eps = rng.standard_normal((n_steps, batch, net.n_rec))
        eps_out = rng.standard_normal(out_shape)
    else:
        eps = np.zeros((n_steps, batch, net.n_rec))
        eps_out = np.zeros(out_shape)
    trace = mean_field_forward(net, x, eps=eps, eps_out=eps_out, rec_noise=noise)
    return trace.z, trace.r


def batch_accuracies(
    net: SaSNetwork,
    task,
    rng: np.random.Generator,
    n_batches: int = 20,
    mode: str = "meanfield",
    test_dt: float | None = None,
) -> np.ndarray:
    """Task accuracy on each of ``n_batches`` test batches (the removal protocol, paper Fig. 4b).

    Multisensory (docs/model.md §3.3 "Accuracy for the removal experiment"): the network runs at
    the test
    step (α = test_dt/τ, 0.5 ms → 0.005) on ``n_batches`` batches of the 24 conditions with fresh
    input noise; choice = 1 − argmax z(T_last); accuracy = fraction of trials whose choice is
    correct. MNIST-type tasks: the test set, in order, split into ``n_batches`` near-equal batches;
    accuracy = fraction with argmax z(T) = label. In both, ε and the weight draws of ``mode`` come
    from ``rng``.

    Args:
        net: the (possibly pruned) network; its α is replaced by the test α for the MSI.
        task: the run's task.
        rng: the Generator (input noise, ε, weight draws, private noise).
        n_batches: number of test batches (≥ 1).
        mode: one of :data:`MSI_TEST_MODES` (default the mean-field pass, as ``sub_tasks.py``).
        test_dt: MSI test step in ms (default ``task.test_dt``).

    Returns:
        (n_batches,) accuracies.

    Raises:
        ValueError: n_batches < 1, unknown mode, or a task without labels.
    """
    from sims.evaluate import with_alpha
    from sims.tasks import choose_high

    if int(n_batches) < 1:
        raise ValueError(f"n_batches must be >= 1, got {n_batches}")
    if isinstance(task, MultisensoryTask):
        dt = task.test_dt if test_dt is None else float(test_dt)
        test_net = with_alpha(net, dt / task.tau)
        out = []
        for batch in task.test_batches(rng, n_batches=int(n_batches), dt=dt):
            choice = choose_high(network_pass(test_net, batch.x, mode, rng))
            out.append(float(np.mean(choice == (batch.labels == 0))))
        return np.asarray(out)
    data = getattr(task, "data", None)
    if data is None or not hasattr(task, "batch_from_images"):
        raise ValueError(
            f"accuracy is defined for the multisensory and MNIST tasks, not {type(task).__name__}"
        )
    n_test = data.n_test
    if int(n_batches) > n_test:
        raise ValueError(f"n_batches={n_batches} exceeds the {n_test} test images")
    out = []
    for index in np.array_split(np.arange(n_test), int(n_batches)):
        batch = task.batch_from_images(data.test_images[index], data.test_labels[index], index)
        z = network_pass(net, batch.x, mode, rng)
        out.append(float(np.mean(np.argmax(z, axis=1) == batch.labels)))
    return np.asarray(out)


def write_results(summary: dict, arrays: Mapping[str, np.ndarray] | None, out) -> dict:
    """Write ``summary`` as JSON to ``out`` and ``arrays`` (if any) to the sibling ``.npz``.

    Returns:
        {"json": path, "npz": path or None}.
    """
    out = Path(out)
    npz = None
    if arrays:
        npz = out.with_suffix(".npz")
        atomic_savez(npz, {key: np.asarray(value) for key, value in arrays.items()})
        summary = {**summary, "arrays_file": npz.name}
    atomic_write_json(out, summary)
    return {"json": out, "npz": npz}
