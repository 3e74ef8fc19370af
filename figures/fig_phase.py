"""Phase diagrams of the untrained SaS network (the init-dynamics probe of ``sasrnn phase``).
Reads ``results/phase/<scan>/scan.json`` for every scan of
:data:`figures.resultfiles.PHASE_SCANS` and draws them side by side with
:mod:`figures.phase_diagram`."""

from __future__ import annotations

from pathlib import Path

from figures.phase_diagram import draw_phase_diagram
from figures.resultfiles import PHASE_DIR, PHASE_SCANS

NAME = "phase-g-pi"
CAPTION = (
    "Phase diagram of untrained SaS networks (tanh, α = 1): largest Lyapunov exponent "
    "(per step, seed mean; blue stable, red chaotic) on the plane of the slab-mean gain g "
    "(m ~ N(0, g²/N)) and the spike probability π, for a quenched network sampled from the "
    "ensemble (left) and the mean-field network (right). The dashed black line is the "
    "theoretical instability line of the quiescent state (theory.phase); yellow circles mark "
    "where the measured exponent first rises through 0 along g. Grid, N and seeds are in the "
    "panel titles and summary.json."
)


def draw(results: Path, out: Path) -> list[Path]:
    """Draw the phase scans of ``results/phase`` into ``out/phase-g-pi.png/.pdf``."""
    scans = [Path(results) / PHASE_DIR / name for name in PHASE_SCANS]
    return list(draw_phase_diagram(scans, Path(out) / NAME, ncols=len(scans)))
