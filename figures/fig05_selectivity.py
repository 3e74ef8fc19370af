"""Fig. 5: emergent single-unit selectivity in the trained MSI network, beside its nulls
(docs/model.md §4 Fig. 5). Reads ``results/selectivity.json/.npz`` (sims.analyses.selectivity)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from figures.resultfiles import read_result
from figures.style import PALETTE, apply_style, save

NAME = "fig5"
CAPTION = (
    "Fig. 5. Emergent neural selectivity (MSI, seed 0) and its nulls. Responses r_{i,s} are "
    "trial-averaged rates over the stimulus + decision window of test trials at dt = 0.5 ms "
    "(mean-field pass) under N_s = 4 conditions: visual 14 Hz, visual 11 Hz, auditory 14 Hz, "
    "auditory 11 Hz; raw rates, no baseline subtraction. (a) Distribution of the selectivity "
    "index SLI = [1 − (Σ_s r_s/N_s)² / (Σ_s r_s²/N_s)] / (1 − 1/N_s) over units of the trained "
    "network and of the same network untrained (epoch 0, same trials and noise draws), dashed "
    "lines their means; the band is the 95% range of the mean SLI when the condition labels are "
    "shuffled across trials; p: Wilcoxon's signed-rank test, trained against untrained. (b) "
    "Fraction of units per class: mixed (2–3 conditions reach half the unit's peak response), "
    "uni-selective (exactly one) and non-selective (silent, SLI < 0.1 or all four); trained and "
    "untrained networks, and the shuffled null (violin, mean and 95% range); p_sh: two-sided "
    "permutation test against the shuffles, p_un: McNemar's exact test against the untrained "
    "network (paired by unit). (c) Class counts of the trained network per input group (auditory "
    "units 0–49, visual 50–99, no sensory input 100–149). (d–f) Rate traces of the example unit "
    "of each class (the one with the largest peak response) under the four conditions: visual "
    "blue, auditory green, 14 Hz dashed, 11 Hz solid; dotted lines mark the response window."
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


NETWORKS = (
    ("trained", PALETTE["reddish_purple"]),
    ("untrained", PALETTE["sky_blue"]),
    ("shuffled", "#888888"),
)


def _key(name: str) -> str:
    return name.replace("-", "_")


def _sli_panel(ax, summary, arrays):
    bins = np.linspace(0, 1, 21)
    sli = {"trained": arrays["sli"], "untrained": arrays["sli_untrained"]}
    statistics = summary["null"]["statistics"]["mean_sli"]
    for name, color in NETWORKS[:2]:
        ax.hist(sli[name], bins=bins, histtype="step", lw=1.8, color=color, label=name)
        ax.axvline(np.mean(sli[name]), color=color, ls="--", lw=1.2)
    low, high = statistics["shuffled_95"]
    ax.axvspan(low, high, color=NETWORKS[2][1], alpha=0.3, label="shuffled: 95% of mean SLI")
    ax.set_xlabel("selectivity index SLI")
    ax.set_ylabel("number of units")
    ax.legend(fontsize=9, title=f"trained vs untrained: p = {statistics['p_untrained']:.2g}")
    ax.set_title("(a) SLI over units (dashed: means)", loc="left")


def _fractions_panel(ax, summary, arrays):
    statistics = summary["null"]["statistics"]
    x = np.arange(len(CLASSES))
    width = 0.26
    for k, (name, _) in enumerate(CLASSES):
        entry = statistics[name]
        ax.bar(x[k] - width, entry["trained"], width, color=NETWORKS[0][1])
        ax.bar(x[k], entry["untrained"], width, color=NETWORKS[1][1])
        null = arrays[f"null_{_key(name)}"]
        parts = ax.violinplot(null, [x[k] + width], widths=width, showextrema=False)
        for body in parts["bodies"]:
            body.set_facecolor(NETWORKS[2][1])
            body.set_alpha(0.6)
        low, high = entry["shuffled_95"]
        ax.errorbar(
            x[k] + width,
            entry["shuffled_mean"],
            [[entry["shuffled_mean"] - low], [high - entry["shuffled_mean"]]],
            fmt="o",
            color=PALETTE["black"],
            ms=4,
            capsize=3,
        )
        top = max(entry["trained"], entry["untrained"], high)
        ax.text(
            x[k],
            top + 0.03,
            f"p_sh = {entry['p_shuffled']:.2g}\np_un = {entry['p_untrained']:.2g}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    handles = [plt.Rectangle((0, 0), 1, 1, color=color) for _, color in NETWORKS]
    ax.legend(handles, [name for name, _ in NETWORKS], fontsize=9, loc="upper right")
    ax.set_xticks(x, [name for name, _ in CLASSES])
    ax.set_ylim(0, 1.18)
    ax.set_ylabel("fraction of units")
    n = summary["null"]["n_permutations"]
    ax.set_title(f"(b) classes: trained, untrained, {n} shuffles", loc="left")


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
    ax.set_title("(c) trained classes per input group", loc="left")


def _trace_panel(ax, arrays, summary, name, letter):
    unit = summary["example_units"].get(name)
    key = f"example_traces_{_key(name)}"
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
    fig, axes = plt.subplots(2, 3, figsize=(18, 9))
    _sli_panel(axes[0, 0], summary, arrays)
    _fractions_panel(axes[0, 1], summary, arrays)
    _counts_panel(axes[0, 2], summary)
    for ax, (name, _), letter in zip(axes[1], CLASSES, "def", strict=True):
        _trace_panel(ax, arrays, summary, name, letter)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
