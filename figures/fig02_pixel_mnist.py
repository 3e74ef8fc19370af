"""Fig. 2: pixel-by-pixel MNIST, the spike-and-slab ensemble against ordinary BPTT
(docs/model.md §4 Fig. 2): accuracy over training with 95% bands over seeds, the ensemble's
final accuracy read four ways, and its trained π, m and Ξ. Reads ``results/training_pixel``,
``training_pixel_bptt``, ``comparison_pixel`` and ``parameters_pixel``
(:mod:`figures.training_panels`)."""

from __future__ import annotations

from pathlib import Path

from figures.training_panels import CAPTION_COMMON, draw_training_figure

NAME = "fig2"
CAPTION = (
    "Fig. 2. Pixel-by-pixel MNIST (T = 784 steps, N = 100): the spike-and-slab ensemble "
    "against ordinary BPTT. " + CAPTION_COMMON
)


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Fig. 2 from the pixel-MNIST results of ``results`` into ``out/fig2.png/.pdf``."""
    return draw_training_figure(
        results, out, "pixel", NAME, "Fig. 2 — pixel-by-pixel MNIST: ensemble vs BPTT"
    )
