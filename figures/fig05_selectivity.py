"""Fig. 5: emergent single-unit selectivity in the trained MSI network (docs/model.md §4 Fig. 5).
Reads ``results/selectivity.json/.npz`` (sims.analyses.selectivity)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import PALETTE, apply_style, save

NAME = "fig5"
CAPTION = (
    "Fig. 5. Emergent neural selectivity (MSI, seed 0). Responses r_{i,s} are trial-averaged "
    "rates over the stimulus + decision window of test trials at dt = 0.5 ms (mean-field pass) "
    "under N_s = 4 conditions: visual 14 Hz, visual 11 Hz, auditory 14 Hz, auditory 11 Hz. "
    "(a) Distribution of the selectivity index SLI = [1 − (Σ_s r_s/N_s)² / (Σ_s r_s²/N_s)] / "
    "(1 − 1/N_s), stacked by class: mixed (2–3 conditions reach half the unit's peak response), "
    "uni-selective (exactly one) and non-selective (silent, SLI < 0.1 or all four). (b) Class "
    "counts per input group (auditory units 0–49, visual 50–99, no sensory input 100–149). "
    "(c–e) Rate traces of the example unit of each class (the one with the largest peak "
    "response) under the four conditions: visual blue, auditory green, 14 Hz dashed, 11 Hz "
    "solid; dotted lines mark the epoch boundaries."
)

CLASSES = (
    ("mixed", PALETTE["vermillion"]),
    ("uni-selective", PALETTE["blue"]),
    ("non-selective", PALETTE["black"]),
)
CONDITION_STYLE = {
    "visual_14Hz": (PALETTE["blue"], "--", "visual 14 Hz"),
    "visual_11Hz": (PALETTE["blue"], "-", "visual 11 Hz"),
    "auditory_14Hz": (PALETTE["bluish_green"], "--", "auditory 14 Hz"),
    "auditory_11Hz": (PALETTE["bluish_green"], "-", "auditory 11 Hz"),
}
GROUPS = ("auditory", "visual", "neither")


def _sli_panel(ax, summary):
    sli = np.asarray(summary["sli"], dtype=float)
    labels = np.asarray(summary["labels"])
    bins = np.linspace(0, 1, 21)
    stacks = [np.nan_to_num(sli[labels == name]) for name, _ in CLASSES]
    ax.hist(
        stacks,
        bins=bins,
        stacked=True,
        color=[c for _, c in CLASSES],
        label=[f"{name} ({np.sum(labels == name)})" for name, _ in CLASSES],
    )
    ax.set_xlabel("selectivity index SLI")
    ax.set_ylabel("number of units")
    ax.legend(fontsize=9)
    ax.set_title("(a) SLI over units", loc="left")


def _counts_panel(ax, summary):
    counts = summary["counts"]
    x = np.arange(len(GROUPS))
    width = 0.26
    for k, (name, color) in enumerate(CLASSES):
        ax.bar(
            x + (k - 1) * width,
            [counts.get(g, {}).get(name, 0) for g in GROUPS],
            width,
            color=color,
            label=name,
        )
    ax.set_xticks(x, ["auditory\n(0–49)", "visual\n(50–99)", "none\n(100–149)"])
    ax.set_xlabel("input group (units)")
    ax.set_ylabel("number of units")
    ax.legend(fontsize=9)
    ax.set_title("(b) classes per input group", loc="left")


def _trace_panel(ax, arrays, summary, name, letter):
    unit = summary["example_units"].get(name)
    key = f"example_traces_{name.replace('-', '_')}"
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate r (a.u.)")
    if unit is None or key not in arrays:
        ax.text(
            0.5,
            0.5,
            f"no {name} unit in this network",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_title(f"({letter}) {name}", loc="left")
        return
    traces, time = arrays[key], arrays["time_ms"]
    for s, condition in enumerate(summary["conditions"]):
        color, style, label = CONDITION_STYLE[condition]
        ax.plot(time, traces[:, s], color=color, ls=style, lw=1.3, label=label)
    for edge in summary["window_ms"]:
        ax.axvline(edge, color="#888888", ls=":", lw=1)
    sli = summary["sli"][unit]
    ax.set_title(f"({letter}) {name}: unit {unit} (SLI = {sli:.2f})", loc="left")
    ax.legend(fontsize=8, loc="upper left")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 5 into ``out/fig5.png/.pdf``."""
    selectivity = read_result(Path(results) / "selectivity", "selectivity")
    summary, arrays = selectivity.summary, selectivity.arrays
    apply_style()
    fig, axes = plt.subplots(1, 5, figsize=(23, 4.4))
    _sli_panel(axes[0], summary)
    _counts_panel(axes[1], summary)
    for ax, (name, _), letter in zip(axes[2:], CLASSES, "cde", strict=True):
        _trace_panel(ax, arrays, summary, name, letter)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
