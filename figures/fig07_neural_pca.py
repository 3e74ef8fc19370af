"""Fig. 7: low-dimensional projection of the neural dynamics (docs/model.md §4 Fig. 7, §5.2).
Reads ``results/projection_mnist.json/.npz`` and ``results/projection_msi.json/.npz`` (the first
analysed run of each task) and ``results/projection_seeds.json`` (every analysed run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.mplot3d.art3d import Line3DCollection

from figures.resultfiles import read_result
from figures.style import COLOR_CYCLE, PALETTE, apply_style, save

NAME = "fig7"
CAPTION = (
    "Fig. 7. Neural trajectories on a low-dimensional manifold. States r(t) of trained networks "
    "run with sampled weights (new weights every step) are stacked over time and trials and "
    "projected on their first three principal components (scikit-learn PCA). (a) Pixel MNIST: "
    "the first test images of digits 1, 5 and 9 (colour map per digit, light → dark with time). "
    "(b) MSI: visual test trials at 9, 10, 11 and 12 Hz (dt = 0.5 ms); the PCA is fitted on "
    "all eight visual trials (9–16 Hz); triangles mark the start. (a, b) draw the first seed. "
    "(c) Cumulative variance explained against the number of PCs for both tasks (solid: the "
    "drawn network; dashed: the same network before training, on the same trials); the dotted "
    "line is the 85% level of the paper's claim. The legend gives the variance of the top three "
    "PCs over every analysed seed: the seed mean with its 95% t-interval, trained and untrained."
)

DIGIT_CMAPS = ("Blues", "Oranges", "Greys")


def _trajectory(ax, points, cmap, lw=1.0):
    segments = np.stack([points[:-1], points[1:]], axis=1)
    colours = matplotlib.colormaps[cmap](np.linspace(0.35, 1.0, len(segments)))
    ax.add_collection3d(Line3DCollection(segments, colors=colours, linewidths=lw))


def _finish_3d(ax, projections, ratios, title):
    flat = projections.reshape(-1, projections.shape[-1])
    for setter, k in ((ax.set_xlim, 0), (ax.set_ylim, 1), (ax.set_zlim, 2)):
        setter(flat[:, k].min(), flat[:, k].max())
    ax.set_xlabel(f"PC1 ({100 * ratios[0]:.0f}%)", labelpad=2)
    ax.set_ylabel(f"PC2 ({100 * ratios[1]:.0f}%)", labelpad=2)
    ax.set_zlabel(f"PC3 ({100 * ratios[2]:.0f}%)", labelpad=2)
    ax.tick_params(labelsize=7)
    ax.set_title(title, loc="left", fontsize=11)


def _mnist_panel(ax, summary, arrays):
    projections = arrays["neural_projections"]
    labels = arrays["neural_trial_labels"]
    digits = summary["trials"]["digits"]
    handles = []
    for digit, cmap in zip(digits, DIGIT_CMAPS, strict=False):
        for trial in np.flatnonzero(labels == digit):
            _trajectory(ax, projections[:, trial, :3], cmap, lw=0.7)
        handles.append(
            plt.Line2D([], [], color=matplotlib.colormaps[cmap](0.8), label=f"digit {digit}")
        )
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    extra = ""
    if "sampled_correct" in summary:
        extra = f"; sampled net correct on {summary['sampled_correct']}/{summary['n_trials']}"
    _finish_3d(
        ax, projections, arrays["neural_explained_variance_ratio"], f"(a) pixel MNIST{extra}"
    )


def _msi_panel(ax, summary, arrays):
    projections = arrays["neural_projections"]
    labels = arrays["neural_trial_labels"]
    for trial, color in zip(range(min(4, projections.shape[1])), COLOR_CYCLE, strict=False):
        points = projections[:, trial, :3]
        ax.plot(*points.T, color=color, lw=1.2, label=f"{labels[trial]:g} Hz")
        ax.scatter(*points[0], marker="^", s=50, color=PALETTE["vermillion"], zorder=5)
    ax.legend(fontsize=8, loc="upper left")
    _finish_3d(
        ax,
        projections,
        arrays["neural_explained_variance_ratio"],
        "(b) MSI, visual trials (start: ▲)",
    )


def _over_seeds(statistic) -> str:
    """A seed mean in % with its 95% t-interval (the mean alone for one seed)."""
    mean = f"{100 * statistic['mean']:.1f}%"
    if statistic["low"] is None:
        return mean
    return f"{mean} [{100 * statistic['low']:.1f}, {100 * statistic['high']:.1f}]"


def _variance_panel(ax, tasks):
    """``tasks``: (label, trained summary, untrained summary, over-seeds entry) per task."""
    for (label, trained, untrained, seeds), color, marker in zip(
        tasks, COLOR_CYCLE, "os", strict=False
    ):
        legend = (
            f"{label}, top 3 PCs over {seeds['n_seeds']} seed(s): "
            f"{_over_seeds(seeds['variance_3_pcs'])}; untrained "
            f"{_over_seeds(seeds['untrained_variance_3_pcs'])}"
        )
        for summary, style, fill, name in (
            (trained, "-", color, legend),
            (untrained, "--", "none", None),
        ):
            cumulative = 100 * np.cumsum(summary["explained_variance_ratio_top10"])
            x = np.arange(1, cumulative.size + 1)
            ax.plot(x, cumulative, f"{style}{marker}", color=color, mfc=fill, label=name)
    ax.plot([], [], "k--", mfc="none", label="dashed: the same networks before training")
    ax.axhline(85, color="#888888", ls=":", lw=1)
    ax.set_xlabel("number of principal components")
    ax.set_ylabel("cumulative variance explained (%)")
    ax.set_ylim(0, 101)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("(c) variance explained", loc="left")


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 7 into ``out/fig7.png/.pdf``."""
    mnist = read_result(Path(results) / "projection_mnist", "projection")
    msi = read_result(Path(results) / "projection_msi", "projection")
    seeds = read_result(Path(results) / "projection_seeds", "over-seeds").summary
    apply_style()
    fig = plt.figure(figsize=(17, 5.2))
    _mnist_panel(fig.add_subplot(1, 3, 1, projection="3d"), mnist.summary["neural"], mnist.arrays)
    _msi_panel(fig.add_subplot(1, 3, 2, projection="3d"), msi.summary["neural"], msi.arrays)
    _variance_panel(
        fig.add_subplot(1, 3, 3),
        [
            (label, result.summary["neural"], result.summary["untrained"], seeds[name])
            for label, result, name in (
                ("pixel MNIST", mnist, "pixel_mnist"),
                ("MSI", msi, "msi"),
            )
        ],
    )
    fig.subplots_adjust(left=0.02, right=0.98, wspace=0.25)
    return list(save(fig, Path(out) / NAME))
