"""Paper figures, drawn only from stored results (docs/model.md §4).

Every figure module exposes ``NAME``, ``CAPTION`` (what the figure shows, exactly) and
``draw(results: Path, out: Path) -> list[Path]``, which reads the results directory written by
``sasrnn reproduce`` (file names and schemas: :mod:`figures.resultfiles`) and writes
``out/NAME.png`` and ``out/NAME.pdf``, returning both paths. No figure trains or simulates, and
the package imports nothing of ``sims``, ``dynamics`` or ``theory``: it reads result files only.

=================  =================================  ==========================================
name               module                             shows
=================  =================================  ==========================================
fig1               figures.fig01_schematic            SaS RNN schematic (no data)
fig2               figures.fig02_pixel_mnist          pixel MNIST: ensemble vs BPTT; π, m, Ξ
fig3               figures.fig03_msi_behaviour        MSI task, psychometric curves, outputs
fig4               figures.fig04_vip                  m/π/Ξ heat maps, VIP removal curve
fig5               figures.fig05_selectivity          SLI classes and example unit traces
fig6               figures.fig06_rntk                 RNTK vs φ, BPTT vs RNTK learning curves
fig7               figures.fig07_neural_pca           3-D neural PCA (MNIST 1/5/9, MSI)
fig8               figures.fig08_synaptic_pca         synaptic PCA and drift along PC1
fig9               figures.fig09_symmetry             symmetry breaking (28×28 MNIST)
fig10              figures.fig10_plasticity           ensemble entropy, toy mean vs variance
appendix-kernel    figures.appendix_kernel            analytic vs empirical kernel entries
appendix-row       figures.appendix_row               Fig. 2's panels for row MNIST (A3)
fashion-rows       figures.fig_fashion                Fig. 2's panels for Fashion-MNIST rows
phase-g-pi         figures.fig_phase                  Lyapunov phase diagram (g, π)
=================  =================================  ==========================================

Example::

    from figures import draw_figure, draw_phase_diagram
    draw_figure("fig3", Path("results/reproduce-quick/results"), Path("out/figures"))
    draw_phase_diagram("results/phase/g-pi")       # one scan -> DIR/phase_diagram.png/.pdf
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

__all__ = ["FIGURES", "caption", "draw_figure", "draw_phase_diagram", "figure_module"]

#: Figure name -> module (imported lazily).
FIGURES: dict[str, str] = {
    "fig1": "figures.fig01_schematic",
    "fig2": "figures.fig02_pixel_mnist",
    "fig3": "figures.fig03_msi_behaviour",
    "fig4": "figures.fig04_vip",
    "fig5": "figures.fig05_selectivity",
    "fig6": "figures.fig06_rntk",
    "fig7": "figures.fig07_neural_pca",
    "fig8": "figures.fig08_synaptic_pca",
    "fig9": "figures.fig09_symmetry",
    "fig10": "figures.fig10_plasticity",
    "appendix-kernel": "figures.appendix_kernel",
    "appendix-row": "figures.appendix_row",
    "fashion-rows": "figures.fig_fashion",
    "phase-g-pi": "figures.fig_phase",
}


def figure_module(name: str) -> ModuleType:
    """The module drawing figure ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; choose from: {', '.join(FIGURES)}.")
    return importlib.import_module(FIGURES[name])


def caption(name: str) -> str:
    """The caption of figure ``name``."""
    return figure_module(name).CAPTION


def draw_figure(name: str, results: Path, out: Path) -> list[Path]:
    """Draw figure ``name`` from ``results`` into ``out`` (PNG and PDF); returns the paths.

    Raises:
        ValueError: unknown figure name.
        FileNotFoundError: a stored result the figure needs is missing (the message names it and
            the command that writes it).
        DamagedFileError: a stored result is unreadable or of another schema version.
    """
    module = figure_module(name)
    try:
        return module.draw(Path(results), Path(out))
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{error} Figure {name} draws from the results of `sasrnn reproduce`: run it (or the "
            "stage that writes this file) first."
        ) from None


def draw_phase_diagram(
    scans: str | Path | list, path_stem: str | Path | None = None, ncols: int = 2
) -> tuple[Path, Path]:
    """Heat maps of one or several scan summaries (``DIR/scan.json``), saved as PNG and PDF.

    See :func:`figures.phase_diagram.draw_phase_diagram`; ``path_stem`` defaults to
    ``DIR/phase_diagram`` for a single scan. Returns (png path, pdf path).
    """
    from figures.phase_diagram import draw_phase_diagram as draw

    return draw(scans, path_stem, ncols)
