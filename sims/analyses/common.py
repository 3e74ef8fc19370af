"""Shared plumbing of the ensemble analyses: stack a run's snapshots, the multisensory input
groups, network passes in every evaluation mode, task accuracy per test batch.

Runs are opened with :meth:`sims.runs.Run.open`; results are written with
:func:`sims.store.write_result`. Each analysis declares the tasks it applies to
(:data:`APPLICABLE_TASKS`), so that a run of another task gets one clear error
(:func:`check_applicable`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dynamics import SaSNetwork
from sims.evaluate import EVALUATION_MODES
from sims.runs import Run
from sims.tasks import MultisensoryTask
from sims.tasks.multisensory_design import AUDITORY_POSITIVE, VISUAL_POSITIVE

__all__ = [
    "APPLICABLE_TASKS",
    "batch_accuracies",
    "check_applicable",
    "msi_input_groups",
    "network_pass",
    "snapshot_epochs",
    "stack_snapshots",
]

#: The tasks each analysis of ``sasrnn analyze`` applies to (None: every task with a network).
APPLICABLE_TASKS: dict[str, tuple[str, ...] | None] = {
    "vip": None,
    "selectivity": ("multisensory",),
    "projection": None,
    "symmetry": None,
    "entropy": None,
    "plasticity": None,
}


def check_applicable(analysis: str, run: Run) -> None:
    """Raise one clear error when ``analysis`` does not apply to the task of ``run``.

    Raises:
        ValueError: the run's task is not among the analysis's tasks, or it has no network.
    """
    tasks = APPLICABLE_TASKS.get(analysis)
    task = run.config["task"]
    if not run.task.has_network or (tasks is not None and task not in tasks):
        allowed = "a task with a network" if tasks is None else " or ".join(tasks)
        raise ValueError(
            f"the {analysis} analysis applies to runs of {allowed}; "
            f"{str(run.directory)!r} is a {task} run."
        )


def snapshot_epochs(run: Run, stride: int = 1) -> list[int]:
    """Saved epochs, every ``stride``-th one, always including the last.

    Raises:
        ValueError: the run has no snapshots or stride < 1.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    epochs = run.snapshots.epochs.tolist()
    if not epochs:
        raise ValueError(
            f"run {str(run.directory)!r} has no parameter snapshots "
            f"(snapshots/epoch_*.npz); train with snapshot_every >= 1."
        )
    chosen = epochs[::stride]
    if chosen[-1] != epochs[-1]:
        chosen.append(epochs[-1])
    return chosen


def stack_snapshots(run: Run, blocks: Iterable[str], epochs: Iterable[int] | None = None):
    """Stack a run's parameter snapshots into {block: (E, ...)} float arrays.

    Args:
        run: the run (snapshots read lazily, once).
        blocks: block names, e.g. ("rec.m", "rec.pi", "rec.xi").
        epochs: which stored epochs (sorted); default all.

    Returns:
        (epochs as an int array (E,), {block: (E, ...) float array}).

    Raises:
        ValueError: no snapshots, an epoch without a snapshot, or an unknown block.
    """
    stored = run.snapshots.epochs.tolist()
    labels = stored if epochs is None else list(epochs)
    if not labels:
        raise ValueError("no parameter snapshots to stack")
    missing = sorted(set(labels) - set(stored))
    if missing:
        raise ValueError(
            f"run {str(run.directory)!r} has no snapshot of epoch(s) {missing[:5]}; "
            f"available: {stored[:5]}..."
        )
    rows = [stored.index(epoch) for epoch in labels]
    stacked = {}
    for block in blocks:
        try:
            values = run.snapshots[block]
        except KeyError:
            raise ValueError(f"the snapshots lack block {block!r}") from None
        stacked[block] = np.asarray(values[rows], dtype=float)
    return np.asarray(labels, dtype=int), stacked


def msi_input_groups(task: MultisensoryTask, n_rec: int) -> np.ndarray:
    """Input group of every recurrent unit from the structural input mask (docs/model.md §3.3).

    Returns:
        (n_rec,) str array: "auditory" (auditory channels only; units 0–49 officially),
        "visual" (visual only; 50–99), "neither" (no sensory channel; 100–149) or "both".
    """
    absent = task.input_mask(n_rec)
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
    """Run ``net`` on inputs ``x`` (T, B, n_in) in one of :data:`sims.evaluate.EVALUATION_MODES`.

    "meanfield": mean-field pass with fresh ε (docs/model.md §1.3); "meanfield_eps0": ε = 0 (W = μ);
    "quenched": one weight draw w ~ P(w) for the call; "per_step": new weights every step. The
    private noise ξ (MSI, σ_rec > 0) is drawn from ``rng`` in every mode.

    Returns:
        z ((B, n_out) or (T, B, n_out)), or (z, r) with r the (T+1, B, n_rec) rates if
        ``return_states``.
    """
    from dynamics import mean_field_forward, sampled_forward
    from sims.evaluate import predict

    if mode not in EVALUATION_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {EVALUATION_MODES}.")
    if not return_states:
        return predict(net, x, mode=mode, rng=rng)
    x = np.asarray(x, dtype=net.dtype)
    n_steps, batch, _ = x.shape
    noise = rng.standard_normal((n_steps, batch, net.n_rec)) if net.sigma_rec > 0.0 else None
    if mode in ("quenched", "per_step"):
        return sampled_forward(net, x, mode=mode, rng=rng, rec_noise=noise, return_states=True)
    out_shape = net.output_shape(n_steps, batch)
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
        mode: one of :data:`sims.evaluate.EVALUATION_MODES` (default the mean-field pass, as
            ``sub_tasks.py``).
        test_dt: MSI test step in ms (default ``task.test_dt``).

    Returns:
        (n_batches,) accuracies.

    Raises:
        ValueError: n_batches < 1, unknown mode, or a task without labels.
    """
    if int(n_batches) < 1:
        raise ValueError(f"n_batches must be >= 1, got {n_batches}")
    test_net = task.test_network(net, test_dt)
    out = []
    for batch in task.accuracy_batches(rng, int(n_batches), dt=test_dt):
        z = network_pass(test_net, batch.x, mode, rng)
        out.append(float(np.mean(task.correct(z, batch))))
    return np.asarray(out)
