"""Reading stored results for the figures (layout: :mod:`sims.results_layout`).

Every reader raises one FileNotFoundError naming the missing file and the command that writes it,
so a figure drawn from an incomplete results directory says what to run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sims import results_layout as layout
from sims.store import read_json

_HINT = "run `sasrnn reproduce` (or the stage that writes it) first"


def result_path(results: Path, stem: str, suffix: str = ".json") -> Path:
    """``results/stem+suffix``; raises FileNotFoundError if it does not exist."""
    path = Path(results) / f"{stem}{suffix}"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is missing; {_HINT}.")
    return path


def load_json(results: Path, stem: str) -> dict:
    """The JSON summary ``results/stem.json``."""
    return read_json(result_path(results, stem, ".json"))


def load_npz(results: Path, stem: str) -> dict[str, np.ndarray]:
    """The arrays of ``results/stem.npz`` as a dict (loaded eagerly)."""
    with np.load(result_path(results, stem, ".npz"), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def run_dirs(results: Path, task: str) -> list[Path]:
    """Run directories of ``task`` listed in ``results/runs.json`` (paths relative to results).

    Raises:
        FileNotFoundError: no runs.json, or no run of that task in it.
    """
    index = load_json(results, Path(layout.RUNS_INDEX).stem)
    dirs = [
        (Path(results) / d).resolve() if not Path(d).is_absolute() else Path(d)
        for d in index.get(task, [])
    ]
    if not dirs:
        raise FileNotFoundError(
            f"{str(Path(results) / layout.RUNS_INDEX)!r} lists no {task} run; {_HINT}."
        )
    return dirs


def run_metrics(run_dir: Path) -> dict:
    """``metrics.json`` of a run directory ({"epochs": [...], "final": {...}})."""
    return read_json(Path(run_dir) / "metrics.json")


def run_params(run_dir: Path) -> dict[str, np.ndarray]:
    """Final parameters ``params.npz`` of a run directory, by block name ("rec.m", …)."""
    path = Path(run_dir) / "params.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is missing: the run has not finished; {_HINT}.")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def figure_stem(out: Path, name: str) -> Path:
    """Output stem ``out/name`` (PNG and PDF are written beside each other)."""
    return Path(out) / name
