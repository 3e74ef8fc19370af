"""Shared figure style: a colour-blind-safe palette, readable sizes, and ``save``.

Palette: Okabe & Ito (2008), "Color Universal Design", safe for the common colour-vision
deficiencies. Colour maps: ``viridis`` (sequential) and ``RdBu_r`` (diverging, centred on a
reference value such as 0), both readable under deuteranopia.

Usage::

    from figures.style import PALETTE, apply_style, save
    apply_style()
    fig, ax = plt.subplots()
    ...
    save(fig, "results/figures/fig6a")   # writes fig6a.png and fig6a.pdf
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are written to files, never shown

import matplotlib.pyplot as plt  # noqa: E402

#: Okabe–Ito colours, in the order lines should use them.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
COLOR_CYCLE = [
    PALETTE[name]
    for name in (
        "blue",
        "orange",
        "bluish_green",
        "vermillion",
        "sky_blue",
        "reddish_purple",
        "yellow",
        "black",
    )
]
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"
#: Colour of cells without a value (NaN), e.g. exploded networks.
MISSING_COLOR = "#BBBBBB"

RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLOR_CYCLE),
    "pdf.fonttype": 42,  # editable text in the PDF
}


def apply_style() -> None:
    """Set the shared rcParams (idempotent)."""
    plt.rcParams.update(RC)


def save(fig, path_stem: str | Path) -> tuple[Path, Path]:
    """Write ``fig`` to ``path_stem.png`` and ``path_stem.pdf`` (folders created), then close it.

    Returns:
        (png path, pdf path).
    """
    stem = Path(path_stem)
    if stem.suffix in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = (stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf"))
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths
