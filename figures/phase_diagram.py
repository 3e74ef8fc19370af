"""Phase-diagram heat maps, drawn only from a scan summary (sims.scan: DIR/scan.json).

One panel per scan: the seed-mean metric on the (x, y) grid, a colour bar, the theory boundary
(zero contour of the stored stability margin) where the scan has one, and the first upward
crossings along x reported by the scan.

Command line::

    python -m figures.phase_diagram DIR                 # -> DIR/phase_diagram.png/.pdf
    python -m figures.phase_diagram DIR1 DIR2 --out results/figures/phase_tanh
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import numpy as np
from matplotlib import colors
from matplotlib.lines import Line2D

from figures.style import DIVERGING_CMAP, MISSING_COLOR, PALETTE, SEQUENTIAL_CMAP, apply_style, save
from sims.scan import load_scan

#: Axis labels of known config keys.
KEY_LABELS = {"g": r"$g$", "J0": r"$J_0$", "pi": r"$\pi$", "xi": r"$\xi$", "N": r"$N$",
              "alpha": r"$\alpha$", "steps": "steps", "lr": "learning rate"}
METRIC_LABELS = {
    "lyapunov": r"largest Lyapunov exponent $\lambda_{\max}$ (per step)",
    "mean_rate": r"mean rate $\langle r\rangle$",
    "abs_mean_rate": r"$|\langle r\rangle|$",
    "variance": r"population variance of $r$",
    "rms_rate": r"r.m.s. rate $\sqrt{\langle r^2\rangle}$",
    "norm_growth": r"growth rate of $\log\|h\|$ (per step)",
    "phase": "phase",
}
#: Metrics whose sign matters: drawn with a diverging map centred on 0.
SIGNED_METRICS = {"lyapunov", "norm_growth", "mean_rate"}
PHASE_NAMES = ("decay", "saturation", "explosion")
#: Config keys not worth a title.
QUIET_KEYS = {"seed", "h0_std", "transient"}


def draw_scan(ax, scan: dict) -> object:
    """Draw one scan on ``ax``; returns the mappable (for a colour bar)."""
    x = np.asarray(scan["x"]["values"], dtype=float)
    y = np.asarray(scan["y"]["values"], dtype=float)
    values = np.ma.masked_invalid(np.asarray(scan["values"], dtype=float))
    metric = scan["metric"]
    cmap, norm = _colour_scale(metric, values)
    cmap = cmap.with_extremes(bad=MISSING_COLOR)
    mesh = ax.pcolormesh(_edges(x), _edges(y), values, cmap=cmap, norm=norm, shading="flat")
    handles = []
    theory = scan.get("theory")
    if theory is not None:
        margin = np.asarray(theory["margin"], dtype=float)
        if np.nanmin(margin) < 0 < np.nanmax(margin):
            ax.contour(theory["x"], theory["y"], margin, levels=[0.0], colors=PALETTE["black"],
                       linestyles="--", linewidths=1.8)
            handles.append(Line2D([], [], color=PALETTE["black"], ls="--",
                                  label="theory: quiescent state unstable"))
    crossings = scan.get("crossings")
    if crossings and metric in SIGNED_METRICS:
        points = [(cx, yv) for cx, yv in zip(crossings["x"], y, strict=True) if cx is not None]
        if points:
            cx, cy = np.array(points).T
            ax.plot(cx, cy, "o", mfc=PALETTE["yellow"], mec=PALETTE["black"], mew=1.2, ms=7)
            handles.append(Line2D([], [], marker="o", ls="", mfc=PALETTE["yellow"],
                                  mec=PALETTE["black"], mew=1.2,
                                  label=f"{metric} rises through {crossings['level']:g}"))
    if handles:
        ax.legend(handles=handles, loc="upper right", framealpha=0.85)
    ax.set_xlabel(KEY_LABELS.get(scan["x"]["key"], scan["x"]["key"]))
    ax.set_ylabel(KEY_LABELS.get(scan["y"]["key"], scan["y"]["key"]))
    ax.set_title(_title(scan), fontsize=10)
    return mesh


def draw_phase_diagram(scan_dirs, path_stem=None, ncols: int = 2):
    """Draw one panel per scan directory and save PNG and PDF.

    Args:
        scan_dirs: a scan directory (or scan.json path), or a list of them.
        path_stem: output stem; default DIR/phase_diagram for a single scan.
        ncols: panels per row.

    Returns:
        (png path, pdf path).

    Raises:
        FileNotFoundError: a scan.json is missing.
        ValueError: several scans but no path_stem.
    """
    import matplotlib.pyplot as plt

    if isinstance(scan_dirs, (str, Path)):
        scan_dirs = [scan_dirs]
    scans = [load_scan(d) for d in scan_dirs]
    if path_stem is None:
        if len(scans) != 1:
            raise ValueError("give path_stem (--out) when drawing several scans")
        first = Path(scan_dirs[0])
        path_stem = (first if first.is_dir() else first.parent) / "phase_diagram"
    apply_style()
    ncols = min(ncols, len(scans))
    nrows = int(np.ceil(len(scans) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 4.4 * nrows), squeeze=False)
    for ax, scan in zip(axes.flat, scans, strict=False):
        mesh = draw_scan(ax, scan)
        bar = fig.colorbar(mesh, ax=ax)
        bar.set_label(METRIC_LABELS.get(scan["metric"], scan["metric"]))
        if scan["metric"] == "phase":
            bar.set_ticks(range(len(PHASE_NAMES)), labels=PHASE_NAMES)
    for ax in list(axes.flat)[len(scans):]:
        ax.set_visible(False)
    fig.tight_layout()
    return save(fig, path_stem)


def _colour_scale(metric, values):
    import matplotlib

    if metric == "phase":
        cmap = colors.ListedColormap([PALETTE["blue"], PALETTE["bluish_green"],
                                      PALETTE["vermillion"]])
        return cmap, colors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)
    low = float(values.min()) if values.count() else 0.0
    high = float(values.max()) if values.count() else 1.0
    if metric in SIGNED_METRICS:
        cmap = matplotlib.colormaps[DIVERGING_CMAP]
        span = max(abs(low), abs(high), 1e-12)
        low, high = min(low, -1e-3 * span), max(high, 1e-3 * span)
        return cmap, colors.TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)
    if high <= low:
        high = low + 1.0
    return matplotlib.colormaps[SEQUENTIAL_CMAP], colors.Normalize(vmin=low, vmax=high)


def _edges(centres):
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - middle[0]], middle,
                           [2 * centres[-1] - middle[-1]]])


def _title(scan):
    config = scan.get("config", {})
    parts = [f"{k}={v}" for k, v in config.items() if k not in QUIET_KEYS]
    seeds = len(scan.get("seeds", [0]))
    text = f"{scan.get('probe', '')}: " + ", ".join(parts) + f" ({seeds} seed{'s' * (seeds > 1)})"
    return textwrap.fill(text, width=60)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figures.phase_diagram",
                                     description="Draw phase-diagram heat maps from scan.json.")
    parser.add_argument("scans", nargs="+", help="scan directories (or scan.json files)")
    parser.add_argument("--out", default=None, help="output path stem (PNG and PDF)")
    parser.add_argument("--ncols", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        png, pdf = draw_phase_diagram(args.scans, args.out, args.ncols)
    except (FileNotFoundError, ValueError) as error:
        print(f"phase_diagram: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {png} and {pdf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
