"""Appendix A1: check of the analytic kernel against finite networks (docs/model.md §4 Appendix A1).
Reads ``results/kernel_circle.json/.npz``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import COLOR_CYCLE, PALETTE, apply_style, save

NAME = "appendix-kernel"
CAPTION = (
    "Appendix A1. Analytic vs empirical kernel entries. (a) Every entry Θ(x1,x1), Θ(x1,x2), "
    "Θ(x2,x2) over the φ grid (T = 2, α = 0.5): empirical mean over independently initialised "
    "networks (vertical bars: s.d. over networks) against the analytic infinite-width value, one "
    "colour per width N; the black line is y = x. (b) Relative Frobenius error "
    "‖Θ̂ − Θ‖_F/‖Θ‖_F of single networks (mean ± s.d.) and of the network-averaged kernel "
    "against N on log–log axes, with the fitted slope of the single-network error "
    "(−1/2 expected for O(1/√N) fluctuations)."
)


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Appendix A1 into ``out/appendix-kernel.png/.pdf``."""
    circle = read_result(Path(results) / "kernel_circle", "kernel-circle")
    summary, arrays = circle.summary, circle.arrays
    widths = [int(w) for w in summary["widths"]]
    analytic = arrays["analytic"]
    apply_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.8))
    for width, color in zip(widths, COLOR_CYCLE, strict=False):
        empirical = arrays[f"empirical_N{width}"]
        left.errorbar(
            analytic.ravel(),
            empirical.mean(0).ravel(),
            yerr=empirical.std(0).ravel(),
            fmt="o",
            ms=3,
            color=color,
            alpha=0.7,
            elinewidth=0.6,
            label=f"N = {width} ({empirical.shape[0]} networks)",
        )
    low, high = float(analytic.min()), float(analytic.max())
    pad = 0.05 * (high - low)
    left.plot(
        [low - pad, high + pad],
        [low - pad, high + pad],
        color=PALETTE["black"],
        lw=1.2,
        label="y = x",
    )
    left.set_xlabel("analytic RNTK entry (a.u.)")
    left.set_ylabel("empirical kernel entry (a.u.)")
    left.legend(fontsize=9)
    left.set_title("(a) analytic vs empirical entries", loc="left")

    per_width = summary["per_width"]
    single = np.array([per_width[str(w)]["per_network_error_mean"] for w in widths])
    single_sd = np.array([per_width[str(w)]["per_network_error_std"] for w in widths])
    averaged = np.array([per_width[str(w)]["mean_relative_error"] for w in widths])
    right.errorbar(
        widths,
        single,
        yerr=single_sd,
        fmt="-o",
        color=COLOR_CYCLE[0],
        capsize=3,
        label="single network",
    )
    right.plot(widths, averaged, "-s", color=COLOR_CYCLE[1], label="network-averaged kernel")
    slope = summary.get("slope_per_network_error")
    if slope is not None:
        right.text(
            0.05,
            0.08,
            f"fitted slope (single network): {slope:.2f}",
            transform=right.transAxes,
            fontsize=10,
        )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("width N (units)")
    right.set_ylabel("relative Frobenius error")
    right.legend(fontsize=9)
    right.set_title("(b) kernel error vs width", loc="left")
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
