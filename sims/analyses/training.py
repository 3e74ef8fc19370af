"""What training produced, exported for the figures: learning curves and trained parameters.

Two results, read by the figures instead of run directories:

* :func:`training_curves` (schema "training-curves", paper Fig. 2a and the accuracy claims of
  docs/model.md §6): per run the epochs, the per-epoch mean-field test accuracy (None where the
  task has no per-epoch test), the per-epoch training loss and the "final" metrics; over runs,
  the mean and the per-seed list of every numeric final metric.
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

__all__ = ["training_curves", "trained_parameters", "vip_fraction"]

#: The per-epoch test metric of a training curve (written by ``Task.epoch_metrics``).
EPOCH_ACCURACY = "test_accuracy_meanfield"


def _numeric(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def training_curves(runs: Sequence) -> dict:
    """The learning curves and final metrics of the runs of one task.

    Args:
        runs: finished :class:`sims.runs.Run` handles of one task, in seed order.

    Returns:
        ``{"task", "n_runs", "runs": [{"seed", "run_dir", "epochs", "test_accuracy",
        "train_loss", "n_epochs", "final_train_loss", "final"}], "final_mean": {key: mean over
        runs}, "final_per_seed": {key: [value per run]}}``, the last two over the numeric final
        metrics every run has.

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
    return {
        "task": runs[0].config["task"],
        "n_runs": len(runs),
        "runs": entries,
        "final_mean": {key: float(np.mean([final[key] for final in finals])) for key in shared},
        "final_per_seed": {key: [final[key] for final in finals] for key in shared},
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
        ``(summary, arrays)``: summary ``{"task", "seed", "run_dir", "vip_fraction_per_seed"}``;
        arrays the blocks of ``params.npz`` by name ("inp.m" … "out.xi").

    Raises:
        FileNotFoundError: a run has not finished (no params.npz).
    """
    summary = {
        "task": run.config["task"],
        "seed": run.config["seed"],
        "run_dir": str(run.directory),
        "vip_fraction_per_seed": [vip_fraction(member.params) for member in ensemble],
    }
    return summary, dict(run.params)
