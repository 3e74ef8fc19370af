"""Evaluation of trained SaS networks: test accuracies and psychometric curves (docs/model.md §2.6).

Four ways to run a network on test inputs (``mode``):

- ``"meanfield"``: the mean-field pass of docs/model.md §1.3 with one random draw of ε per
  sample, step and unit (the official MNIST "test accuracy", docs/official-code.md §1.7);
- ``"meanfield_eps0"``: the same with ε = 0, i.e. the mean network W = μ = (1 − π) m;
- ``"quenched"``: one network sampled from the ensemble, w ~ P(w), fixed over the whole test set;
- ``"per_step"``: new weights drawn at every time step (the official MNIST ``sample_forward``).

Every pass is forward-only (:func:`dynamics.mean_field_readout`, :func:`dynamics.sampled_readouts`):
nothing of the trajectories is stored, the batch or the sampled networks run on both cores, and
ε, the private noise ξ and the sampled weights are drawn inside the compiled passes from
counter-based streams. Noise is explicit: every function takes a :class:`numpy.random.Generator`
and draws from it only the streams' keys (:func:`dynamics.generator_key`) and the readout's
ε_out, so every number is a function of the Generator's state. A sampled network is network k of
its weight stream: the same weights for every test batch (:func:`dynamics.sampled_weights`).
Consecutive test batches are joined into one pass while their inputs stay within
:data:`MEMORY_BUDGET_BYTES`.

The multisensory evaluation (docs/model.md §2.6.3, §3.3) runs the trained network at the test step
(dt = 0.5 ms, α = dt/τ = 0.005), reads the choice 1 − argmax z(T_last), averages P(high) over test
batches, fits P(f) = Φ((f − μ)/σ) per modality by binomial maximum likelihood on the choice
counts with parametric-bootstrap intervals (:func:`sims.psychometric.fit_psychometric`; a
step-like curve gives only an upper bound on σ), and compares 1/σ_va² with the
optimal-integration prediction 1/σ_v² + 1/σ_a² with a bootstrap interval, or says it is not
resolvable (:func:`sims.psychometric.optimal_integration`; the pycog test).
"""

from __future__ import annotations

import numpy as np

from dynamics import (
    CounterNormals,
    SaSLayer,
    SaSNetwork,
    generator_key,
    mean_field_readout,
    sampled_readout,
    sampled_readouts,
    sampled_weights,
)
from sims.psychometric import fit_psychometric, optimal_integration
from sims.tasks.multisensory import MODALITIES, choose_high

__all__ = [
    "DETERMINISTIC_READINGS",
    "EVALUATION_MODES",
    "MEMORY_BUDGET_BYTES",
    "classification_accuracy",
    "evaluate_classification",
    "evaluate_multisensory",
    "fit_psychometric",
    "predict",
    "psychometric_curves",
    "sample_network",
    "with_alpha",
]

#: The ways to run a network on test inputs (module docstring).
EVALUATION_MODES = ("meanfield", "meanfield_eps0", "quenched", "per_step")
SAMPLED_MODES = ("quenched", "per_step")
#: Test batches are joined into one pass while their inputs x take at most this many bytes.
MEMORY_BUDGET_BYTES = 256 * 2**20


def with_alpha(net: SaSNetwork, alpha: float) -> SaSNetwork:
    """A copy of ``net`` with leak ``alpha`` (e.g. the MSI test α = 0.5 ms / 100 ms = 0.005)."""
    options = {**net.options(), "alpha": float(alpha)}
    copy = net.copy()
    return SaSNetwork(copy.inp, copy.rec, copy.out, **options)


def sample_network(net: SaSNetwork, rng: np.random.Generator) -> SaSNetwork:
    """One network drawn from the ensemble, as a deterministic SaSNetwork (π = Ξ = 0, m = w).

    w = N(m, √Ξ) · 1[U > π] for every connection (docs/model.md §1.2): network 0 of the weight
    stream keyed by :func:`dynamics.generator_key` ``(rng)`` (:func:`dynamics.sampled_weights`),
    the network that :func:`predict` runs in mode "quenched" from a Generator in the same state.
    Its mean-field pass with ε = 0 is exactly the sampled network.
    """
    weights = sampled_weights(net, key=generator_key(rng), network=0)
    layers = []
    for w in weights:
        zeros = np.zeros_like(w)
        layers.append(SaSLayer(w, zeros, zeros.copy(), dtype=net.dtype))
    return SaSNetwork(*layers, **net.options())


def _check_mode(mode: str, net: SaSNetwork, rng, rec_noise: bool = True) -> bool:
    """Validate ``mode`` and ``rng``; returns whether the private noise ξ is drawn."""
    if mode not in EVALUATION_MODES:
        raise ValueError(f"mode={mode!r} is unknown; choose one of {EVALUATION_MODES}.")
    noisy = bool(rec_noise) and net.sigma_rec > 0.0
    if (mode != "meanfield_eps0" or noisy) and not isinstance(rng, np.random.Generator):
        raise ValueError(f"mode={mode!r} needs rng=np.random.default_rng(seed).")
    return noisy


def _mean_field(net, x, mode, rng, noisy):
    """The mean-field readout of one pass: ε (and ξ) from fresh streams keyed from ``rng``, and
    ε_out drawn from it; or ε = 0."""
    eps = eps_out = None
    if mode == "meanfield":
        eps = CounterNormals(generator_key(rng), 0)
        eps_out = rng.standard_normal(net.output_shape(*x.shape[:2]), dtype=net.dtype)
    noise = CounterNormals(generator_key(rng), 0) if noisy else None
    return mean_field_readout(net, x, eps=eps, eps_out=eps_out, rec_noise=noise)


def predict(
    net: SaSNetwork, x, *, mode: str, rng: np.random.Generator | None = None, rec_noise: bool = True
) -> np.ndarray:
    """Readout z of ``net`` on inputs ``x`` in one of :data:`EVALUATION_MODES`.

    Args:
        net: the ensemble.
        x: (T, B, n_in) inputs.
        mode: "meanfield", "meanfield_eps0", "quenched" (one weight draw for this call, shared by
            the batch: the network of :func:`sample_network` from ``rng``) or "per_step" (new
            weights every step, shared by the batch).
        rng: the Generator of the keys of ε, the weight draws and the private noise, and of ε_out
            (not needed for "meanfield_eps0" of a noise-free network).
        rec_noise: draw the private recurrent noise ξ when ``net.sigma_rec > 0`` (docs/model.md
            §1.1).

    Returns:
        z, (B, n_out) for readout "last" or (T, B, n_out) for "all".

    Raises:
        ValueError: unknown mode, or a Generator is needed and missing.
    """
    noisy = _check_mode(mode, net, rng, rec_noise)
    x = np.asarray(x, dtype=net.dtype)
    if mode in SAMPLED_MODES:
        key = generator_key(rng)
        noise = CounterNormals(generator_key(rng), 0) if noisy else None
        return sampled_readout(net, x, mode=mode, key=key, network=0, rec_noise=noise)
    return _mean_field(net, x, mode, rng, noisy)


def _correct(net: SaSNetwork, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-sample correctness: argmax for several classes, 1[f > 0.5] for a scalar output."""
    if net.n_out == 1:
        return (z[:, 0] > 0.5).astype(np.int64) == labels
    return np.argmax(z, axis=1) == labels


def _joined(items):
    """Consecutive items ``(x, payload)`` with x (T, B, n_in) joined along the batch axis while
    the inputs take at most :data:`MEMORY_BUDGET_BYTES` (and have one number of steps); yields
    ``(x, payloads)``."""
    xs, parts, size = [], [], 0
    for x, payload in items:
        if xs and (size + x.nbytes > MEMORY_BUDGET_BYTES or x.shape[0] != xs[0].shape[0]):
            yield (xs[0] if len(xs) == 1 else np.concatenate(xs, axis=1)), parts
            xs, parts, size = [], [], 0
        xs.append(x)
        parts.append(payload)
        size += x.nbytes
    if xs:
        yield (xs[0] if len(xs) == 1 else np.concatenate(xs, axis=1)), parts


def _test_sets(net: SaSNetwork, task, rng, max_samples):
    """The task's test set in order as joined passes ``(x, labels)``, cut after ``max_samples``
    samples (None or 0: all)."""

    def batches():
        total = 0
        for batch in task.test_batches(rng):
            x, labels = batch.x, batch.labels
            if max_samples:
                keep = max_samples - total
                x, labels = x[:, :keep], labels[:keep]
            yield np.asarray(x, dtype=net.dtype), labels
            total += labels.shape[0]
            if max_samples and total >= max_samples:
                break

    for x, parts in _joined(batches()):
        yield x, np.concatenate(parts)


def _sampled_accuracies(net, task, mode, rng, n_networks, max_samples) -> list[float]:
    """Test accuracies of networks 0 … K − 1 of one weight stream (keyed from ``rng``), run
    together on every pass; network k draws its ξ from block (pass · K + k) of a noise stream."""
    noisy = _check_mode(mode, net, rng)
    key = generator_key(rng)
    noise_key = generator_key(rng) if noisy else None
    correct, total = np.zeros(n_networks, dtype=np.int64), 0
    for index, (x, labels) in enumerate(_test_sets(net, task, rng, max_samples)):
        noise = CounterNormals(noise_key, index * n_networks) if noisy else None
        z = sampled_readouts(net, x, mode=mode, key=key, networks=n_networks, rec_noise=noise)
        correct += [int(np.sum(_correct(net, z_k, labels))) for z_k in z]
        total += labels.shape[0]
    return (correct / total).tolist()


#: What the final metrics of a deterministic network say instead of repeating one number.
DETERMINISTIC_READINGS = (
    "deterministic network (Ξ = 0, π ∈ {0, 1}, σ_rec = 0): the ε = 0, per-step sampled and "
    "quenched readings equal the mean-field one exactly, so it is read once"
)


def classification_accuracy(
    net: SaSNetwork,
    task,
    *,
    mode: str,
    rng: np.random.Generator | None = None,
    max_samples: int | None = None,
) -> float:
    """Fraction of the task's test set classified correctly in ``mode`` (docs/model.md §2.6).

    "quenched" runs one network for the whole test set, "per_step" one sequence of per-step
    draws for every test sample. Classes are argmax z(T) (MNIST) or 1[f > 0.5] for a scalar
    output (docs/model.md §3.4).

    Args:
        net, mode, rng: see :func:`predict`.
        task: a classification task (its ``test_batches`` in order).
        max_samples: use only the first ``max_samples`` test samples (None or 0: all).
    """
    noisy = _check_mode(mode, net, rng)
    if mode in SAMPLED_MODES:
        return _sampled_accuracies(net, task, mode, rng, 1, max_samples)[0]
    correct = total = 0
    for x, labels in _test_sets(net, task, rng, max_samples):
        z = _mean_field(net, x, mode, rng, noisy)
        correct += int(np.sum(_correct(net, z, labels)))
        total += labels.shape[0]
    return correct / total


def evaluate_classification(
    net: SaSNetwork,
    task,
    rng: np.random.Generator,
    n_samples: int = 10,
    max_samples: int | None = None,
) -> dict:
    """All test accuracies of docs/official-code.md §3 (a)–(b) for a classification task.

    Args:
        net, task, rng: see :func:`classification_accuracy`.
        n_samples: sampled networks K (quenched) and sampled passes (per step), run together.
        max_samples: use only the first ``max_samples`` test samples (None or 0: all).

    Returns:
        dict with test_accuracy_meanfield (one ε draw), test_accuracy_meanfield_eps0,
        test_accuracy_sampled_quenched (mean over ``n_samples`` networks) and its ``_std``,
        test_accuracy_sampled_per_step (mean over ``n_samples`` passes) and its ``_std``,
        and the per-sample lists ``sampled_quenched`` and ``sampled_per_step``. A deterministic
        network (:attr:`SaSNetwork.deterministic`, e.g. the bptt preset's) has one reading:
        {test_accuracy_meanfield, "readings": DETERMINISTIC_READINGS, n_samples 0}.
    """
    if net.deterministic:
        return {
            "test_accuracy_meanfield": classification_accuracy(
                net, task, mode="meanfield", rng=rng, max_samples=max_samples
            ),
            "readings": DETERMINISTIC_READINGS,
            "n_samples": 0,
        }
    quenched = _sampled_accuracies(net, task, "quenched", rng, n_samples, max_samples)
    per_step = _sampled_accuracies(net, task, "per_step", rng, n_samples, max_samples)
    return {
        "test_accuracy_meanfield": classification_accuracy(
            net, task, mode="meanfield", rng=rng, max_samples=max_samples
        ),
        "test_accuracy_meanfield_eps0": classification_accuracy(
            net, task, mode="meanfield_eps0", rng=rng, max_samples=max_samples
        ),
        "test_accuracy_sampled_quenched": float(np.mean(quenched)),
        "test_accuracy_sampled_quenched_std": float(np.std(quenched)),
        "test_accuracy_sampled_per_step": float(np.mean(per_step)),
        "test_accuracy_sampled_per_step_std": float(np.std(per_step)),
        "sampled_quenched": quenched,
        "sampled_per_step": per_step,
        "n_samples": int(n_samples),
    }


def _readouts_by_batch(net: SaSNetwork, batches, mode: str, rng):
    """``(batch, z)`` for every batch of ``batches``, the batches joined into passes (
    :data:`MEMORY_BUDGET_BYTES`). Each batch is read as by its own :func:`predict` call: in the
    sampled modes batch i is run by network i of one weight stream, in the mean-field modes ε
    and ξ are fresh for every sample."""
    noisy = _check_mode(mode, net, rng)
    sampled = mode in SAMPLED_MODES
    key = generator_key(rng) if sampled else None
    noise_key = generator_key(rng) if sampled and noisy else None
    axis, first = net.output_batch_axis, 0
    items = ((np.asarray(batch.x, dtype=net.dtype), batch) for batch in batches)
    for x, group in _joined(items):
        sizes = [batch.x.shape[1] for batch in group]
        if sampled:
            network = np.repeat(np.arange(first, first + len(group)), sizes)
            noise = CounterNormals(noise_key, 0) if noisy else None
            z = sampled_readout(net, x, mode=mode, key=key, network=network, rec_noise=noise)
        else:
            z = _mean_field(net, x, mode, rng, noisy)
        first += len(group)
        ends = np.cumsum(sizes)
        for batch, end, size in zip(group, ends, sizes, strict=True):
            yield batch, np.take(z, np.arange(end - size, end), axis=axis)


def psychometric_curves(
    net: SaSNetwork,
    task,
    rng: np.random.Generator,
    *,
    mode: str = "meanfield",
    n_batches: int = 20,
    test_dt: float | None = None,
    n_boot: int = 1000,
) -> dict:
    """P(high) per modality and frequency at the test step (docs/model.md §2.6.3, §3.3).

    The network is run with α = test_dt/τ on ``n_batches`` test batches of all modalities ×
    frequencies (fresh input noise, ε and private noise ξ from ``rng``; in the sampled modes one
    network per test batch), the batches joined into passes on both cores; the choice is
    1 − argmax z(T_last).

    Args:
        net: the trained network (its own α is replaced by the test α).
        task: a :class:`sims.tasks.MultisensoryTask`.
        rng: the Generator.
        mode: one of :data:`EVALUATION_MODES` ("meanfield": ``sub_tasks.py``; "per_step": the
            notebook).
        n_batches: test batches to average (20 in ``sub_tasks.py``, 100 in the notebook).
        test_dt: step in ms (default ``task.test_dt``, 0.5).
        n_boot: bootstrap replicates of each fit (drawn from ``rng`` after the test batches).

    Returns:
        dict with "frequencies" (F,), "p_high", "n_high", "n_trials" {modality: (F,) list},
        per modality the fit's "mu", "mu_ci", "sigma" (None for a step-like curve),
        "sigma_ci", "sigma_upper" (the bound a step-like curve gives) and "step_like"
        (:func:`sims.psychometric.fit_psychometric`), "accuracy" (mean correct over conditions
        and batches), "accuracy_std" (over batches), "alpha" (the test α), "n_batches",
        "n_boot", "mode" and "optimal_integration"
        (:func:`sims.psychometric.optimal_integration`).
    """
    test_dt = task.test_dt if test_dt is None else float(test_dt)
    alpha = test_dt / task.tau
    test_net = task.test_network(net, test_dt)
    frequencies = np.asarray(task.frequencies)
    high = np.zeros((len(MODALITIES), frequencies.size))
    trials = np.zeros_like(high)
    accuracies = []
    batches = task.test_batches(rng, n_batches=n_batches, dt=test_dt)
    for batch, z in _readouts_by_batch(test_net, batches, mode, rng):
        choice = choose_high(z)
        modality = batch.info["modality"]
        frequency_index = np.searchsorted(frequencies, batch.info["frequency"])
        np.add.at(high, (modality, frequency_index), choice)
        np.add.at(trials, (modality, frequency_index), 1)
        correct_high = batch.labels == 0
        accuracies.append(float(np.mean(choice == correct_high)))
    p_high = high / trials
    fits = {  # one shared Generator: independent replicates per modality
        name: fit_psychometric(frequencies, high[i], trials[i], n_boot=n_boot, seed=rng)
        for i, name in enumerate(MODALITIES)
    }
    per_modality = {
        key: {name: fits[name][key] for name in MODALITIES}
        for key in ("mu", "mu_ci", "sigma", "sigma_ci", "sigma_upper", "step_like")
    }
    return {
        "frequencies": frequencies.tolist(),
        "p_high": {name: p_high[i].tolist() for i, name in enumerate(MODALITIES)},
        "n_high": {name: high[i].astype(int).tolist() for i, name in enumerate(MODALITIES)},
        "n_trials": {name: trials[i].astype(int).tolist() for i, name in enumerate(MODALITIES)},
        **per_modality,
        "accuracy": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)),
        "alpha": alpha,
        "n_batches": int(n_batches),
        "n_boot": int(n_boot),
        "mode": mode,
        "optimal_integration": optimal_integration(fits),
    }


def evaluate_multisensory(net: SaSNetwork, task, rng: np.random.Generator, **options) -> dict:
    """The final MSI metrics: psychometric = {v, a, va: P(high) at each frequency}, sigma, ….

    ``options`` (mode, n_batches, test_dt) and the curves: see :func:`psychometric_curves`; adds
    "test_accuracy" and "psychometric" (the P(high) lists).
    """
    curves = psychometric_curves(net, task, rng, **options)
    return {
        "psychometric": curves["p_high"],
        "sigma": curves["sigma"],
        "sigma_ci": curves["sigma_ci"],
        "sigma_upper": curves["sigma_upper"],
        "sigma_step_like": curves["step_like"],
        "mu": curves["mu"],
        "mu_ci": curves["mu_ci"],
        "psychometric_counts": {"n_high": curves["n_high"], "n_trials": curves["n_trials"]},
        "frequencies": curves["frequencies"],
        "optimal_integration": curves["optimal_integration"],
        "test_accuracy": curves["accuracy"],
        "test_accuracy_std": curves["accuracy_std"],
        "test_alpha": curves["alpha"],
        "psychometric_mode": curves["mode"],
        "n_test_batches": curves["n_batches"],
    }
