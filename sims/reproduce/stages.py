"""The stages of a reproduction: thin adapters from run directories to stored results.

A stage opens the runs it reads (:meth:`sims.runs.Run.open`), calls one library function
(:mod:`sims.train`, :mod:`sims.analyses`, :mod:`sims.kernels`, :mod:`sims.scan`) and writes what
it returns with :func:`sims.store.write_result` under ``OUT/results/STEM`` (stems and schemas:
:data:`figures.resultfiles.RESULT_STEMS`). Every stage is a module-level function
``stage_x(context, **params) -> dict`` (picklable, for worker processes) whose keyword arguments
are JSON-able: they enter the stage's cache key. The returned dict is recorded in stages.json.
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
    "stage_row_snapshots",
    "stage_selectivity",
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


def stage_vip(context: Context, run_dir: str, fractions: list, n_batches: int, seed: int) -> dict:
    """Fig. 4: VIP fraction and the target-removal curves of one MSI run."""
    from sims.analyses.vip import vip_analysis

    run = _open(run_dir)
    summary, arrays = vip_analysis(
        run.network(), run.task, seed=seed, fractions=fractions, n_batches=n_batches
    )
    summary["run_dir"] = str(run_dir)
    return {"files": write_stage_result(context, "vip", summary, arrays)}


def stage_selectivity(context: Context, run_dir: str, n_repeats: int, seed: int) -> dict:
    """Fig. 5: SLI classes and example traces of one MSI run, beside the untrained network and
    condition shuffles."""
    from sims.analyses.selectivity import selectivity_analysis, untrained_network

    run = _open(run_dir)
    untrained, source = untrained_network(run)
    summary, arrays = selectivity_analysis(
        run.network(),
        run.task,
        untrained=untrained,
        untrained_source=source,
        seed=seed,
        n_repeats=n_repeats,
    )
    summary["run_dir"] = str(run_dir)
    return {"files": write_stage_result(context, "selectivity", summary, arrays)}


def _snapshots(run, blocks, stride: int):
    """(epochs (E,), {block: (E, ...)}) of every ``stride``-th snapshot, the last one included."""
    from sims.analyses.common import snapshot_epochs, stack_snapshots

    return stack_snapshots(run, blocks, snapshot_epochs(run, stride))


def _synaptic(run, stride: int):
    from sims.analyses.projection import SYNAPTIC_BLOCKS, synaptic_projection

    epochs, stacked = _snapshots(run, SYNAPTIC_BLOCKS, stride)
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
    neural, arrays = neural_projection(run.network(), run.task, seed=seed, n_per_digit=per_digit)
    files = write_stage_result(context, stem, {"neural": neural, "run_dir": str(run_dir)}, arrays)
    if synaptic_stem:
        summary, synaptic_arrays = _synaptic(run, stride)
        files += write_stage_result(
            context, synaptic_stem, {**summary, "run_dir": str(run_dir)}, synaptic_arrays
        )
    return {"files": files}


def stage_row_snapshots(context: Context, run_dir: str, stride: int) -> dict:
    """Figs. 8–9 for row-by-row MNIST: synaptic PCA and symmetry breaking of one run."""
    from sims.analyses.symmetry import LAYERS, symmetry_analysis

    run = _open(run_dir)
    summary, arrays = _synaptic(run, stride)
    files = write_stage_result(context, "synaptic_row", {**summary, "run_dir": run_dir}, arrays)
    blocks = [f"{layer}.{p}" for layer in LAYERS for p in ("pi", "xi")]
    epochs, stacked = _snapshots(run, blocks, 1)
    summary, arrays = symmetry_analysis(stacked, epochs)
    files += write_stage_result(context, "symmetry_row", {**summary, "run_dir": run_dir}, arrays)
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
