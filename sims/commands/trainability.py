"""``sasrnn trainability``: refine a train-probe map over (g, π₀) and decide whether the best
initial ensembles sit at the quiescent-state boundary read in g_eff or in g
(:mod:`sims.trainability`).

Example::

    sasrnn phase --probe train --x g=0.25:2.5:10 --y pi=0:0.75:4 --fixed task=row-mnist \\
        --fixed epochs=20 --fixed batches_per_epoch=31 --metric test_accuracy_meanfield \\
        --seeds 2 --jobs 2 --out results/phase/train-row
    sasrnn trainability results/phase/train-row --seeds 5 --jobs 2

Writes MAP/trainability/ (the refinement scans, trainability.json) and draws
MAP/trainability/trainability.png/.pdf (:mod:`figures.fig_trainability`).
"""

from __future__ import annotations

from pathlib import Path

from sims.cli import add_scan_workers


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "trainability",
        help="best initial gain per π₀ row of a train-probe map, and the edge-of-chaos verdict",
        description="Train the best cell of each π₀ row of a train-probe map scan and its "
        "neighbours with more seeds, and the preset's own initialisation with the same seeds; "
        "report the best g and g_eff per row and whether they follow the theory's boundary in "
        "g_eff or in g.",
    )
    parser.add_argument("map", metavar="MAP", help="directory of a train-probe scan over g and pi")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per refined cell")
    add_scan_workers(parser)
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--no-figure", action="store_true", help="skip drawing the figure")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from sims.trainability import TRAINABILITY_DIR, run_trainability

    result = run_trainability(
        args.map,
        seeds=args.seeds,
        jobs=args.jobs,
        scheduler=args.scheduler,
        n_boot=args.n_boot,
        progress=not args.quiet,
    )
    print(f"{result['metric']} ({result['sense']}), {len(result['seeds'])} seeds per cell:")
    for row in result["rows"]:
        print(
            f"  pi0={row['pi']:g}: best g = {row['best_g']:.3g} "
            f"[{row['best_g_ci'][0]:.3g}, {row['best_g_ci'][1]:.3g}], g_eff = "
            f"{row['best_g_eff']:.3g}; boundary g_c = {row['g_c']:.3g} "
            f"(g_eff,c = {row['g_eff_c']:.3g}); preset init {row['preset_init']['mean']:.3g}"
        )
    for name in ("slope", "distance_difference"):
        stat = result[name]
        print(
            f"  {name}: {stat['value']:.3g} [{stat['ci'][0]:.3g}, {stat['ci'][1]:.3g}], "
            f"null {stat['null_range'][0]:.3g} to {stat['null_range'][1]:.3g}"
        )
    print(f"verdict: {result['verdict']} ({result['criterion']})")
    if not args.no_figure:
        from figures.fig_trainability import NAME, draw

        out = Path(args.map) / TRAINABILITY_DIR
        for path in draw(out, out / NAME):
            print(f"wrote {path}")
    return 0
