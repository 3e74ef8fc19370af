"""``sasrnn phase``: scan two config keys of a probe and draw the phase diagram.

Example::

    sasrnn phase --probe init-dynamics --x g=0.5:1.5:21 --y pi=0:0.6:4 --metric lyapunov \\
        --fixed N=1000 --seeds 2 --jobs 2 --out results/phase/tanh-g-pi

Writes DIR/cells/*.json (one cached cell per x, y, seed) and DIR/scan.json (sims.scan), then draws
DIR/phase_diagram.png/.pdf from scan.json (:func:`figures.phase_diagram.draw_phase_diagram`).
"""

from __future__ import annotations

from pathlib import Path

from sims.cli import Repeatable, add_scan_workers


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "phase",
        help="scan two config keys of a probe (phase diagrams)",
        description="Sweep two config keys of a registered probe over a grid (cached per cell, "
        "parallel with joblib, optionally on a dask cluster) and draw a heat map.",
    )
    parser.add_argument("--probe", default="init-dynamics", help="registered probe name")
    axis_help = (
        "{} axis: KEY=START:STOP:NUM (even), KEY=START:STOP:NUM:log (geometric) or "
        "KEY=V1,V2,... (listed)"
    )
    parser.add_argument("--x", required=True, metavar="KEY=...", help=axis_help.format("x"))
    parser.add_argument("--y", required=True, metavar="KEY=...", help=axis_help.format("y"))
    parser.add_argument("--metric", required=True, help="metric to map (e.g. lyapunov)")
    parser.add_argument(
        "--fixed",
        action=Repeatable,
        default=[],
        metavar="KEY=VALUE",
        help="other config values (--fixed A=1 B=2 or --fixed A=1 --fixed B=2)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per grid point")
    add_scan_workers(parser)
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory (default results/phase/PROBE_X_Y)",
    )
    parser.add_argument(
        "--crossing-level",
        type=float,
        default=0.0,
        help="report the first upward crossing of this level along x per row",
    )
    parser.add_argument("--no-figure", action="store_true", help="skip drawing the heat map")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from sims.scan import SCAN_FILE, parse_assignment, parse_axis, run_scan

    x, y = parse_axis(args.x), parse_axis(args.y)
    fixed = dict(parse_assignment(text) for text in args.fixed)
    out = Path(args.out or f"results/phase/{args.probe}_{x.key}_{y.key}")
    scan = run_scan(
        args.probe,
        x,
        y,
        args.metric,
        out=out,
        fixed=fixed,
        seeds=args.seeds,
        jobs=args.jobs,
        scheduler=args.scheduler,
        progress=not args.quiet,
        crossing_level=args.crossing_level,
    )
    cells = scan["cells"]
    print(
        f"{out / SCAN_FILE}: {cells['computed']} cells computed, {cells['cached']} cached, "
        f"{scan['elapsed_seconds']:.1f} s"
    )
    crossings = scan["crossings"]
    for y_value, crossing in zip(y.values, crossings["x"], strict=True):
        shown = "none" if crossing is None else f"{crossing:.4g}"
        print(
            f"  {y.key}={y_value:g}: {args.metric} rises through {crossings['level']:g} "
            f"at {x.key}={shown}"
        )
    if not args.no_figure:
        from figures.phase_diagram import draw_phase_diagram

        for path in draw_phase_diagram(out):
            print(f"wrote {path}")
    return 0
