"""``sasrnn reproduce``: every paper figure and the headline numbers from one command.

Example::

    sasrnn reproduce --quick --jobs 2                   # ≤ 10 min, embedded MNIST subset
    sasrnn reproduce --standard --jobs 2                # 50 min: paper settings, fewer epochs/seeds
    sasrnn reproduce --quick --only fig3,fig4           # just what those figures need
    sasrnn reproduce --full --data ~/mnist --jobs 2     # paper settings (prints the cost first)
    sasrnn reproduce --full --dry-run                   # plan and cost only

    sasrnn reproduce --quick --scheduler tcp://host:8786   # stages on a Dask cluster
    sasrnn reproduce --quick --report                   # the claims table of a finished run

Writes OUT/runs/, OUT/results/ (names: figures.resultfiles), OUT/figures/*.png|pdf and
OUT/summary.json. Stages whose cache key (config hash) is unchanged and whose files are as they
wrote them (size and sha256, recorded in OUT/results/stages.json) are reused, so a second run only
redraws the figures; a damaged file is reported in one line and its stage computed again (a
training run from its seed). Ctrl-C or SIGTERM stops the workers and exits with code 130; the
stages already finished are reused by the next run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_OUT = "results/reproduce-{mode}"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="run the simulations of every paper figure and draw them",
        description="Train, analyse (cached by config hash) and draw every figure of the paper; "
        "write OUT/summary.json with the headline numbers of docs/model.md §6.",
    )
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="reduced but honest settings on the embedded MNIST subset "
        "(default; ≤ 10 min on 2 cores)",
    )
    modes.add_argument(
        "--standard",
        dest="mode",
        action="store_const",
        const="standard",
        help="the paper's settings with the reductions this machine forces (fewer epochs and "
        "seeds, embedded MNIST; Fashion-MNIST rows when installed); about 50 min on 2 cores",
    )
    modes.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="the paper's settings (hours to days; needs MNIST IDX files)",
    )
    modes.add_argument(
        "--smoke",
        dest="mode",
        action="store_const",
        const="smoke",
        help="toy sizes, to test the pipeline (numbers are meaningless)",
    )
    parser.set_defaults(mode="quick")
    parser.add_argument(
        "--only",
        default=None,
        metavar="FIG,...",
        help="comma-separated figure names (fig1 … fig10, appendix-kernel, "
        "phase-g-pi); only their simulations run",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the stages (default: one per core)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory (default results/reproduce-MODE)",
    )
    parser.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="MNIST IDX directory (default: embedded subset for --quick, "
        "$SASRNN_MNIST_DIR for --full)",
    )
    parser.add_argument(
        "--fashion",
        default=None,
        metavar="DIR",
        help="Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist, where "
        "Debian's dataset-fashion-mnist installs it); its stages are skipped when absent",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan, the reductions and the estimated cost; run nothing",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation before a --full run on a terminal",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the stages on this dask.distributed scheduler (its workers must see OUT); "
        "default: --jobs local processes",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the headline claims of OUT/summary.json as a Markdown table; run nothing",
    )
    parser.add_argument("--no-figures", action="store_true", help="simulate only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _print_plan(mode, settings, only, jobs, out, dry_run: bool = False) -> float:
    from sims.reproduce import (
        FIGURE_NAMES,
        Context,
        estimate_seconds,
        estimate_wall_seconds,
        figures_and_notes,
        plan_stages,
        reductions,
    )

    names, notes = figures_and_notes(only or FIGURE_NAMES, settings)
    stages = plan_stages(settings, Context(Path(out)), only=only and names) if names else []
    cost = estimate_seconds(settings, stages)
    total = sum(cost.values())
    wall = estimate_wall_seconds(stages, jobs)
    print(
        f"sasrnn reproduce --{mode}: estimated cost {total / 3600:.2f} core-hours, about "
        f"{wall / 3600:.2f} h ({wall / 60:.0f} min) wall with --jobs {jobs} on 2 cores from a "
        f"cold cache{' for ' + ','.join(only) if only else ''}"
    )
    for name, seconds in cost.items():
        print(f"  {name:<42s} {seconds / 60:9.1f} min")
    if dry_run:  # a run logs its notes itself
        for note in notes:
            print(f"note: {note}")
    changes = reductions(settings)
    if changes:
        print(f"reductions relative to the paper ({len(changes)}):")
        for item in changes:
            print(f"  {item['setting']}: {item['used']} (paper {item['paper']})")
    return wall


def _print_report(out: str) -> int:
    from sims import store
    from sims.reproduce import markdown_table

    path = Path(out) / store.SUMMARY_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} does not exist; run `sasrnn reproduce --out {out}` first."
        )
    print(markdown_table(store.read_json(path, "summary")["headline"]), end="")
    return 0


def run(args) -> int:
    from sims.data import MNIST_DIR_ENV
    from sims.reproduce import format_value, reproduce, settings_for

    out = args.out or DEFAULT_OUT.format(mode=args.mode)
    if args.report:
        return _print_report(out)
    only = None
    if args.only is not None:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        if not only:
            raise ValueError(
                "--only names no figure; pass figure names (e.g. --only fig3,fig4) or drop "
                "--only to produce every figure."
            )
    data = args.data
    if args.mode == "full" and data is None:
        data = os.environ.get(MNIST_DIR_ENV)
    settings = settings_for(args.mode, data, args.fashion)
    _print_plan(args.mode, settings, only, args.jobs, out, args.dry_run)
    if args.dry_run:
        return 0
    if args.mode == "full" and not args.yes and sys.stdin.isatty():
        answer = input("start the full reproduction? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("aborted")
            return 1
    summary = reproduce(
        out,
        mode=args.mode,
        only=only,
        jobs=args.jobs,
        data=data,
        fashion=args.fashion,
        progress=not args.quiet,
        draw=not args.no_figures,
        scheduler=args.scheduler,
    )
    wall = summary["wall_seconds"]
    print(
        f"wall time: {wall['total']:.1f} s (simulations {wall['simulations']:.1f} s; planned "
        f"{wall['planned_cold_cache']:.0f} s from a cold cache)"
    )
    for row in summary["headline"]:
        print(f"- {row['quantity']} [{row['figure']}]: {format_value(row['ours'])[:300]}")
        reason = f": {row['reason']}" if row.get("reason") else ""
        print(f"    paper: {row['paper']}; verdict: {row['verdict']}{reason} ({row['criterion']})")
    failed = [name for name, outcome in summary["figures"].items() if "error" in outcome]
    print(
        f"figures in {out}/figures ({len(summary['figures']) - len(failed)} drawn"
        f"{', FAILED: ' + ', '.join(failed) if failed else ''}); summary in {out}/summary.json"
    )
    return 1 if failed else 0
