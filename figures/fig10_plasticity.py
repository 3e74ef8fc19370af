"""Fig. 10: the role of stochastic plasticity (docs/model.md §4 Fig. 10, §5.3, §5.5).
Reads ``results/entropy_msi.json`` and ``results/toy.json``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import PALETTE, apply_style, save

NAME = "fig10"
CAPTION = (
    "Fig. 10. Stochastic plasticity. (a, b) Entropy of the SaS weight ensemble of MSI networks "
    "against training iteration, mean and 95% t-interval of the mean (bands) over "
    "independently trained networks, for "
    "the recurrent layer (off-diagonal) and the output layer: (a) Entropy I, the full-mixture "
    "entropy estimated by Monte Carlo (δ regularised as N(0, 1e-4)); (b) Entropy II = ⟨S_π⟩ + "
    "⟨S_Ξ⟩. A network that stops early (train MSE ≤ 0.002) keeps its final ensemble, which "
    "stays in the average. (c–e) Toy model "
    "(one leaky unit, N SaS synapses, sine target; mean ± s.d. over runs): (c) loss (ε = 0), "
    "(d) forward mean part |G| against variance part |Δ|, (e) gradient mean part "
    "|(1−π)x/√N| against variance part |μπx²/(NΔ)|, all time-averaged per epoch."
)


def _band(ax, x, mean, std, color, label, style="-"):
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    ax.plot(x, mean, style, color=color, lw=1.6, label=label)
    ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.25, lw=0)


def _entropy_panel(ax, aggregate, key, title):
    epochs = np.asarray(aggregate["epochs"], dtype=float)
    for layer, color in (("rec", PALETTE["blue"]), ("out", PALETTE["orange"])):
        values = aggregate["layers"][layer][key]
        mean = np.asarray(values["mean"], dtype=float)
        ax.plot(epochs, mean, color=color, lw=1.6, label=f"{layer} layer")
        if "low" in values:  # the 95% interval of the mean over networks
            ax.fill_between(epochs, values["low"], values["high"], color=color, alpha=0.25, lw=0)
    ax.set_xlabel("training iteration")
    ax.set_ylabel("entropy per connection (nats)")
    ax.legend(fontsize=9)
    n_runs = max(aggregate["n_runs"])
    ax.set_title(f"{title} ({n_runs} networks)", loc="left")


def _toy_panel(ax, curves, pairs, ylabel, title, log=True):
    epochs = np.arange(1, len(next(iter(curves.values()))["mean"]) + 1)
    for key, color, label, style in pairs:
        _band(ax, epochs, curves[key]["mean"], curves[key]["std"], color, label, style)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("training epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=9)
    ax.set_title(title, loc="left")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 10 into ``out/fig10.png/.pdf``."""
    aggregate = read_result(Path(results) / "entropy_msi", "entropy").summary["aggregate"]
    toy = read_result(Path(results) / "toy", "toy").summary
    curves = toy["curves"]
    apply_style()
    fig, axes = plt.subplots(1, 5, figsize=(25, 4.3))
    _entropy_panel(axes[0], aggregate, "entropy_one", "(a) Entropy I")
    _entropy_panel(axes[1], aggregate, "entropy_two", "(b) Entropy II")
    runs = f"{toy['n_runs']} runs, N = {toy['n_synapses']}"
    _toy_panel(
        axes[2],
        curves,
        [("loss", PALETTE["black"], "loss", "-")],
        "loss Σ_t ½(r − y)² (a.u.)",
        f"(c) toy loss ({runs})",
    )
    _toy_panel(
        axes[3],
        curves,
        [
            ("forward_mean", PALETTE["blue"], "mean part |G|", "-"),
            ("forward_std", PALETTE["vermillion"], "variance part |Δ|", "--"),
        ],
        "forward signal (a.u.)",
        "(d) toy forward parts",
    )
    _toy_panel(
        axes[4],
        curves,
        [
            ("gradient_mean_part", PALETTE["blue"], "mean part", "-"),
            ("gradient_variance_part", PALETTE["vermillion"], "variance part", "--"),
        ],
        "gradient magnitude (a.u.)",
        "(e) toy gradient parts",
    )
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
