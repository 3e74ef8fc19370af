"""Fig. 3: the multisensory-integration task and the trained networks' behaviour (docs/model.md
§3.3,
§4 Fig. 3). Reads ``results/msi_example.npz`` and ``results/psychometric.json``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from figures.resultfiles import read_result
from figures.style import PALETTE, apply_style, save

NAME = "fig3"
CAPTION = (
    "Fig. 3. Multisensory integration. (a) One training trial (multisensory, 14 Hz, dt = 20 ms): "
    "the five input channels (visual/auditory positively and negatively tuned, START cue; all "
    "with baseline 0.2 and input noise), the two target outputs and the loss mask (grey: "
    "epochs that enter the loss; the 2.5 s padding is unconstrained). (b) Psychometric curves: "
    "percentage of 'high' choices against event rate for visual-only (v), auditory-only (a) and "
    "multisensory (va) test trials at dt = 0.5 ms; points are the mean ± s.d. over trained "
    "seeds, lines cumulative Gaussians Φ((f − μ)/σ) fitted by binomial maximum likelihood to the "
    "choice counts pooled over seeds, shaded the pointwise 95% band of the curves refitted to "
    "their parametric-bootstrap replicates (σ with its 95% bootstrap interval in the "
    "legend; a smaller σ is a steeper curve; a step-like curve, with no intermediate "
    "proportion, has no fitted σ and the legend gives the upper bound its counts allow). "
    "(c, d) Mean-field outputs z_0 ('high') and z_1 "
    "('low') of seed 0 on one multisensory 14 Hz (c) and one 11 Hz (d) test trial; dotted "
    "lines mark the fixation, stimulus and decision epochs; the choice is read at the end."
)

CHANNELS = (
    ("V+", PALETTE["blue"], "-"),
    ("A+", PALETTE["bluish_green"], "-"),
    ("V−", PALETTE["blue"], "--"),
    ("A−", PALETTE["bluish_green"], "--"),
    ("START", PALETTE["black"], "-"),
)
MODALITY_STYLE = {
    "v": (PALETTE["blue"], "o", "visual (v)"),
    "a": (PALETTE["bluish_green"], "s", "auditory (a)"),
    "va": (PALETTE["vermillion"], "^", "multisensory (va)"),
}


def _shade_mask(ax, time, mask):
    step = time[1] - time[0] if time.size > 1 else 1.0
    for t, m in zip(time, mask, strict=True):
        if m > 0:
            ax.axvspan(t, t + step, color="#DDDDDD", lw=0, zorder=0)


def _task_panel(ax_in, ax_target, example):
    time, x = example["train_time_ms"], example["train_x"]
    for k, (label, color, style) in enumerate(CHANNELS):
        ax_in.plot(time, x[:, k], color=color, ls=style, lw=1.2, label=label)
    ax_in.set_ylabel("input (a.u.)")
    ax_in.set_ylim(0, 1.75)
    ax_in.legend(ncol=5, fontsize=8, loc="upper right")
    ax_in.set_title("(a) task: one multisensory 14 Hz training trial", loc="left")
    _shade_mask(ax_target, time, example["train_mask"])
    ax_target.plot(
        time,
        example["train_target"][:, 0],
        color=PALETTE["vermillion"],
        label="target z$_0$ (high)",
    )
    ax_target.plot(
        time,
        example["train_target"][:, 1],
        color=PALETTE["sky_blue"],
        ls="--",
        label="target z$_1$ (low)",
    )
    ax_target.set_xlabel("time (ms)")
    ax_target.set_ylabel("target (a.u.)")
    ax_target.set_ylim(0, 1.2)
    ax_target.legend(fontsize=8, loc="upper left")


def _fit_label(label, fit) -> str:
    """σ with its 95% bootstrap interval, or the upper bound of a step-like curve."""
    if fit["sigma"] is None:
        bound = fit.get("sigma_upper")
        return (
            f"{label}: step-like, σ ≤ {bound:.2f} Hz"
            if bound is not None
            else f"{label}: step-like"
        )
    low, high = fit.get("sigma_ci") or (float("nan"), float("nan"))
    return f"{label}: σ = {fit['sigma']:.2f} [{low:.2f}, {high:.2f}] Hz"


def _psychometric_panel(ax, psy):
    freqs = np.asarray(psy["frequencies"], dtype=float)
    fine = np.linspace(freqs.min() - 0.5, freqs.max() + 0.5, 300)
    for modality, (color, marker, label) in MODALITY_STYLE.items():
        mean = 100 * np.asarray(psy["mean"][modality], dtype=float)
        std = 100 * np.asarray(psy["std"][modality], dtype=float)
        fit = psy["fit"][modality]
        ax.errorbar(
            freqs,
            mean,
            yerr=std,
            fmt=marker,
            color=color,
            capsize=3,
            ms=6,
            label=_fit_label(label, fit),
        )
        if fit["sigma"] is not None:  # a step-like curve has no fitted σ to draw
            ax.plot(fine, 100 * norm.cdf((fine - fit["mu"]) / fit["sigma"]), color=color, lw=1.5)
        band = fit.get("band")
        if band is not None:
            ax.fill_between(
                band["frequencies"],
                100 * np.asarray(band["low"]),
                100 * np.asarray(band["high"]),
                color=color,
                alpha=0.2,
                lw=0,
            )
    ax.axvline(12.5, color="#888888", ls=":", lw=1)
    ax.set_xlabel("event rate (Hz)")
    ax.set_ylabel("choices 'high' (%)")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=9, loc="upper left")
    n = int(psy["n_seeds"])
    ax.set_title(f"(b) psychometric curves ({n} seed{'s' * (n > 1)})", loc="left")


def _output_panel(axes, example):
    time = example["test_time_ms"]
    trials = (
        ("z_high", float(example["high_frequency"])),
        ("z_low", float(example["low_frequency"])),
    )
    for ax, (key, frequency), letter in zip(axes, trials, ("c", "d"), strict=True):
        z = example[key]
        ax.plot(time, z[:, 0], color=PALETTE["vermillion"], lw=1, label="z$_0$ ('high')")
        ax.plot(time, z[:, 1], color=PALETTE["sky_blue"], lw=1, label="z$_1$ ('low')")
        for edge in np.asarray(example["test_epoch_edges_ms"], dtype=float):
            ax.axvline(edge, color="#888888", ls=":", lw=1)
        ax.set_ylabel("output z (a.u.)")
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(
            f"({letter}) outputs, va test trial at {frequency:g} Hz", loc="left", fontsize=11
        )
    axes[-1].set_xlabel("time (ms)")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 3 into ``out/fig3.png/.pdf``."""
    example = read_result(Path(results) / "msi_example", "msi-example").arrays
    psy = read_result(Path(results) / "psychometric", "psychometric").summary
    apply_style()
    fig = plt.figure(figsize=(16, 4.8))
    grid = fig.add_gridspec(2, 3, width_ratios=[1.3, 1, 1])
    ax_in = fig.add_subplot(grid[0, 0])
    ax_target = fig.add_subplot(grid[1, 0], sharex=ax_in)
    _task_panel(ax_in, ax_target, example)
    _psychometric_panel(fig.add_subplot(grid[:, 1]), psy)
    ax_high = fig.add_subplot(grid[0, 2])
    _output_panel([ax_high, fig.add_subplot(grid[1, 2], sharex=ax_high, sharey=ax_high)], example)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
