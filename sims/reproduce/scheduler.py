"""Running the planned stages: the cache check, then every stage as soon as its inputs are ready.

When a stage finishes, stages.json records its cache key and the size and sha256 of every file
of its outputs (a training run's whole directory). A stage counts as cached when stages.json
records its current key and every one of those files is still as the stage wrote it; a file that
is missing, truncated or changed is reported in one line, the output holding it is removed (a
training run's directory as a whole: its run is trained again from its seed) and the stage is
computed again. The other stages start as soon as the stages they read have finished and a
worker slot is free, the ready stage with the longest remaining path first
(:func:`critical_paths`: its planned cost plus that of its longest chain of dependents,
:mod:`.cost`), so long chains such as MSI training → VIP analysis overlap the long training runs.
Workers are loky processes (a pool of joblib's process-pool library, for this run only) locally,
or a ``dask.distributed`` cluster when an address is given; with one local job the stages run in
this process. An error, Ctrl-C or SIGTERM (a KeyboardInterrupt here) kills the local workers;
the stages already recorded are reused by the next run. Each stage runs with BLAS pinned to one
thread (threadpoolctl), so its numbers do not depend on how many stages run at once.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import shutil
import signal
import threading
import time
from pathlib import Path

from sims import store
from sims.reproduce.plan import Stage
from sims.reproduce.stages import Context

__all__ = [
    "PRIORITY",
    "cached_stages",
    "critical_paths",
    "ready_order",
    "run_stage",
    "run_stages",
    "stored_files",
]

#: Start order among ready stages of equal planned cost (name prefixes).
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


def critical_paths(stages: list[Stage]) -> dict[str, float]:
    """{name: planned seconds of the stage plus those of its longest chain of dependents}."""
    dependents: dict[str, list[str]] = {stage.name: [] for stage in stages}
    for stage in stages:
        for dep in stage.deps:
            if dep in dependents:
                dependents[dep].append(stage.name)
    path: dict[str, float] = {}
    for stage in reversed(stages):  # every stage comes after the stages it reads
        tail = max((path[name] for name in dependents[stage.name]), default=0.0)
        path[stage.name] = stage.seconds + tail
    return path


def ready_order(stages: list[Stage], paths: dict[str, float] | None = None) -> list[Stage]:
    """The start order of ready stages: longest remaining path first (:func:`critical_paths`,
    default the stage's own planned cost); ties by :data:`PRIORITY`, then by plan order."""
    paths = paths or {}
    return sorted(
        stages, key=lambda stage: (-paths.get(stage.name, stage.seconds), _priority(stage))
    )


def run_stage(stage: Stage, context: Context) -> tuple[str, float, dict, float]:
    """Run one stage with BLAS pinned to one thread.

    Returns:
        (name, wall seconds, its record, CPU seconds of its process, every thread): the CPU time
        is what the cost model's one-core units measure (:mod:`.cost`), whatever else ran.
    """
    from threadpoolctl import threadpool_limits

    start, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=1):
        result = stage.function(context, **copy.deepcopy(stage.params))
    return stage.name, time.perf_counter() - start, result, time.process_time() - cpu


def stored_files(out: Path, outputs) -> dict[str, dict]:
    """{path relative to OUT: {"bytes", "sha256"}} of every file of ``outputs``.

    Args:
        out: the output directory OUT.
        outputs: paths relative to OUT; a directory stands for every file below it (hidden
            files, the atomic writer's temporaries, left out); a missing path for nothing.
    """
    files = {}
    for name in outputs:
        path = Path(out) / name
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in found:
            if file.is_file() and not file.name.startswith("."):
                files[file.relative_to(out).as_posix()] = _fingerprint(file)
    return files


def _fingerprint(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _first_change(out: Path, files: dict) -> tuple[str, str] | None:
    """(name, how it differs) of the first of ``files`` (:func:`stored_files`) that is no longer
    as written, or None."""
    for name, written in files.items():
        path, size = out / name, written["bytes"]
        if not path.is_file():
            return name, "is missing"
        now = path.stat().st_size
        if now == 0 and size > 0:
            return name, f"is empty ({size} bytes when written)"
        if now < size:
            return name, f"is truncated ({now} of {size} bytes)"
        if now > size:
            return name, f"has grown ({now} bytes, {size} when written)"
        if _fingerprint(path)["sha256"] != written["sha256"]:
            return name, "has changed since it was written (same size, another sha256)"
        outdated = _outdated_schema(path)
        if outdated:
            return name, outdated
    return None


def _outdated_schema(path: Path) -> str | None:
    """How a result JSON file's schema version differs from the one this sasrnn writes (a file
    written by an older version, whose layout or meaning has changed since), or None."""
    if path.suffix != ".json":
        return None
    try:
        stored = json.loads(path.read_text()).get("schema")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None  # not a result file: its fingerprint is the check
    kind = store.SCHEMAS.get(stored.get("name")) if isinstance(stored, dict) else None
    if kind is None or stored.get("version") == kind.version:
        return None
    return (
        f"has version {stored.get('version')} of the {stored['name']!r} schema, and this sasrnn "
        f"writes version {kind.version}"
    )


def _read_back(path: Path, fix: str) -> None:
    """Read a stored file completely (FileNotFoundError / DamagedFileError if it cannot be)."""
    if path.suffix == ".npz":
        store.read_arrays(path, fix=fix)
        return
    content = store.read_json(path, fix=fix)
    if content.get("arrays_file"):
        store.read_arrays(path.parent / content["arrays_file"], fix=fix)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def cached_stages(stages: list[Stage], record: dict, out: Path, log=print) -> set[str]:
    """Names of the stages whose recorded key is current and whose files are as written, in
    the schema versions this sasrnn writes.

    A recorded file that is not is reported (``log``), and the output holding it removed, so
    that the stage computes it afresh. A record without file fingerprints (an older sasrnn's)
    is checked by reading its output files back, and then gets them.
    """
    out, cached = Path(out), set()
    for stage in stages:
        entry = record.get(stage.name)
        if not entry or entry.get("key") != stage.key:
            continue
        if "files" not in entry:
            try:
                for name in stage.outputs:
                    if not (out / name).is_dir():
                        _read_back(out / name, fix="computing the stage again")
            except FileNotFoundError:
                continue
            except store.DamagedFileError as error:
                log(f"stage {stage.name}: {error}")
                continue
            entry["files"] = stored_files(out, stage.outputs)
        change = _first_change(out, entry["files"])
        if change is None:
            cached.add(stage.name)
            continue
        name, what = change
        holder = next((o for o in stage.outputs if name == o or name.startswith(f"{o}/")), name)
        log(
            f"stage {stage.name}: {str(out / name)!r} {what}; removing {holder!r} and computing "
            "the stage again"
        )
        _remove(out / holder)
    return cached


def _read_record(path: Path, log) -> dict:
    if not path.is_file():
        return {}
    try:
        return store.read_json(path, "stages")
    except store.DamagedFileError as error:
        log(f"{error}; every stage is checked again")
        return {}


def _worker_setup() -> None:
    """Set up a worker process for long stages that this process stops.

    - SIGINT is ignored: Ctrl-C reaches every process of the terminal's process group, but it
      is this process that stops the workers (an idle worker would print a KeyboardInterrupt
      traceback). Workers are also started with SIGINT ignored (:func:`_sigint_ignored`), for
      the seconds before they get here.
    - tqdm gets a thread lock (stages draw no bars there): its default multiprocessing lock is
      a named semaphore, which a killed worker would leave to the resource tracker, with a
      "leaked semaphore" warning at exit.
    - loky's memory-leak guard is off: a stage's memory grows by design (compiled kernels, data
      caches), and the guard would restart the worker after it, compiling everything again and
      warning "A worker stopped while some jobs were given to the executor" when a stage waits.
    """
    from joblib.externals.loky import process_executor
    from tqdm import tqdm

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tqdm.set_lock(threading.RLock())
    process_executor._USE_PSUTIL = False


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored for a moment (in the main thread; elsewhere nothing changes), so that the
    processes started meanwhile start ignoring it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Workers:
    """Where stages run: this process (one local job), loky processes, or a dask cluster.

    ``submit(stage)`` starts a stage; ``finished(futures)`` waits for at least one to finish and
    returns those that have; ``close()`` stops the workers (killing them after an error). The
    loky pool is this run's own, not joblib's process-wide reusable one, which joblib's
    ``Parallel`` would otherwise take over later in the same process (a scan after a
    reproduction) without the set-up it needs.
    """

    def __init__(self, context: Context, jobs: int, scheduler: str | None):
        self.context, self.slots, self._client, self._executor = context, jobs, None, None
        if scheduler is not None:
            from dask.distributed import Client  # optional dependency (the "dask" extra)

            self._client, self.slots = Client(scheduler), None  # the cluster's own workers
        elif jobs > 1:
            from joblib.externals.loky import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_setup)

    def submit(self, stage: Stage):
        if self._client is not None:
            return self._client.submit(run_stage, stage, self.context, pure=False)
        if self._executor is not None:
            with _sigint_ignored():  # loky starts its workers here
                return self._executor.submit(run_stage, stage, self.context)
        from concurrent.futures import Future

        future = Future()  # one local job: run it here, now
        try:
            future.set_result(run_stage(stage, self.context))
        except Exception as error:
            future.set_exception(error)
        return future

    def finished(self, futures) -> list:
        if self._client is not None:
            from dask.distributed import wait

            return list(wait(list(futures), return_when="FIRST_COMPLETED").done)
        from concurrent.futures import FIRST_COMPLETED, wait

        return list(wait(list(futures), return_when=FIRST_COMPLETED).done)

    def close(self, error: bool, futures=()) -> None:
        if self._client is not None:
            self._client.close()
        elif self._executor is not None:
            if error:  # loky's kill fails (KeyError) on a task not yet handed to a worker,
                # so every submitted one is let through first (it takes milliseconds)
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline and not all(
                    future.running() or future.done() for future in futures
                ):
                    time.sleep(0.01)
            self._executor.shutdown(wait=True, kill_workers=error)


def run_stages(
    stages: list[Stage],
    context: Context,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    log=print,
) -> dict:
    """Run the stages not cached, each once the stages it reads are done, up to ``jobs`` at once.

    Args:
        stages: the plan (every stage after the stages it reads).
        context: where the stages write.
        jobs: local worker processes (ignored with ``scheduler``; 1: in this process).
        scheduler: a dask.distributed scheduler address (workers must see OUT), or None.
        progress: show a tqdm bar over stages.
        log: callable for messages.

    Returns:
        The stages.json content: {name: {"key", "seconds", "cpu_seconds", "cached",
        "result", "files", "computed_by"}} (wall and CPU seconds of the stage's last computation;
        the size and sha256 of every file of its outputs, :func:`stored_files`; the git commit,
        package versions and BLAS libraries of the code that computed it).

    Raises:
        ValueError: a stage waits on a stage that is not planned.
        Exception: the first error of a stage (the stages still running are stopped).
    """
    from tqdm.auto import tqdm

    path = context.results / STAGES_FILE
    record = _read_record(path, log)
    unfingerprinted = {name for name, entry in record.items() if "files" not in entry}
    done = cached_stages(stages, record, context.out, log)
    for name in done:
        record[name]["cached"] = True
    if done & unfingerprinted:  # fingerprints of an older sasrnn's cache, taken once
        store.write_json(path, "stages", record)
    pending = [s for s in stages if s.name not in done]
    planned = {stage.name for stage in stages}
    missing = {s.name: [d for d in s.deps if d not in planned] for s in pending}
    missing = {name: deps for name, deps in missing.items() if deps}
    if missing:
        raise ValueError(f"stages wait on stages that are not planned: {missing}")
    by_name = {stage.name: stage for stage in stages}
    paths = critical_paths(stages)
    bar = tqdm(
        total=len(stages), initial=len(done), desc="reproduce", unit="stage", disable=not progress
    )
    workers = _Workers(context, int(jobs), scheduler)
    computed_by = {  # the code that computes this call's stages, recorded with each of them
        "git_commit": store.git_commit(),
        "versions": store.package_versions(),
        "blas": store.blas_libraries(),
    }
    running: dict = {}
    failed = True
    try:
        while pending or running:
            ready = ready_order([s for s in pending if set(s.deps) <= done], paths)
            if not ready and not running:
                raise ValueError(
                    f"stages wait on stages that did not run: {[s.name for s in pending]}"
                )
            free = len(ready) if workers.slots is None else workers.slots - len(running)
            for stage in ready[: max(0, free)]:
                pending.remove(stage)
                running[workers.submit(stage)] = stage.name
            for future in workers.finished(running):
                running.pop(future)
                name, seconds, result, cpu = future.result()
                record[name] = {
                    "key": by_name[name].key,
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "cached": False,
                    "result": result,
                    "files": stored_files(context.out, by_name[name].outputs),
                    "computed_by": computed_by,
                }
                store.write_json(path, "stages", record)
                done.add(name)
                bar.set_postfix_str(f"{name} {seconds:.0f}s")
                bar.update(1)
        failed = False
    finally:
        bar.close()
        workers.close(error=failed, futures=list(running))
    return record
