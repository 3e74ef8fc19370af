"""Running the planned stages: the cache check, then waves of ready stages through joblib.

A stage counts as cached when stages.json records its current key and every one of its output
files reads back (:func:`sims.store.read_json` / :func:`sims.store.read_arrays`); a damaged
cached file is reported and the stage computed again. The other stages run in waves: every
stage whose inputs are ready, longest first (:data:`PRIORITY`), through the executor the scans
use (:func:`sims.scan.run_parallel`): joblib's process pool locally, joblib's Dask backend on a
``dask.distributed`` scheduler when an address is given. Each stage runs with BLAS pinned to one
thread (threadpoolctl), so its numbers do not depend on how many stages run at once.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from joblib import delayed

from sims import store
from sims.reproduce.plan import Stage
from sims.reproduce.stages import Context

__all__ = ["PRIORITY", "cached_stages", "run_stage", "run_stages"]

#: Start order among ready stages (name prefixes, longest or most depended-on first).
PRIORITY = (
    "train-msi-seed0",
    "vip",
    "train-msi",
    "train-pixel",
    "train-row",
    "kernel-circle",
    "entropy",
    "kernel-curves",
    "projection-msi",
    "toy",
    "selectivity",
)
STAGES_FILE = "stages.json"


def _priority(stage: Stage) -> int:
    return next(
        (k for k, prefix in enumerate(PRIORITY) if stage.name.startswith(prefix)), len(PRIORITY)
    )


def run_stage(stage: Stage, context: Context) -> tuple[str, float, dict]:
    """Run one stage with BLAS pinned to one thread; returns (name, seconds, its record)."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        result = stage.function(context, **copy.deepcopy(stage.params))
    return stage.name, time.perf_counter() - start, result


def _read_back(path: Path) -> None:
    """Read a stored file completely (FileNotFoundError / DamagedFileError if it cannot be)."""
    if path.suffix == ".npz":
        store.read_arrays(path)
        return
    content = store.read_json(path)
    if content.get("arrays_file"):
        store.read_arrays(path.parent / content["arrays_file"])


def cached_stages(stages: list[Stage], record: dict, out: Path, log=print) -> set[str]:
    """Names of the stages whose recorded key is current and whose outputs all read back."""
    cached = set()
    for stage in stages:
        entry = record.get(stage.name)
        if not entry or entry.get("key") != stage.key:
            continue
        try:
            for name in stage.outputs:
                _read_back(Path(out) / name)
        except FileNotFoundError:
            continue
        except store.DamagedFileError as error:
            log(f"stage {stage.name}: a cached file is damaged, computing it again ({error})")
            continue
        cached.add(stage.name)
    return cached


def _read_record(path: Path, log) -> dict:
    if not path.is_file():
        return {}
    try:
        return store.read_json(path, "stages")
    except store.DamagedFileError as error:
        log(f"{error}; every stage is checked again")
        return {}


def run_stages(
    stages: list[Stage],
    context: Context,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    log=print,
) -> dict:
    """Run the stages not cached, dependencies first, up to ``jobs`` at once.

    Args:
        stages: the plan (every stage after the stages it reads).
        context: where the stages write.
        jobs: local worker processes (ignored with ``scheduler``).
        scheduler: a dask.distributed scheduler address (workers must see OUT), or None.
        progress: show a tqdm bar over stages.
        log: callable for messages.

    Returns:
        The stages.json content: {name: {"key", "seconds", "cached", "result"}}.

    Raises:
        ValueError: a stage waits on a stage that is not planned.
    """
    from tqdm.auto import tqdm

    from sims.scan import run_parallel

    path = context.results / STAGES_FILE
    record = _read_record(path, log)
    done = cached_stages(stages, record, context.out, log)
    for name in done:
        record[name]["cached"] = True
    pending = [s for s in stages if s.name not in done]
    keys = {stage.name: stage.key for stage in stages}
    bar = tqdm(
        total=len(stages), initial=len(done), desc="reproduce", unit="stage", disable=not progress
    )
    try:
        while pending:
            ready = sorted((s for s in pending if set(s.deps) <= done), key=_priority)
            if not ready:
                missing = {s.name: [d for d in s.deps if d not in done] for s in pending}
                raise ValueError(f"stages wait on stages that are not planned: {missing}")
            started = {stage.name for stage in ready}
            pending = [s for s in pending if s.name not in started]
            tasks = (delayed(run_stage)(stage, context) for stage in ready)
            for name, seconds, result in run_parallel(tasks, jobs, scheduler):
                record[name] = {
                    "key": keys[name],
                    "seconds": seconds,
                    "cached": False,
                    "result": result,
                }
                store.write_json(path, "stages", record)
                done.add(name)
                bar.set_postfix_str(f"{name} {seconds:.0f}s")
                bar.update(1)
    finally:
        bar.close()
    return record
