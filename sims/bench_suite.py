"""``sasrnn bench --suite``: the speed of the whole job, as ratios measured in one process.

Everything is timed in this one process, on whatever the project's public entry points do
(:func:`sims.train.train_run`, ``task.epoch_metrics``, ``task.evaluate``,
:func:`sims.analyses.vip.vip_analysis`, :func:`theory.rntk`), so that the ratios hold on a shared
machine and follow the code they time. The items:

- **step**: the core benchmark (:func:`sims.bench.run_benchmark`) at the trainer's sizes: the
  training step against the GEMM floor, and its GFLOP/s against the machine's peak.
- **trainer**: a paper-preset pixel-MNIST run of ``train_epochs`` epochs of
  ``train_minibatches`` minibatches, no per-epoch evaluation; a minibatch takes the epoch's
  ``seconds`` / minibatches (the best epoch after the first, which includes compilation; the
  best of four by default, as the step is a best of ``repeats``), against the step, given its
  noise: the trainer's noise, data and bookkeeping are the difference.
- **epoch evaluation**: ``task.epoch_metrics`` (the mean-field test accuracy on the test images
  of the paper preset, 1,000 for the embedded data) against an epoch of ``epoch_minibatches``
  minibatches, estimated as that many trainer minibatches; also its CPU seconds (both cores),
  which a loaded machine inflates less than its wall time.
- **final evaluation**: ``task.evaluate`` (all four readings, 10 sampled networks of each kind)
  of the trained pixel network: seconds, and against a minibatch.
- **vip**: a paper multisensory run (seed ``seed``) trained here, then ``vip_analysis`` of it at
  its defaults (11 fractions, 20 test batches) with the random control only
  (:data:`VIP_TIMED_CONTROLS`, the protocol the 60 s target was set on), and again with every
  control: seconds, seconds per evaluated network (test batches of one removal curve point),
  and against the run's training time.
- **rntk**: the compiled RNTK against :func:`reference_rntk`, a per-(t, t') loop like the
  official ``SaS_RNTK.RNTK.GP_kernel``.

Every time after a first, untimed call of the same code (compilation), except the trainer's
(whose first epoch is dropped) and the multisensory training (timed whole, as a user waits for
it). Settings that differ from :class:`SuiteSettings`' defaults are reported as ``reductions``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from sims.analyses.vip import CONTROLS, DEFAULT_FRACTIONS, vip_analysis
from sims.bench import PEAK_SIZE, best_times, run_benchmark, thread_settings
from sims.presets import resolve_config
from sims.store import git_commit
from sims.train import build_task, train_run
from theory.rntk import relu_arccos_kernels, rntk

__all__ = ["SuiteSettings", "reference_rntk", "rntk_against_loop", "run_suite"]


#: The controls of the timed VIP analysis: the random one, as the 60 s target was set on.
VIP_TIMED_CONTROLS = ("random",)


@dataclass(frozen=True)
class SuiteSettings:
    """Sizes of ``sasrnn bench --suite``; the defaults measure the paper's settings.

    Attributes:
        repeats: best of this many round-robin timings (step, floor, peak, RNTK).
        peak_size: side n of the products measuring the peak.
        train_epochs: epochs of the pixel trainer run (≥ 2; the first is dropped).
        train_minibatches: minibatches per epoch of that run.
        epoch_minibatches: minibatches of the epoch the per-epoch evaluation is set against.
        eval_repeats: best of this many per-epoch evaluations.
        pixel_overrides: ``key=value`` config overrides of the pixel runs (default none: paper).
        msi_overrides: ``key=value`` config overrides of the multisensory run (default none).
        rntk_steps, rntk_batch, rntk_alpha: the RNTK comparison's T, B and α (inputs of 28).
        seed: seed of every run and evaluation.
    """

    repeats: int = 5
    peak_size: int = PEAK_SIZE
    train_epochs: int = 5
    train_minibatches: int = 8
    epoch_minibatches: int = 31
    eval_repeats: int = 3
    pixel_overrides: tuple[str, ...] = ()
    msi_overrides: tuple[str, ...] = ()
    rntk_steps: int = 28
    rntk_batch: int = 128
    rntk_alpha: float = 0.5
    seed: int = 0

    def __post_init__(self):
        for name in ("pixel_overrides", "msi_overrides"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        counts = {
            "repeats": 1,
            "peak_size": 1,
            "train_epochs": 2,
            "train_minibatches": 1,
            "epoch_minibatches": 1,
            "eval_repeats": 1,
            "rntk_steps": 1,
            "rntk_batch": 1,
        }
        for name, least in counts.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}; got {value!r}.")
        if not 0.0 < self.rntk_alpha <= 1.0:
            raise ValueError(f"rntk_alpha must be in (0, 1]; got {self.rntk_alpha!r}.")

    def reductions(self) -> dict:
        """The settings that differ from the defaults, by name."""
        default = SuiteSettings()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


def reference_rntk(x, alpha, s_in=1.0, s_rec=1.0, s_out=1.0, s_h0=1.0, xi_mean=0.5):
    """Θ (B, B) by the docs/model.md §5.1 recursions, one (t, t') entry at a time with explicit
    d-sums (O(T³) kernel updates, one Python iteration per entry), for inputs x (T, B, n_in)."""
    n_steps, batch, n_in = x.shape
    decay = 1.0 - alpha
    eye = np.eye(batch)
    sigma = {}  # keys (t, t') with t, t' in -1..T-1

    def var(t):
        return np.diag(sigma[(t, t)])

    def gauss(t, tp):
        return relu_arccos_kernels(sigma[(t, tp)], var(t)[:, None], var(tp)[None, :])

    omega = {}
    for t in range(-1, n_steps):
        for tp in range(-1, n_steps):
            if t == -1 or tp == -1:
                sigma[(t, tp)] = decay ** (t + tp + 2) * s_h0**2 * eye
    for level in range(n_steps):
        pairs = [(level, j) for j in range(level + 1)] + [(j, level) for j in range(level)]
        for t, tp in pairs:
            k, _ = gauss(t - 1, tp - 1)
            value = s_rec**2 * k + s_in**2 / n_in * x[t] @ x[tp].T
            if t == tp:
                value = value + xi_mean * np.diag(np.diag(k))
            omega[(t, tp)] = value
        for t, tp in pairs:
            value = decay**2 * sigma[(t - 1, tp - 1)] + alpha**2 * omega[(t, tp)]
            for d in range(1, tp + 1):
                value = value + decay**d * alpha**2 * omega[(t, tp - d)]
            for d in range(1, t + 1):
                value = value + decay**d * alpha**2 * omega[(t - d, tp)]
            sigma[(t, tp)] = value
    last = n_steps - 1
    pi = {(last, last): s_out**2 * gauss(last, last)[1]}
    for t in range(n_steps):
        pi[(last, t)] = pi[(t, last)] = decay ** (last - t) * pi[(last, last)]
    gamma = {}
    for level in range(last - 1, -1, -1):
        pairs = [(level, j) for j in range(level, last)] + [
            (j, level) for j in range(level + 1, last)
        ]
        for t, tp in pairs:
            gamma[(t, tp)] = s_rec**2 * gauss(t, tp)[1] * pi[(t + 1, tp + 1)]
        for t, tp in pairs:
            value = decay**2 * pi[(t + 1, tp + 1)] + alpha**2 * gamma[(t, tp)]
            for d in range(1, last - tp):
                value = value + decay**d * alpha**2 * gamma[(t, tp + d)]
            for d in range(1, last - t):
                value = value + decay**d * alpha**2 * gamma[(t + d, tp)]
            pi[(t, tp)] = value
    theta = 0.0
    for t in range(n_steps):
        for tp in range(n_steps):
            k, _ = gauss(t - 1, tp - 1)
            theta = theta + 2 * alpha**2 * s_rec**2 * pi[(t, tp)] * k
            theta = theta + alpha**2 * s_in**2 / n_in * pi[(t, tp)] * (x[t] @ x[tp].T)
    return theta + s_out**2 * gauss(last, last)[0]


def rntk_against_loop(
    steps: int = 28, batch: int = 128, alpha: float = 0.5, repeats: int = 5, seed: int = 0
) -> dict:
    """The compiled :func:`theory.rntk` against :func:`reference_rntk` (on one BLAS thread: its
    small products lose on threaded BLAS), round-robin, best of ``repeats``, on inputs
    x ~ U(0, 1) of shape (steps, batch, 28); with max|Θ_fast − Θ_loop| / max|Θ_loop|."""
    x = np.random.default_rng(seed).uniform(0.0, 1.0, size=(steps, batch, 28))
    kernels = {}

    def fast():
        kernels["fast"] = rntk(x, alpha)

    def loop():
        kernels["loop"] = reference_rntk(x, alpha)

    best = best_times({"fast": fast, "loop": loop}, repeats, blas_threads={"loop": 1})
    scale = float(np.abs(kernels["loop"]).max())
    return {
        "T": steps,
        "B": batch,
        "alpha": alpha,
        "fast_seconds": best["fast"],
        "loop_seconds": best["loop"],
        "loop_over_fast": best["loop"] / best["fast"],
        "max_relative_difference": float(np.abs(kernels["fast"] - kernels["loop"]).max()) / scale,
        "numba_threads": numba.get_num_threads(),
        "loop_blas_threads": 1,
    }


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _best_of(function, repeats: int) -> tuple[float, float]:
    """Best wall time (s) of ``repeats`` calls of ``function``, after one untimed call, and the
    process CPU time (s, both cores) of that call: the CPU time varies less with the load."""
    function()
    best = (np.inf, np.inf)
    for _ in range(repeats):
        cpu = time.process_time()
        wall = _timed(function)
        best = min(best, (wall, time.process_time() - cpu))
    return best


def _step_shape(config: dict, task) -> dict:
    """The core benchmark's sizes of a run config: the trainer's T, B, n_in, N, n_out."""
    return {
        "n_steps": int(task.n_steps),
        "batch": int(config["batch_size"]),
        "n_in": int(task.n_in),
        "n_rec": int(config["network"]["n_rec"]),
        "n_out": int(task.n_out),
    }


def _test_images(config: dict, task) -> int:
    """How many test images an evaluation under ``config`` reads."""
    limit = config["evaluation"]["test_samples"]
    return min(limit, task.data.n_test) if limit else int(task.data.n_test)


def _pixel_items(settings: SuiteSettings, directory: Path) -> dict:
    """The step, the trainer, the per-epoch and the final evaluation (one pixel-MNIST run)."""
    seed = settings.seed
    paper = resolve_config("pixel-mnist", overrides=settings.pixel_overrides, seed=seed)
    # The run's own final evaluation is not timed; it reads one image once, to take no time.
    trainer_overrides = ["eval_every=0", "evaluation.n_samples=1", "evaluation.test_samples=1"]
    train_config = resolve_config(
        "pixel-mnist",
        overrides=[*settings.pixel_overrides, *trainer_overrides],
        seed=seed,
        epochs=settings.train_epochs,
        batches_per_epoch=settings.train_minibatches,
    )
    task = build_task(paper)
    shape = _step_shape(paper, task)
    step = run_benchmark(settings.repeats, shape=shape, peak_size=settings.peak_size)

    run = train_run(train_config, directory / "pixel", progress=False)
    minibatches = settings.train_minibatches
    per_epoch = [e["seconds"] / minibatches for e in run.metrics["epochs"]]
    minibatch = min(per_epoch[1:])
    step_seconds = step[f"{paper['dtype']}_step_seconds"]  # the step of the run's dtype
    trainer = {
        "epochs": settings.train_epochs,
        "minibatches_per_epoch": minibatches,
        "config_overrides": trainer_overrides,
        "minibatch_seconds_per_epoch": per_epoch,
        "minibatch_seconds": minibatch,
        "dtype": paper["dtype"],
        "step_seconds": step_seconds,
        "minibatch_over_step": minibatch / step_seconds,
    }

    net = run.network()
    epoch = settings.epoch_minibatches * minibatch
    epoch_seconds, epoch_cpu_seconds = _best_of(
        lambda: task.epoch_metrics(net, np.random.default_rng([seed, 1, 0]), paper),
        settings.eval_repeats,
    )
    epoch_evaluation = {
        "test_images": _test_images(paper, task),
        "seconds": epoch_seconds,
        "cpu_seconds": epoch_cpu_seconds,
        "epoch_minibatches": settings.epoch_minibatches,
        "epoch_seconds_estimate": epoch,
        "evaluation_over_epoch": epoch_seconds / epoch,
    }

    warm = copy.deepcopy(paper)  # the same code on two images, one network of each kind
    warm["evaluation"].update(n_samples=1, test_samples=2)
    task.evaluate(net, np.random.default_rng(seed), warm)
    final_seconds = _timed(lambda: task.evaluate(net, np.random.default_rng(seed), paper))
    final_evaluation = {
        "test_images": _test_images(paper, task),
        "n_samples": paper["evaluation"]["n_samples"],
        "seconds": final_seconds,
        "over_minibatch": final_seconds / minibatch,
        "over_epoch": final_seconds / epoch,
    }
    return {
        "step": step,
        "trainer": trainer,
        "epoch_evaluation": epoch_evaluation,
        "final_evaluation": final_evaluation,
    }


def _vip_item(settings: SuiteSettings, directory: Path) -> dict:
    """Train a multisensory paper run, then time ``vip_analysis`` of it (module docstring)."""
    config = resolve_config("multisensory", overrides=settings.msi_overrides, seed=settings.seed)
    training = time.perf_counter()
    run = train_run(config, directory / "msi", progress=False)
    training = time.perf_counter() - training
    net, task = run.network(), run.task
    vip_analysis(net, task, seed=settings.seed, fractions=(0.0,), n_batches=1)  # compilation
    timed = {}
    for name, controls in (("vip_and_random", VIP_TIMED_CONTROLS), ("every_control", CONTROLS)):
        seconds = _timed(
            lambda controls=controls: vip_analysis(net, task, seed=settings.seed, controls=controls)
        )
        # the intact network, then each curve (VIP and the controls) at every fraction p > 0
        networks = 1 + (1 + len(controls)) * (len(DEFAULT_FRACTIONS) - 1)
        timed[name] = {
            "seconds": seconds,
            "networks": networks,
            "seconds_per_network": seconds / networks,
        }
    seconds = timed["vip_and_random"]["seconds"]
    return {
        "msi_training_seconds": training,
        "msi_iterations": len(run.metrics["epochs"]),
        "seconds": seconds,
        "over_msi_training": seconds / training,
        "controls": timed,
    }


def run_suite(settings: SuiteSettings | None = None) -> dict:
    """Time every item of the suite (module docstring) in this process; returns the report."""
    settings = SuiteSettings() if settings is None else settings
    started, load_before = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sasrnn-bench-") as folder:
        pixel = _pixel_items(settings, Path(folder))
        vip = _vip_item(settings, Path(folder))
    rntk_item = rntk_against_loop(
        settings.rntk_steps,
        settings.rntk_batch,
        settings.rntk_alpha,
        settings.repeats,
        settings.seed,
    )
    step, peak = pixel["step"], pixel["step"]["peak"]
    ratios = {
        "float64_step_over_floor": step["float64_step_over_floor"],
        "float32_step_over_float64_floor": step["float32_step_over_float64_floor"],
        "float64_step_fraction_of_peak": peak["float64_step_fraction_of_peak"],
        "float32_step_fraction_of_peak": peak["float32_step_fraction_of_peak"],
        "minibatch_over_step": pixel["trainer"]["minibatch_over_step"],
        "epoch_evaluation_over_epoch": pixel["epoch_evaluation"]["evaluation_over_epoch"],
        "final_evaluation_over_minibatch": pixel["final_evaluation"]["over_minibatch"],
        "vip_over_msi_training": vip["over_msi_training"],
        "rntk_loop_over_fast": rntk_item["loop_over_fast"],
    }
    return {
        "ratios": ratios,
        **pixel,
        "vip": vip,
        "rntk": rntk_item,
        "settings": dataclasses.asdict(settings),
        "reductions": settings.reductions(),
        "threads": thread_settings(),
        "git_commit": git_commit(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "seconds_total": time.perf_counter() - started,
    }
