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
(:func:`dynamics.synaptic_trajectory_pca`), with the drift velocity and persistence along PC1.
"""

from __future__ import annotations

import numpy as np

from dynamics.network import SaSNetwork
from dynamics.projection import neural_trajectory_pca, synaptic_trajectory_pca
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
    snapshots: dict, epochs=None, blocks=SYNAPTIC_BLOCKS, n_components: int = 3
) -> tuple[dict, dict]:
    """Synaptic-trajectory PCA of per-epoch snapshots and the PC1 drift (docs/model.md §5.2, Fig.
    8).

    Args:
        snapshots: {block: (E, ...)} stacked snapshots (:func:`sims.analyses.common.
            stack_snapshots`).
        epochs: (E,) epoch labels (default 0..E-1).
        blocks: the blocks entering the PCA.
        n_components: PCs kept for the saved projections.

    Returns:
        (summary, arrays): summary has variance_3_pcs, n_pcs_80, n_pcs_85,
        explained_variance_ratio_top10, drift_velocity (PC1 units per saved snapshot),
        drift_velocity_per_epoch (per training epoch), drift_persistence, blocks, n_epochs;
        arrays has synaptic_projections (E, k), synaptic_epochs, synaptic_explained_variance_ratio.
    """
    n_epochs = next(iter(snapshots.values())).shape[0]
    epochs = np.arange(n_epochs) if epochs is None else np.asarray(epochs)
    pca = synaptic_trajectory_pca(snapshots, blocks=list(blocks), n_components=n_components)
    summary = {
        **_summary(pca),
        "drift_velocity": pca["drift_velocity"],
        "drift_velocity_per_epoch": float(
            (pca["pc1_coordinate"][-1] - pca["pc1_coordinate"][0])
            / max(int(epochs[-1] - epochs[0]), 1)
        ),
        "drift_persistence": pca["drift_persistence"],
        "blocks": list(blocks),
        "n_epochs": int(n_epochs),
        "epoch_range": [int(epochs[0]), int(epochs[-1])],
    }
    arrays = {
        "synaptic_projections": pca["projections"],
        "synaptic_epochs": epochs,
        "synaptic_explained_variance_ratio": pca["explained_variance_ratio"],
    }
    return summary, arrays
