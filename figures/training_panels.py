"""Panels shared by Fig. 2 (pixel MNIST), Appendix A3 (row MNIST) and the Fashion-MNIST figure:
the ensemble against ordinary BPTT over training, its final accuracies read four ways, and
histograms of its trained π, m and Ξ.

Reads ``results/training_<prefix>.json`` (the ensemble, preset ``paper``),
``results/training_<prefix>_bptt.json`` (the baseline, preset ``bptt``; optional),
``results/comparison_<prefix>.json`` (their paired difference; optional) and
``results/parameters_<prefix>.json/.npz`` (the trained blocks of one ensemble run). Intervals are
the stored 95% t-intervals over seeds (``interval_method`` of the files); with one seed there is
none, and the panels say n = 1.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from figures.resultfiles import read_result
from figures.style import PALETTE, apply_style, save

__all__ = ["CAPTION_COMMON", "draw_training_figure"]

#: What every figure drawn here shows (its first sentence names the task).
CAPTION_COMMON = (
    "(a) Mean-field test accuracy (one ε draw) after each training epoch: the mean over seeds "
    "of the spike-and-slab ensemble (blue) and of ordinary BPTT on the same architecture, "
    "initial m, optimizer and data stream with π = Ξ = 0 frozen (preset bptt, vermillion); the "
    "shaded bands are two-sided 95% t-intervals over seeds (mean ± t(0.975, n − 1)·s/√n), thin "
    "lines the single seeds; with one seed there is no band and the legend says n = 1. (b) "
    "Final test accuracy of the ensemble read four ways — the mean-field pass, the mean network "
    "(ε = 0), per-step sampled weights and quenched sampled networks (one draw per network, "
    "averaged over the sampled networks of each seed) — and of BPTT (whose sampled networks "
    "are its mean network): seed mean with the 95% t-interval over seeds, dots the single "
    "seeds; the title gives the paired difference ensemble − BPTT with its interval. "
    "(c–e) Histograms of the trained spike probability π, slab mean m and slab variance Ξ of "
    "the ensemble's recurrent (blue) and output (orange) layers for one seed (named in (c); log "
    "count axis): mass at π ≈ 0 with Ξ ≈ 0 marks deterministic connections, π ≈ 1 absent ones, "
    "large Ξ variable ones. Epochs are the official ones (a number of minibatches, see "
    "summary.json)."
)

ENSEMBLE_COLOR, BPTT_COLOR = PALETTE["blue"], PALETTE["vermillion"]
#: The four readings of the ensemble's final accuracy: metric key, label, marker.
FINAL_READINGS = (
    ("test_accuracy_meanfield", "mean-field", "o"),
    ("test_accuracy_meanfield_eps0", "mean network\n(ε = 0)", "s"),
    ("test_accuracy_sampled_per_step", "sampled,\nper step", "v"),
    ("test_accuracy_sampled_quenched", "sampled,\nquenched", "^"),
)


def _optional(results: Path, stem: str, schema: str):
    path = Path(results) / f"{stem}.json"
    return read_result(Path(results) / stem, schema).summary if path.is_file() else None


def _n_text(n: int) -> str:
    return "n = 1 seed, no interval" if n == 1 else f"n = {n} seeds, 95% t-interval"


def _curve(ax, training: dict, color: str, label: str) -> int:
    """Seed mean with its band, and the single seeds; returns the last epoch drawn."""
    last = 0
    for run in training["runs"]:
        points = [
            (epoch + 1, 100 * accuracy)
            for epoch, accuracy in zip(run["epochs"], run["test_accuracy"], strict=True)
            if accuracy is not None
        ]
        if points and training["n_runs"] > 1:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, "-", color=color, lw=0.7, alpha=0.35)
        last = max([last, *(x for x, _ in points)])
    curve = training["curve"]
    if not curve["epochs"]:
        return last
    epochs, mean = np.asarray(curve["epochs"]), 100 * np.asarray(curve["mean"], dtype=float)
    ax.plot(
        epochs,
        mean,
        "-",
        color=color,
        lw=2,
        marker="." if len(epochs) < 30 else None,
        label=f"{label} ({_n_text(curve['n'])})",
    )
    if curve["n"] > 1:
        low = 100 * np.asarray(curve["low"], dtype=float)
        high = 100 * np.asarray(curve["high"], dtype=float)
        ax.fill_between(epochs, low, high, color=color, alpha=0.2, lw=0)
    return max(last, int(epochs.max()))


def _accuracy_panel(ax, ensemble: dict, bptt: dict | None, chance: float) -> None:
    last = _curve(ax, ensemble, ENSEMBLE_COLOR, "ensemble, mean-field")
    if bptt is not None:
        last = max(last, _curve(ax, bptt, BPTT_COLOR, "BPTT"))
    else:
        ax.text(0.98, 0.04, "BPTT not trained in this tier", ha="right", transform=ax.transAxes)
    ax.axhline(100 * chance, color="#888888", ls=":", lw=1)
    ax.text(0.2, 100 * chance + 1.5, "chance", color="#666666", fontsize=9)
    ax.set_xlabel("training epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, last + 0.5)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("(a) test accuracy over training", loc="left")


def _final_point(ax, x, interval, per_seed, color, marker) -> None:
    mean = 100 * interval["mean"]
    if interval["low"] is not None:
        error = [[mean - 100 * interval["low"]], [100 * interval["high"] - mean]]
        ax.errorbar(x, mean, yerr=error, fmt=marker, color=color, ms=8, capsize=4, lw=1.5)
    else:
        ax.plot(x, mean, marker, color=color, ms=8)
    if len(per_seed) > 1:
        offsets = np.linspace(-0.12, 0.12, len(per_seed))
        ax.plot(x + 0.25 + offsets, 100 * np.asarray(per_seed), ".", color=color, alpha=0.6)


def _final_panel(ax, ensemble: dict, bptt: dict | None, comparison: dict | None, chance) -> None:
    labels = []
    for k, (key, label, marker) in enumerate(FINAL_READINGS):
        interval = ensemble["final_interval"].get(key)
        if interval is None:
            continue
        per_seed = ensemble["final_per_seed"][key]
        _final_point(ax, k, interval, per_seed, ENSEMBLE_COLOR, marker)
        labels.append((k, label))
    if bptt is not None:
        key = bptt["accuracy_key"]
        k = len(FINAL_READINGS)
        _final_point(
            ax, k, bptt["final_interval"][key], bptt["final_per_seed"][key], BPTT_COLOR, "D"
        )
        labels.append((k, "BPTT"))
    ax.set_xticks([k for k, _ in labels], [label for _, label in labels], fontsize=8)
    ax.set_xlim(-0.5, len(labels) - 0.2)
    ax.axhline(100 * chance, color="#888888", ls=":", lw=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel("final test accuracy (%)")
    title = f"(b) final accuracy ({_n_text(ensemble['n_runs'])})"
    if comparison is not None:
        d = comparison["difference"]
        shown = f"{100 * d['mean']:+.1f}"
        if d["low"] is not None:
            shown += f" [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]"
        title += f"\nensemble − BPTT: {shown} points, {d['n']} seed pair(s)"
    ax.set_title(title, loc="left", fontsize=10)


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


def draw_training_figure(
    results: Path, out: Path, prefix: str, name: str, heading: str, chance: float = 0.1
) -> list[Path]:
    """Draw the figure ``name`` of task ``prefix`` ("pixel", "row", "fashion") into
    ``out/<name>.png/.pdf``; ``heading`` is written above the panels."""
    results = Path(results)
    ensemble = read_result(results / f"training_{prefix}", "training-curves").summary
    bptt = _optional(results, f"training_{prefix}_bptt", "training-curves")
    comparison = _optional(results, f"comparison_{prefix}", "preset-comparison")
    trained = read_result(results / f"parameters_{prefix}", "trained-parameters")
    params, seed = trained.arrays, trained.summary["seed"]
    apply_style()
    fig = plt.figure(figsize=(16, 8.4))
    grid = fig.add_gridspec(2, 6, height_ratios=[1.15, 1])
    _accuracy_panel(fig.add_subplot(grid[0, :4]), ensemble, bptt, chance)
    _final_panel(fig.add_subplot(grid[0, 4:]), ensemble, bptt, comparison, chance)
    _histogram_panel(
        fig.add_subplot(grid[1, 0:2]),
        params,
        "pi",
        rf"(c) spike probability $\pi$ (seed {seed})",
        r"$\pi$ (probability the connection is absent)",
    )
    _histogram_panel(
        fig.add_subplot(grid[1, 2:4]), params, "m", r"(d) slab mean $m$", r"$m$ (weight units)"
    )
    _histogram_panel(
        fig.add_subplot(grid[1, 4:6]),
        params,
        "xi",
        r"(e) slab variance $\Xi$",
        r"$\Xi$ (weight units$^2$)",
    )
    fig.suptitle(heading, x=0.01, ha="left", fontsize=13)
    fig.tight_layout()
    return list(save(fig, Path(out) / name))
