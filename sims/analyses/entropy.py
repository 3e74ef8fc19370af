"""Entropy of the weight ensemble over training (docs/model.md §5.5, Fig. 10 (i)).

Per run: the layer-averaged Entropy I (Monte Carlo over ``n_draws`` = 1000 standard normals,
the same draws at every epoch, drawn from ``seed``) and Entropy II = ⟨S_π⟩ + ⟨S_Ξ⟩ at every saved
epoch (``stride`` thins them) for the recurrent layer (off-diagonal entries) and the output layer,
as in ``sub_tasks.py`` §6 (:func:`dynamics.entropy_trajectory`).

Across runs (seeds): :func:`aggregate_entropy` gives, per epoch, the mean, the standard deviation
and the 95% t-interval of the mean over every run. A run that stopped early (the MSI early-stop
rule) keeps its final parameters from then on, so its final value is carried forward: no run drops
out, and late epochs average the same set of networks as early ones. ``n_stopped`` per epoch
counts the runs whose value there is carried.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dynamics.entropy import DEFAULT_N_DRAWS, entropy_trajectory

__all__ = ["ENTROPY_KEYS", "ENTROPY_LAYERS", "aggregate_entropy", "entropy_analysis"]

ENTROPY_LAYERS = ("rec", "out")
ENTROPY_KEYS = ("entropy_one", "entropy_two", "bernoulli_entropy", "slab_entropy")


def entropy_analysis(
    snapshots: dict,
    epochs=None,
    seed: int = 0,
    n_draws: int = DEFAULT_N_DRAWS,
    layers=ENTROPY_LAYERS,
) -> dict:
    """Entropy I and II per saved epoch for each layer of one run.

    Args:
        snapshots: {"<layer>.m"/".pi"/".xi": (E, n_post, n_pre)} stacked snapshots.
        epochs: (E,) epoch labels (default 0..E-1).
        seed: seeds the Monte Carlo draws z of Entropy I.
        n_draws: number of draws (1000 officially).
        layers: layers to analyse (the recurrent diagonal is excluded).

    Returns:
        {"epochs": [E], "layers": {layer: {key: [E values]}} for key in ENTROPY_KEYS,
         "n_draws", "seed", "exclude_diagonal": {layer: bool}}.
    """
    some = next(iter(snapshots.values()))
    epochs = np.arange(some.shape[0]) if epochs is None else np.asarray(epochs)
    z = np.random.default_rng(seed).standard_normal(int(n_draws))
    out = {
        "epochs": epochs.tolist(),
        "layers": {},
        "n_draws": int(n_draws),
        "seed": int(seed),
        "exclude_diagonal": {},
    }
    for layer in layers:
        m, pi, xi = (snapshots[f"{layer}.{p}"] for p in ("m", "pi", "xi"))
        square = layer == "rec" and m.shape[-1] == m.shape[-2]
        trajectory = entropy_trajectory(m, pi, xi, z, exclude_diagonal=square)
        out["layers"][layer] = {key: trajectory[key].tolist() for key in ENTROPY_KEYS}
        out["exclude_diagonal"][layer] = square
    return out


def aggregate_entropy(results) -> tuple[dict, dict]:
    """Mean, std and 95% interval over runs of the per-epoch entropies of
    :func:`entropy_analysis` (module docstring).

    Epochs are aligned by label. After a run's last saved epoch its final value is carried
    forward (it stopped training, so its ensemble stays as it was); an epoch missing inside a
    run's range (another stride) stays NaN and is left out of that epoch's statistics.

    Args:
        results: a sequence of :func:`entropy_analysis` outputs (one per run).

    Returns:
        (summary, arrays): summary {"epochs": [...], "n_runs": [...], "n_stopped": [...],
        "layers": {layer: {key: {"mean", "std", "low", "high"}}}} with [low, high] the 95%
        t-interval of the mean (equal to the mean for one run); arrays "<layer>_<key>"
        (n_runs, E) with the carried values, and "epochs".

    Raises:
        ValueError: no results, or runs that disagree on the layers.
    """
    results = list(results)
    if not results:
        raise ValueError("aggregate_entropy needs at least one run's entropy result")
    layers = list(results[0]["layers"])
    if any(list(r["layers"]) != layers for r in results):
        raise ValueError("the runs' entropy results cover different layers")
    epochs = np.unique(np.concatenate([np.asarray(r["epochs"]) for r in results]))
    position = {int(e): k for k, e in enumerate(epochs)}
    last = np.array([position[int(r["epochs"][-1])] for r in results])
    stopped = np.arange(epochs.size)[None, :] > last[:, None]  # (runs, E): value carried
    summary = {"epochs": epochs.tolist(), "layers": {}}
    arrays = {"epochs": epochs}
    count = None
    for layer in layers:
        summary["layers"][layer] = {}
        for key in ENTROPY_KEYS:
            table = np.full((len(results), epochs.size), np.nan)
            for row, result in enumerate(results):
                columns = [position[int(e)] for e in result["epochs"]]
                table[row, columns] = result["layers"][layer][key]
                table[row, last[row] + 1 :] = table[row, last[row]]
            count = np.sum(np.isfinite(table), axis=0)
            summary["layers"][layer][key] = _mean_interval(table, count)
            arrays[f"{layer}_{key}"] = table
    summary["n_runs"] = count.tolist()
    summary["n_stopped"] = np.sum(stopped, axis=0).tolist()
    return summary, arrays


def _mean_interval(table, count) -> dict:
    """Per column: mean, std (ddof 0) and the 95% t-interval of the mean over the finite rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(table, axis=0)
        std = np.nanstd(table, axis=0)
        sem = np.nanstd(table, axis=0, ddof=1) / np.sqrt(count)
        half = np.where(count > 1, stats.t.ppf(0.975, np.maximum(count - 1, 1)) * sem, 0.0)
    return {
        "mean": mean.tolist(),
        "std": std.tolist(),
        "low": (mean - half).tolist(),
        "high": (mean + half).tolist(),
    }
