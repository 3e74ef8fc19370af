"""Entropy of the weight ensemble over training (docs/model.md §5.5, Fig. 10 (i)).

Per run: the layer-averaged Entropy I (Monte Carlo over ``n_draws`` = 1000 standard normals,
the same draws at every epoch, drawn from ``seed``) and Entropy II = ⟨S_π⟩ + ⟨S_Ξ⟩ at every saved
epoch (``stride`` thins them) for the recurrent layer (off-diagonal entries) and the output layer,
as in ``sub_tasks.py`` §6 (:func:`dynamics.entropy_trajectory`).

Across runs (seeds): :func:`aggregate_entropy` gives mean ± std per epoch over the runs that reached
that epoch (runs that stopped early, e.g. by the MSI early-stopping rule, drop out; ``n_runs``
per epoch is reported).
"""

from __future__ import annotations

import numpy as np

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
    """Mean ± std over runs of the per-epoch entropies of :func:`entropy_analysis`.

    Epochs are aligned by label; an epoch missing from a run (it stopped earlier or saved a
    different stride) is left out of that epoch's statistics.

    Args:
        results: a sequence of :func:`entropy_analysis` outputs (one per run).

    Returns:
        (summary, arrays): summary {"epochs": [...], "n_runs": [...], "layers": {layer: {key:
        {"mean": [...], "std": [...]}}}}; arrays "<layer>_<key>" (n_runs, E) with NaN where a
        run has no value, and "epochs".

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
            count = np.sum(np.isfinite(table), axis=0)
            with np.errstate(invalid="ignore"):
                mean = np.nanmean(table, axis=0)
                std = np.nanstd(table, axis=0)
            summary["layers"][layer][key] = {"mean": mean.tolist(), "std": std.tolist()}
            arrays[f"{layer}_{key}"] = table
    summary["n_runs"] = count.tolist()
    return summary, arrays
