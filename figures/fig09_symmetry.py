"""Fig. 9: symmetry breaking in parameter space, row-by-row (28×28) MNIST (docs/model.md §4 Fig. 9,
§5.4).
Reads ``results/symmetry_row.json/.npz`` (sims.analyses.symmetry of the first run's snapshots) and
``results/symmetry_seeds.json`` (the ordering of every run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors

from figures.resultfiles import read_result
from figures.style import PALETTE, SEQUENTIAL_CMAP, apply_style, save

NAME = "fig9"
CAPTION = (
    "Fig. 9. Symmetry breaking in the recurrent layer of row-by-row (28×28) MNIST trained from "
    "an intermediate spike probability π₀ in every layer (given in (a); from the paper's "
    "π₀ = 0 the spike entropy can only rise), first seed, off-diagonal connections. (a) Order "
    "parameters against epoch: the mean Gaussian slab "
    "entropy ⟨S_Ξ⟩ = ⟨½ ln(2πeΞ)⟩ (continuous symmetry, left axis) and the mean Bernoulli "
    "entropy ⟨S_π⟩ (discrete symmetry, right axis); dashed verticals mark each break epoch "
    "(first epoch half-way from the initial to the final value), dotted ones each ordering "
    "epoch (first epoch half-way from the initial value to the minimum, after a fall of at "
    "least 0.05 nats). (b) Fraction of collapsed "
    "slabs (Ξ at or below the 1e-4 floor) and of undecided spikes (0.05 < π < 0.95). "
    "(c, d) Histograms of π and of log10 Ξ at every saved epoch (colour: connections per "
    "bin, log scale). The verdict 'first to order' names the part with the earlier ordering "
    "epoch (or the only part that ordered); the title of (a) gives it for the drawn seed and "
    "counts it over every seed, with the seed mean and 95% t-interval of the difference of "
    "ordering epochs (discrete − continuous; a part that never ordered placed one epoch past "
    "the last)."
)


def _over_seeds(seeds) -> str:
    """The first-to-order verdicts of every seed and the ordering-epoch difference."""
    counts = ", ".join(f"{k} {v}" for k, v in seeds["verdict_counts"].items() if v)
    difference = seeds["discrete_minus_continuous"]
    shown = f"{difference['mean']:.1f}"
    if difference["low"] is not None:
        shown += f" [{difference['low']:.1f}, {difference['high']:.1f}]"
    return f"{seeds['n_seeds']} seed(s): {counts}; discrete − continuous epoch {shown}"


def _order_panel(ax, summary, seeds):
    rec, epochs = summary["layers"]["rec"], np.asarray(summary["epochs"])
    order = rec["order_parameters"]
    ax.plot(
        epochs,
        order["xi_mean_entropy"],
        "-o",
        ms=3,
        color=PALETTE["blue"],
        label=r"$\langle S_\Xi\rangle$ (continuous)",
    )
    ax.set_xlabel("training epoch")
    ax.set_ylabel(r"slab entropy $\langle S_\Xi\rangle$ (nats)", color=PALETTE["blue"])
    twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    twin.plot(
        epochs,
        order["pi_mean_entropy"],
        "-s",
        ms=3,
        color=PALETTE["vermillion"],
        label=r"$\langle S_\pi\rangle$ (discrete)",
    )
    twin.set_ylabel(r"Bernoulli entropy $\langle S_\pi\rangle$ (nats)", color=PALETTE["vermillion"])
    for key, color, name, style in (
        ("continuous_break_epoch", PALETTE["blue"], "Ξ break", "--"),
        ("discrete_break_epoch", PALETTE["vermillion"], "π break", "--"),
        ("continuous_order_epoch", PALETTE["blue"], "Ξ orders", ":"),
        ("discrete_order_epoch", PALETTE["vermillion"], "π orders", ":"),
    ):
        if rec[key] is not None:
            ax.axvline(rec[key], color=color, ls=style, lw=1.2, label=f"{name}: epoch {rec[key]}")
    lines = ax.get_legend_handles_labels()
    twin_lines = twin.get_legend_handles_labels()
    ax.legend(lines[0] + twin_lines[0], lines[1] + twin_lines[1], fontsize=8, loc="center right")
    ax.set_title(
        f"(a) π₀ = {seeds['initial_pi'][0]['rec']:g}; first to order: {rec['first_to_order']}\n"
        f"{_over_seeds(seeds)}",
        loc="left",
        fontsize=10,
    )


def _fraction_panel(ax, summary):
    order, epochs = summary["layers"]["rec"]["order_parameters"], summary["epochs"]
    ax.plot(
        epochs,
        order["xi_fraction_collapsed"],
        "-o",
        ms=3,
        color=PALETTE["blue"],
        label=r"collapsed slabs ($\Xi \leq 10^{-4}$)",
    )
    ax.plot(
        epochs,
        order["pi_fraction_undecided"],
        "-s",
        ms=3,
        color=PALETTE["vermillion"],
        label=r"undecided spikes ($0.05 < \pi < 0.95$)",
    )
    ax.set_xlabel("training epoch")
    ax.set_ylabel("fraction of connections")
    ax.legend(fontsize=9)
    ax.set_title("(b) fractions", loc="left")


def _histogram_panel(ax, fig, counts, edges, epochs, label, title):
    counts = np.asarray(counts, dtype=float)
    norm = colors.LogNorm(vmin=1, vmax=max(np.nanmax(counts), 2))
    image = ax.pcolormesh(
        edges,
        np.append(epochs, epochs[-1] + 1) - 0.5,
        counts,
        cmap=SEQUENTIAL_CMAP,
        norm=norm,
        shading="flat",
    )
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("connections per bin")
    ax.set_xlabel(label)
    ax.set_ylabel("training epoch")
    ax.set_title(title, loc="left")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 9 into ``out/fig9.png/.pdf``."""
    symmetry = read_result(Path(results) / "symmetry_row", "symmetry")
    seeds = read_result(Path(results) / "symmetry_seeds", "over-seeds").summary
    summary, arrays = symmetry.summary, symmetry.arrays
    epochs = np.asarray(arrays["epochs"], dtype=float)
    apply_style()
    fig, axes = plt.subplots(1, 4, figsize=(22, 4.4))
    _order_panel(axes[0], summary, seeds)
    _fraction_panel(axes[1], summary)
    _histogram_panel(
        axes[2],
        fig,
        np.where(arrays["rec_pi_counts"] > 0, arrays["rec_pi_counts"], np.nan),
        arrays["rec_pi_edges"],
        epochs,
        r"spike probability $\pi$",
        r"(c) histogram of $\pi$ over epochs",
    )
    _histogram_panel(
        axes[3],
        fig,
        np.where(arrays["rec_log10_xi_counts"] > 0, arrays["rec_log10_xi_counts"], np.nan),
        arrays["rec_log10_xi_edges"],
        epochs,
        r"$\log_{10}\Xi$ (Ξ in weight units$^2$)",
        r"(d) histogram of $\log_{10}\Xi$ over epochs",
    )
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
