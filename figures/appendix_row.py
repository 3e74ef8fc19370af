"""Appendix A3: row-by-row (28×28) MNIST, the panels of Fig. 2 (docs/model.md §4): the ensemble
against ordinary BPTT over training, its final accuracy read four ways, its trained π, m and Ξ.
Reads ``results/training_row``, ``training_row_bptt``, ``comparison_row`` and
``parameters_row`` (:mod:`figures.training_panels`)."""

from __future__ import annotations

from pathlib import Path

from figures.training_panels import CAPTION_COMMON, draw_training_figure

NAME = "appendix-row"
CAPTION = (
    "Appendix A3. Row-by-row MNIST (T = 28 steps of 28 pixels, N = 100): the spike-and-slab "
    "ensemble against ordinary BPTT, as in Fig. 2. " + CAPTION_COMMON
)


def draw(results: Path, out: Path) -> list[Path]:
    """Draw Appendix A3 into ``out/appendix-row.png/.pdf``."""
    return draw_training_figure(
        results, out, "row", NAME, "Appendix A3 — row-by-row MNIST: ensemble vs BPTT"
    )
