"""Fig. 1: schematic of the spike-and-slab RNN (docs/model.md §1, §4 Fig. 1). Draws from no data."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch
from scipy.stats import norm

from figures.style import PALETTE, apply_style, save

NAME = "fig1"
CAPTION = (
    "Fig. 1. Schematic of the spike-and-slab (SaS) recurrent network. (a) The input x(t) drives "
    "a recurrent layer of N leaky units, h(t) = (1-α)h(t-1) + α[W_in x(t) + W_rec r(t-1)], "
    "r = f(h); a readout z = W_out r gives the outputs. (b) Every connection w_ij is not a "
    "number but a distribution, P(w) = π δ(w) + (1-π) N(w; m, Ξ): with probability π the "
    "connection is absent (spike at 0), otherwise its weight is Gaussian with mean m and "
    "variance Ξ (slab). Training adjusts (m, π, Ξ) of every connection with the mean-field "
    "generalized BPTT. Drawn from no data."
)


def _arrow(ax, start, end, color="black", style="-|>", lw=1.4, rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=12,
            color=color,
            lw=lw,
            connectionstyle=f"arc3,rad={rad}",
        )
    )


def _network_panel(ax):
    inputs = [(0.08, y) for y in (0.3, 0.5, 0.7)]
    angles = np.linspace(0, 2 * np.pi, 7, endpoint=False) + np.pi / 2
    hidden = [(0.5 + 0.2 * np.cos(a), 0.5 + 0.27 * np.sin(a)) for a in angles]
    outputs = [(0.92, y) for y in (0.4, 0.6)]
    rng = np.random.default_rng(1)
    for i, p in enumerate(hidden):  # recurrent SaS connections, some absent (dashed grey)
        for j, q in enumerate(hidden):
            if i != j and rng.random() < 0.35:
                absent = rng.random() < 0.35
                ax.plot(
                    [p[0], q[0]],
                    [p[1], q[1]],
                    color="#999999" if absent else PALETTE["blue"],
                    ls=":" if absent else "-",
                    lw=0.9,
                    zorder=1,
                )
    for p in inputs:
        for q in hidden[1:4]:
            _arrow(ax, p, q, color=PALETTE["orange"], lw=0.8)
    for p in hidden[4:]:
        for q in outputs:
            _arrow(ax, p, q, color=PALETTE["bluish_green"], lw=0.8)
    for p in inputs:
        ax.add_patch(Circle(p, 0.035, color=PALETTE["orange"], zorder=3))
    for p in hidden:
        ax.add_patch(Circle(p, 0.045, color=PALETTE["sky_blue"], ec="black", zorder=3))
    for p in outputs:
        ax.add_patch(Circle(p, 0.035, color=PALETTE["bluish_green"], zorder=3))
    ax.text(0.08, 0.86, "input\nx(t)", ha="center", fontsize=10)
    ax.text(0.5, 0.88, "recurrent layer\nh(t), r(t) = f(h(t))", ha="center", fontsize=10)
    ax.text(0.92, 0.76, "readout\nz(t)", ha="center", fontsize=10)
    ax.text(
        0.5,
        0.05,
        "solid: present connection; dotted: absent (spike at 0)",
        ha="center",
        fontsize=9,
        color="#444444",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("(a) SaS recurrent network", loc="left")


def _distribution_panel(ax):
    pi, m, xi = 0.35, 0.6, 0.04
    w = np.linspace(-0.6, 1.4, 400)
    ax.fill_between(
        w,
        (1 - pi) * norm.pdf(w, m, np.sqrt(xi)),
        color=PALETTE["blue"],
        alpha=0.35,
        label=r"slab $(1-\pi)\,\mathcal{N}(w; m, \Xi)$",
    )
    ax.plot(w, (1 - pi) * norm.pdf(w, m, np.sqrt(xi)), color=PALETTE["blue"])
    ax.annotate(
        "",
        xy=(0, 2.2),
        xytext=(0, 0),
        arrowprops=dict(arrowstyle="-|>", lw=2.5, color=PALETTE["vermillion"]),
    )
    ax.plot([], [], color=PALETTE["vermillion"], lw=2.5, label=r"spike $\pi\,\delta(w)$")
    ax.annotate(
        "",
        xy=(m + np.sqrt(xi), 0.4),
        xytext=(m - np.sqrt(xi), 0.4),
        arrowprops=dict(arrowstyle="<->", color="black"),
    )
    ax.text(m, 0.5, r"$\pm\sqrt{\Xi}$", ha="center")
    ax.axvline(m, color="black", ls="--", lw=0.8)
    ax.text(m + 0.03, 1.9, r"$m$")
    ax.set_xlabel(r"synaptic weight $w$ (a.u.)")
    ax.set_ylabel(r"probability density $P(w)$")
    ax.set_ylim(0, 2.5)
    ax.legend(loc="upper right", fontsize=9)
    ax.set_title(
        r"(b) one connection: $P(w)=\pi\delta(w)+(1-\pi)\mathcal{N}(m,\Xi)$",
        loc="left",
        fontsize=11,
    )


def draw(results: Path | None, out: Path) -> list[Path]:
    """Draw the schematic into ``out/fig1.png/.pdf`` (``results`` is not read)."""
    apply_style()
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.25, 1]}
    )
    _network_panel(left)
    _distribution_panel(right)
    fig.tight_layout()
    return list(save(fig, Path(out) / NAME))
