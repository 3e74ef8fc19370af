"""``reproduce``: plan, run (or reuse) every stage, draw the figures, write OUT/summary.json."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sims import store
from sims.reproduce.claims import headline
from sims.reproduce.cost import estimate_wall_seconds
from sims.reproduce.plan import (
    FIGURE_NAMES,
    check_figures,
    figures_and_notes,
    plan_stages,
    runs_index,
)
from sims.reproduce.scheduler import run_stages
from sims.reproduce.settings import reductions, settings_for
from sims.reproduce.stages import Context

__all__ = ["draw_figures", "reproduce"]


def draw_figures(names, results: Path, figures_dir: Path) -> dict:
    """Draw figures ``names`` from ``results`` into ``figures_dir``, in this process.

    A figure that fails is reported, not raised, so that the others are still drawn.

    Returns:
        {name: {"files": [png, pdf]} or {"error": "ExceptionType: message"}}.
    """
    from figures import draw_figure

    outcome = {}
    for name in names:
        try:
            outcome[name] = {"files": [str(p) for p in draw_figure(name, results, figures_dir)]}
        except Exception as error:  # report and go on with the next figure
            outcome[name] = {"error": f"{type(error).__name__}: {error}"}
    return outcome


def reproduce(
    out,
    mode: str = "quick",
    only=None,
    jobs: int = 1,
    data: str | None = None,
    fashion: str | None = None,
    progress: bool = True,
    draw: bool = True,
    log=print,
    scheduler: str | None = None,
) -> dict:
    """Run (or reuse) every stage of ``mode``, draw the figures and write OUT/summary.json.

    Args:
        out: output directory (runs/, results/, figures/, summary.json).
        mode: "quick", "standard", "full" or "smoke" (:data:`sims.reproduce.settings.MODES`).
        only: figure names to produce (default all of :data:`FIGURE_NAMES`).
        jobs: worker processes for the stages (≥ 1).
        data: MNIST source (default: embedded for quick/standard/smoke, $SASRNN_MNIST_DIR for
            full).
        fashion: Fashion-MNIST IDX directory (default Debian's); its stages are skipped, with a
            note, when it does not hold the four files.
        progress: show the tqdm bar over stages.
        draw: draw the figures (False: simulations and summary only).
        log: callable for messages.
        scheduler: a dask.distributed scheduler address to run the stages on (None: locally).

    Returns:
        The summary.json content.

    Raises:
        ValueError: bad mode, jobs < 1, unknown figure name.
        FileNotFoundError: full mode without MNIST IDX files.
    """
    from sims.data import MNIST_DIR_ENV

    if int(jobs) < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    if mode == "full" and data is None:
        data = os.environ.get(MNIST_DIR_ENV)
        if not data:
            raise FileNotFoundError(
                "--full needs the standard MNIST IDX files: pass --data DIR or set "
                f"{MNIST_DIR_ENV}."
            )
    settings = settings_for(mode, data, fashion)
    names = list(only) if only else list(FIGURE_NAMES)
    check_figures(names)
    names, notes = figures_and_notes(names, settings)
    for note in notes:
        log(f"note: {note}")
    out = Path(out)
    context = Context(out)
    context.results.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # --only naming nothing drawable (a task not trained) plans nothing, not everything
    stages = plan_stages(settings, context, only=names if only else None) if names else []
    runs = runs_index(settings, context)  # every run of the mode, also with --only
    store.write_json(
        context.results / "runs.json",
        store.RESULT_STEMS["runs"],
        {task: [os.path.relpath(d, context.results) for d in dirs] for task, dirs in runs.items()},
    )
    planned_wall = estimate_wall_seconds(stages, int(jobs), figures=draw)
    record = run_stages(
        stages, context, jobs=int(jobs), scheduler=scheduler, progress=progress, log=log
    )
    simulated = time.perf_counter() - start
    figures = {}
    if draw:
        figures = draw_figures(names, context.results, out / store.FIGURES_DIR)
        for name, outcome in figures.items():
            if "error" in outcome:
                log(f"figure {name}: FAILED {outcome['error']}")
    planned = {stage.name for stage in stages}
    planned_seconds = {stage.name: stage.seconds for stage in stages}
    summary = {
        "mode": mode,
        "headline": headline(context.results, settings),
        "reductions": reductions(settings),
        "notes": notes,
        "settings": settings.to_dict(),
        "figures": figures,
        "stages": {
            name: {
                "seconds": round(entry.get("seconds", 0.0), 2),
                "cpu_seconds": round(entry.get("cpu_seconds", 0.0), 2),
                "planned_seconds": round(planned_seconds[name], 2),
                "cached": entry.get("cached", False),
            }
            for name, entry in record.items()
            if name in planned
        },
        "wall_seconds": {
            "simulations": round(simulated, 2),
            "total": round(time.perf_counter() - start, 2),
            "planned_cold_cache": round(planned_wall, 1),
            "jobs": int(jobs),
        },
        "run_info": store.run_metadata({"task": "reproduce", "seed": 0}),
    }
    store.write_json(out / store.SUMMARY_FILE, "summary", summary)
    return summary
