"""Settings of a reproduction per tier: the paper's values, and what the other tiers change.

* ``full``: the paper's settings (docs/model.md §2–§6) with the standard MNIST IDX files.
* ``standard``: the paper's settings with the reductions this 2-core machine forces (fewer epochs
  and seeds, the embedded 5,000-image MNIST subset), about 50 minutes; its numbers are the "ours"
  column of paper_reproduction.md. Beyond the paper, its psychometric test runs on the fine
  frequency grid (0.25 Hz steps near the boundary) with 100 trials per condition.
* ``quick``: the embedded MNIST subset and reduced but honest settings (fewer seeds, epochs,
  widths, grid points and test batches; the same science, the fine psychometric grid included),
  ≤ 10 minutes.
* ``smoke``: toy sizes for tests of the orchestration only (numbers are meaningless).

Every reduction relative to ``full`` is listed by :func:`reductions` (printed, and stored in
summary.json). Beyond the paper, every tier trains the ordinary-BPTT baseline (preset ``bptt``)
beside the ensemble on the tasks of ``bptt_tasks``, row-by-row Fashion-MNIST on its full IDX
files (``fashion_*``, run with the row-MNIST protocol when the directory is present), and
row-by-row MNIST from π₀ = ``symmetry_pi0`` in every layer (``symmetry_seeds`` runs on the
row-MNIST schedule): the paper's presets start at π₀ = 0, from which the spike entropy can only
rise, so the Fig. 9 ordering claim is tested on these runs. The analyses of trained runs (VIP,
selectivity, neural and synaptic PCA, symmetry) read every seed of their task, or the first
``analysis_seeds`` of them.

:data:`TRAINED_TASKS` lists the training runs of a reproduction; :func:`run_config` turns the
settings into the resolved training config of one task, preset and seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sims import store
from sims.data import DEBIAN_FASHION_MNIST_DIR, IDX_FILE_NAMES

__all__ = [
    "MODES",
    "PRESETS",
    "QUICK_CHANGES",
    "SMOKE_CHANGES",
    "STANDARD_CHANGES",
    "TRAINED_TASKS",
    "Settings",
    "TrainedTask",
    "analysed_seeds",
    "fashion_available",
    "reductions",
    "run_config",
    "run_dir_name",
    "settings_for",
    "trained_presets",
    "trained_seeds",
]

#: The tiers of a reproduction.
MODES = ("quick", "standard", "full", "smoke")
#: The presets a reproduction trains: the ensemble of the paper, the ordinary-BPTT baseline.
PRESETS = ("paper", "bptt")


@dataclass(frozen=True)
class TrainedTask:
    """One task a reproduction trains.

    Attributes:
        key: the name in plans and summaries ("pixel-mnist", …, "fashion-rows").
        prefix: the stage and result prefix ("pixel" → train-pixel-seed0, training_pixel.json);
            also the prefix of its settings (``pixel_seeds``, ``pixel_epochs``, …).
        task: the sasrnn task it runs (:data:`sims.presets.TASK_NAMES`).
        parameters: whether a figure draws its trained blocks (Figs. 2, 4, A3).
        schedule: the prefix of its epochs, batches and batch size settings (default
            ``prefix``).
        init_pi: the setting holding the initial spike probability π₀ of every layer (default:
            the preset's).
    """

    key: str
    prefix: str
    task: str
    parameters: bool
    schedule: str = ""
    init_pi: str = ""


#: The training runs of a reproduction, in plan order. Fashion-MNIST is read row by row with the
#: row-MNIST protocol (a real-size check beyond the paper); "row-mnist-symmetry" is row-MNIST on
#: its schedule from π₀ = ``symmetry_pi0`` (the runs of the Fig. 9 claim).
TRAINED_TASKS = (
    TrainedTask("multisensory", "msi", "multisensory", True),
    TrainedTask("row-mnist", "row", "row-mnist", True),
    TrainedTask("pixel-mnist", "pixel", "pixel-mnist", True),
    TrainedTask("fashion-rows", "fashion", "row-mnist", True),
    TrainedTask("row-mnist-symmetry", "symmetry", "row-mnist", False, "row", "symmetry_pi0"),
)
_BY_KEY = {item.key: item for item in TRAINED_TASKS}


@dataclass(frozen=True)
class Settings:
    """Every knob of a reproduction (defaults: the paper, docs/model.md §2–§6).

    MNIST epochs follow the official definition (``batches`` minibatches of ``batch_size``
    images, docs/official-code.md §1 item 4). ``*_test_samples = 0`` means the whole test set.
    ``bptt_tasks`` and ``fashion_*`` go beyond the paper: the baseline of its central comparison
    and a check on full data, both at the paper's MNIST protocol in ``full``.
    """

    mode: str = "full"
    data: str = "env"
    # the tasks (TRAINED_TASKS keys) trained with the bptt preset too, same seeds as the ensemble
    bptt_tasks: tuple = ("multisensory", "row-mnist", "pixel-mnist", "fashion-rows")
    # multisensory (docs/model.md §3.3): seeds, max iterations (early stop at MSE ≤ 0.002 kept)
    msi_seeds: int = 10
    msi_iterations: int = 500
    msi_test_batches: int = 20  # psychometric test batches: trials per condition
    msi_frequency_grid: str = "paper"  # the psychometric test grid, "paper" or "fine"
    msi_bootstrap: int = 1000
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
    # row-by-row Fashion-MNIST, 60,000 / 10,000 IDX files (run when the directory holds them)
    fashion_data: str = DEBIAN_FASHION_MNIST_DIR
    fashion_seeds: int = 5
    fashion_epochs: int = 200
    fashion_batches: int = 200
    fashion_batch_size: int = 128
    fashion_test_samples: int = 0
    # row-by-row MNIST from π₀ = symmetry_pi0 in every layer, on the row-MNIST schedule (Fig. 9)
    symmetry_seeds: int = 5
    symmetry_pi0: float = 0.5
    # analyses; each reads the first analysis_seeds seeds of its task ("all": every seed)
    analysis_seeds: int | str = "all"
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
    curve_networks: int = 5
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
        return store.to_json(dataclasses.asdict(self))


#: Standard mode: the paper's settings where the machine affords them (about 50 min on 2 cores).
#: Training: the embedded MNIST subset, 40 epochs × 31 minibatches of 128 (paper 200 × 200),
#: 3 pixel-MNIST and 5 row-MNIST, MSI and Fashion seeds of each preset; the whole test sets.
#: The psychometric test on the fine grid with 100 trials per condition (the paper: 9–16 Hz, 20).
#: Analyses at the paper's sizes, except Entropy on every 2nd iteration and 20 networks per width
#: for the kernel check (each would cost more than a pixel-MNIST seed).
STANDARD_CHANGES = {
    "data": "embedded",
    "msi_seeds": 5,
    "msi_test_batches": 100,
    "msi_frequency_grid": "fine",
    "row_epochs": 40,
    "row_batches": 31,
    "pixel_seeds": 3,
    "pixel_epochs": 40,
    "pixel_batches": 31,
    "fashion_epochs": 40,
    "fashion_batches": 31,
    "entropy_stride": 2,
    "circle_networks": 20,
}
#: Quick mode: what each knob becomes (everything else is the paper's value). Pixel MNIST trains
#: far enough to learn (≥ 0.5 mean-field test accuracy on seed 0 for each preset). The analyses
#: read two seeds of each task (intervals exist, the majority rules cannot decide).
QUICK_CHANGES = {
    "data": "embedded",
    "bptt_tasks": ("row-mnist", "pixel-mnist"),
    "msi_seeds": 3,
    "msi_test_batches": 5,
    "msi_frequency_grid": "fine",
    "row_seeds": 2,
    "row_epochs": 40,
    "row_batches": 31,
    "pixel_seeds": 1,
    "pixel_epochs": 14,
    "pixel_batches": 31,
    "mnist_test_samples": 300,
    "mnist_sampled_networks": 3,
    "fashion_seeds": 0,
    "symmetry_seeds": 2,
    "analysis_seeds": 2,
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
    "bptt_tasks": ("multisensory", "row-mnist", "pixel-mnist", "fashion-rows"),
    "msi_seeds": 1,
    "msi_iterations": 3,
    "msi_test_batches": 1,
    "msi_bootstrap": 20,
    "row_seeds": 1,
    "row_epochs": 2,
    "row_batches": 2,
    "row_batch_size": 16,
    "pixel_epochs": 1,
    "pixel_batches": 1,
    "pixel_batch_size": 8,
    "mnist_test_samples": 30,
    "mnist_sampled_networks": 1,
    "fashion_seeds": 1,
    "fashion_epochs": 2,
    "fashion_batches": 2,
    "fashion_batch_size": 16,
    "fashion_test_samples": 30,
    "symmetry_seeds": 1,
    "analysis_seeds": 1,
    "vip_fractions": (0.0, 1.0),
    "vip_batches": 1,
    "selectivity_repeats": 2,  # the condition-shuffled null needs two trials per condition
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
_CHANGES = {
    "quick": QUICK_CHANGES,
    "standard": STANDARD_CHANGES,
    "smoke": SMOKE_CHANGES,
    "full": {},
}


def settings_for(mode: str, data: str | None = None, fashion: str | None = None) -> Settings:
    """The settings of ``mode`` (one of :data:`MODES`).

    Args:
        mode: the tier.
        data: overrides the MNIST source ("embedded" or a directory of IDX files).
        fashion: overrides the Fashion-MNIST directory (default Debian's
            ``/usr/share/datasets/fashion-mnist``).

    Raises:
        ValueError: unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is unknown; choose one of {MODES}.")
    settings = dataclasses.replace(Settings(), mode=mode, **_CHANGES[mode])
    if data is not None:
        settings = dataclasses.replace(settings, data=str(data))
    if fashion is not None:
        settings = dataclasses.replace(settings, fashion_data=str(fashion))
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
                    "used": store.to_json(used),
                    "paper": store.to_json(reference),
                }
            )
    return out


def fashion_available(settings: Settings) -> bool:
    """Whether ``settings.fashion_data`` holds the four Fashion-MNIST IDX files (raw or .gz)."""
    directory = Path(settings.fashion_data).expanduser()
    return all(
        (directory / stem).is_file() or (directory / f"{stem}.gz").is_file()
        for stem in IDX_FILE_NAMES.values()
    )


def trained_seeds(key: str, settings: Settings) -> int:
    """How many seeds of task ``key`` (a :data:`TRAINED_TASKS` key) ``settings`` train; Fashion
    only when its directory is present."""
    item = _BY_KEY[key]
    seeds = int(getattr(settings, f"{item.prefix}_seeds"))
    if key == "fashion-rows" and seeds and not fashion_available(settings):
        return 0
    return seeds


def analysed_seeds(key: str, settings: Settings) -> int:
    """How many seeds of task ``key`` the analyses of trained runs read: every trained seed, or
    the first ``settings.analysis_seeds`` of them."""
    seeds = trained_seeds(key, settings)
    if settings.analysis_seeds == "all":
        return seeds
    return min(seeds, int(settings.analysis_seeds))


def trained_presets(key: str, settings: Settings) -> tuple[str, ...]:
    """The presets task ``key`` is trained with: "paper", and "bptt" where ``bptt_tasks`` says."""
    return PRESETS if key in settings.bptt_tasks else PRESETS[:1]


def run_config(task: str, seed: int, settings: Settings, preset: str = "paper") -> dict:
    """The resolved training config of ``task``, ``seed`` and ``preset`` under ``settings``.

    The bptt preset's networks are deterministic (π = Ξ = 0), so its sampled evaluations equal
    its mean-field one exactly; it draws one sampled network instead of
    ``mnist_sampled_networks`` (the same numbers at a fraction of the cost).

    Args:
        task: a :data:`TRAINED_TASKS` key ("multisensory", "row-mnist", "pixel-mnist",
            "fashion-rows", "row-mnist-symmetry").
        seed: the run's seed.
        settings: the reproduction's settings.
        preset: "paper" (the ensemble) or "bptt" (the ordinary-BPTT baseline).

    Raises:
        ValueError: unknown task or preset.
    """
    from sims.presets import resolve_config

    if task not in _BY_KEY:
        raise ValueError(
            f"task {task!r} is not trained by a reproduction; choose one of {list(_BY_KEY)}."
        )
    if task == "multisensory":
        return resolve_config(
            task,
            preset=preset,
            seed=seed,
            epochs=settings.msi_iterations,
            overrides=[
                f"evaluation.n_test_batches={settings.msi_test_batches}",
                f"evaluation.n_boot={settings.msi_bootstrap}",
                f'task_options.frequency_grid="{settings.msi_frequency_grid}"',
            ],
        )
    item = _BY_KEY[task]
    schedule = item.schedule or item.prefix
    samples = 1 if preset == "bptt" else settings.mnist_sampled_networks
    test_samples, data, extra = settings.mnist_test_samples, settings.data, []
    if item.init_pi:
        pi0 = getattr(settings, item.init_pi)
        extra = [f"init.{layer}.pi={pi0}" for layer in ("inp", "rec", "out")]
    if task == "fashion-rows":
        test_samples, data = settings.fashion_test_samples, settings.fashion_data
        extra = ['task_options.kind="fashion"']
    return resolve_config(
        item.task,
        preset=preset,
        seed=seed,
        data=data,
        epochs=getattr(settings, f"{schedule}_epochs"),
        batches_per_epoch=getattr(settings, f"{schedule}_batches"),
        batch_size=getattr(settings, f"{schedule}_batch_size"),
        overrides=[
            f"evaluation.test_samples={test_samples}",
            f"evaluation.n_samples={samples}",
            *extra,
        ],
    )


def run_dir_name(config: dict) -> str:
    """``<task>[-<kind>][-<preset>]-seed<k>-<first 12 hex digits of the config hash>``: a run
    directory's name (kind and preset only where they are not MNIST and "paper")."""
    parts = [config["task"]]
    kind = config.get("task_options", {}).get("kind", "mnist")
    if kind != "mnist":
        parts.append(kind)
    if config.get("preset", "paper") != "paper":
        parts.append(config["preset"])
    return f"{'-'.join(parts)}-seed{config['seed']}-{store.config_hash(config)[:12]}"
