"""Shared plumbing of the ensemble analyses: stack a run's snapshots, the multisensory input
groups, network passes in every evaluation mode, task accuracy per test batch, and the accuracies
of many networks on common random numbers (:func:`crn_accuracies`), on every core.

Runs are opened with :meth:`sims.runs.Run.open`; results are written with
:func:`sims.store.write_result`. Each analysis declares the tasks it applies to
(:data:`APPLICABLE_TASKS`), so that a run of another task gets one clear error
(:func:`check_applicable`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import numpy as np
from joblib import Parallel, delayed

from dynamics import SaSNetwork, mean_field_forward, mean_field_readout, sampled_forward
from dynamics._blas import one_blas_thread
from sims.evaluate import EVALUATION_MODES, predict, sample_network
from sims.runs import Run
from sims.tasks import MultisensoryTask
from sims.tasks.multisensory_design import AUDITORY_POSITIVE, VISUAL_POSITIVE

__all__ = [
    "APPLICABLE_TASKS",
    "batch_accuracies",
    "check_applicable",
    "crn_accuracies",
    "mean_field_segments",
    "msi_input_groups",
    "network_pass",
    "pass_draws",
    "snapshot_epochs",
    "stack_snapshots",
]

#: Bytes of one (steps, B, n_rec) array of a time segment of :func:`mean_field_segments`: small
#: enough for the allocator to reuse the memory of the previous segment (no fresh pages to fault
#: in) and for the segment to stay in cache.
SEGMENT_BYTES = 4 * 2**20

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
    private noise ξ (MSI, σ_rec > 0) is drawn from ``rng`` in every mode. Without
    ``return_states`` this is :func:`sims.evaluate.predict`; with it, the draws are those of
    :func:`pass_draws`, then the weight draws of the sampled modes.

    Returns:
        z ((B, n_out) or (T, B, n_out)), or (z, r) with r the (T+1, B, n_rec) rates if
        ``return_states``.
    """
    if mode not in EVALUATION_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {EVALUATION_MODES}.")
    if not return_states:
        return predict(net, x, mode=mode, rng=rng)
    x = np.asarray(x, dtype=net.dtype)
    noise, eps, eps_out = pass_draws(net, x.shape[0], x.shape[1], mode, rng)
    if mode in ("quenched", "per_step"):
        return sampled_forward(net, x, mode=mode, rng=rng, rec_noise=noise, return_states=True)
    trace = mean_field_forward(net, x, eps=eps, eps_out=eps_out, rec_noise=noise)
    return trace.z, trace.r


def pass_draws(
    net: SaSNetwork,
    n_steps: int,
    batch: int,
    mode: str,
    rng: np.random.Generator,
    buffers: dict | None = None,
):
    """The noise of one pass of ``net`` on a batch of ``batch`` trials of ``n_steps`` steps.

    Drawn from ``rng`` in this order, in the network's dtype: the private noise ξ (T, B, n_rec)
    when σ_rec > 0 (every mode), then for "meanfield" ε (T, B, n_rec) and ε_out (the readout's
    shape, :meth:`dynamics.SaSNetwork.output_shape`); ε = ε_out = 0 otherwise.

    Args:
        buffers: optional dict of arrays to draw into, reused from call to call (the same
            numbers; spares the page faults of fresh memory for every batch).

    Returns:
        (ξ or None, ε, ε_out).
    """
    buffers = {} if buffers is None else buffers

    def array(name, shape, draw):
        out = _buffer(buffers, name, shape, net.dtype)
        if draw:
            return rng.standard_normal(dtype=net.dtype, out=out)
        out.fill(0)
        return out

    shape = (n_steps, batch, net.n_rec)
    noise = array("noise", shape, True) if net.sigma_rec > 0.0 else None
    eps = array("eps", shape, mode == "meanfield")
    eps_out = array("eps_out", net.output_shape(n_steps, batch), mode == "meanfield")
    return noise, eps, eps_out


def batch_accuracies(
    net: SaSNetwork,
    task,
    rng: np.random.Generator,
    n_batches: int = 20,
    mode: str = "meanfield",
    test_dt: float | None = None,
    n_jobs: int = -1,
) -> np.ndarray:
    """Task accuracy on each of ``n_batches`` test batches (the removal protocol, paper Fig. 4b).

    Multisensory (docs/model.md §3.3 "Accuracy for the removal experiment"): the network runs at
    the test step (α = test_dt/τ, 0.5 ms → 0.005) on ``n_batches`` batches of the 24 conditions
    with fresh input noise; choice = 1 − argmax z(T_last); accuracy = fraction of trials whose
    choice is correct. MNIST-type tasks: the test set, in order, split into ``n_batches``
    near-equal batches; accuracy = fraction with argmax z(T) = label. In both, ε and the weight
    draws of ``mode`` come from ``rng`` (:func:`crn_accuracies` with one network).

    Args:
        net: the (possibly pruned) network; its α is replaced by the test α for the MSI.
        task: the run's task.
        rng: the Generator (input noise, ε, weight draws, private noise).
        n_batches: number of test batches (≥ 1).
        mode: one of :data:`sims.evaluate.EVALUATION_MODES` (default the mean-field pass, as
            ``sub_tasks.py``).
        test_dt: MSI test step in ms (default ``task.test_dt``).
        n_jobs: worker threads (the numbers do not depend on it).

    Returns:
        (n_batches,) accuracies.

    Raises:
        ValueError: n_batches < 1, unknown mode, or a task without labels.
    """
    return crn_accuracies([net], task, rng, n_batches, mode, test_dt, n_jobs)[0]


def crn_accuracies(
    nets: Sequence[SaSNetwork],
    task,
    rng: np.random.Generator,
    n_batches: int = 20,
    mode: str = "meanfield",
    test_dt: float | None = None,
    n_jobs: int = -1,
) -> np.ndarray:
    """Task accuracy of every network on every test batch, on common random numbers.

    Every network sees the same test inputs and the same draws from ``rng``: those one network's
    evaluation takes (per test batch: the inputs, for "quenched" the weights w ~ P(w) of
    :func:`sims.evaluate.sample_network`, then :func:`pass_draws`, then for "per_step" the weights
    of every step), so differences between networks reflect the networks, not the test noise
    (paper Fig. 4b). Row k is :func:`batch_accuracies` of network k with ``rng`` in the same
    state. The work is organised for speed, and no number depends on it:

    * each test batch is drawn once for all networks, by one worker while the others run the
      previous batch;
    * every network runs each half of the batch as a job for ``n_jobs`` worker threads (joblib;
      the compiled passes release the GIL; BLAS pinned to one thread per worker);
    * a mean-field pass is forward-only (:func:`dynamics.mean_field_readout`: no trajectories
      stored) and reads the readout at the final step only, which is all the accuracy reads
      (readout "last", or the multisensory choice at T_last).

    Example:
        >>> table = crn_accuracies([net, pruned], task, np.random.default_rng(0))   # (2, 20)

    Args:
        nets: K networks of one architecture (sizes, dtype, readout, σ_rec > 0 or not).
        task, rng, n_batches, mode, test_dt: see :func:`batch_accuracies`.
        n_jobs: worker threads (joblib convention: -1 every core, 1 none).

    Returns:
        (K, n_batches) accuracies.

    Raises:
        ValueError: no network, networks of different architectures, n_batches < 1, unknown mode.
    """
    nets = list(nets)
    if not nets:
        raise ValueError("crn_accuracies needs at least one network.")
    if int(n_batches) < 1:
        raise ValueError(f"n_batches must be >= 1, got {n_batches}")
    if mode not in EVALUATION_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {EVALUATION_MODES}.")
    n_batches = int(n_batches)
    test_nets = [task.test_network(net, test_dt) for net in nets]
    _check_one_architecture(test_nets)
    batches = task.accuracy_batches(rng, n_batches, dt=test_dt)
    table = np.empty((len(nets), n_batches))
    # "per_step" passes draw from rng as they run: the next batch waits for them.
    pipelined = mode != "per_step"
    buffers = ({}, {})  # batch i's draws are read from buffers[i % 2] while i + 1's are drawn
    with one_blas_thread(), Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        drawn = _draw_batch(test_nets, batches, mode, rng, buffers[0])
        for index in range(n_batches):
            batch, jobs = drawn
            flat = [job for network_jobs in jobs for job in network_jobs]
            more = index + 1 < n_batches
            following = (test_nets, batches, mode, rng, buffers[(index + 1) % 2])
            if more and pipelined:
                flat.insert(0, delayed(_draw_batch)(*following))
            results = parallel(flat)
            if more:
                drawn = results.pop(0) if pipelined else _draw_batch(*following)
            done = 0
            for k, network_jobs in enumerate(jobs):
                z = np.concatenate(results[done : done + len(network_jobs)], axis=0)
                done += len(network_jobs)
                table[k, index] = float(np.mean(task.correct(z, batch)))
    return table


def _buffer(buffers: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """``buffers[name]``, (re)allocated when missing or of another shape or dtype."""
    array = buffers.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = buffers[name] = np.empty(shape, dtype=dtype)
    return array


def _check_one_architecture(nets: list[SaSNetwork]) -> None:
    """Networks that share draws must draw the same shapes: equal sizes, dtype, readout and
    whether they have private noise."""

    def signature(net):
        return (net.n_in, net.n_rec, net.n_out, np.dtype(net.dtype), net.readout, net.sigma_rec > 0)

    first = signature(nets[0])
    for k, net in enumerate(nets[1:], start=1):
        if signature(net) != first:
            raise ValueError(
                f"crn_accuracies: network {k} is {net!r} but network 0 is {nets[0]!r}; common "
                f"random numbers need one architecture (sizes, dtype, readout, σ_rec > 0 or not)."
            )


def _draw_batch(
    nets: list[SaSNetwork], batches, mode: str, rng: np.random.Generator, buffers: dict
):
    """The next test batch, its draws (into ``buffers``), and the passes that read the
    final-step readout z(T) of every network on it.

    Returns:
        (batch, jobs): jobs[k] lists the joblib calls of network k, one per half of the batch,
        each returning its (trials, n_out) z(T).
    """
    batch = next(batches)
    net = nets[0]
    x = np.asarray(batch.x, dtype=net.dtype)
    n_steps, size, _ = x.shape
    if mode == "per_step":  # weights drawn at every step, by the pass: a Generator per network
        noise = pass_draws(net, n_steps, size, mode, rng, buffers)[0]
        start = copy.deepcopy(rng)
        generators = [rng] + [copy.deepcopy(start) for _ in nets[1:]]
        pairs = zip(nets, generators, strict=True)
        return batch, [[delayed(_sampled_final)(*pair, x, noise)] for pair in pairs]
    runs = nets
    if mode == "quenched":  # one sampled network per batch, from the same draws for every k
        start = copy.deepcopy(rng)
        runs = [sample_network(nets[0], rng)]
        runs += [sample_network(network, copy.deepcopy(start)) for network in nets[1:]]
    noise, eps, eps_out = pass_draws(net, n_steps, size, mode, rng, buffers)
    if net.readout == "all":
        eps_out = eps_out[-1]
    middle = (size + 1) // 2
    halves = [slice(0, middle), slice(middle, size)] if size > 1 else [slice(0, size)]
    parts = []
    for k, half in enumerate(halves):  # each half C-contiguous, for the passes' time segments
        part = [np.ascontiguousarray(x[:, half])]
        for name, whole in (("eps", eps), ("noise", noise)):
            if whole is None:
                part.append(None)
                continue
            shape = (n_steps, half.stop - half.start, net.n_rec)
            target = _buffer(buffers, f"{name}_{k}", shape, whole.dtype)
            np.copyto(target, whole[:, half])
            part.append(target)
        parts.append([part[0], part[1], eps_out[half], part[2]])
    return batch, [[delayed(_final_readout)(run, *part) for part in parts] for run in runs]


def _sampled_final(net: SaSNetwork, rng: np.random.Generator, x, noise) -> np.ndarray:
    """Readout z(T) (B, n_out) of a pass with new weights at every step (as
    :func:`sims.evaluate.predict` "per_step")."""
    z = sampled_forward(net, x, mode="per_step", rng=rng, rec_noise=noise)
    return z[-1] if net.readout == "all" else z


def _final_readout(net: SaSNetwork, x, eps, eps_out, noise) -> np.ndarray:
    """Readout z(T) (C, n_out) of the mean-field pass of ``net`` on C trials, forward-only
    (:func:`dynamics.mean_field_readout` with readout "last"; eps_out (C, n_out): the readout
    normals of the final step)."""
    last = SaSNetwork(net.inp, net.rec, net.out, **{**net.options(), "readout": "last"})
    return mean_field_readout(last, x, eps=eps, eps_out=eps_out, rec_noise=noise)


def mean_field_segments(net: SaSNetwork, x, eps, noise=None, eps_out=None):
    """The mean-field pass of ``net`` (docs/model.md §1.3) in time segments, for long trials.

    Each segment is a :func:`dynamics.mean_field_forward` call of at most :data:`SEGMENT_BYTES`
    per (steps, B, n_rec) array, starting from the state h in which the previous one ended: the
    trajectory is that of one whole pass, bit for bit, but its memory is that of one segment
    (no fresh pages to fault in, work arrays in cache). The readout is read at the last step of
    each segment (readout "last"), with ``eps_out`` at the final step and ε_out = 0 before.

    Args:
        net: the network (its h0 starts the first segment).
        x: (T, B, n_in) inputs; eps, noise: (T, B, n_rec) ε and ξ (noise None without σ_rec).
        eps_out: (B, n_out) readout normals of the final step (default 0).

    Yields:
        (first, trace): the segment's first step and its :class:`dynamics.ForwardTrace`
        (trace.r[1:] are the rates after steps first, first + 1, …; trace.z the readout at the
        segment's last step, (B, n_out)).
    """
    n_steps, batch, _ = x.shape
    steps = max(1, SEGMENT_BYTES // (batch * net.n_rec * np.dtype(net.dtype).itemsize))
    options = {**net.options(), "readout": "last"}
    zeros = np.zeros((batch, net.n_out), dtype=net.dtype)
    state = net.h0
    for first in range(0, n_steps, steps):
        window = slice(first, min(first + steps, n_steps))
        last = window.stop == n_steps and eps_out is not None
        segment = SaSNetwork(net.inp, net.rec, net.out, **{**options, "h0": state})
        trace = mean_field_forward(
            segment,
            x[window],
            eps=eps[window],
            eps_out=eps_out if last else zeros,
            rec_noise=None if noise is None else noise[window],
        )
        state = trace.h[-1]
        yield first, trace
