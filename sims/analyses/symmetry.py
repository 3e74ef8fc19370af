"""Symmetry breaking of the slab (Ξ, continuous) and spike (π, discrete) parts over training
(docs/model.md §5.4, Fig. 9), from a run's per-epoch snapshots.

For every layer (inp, rec with the diagonal excluded, out) the order parameters and break epochs of
:func:`dynamics.symmetry_breaking_summary` (break = first epoch halfway from the initial to the
final value; representatives ⟨S_Ξ⟩ and ⟨S_π⟩ decide which part breaks first), and the per-epoch
histograms of π and log10 Ξ (:func:`dynamics.parameter_histograms`). A layer whose π or Ξ never
moves (e.g. the deterministic pixel-MNIST input, the frozen MSI input) reports ``None`` break
epochs and "undetermined".

The verdict "first_to_order" is :func:`dynamics.symmetry.first_to_order`: each part's entropy
representative orders when it has fallen halfway from its initial value to its minimum;
"continuous", "discrete", "simultaneous" or "none", and "not testable" when π starts at 0 or 1
(the paper's MNIST presets: ⟨S_π⟩ starts at 0 and can only rise). Start runs from
``init.<layer>.pi = 0.5`` or ``"uniform"`` to test it. "first_to_break" (halfway in either
direction, :func:`dynamics.break_epoch`) is kept beside it. The net change of each representative
is reported as "continuous_entropy_change" / "discrete_entropy_change".
"""

from __future__ import annotations

import numpy as np

from dynamics.symmetry import first_to_order, parameter_histograms, symmetry_breaking_summary

__all__ = ["LAYERS", "symmetry_analysis"]

LAYERS = ("inp", "rec", "out")


def symmetry_analysis(
    snapshots: dict, epochs=None, layers=LAYERS, n_pi_bins: int = 20, n_xi_bins: int = 30
) -> tuple[dict, dict]:
    """Order parameters, break epochs and histograms per layer (module docstring).

    Args:
        snapshots: {"<layer>.pi": (E, n_post, n_pre), "<layer>.xi": ...} stacked snapshots.
        epochs: (E,) epoch labels (default 0..E-1).
        layers: layers to analyse.
        n_pi_bins, n_xi_bins: histogram bins.

    Returns:
        (summary, arrays). summary: epochs, and per layer {"break_epochs": {name: epoch},
        "continuous_break_epoch", "discrete_break_epoch", "first_to_break", "first_to_order",
        "continuous_entropy_change", "discrete_entropy_change", "order_parameters":
        {name: [E values]}}; plus "first_to_break" and "first_to_order" of the recurrent layer
        at the top level.
        arrays: "<layer>_pi_counts" (E, bins), "<layer>_log10_xi_counts", the bin edges, epochs.
    """
    some = next(iter(snapshots.values()))
    epochs = np.arange(some.shape[0]) if epochs is None else np.asarray(epochs)
    summary = {"epochs": epochs.tolist(), "layers": {}}
    arrays = {"epochs": epochs}
    for layer in layers:
        pi, xi = snapshots[f"{layer}.pi"], snapshots[f"{layer}.xi"]
        square = layer == "rec" and pi.shape[-1] == pi.shape[-2]
        result = symmetry_breaking_summary(pi, xi, epochs=epochs, exclude_diagonal=square)
        order = result["order_parameters"]
        change = {
            part: float(order[name][-1] - order[name][0])
            for part, name in (
                ("continuous", result["continuous_representative"]),
                ("discrete", result["discrete_representative"]),
            )
        }
        ordering = first_to_order(
            order[result["continuous_representative"]],
            order[result["discrete_representative"]],
            epochs,
        )
        summary["layers"][layer] = {
            "first_to_order": ordering["verdict"],
            "continuous_order_epoch": ordering["continuous_epoch"],
            "discrete_order_epoch": ordering["discrete_epoch"],
            "continuous_entropy_change": change["continuous"],
            "discrete_entropy_change": change["discrete"],
            "break_epochs": result["break_epochs"],
            "continuous_break_epoch": result["continuous_break_epoch"],
            "discrete_break_epoch": result["discrete_break_epoch"],
            "first_to_break": result["first_to_break"],
            "exclude_diagonal": square,
            "order_parameters": {k: v.tolist() for k, v in result["order_parameters"].items()},
        }
        hist = parameter_histograms(pi, xi, n_pi_bins, n_xi_bins, exclude_diagonal=square)
        for key in ("pi_edges", "pi_counts", "log10_xi_edges", "log10_xi_counts"):
            arrays[f"{layer}_{key}"] = hist[key]
    summary["representatives"] = {
        "continuous": result["continuous_representative"],
        "discrete": result["discrete_representative"],
    }
    if "rec" in summary["layers"]:
        summary["first_to_break"] = summary["layers"]["rec"]["first_to_break"]
        summary["first_to_order"] = summary["layers"]["rec"]["first_to_order"]
    return summary, arrays
