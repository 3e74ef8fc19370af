"""The plan of a reproduction: every stage, what it reads, what it writes, and its cache key.

A stage's cache key is the :func:`sims.store.config_hash` of its name, its parameters, the keys
of the stages it reads and :data:`STAGE_FORMAT_VERSION`; so a change of settings invalidates the
stage and everything downstream of it. ``--only`` keeps the stages the named figures read
(:data:`FIGURE_STAGES`) and the stages those depend on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sims import store
from sims.reproduce import stages as st
from sims.reproduce.settings import (
    PRESETS,
    TRAINED_TASKS,
    Settings,
    analysed_seeds,
    run_config,
    trained_presets,
    trained_seeds,
)

__all__ = [
    "FIGURE_NAMES",
    "FIGURE_STAGES",
    "STAGE_FORMAT_VERSION",
    "Stage",
    "figures_and_notes",
    "plan_stages",
    "runs_index",
    "training_runs",
]

#: Figures drawn at the end (names of the registry in figures/__init__.py).
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
    "appendix-row",
    "fashion-rows",
    "phase-g-pi",
)
#: Which stage groups each figure (and the headline claims of its figure) reads.
FIGURE_STAGES = {
    "fig1": (),
    "fig2": ("training-pixel", "training-pixel-bptt", "parameters-pixel", "comparison-pixel"),
    "fig3": ("behaviour", "training-msi", "training-msi-bptt", "comparison-msi"),
    "fig4": ("vip", "parameters-msi"),
    "fig5": ("selectivity",),
    "fig6": ("kernel-circle", "kernel-curves"),
    "fig7": ("projection",),
    "fig8": ("synaptic",),
    "fig9": ("symmetry", "training-symmetry"),
    "fig10": ("entropy", "toy"),
    "appendix-kernel": ("kernel-circle",),
    "appendix-row": ("training-row", "training-row-bptt", "parameters-row", "comparison-row"),
    "fashion-rows": (
        "training-fashion",
        "training-fashion-bptt",
        "parameters-fashion",
        "comparison-fashion",
    ),
    "phase-g-pi": ("phase",),
}
#: Figures that draw a task's runs only: left out (with a note) when the task is not trained.
FIGURE_TASKS = {"fashion-rows": "fashion-rows"}
#: Bump when a stage's output format changes (invalidates cached stage results).
STAGE_FORMAT_VERSION = 6


@dataclass
class Stage:
    """One unit of work: ``function(context, **params)`` writing files under OUT.

    Attributes:
        name: unique stage name ("train-msi-seed0", "vip", …).
        function: a module-level function of :mod:`sims.reproduce.stages` (picklable).
        params: JSON-able keyword arguments (they enter the cache key).
        deps: names of the stages whose outputs it reads.
        outputs: files and directories (relative to OUT) it writes; a cached result counts
            while they are as the stage wrote them (:mod:`.scheduler`).
        group: the figure-level group ("train-msi", "vip", …) used by ``--only``.
        key: the cache key (set by :func:`plan_stages`).
        seconds: the planned cost in one-core seconds (:func:`sims.reproduce.cost.stage_cost`).
        threads: how many cores the stage can use at once (its planned speed-up cap).
    """

    name: str
    function: Callable
    params: dict
    deps: tuple = ()
    outputs: tuple = ()
    group: str = ""
    key: str = field(default="", repr=False)
    seconds: float = field(default=0.0, repr=False)
    threads: float = field(default=1.0, repr=False)


def _result(stem: str, arrays: bool = False) -> tuple:
    files = (f"{store.RESULTS_DIR}/{stem}.json",)
    return files + ((f"{store.RESULTS_DIR}/{stem}.npz",) if arrays else ())


def _suffix(preset: str, sep: str = "-") -> str:
    """ "" for the paper preset, "-bptt" (or "_bptt") for the baseline."""
    return "" if preset == "paper" else f"{sep}{preset}"


def training_runs(settings: Settings, context: st.Context, preset: str = "paper") -> dict:
    """{task key: [run directory of each seed]} of every ``preset`` run of ``settings`` (a task
    not trained with ``preset`` is absent)."""
    return {
        item.key: [
            str(context.run_dir(run_config(item.key, seed, settings, preset)))
            for seed in range(trained_seeds(item.key, settings))
        ]
        for item in TRAINED_TASKS
        if preset in trained_presets(item.key, settings) and trained_seeds(item.key, settings)
    }


def runs_index(settings: Settings, context: st.Context) -> dict:
    """runs.json: {task key: dirs} of the ensemble runs and {"<task key>-bptt": dirs} of the
    baseline's."""
    index = {}
    for preset in PRESETS:
        for key, dirs in training_runs(settings, context, preset).items():
            index[f"{key}{_suffix(preset)}"] = dirs
    return index


def _training_stages(settings: Settings, context: st.Context) -> list[Stage]:
    stages = []
    for item in TRAINED_TASKS:
        for preset in trained_presets(item.key, settings):
            group = f"train-{item.prefix}{_suffix(preset)}"
            for seed in range(trained_seeds(item.key, settings)):
                config = run_config(item.key, seed, settings, preset)
                run = f"{store.RUNS_DIR}/{context.run_dir(config).name}"
                stages.append(
                    Stage(
                        f"{group}-seed{seed}",
                        st.stage_train,
                        {"config": config},
                        outputs=(run,),
                        group=group,
                    )
                )
    return stages


def _export_stages(settings: Settings, context: st.Context) -> list[Stage]:
    """Learning curves, trained parameters and the ensemble-vs-BPTT comparison of each task
    (what the figures and claims read of the runs)."""
    stages = []
    runs = {preset: training_runs(settings, context, preset) for preset in PRESETS}
    for item in TRAINED_TASKS:
        if item.key not in runs["paper"]:
            continue
        seeds = range(trained_seeds(item.key, settings))
        deps = {
            preset: tuple(f"train-{item.prefix}{_suffix(preset)}-seed{k}" for k in seeds)
            for preset in trained_presets(item.key, settings)
        }
        for preset in deps:
            stem = f"training_{item.prefix}{_suffix(preset, '_')}"
            params = {"stem": stem, "run_dirs": runs[preset][item.key]}
            name = f"training-{item.prefix}{_suffix(preset)}"
            stages.append(
                Stage(name, st.stage_training_curves, params, deps[preset], _result(stem))
            )
        if item.parameters:
            stem = f"parameters_{item.prefix}"
            params = {"stem": stem, "run_dirs": runs["paper"][item.key]}
            stages.append(
                Stage(
                    f"parameters-{item.prefix}",
                    st.stage_parameters,
                    params,
                    deps["paper"],
                    _result(stem, arrays=True),
                )
            )
        if "bptt" in deps:
            stem = f"comparison_{item.prefix}"
            params = {
                "stem": stem,
                "ensemble_dirs": runs["paper"][item.key],
                "baseline_dirs": runs["bptt"][item.key],
            }
            stages.append(
                Stage(
                    f"comparison-{item.prefix}",
                    st.stage_comparison,
                    params,
                    deps["paper"] + deps["bptt"],
                    _result(stem),
                )
            )
    return stages


def _analysed(s: Settings, runs: dict, key: str) -> tuple[list, tuple]:
    """The analysed runs of task ``key`` (:func:`analysed_seeds`) and their training stages."""
    prefix = next(item.prefix for item in TRAINED_TASKS if item.key == key)
    seeds = range(analysed_seeds(key, s))
    return [runs[key][k] for k in seeds], tuple(f"train-{prefix}-seed{k}" for k in seeds)


def _analysis_stages(s: Settings, runs: dict) -> list[Stage]:
    msi_train = tuple(f"train-msi-seed{k}" for k in range(s.msi_seeds))
    msi, msi_analysed = _analysed(s, runs, "multisensory")
    row, row_analysed = _analysed(s, runs, "row-mnist")
    pixel, pixel_analysed = _analysed(s, runs, "pixel-mnist")
    symmetry, symmetry_analysed = _analysed(s, runs, "row-mnist-symmetry")
    return [
        Stage(
            "behaviour",
            st.stage_behaviour,
            {"run_dirs": runs["multisensory"], "seed": 0},
            msi_train,
            _result("psychometric") + _result("msi_example", arrays=True),
        ),
        Stage(
            "vip",
            st.stage_vip,
            {"run_dirs": msi, "fractions": list(s.vip_fractions), "n_batches": s.vip_batches},
            msi_analysed,
            _result("vip", arrays=True) + _result("vip_seeds"),
        ),
        Stage(
            "selectivity",
            st.stage_selectivity,
            {"run_dirs": msi, "n_repeats": s.selectivity_repeats},
            msi_analysed,
            _result("selectivity", arrays=True) + _result("selectivity_seeds"),
        ),
        Stage(
            "projection",
            st.stage_projection,
            {"msi_dirs": msi, "mnist_dirs": pixel, "per_digit": s.projection_per_digit},
            msi_analysed + pixel_analysed,
            _result("projection_msi", arrays=True)
            + _result("projection_mnist", arrays=True)
            + _result("projection_seeds"),
        ),
        Stage(
            "synaptic",
            st.stage_synaptic,
            {"row_dirs": row, "msi_dirs": msi, "row_stride": 1, "msi_stride": s.snapshot_stride},
            row_analysed + msi_analysed,
            _result("synaptic_row", arrays=True)
            + _result("synaptic_msi", arrays=True)
            + _result("synaptic_seeds"),
        ),
        Stage(
            "symmetry",
            st.stage_symmetry,
            {"run_dirs": symmetry},
            symmetry_analysed,
            _result("symmetry_row", arrays=True) + _result("symmetry_seeds"),
        ),
        Stage(
            "entropy",
            st.stage_entropy,
            {"run_dirs": runs["multisensory"], "stride": s.entropy_stride}
            | {"n_draws": s.entropy_draws, "seed": 0},
            msi_train,
            _result("entropy_msi", arrays=True),
        ),
    ]


def _independent_stages(s: Settings) -> list[Stage]:
    stages = [
        Stage(
            "toy",
            st.stage_toy,
            {"n_runs": s.toy_runs, "n_epochs": s.toy_epochs, "n_synapses": s.toy_synapses}
            | {"seed": 0},
            outputs=_result("toy", arrays=True),
        ),
        Stage(
            "kernel-circle",
            st.stage_kernel_circle,
            {"alpha": 0.5, "n_steps": 2, "widths": list(s.circle_widths)}
            | {"n_networks": s.circle_networks, "n_phi": s.circle_phis, "seed": 0},
            outputs=_result("kernel_circle", arrays=True),
        ),
        Stage(
            "kernel-curves",
            st.stage_kernel_curves,
            {"data": s.data, "widths": list(s.curve_widths), "n_networks": s.curve_networks}
            | {"epochs": s.curve_epochs, "n_train": s.curve_train, "n_test": s.curve_test}
            | {"seed": 0},
            outputs=_result("kernel_curves", arrays=True),
        ),
    ]
    for name, network in zip(store.PHASE_SCANS, ("quenched", "mean-field"), strict=True):
        stages.append(
            Stage(
                f"phase-{name}",
                st.stage_phase,
                {"name": name, "network": network, "g": list(s.phase_g), "pi": list(s.phase_pi)}
                | {"n": s.phase_n, "steps": s.phase_steps, "transient": s.phase_transient}
                | {"seeds": s.phase_seeds},
                outputs=(f"{store.RESULTS_DIR}/{store.PHASE_DIR}/{name}/{store.SCAN_FILE}",),
                group="phase",
            )
        )
    return stages


def plan_stages(settings: Settings, context: st.Context, only=None) -> list[Stage]:
    """All stages of a reproduction (or those the figures in ``only`` need), with cache keys.

    Every stage comes after the stages it reads.

    Raises:
        ValueError: an unknown figure name in ``only``.
    """
    from sims.reproduce.cost import stage_cost

    runs = training_runs(settings, context)
    stages = (
        _training_stages(settings, context)
        + _export_stages(settings, context)
        + _analysis_stages(settings, runs)
        + _independent_stages(settings)
    )
    for stage in stages:
        stage.group = stage.group or stage.name
        stage.seconds, stage.threads = stage_cost(stage, settings)
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


def figures_and_notes(names, settings: Settings) -> tuple[list[str], list[str]]:
    """The figures of ``names`` that ``settings`` can draw, and a note for each one left out
    (a task not trained: Fashion-MNIST without its IDX directory, or with no seeds)."""
    drawn, notes = [], []
    for name in names:
        key = FIGURE_TASKS.get(name)
        if key is None or trained_seeds(key, settings):
            drawn.append(name)
        elif getattr(settings, "fashion_seeds", 0):
            notes.append(
                f"{name}: skipped, no Fashion-MNIST IDX files in {settings.fashion_data!r} "
                "(`apt-get install dataset-fashion-mnist` installs them there; or pass "
                "--fashion DIR)"
            )
        else:
            notes.append(f"{name}: skipped, this tier trains no Fashion-MNIST seeds")
    return drawn, notes


def check_figures(names) -> None:
    """Raise ValueError naming the unknown figures among ``names``, and the known ones."""
    unknown = [name for name in names if name not in FIGURE_STAGES]
    if unknown:
        raise ValueError(
            f"--only: unknown figure(s) {unknown}; choose from {', '.join(FIGURE_STAGES)}."
        )


def _select(stages: list[Stage], only) -> list[Stage]:
    if not only:
        return stages
    check_figures(only)
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
