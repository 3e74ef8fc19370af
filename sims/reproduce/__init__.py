"""``sasrnn reproduce``: every simulation the paper's figures need, cached, then every figure.

The paper is a program (pycog's ``paper/all.py``). A reproduction is

* settings per tier (:mod:`.settings`: ``quick``, ``standard``, ``full``, ``smoke``, and the
  reductions of a tier relative to the paper), with the ordinary-BPTT baseline (preset ``bptt``)
  trained beside the ensemble;
* a plan of *stages* (:mod:`.plan`): training runs (:func:`sims.train.train_run`), exports of
  what the figures read of them, ensemble analyses (:mod:`sims.analyses`), kernel experiments
  (:mod:`sims.kernels`) and phase scans (:mod:`sims.scan`), each a thin adapter
  (:mod:`.stages`) writing stored results under ``OUT/results`` (names and schemas:
  :mod:`figures.resultfiles`), cached by the config hash of its settings and inputs;
* one scheduler (:mod:`.scheduler`): joblib worker processes, or joblib's Dask backend on a
  ``dask.distributed`` scheduler;
* the figures, drawn in-process from the results (:func:`figures.draw_figure`);
* the headline claims as a data table (:mod:`.claims`) from which summary.json's "headline" and
  the report's table are generated;
* a cost model to plan a run before starting it (:mod:`.cost`): one-core seconds per stage and
  the wall time of the plan through the scheduler.

Training runs live in ``OUT/runs/<task>-seed<k>-<hash12>`` and are resumed (or reused).

Example:
    >>> from sims.reproduce import reproduce                         # doctest: +SKIP
    >>> summary = reproduce("results/reproduce-quick", mode="quick", jobs=2)  # doctest: +SKIP
"""

from sims.reproduce.claims import CLAIMS, At, Claim, format_value, headline, markdown_table
from sims.reproduce.cost import UNIT_SECONDS, estimate_seconds, estimate_wall_seconds, stage_cost
from sims.reproduce.pipeline import draw_figures, reproduce
from sims.reproduce.plan import (
    FIGURE_NAMES,
    FIGURE_STAGES,
    Stage,
    figures_and_notes,
    plan_stages,
    runs_index,
)
from sims.reproduce.scheduler import run_stages
from sims.reproduce.settings import (
    MODES,
    QUICK_CHANGES,
    SMOKE_CHANGES,
    STANDARD_CHANGES,
    TRAINED_TASKS,
    Settings,
    fashion_available,
    reductions,
    run_config,
    settings_for,
)
from sims.reproduce.stages import (
    Context,
    stage_kernel_circle,
    stage_kernel_curves,
    stage_phase,
    stage_toy,
    write_stage_result,
)

__all__ = [
    "CLAIMS",
    "FIGURE_NAMES",
    "FIGURE_STAGES",
    "MODES",
    "QUICK_CHANGES",
    "SMOKE_CHANGES",
    "STANDARD_CHANGES",
    "TRAINED_TASKS",
    "UNIT_SECONDS",
    "At",
    "Claim",
    "Context",
    "Settings",
    "Stage",
    "draw_figures",
    "estimate_seconds",
    "estimate_wall_seconds",
    "fashion_available",
    "figures_and_notes",
    "format_value",
    "headline",
    "markdown_table",
    "plan_stages",
    "reductions",
    "reproduce",
    "run_config",
    "run_stages",
    "runs_index",
    "settings_for",
    "stage_kernel_circle",
    "stage_kernel_curves",
    "stage_cost",
    "stage_phase",
    "stage_toy",
    "write_stage_result",
]
