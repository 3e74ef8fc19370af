"""Fig. 4: trained MSI hyper-parameters and the very important connections (docs/model.md §4
Fig. 4). Reads ``results/parameters_msi.json/.npz`` (the trained blocks of one MSI run) and
``results/vip.json/.npz`` (the VIP analysis of that run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors

from figures.resultfiles import read_result
from figures.style import DIVERGING_CMAP, PALETTE, SEQUENTIAL_CMAP, apply_style, save

NAME = "fig4"
CAPTION = (
    "Fig. 4. Hyper-parameters of a trained MSI network (the seed is named in (a); seed 0 in a "
    "reproduction) and the very important "
    "connections (VIPs). (a–c) Heat maps of the recurrent slab mean m, spike probability π and "
    "slab variance Ξ (postsynaptic unit i by presynaptic unit j; units 0–49 receive auditory, "
    "50–99 visual, 100–149 no sensory input). (d) Target removal: task accuracy at dt = 0.5 ms "
    "(mean-field pass unless the title says otherwise) after setting π = 1 for a fraction p of "
    "the VIPs (π ≤ 0.1, Ξ < 0.1, |m| > 0.08; vermillion) or, as controls, for the same number "
    "of recurrent connections chosen otherwise: the non-VIPs of largest mean weight |μ| "
    "(purple), uniformly drawn non-VIPs (blue), uniformly drawn connections of any kind (green). "
    "Every test batch has its own removal draw; points and bars are the mean ± s.d. over the "
    "test batches, i.e. over removal draws, all networks seeing the same test noise. The grey "
    "band is the intact network's mean ± s.d. over the same batches (test noise alone). The VIP "
    "fraction of the recurrent weights is given in the panel (all seeds in summary.json); "
    "chance is 50%."
)


def _heat(ax, fig, values, title, cmap, norm, label):
    image = ax.imshow(values, cmap=cmap, norm=norm, interpolation="nearest", aspect="equal")
    ax.set_xlabel("presynaptic unit j")
    ax.set_ylabel("postsynaptic unit i")
    ax.set_title(title, loc="left")
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label(label)


#: The removal curves of panel (d): colour, marker and label.
_CURVES = {
    "vip": (PALETTE["vermillion"], "o", "VIPs"),
    "magnitude": (PALETTE["reddish_purple"], "D", "strongest non-VIPs (by |μ|)"),
    "random": (PALETTE["blue"], "s", "random non-VIPs"),
    "uniform": (PALETTE["bluish_green"], "^", "random, any connection"),
}


def _removal_panel(ax, vip):
    p = 100 * np.asarray(vip["fractions"], dtype=float)
    intact, spread = 100 * vip["accuracy_intact"], 100 * vip["accuracy_intact_std"]
    ax.axhspan(intact - spread, intact + spread, color="#dddddd", lw=0, label="intact ± s.d.")
    curves = [curve for curve in _CURVES if curve in vip["curves"]]
    shift = 0.6 * (np.arange(len(curves)) - (len(curves) - 1) / 2)  # % of p, to unstack bars
    for offset, curve in zip(shift, curves, strict=True):
        color, marker, label = _CURVES[curve]
        ax.errorbar(
            p + offset,
            100 * np.asarray(vip[f"accuracy_{curve}_mean"]),
            yerr=100 * np.asarray(vip[f"accuracy_{curve}_std"]),
            fmt=f"-{marker}",
            color=color,
            ms=4,
            capsize=2,
            label=f"remove {label}",
        )
    ax.axhline(50, color="#888888", ls=":", lw=1)
    ax.text(p.min(), 51.5, "chance", color="#666666", fontsize=9)
    ax.set_xlabel(f"removed connections (% of the {vip['n_vip']} VIPs)")
    ax.set_ylabel("task accuracy (%)")
    ax.set_ylim(30, 102)
    ax.legend(fontsize=8, loc="lower left")
    ax.text(
        0.98,
        0.5,
        f"VIPs: {100 * vip['vip_fraction']:.2f}% of\n{vip['n_connections']} recurrent weights",
        transform=ax.transAxes,
        ha="right",
        fontsize=9,
    )
    evaluation = vip["evaluation"]
    ax.set_title(
        f"(d) target removal ({evaluation['n_batches']} test batches, {evaluation['mode']})",
        loc="left",
    )


def _check_same_run(analysis, trained):
    """The VIPs marked on the heat maps must be those of the network drawn."""
    analysed, drawn = analysis.summary.get("run_dir"), trained.summary.get("run_dir")
    if analysed and drawn and Path(analysed).name != Path(drawn).name:
        raise ValueError(
            f"{str(analysis.path)!r} analyses the run {Path(analysed).name} but "
            f"{str(trained.path)!r} holds the parameters of {Path(drawn).name}; rerun "
            "`sasrnn reproduce` so that both come from the same run."
        )


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 4 into ``out/fig4.png/.pdf``."""
    analysis = read_result(Path(results) / "vip", "vip")
    vip, mask = analysis.summary, analysis.arrays["vip_mask"].astype(bool)
    trained = read_result(Path(results) / "parameters_msi", "trained-parameters")
    params, seed = trained.arrays, trained.summary["seed"]
    _check_same_run(analysis, trained)
    m, pi, xi = params["rec.m"], params["rec.pi"], params["rec.xi"]
    apply_style()
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.6))
    span = float(np.abs(m).max()) or 1.0
    _heat(
        axes[0],
        fig,
        m,
        f"(a) slab mean m (seed {seed})",
        DIVERGING_CMAP,
        colors.Normalize(-span, span),
        "m (weight units)",
    )
    rows, cols = np.nonzero(mask)
    axes[0].plot(cols, rows, "s", ms=3, mfc="none", mec=PALETTE["black"], mew=0.6, label="VIP")
    if rows.size:
        axes[0].legend(loc="upper right", fontsize=8, framealpha=0.8)
    _heat(
        axes[1],
        fig,
        pi,
        r"(b) spike probability $\pi$",
        SEQUENTIAL_CMAP,
        colors.Normalize(0, 1),
        r"$\pi$ (prob. absent)",
    )
    xi_top = max(float(np.quantile(xi, 0.99)), 1e-6)
    _heat(
        axes[2],
        fig,
        xi,
        r"(c) slab variance $\Xi$ (colour clipped at 99th pct.)",
        SEQUENTIAL_CMAP,
        colors.Normalize(0, xi_top),
        r"$\Xi$ (weight units$^2$)",
    )
    _removal_panel(axes[3], vip)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
