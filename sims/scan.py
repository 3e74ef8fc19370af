"""Two-parameter scans of a probe, cached cell by cell, run in parallel with joblib.

A scan sweeps two config keys of a registered probe (:mod:`sims.probes`) over a grid, K seeds per
grid point. Each cell (x value, y value, seed) is one probe call; its result is written to
``DIR/cells/<sha256 of probe name and full config>.json`` (schema "scan-cell", through
:mod:`sims.store`, atomically) as soon as it arrives, so a killed scan recomputes only the missing
cells when rerun.

Locally the cells run in joblib's loky process pool; with a scheduler address they run through
joblib's dask backend on a ``dask.distributed.Client`` (:func:`run_parallel`). Both paths call
the same worker function, which pins BLAS to one thread (threadpoolctl) inside the worker.

The summary ``DIR/scan.json`` (schema "scan")::

    {"probe", "x": {"key", "values", "scale"}, "y": {"key", "values", "scale"}, "metric",
     "values": [[seed-mean metric, one row per y value]],
     "seeds", "per_seed": [[[metric per seed]]] (ny, nx, K), "metrics": {name: (ny, nx) means},
     "per_seed_metrics": {name: (ny, nx, K)}, "config", "fixed", "crossings",
     "cells": {"total", "cached", "computed"}, "elapsed_seconds",
     "theory" (only where the probe knows a boundary)}

Non-finite numbers are stored as null; :func:`load_scan` turns them back into NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed, parallel_backend
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from sims.probes import Probe, get_probe
from sims.store import (
    SCAN_FILE,
    DamagedFileError,
    config_hash,
    read_json,
    to_json,
    write_json,
)

CELLS_DIR = "cells"


@dataclass(frozen=True)
class Axis:
    """One scanned config key, its values (ascending) and the scale a figure draws them on
    (``"linear"`` or ``"log"``)."""

    key: str
    values: tuple[float, ...]
    scale: str = "linear"

    def __post_init__(self):
        if self.scale not in ("linear", "log"):
            raise ValueError(
                f"Axis {self.key!r}: scale must be 'linear' or 'log', got {self.scale!r}"
            )


def guess_scale(values: Sequence[float]) -> str:
    """``"log"`` for three or more positive values whose log spacing is more even than their
    linear one (32, 64, 128), else ``"linear"`` (0.5, 1, 1.5)."""
    values = np.sort(np.asarray(values, dtype=float))
    if values.size < 3 or values[0] <= 0:
        return "linear"
    linear, geometric = np.diff(values), np.diff(np.log(values))
    even_in_log = np.std(geometric) / np.mean(geometric) < np.std(linear) / np.mean(linear)
    return "log" if even_in_log else "linear"


AXIS_FORMS = "KEY=START:STOP:NUM, KEY=START:STOP:NUM:log or KEY=V1,V2,..."


def parse_axis(text: str) -> Axis:
    """Parse one scan axis.

    - ``KEY=START:STOP:NUM``: NUM evenly spaced values, both ends included (``g=0.5:1.5:11``),
      on a linear scale;
    - ``KEY=START:STOP:NUM:log``: NUM geometrically spaced values, START and STOP > 0
      (``lr=1e-4:2e-3:5:log``), on a log scale;
    - ``KEY=V1,V2,...``: the listed values (``N=32,64,128``), on the scale
      :func:`guess_scale` picks.

    The values are sorted ascending.

    Raises:
        ValueError: the text has none of these forms, NUM < 1, a value is not finite, a log
            axis does not stay positive, or a listed value repeats.
    """
    key, _, spec = text.partition("=")
    key = key.strip()
    try:
        if not key or not spec:
            raise ValueError
        scale = None  # listed values: guessed once they are known to be valid
        if ":" not in spec:  # as typed
            values = tuple(float(part) for part in spec.split(","))
        else:  # rounded, so that cell keys read 0.3 rather than 0.30000000000000004
            parts = spec.split(":")
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "log"):
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1 or not (math.isfinite(start) and math.isfinite(stop)):
                raise ValueError
            if len(parts) == 3:
                values = tuple(float(np.round(v, 12)) for v in np.linspace(start, stop, num))
                scale = "linear"
            elif start > 0 and stop > 0:
                values = tuple(float(f"{v:.12g}") for v in np.geomspace(start, stop, num))
                scale = "log"
            else:
                raise ValueError
        if not all(math.isfinite(value) for value in values) or len(set(values)) < len(values):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"an axis must read {AXIS_FORMS} (e.g. g=0.5:1.5:11, lr=1e-4:2e-3:5:log, "
            f"N=32,64,128), with NUM >= 1, finite distinct values, and START, STOP > 0 on a "
            f"log axis; got {text!r}"
        ) from None
    return Axis(key, tuple(sorted(values)), scale or guess_scale(values))


def parse_assignment(text: str) -> tuple[str, str]:
    """Parse ``KEY=VALUE`` (the value is cast later to the probe default's type).

    Raises:
        ValueError: no '=' or an empty key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"a fixed setting must read KEY=VALUE (e.g. N=1000); got {text!r}")
    return key.strip(), value.strip()


def cell_key(probe_name: str, config: Mapping[str, Any]) -> str:
    """sha256 (hex) of the probe name and its full config: the cache key of one cell."""
    return config_hash({"probe": probe_name, "config": dict(config)})


def evaluate_cell(probe: Probe, config: dict) -> tuple[dict, dict[str, float], float]:
    """Run one cell with BLAS pinned to one thread; returns (config, metrics, seconds)."""
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        metrics = probe.function(dict(config))
    return (
        config,
        {name: float(value) for name, value in metrics.items()},
        time.perf_counter() - start,
    )


def run_scan(
    probe_name: str,
    x: Axis,
    y: Axis,
    metric: str,
    *,
    out: str | Path,
    fixed: Mapping[str, Any] | None = None,
    seeds: int = 1,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    crossing_level: float = 0.0,
) -> dict:
    """Scan ``metric`` of probe ``probe_name`` over the grid ``x`` × ``y`` × seeds.

    Seeds are ``seed, seed + 1, ..., seed + seeds - 1`` with ``seed`` the probe's (fixed) seed.

    Args:
        probe_name: a registered probe (sims.probes).
        x, y: the two scanned keys (different, neither "seed").
        metric: one of the probe's metrics.
        out: directory for cells/ and scan.json (created).
        fixed: other config overrides (values cast to the defaults' types).
        seeds: K >= 1 seeds per grid point.
        jobs: local worker processes (loky); ignored with ``scheduler``.
        scheduler: a dask.distributed scheduler address; None runs locally.
        progress: show a tqdm bar.
        crossing_level: level whose first upward crossing along x, per y row, is reported.

    Returns:
        The scan.json content (also written to ``out/scan.json``).

    Raises:
        ValueError: unknown probe, key or metric; x and y equal; seeds < 1; jobs < 1.
    """
    probe = get_probe(probe_name)
    if metric not in probe.metrics:
        raise ValueError(
            f"probe {probe_name!r} has no metric {metric!r}; known metrics: "
            f"{', '.join(probe.metrics)}"
        )
    if x.key == y.key:
        raise ValueError(f"--x and --y must scan different keys; both are {x.key!r}")
    if "seed" in (x.key, y.key):
        raise ValueError("scan seeds with --seeds, not as an axis")
    if seeds < 1 or jobs < 1:
        raise ValueError(f"seeds and jobs must be >= 1; got {seeds}, {jobs}")
    fixed = dict(fixed or {})
    for key in (x.key, y.key):
        if key in fixed:
            raise ValueError(f"{key!r} is both scanned and fixed; drop --fixed {key}=...")
    base = probe.resolve(fixed)
    seed_values = [int(base.get("seed", 0)) + k for k in range(seeds)]

    grid = {}  # (iy, ix, k) -> (key, config)
    for iy, y_value in enumerate(y.values):
        for ix, x_value in enumerate(x.values):
            for k, seed in enumerate(seed_values):
                overrides = {**fixed, x.key: x_value, y.key: y_value}
                if "seed" in probe.defaults:
                    overrides["seed"] = seed
                config = probe.resolve(overrides)
                grid[iy, ix, k] = (cell_key(probe.name, config), config)

    out = Path(out)
    cells_dir = out / CELLS_DIR
    cells_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, float]] = {}
    missing: dict[str, dict] = {}
    for key, config in grid.values():
        cached = _read_cell(cells_dir / f"{key}.json", probe.name, config)
        if cached is not None:
            results[key] = cached
        else:
            missing[key] = config
    n_cached = len({key for key, _ in grid.values()}) - len(missing)

    start = time.perf_counter()
    compute_seconds = 0.0
    if missing:
        tasks = (delayed(evaluate_cell)(probe, config) for config in missing.values())
        bar = tqdm(total=len(missing), desc=f"{probe.name} scan", unit="cell", disable=not progress)
        try:
            for config, metrics, seconds in run_parallel(tasks, jobs, scheduler):
                key = cell_key(probe.name, config)
                write_json(
                    cells_dir / f"{key}.json",
                    "scan-cell",
                    {"probe": probe.name, "config": config, "metrics": metrics, "seconds": seconds},
                )
                results[key] = metrics
                compute_seconds += seconds
                bar.update(1)
        finally:
            bar.close()

    shape = (len(y.values), len(x.values), seeds)
    per_seed = {name: np.full(shape, np.nan) for name in probe.metrics}
    for (iy, ix, k), (key, _) in grid.items():
        for name in probe.metrics:
            per_seed[name][iy, ix, k] = results[key].get(name, np.nan)
    means = {name: values.mean(axis=2) for name, values in per_seed.items()}

    summary = {
        "probe": probe.name,
        "x": {"key": x.key, "values": list(x.values), "scale": x.scale},
        "y": {"key": y.key, "values": list(y.values), "scale": y.scale},
        "metric": metric,
        "values": means[metric],
        "seeds": seed_values,
        "per_seed": per_seed[metric],
        "metrics": means,
        "per_seed_metrics": per_seed,
        "config": {k: v for k, v in base.items() if k not in (x.key, y.key)},
        "fixed": fixed,
        "crossings": {
            "metric": metric,
            "level": crossing_level,
            "along": x.key,
            "x": [first_upward_crossing(x.values, row, crossing_level) for row in means[metric]],
        },
        "cells": {"total": len(missing) + n_cached, "cached": n_cached, "computed": len(missing)},
        "elapsed_seconds": time.perf_counter() - start,
        "compute_seconds": compute_seconds,
    }
    if probe.theory is not None:
        theory = probe.theory(x.key, x.values, y.key, y.values, base)
        if theory is not None:
            summary["theory"] = theory
    write_json(out / SCAN_FILE, "scan", summary)
    return to_json(summary, allow_nan=True)


def load_scan(path: str | Path) -> dict:
    """Read a scan.json (or the scan.json inside a directory); null values become NaN.

    Raises:
        FileNotFoundError: no scan.json there.
        DamagedFileError: the file is not a scan summary, or of a schema version this sasrnn
            does not read (the message says to rerun the scan).
    """
    path = Path(path)
    if path.is_dir():
        path = path / SCAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no scan summary at {path}; run `sasrnn phase ... --out DIR`")
    scan = read_json(path, "scan", fix="rerun the scan into an empty directory")
    scan["values"] = np.array(scan["values"], dtype=float)
    if "per_seed" in scan:
        scan["per_seed"] = np.array(scan["per_seed"], dtype=float)
    for name in ("metrics", "per_seed_metrics"):
        scan[name] = {k: np.array(v, dtype=float) for k, v in scan.get(name, {}).items()}
    return scan


def first_upward_crossing(
    x: Sequence[float], values: Sequence[float], level: float = 0.0
) -> float | None:
    """First x where ``values`` rises through ``level`` (linear interpolation), else None.

    A point below the level followed by one at or above it marks the crossing; NaNs are skipped.
    """
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    x, values = x[keep], values[keep]
    for i in range(values.size - 1):
        if values[i] < level <= values[i + 1]:
            fraction = (level - values[i]) / (values[i + 1] - values[i])
            return float(x[i] + fraction * (x[i + 1] - x[i]))
    return None


def run_parallel(tasks, jobs: int = 1, scheduler: str | None = None):
    """Run joblib ``delayed`` tasks; yield their results in order of completion.

    Locally in ``jobs`` loky worker processes, or, with a ``dask.distributed`` scheduler
    address, through joblib's dask backend on a client of that scheduler (the "dask" extra).
    """
    if scheduler is None:
        yield from Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(tasks)
        return
    from dask.distributed import Client  # optional dependency (the "dask" extra)

    with Client(scheduler) as client, parallel_backend("dask", client=client):
        yield from Parallel(return_as="generator_unordered")(tasks)


def _read_cell(path: Path, probe_name: str, config: dict) -> dict[str, float] | None:
    """A cached cell's metrics, or None when it is missing, damaged or of another config."""
    try:
        cell = read_json(path, "scan-cell")
        if cell["probe"] != probe_name or cell["config"] != config:
            return None
        return {k: (np.nan if v is None else float(v)) for k, v in cell["metrics"].items()}
    except (FileNotFoundError, DamagedFileError, KeyError, TypeError, ValueError):
        return None  # missing or unreadable: recompute it
