"""Behaviour of the trained multisensory network (paper Fig. 3, docs/model.md §3.3).

Two results:

* :func:`psychometric_summary`: P(high) per modality and event rate, pooled over seeds, with the
  cumulative-Gaussian fit Φ((f − μ)/σ) of each seed-mean curve (σ in Hz; a steeper curve has a
  smaller σ) and the steepness facts the paper states: σ_va < min(σ_v, σ_a), P(high) ≈ 0 at
  f ≤ 11 Hz and ≈ 1 at f ≥ 14 Hz.
* :func:`example_trial`: one training trial (inputs, target and mask on the training grid) and
  the mean-field outputs z(t) of one high (14 Hz) and one low (11 Hz) multisensory test trial.

Example:
    >>> from sims.runs import Run                                            # doctest: +SKIP
    >>> runs = [Run.open(d) for d in ("runs/msi-seed0", "runs/msi-seed1")]    # doctest: +SKIP
    >>> psychometric_summary([run.metrics["final"] for run in runs])["sigma_hz"]  # doctest: +SKIP
    >>> summary, arrays = example_trial(runs[0].network(), runs[0].task, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["EXAMPLE_FREQUENCIES", "example_trial", "psychometric_summary"]

#: Event rates (Hz) of the example test trials: one above and one below the 12.5 Hz boundary.
EXAMPLE_FREQUENCIES = (14.0, 11.0)
#: P(high) is read at or below the low and at or above the high edge (Hz) for the steepness facts.
LOW_EDGE_HZ, HIGH_EDGE_HZ = 11.0, 14.0


def psychometric_summary(finals: Sequence[Mapping], n_boot: int = 1000, seed: int = 0) -> dict:
    """Pool the psychometric curves of several multisensory runs and fit each modality.

    For each modality m: the per-seed curves P(high | f, m), their mean and s.d. over seeds, and
    the fit of the choice counts pooled over seeds by binomial maximum likelihood with bootstrap
    intervals (:func:`sims.psychometric.fit_psychometric`; a step-like curve gives only an
    upper bound on σ). Pooling treats the seeds' networks as one observer; every run's own fit
    is in its final metrics and is listed per seed.

    Args:
        finals: the "final" block of every run's metrics.json (same frequencies in each, with
            "psychometric_counts"), in seed order.
        n_boot: bootstrap replicates of the pooled fits.
        seed: seed of the bootstrap.

    Returns:
        The "psychometric" result: frequencies, modalities, per-seed, mean and s.d. curves
        (F,) per modality, pooled fits {m: {"mu", "mu_ci", "sigma", "sigma_ci", "sigma_upper",
        "step_like", "band"}} (the band of the bootstrap refits, Fig. 3), per-seed σ (None where
        step-like) and test accuracies, the test protocol (mode, batches, α), the
        optimal-integration test of the pooled fits, the same over seeds (``over_seeds``, see
        :func:`_over_seeds`), and the steepness facts ``sigma_hz``,
        ``va_steeper`` (None when a pooled curve is step-like), ``max_p_high_at_or_below_11hz``,
        ``min_p_high_at_or_above_14hz``.

    Raises:
        ValueError: no runs, or a run evaluated before choice counts were stored (re-evaluate
            it with ``sasrnn evaluate``).
    """
    from sims.psychometric import fit_psychometric, optimal_integration
    from sims.tasks.multisensory import MODALITIES

    if not finals:
        raise ValueError("psychometric_summary needs at least one finished multisensory run.")
    if any("psychometric_counts" not in final for final in finals):
        raise ValueError(
            "a multisensory run has no choice counts in its final metrics (it was evaluated by "
            "an older version); re-evaluate it with `sasrnn evaluate RUN_DIR`."
        )
    frequencies = finals[0]["frequencies"]
    per_seed = {m: [f["psychometric"][m] for f in finals] for m in MODALITIES}
    mean = {m: np.mean(per_seed[m], axis=0) for m in MODALITIES}
    std = {m: np.std(per_seed[m], axis=0) for m in MODALITIES}
    counts = {
        key: {
            m: np.sum([f["psychometric_counts"][key][m] for f in finals], axis=0)
            for m in MODALITIES
        }
        for key in ("n_high", "n_trials")
    }
    rng = np.random.default_rng(seed)
    fits = {
        m: fit_psychometric(
            frequencies, counts["n_high"][m], counts["n_trials"][m], n_boot=n_boot, seed=rng
        )
        for m in MODALITIES
    }
    keys = ("mu", "mu_ci", "sigma", "sigma_ci", "sigma_upper", "step_like", "band")
    fit = {m: {key: fits[m][key] for key in keys} for m in MODALITIES}
    sigma_hz = {m: fit[m]["sigma"] for m in MODALITIES}
    steep = (
        None
        if any(v is None for v in sigma_hz.values())
        else bool(sigma_hz["va"] < min(sigma_hz["v"], sigma_hz["a"]))
    )
    f = np.asarray(frequencies)
    per_seed_sigma = {m: [final["sigma"][m] for final in finals] for m in MODALITIES}
    return {
        "frequencies": frequencies,
        "modalities": list(MODALITIES),
        "n_seeds": len(finals),
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "pooled_counts": counts,
        "fit": fit,
        "optimal_integration": optimal_integration(fits),
        "per_seed_sigma": per_seed_sigma,
        "over_seeds": _over_seeds(per_seed_sigma),
        "per_seed_accuracy": [final["test_accuracy"] for final in finals],
        "mode": finals[0].get("psychometric_mode"),
        "n_test_batches": finals[0].get("n_test_batches"),
        "test_alpha": finals[0].get("test_alpha"),
        "sigma_hz": sigma_hz,
        "sigma_upper_hz": {m: fit[m]["sigma_upper"] for m in MODALITIES},
        "va_steeper": steep,
        "max_p_high_at_or_below_11hz": float(max(p[f <= LOW_EDGE_HZ].max() for p in mean.values())),
        "min_p_high_at_or_above_14hz": float(
            min(p[f >= HIGH_EDGE_HZ].min() for p in mean.values())
        ),
    }


def _over_seeds(per_seed_sigma: Mapping[str, list]) -> dict | None:
    """The seed-to-seed view of the pooled fits: each run's own σ (its own fit) as a mean with
    its 95% t-interval over seeds, the paired difference σ_va − min(σ_v, σ_a) and the
    optimal-integration ratio R = σ_va⁻² / (σ_v⁻² + σ_a⁻²) per seed, each with its t-interval,
    and how many seeds have σ_va below both. The pooled fits' bootstrap intervals treat the
    seeds' networks as one observer; these carry the spread between networks. None when a run's
    curve is step-like (no σ)."""
    from sims.analyses.training import t_interval

    if any(value is None for values in per_seed_sigma.values() for value in values):
        return None
    sigma = {m: np.asarray(values, dtype=float) for m, values in per_seed_sigma.items()}
    single = np.minimum(sigma["v"], sigma["a"])
    ratio = sigma["va"] ** -2 / (sigma["v"] ** -2 + sigma["a"] ** -2)
    return {
        "sigma": {m: t_interval(values) for m, values in sigma.items()},
        "va_minus_steeper_single": t_interval(sigma["va"] - single),
        "n_seeds_va_steepest": int(np.count_nonzero(sigma["va"] < single)),
        "optimal_ratio": {"per_seed": ratio.tolist(), **t_interval(ratio)},
    }


def example_trial(network, task, *, seed: int) -> tuple[dict, dict]:
    """One training trial and the mean-field outputs of a high and a low test trial (Fig. 3a, c).

    Random numbers, all from ``numpy.random.default_rng(seed)`` in this order: the training
    trial (va, 14 Hz), the two test trials (va, 14 and 11 Hz), the mean-field pass ε of the test
    network (:meth:`Task.test_network`: the test dt).

    Args:
        network: the trained SaSNetwork.
        task: its :class:`sims.tasks.multisensory.MultisensoryTask`.
        seed: the seed of the trials and of ε.

    Returns:
        ``(summary, arrays)``: the summary holds the seed and the two event rates; the arrays
        ``train_x`` (T, n_in), ``train_target`` (T, n_out), ``train_mask`` (T,),
        ``train_time_ms`` (T,), ``test_time_ms`` (T_test,), ``z_high`` / ``z_low``
        (T_test, n_out), ``high_frequency`` / ``low_frequency`` (Hz) and
        ``test_epoch_edges_ms`` (the boundaries of the test epochs).
    """
    from sims.analyses.common import network_pass
    from sims.tasks.multisensory import MODALITIES

    high, low = EXAMPLE_FREQUENCIES
    rng = np.random.default_rng(seed)
    va = MODALITIES.index("va")
    train = task.condition_batch(rng, [va], [high], phase="train")
    mask = train.mask if train.mask is not None else np.ones_like(train.target)
    test = task.condition_batch(rng, [va, va], [high, low], phase="test")
    z = network_pass(task.test_network(network), test.x, "meanfield", rng)
    test_epochs = task.epoch_steps("test", task.test_dt)
    edges = sorted({bound * task.test_dt for span in test_epochs.values() for bound in span})
    arrays = {
        "train_x": train.x[:, 0],
        "train_target": train.target[:, 0],
        "train_mask": mask[:, 0].max(axis=-1) if mask.ndim == 3 else mask[:, 0],
        "train_time_ms": np.arange(train.x.shape[0]) * task.dt,
        "test_time_ms": np.arange(1, test.x.shape[0] + 1) * task.test_dt,
        "z_high": z[:, 0],
        "z_low": z[:, 1],
        "high_frequency": high,
        "low_frequency": low,
        "test_epoch_edges_ms": np.asarray(edges),
    }
    summary = {"seed": seed, "high_frequency": high, "low_frequency": low}
    return summary, arrays
