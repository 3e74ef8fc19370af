"""The run handle: one training run directory, written by the trainer and read by everything else.

A run directory holds::

    config.toml        the fully resolved config (read back with tomllib)
    run.json           seed, config hash, package versions, git commit, command, status, times
                       (schema "run-info")
    metrics.json       {"epochs": [per-epoch dicts], "final": {...}} (schema "metrics")
    params.npz         final parameters, nine blocks "inp.m" ... "out.xi" (toy model: m, pi, xi)
    checkpoint.npz     parameters, optimizer state, RNG states and counters (for resuming)
    checkpoint.previous.npz   the checkpoint before it (kept until the newest is read back)
    snapshots/epoch_000000.npz ...   parameters after every snapshot epoch (0 = initial state)

:class:`Run` is the only code that knows these names. ``Run.create`` makes (or, to resume, checks)
a directory; ``Run.open`` reads an existing one. Everything read is read lazily and cached; a file
that exists but cannot be read gives :class:`sims.store.DamagedFileError` naming it and the fix.

Example:
    >>> run = Run.open("runs/row-mnist-seed0")                          # doctest: +SKIP
    >>> run.metrics["final"]["test_accuracy_meanfield"]                 # doctest: +SKIP
    >>> run.network(epoch=10)                                           # doctest: +SKIP
    >>> run.snapshots["rec.pi"].shape                                   # doctest: +SKIP
"""

from __future__ import annotations

import copy
import os
import sys
import time
from functools import cached_property
from pathlib import Path

import numpy as np

from dynamics import SaSLayer, SaSNetwork
from sims import store
from sims.presets import LAYERS, TASK_NAMES, flat_keys, paper_config
from sims.tasks import task_from_config

__all__ = [
    "CHECKPOINT_FILE",
    "CONFIG_FILE",
    "METRICS_FILE",
    "PARAMS_FILE",
    "PREVIOUS_CHECKPOINT_FILE",
    "RUN_FILE",
    "SNAPSHOT_DIR",
    "Run",
    "Snapshots",
    "build_network",
    "completed_config",
    "seeded_streams",
]

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
PARAMS_FILE = "params.npz"
CHECKPOINT_FILE = "checkpoint.npz"
PREVIOUS_CHECKPOINT_FILE = "checkpoint.previous.npz"
_NEXT_CHECKPOINT_FILE = "checkpoint.next.npz"
SNAPSHOT_DIR = "snapshots"


def _snapshot_name(epoch: int) -> str:
    return f"epoch_{int(epoch):06d}.npz"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def seeded_streams(seed: int) -> list[np.random.Generator]:
    """The four independent streams of a run: initialisation, data, training noise, evaluation
    (``SeedSequence(seed).spawn(4)``)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]


def build_network(config: dict, task, rng: np.random.Generator) -> SaSNetwork:
    """The initial network of docs/model.md §2.5 from the ``[network]`` and ``[init]`` tables.

    Per layer in the order inp, rec, out: m = m_scale·N(0, 1) ("normal"), m_scale·I ("identity")
    or 0 ("zeros"); then Ξ = xi_scale·U(0, 1) ("uniform") or xi_scale ("constant"); then
    π ~ U(0, 1) ("uniform") or the constant ``pi``. Only "normal" m, uniform Ξ with a positive
    scale and uniform π draw random numbers. The input layer gets the task's structural
    mask (:meth:`Task.input_mask`: π = 1, m = Ξ = 0 on forbidden pairs, docs/model.md §3.3).
    For ``model = "deterministic"`` (the bptt preset) π and Ξ are drawn as above, so that m is
    the ensemble's, and then set to 0 (absences keep π = 1).
    """
    network = config["network"]
    n_rec = network["n_rec"]
    dtype = np.dtype(config["dtype"])
    shapes = {"inp": (n_rec, task.n_in), "rec": (n_rec, n_rec), "out": (task.n_out, n_rec)}
    absent = {"inp": task.input_mask(n_rec), "rec": None, "out": None}
    layers = {}
    for name in LAYERS:
        spec, shape = config["init"][name], shapes[name]
        if spec["m"] == "normal" and spec["m_scale"] > 0:
            m = spec["m_scale"] * rng.standard_normal(shape)
        elif spec["m"] == "identity":
            m = spec["m_scale"] * np.eye(n_rec)
        else:
            m = np.zeros(shape)
        if spec["xi"] == "constant" or spec["xi_scale"] == 0:
            xi = np.full(shape, float(spec["xi_scale"]))
        else:
            xi = spec["xi_scale"] * rng.random(shape)
        pi = rng.random(shape) if spec["pi"] == "uniform" else np.full(shape, float(spec["pi"]))
        if config["model"] == "deterministic":  # drawn as the ensemble's, then w = m
            xi, pi = np.zeros(shape), np.zeros(shape)
        layers[name] = SaSLayer(m, pi, xi, absent=absent[name], dtype=dtype)
    return SaSNetwork(
        layers["inp"],
        layers["rec"],
        layers["out"],
        alpha=network["alpha"],
        h0=network["h0"],
        activation=network["activation"],
        readout=task.readout,
        loss=task.loss,
        sigma_rec=network["sigma_rec"],
    )


def completed_config(stored: dict) -> dict:
    """A stored config completed with the paper preset's values for keys added since it was
    written (so that older run directories stay readable).

    Raises:
        ValueError: the config names no known task.
    """
    task = stored.get("task")
    if task not in TASK_NAMES:
        raise ValueError(f"stored config names an unknown task {task!r}.")

    def merge(default, given):
        merged = dict(given)
        for key, value in default.items():
            if key not in merged:
                merged[key] = copy.deepcopy(value)
            elif (
                isinstance(value, dict) and isinstance(merged[key], dict) and key != "task_options"
            ):
                merged[key] = merge(value, merged[key])
        return merged

    return merge(paper_config(task), stored)


class Snapshots:
    """Lazy access to a run's parameter snapshots (``snapshots/epoch_*.npz``).

    ``snapshots.epochs`` lists the stored epochs (0 = initial state); ``snapshots["rec.m"]`` is
    the stacked (n_snapshots, ...) trajectory of one block (every file is read once, on first
    use, and all its blocks are cached); ``snapshots.at(epoch)`` is the dict of all blocks at one
    epoch.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._stacked: dict[str, np.ndarray] | None = None

    @property
    def files(self) -> list[Path]:
        return sorted(self.directory.glob("epoch_*.npz"))

    @property
    def epochs(self) -> np.ndarray:
        return np.array([int(path.stem.split("_")[1]) for path in self.files], dtype=np.int64)

    def keys(self) -> list[str]:
        files = self.files
        return list(store.read_arrays(files[0])) if files else []

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, block: str) -> np.ndarray:
        if self._stacked is None:
            files = self.files
            if not files:
                raise FileNotFoundError(
                    f"no snapshots in {str(self.directory)!r}; train with snapshot_every >= 1."
                )
            per_file = [store.read_arrays(path) for path in files]
            self._stacked = {key: np.stack([f[key] for f in per_file]) for key in per_file[0]}
        if block not in self._stacked:
            raise KeyError(f"unknown block {block!r}; stored blocks: {list(self._stacked)}.")
        return self._stacked[block]

    def at(self, epoch: int) -> dict[str, np.ndarray]:
        path = self.directory / _snapshot_name(epoch)
        if not path.is_file():
            raise FileNotFoundError(
                f"no snapshot of epoch {epoch} in {str(self.directory)!r}; "
                f"stored: {self.epochs.tolist()}."
            )
        return store.read_arrays(path)


def _keep_as_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` a second name of ``path``'s file (a hard link, swapped in atomically),
    so that there is no moment without a newest checkpoint; on a file system without hard
    links, ``path`` is moved instead."""
    link = previous.with_name(previous.name + ".link")
    try:
        link.unlink(missing_ok=True)
        os.link(path, link)
        os.replace(link, previous)
    except OSError:
        os.replace(path, previous)


class Run:
    """One training run directory (layout in the module docstring).

    Attributes:
        directory: the run directory.
        config: the resolved config (``config.toml`` completed with the preset's defaults).
        task: the task built from the config (:meth:`sims.tasks.Task.from_config`), cached.
        info: ``run.json`` ({} before the trainer first writes it).
        metrics: ``metrics.json`` ({"epochs": [...], "final": {...}}).
        params: the final parameters by block name ("inp.m" ... "out.xi").
        finished: whether the trainer marked the run finished.
        snapshots: lazy :class:`Snapshots`.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self._newest_checkpoint_verified = True

    def __repr__(self) -> str:
        return f"Run({str(self.directory)!r})"

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, directory, config: dict, *, resume: bool = False) -> Run:
        """A new run directory holding ``config``, or (``resume``) the existing one of ``config``.

        Raises:
            ValueError: ``directory`` is a file; it already holds a run and ``resume`` is False;
                it holds a run of another config; it is not empty and holds no run.
        """
        run = cls(directory)
        out = run.directory
        config_path = out / CONFIG_FILE
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {str(out)!r} is a file; pass a directory for the run.")
        if config_path.is_file():
            if not resume:
                raise ValueError(
                    f"{str(out)!r} already holds a run; pass --resume to continue it or "
                    f"choose another --out."
                )
            stored = store.read_toml(config_path)
            if stored != config:
                old, new = flat_keys(stored), flat_keys(config)
                missing = set(new) - set(old)
                if missing and all(new[k] == value for k, value in old.items() if k in new):
                    raise store.DamagedFileError(
                        f"{str(config_path)!r} is incomplete ({len(missing)} keys missing, e.g. "
                        f"{sorted(missing)[0]!r}): the file is damaged. Delete the run directory "
                        f"and train again, or restore the file."
                    )
                differing = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise ValueError(
                    f"--resume: the config differs from the one stored in "
                    f"{str(config_path)!r} in {', '.join(differing)}; resume with the "
                    f"same settings or choose another --out."
                )
            return run
        if out.is_dir() and any(out.iterdir()):
            raise ValueError(
                f"{str(out)!r} is not empty and holds no run ({CONFIG_FILE} "
                f"missing); choose an empty or new --out directory."
            )
        out.mkdir(parents=True, exist_ok=True)
        store.atomic_write_toml(config_path, config)
        return run

    @classmethod
    def open(cls, directory) -> Run:
        """An existing run directory (its files are read when first used).

        Raises:
            FileNotFoundError: no such directory, or no ``config.toml`` in it.
            DamagedFileError: ``config.toml`` cannot be read.
        """
        run = cls(directory)
        if not run.directory.is_dir():
            raise FileNotFoundError(
                f"run directory {str(run.directory)!r} does not exist; pass the directory a "
                f"training run wrote (sasrnn train --out DIR)."
            )
        run.config  # noqa: B018 - fail now on a missing or damaged config
        return run

    # -- reading ---------------------------------------------------------------------------------
    @cached_property
    def config(self) -> dict:
        path = self.directory / CONFIG_FILE
        stored = store.read_toml(path)
        damaged = f"{str(path)!r} is damaged ({{}}); restore it or {self._fix}."
        if "task" not in stored:
            raise store.DamagedFileError(damaged.format("it names no task"))
        config = completed_config(stored)
        missing = set(flat_keys(config)) - set(flat_keys(stored))
        if missing and store.config_hash(stored) != self._recorded_config_hash():
            raise store.DamagedFileError(
                damaged.format(
                    f"{len(missing)} keys missing, e.g. {sorted(missing)[0]!r}, and it does not "
                    f"match the config hash recorded in {RUN_FILE}"
                )
            )
        return config

    def _recorded_config_hash(self) -> str | None:
        """The config hash in ``run.json`` (None when it is missing or unreadable)."""
        try:
            return self.info.get("config_hash")
        except store.DamagedFileError:
            return None

    @cached_property
    def task(self):
        return task_from_config(self.config)

    @property
    def info(self) -> dict:
        path = self.directory / RUN_FILE
        return store.read_json(path, "run-info", fix=self._fix) if path.is_file() else {}

    @cached_property
    def metrics(self) -> dict:
        return store.read_json(self._result(METRICS_FILE), "metrics", fix=self._fix)

    @cached_property
    def params(self) -> dict[str, np.ndarray]:
        return store.read_arrays(self._result(PARAMS_FILE), fix=self._fix)

    @property
    def finished(self) -> bool:
        return self.info.get("status") == "finished"

    @cached_property
    def snapshots(self) -> Snapshots:
        return Snapshots(self.directory / SNAPSHOT_DIR)

    def network(self, epoch: int | None = None) -> SaSNetwork:
        """The trained network (``epoch`` None) or the snapshot of ``epoch`` (0 = initial state).

        The structure (readout, loss, the task's input mask) comes from the config; the values
        from ``params.npz`` or the snapshot.

        Raises:
            ValueError: the run's task has no network (the toy model).
            FileNotFoundError: the run has not finished, or there is no snapshot of ``epoch``.
        """
        if not self.task.has_network:
            raise ValueError(
                f"{str(self.directory)!r} is a {self.config['task']} run, which trains no "
                f"network; its parameters are run.params."
            )
        params = self.params if epoch is None else self.snapshots.at(epoch)
        network = build_network(self.config, self.task, np.random.default_rng(0))
        network.set_parameters({block: params[block] for block in network.parameters()})
        return network

    @property
    def _fix(self) -> str:
        return f"train the run again (sasrnn train ... --out {self.directory})"

    def _result(self, name: str) -> Path:
        path = self.directory / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(path)!r} is missing: the run has not finished; continue it with "
                f"`sasrnn train ... --out {self.directory} --resume`."
            )
        return path

    # -- writing (the trainer) -------------------------------------------------------------------
    def write_snapshot(self, epoch: int, params: dict) -> Path:
        """Store the parameters after ``epoch`` (0 = initial state)."""
        return store.write_arrays(self.directory / SNAPSHOT_DIR / _snapshot_name(epoch), params)

    def write_params(self, params: dict) -> Path:
        """Store the final parameters."""
        self.__dict__.pop("params", None)
        return store.write_arrays(self.directory / PARAMS_FILE, params)

    def write_metrics(self, metrics: dict) -> Path:
        """Store ``{"epochs": [...], "final": {...}}`` (non-finite numbers become null)."""
        self.__dict__.pop("metrics", None)
        return store.write_json(self.directory / METRICS_FILE, "metrics", metrics)

    def write_checkpoint(self, arrays: dict, state: dict) -> Path:
        """Store the training state: ``arrays`` (parameters, optimizer state) and ``state``
        (counters, RNG states, history), in one file.

        The new checkpoint is written atomically beside the newest one and read back in full;
        only then does the newest become ``checkpoint.previous.npz`` and the new one take its
        place, so a damaged checkpoint never costs the run. A newest checkpoint this handle did
        not verify (a damaged one the run resumed past) is replaced, not kept as the previous.

        Raises:
            DamagedFileError: the new checkpoint cannot be read back (the newest is kept).
        """
        path = self.directory / CHECKPOINT_FILE
        written = store.write_checkpoint(self.directory / _NEXT_CHECKPOINT_FILE, arrays, state)
        store.read_checkpoint(
            written, fix=f"the checkpoint in {str(path)!r} is kept; check the disk and --resume"
        )
        if path.is_file() and self._newest_checkpoint_verified:
            _keep_as_previous(path, self.directory / PREVIOUS_CHECKPOINT_FILE)
        os.replace(written, path)
        self._newest_checkpoint_verified = True
        return path

    def read_checkpoint(self) -> tuple[dict, dict] | None:
        """``(arrays, state)`` of the newest readable checkpoint, or None when there is none yet.

        A damaged or missing ``checkpoint.npz`` falls back to ``checkpoint.previous.npz`` (one
        line on stderr says so): training replays from there with the RNG states stored in it.

        Raises:
            DamagedFileError: the newest checkpoint is damaged and there is no readable previous.
        """
        path = self.directory / CHECKPOINT_FILE
        previous = self.directory / PREVIOUS_CHECKPOINT_FILE
        fix = "delete it to restart the run from the beginning"
        try:
            checkpoint = store.read_checkpoint(path, fix=fix)
        except (FileNotFoundError, store.DamagedFileError) as error:
            if not previous.is_file():
                if isinstance(error, FileNotFoundError):
                    return None
                raise
            checkpoint = store.read_checkpoint(previous, fix=fix)
            what = "is damaged" if isinstance(error, store.DamagedFileError) else "is missing"
            print(
                f"warning: {str(path)!r} {what}; resuming from the previous checkpoint "
                f"(epoch {checkpoint[1]['epoch']}, minibatch {checkpoint[1]['batch']}).",
                file=sys.stderr,
            )
            self._newest_checkpoint_verified = False
            return checkpoint
        self._newest_checkpoint_verified = True
        return checkpoint

    def update_info(self, **fields) -> dict:
        """Merge ``fields`` into ``run.json`` and write it; returns the new content."""
        info = {**self.info, **fields}
        store.write_json(self.directory / RUN_FILE, "run-info", info)
        return info

    def start(self) -> dict:
        """Mark the run running in ``run.json``: a new record, or a resume time appended."""
        if self.info:
            return self.update_info(
                status="running", resumed_at=[*self.info.get("resumed_at", []), _now()]
            )
        return self.update_info(
            **store.run_metadata(self.config), status="running", started_at=_now()
        )

    def finish(self) -> dict:
        """Mark the run finished in ``run.json``."""
        return self.update_info(status="finished", finished_at=_now())
