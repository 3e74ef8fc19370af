"""What training produced, exported for the figures: learning curves, trained parameters, and the
ensemble against the ordinary-BPTT baseline.

Three results, read by the figures and the claims instead of run directories:

* :func:`training_curves` (schema "training-curves", paper Fig. 2a and the accuracy claims of
  docs/model.md §6): per run the epochs, the per-epoch mean-field test accuracy (None where the
  task has no per-epoch test), the per-epoch training loss and the "final" metrics; over runs,
  the mean and the per-seed list of every numeric final metric, and the seed mean of the
  per-epoch accuracy and of every final metric with its 95% t-interval over seeds
  (:func:`t_interval`).
* :func:`preset_comparison` (schema "preset-comparison", the paper's central claim that the
  ensemble learns as well as ordinary BPTT): the final accuracy of the ensemble minus that of the
  baseline, seed by seed (both presets draw the same initial m and the same data stream for a
  seed, so the pairs share everything but the model), and the 95% t-interval of the mean
  difference.
* :func:`trained_parameters` (schema "trained-parameters", Figs. 2b–d and 4a): the nine trained
  (m, π, Ξ) blocks of one run, and the fraction of very important recurrent weights (VIP:
  π ≤ 0.1, Ξ < 0.1, |m| > 0.08, :func:`dynamics.removal.vip_mask`) of every run of the ensemble.

Example:
    >>> from sims.runs import Run                                              # doctest: +SKIP
    >>> runs = [Run.open(d) for d in ("runs/row-seed0", "runs/row-seed1")]      # doctest: +SKIP
    >>> training_curves(runs)["final_mean"]["test_accuracy_meanfield"]          # doctest: +SKIP
    >>> summary, blocks = trained_parameters(runs[0], runs)                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np

__all__ = [
    "CONFIDENCE",
    "accuracy_key",
    "preset_comparison",
    "t_interval",
    "trained_parameters",
    "training_curves",
    "vip_fraction",
]

#: The per-epoch test metric of a training curve (written by ``Task.epoch_metrics``).
EPOCH_ACCURACY = "test_accuracy_meanfield"
#: Confidence level of every interval over seeds.
CONFIDENCE = 0.95
#: How the intervals are computed, as stored beside them.
INTERVAL_METHOD = (
    "two-sided 95% t-interval over seeds: mean ± t(0.975, n − 1) · s / √n (scipy.stats.t), "
    "s the sample standard deviation; none for n < 2"
)


def accuracy_key(task: str) -> str:
    """The final test accuracy of a task's metrics (:attr:`sims.tasks.Task.final_accuracy_key`)."""
    from sims.tasks import TASKS

    return TASKS[task].final_accuracy_key


def t_interval(values, confidence: float = CONFIDENCE) -> dict:
    """Mean of ``values`` (n,) and its two-sided t-interval over the n values.

    mean ± t_{(1+c)/2, n−1} · s/√n with s the sample standard deviation (ddof = 1), from
    ``scipy.stats.t``. For n < 2 the interval is undefined: low = high = sd = None.

    Returns:
        {"mean", "low", "high", "sd", "n"}.

    Raises:
        ValueError: no values, or a value that is not finite.
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"t_interval needs one or more finite values; got {values.tolist()}.")
    n, mean = int(values.size), float(values.mean())
    if n < 2:
        return {"mean": mean, "low": None, "high": None, "sd": None, "n": n}
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "sd": sd, "n": n}


def _epoch_band(entries: list[dict]) -> dict:
    """Seed mean and t-interval of the per-epoch accuracy at every epoch all runs measured.

    Epochs are counted as epochs trained (metrics.json's 0-based index + 1)."""
    measured = [
        {
            epoch + 1: a
            for epoch, a in zip(e["epochs"], e["test_accuracy"], strict=True)
            if a is not None
        }
        for e in entries
    ]
    common = sorted(set.intersection(*(set(m) for m in measured))) if measured else []
    band = {"epochs": common, "mean": [], "low": [], "high": [], "n": len(entries)}
    for epoch in common:
        interval = t_interval([m[epoch] for m in measured])
        for key in ("mean", "low", "high"):
            band[key].append(interval[key])
    return band


def _numeric(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def training_curves(runs: Sequence) -> dict:
    """The learning curves and final metrics of the runs of one task and preset.

    Args:
        runs: finished :class:`sims.runs.Run` handles of one task and preset, in seed order.

    Returns:
        ``{"task", "preset", "model", "data", "accuracy_key", "n_runs", "runs": [{"seed",
        "run_dir", "epochs", "test_accuracy", "train_loss", "n_epochs", "final_train_loss",
        "final"}], "final_mean": {key: mean over runs}, "final_per_seed": {key: [value per
        run]}, "final_interval": {key: t_interval}, "curve": {"epochs", "mean", "low", "high",
        "n"}, "confidence", "interval_method"}``: the final blocks over the numeric final metrics
        every run has; "curve" the seed mean and t-interval of the per-epoch mean-field test
        accuracy at the epochs (counted from 1) every run measured.

    Raises:
        ValueError: no runs.
        FileNotFoundError: a run has not finished (no metrics.json).
    """
    if not runs:
        raise ValueError("training_curves needs at least one finished run.")
    entries, finals = [], []
    for run in runs:
        metrics = run.metrics
        epochs = metrics["epochs"]
        finals.append(metrics["final"])
        entries.append(
            {
                "seed": run.config["seed"],
                "run_dir": str(run.directory),
                "epochs": [epoch["epoch"] for epoch in epochs],
                "test_accuracy": [epoch.get(EPOCH_ACCURACY) for epoch in epochs],
                "train_loss": [epoch["train_loss"] for epoch in epochs],
                "n_epochs": len(epochs),
                "final_train_loss": epochs[-1]["train_loss"],
                "final": metrics["final"],
            }
        )
    shared = [key for key, value in finals[0].items() if _numeric(value)]
    shared = [key for key in shared if all(_numeric(final.get(key)) for final in finals)]
    config = runs[0].config
    return {
        "task": config["task"],
        "preset": config.get("preset", "paper"),
        "model": config.get("model", "ensemble"),
        "data": config.get("data"),
        "kind": config.get("task_options", {}).get("kind", "mnist"),
        "accuracy_key": accuracy_key(config["task"]),
        "n_runs": len(runs),
        "runs": entries,
        "final_mean": {key: float(np.mean([final[key] for final in finals])) for key in shared},
        "final_per_seed": {key: [final[key] for final in finals] for key in shared},
        "final_interval": {key: t_interval([final[key] for final in finals]) for key in shared},
        "curve": _epoch_band(entries),
        "confidence": CONFIDENCE,
        "interval_method": INTERVAL_METHOD,
    }


def preset_comparison(ensemble: Sequence, baseline: Sequence) -> dict:
    """The ensemble's final test accuracy minus the ordinary-BPTT baseline's, paired by seed.

    d_k = a_ensemble(seed k) − a_bptt(seed k) over the seeds both presets trained; the mean of
    d and its 95% t-interval (:func:`t_interval`; none for fewer than 2 pairs). The pairing is
    exact: both presets draw the same initial m, data order and private noise for a seed.

    Args:
        ensemble: finished runs of the ``paper`` preset of one task.
        baseline: finished runs of the ``bptt`` preset of the same task (and data).

    Returns:
        ``{"task", "kind", "data", "accuracy_key", "seeds", "ensemble_per_seed",
        "bptt_per_seed", "difference_per_seed", "difference": t_interval, "ensemble":
        t_interval, "bptt": t_interval, "paired": True, "confidence", "interval_method"}``.

    Raises:
        ValueError: no seed trained by both, runs of different tasks or data, or runs of the
            wrong preset.
    """

    def by_seed(runs, preset):
        table = {}
        for run in runs:
            if run.config.get("preset", "paper") != preset:
                raise ValueError(
                    f"{run.directory} is a {run.config.get('preset')!r} run; preset_comparison "
                    f"expects {preset!r} runs on this side."
                )
            table[run.config["seed"]] = run
        return table

    first, second = by_seed(ensemble, "paper"), by_seed(baseline, "bptt")
    seeds = sorted(set(first) & set(second))
    if not seeds:
        raise ValueError(
            "preset_comparison needs at least one seed trained with both presets; got seeds "
            f"{sorted(first)} (paper) and {sorted(second)} (bptt)."
        )
    reference = first[seeds[0]].config
    task, key = reference["task"], accuracy_key(reference["task"])
    for run in [first[k] for k in seeds] + [second[k] for k in seeds]:
        if (run.config["task"], run.config.get("data"), run.config.get("task_options")) != (
            task,
            reference.get("data"),
            reference.get("task_options"),
        ):
            raise ValueError(
                f"{run.directory} is not a run of the same task and data as "
                f"{first[seeds[0]].directory}."
            )
    a = [float(first[k].metrics["final"][key]) for k in seeds]
    b = [float(second[k].metrics["final"][key]) for k in seeds]
    d = [x - y for x, y in zip(a, b, strict=True)]
    return {
        "task": task,
        "kind": reference.get("task_options", {}).get("kind", "mnist"),
        "data": reference.get("data"),
        "accuracy_key": key,
        "seeds": seeds,
        "ensemble_per_seed": a,
        "bptt_per_seed": b,
        "difference_per_seed": d,
        "difference": t_interval(d),
        "ensemble": t_interval(a),
        "bptt": t_interval(b),
        "paired": True,
        "confidence": CONFIDENCE,
        "interval_method": INTERVAL_METHOD,
    }


def vip_fraction(params) -> float:
    """Fraction of very important recurrent weights of one parameter set (paper Fig. 4)."""
    from dynamics.removal import vip_mask

    return float(vip_mask(params["rec.m"], params["rec.pi"], params["rec.xi"]).mean())


def trained_parameters(run, ensemble: Sequence = ()) -> tuple[dict, dict]:
    """The trained parameter blocks of ``run`` and the VIP fraction of every run of ``ensemble``.

    Args:
        run: a finished :class:`sims.runs.Run`.
        ensemble: the runs of the same task (seed order) whose VIP fractions are listed.

    Returns:
        ``(summary, arrays)``: summary ``{"task", "kind", "seed", "run_dir",
        "vip_fraction_per_seed"}``;
        arrays the blocks of ``params.npz`` by name ("inp.m" … "out.xi").

    Raises:
        FileNotFoundError: a run has not finished (no params.npz).
    """
    summary = {
        "task": run.config["task"],
        "kind": run.config.get("task_options", {}).get("kind", "mnist"),
        "seed": run.config["seed"],
        "run_dir": str(run.directory),
        "vip_fraction_per_seed": [vip_fraction(member.params) for member in ensemble],
    }
    return summary, dict(run.params)
