"""``sasrnn analyze KIND RUN_DIR``: an ensemble analysis of a stored run, written as JSON (+ npz).

Kinds (docs/model.md §4, §5; :mod:`sims.analyses`):

- ``vip``: VIP fraction and target-removal curves (Fig. 4);
- ``selectivity``: SLI and mixed / uni-selective / non-selective counts per input group (Fig. 5);
- ``projection``: neural PCA (MNIST digits 1, 5, 9 or MSI visual trials) and synaptic PCA with
  the PC1 drift (Figs. 7–8);
- ``symmetry``: order parameters, break epochs and π / Ξ histograms per layer (Fig. 9);
- ``entropy``: Entropy I and II per epoch; several RUN_DIRs are aggregated (mean ± std, Fig. 10);
- ``quenched``: quenched, per-step sampled and mean-field accuracies of an MNIST run with Ξ scaled
  by 0, ¼, ½, 1 and π kept or set to 0 (beyond the paper: which sampled networks work);
- ``plasticity``: ``--toy`` gives the toy-model curves (no RUN_DIR); with RUN_DIR, the run's
  config is retrained with the fluctuation term off (ε = 0) into ``--ablation-dir`` and compared
  with RUN_DIR (the fluctuation-on run), removing connections in several draws per fraction;
  several RUN_DIRs (seeds) give the paired on − off differences with 95% t intervals.

Example::

    sasrnn analyze vip runs/msi-seed0 --out results/vip-msi-seed0.json --batches 20
    sasrnn analyze symmetry runs/row-mnist-seed0
    sasrnn analyze entropy runs/msi-seed{0,1,2} --out results/entropy-msi.json --stride 5
    sasrnn analyze plasticity --toy --out results/toy.json
    sasrnn analyze plasticity runs/msi-seed{0,1,2,3,4} --out results/plasticity-msi.json

The JSON goes to ``--out`` (default RUN_DIR/analysis-KIND.json); arrays go to the same path with
suffix ``.npz``. A short summary is printed.
"""

from __future__ import annotations

from pathlib import Path

from dynamics.removal import ABS_M_MIN, PI_MAX, REMOVAL_KINDS, XI_MAX
from sims.cli import Repeatable
from sims.evaluate import EVALUATION_MODES

KINDS = ("vip", "selectivity", "projection", "symmetry", "entropy", "plasticity", "quenched")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="ensemble analyses of a stored run (vip, selectivity, projection, "
        "symmetry, entropy, plasticity, quenched)",
        description="Run an ensemble analysis on a stored run and write JSON (+ npz arrays).",
    )
    parser.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    parser.add_argument(
        "run_dirs",
        nargs="*",
        metavar="RUN_DIR",
        help="run directory (entropy, plasticity: several are aggregated; plasticity --toy: none)",
    )
    parser.add_argument(
        "--out", default=None, help="output JSON path (default RUN_DIR/analysis-KIND.json)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the analysis' randomness")
    parser.add_argument(
        "--batches", type=int, default=20, help="test batches per accuracy (vip, plasticity)"
    )
    parser.add_argument(
        "--mode",
        default=None,
        choices=EVALUATION_MODES,
        help="network pass (default: meanfield for vip/selectivity, per_step for projection)",
    )
    parser.add_argument("--test-dt", type=float, default=None, help="MSI test step in ms (0.5)")
    vip = parser.add_argument_group("vip")
    vip.add_argument(
        "--fractions",
        type=float,
        action=Repeatable,
        default=None,
        help="removed fractions of the VIP count (default 0, 0.1, ..., 1)",
    )
    vip.add_argument("--pi-max", type=float, default=PI_MAX, help="VIP: π ≤ PI_MAX")
    vip.add_argument("--xi-max", type=float, default=XI_MAX, help="VIP: Ξ < XI_MAX")
    vip.add_argument("--abs-m-min", type=float, default=ABS_M_MIN, help="VIP: |m| > ABS_M_MIN")
    vip.add_argument("--legacy", action="store_true", help="also the official first-n curves")
    controls = [kind for kind in REMOVAL_KINDS if kind != "vip"]
    vip.add_argument(
        "--controls",
        nargs="+",
        choices=controls,
        default=controls,
        help="control removals beside the VIPs (default all: random magnitude uniform)",
    )
    vip.add_argument(
        "--per-step",
        action="store_true",
        help="also read every network with new sampled weights at every step (2.5x the cost)",
    )
    sel = parser.add_argument_group("selectivity")
    sel.add_argument("--repeats", type=int, default=10, help="trials averaged per condition")
    sel.add_argument(
        "--permutations", type=int, default=None, help="condition shuffles of the null (1000)"
    )
    sel.add_argument(
        "--window",
        type=int,
        nargs=2,
        default=None,
        metavar=("T0", "T1"),
        help="response window in rate indices (default stimulus + decision)",
    )
    snap = parser.add_argument_group("snapshots (projection, symmetry, entropy)")
    snap.add_argument("--stride", type=int, default=1, help="use every STRIDE-th snapshot")
    snap.add_argument(
        "--blocks",
        action=Repeatable,
        default=None,
        help="projection: blocks of the synaptic PCA (default rec.m rec.pi rec.xi)",
    )
    plas = parser.add_argument_group("plasticity")
    plas.add_argument("--toy", action="store_true", help="toy-model curves (sine task)")
    plas.add_argument("--runs", type=int, default=10, help="toy: independent runs")
    plas.add_argument("--epochs", type=int, default=600, help="toy: epochs")
    plas.add_argument("--synapses", type=int, default=10_000, help="toy: synapses N")
    plas.add_argument(
        "--ablation-dir",
        default=None,
        help="ablation: where the fluctuation on/off runs go (default RUN_DIR/../<name>-ablation)",
    )
    plas.add_argument("--samples", type=int, default=5, help="ablation: sampled networks")
    parser.set_defaults(func=run)


def _one_run(args):
    if len(args.run_dirs) != 1:
        raise ValueError(
            f"sasrnn analyze {args.kind} takes exactly one RUN_DIR; got {len(args.run_dirs)}."
        )
    return args.run_dirs[0]


def _out_path(args, default_dir) -> Path:
    if args.out is not None:
        return Path(args.out)
    if default_dir is None:
        raise ValueError(f"sasrnn analyze {args.kind}: pass --out FILE.json")
    return Path(default_dir) / f"analysis-{args.kind}.json"


def run(args) -> int:
    from sims import store
    from sims.analyses import common

    if args.kind == "plasticity" and args.toy:
        from sims.analyses.plasticity import toy_curves

        if args.run_dirs:
            raise ValueError("plasticity --toy takes no RUN_DIR (it trains the toy model).")
        summary, arrays = toy_curves(args.runs, args.seed, args.epochs, args.synapses)
        out = _out_path(args, None)
        brief = {
            "final_loss_mean": summary["final_loss_mean"],
            "final_loss_std": summary["final_loss_std"],
        }
    elif args.kind == "entropy":
        summary, arrays, out, brief = _entropy(args, common)
    elif args.kind == "plasticity" and len(args.run_dirs) > 1:
        summary, arrays, out, brief = _plasticity_over_seeds(args, common)
    else:
        from sims.runs import Run

        run_dir = _one_run(args)
        analysis = Run.open(run_dir)
        common.check_applicable(args.kind, analysis)
        out = _out_path(args, run_dir)
        summary, arrays, brief = _ANALYSES[args.kind](args, analysis, common)
        summary = {
            "kind": args.kind,
            "run_dir": str(run_dir),
            "task": analysis.config["task"],
            "run_seed": analysis.config.get("seed"),
            **summary,
        }
    if "kind" not in summary:
        summary = {"kind": args.kind, **summary}
    schema = "toy" if args.kind == "plasticity" and args.toy else _SCHEMAS[args.kind]
    paths = store.write_result(out.with_suffix(""), schema, summary, arrays)
    for key, value in brief.items():
        print(f"  {key} = {value}")
    print("written to " + ", ".join(str(path) for path in paths))
    return 0


def _vip(args, run, common):
    from sims.analyses.vip import DEFAULT_FRACTIONS, vip_analysis

    summary, arrays = vip_analysis(
        run.network(),
        run.task,
        seed=args.seed,
        fractions=args.fractions or DEFAULT_FRACTIONS,
        n_batches=args.batches,
        modes=(args.mode or "meanfield", *(("per_step",) if args.per_step else ())),
        test_dt=args.test_dt,
        pi_max=args.pi_max,
        xi_max=args.xi_max,
        abs_m_min=args.abs_m_min,
        legacy=args.legacy,
        controls=tuple(args.controls),
    )
    keys = ["vip_fraction", "n_vip", "accuracy_intact"]
    keys += [f"accuracy_{curve}_mean" for curve in summary["curves"]]
    return summary, arrays, {k: summary[k] for k in keys}


def _selectivity(args, run, common):
    from sims.analyses.selectivity import N_PERMUTATIONS, selectivity_analysis, untrained_network

    untrained, source = untrained_network(run)
    summary, arrays = selectivity_analysis(
        run.network(),
        run.task,
        untrained=untrained,
        untrained_source=source,
        seed=args.seed,
        n_repeats=args.repeats,
        n_permutations=args.permutations or N_PERMUTATIONS,
        mode=args.mode or "meanfield",
        test_dt=args.test_dt,
        window=None if args.window is None else tuple(args.window),
    )
    brief = {"counts": summary["counts"], "classes_found": summary["classes_found"]}
    for name, entry in summary["null"]["statistics"].items():
        low, high = entry["shuffled_95"]
        brief[name] = (
            f"trained {entry['trained']:.3f}, untrained {entry['untrained']:.3f} "
            f"(p = {entry['p_untrained']:.3g}), shuffled {entry['shuffled_mean']:.3f} "
            f"[{low:.3f}, {high:.3f}] (p = {entry['p_shuffled']:.3g})"
        )
    return summary, arrays, brief


def _projection(args, run, common):
    from sims.analyses.projection import SYNAPTIC_BLOCKS, neural_projection, synaptic_projection

    neural, arrays = neural_projection(
        run.network(), run.task, seed=args.seed, mode=args.mode or "per_step", test_dt=args.test_dt
    )
    summary = {"neural": neural}
    blocks = tuple(args.blocks or SYNAPTIC_BLOCKS)
    if len(run.snapshots):
        epochs, stacked = common.stack_snapshots(
            run, blocks, common.snapshot_epochs(run, args.stride)
        )
        synaptic, synaptic_arrays = synaptic_projection(stacked, epochs, blocks)
        summary["synaptic"] = synaptic
        arrays.update(synaptic_arrays)
    else:
        summary["synaptic"] = None
    brief = {"neural_variance_3_pcs": neural["variance_3_pcs"]}
    if summary["synaptic"] is None:
        brief["synaptic"] = (
            f"skipped: {str(run.snapshots.directory)!r} holds no snapshots "
            f"(train with snapshot_every >= 1 for the synaptic projection)"
        )
    else:
        brief.update(
            synaptic_variance_3_pcs=summary["synaptic"]["variance_3_pcs"],
            drift_velocity=summary["synaptic"]["drift_velocity"],
            drift_persistence=summary["synaptic"]["drift_persistence"],
        )
    return summary, arrays, brief


def _symmetry(args, run, common):
    from sims.analyses.symmetry import LAYERS, symmetry_analysis

    blocks = [f"{layer}.{p}" for layer in LAYERS for p in ("pi", "xi")]
    epochs, stacked = common.stack_snapshots(run, blocks, common.snapshot_epochs(run, args.stride))
    summary, arrays = symmetry_analysis(stacked, epochs)
    rec = summary["layers"]["rec"]
    return (
        summary,
        arrays,
        {
            "first_to_break": summary["first_to_break"],
            "first_to_order": summary["first_to_order"],
            "continuous_break_epoch": rec["continuous_break_epoch"],
            "discrete_break_epoch": rec["discrete_break_epoch"],
        },
    )


def _plasticity(args, run, common):
    from sims.analyses.plasticity import fluctuation_ablation

    directory = Path(args.ablation_dir or run.directory.parent / f"{run.directory.name}-ablation")
    summary, arrays = fluctuation_ablation(
        run.config,
        directory,
        seed=args.seed,
        n_batches=args.batches,
        n_samples=args.samples,
        on_run_dir=run.directory,
    )
    brief = {
        name: {
            k: summary[name][k]
            for k in ("accuracy_meanfield_mean", "accuracy_sampled_mean", "n_vip")
        }
        for name in ("on", "off")
    }
    return {"ablation_dir": str(directory), **summary}, arrays, brief


def _plasticity_over_seeds(args, common):
    """The ablation of every RUN_DIR (each into its own ``<name>-ablation`` directory) and the
    paired on − off differences over them (:func:`sims.analyses.plasticity.aggregate_ablation`)."""
    from sims.analyses.plasticity import aggregate_ablation
    from sims.runs import Run

    if args.ablation_dir is not None:
        raise ValueError(
            "--ablation-dir names one run's ablation; with several RUN_DIRs each goes to "
            "RUN_DIR/../<name>-ablation. Drop --ablation-dir."
        )
    per_run, arrays = [], {}
    for index, run_dir in enumerate(args.run_dirs):
        run = Run.open(run_dir)
        common.check_applicable("plasticity", run)
        summary, run_arrays, _ = _plasticity(args, run, common)
        per_run.append({"run_dir": str(run_dir), "run_seed": run.config.get("seed"), **summary})
        arrays.update({f"run{index}_{key}": value for key, value in run_arrays.items()})
    aggregate = aggregate_ablation(per_run)
    out = _out_path(args, None)
    robustness = aggregate["robustness"]
    brief = {
        "n_seeds": aggregate["n_seeds"],
        "meanfield on - off": aggregate["accuracy_meanfield_mean"]["difference_ci"],
        "removal robustness on - off per fraction": robustness["difference_ci"],
    }
    return {"kind": "plasticity", "runs": per_run, "aggregate": aggregate}, arrays, out, brief


def _entropy(args, common):
    from sims.analyses.entropy import ENTROPY_LAYERS, aggregate_entropy, entropy_analysis
    from sims.runs import Run

    if not args.run_dirs:
        raise ValueError("sasrnn analyze entropy needs at least one RUN_DIR.")
    blocks = [f"{layer}.{p}" for layer in ENTROPY_LAYERS for p in ("m", "pi", "xi")]
    per_run = []
    for run_dir in args.run_dirs:
        run = Run.open(run_dir)
        common.check_applicable("entropy", run)
        epochs, stacked = common.stack_snapshots(
            run, blocks, common.snapshot_epochs(run, args.stride)
        )
        result = entropy_analysis(stacked, epochs, seed=args.seed)
        per_run.append(
            {
                "run_dir": str(run_dir),
                "task": run.config["task"],
                "run_seed": run.config.get("seed"),
                **result,
            }
        )
    aggregate, arrays = aggregate_entropy(per_run)
    out = _out_path(args, args.run_dirs[0] if len(args.run_dirs) == 1 else None)
    summary = {"kind": "entropy", "runs": per_run, "aggregate": aggregate}
    rec = aggregate["layers"]["rec"]
    brief = {
        "rec_entropy_one_first_last": [
            rec["entropy_one"]["mean"][0],
            rec["entropy_one"]["mean"][-1],
        ],
        "rec_entropy_two_first_last": [
            rec["entropy_two"]["mean"][0],
            rec["entropy_two"]["mean"][-1],
        ],
        "n_runs": len(per_run),
    }
    return summary, arrays, out, brief


def _quenched(args, run, common):
    from sims.analyses.quenched import quenched_analysis

    if run.config["task"] not in ("pixel-mnist", "row-mnist"):
        raise ValueError(
            f"the quenched analysis applies to pixel-mnist or row-mnist runs; "
            f"{str(run.directory)!r} is a {run.config['task']} run."
        )
    summary, arrays = quenched_analysis(
        run.network(), run.task, seed=args.seed, n_networks=run.config["evaluation"]["n_samples"]
    )
    brief = {
        f"xi x{c['xi_factor']:g}, pi {c['pi_mode']}": (
            f"quenched {c['quenched_mean']:.3f}, per-step {c['per_step_mean']:.3f}, "
            f"mean-field {c['meanfield_mean']:.3f}"
        )
        for c in summary["cells"]
    }
    return summary, arrays, brief


_ANALYSES = {
    "vip": _vip,
    "quenched": _quenched,
    "selectivity": _selectivity,
    "projection": _projection,
    "symmetry": _symmetry,
    "plasticity": _plasticity,
}

#: The result schema (:data:`sims.store.SCHEMAS`) of each analysis.
_SCHEMAS = {
    "vip": "vip",
    "selectivity": "selectivity",
    "projection": "projection",
    "symmetry": "symmetry",
    "entropy": "entropy",
    "plasticity": "plasticity",
    "quenched": "quenched",
}
