"""Training runs: mean-field generalized BPTT on (m, π, Ξ) with the official protocols
(docs/model.md §2).

:class:`Trainer` follows scikit-learn's shape: ``Trainer(config).fit(out_dir)`` returns the trainer
with ``network_``, ``history_`` (per-epoch metrics), ``final_`` (final evaluation) and
``stopped_early_``. :func:`train_run` is the library entry point of ``sasrnn train``,
``sasrnn reproduce`` and scans; it returns the :class:`sims.runs.Run`, through which the trainer
writes every file and everything else reads the run back.

Randomness. ``SeedSequence(seed).spawn(4)`` gives the streams of network initialisation, data
(minibatch order, MSI input noise) and evaluation. The training noise (ε, ε_out and the private
noise ξ) is counter-based (:class:`dynamics.CounterNormals`): minibatch k of the run, counted over
all epochs, reads block k of the streams keyed by ``stream_key(seed, "eps")``, ``"eps_out"`` and
``"rec_noise"``, and the kernel draws ε and ξ on both cores as it runs. The per-epoch test
accuracy of epoch e uses ``default_rng([seed, 1, e])``, so no evaluation touches the training
streams.

One training step on minibatch k (x, y, mask): ε (T, B, N), ε_out and, if σ_rec > 0, ξ (T, B, N)
are block k of their streams (with ``fluctuation = false`` ε and ε_out are 0: the
deterministic-pass ablation); compute the batch-mean loss and its exact gradient
(:func:`dynamics.mean_field_grads`); stop on NaN/inf; update with the run's optimizer
(:class:`dynamics.Optimizer`, schedule step = epoch index, which is the iteration index for the
MSI).

Resume. A checkpoint (``checkpoint.npz``, written atomically) holds the parameters, the
optimizer state, the data stream's state at the start of the current epoch and now, the version
of the noise streams, the epoch and batch counters, and the metrics so far. Resuming restores all of
them, replays the epoch's minibatch order from the epoch-start state and skips the batches already
done, so a killed run finishes with parameters bit-identical to an uninterrupted one.
Checkpoints are written every ``checkpoint_every`` minibatches and at the end of every epoch.

What differs between tasks (minibatches, evaluation, input mask) is the task's own answer
(:class:`sims.tasks.Task`). A task without a network (the toy model of docs/model.md §3.6) is
trained by :func:`sims.toy_training.fit_toy`.
"""

from __future__ import annotations

import copy
import time

import numpy as np
from tqdm.auto import tqdm

from dynamics import BLOCK_NAMES, CounterNormals, Optimizer, mean_field_grads, stream_key
from sims.presets import LAYERS, validate_config
from sims.runs import CHECKPOINT_FILE, METRICS_FILE, Run, build_network, seeded_streams
from sims.tasks import task_from_config
from sims.toy_training import fit_toy

__all__ = [
    "Trainer",
    "TrainingDiverged",
    "build_network",
    "build_optimizer",
    "build_task",
    "train_run",
]

_EVAL_STREAM = 1  # default_rng([seed, _EVAL_STREAM, epoch]) for per-epoch test metrics
#: The training noise's generator, recorded in checkpoints: a run is resumed only with the
#: generator it started with.
NOISE_STREAMS = "philox4x32-10 ziggurat, block = minibatch index"
STREAMS = ("eps", "eps_out", "rec_noise")


class TrainingDiverged(ValueError):
    """A loss, gradient or parameter became NaN or inf; the last good checkpoint is kept."""


# -- building blocks -----------------------------------------------------------------------------
def build_task(config: dict):
    """The task of a config (:meth:`sims.tasks.Task.from_config`), with the run's data source,
    batch sizes and dtype.

    Raises:
        FileNotFoundError / ValueError: missing or corrupt data, bad task options.
    """
    return task_from_config(config)


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
        final_: dict of final metrics (:meth:`sims.tasks.Task.evaluate`).
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
        run = None if out_dir is None else Run.create(out_dir, config, resume=resume)
        checkpoint = None
        if run is not None:
            checkpoint = run.read_checkpoint()
            run.start()
        self._run, self._config = run, config
        try:
            if self.task_.has_network:
                self._fit_network(config, checkpoint, progress)
            else:
                self.history_, self.final_, self.params_ = fit_toy(config, self.task_, run)
                self.network_, self.stopped_early_ = None, False
        except TrainingDiverged as error:
            if run is not None:
                run.update_info(status="diverged", error=str(error))
            raise
        except KeyboardInterrupt:
            if run is not None:  # the last checkpoint stands; --resume continues from it
                run.update_info(status="interrupted")
            raise
        if run is not None:
            run.finish()
        return self

    # -- network tasks ---------------------------------------------------------------------------
    def _fit_network(self, config, checkpoint, progress):
        task, run = self.task_, self._run
        init_rng, data_rng, _, eval_rng = seeded_streams(config["seed"])
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
            "noise_streams": NOISE_STREAMS,
        }
        if checkpoint is not None:
            arrays, state = checkpoint
            if state.get("noise_streams") != NOISE_STREAMS:
                raise ValueError(
                    f"{run.directory} was started with another noise generator than this "
                    "version's; it cannot be resumed bit-identically. Start it anew in an "
                    "empty directory."
                )
            net.set_parameters({b: arrays[f"param/{b}"] for b in BLOCK_NAMES})
            opt.load_state_dict({k[4:]: v for k, v in arrays.items() if k.startswith("opt/")})
            data_rng.bit_generator.state = state["data_rng"]
        elif run is not None:
            run.write_snapshot(0, net.parameters())
            self._checkpoint(net, opt, state, data_rng)
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
                self._run_epoch(net, opt, state, data_rng, bar, last_accuracy)
                last_accuracy = state["history"][-1].get("test_accuracy_meanfield", last_accuracy)
        finally:
            bar.close()
        self.network_ = net
        self.params_ = {b: a.copy() for b, a in net.parameters().items()}
        self.history_ = state["history"]
        self.stopped_early_ = bool(state["stopped_early"])
        self.final_ = task.evaluate(net, eval_rng, config)
        if task.final_train_loss_key is not None:
            self.final_[task.final_train_loss_key] = self.history_[-1]["train_loss"]
        self.final_.update(epochs_trained=len(self.history_), stopped_early=self.stopped_early_)
        if run is not None:
            state["finished"] = True
            run.write_params(net.parameters())
            run.write_metrics({"epochs": self.history_, "final": self.final_})
            self._checkpoint(net, opt, state, data_rng)

    def _run_epoch(self, net, opt, state, data_rng, bar, last_accuracy):
        config, task = self._config, self.task_
        epoch, start = state["epoch"], time.perf_counter()
        if state["batch"] == 0:
            state["data_epoch_start"] = data_rng.bit_generator.state
            state["loss_sum"] = 0.0
        now = data_rng.bit_generator.state
        data_rng.bit_generator.state = state["data_epoch_start"]
        batches = task.epoch_batches(data_rng, config)
        for _ in range(state["batch"]):  # replay the epoch's order up to where the run stopped
            next(batches)
        if state["batch"]:
            data_rng.bit_generator.state = now
        per_epoch, every = config["batches_per_epoch"], config["checkpoint_every"]
        for index in range(state["batch"], per_epoch):
            batch = next(batches)
            loss = self._step(net, opt, batch, epoch, index)
            state["loss_sum"] += loss
            state["batch"] = index + 1
            bar.update(1)
            postfix = {"epoch": epoch, "loss": f"{state['loss_sum'] / state['batch']:.4g}"}
            if last_accuracy is not None:
                postfix["test_acc"] = f"{last_accuracy:.3f}"
            bar.set_postfix(postfix, refresh=False)
            if (
                self._run is not None
                and every
                and state["batch"] % every == 0
                and state["batch"] < per_epoch
            ):
                self._checkpoint(net, opt, state, data_rng)
        record = {
            "epoch": epoch,
            "train_loss": state["loss_sum"] / per_epoch,
            "lr": {b: opt.learning_rate(b, epoch) for b in BLOCK_NAMES},
            "seconds": time.perf_counter() - start,
        }
        if config["eval_every"] and (epoch + 1) % config["eval_every"] == 0:
            rng = np.random.default_rng([config["seed"], _EVAL_STREAM, epoch])
            record.update(task.epoch_metrics(net, rng, config))
        state["history"].append(record)
        state["epoch"], state["batch"] = epoch + 1, 0
        early = config["early_stop"]
        if (
            early["enabled"]
            and epoch >= early["min_epoch"]
            and record["train_loss"] <= early["max_loss"]
        ):
            state["stopped_early"] = True
        if self._run is not None:
            snap = config["snapshot_every"]
            if (
                (snap and state["epoch"] % snap == 0)
                or state["stopped_early"]
                or state["epoch"] == config["epochs"]
            ):
                self._run.write_snapshot(state["epoch"], net.parameters())
            self._checkpoint(net, opt, state, data_rng)

    def _step(self, net, opt, batch, epoch, index) -> float:
        n_steps, size = batch.x.shape[:2]
        seed, block = self._config["seed"], epoch * self._config["batches_per_epoch"] + index
        out_shape = net.output_shape(n_steps, size)
        streams = {p: CounterNormals(stream_key(seed, p), block) for p in STREAMS}
        rec_noise = streams["rec_noise"] if net.sigma_rec > 0 else None
        if self._config["fluctuation"]:
            eps = streams["eps"]
            eps_out = streams["eps_out"].array(out_shape, net.dtype)
        else:  # the ablation: the same ξ, with ε = ε_out = 0 (the variance products skipped)
            eps = eps_out = None
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
            f" The last good checkpoint is kept in {self._run.directory / CHECKPOINT_FILE}."
            if self._run is not None
            else ""
        )
        return (
            f"training diverged: {what}.{keep} Lower the learning rates "
            f"(--set optimizer.lr.<layer>.<m|pi|xi>=...) or enable clipping."
        )

    def _checkpoint(self, net, opt, state, data_rng):
        state = {**state, "data_rng": data_rng.bit_generator.state}
        arrays = {f"param/{b}": a for b, a in net.parameters().items()}
        arrays.update({f"opt/{k}": v for k, v in opt.state_dict().items()})
        self._run.write_checkpoint(arrays, state)


def train_run(config: dict, out_dir, resume: bool = False, progress: bool = True) -> Run:
    """Train ``config`` into ``out_dir`` (or finish it, with ``resume``); returns the :class:`Run`.

    A finished run resumed again is not retrained: its stored results are returned.

    Raises:
        see :meth:`Trainer.fit`.
    """
    run = Run(out_dir)
    if resume and (run.directory / METRICS_FILE).is_file():
        checkpoint = run.read_checkpoint()
        if checkpoint is not None and checkpoint[1].get("finished"):
            Run.create(out_dir, validate_config(copy.deepcopy(config)), resume=True)
            return Run.open(out_dir)
    Trainer(config).fit(out_dir, resume=resume, progress=progress)
    return Run.open(out_dir)
