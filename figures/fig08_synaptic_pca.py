"""Fig. 8: low-dimensional projection of the synaptic dynamics (docs/model.md §4 Fig. 8, §5.2).
Reads ``results/synaptic_row.json/.npz`` and ``results/synaptic_msi.json/.npz`` (the first
analysed run of each task) and ``results/synaptic_seeds.json`` (every analysed run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import PALETTE, SEQUENTIAL_CMAP, apply_style, save

NAME = "fig8"
CAPTION = (
    "Fig. 8. Synaptic dynamics on a low-dimensional manifold. The recurrent hyper-parameters "
    "(m, π, Ξ), each block rescaled to unit total variance and flattened together, are saved "
    "after every epoch (row-by-row MNIST) or iteration (MSI) and projected on their principal "
    "components; the panels draw the first seed. (a, c) Trajectory in the (PC1, PC2) plane "
    "coloured by training time. (b, d) PC1 coordinate against training time with its "
    "least-squares line. The panels give the top-3 variance, the drift persistence along PC1 "
    "(fraction of steps moving in the net direction) and the mean cosine between successive "
    "updates, each beside its null: the 95% range of a driftless random walk with the run's own "
    "step sizes (RW) and of the run's updates in shuffled order (shuf). A value inside the RW "
    "range is what undirected steps would give; a random walk's PC1 persistence is itself near "
    "1. The last line counts, over every analysed seed, the runs above their own RW range."
)


def _plane_panel(ax, fig, arrays, title, unit):
    points, epochs = arrays["synaptic_projections"], arrays["synaptic_epochs"]
    ratios = arrays["synaptic_explained_variance_ratio"]
    ax.plot(points[:, 0], points[:, 1], color="#999999", lw=0.8, zorder=1)
    dots = ax.scatter(points[:, 0], points[:, 1], c=epochs, cmap=SEQUENTIAL_CMAP, s=14, zorder=2)
    ax.scatter(
        *points[0, :2], marker="^", s=70, color=PALETTE["vermillion"], zorder=3, label="initial"
    )
    bar = fig.colorbar(dots, ax=ax)
    bar.set_label(f"training {unit}")
    ax.set_xlabel(f"PC1 ({100 * ratios[0]:.0f}% var.)")
    ax.set_ylabel(f"PC2 ({100 * ratios[1]:.0f}% var.)")
    ax.legend(fontsize=9, loc="best")
    ax.set_title(title, loc="left")


def _drift_panel(ax, summary, seeds, arrays, title, unit):
    points, epochs = arrays["synaptic_projections"], arrays["synaptic_epochs"]
    ax.plot(epochs, points[:, 0], "o", ms=3, color=PALETTE["blue"], label="PC1 coordinate")
    slope, intercept = np.polyfit(epochs, points[:, 0], 1)
    ax.plot(
        epochs,
        slope * epochs + intercept,
        color=PALETTE["vermillion"],
        label=f"linear fit: {slope:.3g} per {unit}",
    )
    ax.set_xlabel(f"training {unit}")
    ax.set_ylabel("PC1 coordinate (block-scaled units)")
    text = f"{_against_nulls(summary)}\n{_seeds_above_null(seeds)}"
    ax.text(0.03, 0.05, text, transform=ax.transAxes, fontsize=8)
    ax.legend(fontsize=9, loc="upper left")
    ax.set_title(title, loc="left")


def _against_nulls(summary) -> str:
    """One line per statistic: the run's value, then each null's 95% range."""
    nulls = summary.get("nulls") or {}
    lines = []
    for key, label, scale in (
        ("variance_3_pcs", "top-3 PCs", 100),
        ("drift_persistence", "persistence", 1),
        ("mean_successive_cosine", "successive cos", 1),
    ):
        value = summary.get(key)
        if value is None:
            continue
        ranges = [
            f"{short} {scale * nulls[name][key]['low']:.2f}–{scale * nulls[name][key]['high']:.2f}"
            for name, short in (("random_walk", "RW"), ("shuffled", "shuf"))
            if name in nulls
        ]
        lines.append(f"{label} {scale * value:.2f}" + (f" ({', '.join(ranges)})" if ranges else ""))
    return "\n".join(lines)


def _seeds_above_null(seeds) -> str:
    """How many of the analysed seeds lie above the 97.5th percentile of their random walk."""
    counts = ", ".join(
        f"{label} {seeds[key]['random_walk']['n_above_high']}"
        for key, label in (
            ("variance_3_pcs", "top-3"),
            ("drift_persistence", "persistence"),
            ("mean_successive_cosine", "cos"),
        )
    )
    return f"above RW in {counts} of {seeds['n_seeds']} seed(s)"


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 8 into ``out/fig8.png/.pdf``."""
    apply_style()
    seeds = read_result(Path(results) / "synaptic_seeds", "over-seeds").summary
    fig, axes = plt.subplots(1, 4, figsize=(21, 4.4))
    for (stem, name, task, unit), pair, letters in (
        (("synaptic_row", "row_mnist", "row-by-row MNIST", "epoch"), axes[:2], "ab"),
        (("synaptic_msi", "msi", "MSI", "iteration"), axes[2:], "cd"),
    ):
        result = read_result(Path(results) / stem, "synaptic-projection")
        summary, arrays = result.summary, result.arrays
        _plane_panel(pair[0], fig, arrays, f"({letters[0]}) {task}: PC1–PC2", unit)
        title = f"({letters[1]}) {task}: drift along PC1"
        _drift_panel(pair[1], summary, seeds[name], arrays, title, unit)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
