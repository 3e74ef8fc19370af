"""Phase diagrams of the untrained SaS network (the init-dynamics probe of sims.probes).
Reads ``results/phase/<scan>/scan.json`` for every scan of :data:`sims.results_layout.PHASE_SCANS`
and draws them side by side with :mod:`figures.phase_diagram`."""

from __future__ import annotations

from pathlib import Path

from figures._io import figure_stem
from figures.phase_diagram import draw_phase_diagram
from sims import results_layout as layout

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
    scans = [Path(results) / layout.PHASE_DIR / name for name in layout.PHASE_SCANS]
    missing = [str(s / "scan.json") for s in scans if not (s / "scan.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{missing[0]!r} is missing; run `sasrnn reproduce` (or `sasrnn phase`) first."
        )
    return list(draw_phase_diagram(scans, figure_stem(out, NAME), ncols=len(scans)))
