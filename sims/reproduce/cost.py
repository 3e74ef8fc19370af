"""The cost model of a reproduction: one-core seconds per stage, and the wall time of the plan.

Each stage's cost is its work in one-core seconds (:func:`stage_cost`), from unit costs measured
as process CPU time (all threads) on this 2-core machine (:data:`UNIT_SECONDS`), so that the
units do not depend on what else the machine was running while they were measured. Training a
minibatch of ≥ 32 samples splits it over both cores (``dynamics.meanfield``), so a training
stage may run up to :data:`TRAINING_SPEEDUP` times faster than one core when it has the machine
to itself, and so may the VIP and selectivity analyses (:data:`ANALYSIS_SPEEDUP`); every other
stage uses one core.

:func:`estimate_wall_seconds` plays the plan through the scheduler of :mod:`.scheduler`: each
stage starts once the stages it reads are done and one of ``jobs`` worker slots is free (the
longest remaining path first), the cores shared fairly among the running stages (each up to its
speed-up cap); then the figures, drawn in the main process.

To recalibrate, compare each stage's "cpu_seconds" (its process CPU time, all threads) with its
"planned_seconds" in OUT/summary.json["stages"] of any run, and its wall "seconds" on a quiet
machine; summary.json["wall_seconds"] holds the run's wall time beside the planned one.
"""

from __future__ import annotations

from collections import defaultdict

from sims.reproduce.settings import Settings

__all__ = [
    "ANALYSIS_SPEEDUP",
    "CORES",
    "FIGURE_SECONDS",
    "TRAINING_SPEEDUP",
    "UNIT_SECONDS",
    "estimate_seconds",
    "estimate_wall_seconds",
    "stage_cost",
]

#: Cores of the machine the units were measured on (and that the wall estimate assumes).
CORES = 2
#: Wall-clock speed-up of a training stage with both cores to itself (its minibatch split in two
#: halves, one per core; less than 2 for the serial optimizer step and the evaluations).
TRAINING_SPEEDUP = 1.5
#: Speed-up of the analyses that evaluate many networks at once on both cores (VIP removal,
#: selectivity) when they have the machine to themselves.
ANALYSIS_SPEEDUP = 1.5
#: Drawing every figure in the main process after the simulations (seconds).
FIGURE_SECONDS = 45.0
#: Test images of each MNIST source when ``test_samples = 0`` (the whole test set).
_TEST_SET = {"embedded": 1000}
_IDX_TEST_SET = 10_000

#: One-core seconds per unit of work, from the process CPU time of the stages of a cold
#: ``sasrnn reproduce --standard`` on this machine (2 vCPUs with AVX-512, OpenBLAS's own choice
#: of kernels (SkylakeX), otherwise idle, two stages at a time, December 2026;
#: OUT/summary.json["stages"]); with ``OPENBLAS_CORETYPE=Haswell`` the pixel step takes 1.8 times
#: as long (0.14 s against 0.078 s). Training per image from the runs' epoch times,
#: evaluation per test image and pass from the forward-only passes (pixel: 1.0 s per mean-field
#: pass over 1,000 images, 12.5 s for the four final readings with 10 sampled networks each),
#: the rest from each stage's CPU time against its work.
UNIT_SECONDS = {
    # training: per image of a minibatch (forward, backward, update), by task and preset
    "pixel-mnist/paper/train": 2.05e-3,
    "pixel-mnist/bptt/train": 1.07e-3,
    "row-mnist/paper/train": 1.05e-4,
    "row-mnist/bptt/train": 6.4e-5,
    # evaluation: per test image and pass, by task and mode (bptt networks cost the same)
    "pixel-mnist/meanfield": 1.0e-3,
    "pixel-mnist/meanfield_eps0": 6.0e-4,
    "pixel-mnist/quenched": 1.8e-4,
    "pixel-mnist/per_step": 9.0e-4,
    "row-mnist/meanfield": 3.0e-5,
    "row-mnist/meanfield_eps0": 2.0e-5,
    "row-mnist/quenched": 1.0e-5,
    "row-mnist/per_step": 4.0e-5,
    # per training run: reading the data (the embedded MNIST text file; 70,000 gzipped IDX
    # images), writing checkpoints, snapshots and metrics
    "run_overhead": 1.0,
    "run_overhead_per_epoch": 0.03,
    "multisensory/overhead_per_iteration": 0.05,  # a checkpoint and a snapshot every iteration
    # multisensory: one 30-trial iteration (125 steps, N = 150), one 24-trial psychometric test
    # batch at dt = 0.5 ms (3,600 steps); iterations until the early stop (MSE ≤ 0.002,
    # docs/model.md §6; seeds 0–4 of the standard tier: 308–411 and 206–281)
    "multisensory/paper/iteration": 0.064,
    "multisensory/bptt/iteration": 0.033,
    "multisensory/test_batch": 0.20,
    "multisensory/paper/iterations_to_stop": 372,
    "multisensory/bptt/iterations_to_stop": 253,
    # analyses and independent stages: per evaluated network and test batch or trial, per read
    # snapshot
    "vip_test_batch": 0.20,  # one network on one VIP test batch (161 s for 820)
    "selectivity_trial": 0.053,  # one network on one selectivity trial
    "circle_per_network_n2_phi": 1.1e-7,  # × networks × Σ N² × n_phi
    "curve_per_epoch_n2": 5.9e-6,  # × networks × epochs × Σ N² (512 + 128 digits)
    "toy_run_epoch": 1.4e-3,  # × synapses / 10,000
    # × N × (steps + transient) per cell, by network kind (the mean-field cell is dearer)
    "phase_cell_step/quenched": 2.3e-7,
    "phase_cell_step/mean-field": 6.0e-7,
    "entropy_epoch_draw": 7.0e-4,  # per saved iteration and Monte Carlo draw
    "entropy_epoch": 0.07,  # per saved iteration
    "neural_projection": 0.75,  # one network on its task's projection trials
    # synaptic PCA with its nulls, per snapshot read; symmetry analysis per snapshot read
    "multisensory/synaptic_snapshot": 0.065,
    "row-mnist/synaptic_snapshot": 0.02,
    "row-mnist/symmetry_snapshot": 0.005,
    "export": 1.0,  # reading runs into a training-curves / parameters / comparison result
}


def _test_images(config: dict) -> int:
    chosen = config["evaluation"]["test_samples"]
    whole = _TEST_SET.get(config["data"], _IDX_TEST_SET)
    return min(chosen, whole) if chosen else whole


def _train_cost(config: dict) -> tuple[float, float]:
    """(one-core seconds, speed-up cap) of one training run of ``config``."""
    u, task, preset = UNIT_SECONDS, config["task"], config["preset"]
    if task == "multisensory":
        iterations = min(config["epochs"], u[f"{task}/{preset}/iterations_to_stop"])
        from sims.tasks import task_from_config

        # the unit is a batch of the paper's 24 conditions; the fine grid's has 48
        conditions = 3 * len(task_from_config(config).frequencies)
        tests = config["evaluation"]["n_test_batches"] * conditions / 24 * u[f"{task}/test_batch"]
        overhead = u["run_overhead"] + iterations * u[f"{task}/overhead_per_iteration"]
        return iterations * u[f"{task}/{preset}/iteration"] + tests + overhead, 1.0
    samples = config["epochs"] * config["batches_per_epoch"] * config["batch_size"]
    train = samples * u[f"{task}/{preset}/train"]
    images = _test_images(config)
    per_epoch = config["epochs"] // config["eval_every"] if config["eval_every"] else 0
    k = config["evaluation"]["n_samples"]
    passes = {
        "meanfield": per_epoch + 1,
        "meanfield_eps0": 1,
        "quenched": k,
        "per_step": k,
    }
    evaluation = sum(images * n * u[f"{task}/{mode}"] for mode, n in passes.items())
    overhead = u["run_overhead"] + config["epochs"] * u["run_overhead_per_epoch"]
    speedup = TRAINING_SPEEDUP if config["batch_size"] >= 32 else 1.0
    return train + evaluation + overhead, speedup


def _vip_networks(fractions) -> int:
    """Networks the VIP analysis of one run evaluates on every test batch: the intact one, and
    one per removal curve (the VIPs and each control) and removed fraction p > 0."""
    from sims.analyses.vip import CONTROLS

    return 1 + (1 + len(CONTROLS)) * sum(1 for p in fractions if p > 0)


def stage_cost(stage, settings: Settings) -> tuple[float, float]:
    """(one-core seconds, speed-up cap) of one planned stage (:class:`.plan.Stage`)."""
    s, u, p = settings, UNIT_SECONDS, stage.params
    name = stage.function.__name__
    msi_test = u["multisensory/test_batch"]
    vip_test = u["vip_test_batch"]
    msi_iterations = min(s.msi_iterations, u["multisensory/paper/iterations_to_stop"])
    if name == "stage_train":
        return _train_cost(p["config"])
    costs = {
        "stage_training_curves": lambda: u["export"],
        "stage_parameters": lambda: u["export"],
        "stage_comparison": lambda: u["export"],
        "stage_behaviour": lambda: u["export"] + 2 * msi_test / 24,
        # the first run at every fraction, the others at p = 1
        "stage_vip": lambda: (
            (_vip_networks(p["fractions"]) + (len(p["run_dirs"]) - 1) * _vip_networks([1.0]))
            * p["n_batches"]
            * vip_test
        ),
        # the trained and the untrained network of every run, 4 conditions
        "stage_selectivity": lambda: (
            len(p["run_dirs"]) * 2 * 4 * p["n_repeats"] * u["selectivity_trial"]
        ),
        "stage_projection": lambda: (
            (len(p["msi_dirs"]) + len(p["mnist_dirs"])) * 2 * u["neural_projection"]
        ),
        "stage_synaptic": lambda: (
            len(p["row_dirs"])
            * (s.row_epochs // p["row_stride"] + 1)
            * u["row-mnist/synaptic_snapshot"]
            + len(p["msi_dirs"])
            * (msi_iterations // p["msi_stride"] + 1)
            * u["multisensory/synaptic_snapshot"]
        ),
        "stage_symmetry": lambda: (
            len(p["run_dirs"]) * (s.row_epochs + 1) * u["row-mnist/symmetry_snapshot"]
        ),
        "stage_entropy": lambda: (
            len(p["run_dirs"])
            * msi_iterations
            / p["stride"]
            * (u["entropy_epoch"] + p["n_draws"] * u["entropy_epoch_draw"])
        ),
        "stage_toy": lambda: (
            p["n_runs"] * p["n_epochs"] * p["n_synapses"] / 10_000 * u["toy_run_epoch"]
        ),
        "stage_kernel_circle": lambda: (
            p["n_networks"]
            * sum(n * n for n in p["widths"])
            * p["n_phi"]
            * u["circle_per_network_n2_phi"]
        ),
        "stage_kernel_curves": lambda: (
            p["n_networks"]
            * p["epochs"]
            * sum(n * n for n in p["widths"])
            * (p["n_train"] + p["n_test"])
            / 640
            * u["curve_per_epoch_n2"]
        ),
        "stage_phase": lambda: (
            len(p["g"])
            * len(p["pi"])
            * p["seeds"]
            * p["n"]
            * (p["steps"] + p["transient"])
            * u[f"phase_cell_step/{p['network']}"]
        ),
    }
    if name not in costs:
        raise ValueError(f"no cost model for stage function {name!r}; add one to stage_cost.")
    threads = ANALYSIS_SPEEDUP if name in ("stage_vip", "stage_selectivity") else 1.0
    return float(costs[name]()), threads


def _category(stage) -> str:
    """The line of the printed plan a stage's cost is added to."""
    if stage.group.startswith(("train-", "phase")):
        return stage.group
    if stage.function.__name__ in ("stage_training_curves", "stage_parameters", "stage_comparison"):
        return "exports and comparisons"
    return stage.group


def estimate_seconds(settings: Settings, stages=None) -> dict:
    """One-core seconds of each line of the plan under ``settings`` (training per task and
    preset, each analysis), and the figures.

    Args:
        settings: the tier's settings.
        stages: the planned stages (default: :func:`.plan.plan_stages` of every figure).
    """
    if stages is None:
        stages = _plan(settings)
    cost: dict[str, float] = defaultdict(float)
    for stage in stages:
        cost[_category(stage)] += stage.seconds
    cost["figures"] = FIGURE_SECONDS
    return {k: float(v) for k, v in cost.items()}


def _plan(settings: Settings):
    import tempfile
    from pathlib import Path

    from sims.reproduce.plan import plan_stages
    from sims.reproduce.stages import Context

    return plan_stages(settings, Context(Path(tempfile.gettempdir()) / "sasrnn-plan"))


def _shares(caps: list[float], cores: float) -> list[float]:
    """Fair shares of ``cores`` among stages each using at most ``caps[i]`` (water-filling)."""
    shares, left, open_ = (
        [0.0] * len(caps),
        float(cores),
        sorted(range(len(caps)), key=caps.__getitem__),
    )
    while open_:
        equal = left / len(open_)
        i = open_[0]
        if caps[i] <= equal:
            shares[i] = caps[i]
            left -= caps[i]
            open_.pop(0)
        else:
            for j in open_:
                shares[j] = equal
            break
    return shares


def estimate_wall_seconds(stages, jobs: int, cores: float = CORES, figures: bool = True) -> float:
    """Wall-clock seconds of running ``stages`` from a cold cache with ``jobs`` worker slots.

    An event simulation of :func:`sims.reproduce.scheduler.run_stages`: free slots take the
    ready stages in its order (:func:`~sims.reproduce.scheduler.ready_order`); between events
    the running stages share ``cores`` fairly, each using at most its speed-up cap (water
    filling), so a training run alone on the machine uses both cores.

    Raises:
        ValueError: a stage waits on a stage that is not planned.
    """
    from sims.reproduce.scheduler import critical_paths, ready_order

    paths = critical_paths(stages)
    pending, done, clock = list(stages), set(), 0.0
    running: dict[str, list[float]] = {}  # name: [remaining one-core seconds, speed-up cap]
    slots = max(1, int(jobs))
    while pending or running:
        ready = ready_order([s for s in pending if set(s.deps) <= done], paths)
        for stage in ready[: slots - len(running)]:
            pending.remove(stage)
            running[stage.name] = [stage.seconds, stage.threads]
        if not running:
            raise ValueError("stages wait on stages that are not planned.")
        names = list(running)
        rates = _shares([running[name][1] for name in names], cores)
        step = min(running[name][0] / rate for name, rate in zip(names, rates, strict=True))
        clock += step
        for name, rate in zip(names, rates, strict=True):
            running[name][0] -= rate * step
            if running[name][0] <= 1e-9:
                del running[name]
                done.add(name)
    return clock + (FIGURE_SECONDS if figures else 0.0)
