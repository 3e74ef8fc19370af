"""Which networks of a trained ensemble work? Quenched against annealed sampling (beyond the
paper).

A single network sampled once from the trained ensemble ("quenched", one weight draw for the
whole test set) can fail where new weights at every step ("per_step", annealed) and the
mean-field pass succeed. To find what breaks the single networks, the same trained ensemble is
evaluated with its slab variances scaled, Ξ → s Ξ for s in ``xi_factors`` (every layer), and its
spike probabilities kept or set to 0 (π → 0: every connection present, the mean becomes m):

- if quenched accuracy recovers as s → 0 with π kept, the slab noise Ξ, frozen for T steps,
  breaks the single networks;
- if it recovers only with π = 0, the frozen dropout pattern of the spikes does.

Comparing tasks of different length (row-MNIST, T = 28; pixel-MNIST, T = 784) shows how the
failure grows with the sequence length. Every accuracy of one analysis uses the same evaluation
seed (common random numbers), so differences between cells reflect the change of the ensemble.
"""

from __future__ import annotations

import numpy as np

from dynamics.network import SaSNetwork
from sims.evaluate import classification_accuracy

__all__ = ["PI_MODES", "XI_FACTORS", "quenched_analysis"]

#: Factors s of Ξ → s Ξ.
XI_FACTORS = (0.0, 0.25, 0.5, 1.0)
#: "kept": the trained π; "zero": π = 0 on every connection that is not structurally absent.
PI_MODES = ("kept", "zero")
#: The readings compared (sims.evaluate.EVALUATION_MODES).
READINGS = ("quenched", "per_step", "meanfield")


def modified_network(net: SaSNetwork, xi_factor: float, pi_mode: str) -> SaSNetwork:
    """A copy of ``net`` with Ξ → xi_factor · Ξ and, for ``pi_mode`` "zero", π → 0 (structural
    absences keep π = 1)."""
    if pi_mode not in PI_MODES:
        raise ValueError(f"pi_mode={pi_mode!r} is unknown; choose one of {PI_MODES}.")
    if not xi_factor >= 0:
        raise ValueError(f"xi_factor={xi_factor} must be >= 0.")
    copy = net.copy()
    for layer in copy.layers().values():
        layer.xi[...] *= xi_factor
        if pi_mode == "zero":
            keep = np.zeros(layer.pi.shape, bool) if layer.absent is None else layer.absent
            layer.pi[~keep] = 0.0
    return copy


def quenched_analysis(
    net: SaSNetwork,
    task,
    seed: int = 0,
    xi_factors=XI_FACTORS,
    pi_modes=PI_MODES,
    n_networks: int = 10,
    max_samples: int | None = None,
) -> tuple[dict, dict]:
    """Test accuracies of a classification task's trained ensemble read three ways, over a grid
    of modified ensembles (module docstring).

    Args:
        net, task: the trained network and its (MNIST) task.
        seed: the evaluation seed, replayed for every cell.
        xi_factors: factors s of Ξ.
        pi_modes: "kept" and/or "zero".
        n_networks: sampled networks (quenched) and sampled passes (per step) per cell.
        max_samples: use only the first test samples (None: the whole test set).

    Returns:
        (summary, arrays): summary {"cells": [{"xi_factor", "pi_mode", "<reading>_mean",
        "<reading>_std" (over the sampled networks or passes; 0 for "meanfield")}], "n_networks",
        "seed", "n_steps"}; arrays "<reading>" of shape (len(pi_modes), len(xi_factors),
        n_networks) (mean-field: one value, repeated).
    """
    if int(n_networks) < 1:
        raise ValueError(f"n_networks={n_networks} must be >= 1.")
    shape = (len(pi_modes), len(xi_factors), int(n_networks))
    arrays = {reading: np.empty(shape) for reading in READINGS}
    cells = []
    for i, pi_mode in enumerate(pi_modes):
        for j, factor in enumerate(xi_factors):
            ensemble = modified_network(net, float(factor), pi_mode)
            rng = np.random.default_rng(seed)  # common random numbers across cells
            cell = {"xi_factor": float(factor), "pi_mode": pi_mode}
            for reading in READINGS:
                draws = 1 if reading == "meanfield" else int(n_networks)
                values = [
                    classification_accuracy(
                        ensemble, task, mode=reading, rng=rng, max_samples=max_samples
                    )
                    for _ in range(draws)
                ]
                arrays[reading][i, j] = values if draws > 1 else values[0]
                cell[f"{reading}_mean"] = float(np.mean(values))
                cell[f"{reading}_std"] = float(np.std(values))
            cells.append(cell)
    summary = {
        "cells": cells,
        "xi_factors": [float(f) for f in xi_factors],
        "pi_modes": list(pi_modes),
        "n_networks": int(n_networks),
        "seed": int(seed),
    }
    return summary, arrays
