"""Training runs: mean-field generalized BPTT on (m, π, Ξ) with the official protocols
(docs/model.md §2).

:class:`Trainer` follows scikit-learn's shape: ``Trainer(config).fit(out_dir)`` returns the trainer
with ``network_``, ``history_`` (per-epoch metrics), ``final_`` (final evaluation) and
``stopped_early_``. :func:`train_run` is the library entry point of ``sasrnn train``,
``sasrnn reproduce`` and scans; :func:`load_run` reads a run directory back (config, rebuilt
network, metrics, lazy snapshots).

Randomness. ``SeedSequence(seed).spawn(4)`` gives four independent streams: network
initialisation, data (minibatch order, MSI input noise), training noise (ε, ε_out and the private
noise ξ of every minibatch) and evaluation. The per-epoch test accuracy of epoch e uses
``default_rng([seed, 1, e])``, so no evaluation touches the training streams.

One training step on a minibatch (x, y, mask): draw ε (T, B, N), ε_out and, if σ_rec > 0, ξ
(T, B, N) (with ``fluctuation = false`` ε and ε_out are then set to 0: the deterministic-pass
ablation); compute the batch-mean loss and its exact gradient (:func:`dynamics.mean_field_grads`);
stop on NaN/inf; update with the task's optimizer (:class:`dynamics.Optimizer`, schedule step =
epoch index, which is the iteration index for the MSI).

Resume. A checkpoint (``checkpoint.npz``, written atomically) holds the parameters, the
optimizer state, the data stream's state at the start of the current epoch and now, the noise
stream's state, the epoch and batch counters, and the metrics so far. Resuming restores all of
them, replays the epoch's minibatch order from the epoch-start state and skips the batches already
done, so a killed run finishes with parameters bit-identical to an uninterrupted one.
Checkpoints are written every ``checkpoint_every`` minibatches and at the end of every epoch.

The sine task is the toy model of docs/model.md §3.6 (:func:`dynamics.toy.train_toy`): one call,
per-epoch
records in metrics.json, initial and final synapse parameters as snapshots.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dynamics import BLOCK_NAMES, Optimizer, SaSLayer, SaSNetwork, mean_field_grads
from dynamics.toy import toy_initial_parameters, train_toy
from sims import evaluate, store
from sims.presets import LAYERS, TASK_NAMES, paper_config, validate_config
from sims.tasks import make_task

__all__ = [
    "RunResult",
    "Snapshots",
    "Trainer",
    "TrainingDiverged",
    "build_network",
    "build_optimizer",
    "build_task",
    "final_evaluation",
    "load_run",
    "train_run",
]

_EVAL_STREAM = 1  # default_rng([seed, _EVAL_STREAM, epoch]) for per-epoch test accuracies
_FINAL_EVAL_STREAM = 2


class TrainingDiverged(ValueError):
    """A loss, gradient or parameter became NaN or inf; the last good checkpoint is kept."""


# -- building blocks -----------------------------------------------------------------------------
def build_task(config: dict):
    """The task of a config, with the run's data source, batch sizes and dtype.

    Raises:
        FileNotFoundError / ValueError: missing or corrupt data, bad task options.
    """
    name = config["task"]
    options = {"dtype": config["dtype"]}
    if name in ("pixel-mnist", "row-mnist"):
        options.update(
            source=config["data"],
            batch_size=config["batch_size"],
            test_batch_size=config["evaluation"]["test_batch_size"],
            minibatches_per_epoch=config["batches_per_epoch"],
        )
    elif name == "binary-mnist":
        options.update(source=config["data"])
    elif name == "multisensory":
        options.update(batch_size=config["batch_size"], test_dt=config["evaluation"]["test_dt"])
    options.update(config.get("task_options", {}))
    return make_task(name, **options)


def build_network(config: dict, task, rng: np.random.Generator) -> SaSNetwork:
    """The initial network of docs/model.md §2.5 from the ``[network]`` and ``[init]`` tables.

    Per layer in the order inp, rec, out: m = m_scale·N(0, 1) ("normal"), m_scale·I ("identity")
    or 0 ("zeros"); then Ξ = xi_scale·U(0, 1); then π = pi_scale·U(0, 1). A draw is skipped
    (no random numbers used) when its scale is 0. The multisensory input layer gets the task's
    structural mask (π = 1, m = Ξ = 0 on forbidden pairs, docs/model.md §3.3).
    """
    network = config["network"]
    n_rec = network["n_rec"]
    dtype = np.dtype(config["dtype"])
    shapes = {"inp": (n_rec, task.n_in), "rec": (n_rec, n_rec), "out": (task.n_out, n_rec)}
    layers = {}
    for name in LAYERS:
        spec, shape = config["init"][name], shapes[name]
        if spec["m"] == "normal" and spec["m_scale"] > 0:
            m = spec["m_scale"] * rng.standard_normal(shape)
        elif spec["m"] == "identity":
            m = spec["m_scale"] * np.eye(n_rec)
        else:
            m = np.zeros(shape)
        xi = spec["xi_scale"] * rng.random(shape) if spec["xi_scale"] > 0 else np.zeros(shape)
        pi = spec["pi_scale"] * rng.random(shape) if spec["pi_scale"] > 0 else np.zeros(shape)
        absent = None
        if name == "inp" and hasattr(task, "input_absent_mask"):
            absent = task.input_absent_mask(n_rec)
        layers[name] = SaSLayer(m, pi, xi, absent=absent, dtype=dtype)
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


def build_optimizer(config: dict) -> Optimizer:
    """The :class:`dynamics.Optimizer` of the ``[optimizer]`` table (docs/model.md §2.4)."""
    opt = config["optimizer"]
    per_block = {
        table: {f"{layer}.{p}": opt[table][layer][p] for layer in LAYERS for p in ("m", "pi", "xi")}
        for table in ("lr", "halve_every")
    }
    halve = {
        block: (int(value) if value > 0 else None)
        for block, value in per_block["halve_every"].items()
    }
    return Optimizer(
        method=opt["method"],
        lr=per_block["lr"],
        halve_every=halve,
        lr_floor=opt["lr_floor"],
        weight_decay=dict(opt["weight_decay"]),
        l2=dict(opt["l2"]),
        clip=None if opt["clip"] == "none" else opt["clip"],
        clip_bound=opt["clip_bound"],
    )


def _epoch_batches(task, rng: np.random.Generator, config: dict):
    """The minibatches of one epoch (MNIST: a fresh shuffle; otherwise independent draws)."""
    count = config["batches_per_epoch"]
    if hasattr(task, "epoch_batches"):
        return task.epoch_batches(rng, batch_size=config["batch_size"], n_minibatches=count)
    if config["task"] == "binary-mnist" and config["batch_size"] >= task.n_train:
        return (task.train_batch(rng) for _ in range(count))  # full batch, fixed order
    return (task.train_batch(rng, config["batch_size"]) for _ in range(count))


def final_evaluation(net: SaSNetwork, task, config: dict, rng: np.random.Generator) -> dict:
    """The "final" block of metrics.json (see :mod:`sims.evaluate`)."""
    evaluation = config["evaluation"]
    if config["task"] == "multisensory":
        return evaluate.evaluate_multisensory(
            net,
            task,
            rng,
            mode=evaluation["psychometric_mode"],
            n_batches=evaluation["n_test_batches"],
            test_dt=evaluation["test_dt"],
        )
    return evaluate.evaluate_classification(
        net, task, rng, n_samples=evaluation["n_samples"], max_samples=evaluation["test_samples"]
    )


def _seeded_streams(seed: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]


def _finite(loss: float, arrays) -> bool:
    return bool(np.isfinite(loss)) and all(np.all(np.isfinite(a)) for a in arrays)


# -- the trainer ---------------------------------------------------------------------------------
class Trainer:
    """Train a spike-and-slab RNN on one task from a resolved config (:mod:`sims.presets`).

    Example:
        >>> from sims.presets import resolve_config
        >>> config = resolve_config("row-mnist", epochs=2, batches_per_epoch=3)
        >>> trainer = Trainer(config).fit(progress=False)
        >>> trainer.final_["test_accuracy_meanfield"]

    Args:
        config: a config dict (validated in :meth:`fit`).

    Attributes (after :meth:`fit`):
        network_: the trained :class:`SaSNetwork` (None for the sine toy model).
        params_: the trained parameters by block name (for the toy: "m", "pi", "xi").
        history_: list of per-epoch metric dicts.
        final_: dict of final metrics (see :func:`final_evaluation`).
        stopped_early_: whether the early-stop rule fired (MSI).
        task_: the task instance.
    """

    def __init__(self, config: dict):
        self.config = config

    # -- public ----------------------------------------------------------------------------------
    def fit(self, out_dir=None, resume: bool = False, progress: bool = True) -> Trainer:
        """Train; with ``out_dir``, write config, run.json, checkpoints, snapshots and metrics.

        Args:
            out_dir: run directory, or None to train in memory only.
            resume: continue the run in ``out_dir`` from its checkpoint (starts afresh if there is
                none yet).
            progress: show a tqdm progress bar.

        Returns:
            self.

        Raises:
            ValueError: invalid config; ``out_dir`` holds a different run or a finished/other run
                without ``resume``.
            TrainingDiverged: NaN or inf during training (the last good checkpoint is kept).
            FileNotFoundError: missing data.
        """
        config = validate_config(copy.deepcopy(self.config))
        self.task_ = build_task(config)  # fails early on bad data, before touching out_dir
        out = None if out_dir is None else Path(out_dir)
        checkpoint = _prepare_run_dir(out, config, resume) if out is not None else None
        if out is not None:
            info = _start_run_info(out, config, resumed=checkpoint is not None)
        self._out, self._config = out, config
        try:
            if config["task"] == "sine":
                self._fit_toy(config)
            else:
                self._fit_network(config, checkpoint, progress)
        except TrainingDiverged as error:
            if out is not None:
                store.atomic_write_json(
                    out / store.RUN_FILE, {**info, "status": "diverged", "error": str(error)}
                )
            raise
        if out is not None:
            info.update(status="finished", finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
            store.atomic_write_json(out / store.RUN_FILE, info)
        return self

    # -- network tasks ---------------------------------------------------------------------------
    def _fit_network(self, config, checkpoint, progress):
        task, out = self.task_, self._out
        init_rng, data_rng, noise_rng, eval_rng = _seeded_streams(config["seed"])
        net = build_network(config, task, init_rng)
        opt = build_optimizer(config)
        state = {
            "epoch": 0,
            "batch": 0,
            "loss_sum": 0.0,
            "history": [],
            "stopped_early": False,
            "finished": False,
            "data_epoch_start": data_rng.bit_generator.state,
        }
        if checkpoint is not None:
            arrays, state = checkpoint
            net.set_parameters({b: arrays[f"param/{b}"] for b in BLOCK_NAMES})
            opt.load_state_dict({k[4:]: v for k, v in arrays.items() if k.startswith("opt/")})
            data_rng.bit_generator.state = state["data_rng"]
            noise_rng.bit_generator.state = state["noise_rng"]
        elif out is not None:
            self._snapshot(net, 0)
            self._checkpoint(net, opt, state, data_rng, noise_rng)
        epochs, per_epoch = config["epochs"], config["batches_per_epoch"]
        bar = tqdm(
            total=epochs * per_epoch,
            initial=state["epoch"] * per_epoch + state["batch"],
            disable=not progress,
            desc=config["task"],
            unit="batch",
            leave=False,
        )
        last_accuracy = next(
            (
                h["test_accuracy_meanfield"]
                for h in reversed(state["history"])
                if "test_accuracy_meanfield" in h
            ),
            None,
        )
        try:
            while state["epoch"] < epochs and not state["stopped_early"] and not state["finished"]:
                self._run_epoch(net, opt, state, data_rng, noise_rng, bar, last_accuracy)
                last_accuracy = state["history"][-1].get("test_accuracy_meanfield", last_accuracy)
        finally:
            bar.close()
        self.network_ = net
        self.params_ = {b: a.copy() for b, a in net.parameters().items()}
        self.history_ = state["history"]
        self.stopped_early_ = bool(state["stopped_early"])
        self.final_ = final_evaluation(net, task, config, eval_rng)
        if config["task"] == "multisensory":
            self.final_["final_train_mse"] = self.history_[-1]["train_loss"]
        self.final_.update(epochs_trained=len(self.history_), stopped_early=self.stopped_early_)
        if out is not None:
            state["finished"] = True
            self._write_results(net)
            self._checkpoint(net, opt, state, data_rng, noise_rng)

    def _run_epoch(self, net, opt, state, data_rng, noise_rng, bar, last_accuracy):
        config, task = self._config, self.task_
        epoch, start = state["epoch"], time.perf_counter()
        if state["batch"] == 0:
            state["data_epoch_start"] = data_rng.bit_generator.state
            state["loss_sum"] = 0.0
        now = data_rng.bit_generator.state
        data_rng.bit_generator.state = state["data_epoch_start"]
        batches = _epoch_batches(task, data_rng, config)
        for _ in range(state["batch"]):  # replay the epoch's order up to where the run stopped
            next(batches)
        if state["batch"]:
            data_rng.bit_generator.state = now
        per_epoch, every = config["batches_per_epoch"], config["checkpoint_every"]
        for index in range(state["batch"], per_epoch):
            batch = next(batches)
            loss = self._step(net, opt, batch, noise_rng, epoch, index)
            state["loss_sum"] += loss
            state["batch"] = index + 1
            bar.update(1)
            postfix = {"epoch": epoch, "loss": f"{state['loss_sum'] / state['batch']:.4g}"}
            if last_accuracy is not None:
                postfix["test_acc"] = f"{last_accuracy:.3f}"
            bar.set_postfix(postfix, refresh=False)
            if (
                self._out is not None
                and every
                and state["batch"] % every == 0
                and state["batch"] < per_epoch
            ):
                self._checkpoint(net, opt, state, data_rng, noise_rng)
        record = {
            "epoch": epoch,
            "train_loss": state["loss_sum"] / per_epoch,
            "lr": {b: opt.learning_rate(b, epoch) for b in BLOCK_NAMES},
            "seconds": time.perf_counter() - start,
        }
        if config["eval_every"] and (epoch + 1) % config["eval_every"] == 0:
            rng = np.random.default_rng([config["seed"], _EVAL_STREAM, epoch])
            record["test_accuracy_meanfield"] = self._epoch_accuracy(net, rng)
        state["history"].append(record)
        state["epoch"], state["batch"] = epoch + 1, 0
        early = config["early_stop"]
        if (
            early["enabled"]
            and epoch >= early["min_epoch"]
            and record["train_loss"] <= early["max_loss"]
        ):
            state["stopped_early"] = True
        if self._out is not None:
            snap = config["snapshot_every"]
            if (
                (snap and state["epoch"] % snap == 0)
                or state["stopped_early"]
                or state["epoch"] == config["epochs"]
            ):
                self._snapshot(net, state["epoch"])
            self._checkpoint(net, opt, state, data_rng, noise_rng)

    def _epoch_accuracy(self, net, rng):
        if self._config["task"] == "multisensory":
            return None
        return evaluate.classification_accuracy(
            net,
            self.task_,
            mode="meanfield",
            rng=rng,
            max_samples=self._config["evaluation"]["test_samples"],
        )

    def _step(self, net, opt, batch, noise_rng, epoch, index) -> float:
        n_steps, size = batch.x.shape[:2]
        dtype = net.dtype
        eps = noise_rng.standard_normal((n_steps, size, net.n_rec), dtype=dtype)
        out_shape = (size, net.n_out) if net.readout == "last" else (n_steps, size, net.n_out)
        eps_out = noise_rng.standard_normal(out_shape, dtype=dtype)
        rec_noise = (
            noise_rng.standard_normal((n_steps, size, net.n_rec), dtype=dtype)
            if net.sigma_rec > 0
            else None
        )
        if not self._config["fluctuation"]:  # the ablation: same streams, ε = ε_out = 0
            eps[...] = 0.0
            eps_out[...] = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads = mean_field_grads(
                net,
                batch.x,
                batch.target,
                eps=eps,
                eps_out=eps_out,
                rec_noise=rec_noise,
                mask=batch.mask,
            )
            blocks = grads.blocks()
            if _finite(loss, blocks.values()):
                opt.step(net, grads, epoch)
        where = f"epoch {epoch}, minibatch {index}"
        if not _finite(loss, blocks.values()):
            raise TrainingDiverged(
                self._diverged_message(
                    f"the loss or a gradient is NaN/inf (loss = {loss}) at {where}"
                )
            )
        if not _finite(0.0, net.parameters().values()):
            raise TrainingDiverged(self._diverged_message(f"a parameter became NaN/inf at {where}"))
        return float(loss)

    def _diverged_message(self, what: str) -> str:
        keep = (
            f" The last good checkpoint is kept in {self._out / store.CHECKPOINT_FILE}."
            if self._out is not None
            else ""
        )
        return (
            f"training diverged: {what}.{keep} Lower the learning rates "
            f"(--set optimizer.lr.<layer>.<m|pi|xi>=...) or enable clipping."
        )

    # -- sine toy model --------------------------------------------------------------------------
    def _fit_toy(self, config):
        toy, task = config["toy"], self.task_
        init_rng, _, noise_rng, _ = _seeded_streams(config["seed"])
        initial = toy_initial_parameters(toy["n_synapses"], init_rng)
        sequence = task.sequence()
        result = train_toy(
            sequence,
            sequence,
            **initial,
            rng=noise_rng,
            n_epochs=config["epochs"],
            alpha=toy["alpha"],
            lr_m=toy["lr_m"],
            lr_pi=toy["lr_pi"],
            lr_xi=toy["lr_xi"],
            halve_every=toy["halve_every"],
            h0=toy["h0"],
        )
        keys = (
            "loss",
            "forward_mean",
            "forward_std",
            "gradient_mean_part",
            "gradient_variance_part",
        )
        self.history_ = [
            {"epoch": e, **{k: float(result[k][e]) for k in keys}} for e in range(config["epochs"])
        ]
        self.final_ = {
            "final_loss": float(result["final_loss"]),
            "epochs_trained": config["epochs"],
            "stopped_early": False,
        }
        self.params_ = {k: result[k] for k in ("m", "pi", "xi")}
        self.network_ = None
        self.stopped_early_ = False
        if self._out is not None:
            snapshot_dir = self._out / store.SNAPSHOT_DIR
            store.atomic_savez(snapshot_dir / _snapshot_name(0), initial)
            store.atomic_savez(snapshot_dir / _snapshot_name(config["epochs"]), self.params_)
            store.atomic_savez(self._out / store.PARAMS_FILE, self.params_)
            store.atomic_write_json(
                self._out / store.METRICS_FILE, {"epochs": self.history_, "final": self.final_}
            )

    # -- files -----------------------------------------------------------------------------------
    def _snapshot(self, net, epoch):
        store.atomic_savez(
            self._out / store.SNAPSHOT_DIR / _snapshot_name(epoch),
            {b: a for b, a in net.parameters().items()},
        )

    def _checkpoint(self, net, opt, state, data_rng, noise_rng):
        state = {
            **state,
            "data_rng": data_rng.bit_generator.state,
            "noise_rng": noise_rng.bit_generator.state,
        }
        arrays = {f"param/{b}": a for b, a in net.parameters().items()}
        arrays.update({f"opt/{k}": v for k, v in opt.state_dict().items()})
        arrays["state"] = np.array(json.dumps(store.jsonable(state)))
        store.atomic_savez(self._out / store.CHECKPOINT_FILE, arrays)

    def _write_results(self, net):
        store.atomic_savez(self._out / store.PARAMS_FILE, net.parameters())
        store.atomic_write_json(
            self._out / store.METRICS_FILE, {"epochs": self.history_, "final": self.final_}
        )


def _snapshot_name(epoch: int) -> str:
    return f"epoch_{epoch:06d}.npz"


def _prepare_run_dir(out: Path, config: dict, resume: bool):
    """Create or check the run directory; return ``(arrays, state)`` of its checkpoint or None."""
    config_path = out / store.CONFIG_FILE
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
            flat_old, flat_new = _flatten(stored), _flatten(config)
            differing = sorted(
                k for k in set(flat_old) | set(flat_new) if flat_old.get(k) != flat_new.get(k)
            )
            raise ValueError(
                f"--resume: the config differs from the one stored in "
                f"{str(config_path)!r} in {', '.join(differing)}; resume with the "
                f"same settings or choose another --out."
            )
        checkpoint_path = out / store.CHECKPOINT_FILE
        if checkpoint_path.is_file():
            with np.load(checkpoint_path) as data:
                arrays = {key: data[key] for key in data.files}
            return arrays, json.loads(str(arrays.pop("state")))
        return None
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(
            f"{str(out)!r} is not empty and holds no run ({store.CONFIG_FILE} "
            f"missing); choose an empty or new --out directory."
        )
    out.mkdir(parents=True, exist_ok=True)
    store.atomic_write_toml(config_path, config)
    return None


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _start_run_info(out: Path, config: dict, resumed: bool) -> dict:
    path = out / store.RUN_FILE
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    if path.is_file():
        info = store.read_json(path)
        info.setdefault("resumed_at", []).append(now)
        info["status"] = "running"
    else:
        info = {**store.run_metadata(config), "status": "running", "started_at": now}
    store.atomic_write_json(path, info)
    return info


def train_run(config: dict, out_dir, resume: bool = False, progress: bool = True) -> RunResult:
    """Train ``config`` into ``out_dir`` (or finish it, with ``resume``) and load the result.

    A finished run resumed again is not retrained: its stored results are returned.

    Raises:
        see :meth:`Trainer.fit`.
    """
    out = Path(out_dir)
    if resume and (out / store.CHECKPOINT_FILE).is_file() and (out / store.METRICS_FILE).is_file():
        with np.load(out / store.CHECKPOINT_FILE) as data:
            if json.loads(str(data["state"])).get("finished"):
                _prepare_run_dir(out, validate_config(copy.deepcopy(config)), resume=True)
                return load_run(out)
    Trainer(config).fit(out, resume=resume, progress=progress)
    return load_run(out)


# -- reading runs back ---------------------------------------------------------------------------
class Snapshots:
    """Lazy access to a run's per-epoch parameter snapshots (``snapshots/epoch_*.npz``).

    ``snapshots.epochs`` lists the stored epochs (0 = initial state); ``snapshots["rec.m"]`` is
    the stacked (n_snapshots, ...) trajectory of one block, read once and cached (each file's
    other blocks are not read); ``snapshots.at(epoch)`` is the dict of all blocks at one epoch.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._cache: dict[str, np.ndarray] = {}

    @property
    def files(self) -> list[Path]:
        return sorted(self.directory.glob("epoch_*.npz"))

    @property
    def epochs(self) -> np.ndarray:
        return np.array([int(path.stem.split("_")[1]) for path in self.files], dtype=np.int64)

    def keys(self) -> list[str]:
        files = self.files
        if not files:
            return []
        with np.load(files[0]) as data:
            return list(data.files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, block: str) -> np.ndarray:
        if block not in self._cache:
            files = self.files
            if not files:
                raise FileNotFoundError(f"no snapshots in {str(self.directory)!r}.")
            if block not in self.keys():
                raise KeyError(f"unknown block {block!r}; stored blocks: {self.keys()}.")
            arrays = []
            for path in files:
                with np.load(path) as data:
                    arrays.append(data[block])
            self._cache[block] = np.stack(arrays)
        return self._cache[block]

    def at(self, epoch: int) -> dict[str, np.ndarray]:
        path = self.directory / _snapshot_name(int(epoch))
        if not path.is_file():
            raise FileNotFoundError(
                f"no snapshot of epoch {epoch}; stored: {self.epochs.tolist()}."
            )
        with np.load(path) as data:
            return {key: data[key] for key in data.files}


@dataclass
class RunResult:
    """A run directory read back by :func:`load_run`.

    Attributes:
        directory: the run directory.
        config: the resolved config (from config.toml).
        network: the trained SaSNetwork rebuilt from params.npz (None for the sine toy model).
        params: the final parameters by block name.
        metrics: metrics.json ({"epochs": [...], "final": {...}}).
        info: run.json (seed, versions, git commit, status …).
        snapshots: lazy :class:`Snapshots`.
    """

    directory: Path
    config: dict
    network: SaSNetwork | None
    params: dict
    metrics: dict
    info: dict
    snapshots: Snapshots

    def task(self):
        """The run's task, rebuilt from its config."""
        return build_task(self.config)


def load_run(run_dir) -> RunResult:
    """Read a finished run: config, rebuilt network, metrics, run info and lazy snapshots.

    Raises:
        FileNotFoundError: the directory or one of its result files is missing (an unfinished
            run has no params.npz / metrics.json yet: resume it first).
    """
    directory = Path(run_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"run directory {str(directory)!r} does not exist.")
    config = _with_defaults(store.read_toml(directory / store.CONFIG_FILE))
    params_path = directory / store.PARAMS_FILE
    if not params_path.is_file():
        raise FileNotFoundError(
            f"{str(params_path)!r} is missing: the run has not finished; "
            f"continue it with `sasrnn train ... --out {directory} --resume`."
        )
    with np.load(params_path) as data:
        params = {key: data[key] for key in data.files}
    network = None
    if config["task"] != "sine":
        network = _network_from_params(config, params)
    return RunResult(
        directory=directory,
        config=config,
        network=network,
        params=params,
        metrics=store.read_json(directory / store.METRICS_FILE),
        info=store.read_json(directory / store.RUN_FILE),
        snapshots=Snapshots(directory / store.SNAPSHOT_DIR),
    )


def _with_defaults(stored: dict) -> dict:
    """A stored config completed with the paper preset's values for keys added since it was
    written (so that older run directories stay readable)."""
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


def _network_from_params(config: dict, params: dict) -> SaSNetwork:
    """Rebuild the network of a run from stored parameters (structure from the config)."""
    task = build_task(config)
    template = build_network(config, task, np.random.default_rng(0))
    template.set_parameters(params)
    return template
