"""Settings of a reproduction per tier: the paper's values, and what ``quick`` and ``smoke`` change.

* ``full``: the paper's settings (docs/model.md §2–§6) with the standard MNIST IDX files.
* ``quick``: the embedded 5,000-image MNIST subset and reduced but honest settings (fewer seeds,
  epochs, widths, grid points and test batches; the same science). Every reduction relative to
  ``full`` is listed by :func:`reductions` (printed, and stored in summary.json).
* ``smoke``: toy sizes for tests of the orchestration only (numbers are meaningless).

:func:`run_config` turns the settings into the resolved training config of one task and seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sims import store

__all__ = [
    "MODES",
    "QUICK_CHANGES",
    "SMOKE_CHANGES",
    "Settings",
    "reductions",
    "run_config",
    "run_dir_name",
    "settings_for",
]

#: The tiers of a reproduction.
MODES = ("quick", "full", "smoke")


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
        return store.to_json(dataclasses.asdict(self))


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
                    "used": store.to_json(used),
                    "paper": store.to_json(reference),
                }
            )
    return out


def run_config(task: str, seed: int, settings: Settings) -> dict:
    """The resolved training config of ``task`` and ``seed`` under ``settings``.

    Args:
        task: "multisensory", "row-mnist" or "pixel-mnist".
        seed: the run's seed.
        settings: the reproduction's settings.
    """
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
        data=settings.data,
        epochs=getattr(settings, f"{prefix}_epochs"),
        batches_per_epoch=getattr(settings, f"{prefix}_batches"),
        batch_size=getattr(settings, f"{prefix}_batch_size"),
        overrides=overrides,
    )


def run_dir_name(config: dict) -> str:
    """``<task>-seed<k>-<first 12 hex digits of the config hash>``: a run directory's name."""
    return f"{config['task']}-seed{config['seed']}-{store.config_hash(config)[:12]}"
