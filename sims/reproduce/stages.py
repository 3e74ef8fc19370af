"""The stages of a reproduction: thin adapters from run directories to stored results.

A stage opens the runs it reads (:meth:`sims.runs.Run.open`), calls one library function
(:mod:`sims.train`, :mod:`sims.analyses`, :mod:`sims.kernels`, :mod:`sims.scan`) and writes what
it returns with :func:`sims.store.write_result` under ``OUT/results/STEM`` (stems and schemas:
:data:`figures.resultfiles.RESULT_STEMS`). Every stage is a module-level function
``stage_x(context, **params) -> dict`` (picklable, for worker processes) whose keyword arguments
are JSON-able: they enter the stage's cache key. The returned dict is recorded in stages.json.

An analysis of trained runs (VIP, selectivity, neural and synaptic PCA, symmetry) runs on every
analysed seed of its task, one run after the other: the first run's result is written under the
stem its figure draws (the example), and the claims' numbers over seeds (per-seed values, seed
means with 95% t-intervals, nulls, paired differences; :mod:`sims.analyses.over_seeds`) under
``<analysis>_seeds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sims import store
from sims.reproduce.settings import run_dir_name

__all__ = [
    "Context",
    "stage_behaviour",
    "stage_comparison",
    "stage_entropy",
    "stage_kernel_circle",
    "stage_kernel_curves",
    "stage_parameters",
    "stage_phase",
    "stage_projection",
    "stage_selectivity",
    "stage_symmetry",
    "stage_synaptic",
    "stage_toy",
    "stage_train",
    "stage_training_curves",
    "stage_vip",
    "write_stage_result",
]


@dataclass(frozen=True)
class Context:
    """Where a stage reads and writes: the output directory OUT."""

    out: Path

    @property
    def results(self) -> Path:
        return Path(self.out) / store.RESULTS_DIR

    @property
    def runs(self) -> Path:
        return Path(self.out) / store.RUNS_DIR

    def run_dir(self, config: dict) -> Path:
        """The directory of the training run of ``config``."""
        return self.runs / run_dir_name(config)


def write_stage_result(context: Context, stem: str, summary: dict, arrays=None) -> list[str]:
    """Write result ``stem`` (schema from RESULT_STEMS); returns the file names relative to OUT."""
    paths = store.write_result(context.results / stem, store.RESULT_STEMS[stem], summary, arrays)
    return [str(Path(path).relative_to(context.out)) for path in paths]


def _open(run_dir):
    from sims.runs import Run

    return Run.open(run_dir)


def stage_train(context: Context, config: dict) -> dict:
    """Train (or resume, or reuse) one run in OUT/runs/<task>-seed<k>-<hash12>."""
    from sims.train import train_run

    run_dir = context.run_dir(config)
    run = train_run(config, run_dir, resume=True, progress=False)
    return {"run_dir": str(run_dir), "epochs_trained": len(run.metrics["epochs"])}


def stage_training_curves(context: Context, stem: str, run_dirs: list) -> dict:
    """Figs. 2a–b, A3, accuracy and convergence claims: learning curves of every run of one
    task and preset, with seed means and t-intervals."""
    from sims.analyses.training import training_curves

    summary = training_curves([_open(d) for d in run_dirs])
    return {"files": write_stage_result(context, stem, summary)}


def stage_comparison(context: Context, stem: str, ensemble_dirs: list, baseline_dirs: list) -> dict:
    """Fig. 2 and the central claim: the ensemble's final accuracy minus BPTT's, paired by seed."""
    from sims.analyses.training import preset_comparison

    summary = preset_comparison(
        [_open(d) for d in ensemble_dirs], [_open(d) for d in baseline_dirs]
    )
    return {"files": write_stage_result(context, stem, summary)}


def stage_parameters(context: Context, stem: str, run_dirs: list) -> dict:
    """Figs. 2c–e, 4a, A3: trained blocks of the first run, VIP fraction of every run."""
    from sims.analyses.training import trained_parameters

    runs = [_open(d) for d in run_dirs]
    summary, arrays = trained_parameters(runs[0], runs)
    return {"files": write_stage_result(context, stem, summary, arrays)}


def stage_behaviour(context: Context, run_dirs: list, seed: int) -> dict:
    """Fig. 3: pooled psychometric curves with fits, one example trial and test outputs."""
    from sims.analyses.behaviour import example_trial, psychometric_summary

    runs = [_open(d) for d in run_dirs]
    files = write_stage_result(
        context, "psychometric", psychometric_summary([run.metrics["final"] for run in runs])
    )
    summary, arrays = example_trial(runs[0].network(), runs[0].task, seed=seed)
    summary["run_dir"] = str(run_dirs[0])
    return {"files": files + write_stage_result(context, "msi_example", summary, arrays)}


def _each_run(
    context: Context, run_dirs: list, stem: str, analyse, first=None
) -> tuple[list, list, list]:
    """``analyse(run) -> (summary, arrays)`` of every run of ``run_dirs``, in order.

    The first run's result, of ``first(run)`` when given, is written as ``stem`` (the example its
    figure draws).

    Returns:
        (summaries, each with its "run_dir"; the runs' seeds; the files written).
    """
    summaries, seeds, files = [], [], []
    for k, run_dir in enumerate(run_dirs):
        run = _open(run_dir)
        summary, arrays = (first if k == 0 and first else analyse)(run)
        summary = {**summary, "run_dir": str(run_dir)}
        if not files:
            files = write_stage_result(context, stem, summary, arrays)
        summaries.append(summary)
        seeds.append(int(run.config["seed"]))
    return summaries, seeds, files


def _write_over_seeds(context: Context, stem: str, summaries: list, seeds: list, aggregate):
    """Write the over-seeds result ``stem``: the runs, their seeds and ``aggregate``."""
    runs = {"run_dirs": [s["run_dir"] for s in summaries], "seeds": seeds}
    return write_stage_result(context, stem, {**runs, **aggregate})


def stage_vip(context: Context, run_dirs: list, fractions: list, n_batches: int) -> dict:
    """Fig. 4: VIP fraction and target removal of every analysed MSI run (removal draws and
    test noise seeded by the run's seed). The first run, drawn in Fig. 4 (vip.json), is removed
    at every fraction of ``fractions``; the others at p = 1 (all VIPs, and as many connections
    by each control) only, which is all the claims read (vip_seeds.json)."""
    from sims.analyses.over_seeds import vip_over_seeds
    from sims.analyses.vip import vip_analysis

    def analyse(run, removed=(1.0,)):
        network, seed = run.network(), run.config["seed"]
        return vip_analysis(network, run.task, seed, fractions=removed, n_batches=n_batches)

    summaries, seeds, files = _each_run(
        context, run_dirs, "vip", analyse, first=lambda run: analyse(run, fractions)
    )
    aggregate = vip_over_seeds(summaries)
    return {"files": files + _write_over_seeds(context, "vip_seeds", summaries, seeds, aggregate)}


def stage_selectivity(context: Context, run_dirs: list, n_repeats: int) -> dict:
    """Fig. 5: SLI classes of every analysed MSI run beside its untrained network and
    condition shuffles (trials seeded by the run's seed); selectivity.json holds the first
    run's, with example traces."""
    from sims.analyses.over_seeds import selectivity_over_seeds
    from sims.analyses.selectivity import selectivity_analysis, untrained_network

    def analyse(run):
        untrained, source = untrained_network(run)
        return selectivity_analysis(
            run.network(),
            run.task,
            untrained=untrained,
            untrained_source=source,
            seed=run.config["seed"],
            n_repeats=n_repeats,
        )

    summaries, seeds, files = _each_run(context, run_dirs, "selectivity", analyse)
    aggregate = selectivity_over_seeds(summaries)
    files += _write_over_seeds(context, "selectivity_seeds", summaries, seeds, aggregate)
    return {"files": files}


def _snapshots(run, blocks, stride: int):
    """(epochs (E,), {block: (E, ...)}) of every ``stride``-th snapshot, the last one included."""
    from sims.analyses.common import snapshot_epochs, stack_snapshots

    return stack_snapshots(run, blocks, snapshot_epochs(run, stride))


def _over_tasks(context: Context, stem: str, tasks: list, over_seeds) -> list[str]:
    """An analysis of several tasks' runs: ``tasks`` lists (example stem, name, run_dirs, analyse)
    per task (see :func:`_each_run`); the over-seeds result ``stem`` holds
    ``over_seeds(summaries)`` of each task under its name. Returns the files written."""
    files, summary = [], {"run_dirs": {}, "seeds": {}}
    for example, name, run_dirs, analyse in tasks:
        summaries, seeds, written = _each_run(context, run_dirs, example, analyse)
        files += written
        summary["run_dirs"][name] = [s["run_dir"] for s in summaries]
        summary["seeds"][name] = seeds
        summary[name] = over_seeds(summaries)
    return files + write_stage_result(context, stem, summary)


def stage_projection(context: Context, msi_dirs: list, mnist_dirs: list, per_digit: int) -> dict:
    """Fig. 7: neural PCA of every analysed MSI and pixel-MNIST run, and of the same networks
    before training on the same trials (the control); projection_msi / projection_mnist hold
    the first run of each task, projection_seeds both tasks over seeds."""
    from sims.analyses.over_seeds import neural_pca_over_seeds
    from sims.analyses.projection import neural_projection
    from sims.analyses.selectivity import untrained_network

    def analyse(run):
        seed, initial = run.config["seed"], untrained_network(run)[0]
        neural, arrays = neural_projection(run.network(), run.task, seed, n_per_digit=per_digit)
        untrained, _ = neural_projection(initial, run.task, seed, n_per_digit=per_digit)
        return {"neural": neural, "untrained": untrained}, arrays

    def over_seeds(summaries):
        return neural_pca_over_seeds(
            [s["neural"] for s in summaries], [s["untrained"] for s in summaries]
        )

    tasks = [
        ("projection_msi", "msi", msi_dirs, analyse),
        ("projection_mnist", "pixel_mnist", mnist_dirs, analyse),
    ]
    return {"files": _over_tasks(context, "projection_seeds", tasks, over_seeds)}


def _synaptic(run, stride: int):
    from sims.analyses.projection import SYNAPTIC_BLOCKS, synaptic_projection

    epochs, stacked = _snapshots(run, SYNAPTIC_BLOCKS, stride)
    return synaptic_projection(stacked, epochs, SYNAPTIC_BLOCKS)


def stage_synaptic(
    context: Context, row_dirs: list, msi_dirs: list, row_stride: int, msi_stride: int
) -> dict:
    """Fig. 8: synaptic PCA of every analysed row-MNIST and MSI run beside its random-walk and
    shuffled-increment nulls (every ``*_stride``-th snapshot); synaptic_row / synaptic_msi hold
    the first run of each task, synaptic_seeds both tasks over seeds."""
    from sims.analyses.over_seeds import synaptic_over_seeds

    tasks = [
        ("synaptic_row", "row_mnist", row_dirs, lambda run: _synaptic(run, row_stride)),
        ("synaptic_msi", "msi", msi_dirs, lambda run: _synaptic(run, msi_stride)),
    ]
    return {"files": _over_tasks(context, "synaptic_seeds", tasks, synaptic_over_seeds)}


def stage_symmetry(context: Context, run_dirs: list) -> dict:
    """Fig. 9: symmetry breaking of every row-MNIST run started from an intermediate π₀ (every
    saved epoch); symmetry_row holds the first run's, symmetry_seeds the verdicts over seeds and
    each run's initial π per layer."""
    from sims.analyses.over_seeds import symmetry_over_seeds
    from sims.analyses.symmetry import LAYERS, symmetry_analysis

    blocks = [f"{layer}.{p}" for layer in LAYERS for p in ("pi", "xi")]

    def analyse(run):
        epochs, stacked = _snapshots(run, blocks, 1)
        summary, arrays = symmetry_analysis(stacked, epochs)
        initial = {layer: run.config["init"][layer]["pi"] for layer in LAYERS}
        return {**summary, "initial_pi": initial}, arrays

    summaries, seeds, files = _each_run(context, run_dirs, "symmetry_row", analyse)
    aggregate = symmetry_over_seeds(summaries) | {
        "initial_pi": [s["initial_pi"] for s in summaries]
    }
    files += _write_over_seeds(context, "symmetry_seeds", summaries, seeds, aggregate)
    return {"files": files}


def stage_entropy(context: Context, run_dirs: list, stride: int, n_draws: int, seed: int) -> dict:
    """Fig. 10 (a, b): Entropy I and II per iteration, mean ± std over MSI runs."""
    from sims.analyses.entropy import ENTROPY_LAYERS, aggregate_entropy, entropy_analysis

    blocks = [f"{layer}.{p}" for layer in ENTROPY_LAYERS for p in ("m", "pi", "xi")]
    per_run = []
    for run_dir in run_dirs:
        epochs, stacked = _snapshots(_open(run_dir), blocks, stride)
        analysis = entropy_analysis(stacked, epochs, seed=seed, n_draws=n_draws)
        per_run.append({"run_dir": str(run_dir), **analysis})
    aggregate, arrays = aggregate_entropy(per_run)
    summary = {
        "aggregate": aggregate,
        "stride": stride,
        "n_draws": n_draws,
        "runs": [r["run_dir"] for r in per_run],
    }
    return {"files": write_stage_result(context, "entropy_msi", summary, arrays)}


def stage_toy(context: Context, n_runs: int, n_epochs: int, n_synapses: int, seed: int) -> dict:
    """Fig. 10 (c–e): toy-model curves, mean ± std over runs."""
    from sims.analyses.plasticity import toy_curves

    summary, arrays = toy_curves(n_runs, seed, n_epochs, n_synapses)
    return {"files": write_stage_result(context, "toy", summary, arrays)}


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
    from sims.kernels import circle_result

    summary, arrays = circle_result(alpha, n_steps, widths, n_networks, n_phi, seed)
    return {"files": write_stage_result(context, "kernel_circle", summary, arrays)}


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
    from sims.kernels import curves_result

    summary, arrays = curves_result(data, widths, n_networks, epochs, n_train, n_test, seed)
    return {"files": write_stage_result(context, "kernel_curves", summary, arrays)}


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

    out = context.results / store.PHASE_DIR / name
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
    return {"files": [str((out / store.SCAN_FILE).relative_to(context.out))]}
