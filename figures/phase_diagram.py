"""Phase-diagram heat maps, drawn only from a scan summary (``DIR/scan.json``, schema "scan").

One panel per scan: the seed-mean metric on the (x, y) grid, a colour bar, the theory boundary
(zero contour of the stored stability margin) where the scan has one, and the first upward
crossings along x reported by the scan.  Axes the scan marks ``"scale": "log"`` are drawn on a
log scale (cell edges at geometric midpoints); metrics in LOG_METRICS use a logarithmic colour
scale.  Probes may store extra theory overlays:
``theory["reference_lines"]`` ([{"axis": "x"|"y", "value", "label"}]; a line outside the
plotted range is named in the legend as off scale) and ``theory["curves"]`` ([{"x", "y",
"label"}], polylines in data coordinates); scans of ANNOTATED_PROBES print each cell's value.
Stored nulls (cells not computed, undefined values) are drawn as missing.

Example::

    from figures.phase_diagram import draw_phase_diagram
    draw_phase_diagram("results/phase/g-pi")        # -> results/phase/g-pi/phase_diagram.png/.pdf
    draw_phase_diagram(["scan-a", "scan-b"], "results/figures/phase_tanh")
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib import colors, ticker
from matplotlib.lines import Line2D

from figures.resultfiles import SCAN_FILE, read_json
from figures.style import DIVERGING_CMAP, MISSING_COLOR, PALETTE, SEQUENTIAL_CMAP, apply_style, save

#: Axis labels of known config keys.
KEY_LABELS = {
    "g": r"$g$",
    "J0": r"$J_0$",
    "pi": r"$\pi$",
    "xi": r"$\xi$",
    "N": r"width $N$ (units)",
    "alpha": r"$\alpha$",
    "steps": "steps",
    "lr": r"learning rate $\eta$ (per GD step)",
}
METRIC_LABELS = {
    "lyapunov": r"largest Lyapunov exponent $\lambda_{\max}$ (per step)",
    "mean_rate": r"mean rate $\langle r\rangle$",
    "abs_mean_rate": r"$|\langle r\rangle|$",
    "variance": r"population variance of $r$",
    "rms_rate": r"r.m.s. rate $\sqrt{\langle r^2\rangle}$",
    "norm_growth": r"growth rate of $\log\|h\|$ (per step)",
    "phase": "phase",
    "kernel_drift": r"kernel drift $\|\hat\Theta_T-\hat\Theta_0\|_F\,/\,\|\hat\Theta_0\|_F$",
    "early_gap": r"early gap $\langle|L_{\rm sim}-L_{\rm lazy}|/L_{\rm lazy}\rangle$",
    "final_train_loss": r"final train loss $\frac{1}{2}\sum_\mu (f-y)^2$",
    "final_lazy_loss": r"final lazy-theory train loss $\frac{1}{2}\sum_\mu (f-y)^2$",
    "init_kernel_error": r"$\|\hat\Theta_0-\Theta\|_F/\|\Theta\|_F$ at initialisation",
    "lazy_displacement": r"lazy displacement $\|\Delta\tilde\theta\|$",
    "test_accuracy_meanfield": "mean-field test accuracy after training",
    "test_accuracy_sampled_per_step": "per-step sampled test accuracy after training",
    "epoch_below_threshold": "first epoch (MSI: iteration) with train loss ≤ threshold\n"
    "(the cap + 1 when never: censored)",
}
#: Positive metrics spanning decades: drawn with a logarithmic colour scale.
LOG_METRICS = {"kernel_drift", "early_gap", "init_kernel_error", "lazy_displacement"}
#: Probes whose (small) grids get each cell's value printed on it.
ANNOTATED_PROBES = {"kernel-drift"}
#: Line styles of the theory curves, in order.
CURVE_STYLES = ("-", "--", ":", "-.")
#: Metrics whose sign matters: drawn with a diverging map centred on 0.
SIGNED_METRICS = {"lyapunov", "norm_growth", "mean_rate"}
PHASE_NAMES = ("decay", "saturation", "explosion")
#: Config keys not worth a title.
QUIET_KEYS = {"seed", "h0_std", "transient", "data_seed", "mnist_source", "early_fraction"}


def read_scan(path: str | Path) -> dict:
    """The scan summary ``path`` (a scan.json, or a directory holding one).

    Raises:
        FileNotFoundError: no scan.json there (the message names the command that writes one).
        DamagedFileError: the file is not a scan summary, or of an unknown version.
    """
    path = Path(path)
    if path.is_dir() or path.suffix != ".json":
        path = path / SCAN_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no scan summary at {str(path)!r}; run `sasrnn phase ... --out DIR` first."
        )
    return read_json(path, "scan", fix="rerun the scan")


def draw_scan(ax, scan: dict) -> object:
    """Draw one scan summary (:func:`read_scan`) on ``ax``; returns the mappable (for a colour
    bar). Values may be lists with None or arrays with NaN: both are drawn as missing cells."""
    x = np.asarray(scan["x"]["values"], dtype=float)
    y = np.asarray(scan["y"]["values"], dtype=float)
    values = np.ma.masked_invalid(np.asarray(scan["values"], dtype=float))
    metric = scan["metric"]
    cmap, norm = _colour_scale(metric, values)
    cmap = cmap.with_extremes(bad=MISSING_COLOR)
    x_log, y_log = (scan[axis].get("scale") == "log" for axis in ("x", "y"))
    mesh = ax.pcolormesh(
        _edges(x, x_log), _edges(y, y_log), values, cmap=cmap, norm=norm, shading="flat"
    )
    for is_log, axis, centres in ((x_log, ax.xaxis, x), (y_log, ax.yaxis, y)):
        if is_log:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            axis.set_ticks(centres, labels=[f"{v:g}" for v in centres])
            axis.set_minor_locator(ticker.NullLocator())
    limits = ax.get_xlim(), ax.get_ylim()
    if scan.get("probe") in ANNOTATED_PROBES:
        _annotate_cells(ax, x, y, values, mesh)
    handles = []
    theory = scan.get("theory")
    if theory is not None:
        handles += _draw_theory_overlays(ax, theory, limits)
    if theory is not None and "margin" in theory:
        margin = np.asarray(theory["margin"], dtype=float)
        if np.nanmin(margin) < 0 < np.nanmax(margin):
            ax.contour(
                np.asarray(theory["x"], dtype=float),
                np.asarray(theory["y"], dtype=float),
                margin,
                levels=[0.0],
                colors=PALETTE["black"],
                linestyles="--",
                linewidths=1.8,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=PALETTE["black"],
                    ls="--",
                    label="theory: quiescent state unstable",
                )
            )
    crossings = scan.get("crossings")
    if crossings and metric in SIGNED_METRICS:
        points = [(cx, yv) for cx, yv in zip(crossings["x"], y, strict=True) if cx is not None]
        if points:
            cx, cy = np.array(points).T
            ax.plot(cx, cy, "o", mfc=PALETTE["yellow"], mec=PALETTE["black"], mew=1.2, ms=7)
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    mfc=PALETTE["yellow"],
                    mec=PALETTE["black"],
                    mew=1.2,
                    label=f"{metric} rises through {crossings['level']:g}",
                )
            )
    ax.set_xlim(limits[0])
    ax.set_ylim(limits[1])
    if handles:  # below the axes, where it hides no cell or marker
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            fontsize=8,
            frameon=False,
        )
    ax.set_xlabel(KEY_LABELS.get(scan["x"]["key"], scan["x"]["key"]))
    ax.set_ylabel(KEY_LABELS.get(scan["y"]["key"], scan["y"]["key"]))
    ax.set_title(_title(scan), fontsize=10)
    return mesh


def draw_phase_diagram(
    scan_dirs: str | Path | list, path_stem: str | Path | None = None, ncols: int = 2
) -> tuple[Path, Path]:
    """Draw one panel per scan directory and save PNG and PDF.

    Args:
        scan_dirs: a scan directory (or scan.json path), or a list of them.
        path_stem: output stem (``.png`` and ``.pdf`` are added); default DIR/phase_diagram for a
            single scan.
        ncols: panels per row.

    Returns:
        (png path, pdf path).

    Raises:
        FileNotFoundError: a scan.json is missing.
        DamagedFileError: a scan.json is not a scan summary (see :func:`read_scan`).
        ValueError: several scans but no path_stem.
    """
    import matplotlib.pyplot as plt

    if isinstance(scan_dirs, (str, Path)):
        scan_dirs = [scan_dirs]
    scans = [read_scan(d) for d in scan_dirs]
    if path_stem is None:
        if len(scans) != 1:
            raise ValueError("give path_stem when drawing several scans")
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
        elif isinstance(mesh.norm, colors.TwoSlopeNorm):
            bar.set_ticks(_two_sided_ticks(mesh.norm.vmin, mesh.norm.vmax))
    for ax in list(axes.flat)[len(scans) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return save(fig, path_stem)


def _two_sided_ticks(low, high):
    """Colour-bar ticks for a map centred on 0: each side gets its own ticks, since the two
    halves of the bar can span very different ranges (a default locator may leave the short
    side with none)."""
    negative = ticker.MaxNLocator(4).tick_values(low, 0.0)
    positive = ticker.MaxNLocator(3).tick_values(0.0, high)
    ticks = np.concatenate([negative[negative >= low], positive[positive <= high]])
    return np.unique(np.round(ticks, 12))


def _draw_theory_overlays(ax, theory, limits):
    """Reference lines and curves stored by a probe's theory; returns legend handles."""
    handles = []
    for line in theory.get("reference_lines", []):
        low, high = sorted(limits[0] if line["axis"] == "x" else limits[1])
        label = line["label"]
        if low <= line["value"] <= high:
            draw = ax.axvline if line["axis"] == "x" else ax.axhline
            draw(line["value"], color=PALETTE["vermillion"], lw=2.0)
        else:
            side = "above" if line["value"] > high else "below"
            label += (
                f"\n(off scale: {line['value'] / (high if side == 'above' else low):.0f}"
                f"× {side} the plotted range)"
            )
        handles.append(Line2D([], [], color=PALETTE["vermillion"], lw=2.0, label=label))
    for k, curve in enumerate(theory.get("curves", [])):
        style = CURVE_STYLES[k % len(CURVE_STYLES)]
        curve_x, curve_y = (np.asarray(curve[key], dtype=float) for key in ("x", "y"))
        ax.plot(curve_x, curve_y, color=PALETTE["black"], ls=style, lw=1.8)
        handles.append(
            Line2D([], [], color=PALETTE["black"], ls=style, lw=1.8, label=curve["label"])
        )
    return handles


def _annotate_cells(ax, x, y, values, mesh):
    for iy, y_value in enumerate(y):
        for ix, x_value in enumerate(x):
            value = values[iy, ix]
            if value is np.ma.masked:
                continue
            shade = np.mean(mesh.cmap(mesh.norm(value))[:3])
            ax.text(
                x_value,
                y_value,
                f"{value:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shade < 0.5 else "black",
            )


def _colour_scale(metric, values):
    import matplotlib

    if metric == "phase":
        cmap = colors.ListedColormap(
            [PALETTE["blue"], PALETTE["bluish_green"], PALETTE["vermillion"]]
        )
        return cmap, colors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)
    low = float(values.min()) if values.count() else 0.0
    high = float(values.max()) if values.count() else 1.0
    if metric in SIGNED_METRICS:
        cmap = matplotlib.colormaps[DIVERGING_CMAP]
        span = max(abs(low), abs(high), 1e-12)
        low, high = min(low, -1e-3 * span), max(high, 1e-3 * span)
        return cmap, colors.TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)
    if metric in LOG_METRICS and low > 0 and high > low:
        return matplotlib.colormaps[SEQUENTIAL_CMAP], colors.LogNorm(vmin=low, vmax=high)
    if high <= low:
        high = low + 1.0
    return matplotlib.colormaps[SEQUENTIAL_CMAP], colors.Normalize(vmin=low, vmax=high)


def _edges(centres, log=False):
    if log:
        return np.exp(_edges(np.log(centres)))
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]])


def _title(scan):
    """The probe, the values the scan fixed, and the seed count: a probe's defaults can be
    sentinels ("keep the preset's"), so they are left to scan.json rather than printed."""
    fixed = scan.get("fixed", {})
    parts = [f"{k}={v}" for k, v in fixed.items() if k not in QUIET_KEYS]
    rest = "other keys at the probe's defaults" if parts else "every key at the probe's defaults"
    seeds = len(scan.get("seeds", [0]))
    text = (
        f"{scan.get('probe', '')}: "
        + ", ".join([*parts, rest])
        + f" ({seeds} seed{'s' * (seeds > 1)})"
    )
    return textwrap.fill(text, width=60)
