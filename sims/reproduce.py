"""``sasrnn reproduce``: run every simulation the paper figures need, cache it, draw every figure.

The paper is a program (pycog's ``paper/all.py``): training runs (:func:`sims.train.train_run`),
ensemble analyses (:mod:`sims.analyses`), kernel experiments (:mod:`sims.kernels`) and phase scans
(:mod:`sims.scan`) are *stages*; each writes its results under ``OUT/results`` (layout:
:mod:`sims.results_layout`) and is skipped when its cache key, the
:func:`sims.store.config_hash` of its settings and of the keys of the stages it reads, is
unchanged and its files exist. Training runs live in ``OUT/runs/<task>-seed<k>-<hash12>`` and are
resumed (or reused) by :func:`sims.train.train_run`. The figures (:mod:`figures`) are then drawn
in child processes (sims never imports figures), and ``OUT/summary.json`` gathers the headline
numbers of docs/model.md §6, one entry per row.

Modes (:data:`MODES`):

* ``quick``: the embedded 5,000-image MNIST subset and reduced but honest settings (fewer
  seeds, epochs, widths, grid points and test batches; the same science). Every reduction
  relative to ``full`` is listed in summary.json["reductions"] and printed.
* ``full``: the paper's settings (docs/model.md §2–§6) with the standard MNIST IDX files.
* ``smoke``: toy sizes for tests of the orchestration only (numbers are meaningless).

Parallelism: stages whose inputs are ready run in ``jobs`` worker processes (joblib's loky
executor), each with BLAS pinned to one thread (threadpoolctl); a tqdm bar counts stages.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sims import results_layout as layout
from sims import store

__all__ = [
    "FIGURE_NAMES",
    "MODES",
    "Settings",
    "Stage",
    "estimate_seconds",
    "plan_stages",
    "reductions",
    "reproduce",
    "settings_for",
]

MODES = ("quick", "full", "smoke")
#: Figures drawn at the end (names of the figures registry, figures/__init__.py).
FIGURE_NAMES = (
    "fig1",
    "fig2",
    "fig3",
    "fig4",
    "fig5",
    "fig6",
    "fig7",
    "fig8",
    "fig9",
    "fig10",
    "appendix-kernel",
    "phase-g-pi",
)
#: Which stage groups each figure reads (``--only`` runs just these and their inputs).
FIGURE_STAGES = {
    "fig1": (),
    "fig2": ("train-pixel",),
    "fig3": ("behaviour",),
    "fig4": ("vip",),
    "fig5": ("selectivity",),
    "fig6": ("kernel-circle", "kernel-curves"),
    "fig7": ("projection-mnist", "projection-msi"),
    "fig8": ("row-snapshots", "projection-msi"),
    "fig9": ("row-snapshots",),
    "fig10": ("entropy", "toy"),
    "appendix-kernel": ("kernel-circle",),
    "phase-g-pi": ("phase",),
}
#: Bump when a stage's output format changes (invalidates cached stage results).
STAGE_FORMAT_VERSION = 3


# -------------------------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Every knob of a reproduction (defaults: the paper, docs/model.md §2–§6).

    MNIST epochs follow the official definition (``batches`` minibatches of ``batch_size``
    images, docs/official-code.md §1 item 4). ``*_test_samples = 0`` means the whole test set.
    """

    mode: str = "full"
    data: str = "env"
    # multisensory (docs/model.md §3.3): seeds, max iterations (early stop at MSE ≤ 0.002 kept)
    msi_seeds: int = 10
    msi_iterations: int = 500
    msi_test_batches: int = 20
    # row-by-row MNIST (docs/model.md §3.2)
    row_seeds: int = 5
    row_epochs: int = 200
    row_batches: int = 200
    row_batch_size: int = 128
    # pixel-by-pixel MNIST (docs/model.md §3.1)
    pixel_seeds: int = 5
    pixel_epochs: int = 200
    pixel_batches: int = 200
    pixel_batch_size: int = 128
    mnist_test_samples: int = 0
    mnist_sampled_networks: int = 10
    # analyses
    vip_fractions: tuple = tuple(np.round(np.linspace(0, 1, 11), 10).tolist())
    vip_batches: int = 20
    selectivity_repeats: int = 10
    projection_per_digit: int = 10
    entropy_stride: int = 1
    entropy_draws: int = 1000
    snapshot_stride: int = 1
    # toy model (docs/model.md §3.6)
    toy_runs: int = 10
    toy_epochs: int = 600
    toy_synapses: int = 10_000
    # kernels (docs/model.md §3.4–3.5, §5.1)
    circle_widths: tuple = (250, 500, 1000, 2000)
    circle_networks: int = 100
    circle_phis: int = 41
    curve_widths: tuple = (64, 128, 256, 512)
    curve_networks: int = 2
    curve_epochs: int = 100
    curve_train: int = 512
    curve_test: int = 128
    # phase scan of the init-dynamics probe
    phase_g: tuple = tuple(np.round(np.linspace(0.5, 2.0, 16), 10).tolist())
    phase_pi: tuple = tuple(np.round(np.linspace(0.0, 0.8, 9), 10).tolist())
    phase_n: int = 500
    phase_steps: int = 1000
    phase_transient: int = 500
    phase_seeds: int = 3

    def to_dict(self) -> dict:
        return store.jsonable(dataclasses.asdict(self))


#: Quick mode: what each knob becomes (everything else is the paper's value).
QUICK_CHANGES = {
    "data": "embedded",
    "msi_seeds": 3,
    "msi_test_batches": 5,
    "row_seeds": 2,
    "row_epochs": 40,
    "row_batches": 31,
    "pixel_seeds": 1,
    "pixel_epochs": 8,
    "pixel_batches": 15,
    "pixel_batch_size": 64,
    "mnist_test_samples": 300,
    "mnist_sampled_networks": 3,
    "vip_batches": 4,
    "selectivity_repeats": 4,
    "entropy_stride": 10,
    "entropy_draws": 300,
    "snapshot_stride": 2,
    "toy_runs": 4,
    "circle_widths": (250, 500, 1000),
    "circle_networks": 10,
    "circle_phis": 21,
    "curve_widths": (64, 128, 256),
    "curve_networks": 1,
    "phase_g": (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0),
    "phase_pi": (0.0, 0.2, 0.4, 0.6),
    "phase_n": 200,
    "phase_seeds": 1,
}
#: Smoke mode (tests of the orchestration): toy sizes everywhere.
SMOKE_CHANGES = {
    **QUICK_CHANGES,
    "msi_seeds": 1,
    "msi_iterations": 3,
    "msi_test_batches": 1,
    "row_seeds": 1,
    "row_epochs": 2,
    "row_batches": 2,
    "row_batch_size": 16,
    "pixel_epochs": 1,
    "pixel_batches": 1,
    "pixel_batch_size": 8,
    "mnist_test_samples": 30,
    "mnist_sampled_networks": 1,
    "vip_fractions": (0.0, 1.0),
    "vip_batches": 1,
    "selectivity_repeats": 1,
    "projection_per_digit": 2,
    "entropy_stride": 1,
    "entropy_draws": 20,
    "snapshot_stride": 1,
    "toy_runs": 2,
    "toy_epochs": 5,
    "toy_synapses": 200,
    "circle_widths": (20, 40),
    "circle_networks": 2,
    "circle_phis": 5,
    "curve_widths": (16,),
    "curve_networks": 1,
    "curve_epochs": 4,
    "curve_train": 16,
    "curve_test": 8,
    "phase_g": (0.5, 1.5),
    "phase_pi": (0.0, 0.5),
    "phase_n": 20,
    "phase_steps": 20,
    "phase_transient": 10,
}


def settings_for(mode: str, data: str | None = None) -> Settings:
    """The settings of ``mode`` ("quick", "full", "smoke"); ``data`` overrides the MNIST source.

    Raises:
        ValueError: unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is unknown; choose one of {MODES}.")
    changes = {"quick": QUICK_CHANGES, "smoke": SMOKE_CHANGES, "full": {}}[mode]
    settings = dataclasses.replace(Settings(), mode=mode, **changes)
    if data is not None:
        settings = dataclasses.replace(settings, data=str(data))
    return settings


def reductions(settings: Settings) -> list[dict]:
    """Every setting that differs from the paper's (``full``): name, value used, paper value."""
    paper = Settings()
    out = []
    for item in dataclasses.fields(Settings):
        if item.name in ("mode",):
            continue
        used, reference = getattr(settings, item.name), getattr(paper, item.name)
        if used != reference:
            out.append(
                {
                    "setting": item.name,
                    "used": store.jsonable(used),
                    "paper": store.jsonable(reference),
                }
            )
    return out


# -------------------------------------------------------------------------------------------
# Run configs
# -------------------------------------------------------------------------------------------
def _data_source(settings: Settings) -> str:
    return settings.data


def run_config(task: str, seed: int, settings: Settings) -> dict:
    """The resolved training config of ``task`` and ``seed`` under ``settings``."""
    from sims.presets import resolve_config

    if task == "multisensory":
        return resolve_config(
            task,
            seed=seed,
            epochs=settings.msi_iterations,
            overrides=[f"evaluation.n_test_batches={settings.msi_test_batches}"],
        )
    prefix = "row" if task == "row-mnist" else "pixel"
    overrides = [
        f"evaluation.test_samples={settings.mnist_test_samples}",
        f"evaluation.n_samples={settings.mnist_sampled_networks}",
    ]
    return resolve_config(
        task,
        seed=seed,
        data=_data_source(settings),
        epochs=getattr(settings, f"{prefix}_epochs"),
        batches_per_epoch=getattr(settings, f"{prefix}_batches"),
        batch_size=getattr(settings, f"{prefix}_batch_size"),
        overrides=overrides,
    )


def _run_dir_name(config: dict) -> str:
    return f"{config['task']}-seed{config['seed']}-{store.config_hash(config)[:12]}"


# -------------------------------------------------------------------------------------------
# Stages
# -------------------------------------------------------------------------------------------
@dataclass
class Stage:
    """One unit of work: ``function(context, **params)`` writing files under OUT.

    Attributes:
        name: unique stage name ("train-msi-seed0", "vip", …).
        function: a module-level function (picklable for the worker processes).
        params: JSON-able keyword arguments (they enter the cache key).
        deps: names of the stages whose outputs it reads.
        outputs: files (relative to OUT) that must exist for a cached result to count.
        group: the figure-level group ("train-msi", "vip", …) used by ``--only``.
    """

    name: str
    function: Callable
    params: dict
    deps: tuple = ()
    outputs: tuple = ()
    group: str = ""
    key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Context:
    """Where a stage reads and writes."""

    out: Path

    @property
    def results(self) -> Path:
        return self.out / layout.RESULTS_DIR

    @property
    def runs(self) -> Path:
        return self.out / layout.RUNS_DIR


def _write(context: Context, stem: str, summary: dict, arrays: dict | None = None) -> list[str]:
    """Write results/stem.json (and .npz); returns the relative file names."""
    files = [f"{layout.RESULTS_DIR}/{stem}.json"]
    if arrays:
        store.atomic_savez(
            context.results / f"{stem}.npz", {k: np.asarray(v) for k, v in arrays.items()}
        )
        files.append(f"{layout.RESULTS_DIR}/{stem}.npz")
        summary = {**summary, "arrays_file": f"{stem}.npz"}
    store.atomic_write_json(context.results / f"{stem}.json", summary)
    return files


def stage_train(context: Context, config: dict) -> dict:
    """Train (or resume, or reuse) one run in OUT/runs/<task>-seed<k>-<hash12>."""
    from sims.train import train_run

    run_dir = context.runs / _run_dir_name(config)
    result = train_run(config, run_dir, resume=True, progress=False)
    return {"run_dir": str(run_dir), "epochs_trained": len(result.metrics["epochs"])}


def _open(run_dir):
    from sims.analyses.common import open_run

    return open_run(run_dir)


def stage_behaviour(context: Context, run_dirs: list, seed: int) -> dict:
    """Fig. 3: pooled psychometric curves with fits, one example trial and test outputs."""
    from sims.analyses.common import network_pass
    from sims.evaluate import fit_psychometric, with_alpha
    from sims.tasks.multisensory import MODALITIES

    finals = [store.read_json(Path(d) / store.METRICS_FILE)["final"] for d in run_dirs]
    frequencies = finals[0]["frequencies"]
    per_seed = {m: [f["psychometric"][m] for f in finals] for m in MODALITIES}
    mean = {m: np.mean(per_seed[m], axis=0) for m in MODALITIES}
    std = {m: np.std(per_seed[m], axis=0) for m in MODALITIES}
    fit = {}
    for m in MODALITIES:
        mu, sigma = fit_psychometric(frequencies, mean[m])
        fit[m] = {"mu": mu, "sigma": sigma}
    psychometric = {
        "frequencies": frequencies,
        "modalities": list(MODALITIES),
        "n_seeds": len(run_dirs),
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "fit": fit,
        "per_seed_sigma": {m: [f["sigma"][m] for f in finals] for m in MODALITIES},
        "per_seed_accuracy": [f["test_accuracy"] for f in finals],
        "mode": finals[0].get("psychometric_mode"),
        "n_test_batches": finals[0].get("n_test_batches"),
        "test_alpha": finals[0].get("test_alpha"),
    }
    files = _write(context, layout.PSYCHOMETRIC, psychometric)
    run = _open(run_dirs[0])
    task, rng = run.task, np.random.default_rng(seed)
    va = MODALITIES.index("va")
    train = task.condition_batch(rng, [va], [14.0], phase="train")
    mask = train.mask if train.mask is not None else np.ones_like(train.target)
    test = task.condition_batch(rng, [va, va], [14.0, 11.0], phase="test")
    z = network_pass(with_alpha(run.network, task.test_dt / task.tau), test.x, "meanfield", rng)
    test_epochs = task.epoch_steps("test", task.test_dt)
    edges = sorted({bound * task.test_dt for span in test_epochs.values() for bound in span})
    arrays = {
        "train_x": train.x[:, 0],
        "train_target": train.target[:, 0],
        "train_mask": mask[:, 0].max(axis=-1) if mask.ndim == 3 else mask[:, 0],
        "train_time_ms": np.arange(train.x.shape[0]) * task.dt,
        "test_time_ms": np.arange(1, test.x.shape[0] + 1) * task.test_dt,
        "z_high": z[:, 0],
        "z_low": z[:, 1],
        "high_frequency": 14.0,
        "low_frequency": 11.0,
        "test_epoch_edges_ms": np.asarray(edges),
    }
    store.atomic_savez(context.results / f"{layout.MSI_EXAMPLE}.npz", arrays)
    return {"files": [*files, f"{layout.RESULTS_DIR}/{layout.MSI_EXAMPLE}.npz"]}


def stage_vip(context: Context, run_dir: str, fractions: list, n_batches: int, seed: int) -> dict:
    """Fig. 4: VIP fraction and the target-removal curves of one MSI run."""
    from sims.analyses.vip import vip_analysis

    run = _open(run_dir)
    summary, arrays = vip_analysis(
        run.network, run.task, seed=seed, fractions=fractions, n_batches=n_batches
    )
    summary["run_dir"] = str(run_dir)
    return {"files": _write(context, layout.VIP, summary, arrays)}


def vip_fractions(run_dirs) -> list[float]:
    """VIP fraction of the recurrent layer of every finished run (paper Fig. 4 criteria)."""
    from dynamics.removal import vip_mask

    out = []
    for run_dir in run_dirs:
        path = Path(run_dir) / store.PARAMS_FILE
        if path.is_file():
            with np.load(path) as params:
                out.append(
                    float(vip_mask(params["rec.m"], params["rec.pi"], params["rec.xi"]).mean())
                )
    return out


def stage_selectivity(context: Context, run_dir: str, n_repeats: int, seed: int) -> dict:
    """Fig. 5: SLI classes and example traces of one MSI run."""
    from sims.analyses.selectivity import selectivity_analysis

    run = _open(run_dir)
    summary, arrays = selectivity_analysis(run.network, run.task, seed=seed, n_repeats=n_repeats)
    summary["run_dir"] = str(run_dir)
    return {"files": _write(context, layout.SELECTIVITY, summary, arrays)}


def _synaptic(run, stride: int):
    from sims.analyses.common import snapshot_epochs, stack_snapshots
    from sims.analyses.projection import SYNAPTIC_BLOCKS, synaptic_projection

    epochs, stacked = stack_snapshots(run, SYNAPTIC_BLOCKS, snapshot_epochs(run, stride))
    return synaptic_projection(stacked, epochs, SYNAPTIC_BLOCKS)


def stage_projection(
    context: Context,
    run_dir: str,
    stem: str,
    seed: int,
    per_digit: int,
    synaptic_stem: str = "",
    stride: int = 1,
) -> dict:
    """Fig. 7 (neural PCA) and, with ``synaptic_stem``, Fig. 8 (synaptic PCA) of one run."""
    from sims.analyses.projection import neural_projection

    run = _open(run_dir)
    neural, arrays = neural_projection(run.network, run.task, seed=seed, n_per_digit=per_digit)
    files = _write(context, stem, {"neural": neural, "run_dir": str(run_dir)}, arrays)
    if synaptic_stem:
        summary, synaptic_arrays = _synaptic(run, stride)
        files += _write(
            context, synaptic_stem, {**summary, "run_dir": str(run_dir)}, synaptic_arrays
        )
    return {"files": files}


def stage_row_snapshots(context: Context, run_dir: str, stride: int) -> dict:
    """Figs. 8–9 for row-by-row MNIST: synaptic PCA and symmetry breaking of one run."""
    from sims.analyses.common import snapshot_epochs, stack_snapshots
    from sims.analyses.symmetry import LAYERS, symmetry_analysis

    run = _open(run_dir)
    summary, arrays = _synaptic(run, stride)
    files = _write(context, layout.SYNAPTIC_ROW, {**summary, "run_dir": str(run_dir)}, arrays)
    blocks = [f"{layer}.{p}" for layer in LAYERS for p in ("pi", "xi")]
    epochs, stacked = stack_snapshots(run, blocks, snapshot_epochs(run, 1))
    summary, arrays = symmetry_analysis(stacked, epochs)
    files += _write(context, layout.SYMMETRY_ROW, {**summary, "run_dir": str(run_dir)}, arrays)
    return {"files": files}


def stage_entropy(context: Context, run_dirs: list, stride: int, n_draws: int, seed: int) -> dict:
    """Fig. 10 (a, b): Entropy I and II per iteration, mean ± std over MSI runs."""
    from sims.analyses.common import snapshot_epochs, stack_snapshots
    from sims.analyses.entropy import ENTROPY_LAYERS, aggregate_entropy, entropy_analysis

    blocks = [f"{layer}.{p}" for layer in ENTROPY_LAYERS for p in ("m", "pi", "xi")]
    per_run = []
    for run_dir in run_dirs:
        run = _open(run_dir)
        epochs, stacked = stack_snapshots(run, blocks, snapshot_epochs(run, stride))
        per_run.append(
            {
                "run_dir": str(run_dir),
                **entropy_analysis(stacked, epochs, seed=seed, n_draws=n_draws),
            }
        )
    aggregate, arrays = aggregate_entropy(per_run)
    summary = {
        "aggregate": aggregate,
        "stride": stride,
        "n_draws": n_draws,
        "runs": [r["run_dir"] for r in per_run],
    }
    return {"files": _write(context, layout.ENTROPY_MSI, summary, arrays)}


def stage_toy(context: Context, n_runs: int, n_epochs: int, n_synapses: int, seed: int) -> dict:
    """Fig. 10 (c–e): toy-model curves, mean ± std over runs."""
    from sims.analyses.plasticity import toy_curves

    summary, arrays = toy_curves(n_runs, seed, n_epochs, n_synapses)
    return {"files": _write(context, layout.TOY, summary, arrays)}


def stage_kernel_circle(
    context: Context,
    alpha: float,
    n_steps: int,
    widths: list,
    n_networks: int,
    n_phi: int,
    seed: int,
) -> dict:
    """Fig. 6a and Appendix A1: analytic vs empirical kernel entries over φ."""
    from sims.kernels import circle_experiment

    result = circle_experiment(
        alpha, n_steps, widths, n_networks, np.random.default_rng(seed), n_phi=n_phi
    )
    analytic = result["analytic"]
    per_width, arrays = {}, {"phis": result["phis"], "analytic": analytic}
    for width in widths:
        entry = result[str(width)]
        empirical = entry["empirical"]
        arrays[f"empirical_N{width}"] = empirical
        deviation = np.abs(empirical.mean(0) - analytic)
        per_width[str(width)] = {
            "mean_relative_error": entry["mean_relative_error"],
            "per_network_error_mean": float(entry["per_network_relative_error"].mean()),
            "per_network_error_std": float(entry["per_network_relative_error"].std()),
            "within_one_sd_fraction": float(np.mean(deviation <= empirical.std(0))),
        }
    summary = {
        "alpha": alpha,
        "n_steps": n_steps,
        "widths": list(widths),
        "n_networks": n_networks,
        "n_phi": n_phi,
        "sas_readout": True,
        "per_width": per_width,
        "slope_per_network_error": result["slope_per_network_error"],
    }
    return {"files": _write(context, layout.KERNEL_CIRCLE, summary, arrays)}


def stage_kernel_curves(
    context: Context,
    data: str,
    widths: list,
    n_networks: int,
    epochs: int,
    n_train: int,
    n_test: int,
    seed: int,
) -> dict:
    """Fig. 6b: BPTT vs RNTK learning curves on MNIST 0/1 at several widths."""
    from sims.data import load_mnist
    from sims.kernels import learning_curve_experiment

    result = learning_curve_experiment(
        load_mnist(data),
        widths,
        n_networks,
        np.random.default_rng(seed),
        epochs=epochs,
        n_train=n_train,
        n_test=n_test,
        n_probe=min(32, n_train),
    )
    arrays = {"epochs": result["epochs"]}
    per_width = {}
    for width in widths:
        entry = result[str(width)]
        for name in ("train_loss", "test_loss", "train_loss_lazy", "test_loss_lazy"):
            arrays[f"{name}_N{width}"] = entry[name]
        final = {
            name: float(entry[name][:, -1].mean())
            for name in ("train_loss", "test_loss", "train_loss_lazy", "test_loss_lazy")
        }
        per_width[str(width)] = {
            "early_gap": float(entry["early_gap"].mean()),
            "final_kernel_drift": (
                float(entry["kernel_drift"][:, -1].mean()) if entry["kernel_drift"].size else None
            ),
            "final_losses_per_sample": {
                k: v / (n_train if k.startswith("train") else n_test) for k, v in final.items()
            },
            "final_test_gap": abs(final["test_loss"] - final["test_loss_lazy"])
            / final["test_loss_lazy"],
        }
    summary = {
        "alpha": result["alpha"],
        "lr": result["lr"],
        "epochs": epochs,
        "widths": list(widths),
        "n_networks": n_networks,
        "n_train": n_train,
        "n_test": n_test,
        "data": data,
        "per_width": per_width,
        "slope_early_gap": result["slope_early_gap"],
        "slope_final_drift": result["slope_final_drift"],
    }
    return {"files": _write(context, layout.KERNEL_CURVES, summary, arrays)}


def stage_phase(
    context: Context,
    name: str,
    network: str,
    g: list,
    pi: list,
    n: int,
    steps: int,
    transient: int,
    seeds: int,
) -> dict:
    """Phase diagram: Lyapunov exponent of untrained tanh networks on the (g, π) plane."""
    from sims.scan import Axis, run_scan

    out = context.results / layout.PHASE_DIR / name
    run_scan(
        "init-dynamics",
        Axis("g", tuple(g)),
        Axis("pi", tuple(pi)),
        "lyapunov",
        out=out,
        fixed={
            "activation": "tanh",
            "network": network,
            "N": n,
            "steps": steps,
            "transient": transient,
            "alpha": 1.0,
        },
        seeds=seeds,
        jobs=1,
        progress=False,
    )
    return {"files": [f"{layout.RESULTS_DIR}/{layout.PHASE_DIR}/{name}/scan.json"]}


def plan_stages(settings: Settings, context: Context, only=None) -> list[Stage]:
    """All stages of a reproduction (or those the figures in ``only`` need), with cache keys.

    Raises:
        ValueError: an unknown figure name in ``only``.
    """
    s, stages = settings, []
    runs = {}
    for task, prefix, count in (
        ("multisensory", "msi", s.msi_seeds),
        ("row-mnist", "row", s.row_seeds),
        ("pixel-mnist", "pixel", s.pixel_seeds),
    ):
        runs[task] = []
        for seed in range(count):
            config = run_config(task, seed, s)
            name = f"train-{prefix}-seed{seed}"
            run_dir = context.runs / _run_dir_name(config)
            runs[task].append(str(run_dir))
            stages.append(
                Stage(
                    name,
                    stage_train,
                    {"config": config},
                    outputs=(
                        f"{layout.RUNS_DIR}/{run_dir.name}/{store.PARAMS_FILE}",
                        f"{layout.RUNS_DIR}/{run_dir.name}/{store.METRICS_FILE}",
                    ),
                    group=f"train-{prefix}",
                )
            )
    msi_train = tuple(f"train-msi-seed{k}" for k in range(s.msi_seeds))
    msi0, row0, pixel0 = runs["multisensory"][0], runs["row-mnist"][0], runs["pixel-mnist"][0]
    r = layout.RESULTS_DIR
    stages += [
        Stage(
            "behaviour",
            stage_behaviour,
            {"run_dirs": runs["multisensory"], "seed": 0},
            msi_train,
            (f"{r}/{layout.PSYCHOMETRIC}.json", f"{r}/{layout.MSI_EXAMPLE}.npz"),
        ),
        Stage(
            "vip",
            stage_vip,
            {
                "run_dir": msi0,
                "fractions": list(s.vip_fractions),
                "n_batches": s.vip_batches,
                "seed": 0,
            },
            ("train-msi-seed0",),
            (f"{r}/{layout.VIP}.json",),
        ),
        Stage(
            "selectivity",
            stage_selectivity,
            {"run_dir": msi0, "seed": 0, "n_repeats": s.selectivity_repeats},
            ("train-msi-seed0",),
            (f"{r}/{layout.SELECTIVITY}.json",),
        ),
        Stage(
            "projection-msi",
            stage_projection,
            {
                "run_dir": msi0,
                "stem": layout.PROJECTION_MSI,
                "seed": 0,
                "per_digit": s.projection_per_digit,
                "synaptic_stem": layout.SYNAPTIC_MSI,
                "stride": s.snapshot_stride,
            },
            ("train-msi-seed0",),
            (f"{r}/{layout.PROJECTION_MSI}.json", f"{r}/{layout.SYNAPTIC_MSI}.json"),
        ),
        Stage(
            "projection-mnist",
            stage_projection,
            {
                "run_dir": pixel0,
                "stem": layout.PROJECTION_MNIST,
                "seed": 0,
                "per_digit": s.projection_per_digit,
            },
            ("train-pixel-seed0",),
            (f"{r}/{layout.PROJECTION_MNIST}.json",),
        ),
        Stage(
            "row-snapshots",
            stage_row_snapshots,
            {"run_dir": row0, "stride": 1},
            ("train-row-seed0",),
            (f"{r}/{layout.SYNAPTIC_ROW}.json", f"{r}/{layout.SYMMETRY_ROW}.json"),
        ),
        Stage(
            "entropy",
            stage_entropy,
            {
                "run_dirs": runs["multisensory"],
                "stride": s.entropy_stride,
                "n_draws": s.entropy_draws,
                "seed": 0,
            },
            msi_train,
            (f"{r}/{layout.ENTROPY_MSI}.json",),
        ),
        Stage(
            "toy",
            stage_toy,
            {
                "n_runs": s.toy_runs,
                "n_epochs": s.toy_epochs,
                "n_synapses": s.toy_synapses,
                "seed": 0,
            },
            (),
            (f"{r}/{layout.TOY}.json",),
        ),
        Stage(
            "kernel-circle",
            stage_kernel_circle,
            {
                "alpha": 0.5,
                "n_steps": 2,
                "widths": list(s.circle_widths),
                "n_networks": s.circle_networks,
                "n_phi": s.circle_phis,
                "seed": 0,
            },
            (),
            (f"{r}/{layout.KERNEL_CIRCLE}.json",),
        ),
        Stage(
            "kernel-curves",
            stage_kernel_curves,
            {
                "data": s.data,
                "widths": list(s.curve_widths),
                "n_networks": s.curve_networks,
                "epochs": s.curve_epochs,
                "n_train": s.curve_train,
                "n_test": s.curve_test,
                "seed": 0,
            },
            (),
            (f"{r}/{layout.KERNEL_CURVES}.json",),
        ),
    ]
    for name, network in zip(layout.PHASE_SCANS, ("quenched", "mean-field"), strict=True):
        stages.append(
            Stage(
                f"phase-{name}",
                stage_phase,
                {
                    "name": name,
                    "network": network,
                    "g": list(s.phase_g),
                    "pi": list(s.phase_pi),
                    "n": s.phase_n,
                    "steps": s.phase_steps,
                    "transient": s.phase_transient,
                    "seeds": s.phase_seeds,
                },
                (),
                (f"{r}/{layout.PHASE_DIR}/{name}/scan.json",),
                group="phase",
            )
        )
    for stage in stages:
        stage.group = stage.group or stage.name
    stages = _select(stages, only)
    by_name = {stage.name: stage for stage in stages}
    for stage in stages:  # deps come first in the list, so their keys are set already
        dep_keys = [by_name[d].key for d in stage.deps]
        stage.key = store.config_hash(
            {
                "stage": stage.name,
                "params": stage.params,
                "deps": dep_keys,
                "version": STAGE_FORMAT_VERSION,
            }
        )
    return stages


def _select(stages: list[Stage], only) -> list[Stage]:
    if not only:
        return stages
    unknown = [name for name in only if name not in FIGURE_STAGES]
    if unknown:
        raise ValueError(
            f"--only: unknown figure(s) {unknown}; choose from {', '.join(FIGURE_STAGES)}."
        )
    wanted_groups = {group for name in only for group in FIGURE_STAGES[name]}
    by_name = {stage.name: stage for stage in stages}
    needed: set[str] = set()

    def need(name):
        if name not in needed:
            needed.add(name)
            for dep in by_name[name].deps:
                need(dep)

    for stage in stages:
        if stage.group in wanted_groups:
            need(stage.name)
    return [stage for stage in stages if stage.name in needed]


# -------------------------------------------------------------------------------------------
# Execution
# -------------------------------------------------------------------------------------------
def _stage_worker(stage: Stage, context: Context, pin_threads: bool) -> tuple[str, float, dict]:
    """Run one stage (in a worker process); returns (name, seconds, result)."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    if pin_threads:
        with threadpool_limits(limits=1):
            result = stage.function(context, **copy.deepcopy(stage.params))
    else:
        result = stage.function(context, **copy.deepcopy(stage.params))
    return stage.name, time.perf_counter() - start, result


def _cached(stage: Stage, record: dict, out: Path) -> bool:
    entry = record.get(stage.name)
    return bool(
        entry and entry.get("key") == stage.key and all((out / f).is_file() for f in stage.outputs)
    )


def run_stages(stages: list[Stage], context: Context, jobs: int = 1, progress: bool = True) -> dict:
    """Run the stages not cached (dependencies first; up to ``jobs`` at once).

    Returns:
        stages.json content: {name: {"key", "seconds", "cached", "result"}}.
    """
    from tqdm.auto import tqdm

    path = context.results / layout.STAGES_FILE
    record = store.read_json(path) if path.is_file() else {}
    done = {s.name for s in stages if _cached(s, record, context.out)}
    for name in done:
        record[name]["cached"] = True
    pending = [s for s in stages if s.name not in done]
    bar = tqdm(
        total=len(stages), initial=len(done), desc="reproduce", unit="stage", disable=not progress
    )

    def finish(name, seconds, result):
        stage = next(s for s in stages if s.name == name)
        record[name] = {"key": stage.key, "seconds": seconds, "cached": False, "result": result}
        store.atomic_write_json(path, record)
        done.add(name)
        bar.set_postfix_str(f"{name} {seconds:.0f}s")
        bar.update(1)

    try:
        if jobs <= 1:
            while pending:
                stage = next(s for s in pending if all(d in done for d in s.deps))
                pending.remove(stage)
                finish(*_stage_worker(stage, context, False))
        else:
            _run_parallel(pending, context, jobs, done, finish)
    finally:
        bar.close()
    return record


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


def _priority(name: str) -> int:
    return next((k for k, prefix in enumerate(PRIORITY) if name.startswith(prefix)), len(PRIORITY))


def _run_parallel(pending, context, jobs, done, finish):
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.externals.loky import get_reusable_executor

    single_thread = {
        name: "1"
        for name in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMBA_NUM_THREADS",
        )
    }
    executor = get_reusable_executor(max_workers=jobs, env=single_thread, timeout=60)
    running = {}
    order = {stage.name: _priority(stage.name) for stage in pending}
    while pending or running:
        ready = sorted(
            (s for s in pending if all(d in done for d in s.deps)), key=lambda s: order[s.name]
        )
        for stage in ready[: max(0, jobs - len(running))]:
            pending.remove(stage)
            running[executor.submit(_stage_worker, stage, context, True)] = stage.name
        if not running:
            missing = {s.name: [d for d in s.deps if d not in done] for s in pending}
            raise ValueError(f"stages wait on stages that are not planned: {missing}")
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            running.pop(future)
            finish(*future.result())


_DRAW_SCRIPT = """
import json, sys
from figures import draw_figure
results, out = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    try:
        paths = draw_figure(name, results, out)
        print(json.dumps({"name": name, "files": [str(p) for p in paths]}), flush=True)
    except Exception as error:  # report and go on with the next figure
        print(json.dumps({"name": name, "error": f"{type(error).__name__}: {error}"}),
              flush=True)
"""


def draw_figures(names, results: Path, figures_dir: Path, jobs: int = 1) -> dict:
    """Draw figures in ``jobs`` child Python processes (sims never imports figures).

    Returns:
        {name: {"files": [png, pdf]} or {"error": message}}.
    """
    from joblib import Parallel, delayed

    names = list(names)
    chunks = [names[k :: max(1, jobs)] for k in range(max(1, jobs))]

    def one(chunk):
        completed = subprocess.run(
            [sys.executable, "-c", _DRAW_SCRIPT, str(results), str(figures_dir), *chunk],
            capture_output=True,
            text=True,
            check=False,
        )
        outcome = {}
        for line in completed.stdout.splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                outcome[entry.pop("name")] = entry
        for name in chunk:
            if name not in outcome:
                last = completed.stderr.strip().splitlines()[-1:] or ["no output"]
                outcome[name] = {"error": last[0]}
        return outcome

    merged = {}
    for outcome in Parallel(n_jobs=len(chunks), backend="threading")(
        delayed(one)(chunk) for chunk in chunks if chunk
    ):
        merged.update(outcome)
    return {name: merged[name] for name in names}


# -------------------------------------------------------------------------------------------
# Cost estimate (seconds on this 2-core machine, one core per stage; measured, see report)
# -------------------------------------------------------------------------------------------
#: Seconds per unit of work on this 2-core machine (one core per stage), from the stage times of
#: a quiet ``--quick`` run (see OUT/results/stages.json of any run to recalibrate).
UNIT_SECONDS = {
    "msi_iteration": 0.07,  # one 30-trial minibatch, 125 steps, N = 150
    "msi_test_batch": 1.35,  # 24 test trials × 3,600 steps (dt = 0.5 ms), mean-field
    "row_batch_per_sample": 1.7e-4,  # row-MNIST training, per image of a minibatch
    "pixel_batch_per_sample": 5.5e-3,  # pixel-MNIST training, per image of a minibatch
    "row_eval_per_sample": 1.0e-4,
    "pixel_eval_per_sample": 3.0e-3,
    "circle_per_network_n2_phi": 5.3e-8,  # × networks × Σ N² × n_phi
    "curve_per_epoch_n2": 6.6e-6,  # × networks × epochs × Σ N² (512 + 128 digits)
    "toy_run_epoch": 1.4e-3,  # × synapses / 10,000
    "phase_cell_step": 2.0e-7,  # × N × (steps + transient) per cell
    "entropy_epoch_draw": 5.0e-4,  # per saved iteration and Monte Carlo draw
}


def estimate_seconds(settings: Settings) -> dict:
    """Rough single-core cost of each stage group under ``settings`` (seconds)."""
    s, u = settings, UNIT_SECONDS
    mnist_test = s.mnist_test_samples or 10_000
    evals = 2 * s.mnist_sampled_networks + 2
    msi_iterations = min(s.msi_iterations, 400)  # early stop near 350 iterations (docs/model.md §6)
    cost = {
        "train-msi": s.msi_seeds
        * (msi_iterations * u["msi_iteration"] + s.msi_test_batches * u["msi_test_batch"]),
        "train-row": s.row_seeds
        * (
            s.row_epochs * s.row_batches * s.row_batch_size * u["row_batch_per_sample"]
            + (s.row_epochs + evals) * mnist_test * u["row_eval_per_sample"]
        ),
        "train-pixel": s.pixel_seeds
        * (
            s.pixel_epochs * s.pixel_batches * s.pixel_batch_size * u["pixel_batch_per_sample"]
            + (s.pixel_epochs + evals) * mnist_test * u["pixel_eval_per_sample"]
        ),
        "vip": (2 * len(s.vip_fractions) - 1) * s.vip_batches * u["msi_test_batch"],
        "selectivity": s.selectivity_repeats * 4 / 24 * u["msi_test_batch"],
        "kernel-circle": s.circle_networks
        * sum(n * n for n in s.circle_widths)
        * s.circle_phis
        * u["circle_per_network_n2_phi"],
        "kernel-curves": s.curve_networks
        * s.curve_epochs
        * sum(n * n for n in s.curve_widths)
        * (s.curve_train + s.curve_test)
        / 640
        * u["curve_per_epoch_n2"],
        "toy": s.toy_runs * s.toy_epochs * s.toy_synapses / 10_000 * u["toy_run_epoch"],
        "phase": 2
        * len(s.phase_g)
        * len(s.phase_pi)
        * s.phase_seeds
        * s.phase_n
        * (s.phase_steps + s.phase_transient)
        * u["phase_cell_step"],
    }
    cost["entropy"] = (
        s.msi_seeds
        * msi_iterations
        / s.entropy_stride
        * (0.05 + s.entropy_draws * u["entropy_epoch_draw"])
    )
    cost["projections, symmetry, figures"] = 60.0
    return {k: float(v) for k, v in cost.items()}


# -------------------------------------------------------------------------------------------
# Summary (docs/model.md §6)
# -------------------------------------------------------------------------------------------
def _maybe(function):
    try:
        return function()
    except (FileNotFoundError, KeyError, IndexError, ValueError) as error:
        return {"missing": str(error)}


def _finals(run_dirs) -> list[dict]:
    return [
        store.read_json(Path(d) / store.METRICS_FILE)["final"]
        for d in run_dirs
        if (Path(d) / store.METRICS_FILE).is_file()
    ]


def _mnist_accuracy(run_dirs) -> dict:
    finals = _finals(run_dirs)
    if not finals:
        raise FileNotFoundError("no finished run")
    keys = (
        "test_accuracy_meanfield",
        "test_accuracy_meanfield_eps0",
        "test_accuracy_sampled_quenched",
        "test_accuracy_sampled_per_step",
    )
    return {
        **{k.removeprefix("test_accuracy_"): float(np.mean([f[k] for f in finals])) for k in keys},
        "meanfield_per_seed": [f["test_accuracy_meanfield"] for f in finals],
        "n_seeds": len(finals),
    }


def summary_rows(results: Path, settings: Settings, runs: dict) -> list[dict]:
    """One entry per row of the docs/model.md §6 table: our number, the paper's claim,
    conditions."""
    s = settings
    read = lambda stem: store.read_json(results / f"{stem}.json")  # noqa: E731
    data = (
        "embedded 5,000-image MNIST subset (4,000 train / 1,000 test)"
        if s.data == "embedded"
        else f"MNIST IDX files ({s.data})"
    )

    def vip_row(kind):
        vip = read(layout.VIP)
        return {
            "accuracy_mean": vip[f"accuracy_{kind}_mean"][-1],
            "accuracy_std": vip[f"accuracy_{kind}_std"][-1],
            "n_removed": vip["n_removed"][-1],
            "accuracy_intact": vip["accuracy_intact"],
        }

    def psychometric():
        psy = read(layout.PSYCHOMETRIC)
        f = np.asarray(psy["frequencies"])
        mean = {m: np.asarray(v) for m, v in psy["mean"].items()}
        sigma = {m: psy["fit"][m]["sigma"] for m in psy["fit"]}
        return {
            "sigma_hz": sigma,
            "va_steeper": bool(sigma["va"] < min(sigma["v"], sigma["a"])),
            "max_p_high_at_or_below_11hz": float(max(m[f <= 11].max() for m in mean.values())),
            "min_p_high_at_or_above_14hz": float(min(m[f >= 14].min() for m in mean.values())),
            "per_seed_sigma_hz": psy["per_seed_sigma"],
            "test_accuracy_per_seed": psy["per_seed_accuracy"],
        }

    def convergence():
        rows = []
        for d in runs["multisensory"]:
            metrics = store.read_json(Path(d) / store.METRICS_FILE)
            rows.append(
                {
                    "iterations": len(metrics["epochs"]),
                    "final_train_mse": metrics["epochs"][-1]["train_loss"],
                    "stopped_early": metrics["final"]["stopped_early"],
                }
            )
        return rows

    def selectivity():
        sel = read(layout.SELECTIVITY)
        return {"counts": sel["counts"]["all"], "all_three_present": len(sel["classes_found"]) == 3}

    def pca():
        return {
            "pixel_mnist_variance_3_pcs": read(layout.PROJECTION_MNIST)["neural"]["variance_3_pcs"],
            "msi_variance_3_pcs": read(layout.PROJECTION_MSI)["neural"]["variance_3_pcs"],
            "msi_n_pcs_80": read(layout.PROJECTION_MSI)["neural"]["n_pcs_80"],
        }

    def synaptic():
        out = {}
        for name, stem in (("row_mnist", layout.SYNAPTIC_ROW), ("msi", layout.SYNAPTIC_MSI)):
            syn = read(stem)
            out[name] = {
                k: syn[k]
                for k in ("variance_3_pcs", "drift_velocity_per_epoch", "drift_persistence")
            }
        return out

    def kernel_init():
        circle = read(layout.KERNEL_CIRCLE)
        return {
            "per_width": circle["per_width"],
            "slope_per_network_error": circle["slope_per_network_error"],
        }

    def kernel_dynamics():
        curves = read(layout.KERNEL_CURVES)
        return {"per_width": curves["per_width"], "slope_early_gap": curves["slope_early_gap"]}

    def symmetry():
        sym = read(layout.SYMMETRY_ROW)
        rec = sym["layers"]["rec"]
        return {
            "first_to_order": sym["first_to_order"],
            "first_to_break": sym["first_to_break"],
            "continuous_break_epoch": rec["continuous_break_epoch"],
            "discrete_break_epoch": rec["discrete_break_epoch"],
            "continuous_entropy_change": rec["continuous_entropy_change"],
            "discrete_entropy_change": rec["discrete_entropy_change"],
        }

    def entropy():
        agg = read(layout.ENTROPY_MSI)["aggregate"]
        out = {}
        for layer in agg["layers"]:
            one = agg["layers"][layer]["entropy_one"]["mean"]
            two = agg["layers"][layer]["entropy_two"]["mean"]
            out[layer] = {
                "entropy_one_first_last": [one[0], one[-1]],
                "entropy_two_first_last": [two[0], two[-1]],
                "decreased": bool(one[-1] < one[0]),
            }
        return out

    msi = f"MSI, {s.msi_seeds} seeds, ≤ {s.msi_iterations} iterations (early stop MSE ≤ 0.002)"
    return [
        {
            "quantity": "pixel-MNIST test accuracy (mean-field and sampled)",
            "figure": "Fig. 2",
            "ours": _maybe(lambda: _mnist_accuracy(runs["pixel-mnist"])),
            "paper": "not recovered; 'comparable to or better than traditional BPTT' "
            "(expect about 95–98%)",
            "conditions": f"N = 100, {s.pixel_seeds} seed(s), {s.pixel_epochs} epochs × "
            f"{s.pixel_batches} batches × {s.pixel_batch_size}; {data}; test on "
            f"{s.mnist_test_samples or 'all'} images",
        },
        {
            "quantity": "28×28 MNIST test accuracy",
            "figure": "appendix / Fig. 9",
            "ours": _maybe(lambda: _mnist_accuracy(runs["row-mnist"])),
            "paper": "not recovered",
            "conditions": f"N = 100, {s.row_seeds} seed(s), {s.row_epochs} epochs × "
            f"{s.row_batches} batches × {s.row_batch_size}; {data}",
        },
        {
            "quantity": "fraction of VIP recurrent weights",
            "figure": "Fig. 4",
            "ours": _maybe(
                lambda: {
                    "seed0": read(layout.VIP)["vip_fraction"],
                    "per_seed": vip_fractions(runs["multisensory"]),
                }
            ),
            "paper": "≈ 1%",
            "conditions": f"{msi}; π ≤ 0.1, Ξ < 0.1, |m| > 0.08",
        },
        {
            "quantity": "accuracy after removing all VIP weights",
            "figure": "Fig. 4",
            "ours": _maybe(lambda: vip_row("vip")),
            "paper": "≈ chance (0.5)",
            "conditions": f"MSI seed 0, π = 1 on removed weights, {s.vip_batches} test batches, "
            f"dt = 0.5 ms, mean-field pass",
        },
        {
            "quantity": "accuracy after removing an equal number of random weights",
            "figure": "Fig. 4",
            "ours": _maybe(lambda: vip_row("random")),
            "paper": "≈ unchanged",
            "conditions": "MSI seed 0, uniformly drawn non-VIP weights",
        },
        {
            "quantity": "psychometric curves",
            "figure": "Fig. 3",
            "ours": _maybe(psychometric),
            "paper": "va steeper than v, a; P(high) ≈ 0 (≤ 11 Hz) → ≈ 1 (≥ 14 Hz)",
            "conditions": f"{msi}; {s.msi_test_batches} test batches at dt = 0.5 ms; σ from "
            f"cumulative-Gaussian fits to the seed-mean curve",
        },
        {
            "quantity": "MSI convergence",
            "figure": "—",
            "ours": _maybe(convergence),
            "paper": "train MSE ≤ 0.002 after ~350 iterations (one run: 346, MSE 0.0018)",
            "conditions": "30-trial minibatches, RMSprop, official settings",
        },
        {
            "quantity": "neural selectivity types",
            "figure": "Fig. 5",
            "ours": _maybe(selectivity),
            "paper": "mixed, uni-selective and non-selective units all present",
            "conditions": f"MSI seed 0, SLI with N_s = 4, {s.selectivity_repeats} trials per "
            f"condition",
        },
        {
            "quantity": "PCA of neural dynamics",
            "figure": "Fig. 7",
            "ours": _maybe(pca),
            "paper": "top 3 PCs > 85% of variance (MNIST and MSI)",
            "conditions": "sampled weights (per step); pixel-MNIST digits 1/5/9 "
            f"({s.projection_per_digit} each), MSI visual trials 9–16 Hz",
        },
        {
            "quantity": "synaptic-dynamics PCA",
            "figure": "Fig. 8",
            "ours": _maybe(synaptic),
            "paper": "low-dimensional, persistent drift along PC1",
            "conditions": "recurrent (m, π, Ξ) snapshots of row-MNIST seed 0 and MSI seed 0",
        },
        {
            "quantity": "RNTK at initialization",
            "figure": "Fig. 6a",
            "ours": _maybe(kernel_init),
            "paper": "analytic = empirical (to within about ±1 s.d. at N = 2000)",
            "conditions": f"T = 2, α = 0.5, widths {list(s.circle_widths)}, "
            f"{s.circle_networks} networks per width, {s.circle_phis} φ values",
        },
        {
            "quantity": "RNTK learning dynamics",
            "figure": "Fig. 6b",
            "ours": _maybe(kernel_dynamics),
            "paper": "agrees with BPTT early; deviates later at finite N",
            "conditions": f"MNIST 0/1 ({s.curve_train}/{s.curve_test}, {data}), α = 1, η = 1e-3, "
            f"{s.curve_epochs} epochs, widths {list(s.curve_widths)}",
        },
        {
            "quantity": "symmetry breaking order",
            "figure": "Fig. 9",
            "ours": _maybe(symmetry),
            "paper": "Ξ (continuous) breaks before π (discrete)",
            "conditions": "row-MNIST seed 0, recurrent layer, halfway break epochs",
        },
        {
            "quantity": "entropy of the ensemble",
            "figure": "Fig. 10",
            "ours": _maybe(entropy),
            "paper": "decreases during training (approximate estimator)",
            "conditions": f"{msi}; every {s.entropy_stride}-th iteration, {s.entropy_draws} "
            f"Monte Carlo draws",
        },
    ]


# -------------------------------------------------------------------------------------------
# Entry point
# -------------------------------------------------------------------------------------------
def reproduce(
    out,
    mode: str = "quick",
    only=None,
    jobs: int = 1,
    data: str | None = None,
    progress: bool = True,
    draw: bool = True,
    log=print,
) -> dict:
    """Run (or reuse) every stage of ``mode``, draw the figures and write OUT/summary.json.

    Args:
        out: output directory (runs/, results/, figures/, summary.json).
        mode: "quick", "full" or "smoke" (:data:`MODES`).
        only: figure names to produce (default all of :data:`FIGURE_NAMES`).
        jobs: worker processes for the stages (≥ 1).
        data: MNIST source (default: embedded for quick/smoke, $SASRNN_MNIST_DIR for full).
        progress: show the tqdm bar over stages.
        draw: draw the figures (False: simulations and summary only).
        log: callable for messages.

    Returns:
        The summary.json content.

    Raises:
        ValueError: bad mode, jobs < 1, unknown figure name.
        FileNotFoundError: full mode without MNIST IDX files.
    """
    if int(jobs) < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    if mode == "full" and data is None:
        data = os.environ.get("SASRNN_MNIST_DIR")
        if not data:
            raise FileNotFoundError(
                "--full needs the standard MNIST IDX files: pass --data DIR "
                "or set SASRNN_MNIST_DIR."
            )
    settings = settings_for(mode, data)
    names = list(only) if only else list(FIGURE_NAMES)
    unknown = [n for n in names if n not in FIGURE_STAGES]
    if unknown:
        raise ValueError(
            f"--only: unknown figure(s) {unknown}; choose from {', '.join(FIGURE_STAGES)}."
        )
    out = Path(out)
    context = Context(out)
    context.results.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stages = plan_stages(settings, context, only=names if only else None)
    runs = {task: [] for task in ("multisensory", "row-mnist", "pixel-mnist")}
    for stage in plan_stages(settings, context):  # every run of the mode, also with --only
        if stage.function is stage_train:
            config = stage.params["config"]
            runs[config["task"]].append(str(context.runs / _run_dir_name(config)))
    store.atomic_write_json(
        context.results / layout.RUNS_INDEX,
        {task: [os.path.relpath(d, context.results) for d in dirs] for task, dirs in runs.items()},
    )
    record = run_stages(stages, context, jobs=int(jobs), progress=progress)
    simulated = time.perf_counter() - start
    figures = {}
    if draw:
        figures = draw_figures(names, context.results, out / layout.FIGURES_DIR, jobs=int(jobs))
        for name, outcome in figures.items():
            if "error" in outcome:
                log(f"figure {name}: FAILED {outcome['error']}")
    summary = {
        "mode": mode,
        "headline": summary_rows(context.results, settings, runs),
        "reductions": reductions(settings),
        "settings": settings.to_dict(),
        "figures": figures,
        "stages": {
            name: {
                "seconds": round(entry.get("seconds", 0.0), 2),
                "cached": entry.get("cached", False),
            }
            for name, entry in record.items()
            if name in {s.name for s in stages}
        },
        "wall_seconds": {
            "simulations": round(simulated, 2),
            "total": round(time.perf_counter() - start, 2),
        },
        "run_info": store.run_metadata({"task": "reproduce", "seed": 0}),
    }
    store.atomic_write_json(out / layout.SUMMARY_FILE, summary)
    return summary
