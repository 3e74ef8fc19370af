"""Low-dimensional projections of the neural and synaptic dynamics of a run (docs/model.md §5.2,
Figs. 7–8).

Neural (Fig. 7), states r(t) stacked over time and trials and PCA'd
(:func:`dynamics.neural_trajectory_pca`):

* MNIST (pixel or row): the first ``n_per_digit`` (10) test images of each of the digits 1, 5
  and 9, run through the network with sampled weights (default "per_step": new weights every step,
  the MNIST ``sample_forward`` and the authors' notebook); the sampled accuracy on these digits is
  reported too;
* multisensory: test trials at dt = 0.5 ms of the visual modality at f = 9 … 16 Hz (8 trials,
  3,601 states each, notebook protocol), same default pass.

Synaptic (Fig. 8): PCA of the per-epoch snapshots of the recurrent (m, π, Ξ) flattened together
(:func:`dynamics.synaptic_trajectory_pca`), with the drift velocity and persistence along PC1 and
the mean cosine between successive updates. The headline numbers use each block rescaled to unit
total variance (π, with its larger learning rate, would otherwise dominate by its units); the
unscaled PCA and a PCA of each block alone are reported beside them, and so are two null models
built from the run's own updates, a driftless random walk with the same step sizes and the
updates in shuffled order (:func:`dynamics.projection.synaptic_null_models`).
"""

from __future__ import annotations

import numpy as np

from dynamics.network import SaSNetwork
from dynamics.projection import (
    neural_trajectory_pca,
    synaptic_null_models,
    synaptic_trajectory_pca,
)
from sims.analyses.common import network_pass

__all__ = ["DIGITS", "SYNAPTIC_BLOCKS", "neural_projection", "synaptic_projection"]

#: Digits of the MNIST projection (Fig. 7a).
DIGITS = (1, 5, 9)
#: Parameter blocks of the synaptic PCA (recurrent layer; docs/official-code.md §2 leaves the
#: choice open).
SYNAPTIC_BLOCKS = ("rec.m", "rec.pi", "rec.xi")


def _summary(pca: dict) -> dict:
    ratios = pca["explained_variance_ratio"]
    return {
        "variance_3_pcs": pca["variance_3_pcs"],
        "n_pcs_80": pca["n_pcs_80"],
        "n_pcs_85": pca["n_pcs_85"],
        "explained_variance_ratio_top10": ratios[:10].tolist(),
    }


def neural_projection(
    net: SaSNetwork,
    task,
    seed: int = 0,
    mode: str = "per_step",
    n_per_digit: int = 10,
    digits=DIGITS,
    test_dt: float | None = None,
    n_components: int = 3,
) -> tuple[dict, dict]:
    """Neural-trajectory PCA of a trained network on its task (module docstring).

    Args:
        net, task: the trained network and its task (MNIST or multisensory).
        seed: seeds the weight draws / ε and the MSI input noise.
        mode: network pass (default "per_step" sampled weights).
        n_per_digit, digits: MNIST trial selection (first n test images of each digit).
        test_dt: MSI test step in ms (default 0.5).
        n_components: PCs kept for the saved projections.

    Returns:
        (summary, arrays): summary has variance_3_pcs, n_pcs_80, n_pcs_85,
        explained_variance_ratio_top10, trials, and for MNIST sampled_correct / n_trials;
        arrays has neural_projections (T+1, B, k), neural_explained_variance_ratio,
        neural_trial_labels (digit or frequency per trial).
    """
    rng = np.random.default_rng(seed)
    batch, labels, trials = task.projection_trials(rng, n_per_digit, digits, dt=test_dt)
    z, states = network_pass(
        task.test_network(net, test_dt), batch.x, mode, rng, return_states=True
    )
    extra = {"sampled_correct": int(np.sum(task.correct(z, batch))), "n_trials": int(labels.size)}
    pca = neural_trajectory_pca(states, n_components=n_components)
    summary = {**_summary(pca), **extra, "trials": trials, "mode": mode, "seed": int(seed)}
    arrays = {
        "neural_projections": pca["projections"],
        "neural_explained_variance_ratio": pca["explained_variance_ratio"],
        "neural_trial_labels": np.asarray(labels),
    }
    return summary, arrays


def synaptic_projection(
    snapshots,
    epochs=None,
    blocks=SYNAPTIC_BLOCKS,
    n_components: int = 3,
    seed: int = 0,
    n_null: int = 100,
) -> tuple[dict, dict]:
    """Synaptic-trajectory PCA of per-epoch snapshots, the PC1 drift and its nulls (docs/model.md
    §5.2, Fig. 8; module docstring).

    Args:
        snapshots: {block: (E, ...)} stacked snapshots (:func:`sims.analyses.common.
            stack_snapshots`).
        epochs: (E,) epoch labels (default 0..E-1).
        blocks: the blocks entering the PCA.
        n_components: PCs kept for the saved projections.
        seed: seeds the null replicates.
        n_null: replicates per null model.

    Returns:
        (summary, arrays). Summary, for the block-scaled PCA: variance_3_pcs, n_pcs_80,
        n_pcs_85, explained_variance_ratio_top10, pc1_ratio, drift_persistence,
        mean_successive_cosine; drift_velocity (per saved snapshot) and
        drift_velocity_per_epoch (per training epoch) along the unscaled PC1, in the
        parameters' units; "unscaled" (the same statistics for the PCA in the blocks' own
        units); "per_block" {block: the same for that block alone, None if it never moves};
        "nulls" {random_walk, shuffled: {statistic: mean, low, high}} for the block-scaled
        trajectory; blocks, n_epochs, epoch_range, seed, n_null. Arrays:
        synaptic_projections (E, k), synaptic_epochs, synaptic_explained_variance_ratio.
    """
    n_epochs = next(iter(snapshots.values())).shape[0]
    epochs = np.arange(n_epochs) if epochs is None else np.asarray(epochs)
    pca = synaptic_trajectory_pca(
        snapshots, blocks=list(blocks), n_components=n_components, scale_blocks=True
    )
    per_block = {}
    for block in blocks:
        try:
            per_block[block] = _drift_summary(synaptic_trajectory_pca(snapshots, blocks=[block]))
        except ValueError:  # a block that never moves (e.g. a frozen π) has no trajectory
            per_block[block] = None
    unscaled = synaptic_trajectory_pca(snapshots, blocks=list(blocks))
    summary = {
        **_summary(pca),
        **_drift_summary(pca),
        # velocities in the parameters' own units, from the unscaled PCA
        "drift_velocity": unscaled["drift_velocity"],
        "drift_velocity_per_epoch": float(
            (unscaled["pc1_coordinate"][-1] - unscaled["pc1_coordinate"][0])
            / max(int(epochs[-1] - epochs[0]), 1)
        ),
        "block_scaling": "unit total variance per block",
        "unscaled": _drift_summary(unscaled),
        "per_block": per_block,
        "nulls": synaptic_null_models(pca["matrix"], np.random.default_rng(seed), n_null)
        if n_epochs >= 3
        else None,
        "blocks": list(blocks),
        "n_epochs": int(n_epochs),
        "epoch_range": [int(epochs[0]), int(epochs[-1])],
        "seed": int(seed),
        "n_null": int(n_null),
    }
    arrays = {
        "synaptic_projections": pca["projections"],
        "synaptic_epochs": epochs,
        "synaptic_explained_variance_ratio": pca["explained_variance_ratio"],
    }
    return summary, arrays


def _drift_summary(pca: dict) -> dict:
    """The PCA statistics a null model is compared on."""
    return {
        "pc1_ratio": float(pca["explained_variance_ratio"][0]),
        "variance_3_pcs": pca["variance_3_pcs"],
        "drift_velocity": pca["drift_velocity"],
        "drift_persistence": pca["drift_persistence"],
        "mean_successive_cosine": pca["mean_successive_cosine"],
    }
