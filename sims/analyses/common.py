"""Shared plumbing of the ensemble analyses: stack a run's snapshots, the multisensory input
groups, network passes in every evaluation mode, task accuracy per test batch, and the accuracies
of many networks on common random numbers (:func:`crn_accuracies`), on every core.

Runs are opened with :meth:`sims.runs.Run.open`; results are written with
:func:`sims.store.write_result`. Each analysis declares the tasks it applies to
(:data:`APPLICABLE_TASKS`), so that a run of another task gets one clear error
(:func:`check_applicable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from joblib import Parallel, delayed

from dynamics import (
    CounterNormals,
    SaSNetwork,
    generator_key,
    mean_field_forward,
    mean_field_readouts,
    sampled_forward,
    sampled_readout,
)
from dynamics._blas import one_blas_thread
from sims.evaluate import EVALUATION_MODES, SAMPLED_MODES, predict
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
    near-equal batches; accuracy = fraction with argmax z(T) = label. In both, the draws of
    ``mode`` are those of :func:`crn_accuracies` with one network.

    Args:
        net: the (possibly pruned) network; its α is replaced by the test α for the MSI.
        task: the run's task.
        rng: the Generator (input noise, the keys of the noise streams, ε_out).
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
    nets: Sequence[SaSNetwork | Callable[[int], SaSNetwork]],
    task,
    rng: np.random.Generator,
    n_batches: int = 20,
    mode: str = "meanfield",
    test_dt: float | None = None,
    n_jobs: int = -1,
) -> np.ndarray:
    """Task accuracy of every network on every test batch, on common random numbers.

    Test batch i is the same for every network, so that differences between networks reflect
    the networks, not the test noise (paper Fig. 4b). Drawn from ``rng``, in this order: the
    inputs of every batch (:meth:`task.accuracy_batches`), three stream keys
    (:func:`dynamics.generator_key`: ε, the private noise ξ, the sampled weights), then the
    readout normals ε_out of every batch, (B_i, n_out). The pass on batch i then draws, inside
    the compiled code, from counter-based streams (:class:`dynamics.CounterNormals`):

    * ε (mode "meanfield"): block i of the ε stream, ε(t) of trial b its row (b, t, i);
    * ξ (when σ_rec > 0, every mode): block i of the ξ stream, likewise;
    * sampled weights ("quenched": one draw; "per_step": a draw every step): network i of the
      weight stream (:func:`dynamics.sampled_weights`), the same uniforms and normals for every
      network, so that a removed connection (π = 1) is the only weight that differs.

    Every number is therefore a function of (``rng``'s state, i), whichever networks are
    evaluated, in whatever order and on however many threads: row k is
    :func:`batch_accuracies` of network k with ``rng`` in the same state. The passes are
    forward-only and read the readout at the final step only, which is all the accuracy reads.
    In the mean-field modes all networks run on batch i in one pass that draws ε and ξ once
    (:func:`dynamics.mean_field_readouts`), a job per batch; in the sampled modes every
    (network, batch) pass is a job (:func:`dynamics.sampled_readout`). The jobs run on ``n_jobs``
    worker threads (joblib; the compiled passes release the GIL; BLAS pinned to one thread).

    Example:
        >>> table = crn_accuracies([net, pruned], task, np.random.default_rng(0))   # (2, 20)
        >>> draws = crn_accuracies([net, lambda i: pruned_for_batch[i]], task, rng)

    Args:
        nets: K networks of one architecture (sizes, dtype, readout, σ_rec > 0 or not); an
            entry may also be a function ``i -> network`` giving the network run on batch i
            (e.g. one removal draw per test batch), called once per batch.
        task, rng, n_batches, mode, test_dt: see :func:`batch_accuracies`.
        n_jobs: worker threads (joblib convention: -1 every core, 1 none).

    Returns:
        (K, n_batches) accuracies.

    Raises:
        ValueError: no network, networks of different architectures, n_batches < 1, unknown mode.
    """
    network_of = [net if callable(net) else (lambda i, net=net: net) for net in nets]
    if not network_of:
        raise ValueError("crn_accuracies needs at least one network.")
    if int(n_batches) < 1:
        raise ValueError(f"n_batches must be >= 1, got {n_batches}")
    if mode not in EVALUATION_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {EVALUATION_MODES}.")
    n_batches = int(n_batches)
    first = task.test_network(network_of[0](0), test_dt)
    batches = list(task.accuracy_batches(rng, n_batches, dt=test_dt))
    inputs = [np.asarray(batch.x, dtype=first.dtype) for batch in batches]
    keys = {name: generator_key(rng) for name in ("eps", "noise", "weights")}
    eps_out = [rng.standard_normal((x.shape[1], first.n_out), dtype=first.dtype) for x in inputs]

    def accuracies(members, i):
        nets = [task.test_network(network_of[k](i), test_dt) for k in members]
        for k, net in zip(members, nets, strict=True):
            _check_one_architecture([first, net], k)
        if mode in SAMPLED_MODES:
            readouts = [_sampled_readout(net, inputs[i], mode, keys, i) for net in nets]
        else:
            readouts = _mean_field_readouts(nets, inputs[i], mode, keys, i, eps_out[i])
        return [float(np.mean(task.correct(z, batches[i]))) for z in readouts]

    # a sampled network is a job; the mean-field passes of all networks on one test batch share
    # its draws (dynamics.mean_field_readouts), one job per batch
    everyone = list(range(len(network_of)))
    groups = [[k] for k in everyone] if mode in SAMPLED_MODES else [everyone]
    jobs = [(members, i) for i in range(n_batches) for members in groups]
    with one_blas_thread(), Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        results = parallel(delayed(accuracies)(members, i) for members, i in jobs)
    table = np.empty((len(network_of), n_batches))
    for (members, i), values in zip(jobs, results, strict=True):
        table[members, i] = values
    return table


def _buffer(buffers: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """``buffers[name]``, (re)allocated when missing or of another shape or dtype."""
    array = buffers.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = buffers[name] = np.empty(shape, dtype=dtype)
    return array


def _check_one_architecture(nets: list[SaSNetwork], index: int) -> None:
    """Networks that share draws must draw the same shapes: equal sizes, dtype, readout and
    whether they have private noise (``nets[1]`` is network ``index``, ``nets[0]`` network 0)."""

    def signature(net):
        return (net.n_in, net.n_rec, net.n_out, np.dtype(net.dtype), net.readout, net.sigma_rec > 0)

    if signature(nets[1]) != signature(nets[0]):
        raise ValueError(
            f"crn_accuracies: network {index} is {nets[1]!r} but network 0 is {nets[0]!r}; common "
            f"random numbers need one architecture (sizes, dtype, readout, σ_rec > 0 or not)."
        )


def _last_readout(net: SaSNetwork) -> SaSNetwork:
    """``net`` with the readout read at the final step only."""
    return SaSNetwork(net.inp, net.rec, net.out, **{**net.options(), "readout": "last"})


def _sampled_readout(net: SaSNetwork, x, mode: str, keys: dict, batch: int) -> np.ndarray:
    """Readout z(T) (B, n_out) of network ``batch`` of the weight stream sampled from ``net``
    in ``mode`` on test batch ``batch`` (inputs ``x``), ξ from block ``batch``."""
    noise = CounterNormals(keys["noise"], 0) if net.sigma_rec > 0.0 else None
    return sampled_readout(
        _last_readout(net), x, mode=mode, key=keys["weights"], network=batch, rec_noise=noise
    )


def _mean_field_readouts(nets, x, mode: str, keys: dict, batch: int, eps_out) -> list:
    """Readouts z(T) (B, n_out) of the mean-field passes of ``nets`` on test batch ``batch``
    (inputs ``x``), with the draws of :func:`crn_accuracies`. Networks with equal α, activation
    and σ_rec share one pass (:func:`dynamics.mean_field_readouts`)."""
    fluctuating = mode == "meanfield"
    shared = {}
    for k, net in enumerate(nets):
        shared.setdefault((net.alpha, net.activation, net.sigma_rec), []).append(k)
    readouts = [None] * len(nets)
    for members in shared.values():
        noisy = nets[members[0]].sigma_rec > 0.0
        values = mean_field_readouts(
            [_last_readout(nets[k]) for k in members],
            x,
            eps=CounterNormals(keys["eps"], batch) if fluctuating else None,
            eps_out=eps_out if fluctuating else None,
            rec_noise=CounterNormals(keys["noise"], batch) if noisy else None,
        )
        for k, value in zip(members, values, strict=True):
            readouts[k] = value
    return readouts


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
