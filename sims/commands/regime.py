"""``sasrnn regime``: the learning-regime diagram, kernel drift over width N × learning rate η.

Scans the ``kernel-drift`` probe (:mod:`sims.learning_regime`) on log-spaced widths and learning
rates, fits the one constant of the first-order drift c ‖Δθ̃‖/√N (docs/model.md §5.1) and draws
the diagram with its theory overlays.

Example::

    sasrnn regime --out results/phase/learning_regime --seeds 2 --jobs 2
    sasrnn regime --widths 32 64 --lrs 1e-3 2e-3 --fixed epochs=10 n_train=32 --out /tmp/regime

Writes DIR/cells/*.json and DIR/scan.json (:mod:`sims.scan`, with the fit under "theory"), then
DIR/phase_diagram.png/.pdf.
"""

from __future__ import annotations

from pathlib import Path

from sims.cli import Repeatable


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "regime",
        help="learning-regime diagram: kernel drift over width × learning rate",
        description="Scan the kernel-drift probe over widths and learning rates (lazy vs feature "
        "learning on MNIST 0/1), fit the first-order drift constant and draw the diagram.",
    )
    parser.add_argument(
        "--out", default="results/phase/learning_regime", metavar="DIR", help="output directory"
    )
    parser.add_argument(
        "--widths",
        type=int,
        action=Repeatable,
        default=None,
        help="widths N (x axis, log scale; default 32 64 128 256 512)",
    )
    parser.add_argument(
        "--lrs",
        type=float,
        action=Repeatable,
        default=None,
        help="learning rates η (y axis, log scale; default 1e-4 2.5e-4 5e-4 1e-3 2e-3)",
    )
    parser.add_argument("--seeds", type=int, default=2, help="networks per grid point")
    parser.add_argument("--jobs", type=int, default=1, help="local worker processes (loky)")
    parser.add_argument(
        "--fixed",
        action=Repeatable,
        default=[],
        metavar="KEY=VALUE",
        help="other kernel-drift config values (--fixed A=1 B=2 or --fixed A=1 --fixed B=2)",
    )
    parser.add_argument("--no-figure", action="store_true", help="skip drawing the diagram")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from sims.learning_regime import (
        DEFAULT_LEARNING_RATES,
        DEFAULT_WIDTHS,
        run_learning_regime,
    )
    from sims.scan import SCAN_FILE, parse_assignment

    fixed = dict(parse_assignment(text) for text in args.fixed)
    scan = run_learning_regime(
        args.out,
        widths=args.widths or DEFAULT_WIDTHS,
        learning_rates=args.lrs or DEFAULT_LEARNING_RATES,
        seeds=args.seeds,
        fixed=fixed,
        jobs=args.jobs,
        progress=not args.quiet,
    )
    print(
        f"{Path(args.out) / SCAN_FILE}: {scan['cells']['computed']} cells computed, "
        f"{scan['cells']['cached']} cached, {scan['compute_seconds']:.1f} s of compute"
    )
    print_table(scan)
    if not args.no_figure:
        from figures.phase_diagram import draw_phase_diagram

        for path in draw_phase_diagram(args.out):
            print(f"wrote {path}")
    return 0


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def print_table(scan: dict) -> None:
    """Print the seed-mean drift, lazy displacement and early gap per grid point, and the fit."""
    x, y = scan["x"], scan["y"]
    for name in ("kernel_drift", "lazy_displacement", "early_gap"):
        print(
            f"{name} (seed mean): rows {y['key']}, columns {x['key']} = "
            + " ".join(f"{v:g}" for v in x["values"])
        )
        for value, row in zip(y["values"], scan["metrics"][name], strict=True):
            print(f"  {value:<8g} " + " ".join(f"{_number(v):9.4g}" for v in row))
    theory = scan.get("theory", {})
    if "eta_max" in theory:
        print(
            f"eta_max = 2/lambda_max = {theory['eta_max']:.4g} "
            f"(lambda_max = {theory['lambda_max']:.4g})"
        )
    if "fit" in theory:
        fit = theory["fit"]
        print(
            f"fit drift = c |dtheta|/sqrt(N): c = {fit['constant']:.4g} on {fit['n_fitted']}/"
            f"{fit['n_points']} points, rms log10 residual {fit['rms_log10_residual']:.3f} "
            f"(all points {fit['rms_log10_residual_all']:.3f}); free exponents "
            f"b = {fit['free_exponents']['displacement']:.3f} (theory 1), "
            f"gamma = {fit['free_exponents']['width']:.3f} (theory 0.5), rms "
            f"{fit['free_exponents']['rms_log10_residual']:.3f}; naive c' eta E/sqrt(N): rms "
            f"{fit['naive']['rms_log10_residual']:.3f}"
        )
        boot = fit.get("network_bootstrap")
        if boot:
            print(
                f"95% intervals resampling the {boot['n_networks']} networks of each width "
                f"({boot['n_resamples']} resamples): c {_pair(boot['constant_ci'])}, b "
                f"{_pair(boot['displacement_ci'])}, gamma {_pair(boot['width_ci'])}"
            )


def _pair(pair) -> str:
    return f"[{pair[0]:.3g}, {pair[1]:.3g}]"
