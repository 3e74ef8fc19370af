"""Fig. 2: pixel-by-pixel MNIST: accuracy over training and the trained hyper-parameters
(docs/model.md §4 Fig. 2). Reads ``results/training_pixel.json`` (per-epoch and final test
accuracies of every pixel-MNIST run) and ``results/parameters_pixel.json/.npz`` (the trained
blocks of one run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import COLOR_CYCLE, PALETTE, apply_style, save

NAME = "fig2"
CAPTION = (
    "Fig. 2. Pixel-by-pixel MNIST (T = 784 steps, N = 100). (a) Test accuracy of the mean-field "
    "ensemble (one ε draw) against training epoch for every trained seed; the markers at the "
    "right give the final accuracies of the mean-field pass, the mean network (ε = 0), quenched "
    "sampled networks (mean ± s.d. over draws) and per-step sampled weights. (b–d) Histograms "
    "of the trained spike probability π, slab mean m and slab variance Ξ of the recurrent "
    "(blue) and output (orange) layers of one seed (named in (b); seed 0 in a reproduction; log "
    "count axis); mass at π ≈ 0 with Ξ ≈ 0 marks deterministic connections, π ≈ 1 absent "
    "ones, large Ξ variable ones. Settings (epochs, batches, training subset) are those of the "
    "training runs (see summary.json)."
)

FINAL_KEYS = (
    ("test_accuracy_meanfield", None, "mean-field", "o"),
    ("test_accuracy_meanfield_eps0", None, r"mean network ($\epsilon$=0)", "s"),
    (
        "test_accuracy_sampled_quenched",
        "test_accuracy_sampled_quenched_std",
        "sampled (quenched)",
        "^",
    ),
    (
        "test_accuracy_sampled_per_step",
        "test_accuracy_sampled_per_step_std",
        "sampled (per step)",
        "v",
    ),
)


def _accuracy_panel(ax, runs):
    """Per-epoch curves and final accuracies of ``runs`` (entries of training_pixel's "runs";
    "epochs" are metrics.json's 0-based epoch indices, drawn as epochs trained, index + 1)."""
    last_epoch = 1
    for k, run in enumerate(runs):
        measured = [
            (epoch + 1, 100 * accuracy)
            for epoch, accuracy in zip(run["epochs"], run["test_accuracy"], strict=True)
            if accuracy is not None
        ]
        if run["epochs"]:  # the final accuracies are measured after the last epoch
            last_epoch = max(last_epoch, max(run["epochs"]) + 1)
        if measured:
            xs, ys = zip(*measured, strict=True)
            ax.plot(
                xs,
                ys,
                "-",
                color=COLOR_CYCLE[0],
                alpha=0.5 + 0.5 / (k + 1),
                lw=1.5,
                marker="." if len(xs) < 30 else None,
                label="mean-field, per epoch" if k == 0 else None,
            )
    finals = [run["final"] for run in runs]
    for j, (key, std_key, label, marker) in enumerate(FINAL_KEYS):
        values = [f[key] for f in finals if f.get(key) is not None]
        if not values:
            continue
        if len(values) > 1:
            spread = np.std(values)
        else:  # one seed: the spread over sampled draws, where the metrics give one
            spread = (finals[0].get(std_key) if std_key else None) or 0.0
        ax.errorbar(
            last_epoch * (1.04 + 0.03 * j),
            100 * np.mean(values),
            yerr=100 * spread,
            fmt=marker,
            color=COLOR_CYCLE[j + 1],
            capsize=3,
            label=f"final: {label}",
        )
    ax.set_xlabel("training epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.axhline(10, color="#888888", ls=":", lw=1)
    ax.text(1, 12, "chance", color="#666666", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"(a) test accuracy ({len(runs)} seed{'s' * (len(runs) > 1)})", loc="left")


def _histogram_panel(ax, params, parameter, title, xlabel):
    """Histograms of block ``parameter`` ("m", "pi" or "xi") of the rec and out layers."""
    for layer, color in (("rec", PALETTE["blue"]), ("out", PALETTE["orange"])):
        values = np.asarray(params[f"{layer}.{parameter}"], dtype=float).ravel()
        low, high = float(values.min()), float(values.max())
        bins = np.linspace(low, high if high > low else low + 1e-6, 41)
        ax.hist(values, bins=bins, color=color, alpha=0.6, label=f"{layer} layer")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of connections")
    ax.legend(fontsize=9)
    ax.set_title(title, loc="left")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 2 from the pixel-MNIST results of ``results`` into ``out/fig2.png/.pdf``."""
    runs = read_result(Path(results) / "training_pixel", "training-curves").summary["runs"]
    trained = read_result(Path(results) / "parameters_pixel", "trained-parameters")
    params, seed = trained.arrays, trained.summary["seed"]
    apply_style()
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2), gridspec_kw={"width_ratios": [1.4, 1, 1, 1]})
    _accuracy_panel(axes[0], runs)
    _histogram_panel(
        axes[1],
        params,
        "pi",
        rf"(b) spike probability $\pi$ (seed {seed})",
        r"$\pi$ (probability the connection is absent)",
    )
    _histogram_panel(axes[2], params, "m", r"(c) slab mean $m$", r"$m$ (weight units)")
    _histogram_panel(axes[3], params, "xi", r"(d) slab variance $\Xi$", r"$\Xi$ (weight units$^2$)")
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
