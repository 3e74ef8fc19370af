"""Fig. 6: the lazy-learning regime, analytic SaS RNTK vs finite networks (docs/model.md §4 Fig. 6,
§5.1).
Reads ``results/kernel_circle.json/.npz`` and ``results/kernel_curves.json/.npz``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import COLOR_CYCLE, apply_style, save

NAME = "fig6"
CAPTION = (
    "Fig. 6. Lazy regime. (a) Entries of the recurrent neural tangent kernel for the two input "
    "sequences x1 = (1, −1) and x2 = (cos φ, sin φ) (T = 2, α = 0.5, σ's = 1, SaS readout) "
    "against the angle φ: analytic infinite-width RNTK (lines) and empirical kernels of "
    "independently initialised finite networks (mean ± s.d. over networks, markers) at the "
    "largest simulated width N. (b, c) Learning curves on MNIST 0/1 (rows as time steps, "
    "α = 1, full-batch gradient descent on ½Σ(f − y)², η = 1e-3): training (b) and test (c) "
    "loss per sample against epoch (log2 axis) for simulated NTK-parameterised networks (BPTT, "
    "solid, mean over networks), the closed-form RNTK prediction from the same initial "
    "outputs (dashed) and each network linearised around its own initial empirical kernel "
    "(dotted: the gap to dashed is the finite-N kernel, the gap to solid is feature learning) "
    "at several widths N, all three the mean over the width's networks. The gap between solid "
    "and dashed over the first 20% of the epochs, per width with its 95% interval over the "
    "networks, is the early gap of the kernel-curves result."
)

ENTRIES = (
    (0, r"$\Theta(x_1, x_1)$", "o"),
    (1, r"$\Theta(x_1, x_2)$", "s"),
    (2, r"$\Theta(x_2, x_2)$", "^"),
)


def _circle_panel(ax, summary, arrays):
    widths = [int(w) for w in summary["widths"]]
    width = max(widths)
    phis, analytic = arrays["phis"], arrays["analytic"]
    empirical = arrays[f"empirical_N{width}"]
    for (k, label, marker), color in zip(ENTRIES, COLOR_CYCLE, strict=False):
        ax.plot(phis / np.pi, analytic[:, k], color=color, lw=1.8, label=f"{label} analytic")
        ax.errorbar(
            phis / np.pi,
            empirical[:, :, k].mean(0),
            yerr=empirical[:, :, k].std(0),
            fmt=marker,
            color=color,
            ms=4,
            capsize=2,
            mfc="none",
            label=f"{label} empirical",
        )
    ax.set_xlabel(r"input angle $\phi$ ($\pi$ rad)")
    ax.set_ylabel("kernel entry (a.u.)")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(f"(a) RNTK vs φ: N = {width}, {empirical.shape[0]} networks", loc="left")


def _curve_panel(ax, summary, arrays, split, letter):
    widths = [int(w) for w in summary["widths"]]
    epochs = np.asarray(arrays["epochs"], dtype=float)
    n = summary["n_train"] if split == "train" else summary["n_test"]
    keep = epochs >= 1
    for width, color in zip(widths, COLOR_CYCLE, strict=False):
        simulated = arrays[f"{split}_loss_N{width}"].mean(0) / n
        lazy = arrays[f"{split}_loss_lazy_N{width}"].mean(0) / n
        ax.plot(epochs[keep], simulated[keep], color=color, lw=1.8, label=f"BPTT, N = {width}")
        ax.plot(epochs[keep], lazy[keep], color=color, lw=1.5, ls="--", label=f"RNTK, N = {width}")
        linearised = arrays.get(f"{split}_loss_linearised_N{width}")
        if linearised is not None:
            ax.plot(
                epochs[keep],
                linearised.mean(0)[keep] / n,
                color=color,
                lw=1.2,
                ls=":",
                label=f"linearised at own Θ̂₀, N = {width}",
            )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("epoch (full-batch GD step)")
    ax.set_ylabel(f"{split} loss per sample ½(f − y)²")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(
        f"({letter}) {split} loss, {summary['n_train']} train / {summary['n_test']} test digits",
        loc="left",
    )


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 6 into ``out/fig6.png/.pdf``."""
    circle = read_result(Path(results) / "kernel_circle", "kernel-circle")
    curves = read_result(Path(results) / "kernel_curves", "kernel-curves")
    apply_style()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    _circle_panel(axes[0], circle.summary, circle.arrays)
    _curve_panel(axes[1], curves.summary, curves.arrays, "train", "b")
    _curve_panel(axes[2], curves.summary, curves.arrays, "test", "c")
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
