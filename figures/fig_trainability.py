"""Trainability figure: the best initial gain per π₀ row against the quiescent-state boundary,
read in g and in g_eff (docs/model.md §5.9). Reads ``DIR/trainability.json`` (schema
"trainability", written by ``sasrnn trainability``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_json
from figures.style import COLOR_CYCLE, apply_style, save

NAME = "trainability"
CAPTION = (
    "Where training works best in the initial plane (g, π₀) at ξ₀ = 0. (a) The metric after "
    "training against the initial gain g: the map's seed means (thin lines), and the refined "
    "cells (best map cell and its neighbours) as mean and 95% t-interval over seeds (dots: "
    "single seeds); dashed verticals: the theory's boundary g_c(π₀) of sampled networks. (b) The "
    "same against g_eff = sqrt((1 − π₀)(g² + ξ₀)); dashed: the boundary g_eff,c. (c) The best g* "
    "and g*_eff per row with 95% bootstrap intervals over seeds, the boundary in g (curve) and in "
    "g_eff (line). (d) The best cell against the preset's own recurrent initialisation trained "
    "with the same seeds (mean and 95% t-interval). The verdict and its rule are in the title."
)


def draw(path: str | Path, out: str | Path) -> tuple[Path, Path]:
    """Draw ``path`` (a trainability.json or its directory) to ``out.png/.pdf``."""
    path = Path(path)
    if path.is_dir():
        path = path / "trainability.json"
    result = read_json(path, "trainability")
    apply_style()
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2), constrained_layout=True)
    xi = float(result["theory"]["xi"])
    grid = result["map_grid"]
    for index, row in enumerate(result["rows"]):
        color = COLOR_CYCLE[index % len(COLOR_CYCLE)]
        pi = float(row["pi"])
        label = f"π₀ = {pi:g}"
        for ax, to_x in ((axes[0], lambda g: g), (axes[1], lambda g, pi=pi: _g_eff(g, pi, xi))):
            map_g = np.asarray(grid["g"], dtype=float)
            ax.plot(to_x(map_g), np.asarray(grid["mean"][index], dtype=float), color=color, lw=0.8)
            _refined(ax, to_x(np.asarray(row["g"], dtype=float)), row, color, label)
        axes[0].axvline(row["g_c"], color=color, ls="--", lw=1)
    axes[1].axvline(result["theory"]["g_eff_c"][0], color="k", ls="--", lw=1, label="g_eff,c")
    for ax, name in ((axes[0], "initial gain g"), (axes[1], "initial g_eff")):
        ax.set_xlabel(name)
        ax.set_ylabel(result["metric"].replace("_", " "))
    axes[0].legend(fontsize=8)
    _best_panel(axes[2], result)
    _reference_panel(axes[3], result)
    for ax, letter in zip(axes, "abcd", strict=True):
        ax.set_title(f"({letter})", loc="left")
    distance, slope = result["distance_difference"], result["slope"]
    fig.suptitle(
        f"{result['verdict']}: D = {distance['value']:.3g} [{distance['ci'][0]:.3g}, "
        f"{distance['ci'][1]:.3g}], β = {slope['value']:.3g} [{slope['ci'][0]:.3g}, "
        f"{slope['ci'][1]:.3g}] (seeds {len(result['seeds'])}, {result['n_boot']} resamples)",
        fontsize=10,
    )
    return save(fig, out)


def _g_eff(g, pi, xi):
    return np.sqrt((1.0 - pi) * (np.asarray(g, dtype=float) ** 2 + xi))


def _refined(ax, x, row, color, label):
    per_seed = np.asarray(row["per_seed"], dtype=float)
    mean = np.asarray(row["mean"], dtype=float)
    ci = np.asarray(row["ci"], dtype=float)
    ax.errorbar(
        x,
        mean,
        yerr=[mean - ci[:, 0], ci[:, 1] - mean],
        fmt="o",
        color=color,
        capsize=3,
        label=label,
    )
    for position, values in zip(x, per_seed, strict=True):
        ax.plot(np.full(values.size, position), values, ".", color=color, alpha=0.4, ms=4)


def _best_panel(ax, result):
    pis = np.array([row["pi"] for row in result["rows"]], dtype=float)
    for key, marker, name in (("best_g", "o", "g*"), ("best_g_eff", "s", "g*_eff")):
        values = np.array([row[key] for row in result["rows"]], dtype=float)
        ci = np.array([row[f"{key}_ci"] for row in result["rows"]], dtype=float)
        ax.errorbar(
            pis,
            values,
            yerr=[values - ci[:, 0], ci[:, 1] - values],
            fmt=marker,
            capsize=3,
            label=name,
        )
    fine = np.linspace(pis.min(), pis.max(), 100)
    g_eff_c = result["theory"]["g_eff_c"][0]
    ax.plot(
        fine,
        np.sqrt(g_eff_c**2 / (1.0 - fine) - result["theory"]["xi"]),
        "k--",
        lw=1,
        label="boundary in g",
    )
    ax.axhline(g_eff_c, color="k", ls=":", lw=1, label="boundary in g_eff")
    ax.set_xlabel("π₀")
    ax.set_ylabel("best initial gain")
    ax.legend(fontsize=8)


def _reference_panel(ax, result):
    pis = np.array([row["pi"] for row in result["rows"]], dtype=float)
    best = [
        row["mean"][int(np.argmin(np.abs(np.asarray(row["g"]) - row["best_g"])))]
        for row in result["rows"]
    ]
    best_ci = [
        row["ci"][int(np.argmin(np.abs(np.asarray(row["g"]) - row["best_g"])))]
        for row in result["rows"]
    ]
    preset = [row["preset_init"]["mean"] for row in result["rows"]]
    preset_ci = [row["preset_init"]["ci"] for row in result["rows"]]
    for values, ci, name, offset in (
        (best, best_ci, "best g*", -0.01),
        (preset, preset_ci, "preset init", 0.01),
    ):
        values, ci = np.asarray(values, dtype=float), np.asarray(ci, dtype=float)
        ax.errorbar(
            pis + offset,
            values,
            yerr=[values - ci[:, 0], ci[:, 1] - values],
            fmt="o",
            capsize=3,
            label=name,
        )
    ax.set_xlabel("π₀")
    ax.set_ylabel(result["metric"].replace("_", " "))
    ax.legend(fontsize=8)
