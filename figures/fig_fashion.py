"""Fashion-MNIST read row by row on its full 60,000 / 10,000 IDX files (beyond the paper: a check
of the ensemble against BPTT on data that is not the embedded MNIST subset), with the panels of
Fig. 2. Reads ``results/training_fashion``, ``training_fashion_bptt``, ``comparison_fashion``
and ``parameters_fashion`` (:mod:`figures.training_panels`)."""

from __future__ import annotations

from pathlib import Path

from figures.training_panels import CAPTION_COMMON, draw_training_figure

NAME = "fashion-rows"
CAPTION = (
    "Fig. (beyond the paper). Row-by-row Fashion-MNIST (60,000 training / 10,000 test images, "
    "T = 28, N = 100, the row-MNIST protocol): the spike-and-slab ensemble against ordinary "
    "BPTT, as in Fig. 2. " + CAPTION_COMMON
)


def draw(results: Path, out: Path) -> list[Path]:
    """Draw the Fashion-MNIST figure into ``out/fashion-rows.png/.pdf``."""
    return draw_training_figure(
        results, out, "fashion", NAME, "Row-by-row Fashion-MNIST (full data): ensemble vs BPTT"
    )
